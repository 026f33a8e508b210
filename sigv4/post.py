"""S3 browser-based uploads (HTTP POST with a SigV4-signed policy): build the form, and verify one.

Strategy: a POST upload signs no request at all. The signer writes a policy
document (an expiration and a list of conditions on the form fields), base64s
it, and HMACs that base64 text with the ordinary SigV4 signing key; the form
carries the policy, the signature and the fields the conditions allow. So
`presign_post` is a policy builder plus one HMAC, and `verify_post` is the
reverse: parse the form's credential and date into the same `SignedAuth` the
header verifier uses (so scope, key lookup and token checks are shared),
recompute the HMAC over the policy as sent and compare it in constant time,
then hold every form field to the policy: the expiration, each condition,
and the rule that every field (but the signature, the policy, the file and
`x-ignore-*`) is covered by some condition.

The policy JSON and the field order follow botocore's `generate_presigned_post`
(`S3PostPresigner` and `S3SigV4PostAuth`), so the same inputs at the same time
give the same policy bytes and signature. Which match types a field admits is
one table (`MATCH_TYPES`), from S3's "Creating a POST Policy" conditions table.
Pure: time, credentials and form values come in as arguments.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields as dataclass_fields, replace
from datetime import datetime, timedelta, timezone
from typing import Literal

from . import s3v2
from .bounded import json_loads
from .errors import InvalidParameterError, InvalidTimestampError, VerificationError
from .keys import signature_hex, signing_key
from .s3express import directory_bucket_url
from .signer import ALGORITHM, MAX_EXPIRES, _check_credentials, amz_date
from .types import Credentials
from .signed_auth import SignedAuth
from .verify import _check_claim, _check_token, _parse_amz_date, _split_credential

MatchType = Literal["eq", "starts-with", "content-length-range"]
#: The session token's form field by signing name, spelled as botocore writes it (the spelling is signed, in
#: the policy): S3 Express One Zone directory buckets take their own session token field.
TOKEN_FIELDS: dict[str, str] = {"s3": "x-amz-security-token", "s3express": "X-Amz-S3session-Token"}
#: Form fields that need no condition: the signature, the policy, the file itself (S3's rule, plus `x-ignore-*`).
UNCONDITIONED_FIELDS = frozenset({"x-amz-signature", "policy", "file"})
_EXACT: frozenset[MatchType] = frozenset({"eq"})
_BOTH: frozenset[MatchType] = frozenset({"eq", "starts-with"})
#: Field -> the match types S3 admits for it; a field not listed here (other `x-amz-*`) admits exact matches only.
MATCH_TYPES: dict[str, frozenset[MatchType]] = {
    "acl": _BOTH, "bucket": _EXACT, "key": _BOTH, "cache-control": _BOTH, "content-type": _BOTH,
    "content-disposition": _BOTH, "content-encoding": _BOTH, "expires": _BOTH, "success_action_redirect": _BOTH,
    "redirect": _BOTH, "success_action_status": _EXACT, "x-amz-algorithm": _EXACT, "x-amz-credential": _EXACT,
    "x-amz-date": _EXACT, "x-amz-security-token": _EXACT, "x-amz-s3session-token": _EXACT,
}
#: The fields a SigV2 form's signer writes that need no condition (S3's SigV2 POST), lowercase.
_V2_FIELDS = frozenset({"awsaccesskeyid", "signature"})
#: The token fields' names, lowercase.
TOKEN_NAMES = frozenset(name.lower() for name in TOKEN_FIELDS.values())
_META_PREFIX = "x-amz-meta-"
_FIELD_NAME = re.compile(r"[!#-'*+.0-9A-Z^_`a-z|~-]+\Z")  # an HTTP token: what a multipart field name can be
_EXPIRATION = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z\Z")


def _secret(field: str) -> bool:
    """Whether a form field holds a session token, which no message or repr may show."""
    return field.lower() in TOKEN_NAMES


def _match_types(field: str) -> frozenset[MatchType]:
    lower = field.lower()
    return _BOTH if lower.startswith(_META_PREFIX) else MATCH_TYPES.get(lower, _EXACT)


@dataclass(frozen=True, slots=True, repr=False)
class Condition:
    """One policy condition. `field` is the form field as written, without `$` ("" for content-length-range);
    form field names compare case-insensitively.

    `listed`: an exact match written as `["eq", "$field", value]` rather than `{"field": value}` (both mean
    the same; the flag keeps a parsed policy's text as written).
    """

    kind: MatchType
    field: str
    value: str = ""
    minimum: int = 0
    maximum: int = 0
    listed: bool = False

    def to_json(self) -> object:
        """The condition as it appears in the policy document's `conditions` list."""
        if self.kind == "content-length-range":
            return ["content-length-range", self.minimum, self.maximum]
        if self.kind == "eq" and not self.listed:
            return {self.field: self.value}
        return [self.kind, "$" + self.field, self.value]

    def __repr__(self) -> str:
        shown = "****" if _secret(self.field) else self.value
        return (f"Condition(kind={self.kind!r}, field={self.field!r}, value={shown!r}, minimum={self.minimum!r}, "
                f"maximum={self.maximum!r}, listed={self.listed!r})")

    def describe(self) -> str:
        """The condition as JSON text, for messages; a session token's value is shown as `****`."""
        return json.dumps(replace(self, value="****").to_json() if _secret(self.field) else self.to_json())


def _field_name(name: str, where: str) -> str:
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
        raise InvalidParameterError(f"{where}: {name!r} is not a form field name (an HTTP token)")
    return name


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or any(ord(c) < 0x20 and c != "\t" or c == "\x7f" for c in value):
        raise InvalidParameterError(f"{where}: {value!r} must be text without control characters")
    return value


def eq(field: str, value: str) -> Condition:
    """An exact-match condition: form field `field` must be exactly `value` (`{"field": "value"}`).

    Raises InvalidParameterError for a field name that is not an HTTP token or a value with control bytes.
    """
    return Condition("eq", _field_name(field.removeprefix("$"), "condition field"), _text(value, f"condition {field}"))


def starts_with(field: str, prefix: str) -> Condition:
    """A starts-with condition: `field` must begin with `prefix` ("" admits any value).

    Raises InvalidParameterError when S3 admits only exact matches for `field` (bucket, success_action_status,
    x-amz-*), naming the field.
    """
    name = _field_name(field.removeprefix("$"), "condition field")
    if "starts-with" not in _match_types(name):
        raise InvalidParameterError(f"condition {name}: S3 admits only an exact match for this field, not starts-with")
    return Condition("starts-with", name, _text(prefix, f"condition {name}"))


def content_length_range(minimum: int, maximum: int) -> Condition:
    """The file's size in bytes must lie in minimum..maximum, both inclusive.

    Raises InvalidParameterError unless 0 <= minimum <= maximum (integers).
    """
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (minimum, maximum)) or not 0 <= minimum <= maximum:
        raise InvalidParameterError(
            f"content-length-range: ({minimum!r}, {maximum!r}) must be integers with 0 <= minimum <= maximum")
    return Condition("content-length-range", "", minimum=minimum, maximum=maximum)


def parse_condition(raw: object) -> Condition:
    """A condition from its policy JSON: `{"field": "value"}`, `["eq" | "starts-with", "$field", "value"]`
    or `["content-length-range", min, max]`.

    Raises InvalidParameterError naming the condition when it is none of these or S3 does not admit its match type.
    """
    where = f"condition {json.dumps(raw)[:120]}" if _jsonable(raw) else f"condition {raw!r:.120}"
    if isinstance(raw, dict):
        if len(raw) != 1:
            raise InvalidParameterError(f"{where}: an exact-match object holds exactly one field")
        (name, value), = raw.items()
        return eq(name, value) if isinstance(name, str) and isinstance(value, str) else _bad(where)
    if not isinstance(raw, list) or len(raw) != 3 or not isinstance(raw[0], str):
        return _bad(where)
    kind = raw[0].lower()
    if kind == "content-length-range":
        return content_length_range(raw[1], raw[2])
    if kind not in ("eq", "starts-with") or not isinstance(raw[1], str) or not raw[1].startswith("$") \
            or not isinstance(raw[2], str):
        return _bad(where)
    if kind == "starts-with":
        return starts_with(raw[1], raw[2])
    condition = eq(raw[1], raw[2])
    return Condition("eq", condition.field, condition.value, listed=True)


def _jsonable(raw: object) -> bool:
    try:
        json.dumps(raw)
    except (TypeError, ValueError):
        return False
    return True


def _bad(where: str) -> Condition:
    raise InvalidParameterError(f'{where}: not {{"field": "value"}}, ["eq" or "starts-with", "$field", "value"] '
                                'or ["content-length-range", min, max]')


ConditionLike = Condition | Mapping[str, str] | list[object]


def _condition(item: ConditionLike) -> Condition:
    return item if isinstance(item, Condition) else parse_condition(dict(item) if isinstance(item, Mapping) else item)


@dataclass(frozen=True, slots=True)
class PostPolicy:
    """A POST policy: valid until `expiration` (UTC, whole seconds), for forms meeting every condition."""

    expiration: datetime
    conditions: tuple[Condition, ...]

    def document(self) -> str:
        """The policy JSON as botocore writes it (`json.dumps`, default separators): the text that is base64'd."""
        return json.dumps({"expiration": self.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "conditions": [c.to_json() for c in self.conditions]})

    def encoded(self) -> str:
        """The `policy` form field: base64 of the UTF-8 document; this text is what gets signed."""
        return base64.b64encode(self.document().encode("utf-8")).decode("ascii")


def parse_policy(encoded: str) -> PostPolicy:
    """The policy of a `policy` form field (base64 JSON).

    Raises InvalidParameterError naming what is wrong (base64, JSON, expiration, a condition).
    """
    try:
        document = json_loads(base64.b64decode(encoded.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeError, ValueError) as err:
        raise InvalidParameterError(f"policy: not base64 of a JSON document ({err})") from None
    if not isinstance(document, dict) or not isinstance(document.get("expiration"), str) \
            or not isinstance(document.get("conditions"), list):
        raise InvalidParameterError('policy: the document must be an object with "expiration" (text) and '
                                    '"conditions" (a list)')
    match = _EXPIRATION.match(document["expiration"])
    if not match:
        raise InvalidParameterError(f"policy expiration: {document['expiration']!r} is not an ISO 8601 GMT time "
                                    "(YYYY-MM-DDTHH:MM:SS[.fff]Z)")
    try:
        year, month, day, hour, minute, second = map(int, match.groups())
        expiration = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:
        raise InvalidParameterError(f"policy expiration: {document['expiration']!r} is not a calendar time") from None
    return PostPolicy(expiration, tuple(parse_condition(c) for c in document["conditions"]))


@dataclass(frozen=True, slots=True)
class PresignedPost:
    """What a browser needs to upload: POST `fields` (in form order, before the file) as multipart/form-data to `url`."""

    url: str
    fields: tuple[tuple[str, str], ...] = field(repr=False)  # the session token among them, and in the policy
    policy: PostPolicy = field(repr=False)
    credential_scope: str
    amz_date: str
    signature: str

    @property
    def string_to_sign(self) -> str:
        """A POST signs the base64 policy itself (the `policy` field)."""
        return self.policy.encoded()

    def field_dict(self) -> dict[str, str]:
        """The fields as botocore's `generate_presigned_post(...)["fields"]` holds them."""
        return dict(self.fields)

    def render(self, *, as_json: bool = False) -> str:
        """The URL, then one `name=value` line per field; or JSON `{"url": ..., "fields": {...}}`. Whole: the
        session token field (and the policy holding it) is what makes the upload work with temporary credentials."""
        if as_json:
            return json.dumps({"url": self.url, "fields": dict(self.fields)}, indent=2)
        return "\n".join([self.url, *(f"{name}={value}" for name, value in self.fields)])


def parse_condition_text(text: str) -> Condition:
    """A condition from its JSON text, e.g. `["starts-with", "$key", "up/"]` (as `sign --condition` takes it).

    Raises InvalidParameterError for text that is not JSON or not a condition (see `parse_condition`).
    """
    try:
        raw = json_loads(text)
    except ValueError as err:
        raise InvalidParameterError(f"condition {text[:60]!r}: not JSON ({getattr(err, 'msg', err)}); e.g. "
                                    '\'["starts-with", "$key", "up/"]\' or \'{"acl": "private"}\'') from None
    return parse_condition(raw)


def _default_url(bucket: str, region: str, service: str) -> str:
    """The virtual-hosted endpoint botocore posts to: S3's global one for us-east-1, else the regional one."""
    if service == "s3express":
        return directory_bucket_url(bucket, region)
    return f"https://{bucket}.s3.amazonaws.com/" if region == "us-east-1" else \
        f"https://{bucket}.s3.{region}.amazonaws.com/"


def presign_post(
    credentials: Credentials, *, bucket: str, key: str, region: str, timestamp: datetime, expires: int = 3600,
    conditions: Iterable[ConditionLike] = (), fields: Iterable[tuple[str, str]] | Mapping[str, str] = (),
    url: str | None = None, service: str = "s3", algorithm: Literal["v4", "v2"] = "v4",
) -> PresignedPost:
    """A presigned POST form for uploading `key` to `bucket`, valid `expires` seconds from `timestamp`.

    `conditions` (built with `eq`, `starts_with`, `content_length_range`, or
    botocore-style dicts and lists) and `fields` (form fields to prefill, e.g.
    `("Content-Type", "image/png")`) come first, then what botocore adds: the
    bucket condition, the key condition (`starts-with` the part before
    `${filename}` when the key ends with it, else exact), the key field, and
    the algorithm, credential, date and session-token fields with their
    conditions, the policy and the signature. `service="s3express"` signs for an
    S3 Express One Zone directory bucket (session token in `x-amz-s3session-token`).
    `url` defaults to the bucket's virtual-hosted endpoint as botocore picks it (global for us-east-1,
    else regional; the zonal endpoint for s3express).
    `algorithm="v2"` signs as S3's SigV2 form (botocore's `HmacV1PostAuth`): `AWSAccessKeyId`, the token,
    `policy` and `signature` (base64 HMAC-SHA1 of the policy) fields, the token's the only signer condition;
    its `credential_scope` and `amz_date` are "".
    Raises InvalidParameterError (or InvalidTimestampError) naming the field and rule.
    """
    _check_credentials(credentials)
    if isinstance(expires, bool) or not isinstance(expires, int) or not 1 <= expires <= MAX_EXPIRES:
        raise InvalidParameterError(f"expires: {expires!r} is out of range; must be an integer 1..{MAX_EXPIRES} seconds")
    if service not in TOKEN_FIELDS:
        raise InvalidParameterError(f"service: {service!r} is not one of {', '.join(TOKEN_FIELDS)} (POST uploads are S3's)")
    if algorithm not in ("v4", "v2") or algorithm == "v2" and service != "s3":
        raise InvalidParameterError(f"algorithm: {algorithm!r} must be v4, or v2 for service s3 (a SigV2 form)")
    for name, value in (("bucket", bucket), ("key", key), ("region", region)):
        if not _text(value, name) or (name != "key" and ("/" in value or " " in value)):
            raise InvalidParameterError(f"{name}: {value!r} must be non-empty" + ("" if name == "key" else
                                                                                 ", without '/' or spaces"))
    when = amz_date(timestamp)
    scope = f"{when[:8]}/{region}/{service}/aws4_request"
    credential = f"{credentials.access_key_id}/{scope}"
    prefilled = list(fields.items() if isinstance(fields, Mapping) else fields)
    form = [(_field_name(n, "fields").lower(), n, _text(v, f"field {n}")) for n, v in prefilled]
    written = UNCONDITIONED_FIELDS | (_V2_FIELDS if algorithm == "v2" else frozenset())
    if reserved := [name for lower, name, _ in form if lower in written]:
        raise InvalidParameterError(f"fields: {reserved[0]!r} is written by the signer "
                                    f"({', '.join(sorted(written - {'file'}))}) or is the upload itself (file)")
    built = [_condition(c) for c in conditions]
    _check_key_conditions(built, key)
    built.append(eq("bucket", bucket))
    built.append(starts_with("key", key.removesuffix("${filename}")) if key.endswith("${filename}") else eq("key", key))
    # SigV2's form conditions only the token of the fields the signer writes (as botocore's HmacV1PostAuth).
    signed = [("AWSAccessKeyId", credentials.access_key_id)] if algorithm == "v2" else \
        [("x-amz-algorithm", ALGORITHM), ("x-amz-credential", credential), ("x-amz-date", when)]
    token = [(TOKEN_FIELDS[service], credentials.session_token)] if credentials.session_token is not None else []
    signed += token
    built.extend(Condition("eq", name, value) for name, value in (token if algorithm == "v2" else signed))
    # botocore's fields are a dict: a prefilled field of the same name is replaced in place, not repeated.
    ordered: dict[str, tuple[str, str]] = {lower: (name, value) for lower, name, value in form}
    for name, value in [("key", key), *signed]:
        ordered[name.lower()] = (ordered.get(name.lower(), (name, ""))[0], value)
    start = timestamp.astimezone(timezone.utc).replace(microsecond=0)
    try:
        policy = PostPolicy(start + timedelta(seconds=expires), tuple(built))
    except OverflowError:
        raise InvalidTimestampError(f"timestamp: {when} plus expires={expires} seconds is past year 9999") from None
    encoded, url = policy.encoded(), url or _default_url(bucket, region, service)
    if algorithm == "v2":
        signature = s3v2.signature(credentials.secret_access_key, encoded)
        return PresignedPost(url, (*ordered.values(), ("policy", encoded), ("signature", signature)), policy, "", "",
                             signature)
    signature = signature_hex(signing_key(credentials.secret_access_key, when[:8], region, service), encoded)
    form_fields = (*ordered.values(), ("policy", encoded), ("x-amz-signature", signature))
    return PresignedPost(url, form_fields, policy, scope, when, signature)


def _check_key_conditions(conditions: Iterable[Condition], key: str) -> None:
    """Refuse a key the form's own conditions on `key` rule out, so that no upload could succeed (a key
    ending in `${filename}` only when no file name could make it fit). Raises InvalidParameterError naming
    the key and the condition."""
    prefix = key.removesuffix("${filename}") if key.endswith("${filename}") else None  # S3 puts the file name
    for condition in conditions:
        if condition.field.lower() != "key":
            continue
        if prefix is None:
            fits = _met(condition, key)
        else:  # some file name fits when the prefixes agree as far as both go (eq: the value extends the prefix)
            fits = condition.value.startswith(prefix) or condition.kind == "starts-with" and prefix.startswith(
                condition.value)
        if not fits:
            raise InvalidParameterError(f"key {key!r}: ruled out by its own condition {condition.describe()}")


# -- verification -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PostIdentity(SignedAuth):
    """A verified POST form: who signed its policy, the policy, and the form's fields (lowercase names).

    `content_length_range` is the policy's (min, max) for the file, or None: a server that checks the size
    while streaming the file holds it to this range (`verify_post(content_length=...)` checks a known size).
    """

    credentials: Credentials
    policy: PostPolicy = field(repr=False)  # both may hold the session token
    fields: tuple[tuple[str, str], ...] = field(repr=False)
    content_length_range: tuple[int, int] | None = None


class ConditionNotMetError(VerificationError):
    """A POST form breaks its policy: `.condition` is the condition not met (None when a field has no condition)."""

    def __init__(self, message: str, *, condition: Condition | None, auth: SignedAuth) -> None:
        super().__init__("condition_not_met", message, auth=auth)
        self.condition = condition


def _form(form: Iterable[tuple[str, str]] | Mapping[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, value in (form.items() if isinstance(form, Mapping) else form):
        name = str(name)
        # ASCII letters only: str.lower() maps U+212A KELVIN SIGN to `k`, so `\u212aey` would stand in for `key`.
        lower = "".join([c.lower() if c.isascii() else c for c in name])
        if lower in fields:
            raise VerificationError("malformed_auth", f"form field {name}: given twice")
        fields[lower] = str(value)
    return fields


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise VerificationError("malformed_auth", f"form field {name}: missing or empty")
    return value


def _met(condition: Condition, value: str) -> bool:
    if condition.kind == "eq":
        return value == condition.value
    if condition.field.lower() == "content-type":  # S3: a comma-separated Content-Type list must match item by item
        # Items are trimmed of spaces and tabs only: str.strip() also took U+00A0 and kin, bytes of the value.
        return all(item.strip(" \t").startswith(condition.value) for item in value.split(","))
    return value.startswith(condition.value)


def verify_post(
    form: Iterable[tuple[str, str]] | Mapping[str, str], lookup: Callable[[str], Credentials | None], *,
    now: datetime, bucket: str, content_length: int | None = None, expected_service: str | None = "s3",
    allowed_regions: Collection[str] | None = None,
) -> PostIdentity:
    """Verify a POST upload form (its fields other than the file, names case-insensitive) posted to `bucket`.

    Checks, in order: the signing fields, the credential scope (`expected_service`, None: s3 or s3express;
    `allowed_regions`), the key (`lookup(access_key_id)`), the session token, the signature over the policy
    (constant time), the policy's expiration against `now`, then every condition (the bucket condition
    against `bucket`, content-length-range against `content_length` when given) and that every field but
    x-amz-signature, policy, file and x-ignore-* has a condition.
    Returns the PostIdentity; raises VerificationError whose `.reason` is one of `sigv4.REASONS`:
    `expired`, `condition_not_met` (a ConditionNotMetError naming the condition), `signature_mismatch`,
    `malformed_auth`, `scope`, `unknown_key`, `token`. InvalidTimestampError for a naive `now`.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidTimestampError("now: naive datetime; pass a timezone-aware one (e.g. tzinfo=timezone.utc)")
    fields = _form(form)
    algorithm = _required(fields, "x-amz-algorithm")
    if algorithm != ALGORITHM:
        raise VerificationError("malformed_auth", f"form field x-amz-algorithm: {algorithm!r} is not {ALGORITHM}")
    key_id, date, regions, service, scope = _split_credential(
        _required(fields, "x-amz-credential"), "v4", "form field x-amz-credential")
    text = _required(fields, "x-amz-date")
    encoded = _required(fields, "policy")
    auth = SignedAuth("v4", algorithm, False, key_id, date, regions, service, (), _required(fields, "x-amz-signature"),
                      _parse_amz_date(text, "form field x-amz-date"), None, scope, text)
    if service not in TOKEN_FIELDS:
        raise VerificationError("scope", f"credential scope: service {service!r} is not one of "
                                         f"{', '.join(TOKEN_FIELDS)}", auth=auth)
    _check_claim(auth, expected_service, allowed_regions)
    creds = lookup(key_id)
    if creds is None:
        raise VerificationError("unknown_key", f"access key id {key_id!r}: not known to this server", auth=auth)
    token_field = TOKEN_FIELDS[service].lower()
    _check_token(fields.get(token_field), creds, f"form field {token_field}", auth)
    expected = signature_hex(signing_key(creds.secret_access_key, date, regions[0], service), encoded)
    if not hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("utf-8", "surrogateescape")):
        raise VerificationError(
            "signature_mismatch", f"form field x-amz-signature: {auth.signature[:16]}... does not match the HMAC "
            "of the policy field (.string_to_sign) with the signing key of the credential scope",
            auth=auth, string_to_sign=encoded)
    try:
        policy = parse_policy(encoded)
    except InvalidParameterError as err:
        raise VerificationError("malformed_auth", str(err), auth=auth) from None
    auth = replace(auth, expires_at=policy.expiration)
    if now.astimezone(timezone.utc) > policy.expiration:
        raise VerificationError("expired", f"policy: expired at {policy.expiration:%Y-%m-%dT%H:%M:%SZ}; server time "
                                           f"is {now.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}", auth=auth)
    length_range = _check_conditions(policy, fields, bucket, content_length, auth)
    return PostIdentity(**{f.name: getattr(auth, f.name) for f in dataclass_fields(SignedAuth)}, credentials=creds,
                        policy=policy, fields=tuple(fields.items()), content_length_range=length_range)


def _check_conditions(policy: PostPolicy, fields: Mapping[str, str], bucket: str, content_length: int | None,
                      auth: SignedAuth) -> tuple[int, int] | None:
    """Hold the form to every condition; return the content-length range, if any."""
    values = {**fields, "bucket": bucket}
    covered = {"bucket"}
    length_range: tuple[int, int] | None = None
    for condition in policy.conditions:
        if condition.kind == "content-length-range":
            length_range = (condition.minimum, condition.maximum)
            if content_length is not None and not condition.minimum <= content_length <= condition.maximum:
                raise ConditionNotMetError(f"policy condition {condition.describe()}: the file is {content_length} "
                                           "bytes", condition=condition, auth=auth)
            continue
        covered.add(condition.field.lower())
        value = values.get(condition.field.lower())
        if value is None or not _met(condition, value):
            shown = "absent" if value is None else "****" if _secret(condition.field) else f"{value[:80]!r}"
            raise ConditionNotMetError(f"policy condition {condition.describe()}: form field {condition.field} is "
                                       f"{shown}", condition=condition, auth=auth)
    for name in fields:
        if name not in covered and name not in UNCONDITIONED_FIELDS and not name.startswith("x-ignore-"):
            raise ConditionNotMetError(f"form field {name}: no policy condition covers it (S3 requires one for "
                                       "every field but x-amz-signature, policy, file and x-ignore-*)",
                                       condition=None, auth=auth)
    return length_range

"""Likely causes, ranked with the client table, when neither the server's strings nor a secret decide.

Strategy: the request's shape makes causes plausible (an unsorted query, a
`+`, %-escapes, a default port, a charset); a shape is evidence only for a
client whose signer has that quirk (`wire.debugger.clients`), so those come
first, then the most common cause (the secret), then the weak ones. Every
cause says what would settle it.
"""

from __future__ import annotations

import hashlib
import re

from sigv4.canonical import normalize_path, query_pairs, uri_encode
from wire.debugger.causes import Cause
from wire.debugger.clients import REQUEST_SHAPE_QUIRKS
from wire.debugger.diagnosis_context import Context, key_label
from wire.debugger.mistakes import CHARSET, View, split_port
from wire.endpoints import is_aws_host


#: What would settle a likely cause: the secret, or the server's canonical request when it sent none (not when
#: its strings agree with ours: it sent them); with the secret given, the body it could not be checked without.
_SETTLE = {"no secret": "--secret (or the server's canonical request) would settle it",
           "no secret, strings agree": "--secret would settle it",
           "secret": "the body (a HAR or `curl --trace-ascii` capture) would let the given secret settle it"}


#: What servers that canonicalize their own way decode and re-encode differently from SigV4.
_ESCAPED = re.compile(r"%[0-9A-Fa-f]{2}|\+")
_SERVER_READS = ("which some servers (S3-compatible stores, emulators such as moto) decode and re-encode "
                 "differently from SigV4; the server's strings would settle it")


def server_reading_causes(view: View) -> list[Cause]:
    """Right by SigV4, refused anyway: servers that decode the path or the query their own way compute another
    canonical request (moto refuses boto3's own `PUT` of a key with `+` or non-ASCII, and the aws CLI's `s3 ls`,
    whose `delimiter=%2F` it reads as `/`). The presigned URL's own X-Amz-* parameters are escaped by every
    client, so they are no evidence. Returns likely causes (none for a request without escapes)."""
    causes = []
    if _ESCAPED.search(view.path):
        causes.append(Cause("path-encoding", f"not proved: the path `{view.path}` has %-escapes or `+`, "
                                             f"{_SERVER_READS}", "likely"))
    escaped = [p for p in view.query.split("&") if _ESCAPED.search(p) and not p.lower().startswith("x-amz-")]
    if escaped:
        causes.append(Cause("query-encoding", f"not proved: the query's `{'&'.join(escaped[:3])}` has %-escapes or "
                                              f"`+`, {_SERVER_READS}", "likely"))
    return causes


def at_aws(view: View) -> bool:
    """Whether the request's Host is an AWS endpoint's (an emulator's or an S3-compatible store's is not)."""
    return is_aws_host(split_port(view.header("host") or "")[0])


def likely_causes(ctx: Context, strings_agree: bool) -> list[Cause]:
    """Causes the request makes plausible when neither the server's strings nor a secret decide."""
    view = ctx.view
    if view is None:
        return []
    known = ("the server computed the same canonical request and string-to-sign as we do, so the server read the "
             "request as SigV4 says; what differs is what the client signed or the key"
             if strings_agree else "the server sent no canonical request or string-to-sign to compare")
    suspects: list[tuple[str, str]] = []
    # A presigned URL's own X-Amz-* parameters say nothing about the signer: they are left out.
    pairs = [(n, v) for n, v in query_pairs(view.query) if not n.startswith("X-Amz-")]
    encoded = [(uri_encode(n, keep_slash=False), uri_encode(v, keep_slash=False)) for n, v in pairs]
    if encoded != sorted(encoded):
        suspects.append(("query-order", "the query is not in sorted order as sent, and signers that do not sort "
                                        "(curl 7.88 `--aws-sigv4`, hand-rolled ones) sign it in that order"))
    if "+" in view.query:
        suspects.append(("plus-space", "the query holds a `+`, which signers read as a space, a plus or leave as is"))
    if any(not value for _, value in pairs):
        suspects.append(("query-empty-value", "the query has a parameter without a value (`x` vs `x=`)"))
    if any(re.search(r"%[0-9A-Fa-f]{2}", part) for part in view.query.split("&") if not part.startswith("X-Amz-")):
        suspects.append(("query-encoding", "the query holds %-escapes some signers encode again"))
    if view.path != normalize_path(view.path):
        suspects.append(("path-normalization", "the path has `//`, `.` or `..` segments signers treat differently"))
    if "%" in view.path or "+" in view.path:
        suspects.append(("path-encoding", "the path has %-escapes or `+`, which S3 and other services encode "
                                          "differently"))
    if any(re.search(r"\S\s{2,}\S", value) for name, value in view.headers if name in view.signed):
        suspects.append(("header-changed", "a signed header value has runs of spaces, which SigV4 collapses and "
                                           "some signers do not"))
    host = view.header("host") or ""
    port = split_port(host)[1]
    if port in ("443", "80"):
        suspects.append(("host-port", f"Host `{host}` names the default port, which signers and proxies drop"))
    content_type = view.header("content-type") or ""
    if CHARSET.search(content_type) and "content-type" in view.signed:
        suspects.append(("header-changed", "Content-Type has a charset, which HTTP libraries and proxies add or "
                                           "drop"))
    # What every request of its kind has (a port on a local endpoint, a trailing slash, a body) is no evidence:
    # it comes after the most common cause.
    weak = len(suspects)
    if view.path.endswith("/") and view.path.strip("/"):
        suspects.append(("trailing-slash", "the path ends in `/`, which HTTP libraries and frameworks add or drop"))
    if port not in ("", "443", "80"):
        suspects.append(("host-port", f"Host `{host}` has a port, which hand-rolled signers drop"))
    if not strings_agree and ctx.payload_known and view.body and not _declared_hash_matches(ctx):
        suspects.append(("payload-hash", "the request has a body, which proxies and libraries re-encode"))
    if strings_agree and view.body and not _declared_hash_matches(ctx):
        # The server hashed the body it received, as we did; a body changed after signing but before the
        # capture (the client's own code, a file edited between `sign` and `send`) agrees too.
        suspects.append(("payload-hash", "the body may have changed after signing, before it was captured"))
    # A request shape is evidence only for a client whose signer has that quirk; for the others it is their
    # normal behaviour (botocore's charset, its unsorted S3 list query). Then the most common cause.
    client = ctx.client
    quirks = [s for s in suspects[:weak] if s[0] in client.quirks]
    others = [s for s in suspects[weak:] if s[0] in client.quirks or s[0] not in REQUEST_SHAPE_QUIRKS]
    secret = ("secret", f"the secret access key may not be the one AWS holds for {key_label(ctx)}, the most common cause "
                        "(rotated key, wrong profile, key id and secret from different pairs)")
    # EC2 answers a wrong signature with SignatureDoesNotMatch; AuthFailure is its answer for credentials it
    # cannot find: a key id it does not know (or a key of an account that cannot use EC2) comes first then.
    if ctx.complaint is not None and ctx.complaint.code == "AuthFailure":
        unknown_key = ("access-key", f"EC2's AuthFailure (\"not able to validate the provided access credentials\") "
                                     f"is its answer for an access key id it does not know ({key_label(ctx)}), not for a "
                                     "wrong signature (SignatureDoesNotMatch); a call with the same key to another "
                                     "service (sts get-caller-identity) would tell")
        ranked = [*quirks, unknown_key, secret, *others]
    else:
        ranked = [*quirks, secret, *others]
    who = f"the client is {client.name}" + (f" ({client.known_for})" if client.known_for else "")
    settle = _SETTLE["secret" if ctx.secret is not None else "no secret, strings agree" if strings_agree
                     else "no secret"]
    if client.logs and ctx.secret is None:
        settle += f"; so would what the client signed ({client.logs})"
    causes = [Cause(kind, f"not proved: {known + '; ' + who + '; ' if i == 0 else ''}{why}; {settle}", "likely")
              for i, (kind, why) in enumerate(ranked)]
    # Whoever signed, a server that is not AWS's may read the escapes its own way (moto does), unless its strings
    # show it read them as we do.
    server = [] if strings_agree or at_aws(view) else server_reading_causes(view)
    return causes + [c for c in server if c.kind not in {kind for kind, _ in ranked}]


def _declared_hash_matches(ctx: Context) -> bool:
    """Whether the request declares an x-amz-content-sha256 that is the captured body's hash."""
    declared = ctx.sent.header("x-amz-content-sha256")
    body = ctx.view.body if ctx.view is not None else None
    return bool(declared) and body is not None and declared == hashlib.sha256(body).hexdigest()

"""Why a signature was refused: the causes, each with the evidence it rests on.

Strategy: the signed request carries everything our side needs (algorithm,
credential scope, signed-header list, request time, payload hash), so
`signature_params` reads it back and a `wire.debugger.mistakes.View` renders our
canonical request and string-to-sign without any secret. Evidence then comes
from three places, and every cause says which ("proved" or "likely"):

- the server's own words (`wire.debugger.complaint`): its time window, expected
  region, missing parts; and its canonical request or string-to-sign, which
  prove what the server computed. When it sent only the string-to-sign, the
  known-mistake search (`wire.debugger.mistakes.search`) looks for the variant of our
  view whose SHA-256 is its fourth line;
- the secret: the sent signature is a fingerprint of exactly what the client
  canonicalized, so the same search, accepting a variant only when it
  reproduces the signature sent, proves what the client signed;
- neither: what the request itself shows (an unsorted query, a `+`, a port)
  makes a cause likely, and the cause then says what would settle it.

Causes are ordered proved first, then by where the evidence came from;
informational lines go to `notes`. This module assembles them: our side is
rebuilt by `recompute`, each source of evidence is its own module over one
`diagnosis_context.Context` (`complaint_rules`, `server_strings`,
`secret_proof`, `logged_strings`, `request_checks`, and `likely_causes`, which
ranks with the client table), the value is `diagnosis.Diagnosis`. Its JSON and
the text report (`wire.debugger.diagnosis_text`) redact session tokens
(`redaction`); the secret is only ever an HMAC or ECDSA key here. The declared
parameters are read by `wire.debugger.signature_params`, the mistakes searched
by `wire.debugger.mistakes`, two canonical requests compared by
`wire.debugger.string_diff`, the client named by `wire.debugger.clients`; the
vocabulary is `wire.debugger.causes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sigv4.types import Credentials, Request
from wire.debugger.capture import Capture
from wire.debugger.causes import CAUSE_KINDS, Cause
from wire.debugger.clients import Client, identify
from wire.debugger.complaint import ServerComplaint, read_error, response_date, split_response
from wire.debugger.complaint_rules import complaint_causes, may_be_mismatch, not_about_signing
from wire.debugger.diagnosis import Diagnosis
from wire.debugger.diagnosis_context import Context, key_label
from wire.debugger.likely_causes import at_aws, likely_causes, server_reading_causes
from wire.debugger.logged_strings import logged_causes
from wire.debugger.recompute import SignatureTest as SignatureTest  # public here before the split
from wire.debugger.recompute import our_payload_hash, our_view, string_to_sign
from wire.debugger.redaction import redact
from wire.debugger.request_checks import request_causes
from wire.debugger.s3v2_causes import is_s3v2, s3v2_causes, s3v2_string_to_sign
from wire.debugger.secret_proof import SignatureCheck, secret_causes
from wire.debugger.server_strings import server_side
from wire.debugger.signature_params import DiagnoseError, SignatureParams, signature_params
from wire.debugger.string_diff import DiffRow, line_diff

__all__ = [
    "CAUSE_KINDS", "Cause", "Diagnosis", "DiagnoseError", "DiffRow", "ServerComplaint", "SignatureCheck",
    "SignatureParams", "diagnose", "diagnose_answer", "diagnose_capture", "line_diff", "read_error", "redact", "signature_params",
    "split_response",
]


def _complaint_notes(complaint: ServerComplaint | None, has_strings: bool, secret_given: bool,
                     params: SignatureParams | None) -> list[str]:
    if complaint is None:
        return []
    notes = []
    # S3 echoes what it received: when that is not what the capture holds, the two are different requests.
    if params and complaint.signature_provided and complaint.signature_provided != params.signature:
        notes.append(f"the server received signature {complaint.signature_provided[:16]}…, the capture holds "
                     f"{params.signature[:16]}…: the response is not about this request (a retry signed again, or "
                     "another request of the capture: --pick)")
    if params and complaint.access_key_id and complaint.access_key_id != params.access_key_id:
        notes.append(f"the server received access key id {complaint.access_key_id[:8]}…, the capture holds "
                     f"{params.access_key_id[:8]}…: the response is not about this request")
    if not_about_signing(complaint):
        notes.append(f"the server answered {complaint.status or '(status not captured)'} {complaint.code}: "
                     f"{complaint.code} is not a signature error; the server did not refuse the signature, so no "
                     "signing cause is named (read its message)")
    elif not has_strings and may_be_mismatch(complaint) and not _route_not_found(complaint, params):
        what = f"{complaint.code or 'no error code'}, {complaint.envelope} envelope"
        settle = ("" if secret_given else "; --secret (checks what the client signed) or a response with the "
                  "server's strings (S3's CanonicalRequest, a JSON service's message) would settle it")
        notes.append(f"the server sent no canonical request and no string-to-sign ({what}): what it computed cannot "
                     f"be compared{settle}")
    if _route_not_found(complaint, params):
        notes.append("MissingAuthenticationToken for a request that carries a signature: the server found no route "
                     "for this method and path (API Gateway and `sigv4 serve` answer this for a resource path, stage "
                     "or method that does not exist), so it never checked the signature: check the URL and the "
                     "method; no signing cause is named")
    elif complaint.kind == "missing-authentication":
        notes.append("MissingAuthenticationToken: the server found no signature it reads; API Gateway also answers "
                     "this for a resource path, stage or method that does not exist")
    if complaint.kind == "other" and complaint.envelope in ("text", "empty"):
        notes.append("the response is not an AWS error envelope (no error code found)")
    return notes


def _route_not_found(complaint: ServerComplaint | None, params: SignatureParams | None) -> bool:
    """MissingAuthenticationToken for a signed request: API Gateway's answer for a route that does not exist."""
    return complaint is not None and complaint.kind == "missing-authentication" and params is not None


def _their_host(complaint: ServerComplaint | None) -> str | None:
    """The `host:` line of the server's canonical request, None without one."""
    lines = complaint.canonical_request.split("\n")[3:] if complaint and complaint.canonical_request else []
    return next((line[5:] for line in lines if line.startswith("host:")), None)


#: Rank of a cause's source: the server's facts, then the signature proof, then the client's logged strings,
#: then the server's strings, then the request.
_ORDER = ("complaint", "secret", "logged", "strings", "request", "likely")


def diagnose(sent: Request, complaint: ServerComplaint | None = None, *, secret: Credentials | str | None = None,
             response_date: datetime | None = None, body_known: bool = True,
             notes: Sequence[str] = (), client: Client | None = None,
             logged: tuple[str | None, str | None] = (None, None)) -> Diagnosis:
    """Compare the signed request `sent` with the server's `complaint` and name the causes, most likely first.

    No secret is needed: our canonical request and string-to-sign are rebuilt
    from `sent` itself. With `secret` (a secret access key or `Credentials`),
    the signature sent is checked, and when it does not verify the known
    signer mistakes are searched for the one that reproduces it. With
    `complaint` None it explains `sent` alone. `body_known=False` says the
    capture does not show the body (then x-amz-content-sha256 or the server's
    payload line stands in for it). `notes` (say, from the capture reader) are
    passed through. `client` is who signed (`wire.debugger.clients.identify`, from the User-Agent when not
    given); `logged` the canonical request and string-to-sign the client logged, when it did. Never prints
    or returns the secret.
    """
    secret_key = secret.secret_access_key if isinstance(secret, Credentials) else secret
    all_notes = list(notes)
    their_host = _their_host(complaint)
    if sent.header("host") is None and sent.url.startswith("/") and their_host is not None:
        # requests' PreparedRequest.headers have no Host (http.client adds it when sending): the server's
        # canonical request is the one witness of the Host it was sent with.
        sent = Request(sent.method, sent.url, [("Host", their_host), *sent.headers], sent.body)
        all_notes.append(f"the capture shows no Host header: the server's canonical request has `host:{their_host}`, "
                         "taken for the one it was sent with (http.client adds it to requests' PreparedRequest)")
    causes: dict[str, list[Cause]] = {name: [] for name in _ORDER}
    s3v2_sts: str | None = None  # S3's SigV2: the string-to-sign, rebuilt once for its causes and the diagnosis
    try:
        params: SignatureParams | None = signature_params(sent)
    except DiagnoseError as err:
        params = None
        if is_s3v2(sent):  # S3's SigV2: its own string-to-sign, compared with S3's, and the secret
            s3v2_sts = s3v2_string_to_sign(sent)
            causes["request"] += s3v2_causes(sent, s3v2_sts, complaint.string_to_sign if complaint else None,
                                             secret_key)
            all_notes.append(str(err))
        else:
            all_notes.append(f"our side cannot be recomputed: {err}")
            if complaint is None or complaint.kind != "incomplete-signature":
                causes["request"].append(Cause("algorithm", f"the request's signature is not readable: {err}"))
    if isinstance(secret, Credentials) and params and secret.access_key_id != params.access_key_id:
        # Another key's secret would "prove" that every signature is wrong: it is not used.
        secret_key = None
        all_notes.append(f"the credentials given are for {secret.access_key_id[:8]}…, the request is signed by "
                         f"{params.access_key_id[:8]}…: the signature is not checked (give that key's credentials)")
    theirs_canonical = complaint.canonical_request if complaint else None
    theirs_sts = complaint.string_to_sign if complaint else None
    payload = our_payload_hash(sent, params, body_known) if params else None
    if params and payload is None:
        their_payload = theirs_canonical.rsplit("\n", 1)[-1] if theirs_canonical else None
        payload = their_payload
        all_notes.append("the capture does not show the body and the request has no x-amz-content-sha256: "
                         + ("the server's payload hash is used for ours" if their_payload else
                            "body-dependent checks are skipped (capture the body: HAR, `curl --trace-ascii`)"))
    view = our_view(sent, params, payload, body_known) if params else None
    if view is not None and "host" in view.signed and view.header("host") is None:
        all_notes.append("the capture shows no Host header, which every HTTP/1.1 request carries (requests' "
                         "`PreparedRequest.headers` leave it to http.client): add the `Host:` line it was sent with")
    ours_canonical = view.canonical() if view else None
    ours_sts = string_to_sign(params, ours_canonical) if params and ours_canonical is not None else None
    ctx = Context(sent, complaint, params, view, ours_canonical, ours_sts, theirs_canonical, theirs_sts,
                   secret_key, response_date, payload is not None, client or identify(sent), *logged,
                   secret.session_token if isinstance(secret, Credentials) and secret_key else None)
    causes["complaint"] = complaint_causes(ctx)
    server = server_side(ctx)
    causes["strings"] = server.causes
    all_notes += server.notes
    secret_found, secret_notes, check = secret_causes(ctx)
    all_notes += secret_notes
    has_strings = theirs_sts is not None or theirs_canonical is not None
    strings_agree = has_strings and not server.causes and (server.canonical in (None, ours_canonical))
    mismatch = complaint is not None and (may_be_mismatch(complaint) and
                                          (complaint.status is None or complaint.status >= 400))
    if check is not None and check.ours_matches and mismatch and strings_agree:
        secret_found.append(Cause("secret", f"the signature sent verifies with the given secret and the "
                                            "server computed the same string-to-sign, so AWS holds a different "
                                            f"secret for {key_label(ctx)} than the one given (rotated key, wrong profile, "
                                            "or key id and secret from different pairs)"))
    elif check is not None and check.ours_matches and mismatch and not has_strings:
        secret_found.append(Cause("secret", "not proved: the client signed exactly what the capture shows "
                                            "(the signature verifies with the given secret), and the server sent no "
                                            "strings: either the request changed after it was captured (a proxy) or "
                                            f"AWS holds another secret for {key_label(ctx)}; the server's strings or a "
                                            "capture taken where the server receives would settle it", "likely"))
        reading = server_reading_causes(ctx.view) if ctx.view is not None else []
        # An emulator or an S3-compatible store holds the key it handed out: its own reading of the escapes is
        # the likelier cause there. At AWS, a rotated key is.
        aws = ctx.view is not None and at_aws(ctx.view)
        secret_found = [*secret_found, *reading] if aws else [*reading, *secret_found]
    causes["secret"] = secret_found
    from_log, logged_notes = logged_causes(ctx)
    # The client's strings against the server's and ours against the server's name the same change: once.
    causes["logged"] = [c for c in from_log if c.kind not in {s.kind for s in causes["strings"]}]
    all_notes += logged_notes
    causes["request"] += request_causes(ctx)
    decided = any(c.evidence == "proved" for group in causes.values() for c in group)
    if mismatch and check is None and not decided and (strings_agree or not has_strings):
        causes["likely"] = likely_causes(ctx, strings_agree)
    all_notes += _complaint_notes(complaint, has_strings, secret_key is not None, params)
    ordered = [] if _route_not_found(complaint, params) else \
        [c for name in _ORDER for c in causes[name] if c.evidence == "proved"] + \
        [c for name in _ORDER for c in causes[name] if c.evidence == "likely"]
    if s3v2_sts is not None:
        ours_sts = s3v2_sts
    their_shown = theirs_canonical or (server.canonical if server.reconstructed else None)
    return Diagnosis(
        complaint=complaint, params=params, ours_canonical_request=ours_canonical, ours_string_to_sign=ours_sts,
        theirs_canonical_request=their_shown, theirs_string_to_sign=theirs_sts,
        theirs_reconstructed=server.reconstructed,
        canonical_diff=line_diff(ours_canonical, their_shown) if ours_canonical and their_shown else (),
        string_to_sign_diff=line_diff(ours_sts, theirs_sts) if ours_sts and theirs_sts else (),
        causes=tuple(_dedup(ordered)), signature_check=check, notes=tuple(dict.fromkeys(redact(n) for n in all_notes)),
    )


#: The server's answer as (status, headers, body): what a capture or a saved response holds.
Answer = tuple[int | None, Sequence[tuple[str, str]], bytes]


def diagnose_answer(sent: Request, answer: Answer | None, *, secret: Credentials | str | None = None,
                    body_known: bool = True, notes: Sequence[str] = (), client: Client | None = None,
                    logged: tuple[str | None, str | None] = (None, None)) -> Diagnosis:
    """`diagnose` for a request and the server's whole answer (None: no answer was captured, which the
    first note then says).

    A 4xx/5xx answer (or one without a status) is read as the complaint; a
    2xx/3xx answer is noted as accepted. The answer's Date header is what
    clock skew is measured against when the complaint gives no times.
    """
    status, headers, body = answer if answer is not None else (None, (), b"")
    complaint = read_error(status, headers, body) if answer is not None and (status is None or status >= 400) else None
    accepted = [f"the server answered {status}: it accepted the request"] if answer is not None and complaint is None \
        else []
    missing = [] if answer is not None else [
        "the capture holds no response: only what the request itself shows is checked (save the server's answer "
        "too: `sigv4 diff SENT RESPONSE`, curl -v or --trace-ascii, aws --debug)"]
    return diagnose(sent, complaint, secret=secret, response_date=response_date(headers), body_known=body_known,
                    notes=[*missing, *notes, *accepted], client=client, logged=logged)


def diagnose_capture(capture: Capture, answer: Answer | None = None, *, secret: Credentials | str | None = None,
                     notes: Sequence[str] = ()) -> Diagnosis:
    """`diagnose_answer` for a capture: its request, `answer` (the capture's own when None), the client it
    shows (User-Agent, or the format only that client writes) and the strings the client logged."""
    return diagnose_answer(capture.request, answer if answer is not None else capture.answer, secret=secret,
                           body_known=capture.body_known, notes=notes, client=identify(capture.request, capture.format),
                           logged=(capture.client_canonical_request, capture.client_string_to_sign))


def _dedup(causes: list[Cause]) -> list[Cause]:
    """Each change once: causes of one kind about the same values (the server's strings and the client's
    logged ones name the same change in other words) or with the same words are listed once; the secret once."""
    seen: set[tuple[str, str | None, str | None]] = set()
    kept = []
    for cause in causes:
        keys: set[tuple[str, str | None, str | None]] = {(cause.kind, cause.message, None)}
        if cause.ours is not None or cause.theirs is not None:
            keys.add((cause.kind, cause.ours, cause.theirs))
        if cause.kind == "secret":  # one key: the strongest evidence about it (its sources say the same)
            keys.add(("secret", None, None))
        if not keys & seen:
            seen |= keys
            kept.append(cause)
    return kept

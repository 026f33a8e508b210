"""Keeping secrets out of what the tools print: masks for the secret key and the session token.

Pure: text and credentials in, text out.
"""

from __future__ import annotations

from .canonical import query_pairs, uri_encode
from .types import Credentials, Request


def mask(secret: str | None) -> str:
    """Show a secret's length class, never its content."""
    return "(none)" if not secret else "****" + f"({len(secret)} chars)"


def redact(text: str, creds: Credentials | None, *, show_token: bool = False) -> str:
    """Replace the secret key and (unless `show_token`) the session token wherever they appear in `text`."""
    if creds is None:
        return text
    for secret in (creds.secret_access_key, None if show_token else creds.session_token):
        if secret:
            # A presigned URL or a SigV2 query carries the token percent-encoded (STS tokens hold `/`, `+`, `=`).
            for form in (secret, uri_encode(secret, keep_slash=False)):
                text = text.replace(form, "****")
    return text


def request_token(request: Request) -> str | None:
    """The session token a request already carries: header, presigned query or SigV2 query."""
    token = request.header("x-amz-security-token")
    if token:
        return token
    for name, value in query_pairs(request.query):
        if name in ("X-Amz-Security-Token", "SecurityToken") and value:
            return value
    return None


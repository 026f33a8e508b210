"""What `sigv4 whoami` reports about resolved credentials: where they came from and what kind they are.

Pure: a `ResolvedCredentials` in, a dict of display values out; never the secret, never the token.
"""

from __future__ import annotations

from .credentials import ResolvedCredentials

#: Access key id prefix -> what kind of key it is.
KEY_TYPES = {"AKIA": "long-term (IAM user)", "ASIA": "temporary (needs a session token)"}


def describe(resolved: ResolvedCredentials) -> dict[str, str | None]:
    """Source, shortened key id, key type, token presence, expiry and region; a warning for a temporary
    key id without a token (AWS rejects its signatures)."""
    creds = resolved.credentials
    record: dict[str, str | None] = {
        "source": resolved.source,
        "access_key_id": creds.access_key_id[:4] + "…" + creds.access_key_id[-4:],
        "key_type": KEY_TYPES.get(creds.access_key_id[:4], "unknown prefix (not an AWS-issued key id?)"),
        "session_token": "present" if creds.session_token else "absent",
        "expiration": resolved.expiration,
        "region": resolved.region,
    }
    if creds.access_key_id.startswith("ASIA") and not creds.session_token:
        record["warning"] = "temporary key id without a session token: AWS will reject its signatures"
    return record

"""Session tokens out of what only explains: a diagnosis, its notes, its JSON.

Strategy: a token (an `x-amz-security-token:` line, an `X-Amz-Security-Token=`
parameter) is replaced by its length and a SHA-256 prefix, so two different
tokens still read as different.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any


_TOKEN_LINE = re.compile(r"(?im)^(x-amz-security-token:)(.*)$")
_TOKEN_PARAM = re.compile(r"(?i)(X-Amz-Security-Token=)([^&\s']*)")


def _fingerprint(match: re.Match[str]) -> str:
    value = match.group(2)
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:8]
    return f"{match.group(1)}<redacted {len(value)} chars sha256:{digest}>"


def redact(text: str) -> str:
    """Replace session tokens by a fingerprint (length and hash prefix), so differences stay visible."""
    return _TOKEN_PARAM.sub(_fingerprint, _TOKEN_LINE.sub(_fingerprint, text))


def redact_tree(value: Any) -> Any:
    """`value` (JSON-ready dicts, lists, strings) with every string `redact`ed."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_tree(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_tree(item) for item in value]
    return value

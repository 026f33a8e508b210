"""Bounded readers of outside text: decimal integers and JSON.

Strategy: Python's own readers fail on outside text in ways a caller does not
expect. `str.isdigit` takes '²' and other Unicode digits that `int()` then
refuses, and `int()` of more than 4,300 digits raises ValueError;
`json.loads` of text nested a thousand deep raises RecursionError, and text
nested a few hundred deep parses but then exhausts the recursion of whatever
walks the value (validation, serialization). So `decimal` takes ASCII digits
only, and few of them, and `json_loads` refuses nesting deeper than
`MAX_JSON_DEPTH` with a ValueError, the error its callers already handle.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: JSON nesting accepted from outside: far beyond any AWS shape or credential answer, far below the recursion limit.
MAX_JSON_DEPTH = 100

_DECIMAL = re.compile(r"\s*([0-9]+)\s*\Z")


def decimal(text: str | None, max_digits: int = 18) -> int | None:
    """The integer of `text` when it is ASCII digits (surrounding whitespace allowed), at most `max_digits` of
    them; None otherwise (None, empty, a sign, '²', too many digits). Never raises."""
    match = _DECIMAL.match(text or "")
    return int(match[1]) if match and len(match[1]) <= max_digits else None


def _too_deep(value: Any, limit: int) -> bool:
    # A walk with an explicit stack: the recursion this module exists to avoid would come back here.
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def json_loads(data: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads(data)`, refusing arrays and objects nested deeper than `max_depth`.

    Raises ValueError (json.JSONDecodeError for a syntax error) and nothing else.
    """
    refusal = f"JSON nested deeper than {max_depth} arrays and objects"
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(refusal) from None
    if _too_deep(value, max_depth):
        raise ValueError(refusal)
    return value

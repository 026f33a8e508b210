"""The sliver of BSON that MONGODB-AWS needs: a flat document of UTF-8 string fields, both ways.

Strategy: the client's final SASL message is `{a: <Authorization>, d:
<X-Amz-Date>, t: <session token>}`, every value a string; a document is
int32 length, elements (type 0x02, name, int32 length, bytes, NUL), NUL
(bsonspec.org). Anything else a reader meets is refused, not skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from ..errors import InvalidParameterError

_STRING = 0x02


def _cstring(name: str) -> bytes:
    data = name.encode("utf-8")
    if b"\0" in data:
        raise InvalidParameterError(f"BSON field name {name!r} contains a NUL byte")
    return data + b"\0"


def encode_strings(fields: Sequence[tuple[str, str]]) -> bytes:
    """A BSON document of `fields` (name, string value) in that order, as `bson.encode` writes it."""
    body = b"".join(bytes([_STRING]) + _cstring(name) + struct.pack("<i", len(value.encode("utf-8")) + 1)
                    + value.encode("utf-8") + b"\0" for name, value in fields)
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def decode_strings(data: bytes) -> list[tuple[str, str]]:
    """The (name, value) pairs of a BSON document whose every field is a string.

    Raises InvalidParameterError when `data` is not exactly such a document.
    """
    if len(data) < 5 or struct.unpack_from("<i", data)[0] != len(data) or data[-1] != 0:
        raise InvalidParameterError("token: not a BSON document (its length prefix does not match)")
    fields, at, end = [], 4, len(data) - 1
    try:
        while at < end:
            if data[at] != _STRING:
                raise InvalidParameterError(f"token: BSON field of type 0x{data[at]:02x}; only strings are expected")
            name_end = data.index(b"\0", at + 1)
            (size,) = struct.unpack_from("<i", data, name_end + 1)
            start = name_end + 5
            if size < 1 or start + size > end or data[start + size - 1] != 0:
                raise InvalidParameterError("token: a BSON string overruns its document")
            fields.append((data[at + 1:name_end].decode("utf-8"), data[start:start + size - 1].decode("utf-8")))
            at = start + size
    except InvalidParameterError:
        raise
    except (ValueError, struct.error) as err:  # index() found no NUL, unpack ran off the end, bad UTF-8
        raise InvalidParameterError(f"token: malformed BSON ({err})") from None
    return fields

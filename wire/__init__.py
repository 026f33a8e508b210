"""Pure AWS wire-protocol codecs: awsJson1_0/1_1, restJson1, restXml, awsQuery,
ec2Query, Smithy RPCv2 CBOR; S3's client-side customizations in `wire.s3`.

`serialize` turns params into a `sigv4.types.Request` ready to sign;
`parse_response` turns status, headers and body into a dict or raises
`ServiceError`. No sockets, no clock, no randomness unless injected; the only
file access is `load_model` reading a model the caller names. The exceptions,
declared in `tests/test_purity.py` (`EDGE_MODULES`), are the I/O edge:
`wire.transport` (HTTP client and server) and `wire.service`'s `app`,
`sqlite_store`, `trail_log` and `demo`.
"""

from wire.api import parse_request, parse_response, serialize, serialize_error, serialize_response
from wire.errors import (
    DecodeError,
    ModelError,
    SerializationError,
    ServiceError,
    ValidationError,
    Violation,
    WireError,
)
from wire.model import Model, load_model
from wire.validate import validate

__all__ = [
    "DecodeError",
    "Model",
    "ModelError",
    "SerializationError",
    "ServiceError",
    "ValidationError",
    "Violation",
    "WireError",
    "load_model",
    "parse_request",
    "parse_response",
    "serialize",
    "serialize_error",
    "serialize_response",
    "validate",
]

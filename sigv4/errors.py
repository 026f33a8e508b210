"""The signer's exception family. Every message names the field and the rule."""


class SigningError(ValueError):
    """Base class: the input cannot be signed as given."""


class InvalidHeaderError(SigningError):
    """A header name or value breaks HTTP's rules (control bytes, non-token name)."""


class InvalidTimestampError(SigningError):
    """The signing time is unusable (naive datetime, unparseable text)."""


class InvalidParameterError(SigningError):
    """A signing option is out of range or empty (region, service, expiry...)."""


class RequestParseError(SigningError):
    """Raw request bytes could not be parsed as an HTTP/1.1 request."""

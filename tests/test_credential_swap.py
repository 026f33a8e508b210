"""`wire.credential_swap`: STS's temporary credentials swapped for a placeholder's, the rest of the answer kept."""

from __future__ import annotations

from sigv4 import Credentials
from wire.credential_swap import swap

ANSWER = (b'<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
          b"<Credentials><AccessKeyId>ASIAREALREALREAL0001</AccessKeyId><SecretAccessKey>real/secret+key"
          b"</SecretAccessKey><SessionToken>real&amp;token</SessionToken><Expiration>2026-12-07T12:00:00Z"
          b"</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn>"
          b"</AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>")
PLACEHOLDER = Credentials("ASIAPLACEHOLDER00001", "placeholder<secret>", "placeholder-token")


def test_the_credentials_are_swapped_and_nothing_else_changes() -> None:
    swapped = swap(ANSWER, PLACEHOLDER)
    assert swapped is not None
    assert swapped.real == Credentials("ASIAREALREALREAL0001", "real/secret+key", "real&token")
    assert swapped.expiration == "2026-12-07T12:00:00Z"
    for secret in (b"ASIAREALREALREAL0001", b"real/secret+key", b"real&amp;token"):
        assert secret not in swapped.body
    assert b"<SecretAccessKey>placeholder&lt;secret&gt;</SecretAccessKey>" in swapped.body
    assert swapped.body.replace(b"ASIAPLACEHOLDER00001", b"ASIAREALREALREAL0001").replace(
        b"placeholder&lt;secret&gt;", b"real/secret+key").replace(b"placeholder-token", b"real&amp;token") == ANSWER


def test_an_answer_without_complete_credentials_is_no_swap() -> None:
    assert swap(b"<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>", PLACEHOLDER) is None
    assert swap(ANSWER.replace(b"<SessionToken>real&amp;token</SessionToken>", b""), PLACEHOLDER) is None

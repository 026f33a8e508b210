"""`sigv4 serve` as real clients meet it (curl `--aws-sigv4`, boto3, the aws CLI): what each is answered
when it gets something wrong."""

from __future__ import annotations

import subprocess

import pytest

from tests.serve_fixtures import DEFAULT, Running, endpoint  # noqa: F401  (fixture)


def curl(running: Running, *args: str, secret: str = DEFAULT["secret_access_key"]) -> str:
    return subprocess.run(["curl", "-sS", "--aws-sigv4", "aws:amz:us-east-1:account",
                           "--user", f"{DEFAULT['access_key_id']}:{secret}", *args, f"{running.url}/"],
                          capture_output=True, text=True, timeout=30, check=True).stdout


@pytest.mark.parametrize("form", ["Action=CloseAccount&Version=2021-02-01", "Action=ListRegions&Version=2011-06-15",
                                  "Version=2021-02-01"])
def test_a_query_call_with_a_wrong_secret_is_refused_for_its_signature_before_its_action(
        endpoint: Running, form: str) -> None:
    """curl with a wrong secret and an Action the service lacks (or a wrong Version, or none): AWS refuses the
    signature first; the endpoint answered InvalidAction (MissingAction), hiding the real mistake."""
    wrong = curl(endpoint, "--data", form, secret="not-the-secret")
    assert "<Code>SignatureDoesNotMatch</Code>" in wrong, wrong
    right = curl(endpoint, "--data", form)
    assert "<Code>InvalidAction</Code>" in right or "<Code>MissingAction</Code>" in right, right

"""The `aws` CLI (awscli) against the real local endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.serve_fixtures import DEFAULT, Running, endpoint  # noqa: F401  (fixture)


def aws(running: Running, tmp_path: Path, *args: str, secret: str = DEFAULT["secret_access_key"]) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": DEFAULT["access_key_id"], "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-west-2", "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1",
    }
    return subprocess.run([sys.executable, "-m", "awscli", "account", *args, "--endpoint-url", running.url,
                           "--output", "json"], env=env, capture_output=True, text=True, timeout=60)


def test_alternate_contact_put_get_delete_and_list_regions(endpoint: Running, tmp_path: Path) -> None:
    put = aws(endpoint, tmp_path, "put-alternate-contact", "--alternate-contact-type", "SECURITY",
              "--name", "Ana Lima", "--title", "CISO", "--email-address", "sec@example.com",
              "--phone-number", "+1 555 0100")
    assert put.returncode == 0, put.stderr
    got = aws(endpoint, tmp_path, "get-alternate-contact", "--alternate-contact-type", "SECURITY")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["AlternateContact"]["Name"] == "Ana Lima"
    deleted = aws(endpoint, tmp_path, "delete-alternate-contact", "--alternate-contact-type", "SECURITY")
    assert deleted.returncode == 0, deleted.stderr
    gone = aws(endpoint, tmp_path, "get-alternate-contact", "--alternate-contact-type", "SECURITY")
    assert gone.returncode != 0 and "ResourceNotFoundException" in gone.stderr
    regions = aws(endpoint, tmp_path, "list-regions", "--region-opt-status-contains", "DISABLED")
    assert regions.returncode == 0, regions.stderr
    assert {r["RegionOptStatus"] for r in json.loads(regions.stdout)["Regions"]} == {"DISABLED"}
    events = [json.loads(line)["eventName"] for line in endpoint.trail.read_text().splitlines()]
    assert events == ["PutAlternateContact", "GetAlternateContact", "DeleteAlternateContact",
                      "GetAlternateContact", "ListRegions"]


def test_wrong_secret_is_invalid_signature(endpoint: Running, tmp_path: Path) -> None:
    result = aws(endpoint, tmp_path, "list-regions", secret="not-the-secret")
    assert result.returncode != 0
    assert "(InvalidSignatureException)" in result.stderr
    assert "The request signature we calculated does not match the signature you provided." in result.stderr

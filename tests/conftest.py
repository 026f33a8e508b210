"""Shared fixtures: the official vector folders, fetched on first use."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "vectors"))

import fetch  # noqa: E402  (vectors/fetch.py)

SIGV4A_SUITE = ROOT.parent / "shared" / "vectors" / "aws-signing-test-suite" / "v4a"


@pytest.fixture(scope="session")
def botocore_sdist() -> Path:
    """The extracted botocore sdist (SigV4 suite and protocol tests); fetched when missing."""
    try:
        return fetch.ensure()
    except fetch.FetchError as err:
        pytest.fail(f"official vectors unavailable: {err}", pytrace=False)

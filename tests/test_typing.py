"""The typed API: `mypy --strict` passes on sigv4/ and wire/, and both packages ship `py.typed`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_packages_are_marked_typed() -> None:
    assert (ROOT / "sigv4" / "py.typed").is_file() and (ROOT / "wire" / "py.typed").is_file()


def test_mypy_strict_is_clean() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "sigv4", "wire"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr

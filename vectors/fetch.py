"""Fetch the official test vectors that ship inside botocore's source distribution.

Strategy: ask pip (the ordinary PyPI client) for one pinned sdist, check its
sha256 against the pin below, and extract only the two vector trees into
`vectors/_fetched/` (git-ignored). Nothing third-party is committed; a run
without network fails with a message that says how to get the files.

    python vectors/fetch.py          # fetch if missing, print the folder
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BOTOCORE_VERSION = "1.43.11"
BOTOCORE_SDIST_SHA256 = "d7d479cc2809ec2728f2898521003adfb79bfe6a4615c59dfd222ec52b0cee6b"
WANTED = ("tests/unit/auth/aws4_testsuite/", "tests/unit/protocols/", "tests/unit/test_protocols.py")

ROOT = Path(__file__).resolve().parent / "_fetched"
DEST = ROOT / f"botocore-{BOTOCORE_VERSION}"
SIGV4_SUITE = DEST / "tests/unit/auth/aws4_testsuite"
PROTOCOL_TESTS = DEST / "tests/unit/protocols"


class FetchError(RuntimeError):
    pass


def _download(workdir: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
        f"botocore=={BOTOCORE_VERSION}", "-d", str(workdir),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(workdir.glob(f"botocore-{BOTOCORE_VERSION}.tar.gz"))
    if not found:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise FetchError(
            f"could not download botocore=={BOTOCORE_VERSION} sdist with pip ({detail[0]}); "
            "connect to PyPI and run: python vectors/fetch.py"
        )
    return found[0]


def _extract(archive: Path) -> None:
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != BOTOCORE_SDIST_SHA256:
        raise FetchError(f"botocore sdist sha256 is {digest}, expected the pinned {BOTOCORE_SDIST_SHA256}")
    prefix = f"botocore-{BOTOCORE_VERSION}/"
    staging = ROOT / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        members = [
            m for m in tar.getmembers()
            if m.name.startswith(prefix) and m.name[len(prefix):].startswith(WANTED)
            and (m.isfile() or m.isdir())
        ]
        tar.extractall(staging, members=members, filter="data")
    shutil.rmtree(DEST, ignore_errors=True)
    (staging / prefix).rename(DEST)
    shutil.rmtree(staging, ignore_errors=True)


def ensure() -> Path:
    """Return the extracted sdist folder, fetching it first when missing."""
    if SIGV4_SUITE.is_dir() and PROTOCOL_TESTS.is_dir():
        return DEST
    ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        _extract(_download(Path(tmp)))
    return DEST


if __name__ == "__main__":
    try:
        print(ensure())
    except FetchError as err:
        print(f"vectors/fetch.py: {err}", file=sys.stderr)
        sys.exit(2)

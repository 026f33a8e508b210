"""The task pages: every script in tests/examples/ runs to completion (each asserts its own outcome).

Each script's module docstring is the page's prose; the lead's README
links them as the task index. Scripts run in a fresh interpreter with the
repository on the path, offline (loopback servers only).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "tests" / "examples").glob("*.py"))
TASKS = {"sign_a_request", "presign_a_url", "stream_an_upload", "verify_on_a_server", "debug_a_mismatch",
         "call_an_operation", "upload_from_a_browser"}


def test_every_task_has_a_page() -> None:
    assert {path.stem for path in EXAMPLES} == TASKS


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda path: path.stem)
def test_example_runs(script: Path) -> None:
    docstring = ast.get_docstring(ast.parse(script.read_text()))
    assert docstring and len(docstring.splitlines()) >= 5, f"{script.name}: the page's prose is its docstring"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip(), f"{script.name}: printed nothing"

"""The code base stays ruff-clean (ruff is part of the test extra)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_ruff_clean():
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed; install the test extra: pip install -e '.[test]'")
    root = Path(__file__).resolve().parents[1]
    completed = subprocess.run(["ruff", "check", str(root)], capture_output=True, text=True, cwd=root)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_python_version():
    assert sys.version_info >= (3, 11)

"""Every test here uses a temporary benchmark cache, never the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: reference material read in place (CI sets HPO_SHARED_DIR; default: ``<repo>/../shared``)
SHARED = Path(os.environ.get("HPO_SHARED_DIR") or Path(__file__).resolve().parents[2].parent / "shared")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("HPO_BLACKBOX_CACHE", str(cache))
    return cache


@pytest.fixture
def yahpo_data(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared copy of yahpo_data as ``$HPO_YAHPO_DATA``; downloads are pointed at nothing."""
    data = SHARED / "yahpo_data"
    if not data.is_dir():
        message = f"no shared YAHPO data at {data} (set HPO_SHARED_DIR to the directory holding yahpo_data)"
        if os.environ.get("HPO_SHARED_DIR"):  # CI sets it: missing data there is a failure, not a skip
            pytest.fail(message)
        pytest.skip(message)
    monkeypatch.setenv("HPO_YAHPO_DATA", str(data))
    monkeypatch.setenv("HPO_YAHPO_URL", "file:///nonexistent/yahpo-tests-never-download")
    return data

"""Every test here uses a temporary blackbox cache holding the toy table, never the user's cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from blackbox_repository import BlackboxRepository
from tests.experiments.helpers import make_toy_blackbox


@pytest.fixture(autouse=True)
def toy_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary ``HPO_BLACKBOX_CACHE`` holding the toy table (never the user's cache)."""
    cache = tmp_path / "blackbox-cache"
    monkeypatch.setenv("HPO_BLACKBOX_CACHE", str(cache))
    BlackboxRepository(cache).store(make_toy_blackbox())
    return cache

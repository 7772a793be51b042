"""Optional dependencies of tests: skipped on a developer's machine without them, a failure in CI.

CI sets ``CI`` (e.g. ``CI=true``) and installs every extra; a missing package there would otherwise skip
whole test modules (the S3 mirror without moto's server, FCNet without h5py) and hide their failures.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest

CI_ENV = "CI"


def in_ci() -> bool:
    """True when the environment variable ``CI`` is set to anything but empty, 0, false or no."""
    return os.environ.get(CI_ENV, "").strip().lower() not in ("", "0", "false", "no")


def import_or_skip(name: str, reason: str) -> ModuleType:
    """``pytest.importorskip`` outside CI; in CI a missing module fails the tests instead of skipping them."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        message = f"{reason} ({error})"
        if in_ci():
            pytest.fail(f"{message}; ${CI_ENV} is set, so a missing optional dependency is a failure", pytrace=False)
        pytest.skip(message, allow_module_level=True)

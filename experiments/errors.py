"""Errors of the experiments layer, and the argument check they share."""

from __future__ import annotations

import numbers
from typing import Any


class ExperimentError(ValueError):
    """An experiment cannot run as asked (a bad argument, an unknown name, a clashing results store)."""


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` if it is an integer >= ``minimum``, else a one-line ``ExperimentError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ExperimentError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)

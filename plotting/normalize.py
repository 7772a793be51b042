"""Normalized regret: put benchmarks with different scales onto [0, 1] before aggregating them."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["normalize_frame", "normalized_regret"]

logger = logging.getLogger(__name__)


def _check_mode(mode: str) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")


def normalized_regret(
    values: np.ndarray | float, best: float | np.ndarray, worst: float | np.ndarray, mode: str
) -> np.ndarray | float:
    """``(value - best) / (worst - best)`` clipped to [0, 1]: 0 at ``best``, 1 at ``worst``.

    For ``mode="min"`` best is the lowest value (``best <= worst``), for ``"max"`` the highest; the one formula
    covers both.  Where ``best == worst`` the regret is 0.  NaN values stay NaN.  Arrays broadcast.
    """
    _check_mode(mode)
    v = np.asarray(values, dtype=float)
    b = np.asarray(best, dtype=float)
    w = np.asarray(worst, dtype=float)
    wrong = (b > w) if mode == "min" else (b < w)
    if np.any(wrong):
        raise ValueError(f"best must be {'<=' if mode == 'min' else '>='} worst for mode {mode!r}")
    span = w - b
    flat = span == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        regret = np.where(flat, 0.0, (v - b) / np.where(flat, 1.0, span))
    regret = np.where(np.isnan(v), np.nan, np.clip(regret, 0.0, 1.0) + 0.0)  # + 0.0 turns -0.0 into 0.0
    return float(regret) if regret.ndim == 0 else regret


def normalize_frame(
    frame: pd.DataFrame,
    mode_by_benchmark: str | Mapping[str, str],
    *,
    value: str = "value",
    benchmark: str = "benchmark",
    out: str = "normalized",
) -> pd.DataFrame:
    """A copy of ``frame`` with column ``out`` = normalized regret of ``value`` per benchmark.

    Best and worst are taken per benchmark over every row of ``frame`` (all methods, seeds and times), ignoring NaN;
    so the result depends on which methods and time range ``frame`` holds.  ``mode_by_benchmark`` is "min"/"max" for
    all benchmarks or a mapping benchmark -> mode.  A benchmark whose values are all equal gets 0 everywhere and a
    logged warning; one without any non-NaN value stays NaN.
    """
    for column in (value, benchmark):
        if column not in frame.columns:
            raise ValueError(f"frame lacks column {column!r}")
    codes, names = pd.factorize(frame[benchmark])
    if (codes < 0).any():
        raise ValueError(f"column {benchmark!r} has missing values")
    if isinstance(mode_by_benchmark, str):
        _check_mode(mode_by_benchmark)
        modes = [mode_by_benchmark] * len(names)
    else:
        missing = [name for name in names if name not in mode_by_benchmark]
        if missing:
            raise ValueError(f"no mode given for benchmark(s) {missing}")
        modes = [mode_by_benchmark[name] for name in names]
        for mode in modes:
            _check_mode(mode)
    v = frame[value].to_numpy(dtype=float, na_value=np.nan)
    extremes = pd.Series(v).groupby(codes).agg(["min", "max"]).reindex(range(len(names)))
    lows = extremes["min"].to_numpy(dtype=float)
    highs = extremes["max"].to_numpy(dtype=float)
    for name, flat_low in zip(names[lows == highs], lows[lows == highs]):
        logger.warning("benchmark %r: all values equal (%g); normalized regret is 0 everywhere", name, flat_low)
    low = lows[codes]
    high = highs[codes]
    is_min = np.array([mode == "min" for mode in modes], dtype=bool)[codes]
    best = np.where(is_min, low, high)
    worst = np.where(is_min, high, low)
    # min mode: (v - low) / (high - low); max mode: (high - v) / (high - low); as normalized_regret row by row
    flat = high == low
    with np.errstate(divide="ignore", invalid="ignore"):
        regret = np.where(flat, 0.0, (v - best) / np.where(flat, 1.0, worst - best))
    result = frame.copy()
    result[out] = np.where(np.isnan(v), np.nan, np.clip(regret, 0.0, 1.0) + 0.0)  # + 0.0 turns -0.0 into 0.0
    return result

"""Best-so-far curves of loaded runs: one step function per run and per benchmark a common time grid."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from plotting.errors import LoadError
from plotting.indicators import IndicatorData
from plotting.normalize import normalize_frame
from plotting.report import LoadReport

SPACINGS = ("log", "linear")
_TIDY = ("benchmark", "method", "seed", "time", "value")


@dataclass(frozen=True)
class Steps:
    """The step function of one run (its best-so-far, or another indicator): the value changes to ``values[i]`` at
    ``times[i]``."""

    times: np.ndarray
    values: np.ndarray
    end: float

    def at(self, times: np.ndarray) -> np.ndarray:
        """Best-so-far at ``times`` (NaN before the first result; carried forward after the end)."""
        index = np.searchsorted(self.times, times, side="right") - 1
        out = np.full(len(times), np.nan)
        seen = index >= 0
        out[seen] = self.values[index[seen]]
        return out


@dataclass
class Curves:
    """Best-so-far curves of the loaded runs on a per-benchmark time grid.

    ``values[benchmark, method]`` has one row per seed of ``seeds[benchmark]`` (the union over the methods
    of that benchmark, so rows of different methods are aligned by seed; NaN rows are missing seeds) and one
    column per point of ``grids[benchmark]``. ``runs`` has one row per loaded run (the listing columns of
    ``experiments.store_format.LISTING_COLUMNS`` plus ``label``, ``first_time`` and ``num_improvements``).
    ``indicator`` says what the values are (``plotting.indicators``: the best-so-far by default) and holds what the
    indicator kept (reference points, per-run fronts and infeasible fractions).
    """

    benchmarks: list[str]
    methods: list[str]
    modes: dict[str, str]
    metrics: dict[str, str]
    budgets: dict[str, float]
    grids: dict[str, np.ndarray]
    seeds: dict[str, np.ndarray]
    values: dict[tuple[str, str], np.ndarray]
    steps: dict[tuple[str, str, int], Steps]
    runs: pd.DataFrame
    report: LoadReport
    spacing: str = "log"
    indicator: IndicatorData = field(default_factory=IndicatorData)

    def methods_on(self, benchmark: str) -> list[str]:
        """Methods with at least one run on ``benchmark`` (in ``methods`` order)."""
        return [method for method in self.methods if (benchmark, method) in self.values]

    def common_benchmarks(self, methods: Sequence[str] | None = None) -> list[str]:
        """Benchmarks on which every one of ``methods`` (default: all) has runs."""
        methods = list(self.methods if methods is None else methods)
        return [b for b in self.benchmarks if all((b, m) in self.values for m in methods)]

    def frame(self) -> pd.DataFrame:
        """Tidy frame: tag, benchmark, method, seed, time, value (rows of loaded runs only)."""
        tags = {(row.benchmark, row.label, row.seed): row.tag for row in self.runs.itertuples()}
        parts = []
        for (benchmark, method), matrix in self.values.items():
            seeds = self.seeds[benchmark]
            present = [i for i, seed in enumerate(seeds) if (benchmark, method, int(seed)) in self.steps]
            grid = self.grids[benchmark]
            parts.append(
                pd.DataFrame(
                    {
                        "tag": np.repeat([tags[benchmark, method, int(seeds[i])] for i in present], len(grid)),
                        "benchmark": benchmark,
                        "method": method,
                        "seed": np.repeat(seeds[present], len(grid)),
                        "time": np.tile(grid, len(present)),
                        "value": matrix[present].ravel(),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(columns=["tag", "benchmark", "method", "seed", "time", "value"])
        frame = pd.concat(parts, ignore_index=True)
        for column in ("tag", "benchmark", "method"):
            frame[column] = frame[column].astype("category")
        return frame

    def evaluate(self, benchmark: str, method: str, times: np.ndarray) -> np.ndarray:
        """Matrix seeds × ``times`` of ``method`` on ``benchmark`` (rows: ``seeds[benchmark]``, NaN if missing)."""
        times = np.asarray(times, dtype=float)
        seeds = self.seeds[benchmark]
        out = np.full((len(seeds), len(times)), np.nan)
        for i, seed in enumerate(seeds):
            steps = self.steps.get((benchmark, method, int(seed)))
            if steps is not None:
                out[i] = steps.at(times)
        return out

    def fraction_grid(self, points: int | None = None) -> np.ndarray:
        """A grid of fractions of the budget shared by all benchmarks (same spacing and points as the grids)."""
        points = points or max(len(grid) for grid in self.grids.values())
        first = min(grid[0] / self.budgets[b] for b, grid in self.grids.items())
        first = min(max(first, 1e-9), 1.0)
        return time_grid(first, 1.0, points, self.spacing)

    def fraction_frame(self, points: int | None = None) -> pd.DataFrame:
        """Tidy frame benchmark, method, seed, time, value with ``time`` = fraction of each benchmark's budget."""
        fractions = self.fraction_grid(points)
        parts = []
        for benchmark in self.benchmarks:
            seeds = self.seeds[benchmark]
            for method in self.methods_on(benchmark):
                present = np.array([(benchmark, method, int(seed)) in self.steps for seed in seeds])
                matrix = self.evaluate(benchmark, method, fractions * self.budgets[benchmark])[present]
                parts.append(
                    pd.DataFrame(
                        {
                            "benchmark": benchmark,
                            "method": method,
                            "seed": np.repeat(seeds[present], len(fractions)),
                            "time": np.tile(fractions, int(present.sum())),
                            "value": matrix.ravel(),
                        }
                    )
                )
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(_TIDY))

    def final(self) -> pd.DataFrame:
        """Best-so-far at the budget: benchmark, method, seed, value (one row per loaded run)."""
        rows = [
            (benchmark, method, seed, float(steps.values[-1]) if len(steps.values) else math.nan)
            for (benchmark, method, seed), steps in self.steps.items()
        ]
        frame = pd.DataFrame(rows, columns=["benchmark", "method", "seed", "value"])
        order = {m: i for i, m in enumerate(self.methods)}
        border = {b: i for i, b in enumerate(self.benchmarks)}
        key = frame["benchmark"].map(border) * (len(order) + 1) + frame["method"].map(order)
        return frame.assign(_key=key).sort_values(["_key", "seed"]).drop(columns="_key").reset_index(drop=True)

    def final_normalized(self) -> pd.DataFrame:
        """``final()`` plus ``normalized``: regret at the budget, 0 = best final value on that benchmark (any
        method, any seed), 1 = worst final value (``plotting.normalize.normalize_frame``)."""
        final = self.final()
        if final.empty:
            return final.assign(normalized=np.empty(0))
        return normalize_frame(final, self.modes)

    def scores(
        self,
        methods: Sequence[str] | None = None,
        benchmarks: Sequence[str] | None = None,
        *,
        column: str = "normalized",
        final: pd.DataFrame | None = None,
    ) -> dict[str, list[np.ndarray]]:
        """Per method, per benchmark the final ``column`` over ``seeds[benchmark]`` (aligned by seed; NaN = missing
        seed), as ``plotting.stats``/``plotting.paired`` take them. Default: all methods, the benchmarks on which
        all of them have runs, normalized regret."""
        methods = list(self.methods if methods is None else methods)
        benchmarks = list(self.common_benchmarks(methods) if benchmarks is None else benchmarks)
        if final is None:
            final = self.final_normalized() if column == "normalized" else self.final()
        lookup = dict(zip(zip(final["benchmark"], final["method"], final["seed"].astype(int)), final[column]))
        return {
            method: [
                np.array([lookup.get((benchmark, method, int(seed)), math.nan) for seed in self.seeds[benchmark]])
                for benchmark in benchmarks
            ]
            for method in methods
        }



def time_grid(start: float, budget: float, points: int, spacing: str) -> np.ndarray:
    """``points`` times from ``start`` to ``budget``, log- or linearly spaced (the last one is ``budget``)."""
    if spacing not in SPACINGS:
        raise LoadError(f"time grid spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    if points < 2:
        raise LoadError(f"a time grid needs at least 2 points, got {points}")
    if not budget > 0:
        return np.zeros(points)
    start = min(start, budget)
    if spacing == "log":
        start = start if start > 0 else budget * 1e-6
        grid = np.geomspace(start, budget, points)
    else:
        grid = np.linspace(max(start, 0.0), budget, points)
    grid[-1] = budget
    return grid

"""Constrained runs: the fraction of infeasible trials per method, as a table and a figure.

A trial is infeasible if its last result is (feasible iff the constraint metric <= the run's threshold; a NaN
value is not feasible). Per run the fraction is infeasible trials / trials with a result
(``Curves.indicator.infeasible``, kept by ``plotting.load`` with ``IndicatorOptions(feasibility=True)``); per
benchmark and method the table gives its mean over seeds with a percentile-bootstrap interval over the seeds
(``plotting.stats.stratified_bootstrap`` with one task, sub-seeded by benchmark and method). The table has the
columns of a final table (``plotting.tables.FINAL_COLUMNS``; mode min: the lowest fraction is marked best), so
``plotting.tables.write_table`` writes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from plotting.colors import MethodStyle, method_styles
from plotting.curves import Curves
from plotting.stats import derive_seed, stratified_bootstrap

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plotting.figures import Layout

#: the caption's name of the value (``plotting.tables``)
VALUE = "the fraction of infeasible trials (last result infeasible) per run"


def infeasible_table(
    curves: Curves,
    *,
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    digits: int = 4,
) -> pd.DataFrame:
    """Mean fraction of infeasible trials per benchmark (with a constraint) and method, with its interval."""
    from plotting.tables import FINAL_COLUMNS, _best_flags

    methods = list(curves.methods if methods is None else methods)
    data = curves.indicator
    rows = []
    for benchmark in curves.benchmarks:
        problem = data.problems.get(benchmark)
        if problem is None or problem.constraint is None:
            continue
        for method in methods:
            values = [
                data.infeasible.get((benchmark, method, int(s)), math.nan)
                for s in curves.seeds[benchmark]
                if (benchmark, method, int(s)) in curves.steps
            ]
            if not values:
                continue
            interval = stratified_bootstrap(
                [np.array(values)],
                "mean",
                reps=reps,
                confidence=confidence,
                seed=derive_seed(seed, "infeasible", benchmark, method),
            )
            rows.append(
                {
                    "benchmark": benchmark,
                    "method": method,
                    "metric": f"infeasible fraction ({problem.constraint} <= {problem.threshold:g})",
                    "mode": "min",
                    "statistic": "mean",
                    "point": interval.point,
                    "low": interval.low,
                    "high": interval.high,
                    "n_runs": interval.n_runs,
                    "n_expected": len(curves.seeds[benchmark]),
                    "note": interval.note,
                }
            )
    if not rows:
        raise ValueError("no loaded run has a constraint: there are no infeasible trials to count")
    frame = pd.DataFrame(rows, columns=[c for c in FINAL_COLUMNS if c != "best"])
    frame.insert(FINAL_COLUMNS.index("best"), "best", _best_flags(frame, digits))
    frame.attrs["value"] = VALUE
    return frame


def plot_infeasible(
    curves: Curves,
    table: pd.DataFrame,
    *,
    layout: Layout | None = None,
    styles: Mapping[str, MethodStyle] | None = None,
    confidence: float = 0.95,
) -> Figure:
    """One panel per benchmark: per method the mean fraction of infeasible trials (tick) and its interval (bar)."""
    from plotting import figures as fig

    layout = layout or fig.Layout()
    styles = styles or method_styles(curves.methods)
    benchmarks = list(dict.fromkeys(table["benchmark"]))
    methods = [m for m in curves.methods if (table["method"] == m).any()]
    columns = max(1, min(layout.columns, len(benchmarks)))
    rows = math.ceil(len(benchmarks) / columns)
    marked = False
    with fig._apply_rc(layout):
        panel_height = 0.55 + 0.26 * len(methods)
        figure = fig._figure(layout, layout.width, panel_height * rows + 0.5)
        axes = figure.subplots(rows, columns, squeeze=False, sharey=True)
        for index, benchmark in enumerate(benchmarks):
            ax = axes[index // columns][index % columns]
            chosen = table[table["benchmark"] == benchmark].set_index("method")
            for y, method in enumerate(methods):
                if method in chosen.index:
                    row = chosen.loc[method]
                    color = styles[method].color
                    marked |= fig._interval(ax, y, row["point"], row["low"], row["high"], color, (-0.02, 1.02))
            ax.set_xlim(-0.02, 1.02)
            ax.set_yticks(range(len(methods)), methods)
            ax.set_ylim(len(methods) - 0.5, -0.5)
            ax.grid(axis="y", visible=False)
            ax.set_title(fig._title(benchmark, 0.9 * layout.width / columns, layout.font_size))
        for index in range(len(benchmarks), rows * columns):
            axes[index // columns][index % columns].set_visible(False)
        label = (
            f"fraction of infeasible trials (last result infeasible), mean over seeds ({confidence:.0%} CI"
            f"{'; diamond: interval of (near) zero width' if marked else ''})"
        )
        figure.supxlabel(fig._title(label, layout.width, layout.font_size), fontsize=max(layout.font_size, 8.0))
    return figure

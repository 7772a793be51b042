"""Pareto-front figures: per benchmark one panel, each method's non-dominated set as a staircase in its colour.

A method's front pooled over seeds is the non-dominated set of the union of its runs' non-dominated sets
(``Curves.indicator.fronts``, kept by ``plotting.load`` with ``IndicatorOptions(fronts=True)``): a point dominated
within its run is dominated in the union, so nothing is lost. ``seed`` restricts it to one seed. The points are the
hypervolume's: every result of a run, or each trial's last one (``one_result_per_trial``). Axes carry the
objectives' names and modes in their own units. With 3 objectives a panel shows the front of the first two (the
third is named under the panel); a benchmark with a single objective has no panel. When the curves are
hypervolumes, the benchmark's reference point is marked (grey x).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from plotting.colors import MethodStyle, method_styles
from plotting.curves import Curves
from plotting.hypervolume import nondominated

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plotting.figures import Layout

#: (benchmark, method) -> the method's non-dominated points on the benchmark, (n, m) in the objectives' units
Fronts = dict[tuple[str, str], np.ndarray]


def pareto_fronts(curves: Curves, *, seed: int | None = None, methods: Sequence[str] | None = None) -> Fronts:
    """Each method's non-dominated set per benchmark (all objectives), pooled over seeds or of ``seed`` only;
    rows sorted by the first objective (best first). Benchmarks with one objective are left out."""
    data = curves.indicator
    methods = list(curves.methods if methods is None else methods)
    runs: dict[tuple[str, str], list[np.ndarray]] = {}
    for (benchmark, method, run_seed), front in data.fronts.items():
        if seed is None or run_seed == seed:
            runs.setdefault((benchmark, method), []).append(front)
    out: Fronts = {}
    for benchmark in curves.benchmarks:
        problem = data.problems.get(benchmark)
        if problem is None or len(problem.objectives) < 2:
            continue
        signs = problem.signs
        for method in methods:
            parts = runs.get((benchmark, method))
            if parts:
                out[benchmark, method] = nondominated(np.vstack(parts) * signs) * signs
    return out


def staircase(front: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """The vertices (k, 2) of the boundary of the region a 2-D front dominates, in the objectives' units: from each
    point (in the order of the first objective, best first) along the first axis to the next point's value, then
    along the second axis to the next point."""
    minimised = nondominated(np.asarray(front, dtype=float)[:, :2] * signs[:2])
    if len(minimised) == 0:
        return np.empty((0, 2))
    corners = np.column_stack([minimised[1:, 0], minimised[:-1, 1]])
    vertices = np.empty((2 * len(minimised) - 1, 2))
    vertices[0::2] = minimised
    vertices[1::2] = corners
    return vertices * signs[:2]


def plot_pareto(
    curves: Curves,
    fronts: Fronts | None = None,
    *,
    seed: int | None = None,
    layout: Layout | None = None,
    methods: Sequence[str] | None = None,
    styles: Mapping[str, MethodStyle] | None = None,
    xscale: str = "linear",
    yscale: str = "linear",
) -> Figure:
    """One panel per benchmark with a front: each method's staircase and points; legend below the panels.
    ``xscale``/``yscale``: "linear" or "log" axes for the first and second objective."""
    from plotting import figures as fig

    layout = layout or fig.Layout()
    methods = list(curves.methods if methods is None else methods)
    styles = styles or method_styles(curves.methods)
    fronts = pareto_fronts(curves, seed=seed, methods=methods) if fronts is None else fronts
    benchmarks = [b for b in curves.benchmarks if any((b, m) in fronts for m in methods)]
    if not benchmarks:
        of_seed = "" if seed is None else f" of seed {seed}"
        raise ValueError(f"no run{of_seed} has 2 or more objectives: there is no Pareto front to draw")
    columns = max(1, min(layout.columns, len(benchmarks)))
    rows = math.ceil(len(benchmarks) / columns)
    which = "pooled over seeds" if seed is None else f"seed {seed}"
    with fig._apply_rc(layout):
        figure = fig._figure(layout, layout.width, layout.row_height * 1.2 * rows + 0.6)
        axes = figure.subplots(rows, columns, squeeze=False)
        for index, benchmark in enumerate(benchmarks):
            ax = axes[index // columns][index % columns]
            _panel(ax, curves, fronts, benchmark, methods, styles, layout, columns)
            ax.set_xscale(xscale)
            ax.set_yscale(yscale)
        for index in range(len(benchmarks), rows * columns):
            axes[index // columns][index % columns].set_visible(False)
        shown = [m for m in methods if any((b, m) in fronts for b in benchmarks)]
        fig._legend(figure, styles, shown, layout)
        reference = " (x: hypervolume reference point)" if curves.indicator.references else ""
        figure.suptitle(f"non-dominated results per method, {which}{reference}", fontsize=max(layout.font_size, 8.0))
    return figure


def _panel(
    ax: object,
    curves: Curves,
    fronts: Fronts,
    benchmark: str,
    methods: Sequence[str],
    styles: Mapping[str, MethodStyle],
    layout: Layout,
    columns: int,
) -> None:
    from plotting import figures as fig

    problem = curves.indicator.problems[benchmark]
    signs = problem.signs
    for method in methods:
        front = fronts.get((benchmark, method))
        if front is None or len(front) == 0:
            continue
        style = styles[method]
        vertices = staircase(front, signs)
        ax.plot(vertices[:, 0], vertices[:, 1], color=style.color, linestyle=style.linestyle, linewidth=1.2)
        points = vertices[0::2]
        ax.plot(points[:, 0], points[:, 1], linestyle="", marker=style.marker, markersize=3, color=style.color)
    reference = curves.indicator.references.get(benchmark)
    if reference is not None:
        ax.plot([reference.values[0]], [reference.values[1]], marker="x", color="grey", linestyle="", markersize=5)
    title = benchmark
    if len(problem.objectives) > 2:
        title += f" (front of the first two; {', '.join(problem.objectives[2:])} not shown)"
    ax.set_title(fig._title(title, 0.9 * layout.width / columns, layout.font_size))
    ax.set_xlabel(f"{problem.objectives[0]} ({problem.modes[0]})")
    ax.set_ylabel(f"{problem.objectives[1]} ({problem.modes[1]})")

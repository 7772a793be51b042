"""Figures of stored experiment results (matplotlib, no pyplot state: figures render with the Agg backend).

- ``plot_curves``: best-so-far against simulated time, one panel per benchmark, methods overlaid; the line is
  the statistic (IQM, mean or median) over seeds per time point and the band its bootstrap confidence interval;
- ``plot_ranks``: average rank over time on a shared axis of budget fractions (``plotting.ranks``);
- ``plot_final``: rliable-style interval estimates of final normalized regret, aggregated over benchmarks
  (``plotting.stats.interval_table``), one panel per statistic;
- ``plot_improvement``: probability of improvement "A vs B" with its interval (``plotting.paired``);
- ``plot_timeline``: the trials of ONE run on its workers over simulated time, with what happened at the end of
  every segment (stopped, paused, completed, failed).

``save`` writes a figure as PDF and/or PNG. Fonts are at least 8 pt at the given figure width (7 in: a
two-column paper's full width), confidence intervals are shaded bands or bars, the legend sits below the panels.

Curve bands are computed for all time points at once (``bootstrap_curve``): the draws of each resample are taken
in *rank* space — the i-th smallest value at a time point is drawn as often as rank i was drawn — which has, at
every time point, exactly the distribution of drawing seeds with replacement (a percentile bootstrap over seeds,
as ``plotting.stats.stratified_bootstrap`` with a single task), but needs one small matrix product per curve
instead of a sort per resample and time point. Bands are pointwise intervals. The seeds drawn come from
``plotting.resample``, as in every bootstrap of the package.
"""

from __future__ import annotations

import logging
import math
import os
import re
import weakref
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter, NullLocator

from plotting.colors import MethodStyle, method_styles, trial_colors
from plotting.curves import Curves
from plotting.errors import output_errors
from plotting.labels import time_label
from plotting.resample import draw_counts
from plotting.stats import SINGLE_RUN_NOTE, derive_seed, interval_table

logger = logging.getLogger(__name__)

FORMATS = ("pdf", "png")
#: statistics of a curve over the seeds of one benchmark ("median": the median of the runs, one task)
CURVE_STATISTICS = ("iqm", "mean", "median")
STATISTIC_LABELS = {
    "iqm": "IQM",
    "mean": "mean",
    "median": "median",
    "pooled_median": "pooled median",
    "optimality_gap": "optimality gap",
}


@dataclass(frozen=True)
class Layout:
    """Size and fonts: ``columns`` panels per row, ``width`` inches in all, ``row_height`` inches per row."""

    columns: int = 3
    width: float = 7.0
    row_height: float = 2.0
    font_size: float = 8.0
    dpi: int = 200

    def rc(self) -> dict[str, Any]:
        size = max(self.font_size, 8.0)
        return {
            "font.size": size,
            "axes.titlesize": size,
            "axes.labelsize": size,
            "xtick.labelsize": size,
            "ytick.labelsize": size,
            "legend.fontsize": size,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "grid.linewidth": 0.5,
            "lines.linewidth": 1.3,
            "pdf.fonttype": 42,  # TrueType in PDF: editable text, accepted by publishers
            "savefig.dpi": self.dpi,
        }


# Bootstrap bands over seeds, vectorised over time points ------------------------------------------
@dataclass(frozen=True)
class CurveBand:
    """Per time point: the statistic over seeds, its ``confidence`` interval (NaN with fewer than 2 seeds) and
    seeds counted."""

    point: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray
    confidence: float


def _weights(counts: np.ndarray, cumulative: np.ndarray, valid: int, statistic: str) -> np.ndarray:
    """Weights (resamples × ``valid``) over the ``valid`` smallest values of a time point.

    ``counts[r, i]``: how often resample r drew rank i (ranks sorted by value, NaN last); ``cumulative`` is its
    cumulative sum over ranks. Rank i then fills the sorted positions ``[cumulative - counts, cumulative)`` of
    the resample; the statistic keeps positions ``[k, used - k)`` (IQM), all (mean) or the middle one or two
    (median), where ``used`` counts the draws of non-NaN ranks. A resample without such a draw gives NaN.
    """
    upper_edge = cumulative[:, :valid]
    lower_edge = upper_edge - counts[:, :valid]
    used = cumulative[:, valid - 1 : valid]
    if statistic == "iqm":
        k = np.floor(0.25 * used)
        low, high = k, used - k
        weight = np.minimum(upper_edge, high) - np.maximum(lower_edge, low)
        np.maximum(weight, 0.0, out=weight)
        weight /= np.maximum(high - low, 1.0)
    elif statistic == "mean":
        weight = counts[:, :valid] / np.maximum(used, 1.0)
    elif statistic == "median":
        lower = np.floor((used - 1) / 2)
        upper = np.floor(used / 2)
        weight = 0.5 * ((lower_edge <= lower) & (lower < upper_edge)) + 0.5 * (
            (lower_edge <= upper) & (upper < upper_edge)
        )
    else:
        raise ValueError(f"unknown statistic {statistic!r}; expected one of {', '.join(CURVE_STATISTICS)}")
    weight[used[:, 0] == 0] = np.nan
    return weight


def bootstrap_curve(
    values: np.ndarray,
    statistic: str = "iqm",
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> CurveBand:
    """``statistic`` over seeds per time point with a percentile-bootstrap band (``values``: seeds × times).

    NaN values (before a run's first result) are left out at that time point; rows that are all NaN (missing
    seeds) are dropped. The point estimate equals ``plotting.stats.aggregate`` (IQM as
    ``scipy.stats.trim_mean(x, 0.25)``; "median" is the median over seeds, ``aggregate``'s "pooled_median" of one
    task) on the non-NaN values of each time point; the band is the percentile
    interval (linear interpolation) of ``reps`` resamples of the seeds. With fewer than 2 seeds the band is NaN.
    """
    if statistic not in CURVE_STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; expected one of {', '.join(CURVE_STATISTICS)}")
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must have shape (seeds, times), got {values.shape}")
    values = values[~np.all(np.isnan(values), axis=1)]
    n, times = values.shape
    counted = (~np.isnan(values)).sum(axis=0)
    point = np.full(times, np.nan)
    low = np.full(times, np.nan)
    high = np.full(times, np.nan)
    if n == 0:
        return CurveBand(point, low, high, counted, confidence)
    ordered = np.nan_to_num(np.sort(values, axis=0), nan=0.0)  # NaN sorts last; their weight is 0
    ones = np.ones((1, n))
    identity = (ones, np.cumsum(ones, axis=1))
    resampled = None
    if n >= 2:
        counts = draw_counts(np.random.default_rng(seed), n, reps)
        resampled = (counts, np.cumsum(counts, axis=1))
        samples = np.full((times, reps), np.nan)
    for valid in np.unique(counted):
        if valid == 0:
            continue
        columns = np.flatnonzero(counted == valid)
        block = ordered[:valid, columns]
        point[columns] = (_weights(*identity, int(valid), statistic) @ block)[0]
        if resampled is not None and valid >= 2:
            samples[columns] = (_weights(*resampled, int(valid), statistic) @ block).T
    if resampled is not None:
        alpha = 100.0 * (1.0 - confidence) / 2.0
        ok = counted >= 2
        has_nan = np.isnan(samples).any(axis=1)
        for rows, percentile in ((ok & ~has_nan, np.percentile), (ok & has_nan, np.nanpercentile)):
            if rows.any():
                low[rows], high[rows] = percentile(samples[rows], [alpha, 100.0 - alpha], axis=1)
    return CurveBand(point, low, high, counted, confidence)


# Helpers -----------------------------------------------------------------------------------------
def save(figure: Figure, stem: Path | str, formats: Sequence[str] = FORMATS) -> list[Path]:
    """Write ``figure`` to ``stem.<format>`` for each format (pdf, png); returns the paths."""
    stem = Path(stem)
    paths = []
    for fmt in formats:
        if fmt not in FORMATS:
            raise ValueError(f"unknown figure format {fmt!r}; known: {', '.join(FORMATS)}")
        path = stem.with_name(f"{stem.name}.{fmt}")
        with output_errors(path), matplotlib.rc_context(_STYLE.get(figure, {})):
            stem.parent.mkdir(parents=True, exist_ok=True)
            figure.savefig(path, format=fmt, bbox_inches="tight", metadata=_metadata(fmt))
        paths.append(path)
    return paths


def _metadata(fmt: str) -> dict[str, Any]:
    # no creation date: the same data gives the same PDF bytes
    return {"CreationDate": None} if fmt == "pdf" else {}


#: the style each figure was made with, applied again when it is saved (tick labels are made while drawing)
_STYLE: weakref.WeakKeyDictionary[Figure, dict[str, Any]] = weakref.WeakKeyDictionary()


def _figure(layout: Layout, width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained", dpi=layout.dpi)
    _STYLE[figure] = layout.rc()
    return figure


def _legend(figure: Figure, styles: Mapping[str, MethodStyle], methods: Sequence[str], layout: Layout) -> None:
    """The methods' legend below the panels, in as many columns as fit the figure width."""
    handles = [Line2D([], [], color=styles[m].color, linestyle=styles[m].linestyle, linewidth=1.5) for m in methods]
    size = max(layout.font_size, 8.0)
    # a column: handle (2 em) + gap + label, at ~0.6 em per character
    column = max((len(m) for m in methods), default=1) * 0.6 * size / 72 + 3.2 * size / 72
    per_row = max(1, min(len(methods), int(layout.width / column)))
    figure.legend(
        handles, methods, loc="outside lower center", ncol=per_row, frameon=False, handlelength=2.0, columnspacing=1.2
    )


def _title(text: str, width: float, font_size: float) -> str:
    """``text`` broken at '-', '_' or ' ' into lines that fit ``width`` inches at ``font_size`` points."""
    limit = max(8, int(width * 72 / (0.58 * max(font_size, 8.0))))
    if len(text) <= limit:
        return text
    lines = [""]
    for piece in re.findall(r"[^-_ ]+[-_ ]?", text):
        if lines[-1] and len(lines[-1]) + len(piece) > limit:
            lines.append("")
        lines[-1] += piece
    return "\n".join(line.rstrip(" ") for line in lines)


def _apply_rc(layout: Layout) -> Any:
    return matplotlib.rc_context(layout.rc())


# (a) Best-so-far curves --------------------------------------------------------------------------
def plot_curves(
    curves: Curves,
    *,
    statistic: str = "iqm",
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    layout: Layout | None = None,
    methods: Sequence[str] | None = None,
    styles: Mapping[str, MethodStyle] | None = None,
    yscale: str = "linear",
    ylim_from: float = 0.1,
    bands: dict[tuple[str, str], CurveBand] | None = None,
) -> Figure:
    """Best-so-far vs simulated time per benchmark (``statistic`` over seeds with a bootstrap CI band).

    ``bands`` (from ``curve_bands``) skips the computation; the y label names the level the bands were computed at.
    With ``yscale="log"`` the y ticks are labelled where the curves end (see ``_log_ticks``). The y range covers the
    curves and bands from the grid point at fraction ``ylim_from`` of the grid on (0: all of it); earlier, larger
    values are clipped so that the part where methods differ is visible.
    """
    layout = layout or Layout()
    methods = list(curves.methods if methods is None else methods)
    styles = styles or method_styles(curves.methods)
    if bands is None:
        bands = curve_bands(curves, statistic=statistic, confidence=confidence, reps=reps, seed=seed, methods=methods)
    levels = sorted({band.confidence for band in bands.values()}) or [confidence]
    interval_label = "/".join(f"{level:.0%}" for level in levels) + " CI"
    benchmarks = curves.benchmarks
    columns = max(1, min(layout.columns, len(benchmarks)))
    rows = math.ceil(len(benchmarks) / columns)
    with _apply_rc(layout):
        figure = _figure(layout, layout.width, layout.row_height * rows + 0.5)
        axes = figure.subplots(rows, columns, squeeze=False)
        for index, benchmark in enumerate(benchmarks):
            ax = axes[index // columns][index % columns]
            grid = curves.grids[benchmark]
            visible = []
            for method in methods:
                band = bands.get((benchmark, method))
                if band is None:
                    continue
                style = styles[method]
                ax.plot(
                    grid, band.point, color=style.color, linestyle=style.linestyle, label=method, drawstyle="steps-post"
                )
                if np.isfinite(band.low).any():
                    ax.fill_between(grid, band.low, band.high, color=style.color, alpha=0.18, linewidth=0, step="post")
                start = min(int(ylim_from * len(grid)), len(grid) - 1)
                visible += [band.point[start:], band.low[start:], band.high[start:]]
            if curves.spacing == "log":
                ax.set_xscale("log")
            ax.set_yscale(yscale)
            _set_ylim(ax, visible, yscale)
            ax.set_title(_title(benchmark, 0.9 * layout.width / columns, layout.font_size))
            if index % columns == 0 or len({curves.metrics[b] for b in benchmarks}) > 1:  # each its own metric
                label = STATISTIC_LABELS.get(statistic, statistic)
                ax.set_ylabel(f"{curves.metrics[benchmark]} ({label}, {interval_label})")
            if index // columns == rows - 1 or index + columns >= len(benchmarks):
                ax.set_xlabel(time_label(curves.runs, benchmark))
        for index in range(len(benchmarks), rows * columns):
            axes[index // columns][index % columns].set_visible(False)
        _legend(figure, styles, [m for m in methods if any((b, m) in bands for b in benchmarks)], layout)
    return figure


def curve_bands(
    curves: Curves,
    *,
    statistic: str = "iqm",
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    threads: int | None = None,
) -> dict[tuple[str, str], CurveBand]:
    """``bootstrap_curve`` of every (benchmark, method); each sub-seeded by ``derive_seed(seed, benchmark, method)``.

    Curves are computed in ``threads`` threads (default: one per CPU; numpy releases the GIL in the heavy parts).
    """
    keys = [
        (benchmark, method)
        for benchmark in curves.benchmarks
        for method in (curves.methods if methods is None else methods)
        if (benchmark, method) in curves.values
    ]

    def one(key: tuple[str, str]) -> CurveBand:
        return bootstrap_curve(
            curves.values[key], statistic, reps=reps, confidence=confidence, seed=derive_seed(seed, *key)
        )

    workers = threads or os.cpu_count() or 1
    if workers > 1 and len(keys) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            bands = list(pool.map(one, keys))
    else:
        bands = [one(key) for key in keys]
    out = dict(zip(keys, bands))
    for (benchmark, method), band in out.items():
        if int(np.max(band.n, initial=0)) < 2:
            logger.warning("%s on %s: %s", method, benchmark, SINGLE_RUN_NOTE)
    return out


def _set_ylim(ax: Any, arrays: Sequence[np.ndarray], yscale: str) -> None:
    finite = np.concatenate([a[np.isfinite(a)] for a in arrays]) if arrays else np.empty(0)
    if yscale == "log":
        finite = finite[finite > 0]
    if finite.size == 0:
        return
    low, high = float(finite.min()), float(finite.max())
    if yscale == "log":
        ax.set_ylim(low / 1.1, high * 1.1)
        _log_ticks(ax, low / 1.1, high * 1.1)
    else:
        pad = 0.05 * (high - low) or 0.05 * abs(high) or 0.05
        ax.set_ylim(low - pad, high + pad)


def _plain_number(value: float, _position: Any = None) -> str:
    return f"{value:.3g}"


def _log_ticks(ax: Any, low: float, high: float) -> None:
    """Labelled y ticks on a log axis from ``low`` to ``high`` (> 0), also near the curves' final values.

    Within a decade matplotlib labels at most a tick or two (often none near the end of the curves): use 6 values
    evenly spaced on the log axis from bottom to top, rounded to 2 significant digits. Over a wider range: 1, 2 and
    5 times each power of ten, labelled; the other multiples are unlabelled minor ticks.
    """
    if high / low < 10:
        spaced = np.geomspace(low * 1.03, high / 1.03, 6)
        # 2 significant digits, 3 where rounding would push an end tick off the axis
        ticks = sorted({float(f"{v:.2g}") if low <= float(f"{v:.2g}") <= high else float(f"{v:.3g}") for v in spaced})
        ax.yaxis.set_major_locator(NullLocator())
        ax.set_yticks([t for t in ticks if low <= t <= high])
        ax.yaxis.set_minor_locator(NullLocator())
    else:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(3.0, 4.0, 6.0, 7.0, 8.0, 9.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(_plain_number))
    ax.yaxis.set_minor_formatter(NullFormatter())


# (b) Average ranks -------------------------------------------------------------------------------
def plot_ranks(
    curves: Curves,
    *,
    layout: Layout | None = None,
    methods: Sequence[str] | None = None,
    styles: Mapping[str, MethodStyle] | None = None,
    ranks: pd.DataFrame | None = None,
) -> Figure:
    """Average rank (1 = best) of each method over benchmarks and seeds against the fraction of the budget.

    Ranks come from ``plotting.ranks.average_ranks`` on the best-so-far of every benchmark at the same fractions
    of its budget; ranking per benchmark with its mode gives the same ranks as ranking normalized regret.
    """
    layout = layout or Layout()
    methods = list(curves.methods if methods is None else methods)
    styles = styles or method_styles(curves.methods)
    if ranks is None:
        ranks = rank_frame(curves, methods)
    with _apply_rc(layout):
        figure = _figure(layout, layout.width, max(layout.row_height * 1.2, 2.2) + 0.4)
        ax = figure.subplots()
        for method in methods:
            rows = ranks[ranks["method"] == method]
            if rows.empty:
                continue
            style = styles[method]
            ax.plot(
                rows["time"],
                rows["mean_rank"],
                color=style.color,
                linestyle=style.linestyle,
                label=method,
                drawstyle="steps-post",
            )
        if curves.spacing == "log":
            ax.set_xscale("log")
        ax.set_xlabel("fraction of the time budget (simulated)")
        ax.set_ylabel("average rank (1 = best)")
        ax.set_ylim(0.9, len(methods) + 0.1)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        n_benchmarks = len(curves.benchmarks)
        ax.set_title(f"average rank over {n_benchmarks} benchmark{'s' * (n_benchmarks != 1)} and seeds")
        _legend(figure, styles, [m for m in methods if (ranks["method"] == m).any()], layout)
    return figure


def rank_frame(curves: Curves, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """``average_ranks`` (time = fraction of the budget, method, mean_rank, n, n_missing) of ``methods``."""
    from plotting.ranks import average_ranks

    frame = curves.fraction_frame()
    if methods is not None:
        frame = frame[frame["method"].isin(list(methods))]
    return average_ranks(frame, curves.modes)


# (c) Final performance intervals -----------------------------------------------------------------
def final_intervals(
    curves: Curves,
    *,
    statistics: Sequence[str] = ("median", "iqm", "mean"),
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """``interval_table`` of final normalized regret per statistic, over the benchmarks every method has."""
    methods = list(curves.methods if methods is None else methods)
    benchmarks = curves.common_benchmarks(methods)
    dropped = [b for b in curves.benchmarks if b not in benchmarks]
    if dropped:
        logger.warning("aggregates leave out benchmarks without runs of every method: %s", ", ".join(dropped))
    scores = curves.scores(methods, benchmarks)
    tables = [interval_table(scores, s, reps=reps, confidence=confidence, seed=seed) for s in statistics]
    table = pd.concat(tables, ignore_index=True)
    for row in table[table["note"].str.contains(SINGLE_RUN_NOTE, regex=False)].itertuples():
        logger.warning("%s (%s): %s", row.method, row.statistic, row.note)
    table.attrs["benchmarks"] = benchmarks
    return table


def plot_final(
    curves: Curves,
    *,
    statistics: Sequence[str] = ("median", "iqm", "mean"),
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    layout: Layout | None = None,
    methods: Sequence[str] | None = None,
    styles: Mapping[str, MethodStyle] | None = None,
    table: pd.DataFrame | None = None,
) -> Figure:
    """rliable-style horizontal interval bars of final normalized regret per method, one panel per statistic.

    All panels share one x range (the same numbers line up from panel to panel). An interval of zero width is
    drawn as a diamond in the method's colour (not a bar too thin to see); a point without an interval (single
    run) as a hollow diamond.
    """
    layout = layout or Layout()
    methods = list(curves.methods if methods is None else methods)
    styles = styles or method_styles(curves.methods)
    if table is None:
        table = final_intervals(
            curves, statistics=statistics, confidence=confidence, reps=reps, seed=seed, methods=methods
        )
    statistics = list(dict.fromkeys(table["statistic"]))
    n_benchmarks = len(table.attrs.get("benchmarks", curves.benchmarks))
    per_row = len(statistics) if layout.width / max(len(statistics), 1) >= 1.8 else 1
    n_rows = math.ceil(len(statistics) / per_row)
    xlim = _shared_range(table[["point", "low", "high"]].to_numpy(dtype=float))
    marked = False
    with _apply_rc(layout):
        panel_height = 0.45 + 0.26 * len(methods)
        figure = _figure(layout, layout.width, panel_height * n_rows + 0.5)
        axes = figure.subplots(n_rows, per_row, sharey=True, squeeze=False).ravel()
        for ax in axes[len(statistics) :]:
            ax.set_visible(False)
        for ax, statistic in zip(axes, statistics):
            rows = table[table["statistic"] == statistic].set_index("method")
            for y, method in enumerate(methods):
                if method not in rows.index:
                    continue
                row = rows.loc[method]
                marked |= _interval(ax, y, row["point"], row["low"], row["high"], styles[method].color, xlim)
            ax.set_title(STATISTIC_LABELS.get(statistic, statistic))
            ax.set_xlim(*xlim)
            ax.set_yticks(range(len(methods)), methods)
            ax.set_ylim(len(methods) - 0.5, -0.5)
            ax.grid(axis="y", visible=False)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4 if per_row == 1 else 3))
        label = (
            f"final normalized regret over {n_benchmarks} benchmark{'s' * (n_benchmarks != 1)} "
            f"(0 = best, 1 = worst final value per benchmark; {confidence:.0%} CI"
            f"{'; diamond: interval of (near) zero width' if marked else ''})"
        )
        figure.supxlabel(_title(label, layout.width, layout.font_size), fontsize=max(layout.font_size, 8.0))
    return figure


def _shared_range(values: np.ndarray) -> tuple[float, float]:
    """One x range for every panel: the finite values padded by 5% (0..1 if there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return -0.05, 1.05
    low, high = float(finite.min()), float(finite.max())
    pad = 0.05 * (high - low) or 0.05 * max(abs(high), 1.0)
    return low - pad, high + pad


def _interval(ax: Any, y: float, point: float, low: float, high: float, color: Any, xlim: tuple[float, float]) -> bool:
    """A horizontal interval bar and the point estimate as a black tick (rliable style).

    An interval narrower than 1% of the x range ``xlim`` would look like a missing bar: it is drawn as a diamond
    in ``color`` behind the tick (hollow when there is no interval at all). Returns whether a diamond was drawn.
    """
    has_interval = bool(np.isfinite(low) and np.isfinite(high))
    narrow = has_interval and (high - low) < 0.01 * (xlim[1] - xlim[0])
    if has_interval and not narrow:
        bar = ax.barh(y, high - low, left=low, height=0.6, color=color, alpha=0.75)
        for patch in bar:
            patch.sticky_edges.x[:] = []
    if not np.isfinite(point):
        return False
    if not has_interval or narrow:
        face = color if has_interval else "white"
        ax.plot([point], [y], marker="D", markersize=6, markerfacecolor=face, markeredgecolor=color, zorder=2)
    ax.plot([point, point], [y - 0.34, y + 0.34], color="black", linewidth=1.6, solid_capstyle="butt", zorder=3)
    return narrow


# (d) Probability of improvement -----------------------------------------------------------------
def improvement_pairs(
    curves: Curves,
    *,
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    methods: Sequence[str] | None = None,
    reference: str | None = None,
    pairwise: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """P(A better than B) on final normalized regret with its interval, per pair A before B in the method order
    (or ``reference`` against every other method). Columns method_a, method_b, poi, low, high, note.

    Each pair is sub-seeded with ``derive_seed(seed, *sorted(pair))``, as ``plotting.paired.pairwise_matrix``,
    whose output (``pairwise``, e.g. from ``plotting.tables.pairwise_table``) is reused when given.
    """
    from plotting.paired import poi_interval

    methods = list(curves.methods if methods is None else methods)
    if reference is not None:
        pairs = [(reference, other) for other in methods if other != reference]
    else:
        pairs = [(a, b) for i, a in enumerate(methods) for b in methods[i + 1 :]]
    columns = ["method_a", "method_b", "poi", "low", "high", "note"]
    if pairwise is not None:  # the rows of pairwise_matrix (same sub-seeds, so the same numbers)
        indexed = pairwise.set_index(["method_a", "method_b"])
        if all(pair in indexed.index for pair in pairs):
            return indexed.loc[pairs].reset_index()[columns]
    benchmarks = curves.common_benchmarks(methods)
    scores = curves.scores(methods, benchmarks)
    rows = []
    for a, b in pairs:
        first, second = sorted((a, b))
        interval = poi_interval(
            scores[first],
            scores[second],
            "min",
            reps=reps,
            confidence=confidence,
            seed=derive_seed(seed, first, second),
        )
        point, low, high = interval.point, interval.low, interval.high
        if first != a:  # P(a > b) = 1 - P(b > a); the interval mirrors
            point, low, high = 1.0 - point, 1.0 - high, 1.0 - low
        rows.append({"method_a": a, "method_b": b, "poi": point, "low": low, "high": high, "note": interval.note})
    return pd.DataFrame(rows, columns=columns)


def plot_improvement(
    curves: Curves,
    *,
    confidence: float = 0.95,
    reps: int = 2000,
    seed: int = 0,
    layout: Layout | None = None,
    methods: Sequence[str] | None = None,
    reference: str | None = None,
    styles: Mapping[str, MethodStyle] | None = None,
    pairs: pd.DataFrame | None = None,
) -> Figure:
    """One horizontal interval per pair "A vs B": probability that A's final regret is lower than B's."""
    layout = layout or Layout()
    styles = styles or method_styles(curves.methods)
    if pairs is None:
        pairs = improvement_pairs(
            curves, confidence=confidence, reps=reps, seed=seed, methods=methods, reference=reference
        )
    labels = [f"{a} vs {b}" for a, b in zip(pairs["method_a"], pairs["method_b"])]
    with _apply_rc(layout):
        figure = _figure(layout, min(layout.width, 4.5), 0.8 + 0.24 * max(len(labels), 1))
        ax = figure.subplots()
        marked = False
        for y, row in enumerate(pairs.itertuples()):
            color = styles[row.method_a].color if row.method_a in styles else "C0"
            marked |= _interval(ax, y, row.poi, row.low, row.high, color, (-0.02, 1.02))
        ax.axvline(0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlim(-0.02, 1.02)
        ax.grid(axis="y", visible=False)
        note = "; diamond: zero width" if marked else ""
        ax.set_xlabel(f"P(A better than B) on final normalized regret ({confidence:.0%} CI{note})")
    return figure


# (e) Worker timeline of one run ------------------------------------------------------------------
#: marker, colour and label of what the method decided at the end of a segment
OUTCOME_MARKERS = {
    "stop": ("x", "#D55E00", "stopped"),
    "pause": ("|", "#0072B2", "paused"),
    "complete": ("o", "#000000", "completed"),
    "failed": ("X", "#CC0000", "failed"),
}
TIMELINE_COLUMNS = ("trial_id", "time", "worker", "decision", "runtime", "elapsed_time", "epoch")


def timeline_segments(results: pd.DataFrame) -> pd.DataFrame:
    """Trial segments of a run's ``results.parquet``: worker, trial_id, start, end, outcome, epochs.

    A segment is a stretch of consecutive epochs of one trial on one worker; it ends at a result with a
    decision (continue, pause, stop, complete, failed) or when the run ends ("" = cut by the end of the run).
    Epoch start = end - epoch runtime (column ``runtime``, else differences of ``elapsed_time``, else the end
    of the worker's previous result).
    """
    frame = results.reset_index(drop=True)
    columns = ["worker", "trial_id", "start", "end", "outcome", "epochs"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    worker = frame["worker"].to_numpy()
    time = frame["time"].to_numpy(dtype=float)
    trial = frame["trial_id"].to_numpy()
    if "decision" in frame:
        decision = frame["decision"].astype(str).to_numpy()
        decision = np.where(frame["decision"].isna().to_numpy(), "", decision)
    else:
        decision = np.full(len(frame), "", dtype=object)
    if "runtime" in frame:
        duration = np.nan_to_num(frame["runtime"].to_numpy(dtype=float), nan=0.0)
    elif "elapsed_time" in frame:
        previous = frame.groupby("trial_id", sort=False)["elapsed_time"].shift(1).fillna(0.0)
        duration = np.nan_to_num(frame["elapsed_time"].to_numpy(dtype=float) - previous.to_numpy(dtype=float), nan=0.0)
    else:
        duration = None
    order = np.lexsort((time, worker))
    worker, time, trial, decision = worker[order], time[order], trial[order], decision[order]
    # a segment starts at a worker's first result, at another trial, or after a result with a decision
    new = np.ones(len(order), dtype=bool)
    new[1:] = (worker[1:] != worker[:-1]) | (trial[1:] != trial[:-1]) | (decision[:-1] != "")
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, len(order) - 1)
    if duration is not None:
        start = time[first] - duration[order][first]
    else:  # the end of the worker's previous result (0 for its first)
        previous_end = np.concatenate([[0.0], time[:-1]])
        start = np.where(np.concatenate([[True], worker[1:] != worker[:-1]])[first], 0.0, previous_end[first])
    return pd.DataFrame(
        {
            "worker": worker[first],
            "trial_id": trial[first],
            "start": np.maximum(start, 0.0),
            "end": time[last],
            "outcome": decision[last],
            "epochs": last - first + 1,
        },
        columns=columns,
    )


def _merged_bars(segments: pd.DataFrame) -> pd.DataFrame:
    """Bars of a timeline: consecutive segments of one trial on one worker joined where the method let it continue.

    (A "continue" at a rung is not a visible event; one bar per stretch of a trial keeps the bars from breaking into
    slivers.) Columns worker, trial_id, start, end.
    """
    worker = segments["worker"].to_numpy()
    trial = segments["trial_id"].to_numpy()
    start = segments["start"].to_numpy(dtype=float)
    end = segments["end"].to_numpy(dtype=float)
    outcome = segments["outcome"].to_numpy()
    joined = np.zeros(len(segments), dtype=bool)
    joined[1:] = (
        (worker[1:] == worker[:-1])
        & (trial[1:] == trial[:-1])
        & (outcome[:-1] == "continue")
        & (start[1:] <= end[:-1] + 1e-9 * np.maximum(1.0, np.abs(end[:-1])))
    )
    first = np.flatnonzero(~joined)
    last = np.append(first[1:] - 1, len(segments) - 1)
    return pd.DataFrame({"worker": worker[first], "trial_id": trial[first], "start": start[first], "end": end[last]})


def _boxes(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Corners (n, 4, 2) of axis-aligned boxes for a ``PolyCollection``."""
    return np.stack([np.stack([x0, y0], 1), np.stack([x1, y0], 1), np.stack([x1, y1], 1), np.stack([x0, y1], 1)], 1)


def plot_timeline(
    results: pd.DataFrame,
    *,
    title: str = "",
    layout: Layout | None = None,
    xlabel: str = "simulated time (s)",
) -> Figure:
    """Trials on workers over simulated time (``xlabel``: a real run's says so): one bar per stretch of a trial on
    a worker (coloured by trial, no edges) and, in a lane under each worker's bars, a thin tick where the method
    stopped, paused or completed a trial or the trial failed (legible at 8 workers and thousands of events: dense
    stretches read as density)."""
    layout = layout or Layout()
    segments = timeline_segments(results)
    workers = sorted(segments["worker"].unique()) if len(segments) else [0]
    trials = sorted(segments["trial_id"].unique()) if len(segments) else []
    palette = trial_colors(len(trials))
    color_of = {trial: palette[i] for i, trial in enumerate(trials)}
    with _apply_rc(layout):
        figure = _figure(layout, layout.width, 0.9 + 0.32 * len(workers))
        ax = figure.subplots()
        if len(segments):
            bars = _merged_bars(segments)
            y = bars["worker"].to_numpy(dtype=float)
            corners = _boxes(bars["start"].to_numpy(dtype=float), bars["end"].to_numpy(dtype=float), y - 0.4, y + 0.1)
            colors = [color_of[t] for t in bars["trial_id"]]
            ax.add_collection(PolyCollection(corners, facecolors=colors, edgecolors="none", linewidths=0.0))
            end = float(segments["end"].max())
            ax.set_xlim(0.0, end * 1.01 if end > 0 else 1.0)
        handles = []
        for outcome, (_, color, label) in OUTCOME_MARKERS.items():
            chosen = segments[segments["outcome"] == outcome]
            if chosen.empty:
                continue
            x = chosen["end"].to_numpy(dtype=float)
            y = chosen["worker"].to_numpy(dtype=float)
            stop = outcome == "stop"  # the many stops: short thin ticks; the rarer events stand out over them
            top, width = (0.2, 0.5) if stop else (0.12, 1.2)
            ax.vlines(x, y + top, y + 0.42, color=color, linewidth=width, zorder=2 if stop else 3)
            text = f"{label} ({len(chosen)})"
            handles.append(Line2D([], [], marker="|", markeredgewidth=width + 0.5, color=color, ls="", label=text))
        ax.set_yticks(workers, [str(w) for w in workers])
        ax.set_ylim(max(workers) + 0.6, min(workers) - 0.6)
        ax.set_ylabel("worker")
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        ax.set_title(title or f"{len(trials)} trials, {len(segments)} segments")
        if handles:
            figure.legend(handles=handles, loc="outside lower center", ncol=len(handles), frameon=False)
    return figure

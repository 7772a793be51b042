"""Learning curves of ONE run: every trial's metric over epochs, coloured by how the trial ended.

``learning_curve_data`` computes what is drawn (no matplotlib): per trial its points (epoch, simulated time,
metric), its outcome (``status`` in trials.parquet: completed = ran to max_t, stopped by the method, paused or
still running when the run ended, failed; a trial that never produced a result is not drawn) and a colour: one
hue per outcome (Okabe–Ito), in four shades that alternate from trial to trial so that neighbouring curves can be
told apart. Markers as in Syne Tune's learning-curve plots: a circle where a trial passed a rung level (the epoch
is one of the run's ``rung_levels`` and the method decided there), a diamond at the last result of each trial.
Runs stored before ``rung_levels`` were recorded in metadata.json get no circles (the legend says so). The trial
holding the run's best value (min or max, the run's mode) is drawn on top in black.

``plot_learning_curves`` draws the data with one ``LineCollection`` for all curves and one scatter per marker
kind, so runs with thousands of trials draw in well under a second; ``time_panel=True`` adds a second panel
with the same curves over simulated time. ``load_learning_curves(path)`` reads a stored run and computes its
curves (``run_learning_curves`` does the same for a run already read with ``plotting.run_data``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from plotting import run_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plotting.figures import Layout

#: outcome -> (base colour, legend label); drawn in this order (later on top)
OUTCOMES: dict[str, tuple[str, str]] = {
    "stopped": ("#E69F00", "stopped by the method"),
    "paused": ("#009E73", "paused at the end of the run"),
    "running": ("#CC79A7", "running at the end of the run"),
    "failed": ("#000000", "failed"),
    "completed": ("#0072B2", "completed"),
}
#: the last decision of a trial -> outcome, for trials tables without a ``status`` column
_DECISION_OUTCOMES = {"complete": "completed", "stop": "stopped", "pause": "paused", "failed": "failed"}
#: mixing factors of the shades of an outcome's hue (>0: towards white, <0: towards black), trial after trial
SHADES = (0.0, 0.45, -0.35, 0.25)
BEST_COLOR = "#000000"
AXES = ("epoch", "time")


@dataclass
class LearningCurveData:
    """The curves of one run, ready to draw.

    ``trials``: one row per drawn trial (trial_id, outcome, shade, n_points, last_epoch, last_value), in drawing
    order; ``colors``: RGBA per row of ``trials``; ``points``: every result drawn (trial_id, epoch, time, value,
    rung: a circle is drawn there, last: the trial's last result), sorted by drawing order then epoch.
    ``rung_levels`` is None when the run does not record them.
    """

    metric: str
    mode: str
    fidelity: str
    trials: pd.DataFrame
    colors: np.ndarray
    points: pd.DataFrame
    rung_levels: list[int] | None
    max_t: int | None = None
    best_trial: int | None = None
    best_value: float = float("nan")
    title: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    num_without_results: int = 0
    #: "simulated" (a replayed run) or "real" (``experiments.tuner``)
    clock: str = "simulated"

    def segments(self, x: str = "epoch") -> list[np.ndarray]:
        """One (k, 2) array of (x, value) per trial with at least two points (``x``: "epoch" or "time")."""
        if x not in AXES:
            raise ValueError(f"x must be one of {', '.join(AXES)}, got {x!r}")
        xy = self.points[[x, "value"]].to_numpy(dtype=float)
        starts = np.flatnonzero(
            np.r_[True, self.points["trial_id"].to_numpy()[1:] != self.points["trial_id"].to_numpy()[:-1]]
        )
        pieces = np.split(xy, starts[1:]) if len(xy) else []
        return [piece for piece in pieces if len(piece) >= 2]

    def segment_colors(self, alpha: float | None = None) -> np.ndarray:
        """The RGBA of each array of ``segments`` (trials with at least two points), with ``alpha`` if given."""
        return _with_alpha(self.colors[self.trials["n_points"].to_numpy() >= 2], alpha)

    def point_colors(self, mask: np.ndarray, alpha: float | None = None) -> np.ndarray:
        """The RGBA of the points selected by ``mask`` (a boolean array over ``points``)."""
        row_of = pd.Series(np.arange(len(self.trials)), index=self.trials["trial_id"].to_numpy())
        return _with_alpha(self.colors[row_of.loc[self.points["trial_id"].to_numpy()[mask]].to_numpy()], alpha)


def _with_alpha(colors: np.ndarray, alpha: float | None) -> np.ndarray:
    if alpha is None:
        return colors
    out = colors.copy()
    out[:, 3] = alpha
    return out


def learning_curve_data(
    results: pd.DataFrame,
    trials: pd.DataFrame | None = None,
    *,
    metric: str,
    mode: str = "min",
    fidelity: str = "epoch",
    rung_levels: Sequence[int] | None = None,
    max_t: int | None = None,
    title: str = "",
) -> LearningCurveData:
    """The curves of a run's ``results`` (results.parquet: trial_id, ``fidelity``, ``metric``, optionally time and
    decision) and ``trials`` (trials.parquet: trial_id, status). Results with a non-finite metric are left out."""
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    missing = [c for c in ("trial_id", fidelity, metric) if c not in results.columns]
    if missing:
        raise ValueError(f"results lack column(s) {', '.join(missing)}; columns: {', '.join(results.columns)}")
    points = pd.DataFrame(
        {
            "trial_id": results["trial_id"].to_numpy(),
            "epoch": results[fidelity].to_numpy(dtype=float),
            "time": results["time"].to_numpy(dtype=float) if "time" in results else np.nan,
            "value": results[metric].to_numpy(dtype=float),
            "decided": _decided(results),
        }
    )
    points = points[np.isfinite(points["value"].to_numpy())]
    outcome_of = _outcomes(results, trials)
    points["outcome"] = points["trial_id"].map(outcome_of).fillna("running")
    priority = {name: i for i, name in enumerate(OUTCOMES)}
    points["priority"] = points["outcome"].map(priority)
    points = points.sort_values(["priority", "trial_id", "epoch"], kind="stable", ignore_index=True)
    ids = points["trial_id"].to_numpy()
    last = np.r_[ids[1:] != ids[:-1], True] if len(ids) else np.zeros(0, dtype=bool)
    levels = None if rung_levels is None else sorted({int(level) for level in rung_levels})
    rung = np.isin(points["epoch"].to_numpy(), levels or []) & points["decided"].to_numpy() & ~last
    per_trial = points.groupby("trial_id", sort=False).agg(
        outcome=("outcome", "first"),
        n_points=("value", "size"),
        last_epoch=("epoch", "last"),
        last_value=("value", "last"),
    )
    per_trial = per_trial.reset_index()
    per_trial["shade"] = per_trial.groupby("outcome", sort=False).cumcount() % len(SHADES)
    colors = np.array([_shade(OUTCOMES[o][0], SHADES[s]) for o, s in zip(per_trial["outcome"], per_trial["shade"])])
    best_trial, best_value = _best(points, mode)
    return LearningCurveData(
        metric=metric,
        mode=mode,
        fidelity=fidelity,
        trials=per_trial,
        colors=colors.reshape(-1, 4),
        points=points.assign(rung=rung, last=last)[["trial_id", "epoch", "time", "value", "rung", "last"]],
        rung_levels=levels,
        max_t=max_t,
        best_trial=best_trial,
        best_value=best_value,
        title=title,
        counts={o: int((per_trial["outcome"] == o).sum()) for o in OUTCOMES},
        num_without_results=len(set(trials["trial_id"]) - set(per_trial["trial_id"])) if trials is not None else 0,
    )


def _decided(results: pd.DataFrame) -> np.ndarray:
    """Whether the method decided at each result (a non-empty ``decision``); all True without the column."""
    if "decision" not in results:
        return np.ones(len(results), dtype=bool)
    decision = results["decision"]
    return (decision.notna() & (decision.astype(str) != "")).to_numpy()


def _outcomes(results: pd.DataFrame, trials: pd.DataFrame | None) -> dict[Any, str]:
    """Outcome per trial: its ``status`` in trials.parquet, else what the method decided at its last result."""
    if trials is not None and "status" in trials:
        status = trials.set_index("trial_id")["status"].astype(str)
        return {trial: (s if s in OUTCOMES else "running") for trial, s in status.items()}
    if "decision" not in results:
        return {}
    ordered = results.sort_values(["trial_id", "time"] if "time" in results else ["trial_id"], kind="stable")
    last = ordered.groupby("trial_id")["decision"].last().astype(str)
    return {trial: _DECISION_OUTCOMES.get(d, "running") for trial, d in last.items()}


def _best(points: pd.DataFrame, mode: str) -> tuple[int | None, float]:
    if points.empty:
        return None, float("nan")
    values = points["value"].to_numpy()
    index = int(np.argmin(values) if mode == "min" else np.argmax(values))
    return _plain(points["trial_id"].iloc[index]), float(values[index])


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _shade(color: str, amount: float) -> tuple[float, float, float, float]:
    """``color`` (#rrggbb) mixed towards white (``amount`` > 0) or black (< 0) by ``|amount|``."""
    rgb = np.array([int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5)])
    rgb = rgb + (1.0 - rgb) * amount if amount >= 0 else rgb * (1.0 + amount)
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), 1.0)


def run_learning_curves(run: run_data.RunData, *, metric: str | None = None) -> LearningCurveData:
    """``learning_curve_data`` of a stored run (``plotting.run_data.read_run_data``): metric, mode, fidelity
    column, rung levels and max_t from its metadata."""
    meta = run.metadata
    metric = metric or meta.get("metric")
    if not metric or metric not in run.results.columns:
        raise ValueError(f"{run.path}: results.parquet has no column {metric!r} (the metric to draw)")
    data = learning_curve_data(
        run.results,
        run.trials,
        metric=metric,
        mode=str(meta.get("mode", "min")),
        fidelity=run_data.fidelity_column(list(run.results.columns), meta),
        rung_levels=run_data.rung_levels(meta),
        max_t=run_data.max_t(meta),
        title=run.label,
    )
    data.clock = str(meta.get("clock", "simulated"))
    return data


def load_learning_curves(
    path: str | Path, *, metric: str | None = None, storage_options: Mapping[str, Any] | None = None
) -> LearningCurveData:
    """Read the stored run in ``path`` (a run directory or URL) and compute its curves."""
    return run_learning_curves(run_data.read_run_data(path, storage_options=storage_options), metric=metric)


# Drawing -----------------------------------------------------------------------------------------
def plot_learning_curves(
    data: LearningCurveData,
    *,
    layout: Layout | None = None,
    xscale: str = "linear",
    yscale: str = "linear",
    ylim: Sequence[float] | None = None,
    time_panel: bool = False,
    title: str | None = None,
) -> Figure:
    """Every trial's curve over epochs (and, with ``time_panel``, over simulated time in a second panel).

    ``xscale`` applies to the epoch axis, ``yscale`` and ``ylim`` (low, high) to the metric. One LineCollection
    holds all curves; circles mark rung levels, diamonds each trial's last result, the best trial is black.
    """
    from plotting import figures as fig

    layout = layout or fig.Layout()
    panels = ["epoch", "time"] if time_panel else ["epoch"]
    num = len(data.trials)
    alpha = 0.9 if num <= 50 else 0.7 if num <= 300 else 0.5
    with fig._apply_rc(layout):
        height = max(layout.row_height * 1.5, 2.8) + 0.8
        figure = fig._figure(layout, layout.width, height)
        axes = figure.subplots(1, len(panels), squeeze=False, sharey=True)[0]
        for ax, x in zip(axes, panels):
            _draw_panel(ax, data, x, alpha, layout)
        axes[0].set_xscale(xscale)
        _epoch_limits(axes[0], data, xscale)
        if xscale == "log":
            _log_epoch_ticks(axes[0], data)
        if ylim is not None:
            axes[0].set_yscale(yscale)
            axes[0].set_ylim(*ylim)
        else:
            axes[0].set_yscale(yscale)
            fig._set_ylim(axes[0], [data.points["value"].to_numpy(dtype=float)], yscale)
        better = "lower" if data.mode == "min" else "higher"
        axes[0].set_ylabel(f"{data.metric} ({better} is better)")
        text = title if title is not None else data.title
        count = f"{num} trials"
        if data.num_without_results:
            count = f"{num + data.num_without_results} trials ({data.num_without_results} without a result)"
        text = f"{text}: {count}" if text else count
        if len(panels) == 1:
            axes[0].set_title(fig._title(text, 0.9 * layout.width, layout.font_size))
        else:
            figure.suptitle(fig._title(text, 0.9 * layout.width, layout.font_size), fontsize=max(layout.font_size, 8))
        _legend(figure, data, layout)
    return figure


def _draw_panel(ax: Any, data: LearningCurveData, x: str, alpha: float, layout: Layout) -> None:
    from matplotlib.collections import LineCollection

    points = data.points
    if points.empty:
        ax.text(0.5, 0.5, "no results", transform=ax.transAxes, ha="center", va="center")
        return
    lines = LineCollection(data.segments(x), colors=data.segment_colors(alpha), linewidths=0.8, zorder=2)
    ax.add_collection(lines)
    xs = points[x].to_numpy(dtype=float)
    values = points["value"].to_numpy(dtype=float)
    rung = points["rung"].to_numpy()
    last = points["last"].to_numpy()
    small = len(data.trials) > 300
    ax.scatter(
        xs[rung],
        values[rung],
        s=7 if small else 12,
        marker="o",
        c=data.point_colors(rung, alpha),
        edgecolors="none",
        zorder=3,
    )
    ax.scatter(
        xs[last],
        values[last],
        s=9 if small else 16,
        marker="D",
        c=data.point_colors(last, alpha),
        edgecolors=(0.0, 0.0, 0.0, 0.55),
        linewidths=0.3,
        zorder=4,
    )
    if data.best_trial is not None:
        best = points[points["trial_id"] == data.best_trial]
        ax.plot(best[x], best["value"], color=BEST_COLOR, linewidth=1.4, zorder=5)
        at = best["value"].to_numpy() == data.best_value
        ax.plot(best[x][at], best["value"][at], linestyle="", marker="*", markersize=8, color=BEST_COLOR, zorder=6)
    if x == "epoch":
        for level in data.rung_levels or []:
            ax.axvline(level, color="0.55", linewidth=0.6, linestyle=":", zorder=1)
        ax.set_xlabel(data.fidelity)
    else:
        ax.set_xlabel("wall-clock time (s)" if data.clock == "real" else "simulated time (s)")
    ax.autoscale_view()


def _epoch_limits(ax: Any, data: LearningCurveData, xscale: str) -> None:
    """The epoch axis from the first epoch drawn to max_t (or the last epoch), with a small margin."""
    epochs = data.points["epoch"].to_numpy(dtype=float)
    if not len(epochs):
        return
    low = float(epochs.min())
    high = float(max(epochs.max(), data.max_t or 0))
    if xscale == "log" and low > 0:
        ax.set_xlim(low / 1.15, high * 1.1)
    else:
        pad = 0.03 * (high - low) or 0.5
        ax.set_xlim(low - pad, high + pad)


def _log_epoch_ticks(ax: Any, data: LearningCurveData) -> None:
    """Plain-number epoch ticks on a log axis: at the rung levels (and max_t unless it is too close to the last
    rung) if the run has them, else at 1, 2, 5 times powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator

    if data.rung_levels:
        ticks = list(data.rung_levels)
        if data.max_t is not None and data.max_t >= 1.5 * ticks[-1]:
            ticks.append(data.max_t)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
    else:
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _position: f"{value:g}"))


def _legend(figure: Any, data: LearningCurveData, layout: Layout) -> None:
    from matplotlib.lines import Line2D

    handles = []
    for outcome, (color, label) in OUTCOMES.items():
        count = data.counts.get(outcome, 0)
        if count:
            if outcome == "completed" and data.max_t is not None:
                label = f"completed ({data.fidelity} {data.max_t})"
            handles.append(Line2D([], [], color=color, linewidth=1.5, label=f"{label}: {count}"))
    grey = "0.35"
    if data.rung_levels:
        levels = ", ".join(str(level) for level in data.rung_levels)
        handles.append(
            Line2D([], [], marker="o", linestyle="", color=grey, markersize=4, label=f"rung level ({levels})")
        )
    handles.append(Line2D([], [], marker="D", linestyle="", color=grey, markersize=4, label="last result of a trial"))
    if data.best_trial is not None:
        handles.append(
            Line2D(
                [],
                [],
                color=BEST_COLOR,
                linewidth=1.4,
                marker="*",
                markersize=7,
                label=f"best {data.metric}: {data.best_value:.4g} (trial {data.best_trial})",
            )
        )
    if data.rung_levels is None:
        note = "no rung markers: the run's metadata records no rung levels"
        handles.append(Line2D([], [], linestyle="", label=note))
    elif not data.rung_levels:
        handles.append(Line2D([], [], linestyle="", label="no rung levels (the method has none)"))
    columns = 3 if layout.width >= 6 else 2
    figure.legend(
        handles=handles, loc="outside lower center", ncol=columns, frameon=False, handlelength=1.8, columnspacing=1.2
    )

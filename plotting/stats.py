"""Aggregate statistics over runs and tasks, with stratified-bootstrap confidence intervals.

Definitions follow Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice"
(NeurIPS 2021), the paper behind ``rliable``:

* **IQM** (interquartile mean) is the mean of the middle 50% of *all* scores pooled over runs and tasks, i.e. the
  25% trimmed mean of the pooled scores.  Trimming follows ``scipy.stats.trim_mean``: with ``n`` scores,
  ``k = int(0.25 * n)`` (rounded down) scores are removed from *each* end of the sorted scores and the remaining
  ``n - 2k`` are averaged.  For ``n`` not divisible by 4 this keeps slightly more than half of the scores (e.g.
  ``n = 7`` keeps the 5 middle ones); no fractional weights are used.
* **mean** is the mean of all pooled scores (rliable's mean of per-task means when every task has the same
  number of runs).
* **median** is rliable's: the median over tasks of the per-task *mean* scores (not the median of the pooled
  runs; that one is ``pooled_median``, asked for by that name).  With a single task it is that task's mean.
* **optimality gap** is rliable's ``gamma - mean(min(score, gamma))``: the mean over runs and tasks of
  ``max(0, gamma - score)`` (``gamma = 1`` by name; :func:`optimality_gap` takes another ``gamma``), for scores
  where higher is better.
* **Stratified bootstrap**: tasks are strata and stay fixed; in each resample the runs of every task are drawn with
  replacement, independently per task, the same number of times as that task has runs; the statistic is computed on
  the resampled scores (the median: on the per-task means of the resample). The interval is the **percentile
  interval** of the resampled statistics: the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles computed
  with ``np.percentile``'s default ("linear") interpolation.

Scores are given per task, in one of three shape-checked forms (:func:`task_scores`): a mapping task -> 1-D runs, a
sequence of 1-D arrays (``per_task[m]`` holds the runs of task ``m``), or a 2-D ``np.ndarray`` in rliable's
orientation, **runs × tasks** (column ``m`` holds the runs of task ``m``).  NaN marks a missing run and is dropped;
a task without any run is dropped with a note.  Every resample comes from ``np.random.default_rng(seed)`` through
``plotting.resample.stratified_indices`` (the draws of every bootstrap in ``plotting``): the same seed gives the
same interval bit for bit.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plotting.resample import stratified_indices

__all__ = [
    "MIN_REPS",
    "SINGLE_RUN_NOTE",
    "STATISTICS",
    "Band",
    "Interval",
    "aggregate",
    "derive_seed",
    "interval_table",
    "iqm",
    "optimality_gap",
    "percentile_band",
    "percentile_interval",
    "stratified_bootstrap",
    "task_scores",
    "trimmed_mean",
]

#: Statistics known by name (see the module docstring; "median" is rliable's median of per-task means).
STATISTICS = ("iqm", "mean", "median", "pooled_median", "optimality_gap")
#: Fewest bootstrap resamples accepted (rliable recommends thousands; percentile tails need them).
MIN_REPS = 1000
#: Note of an :class:`Interval` whose data has a task with a single run.
SINGLE_RUN_NOTE = "single run: no interval"

Statistic = str | Callable[[np.ndarray], np.ndarray | float]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its bootstrap confidence interval.

    ``n_runs`` is the number of scores used (runs summed over tasks), ``n_tasks`` the number of tasks (strata).
    ``low``/``high`` are NaN when no interval can be formed; ``note`` then says why.
    """

    point: float
    low: float
    high: float
    n_runs: int
    n_tasks: int
    note: str = ""


@dataclass(frozen=True)
class Band:
    """Per time point median and percentiles over seeds (arrays of equal length); ``n`` counts non-NaN seeds."""

    median: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: np.ndarray
    q: tuple[float, float]


def _trimmed_mean_last_axis(a: np.ndarray, proportion: float) -> np.ndarray | float:
    """Trimmed mean over the last axis of a NaN-free array (``k = int(proportion * n)`` cut from each end)."""
    n = a.shape[-1]
    if n == 0:
        return np.full(a.shape[:-1], np.nan) if a.ndim > 1 else float("nan")
    k = int(proportion * n)
    if k == 0:
        return a.mean(axis=-1)
    # a full sort is faster than np.partition with two pivots on (reps, n) arrays of bootstrap resamples
    return np.sort(a, axis=-1)[..., k : n - k].mean(axis=-1)


def _check_proportion(proportion: float) -> None:
    if not 0.0 <= proportion < 0.5:
        raise ValueError(f"proportion must be in [0, 0.5), got {proportion}")


def trimmed_mean(values: np.ndarray | Sequence[float], proportion: float) -> float:
    """Mean after removing ``int(proportion * n)`` scores from each end (as ``scipy.stats.trim_mean``).

    ``values`` is flattened and NaN entries are ignored; no scores give NaN.
    """
    _check_proportion(proportion)
    a = np.asarray(values, dtype=float).ravel()
    a = a[~np.isnan(a)]
    return float(_trimmed_mean_last_axis(a, proportion))


def iqm(values: np.ndarray | Sequence[float]) -> float:
    """Interquartile mean: the 25% trimmed mean of all (flattened, non-NaN) scores."""
    return trimmed_mean(values, 0.25)


def _iqm_last_axis(a: np.ndarray) -> np.ndarray | float:
    return _trimmed_mean_last_axis(a, 0.25)


def _mean_last_axis(a: np.ndarray) -> np.ndarray | float:
    return a.mean(axis=-1) if a.shape[-1] else np.full(a.shape[:-1], np.nan)


def _pooled_median_last_axis(a: np.ndarray) -> np.ndarray | float:
    return np.median(a, axis=-1) if a.shape[-1] else np.full(a.shape[:-1], np.nan)


def optimality_gap(values: np.ndarray | Sequence[float], gamma: float = 1.0) -> np.ndarray | float:
    """rliable's optimality gap over the last axis: ``gamma - mean(min(values, gamma))`` (NaN-free input)."""
    a = np.asarray(values, dtype=float)
    if a.shape[-1] == 0:
        return np.full(a.shape[:-1], np.nan) if a.ndim > 1 else float("nan")
    return gamma - np.minimum(a, gamma).mean(axis=-1)


def _median_of_task_means(a: np.ndarray, sizes: np.ndarray) -> np.ndarray | float:
    """rliable's median: the median over tasks of per-task means; ``a``'s columns hold the tasks one after another."""
    starts = np.cumsum(sizes) - sizes
    means = np.add.reduceat(a, starts, axis=-1) / sizes
    return np.median(means, axis=-1)


_NAMED: dict[str, Callable[[np.ndarray], np.ndarray | float]] = {
    "iqm": _iqm_last_axis,
    "mean": _mean_last_axis,
    "pooled_median": _pooled_median_last_axis,
    "optimality_gap": optimality_gap,
}
#: statistics of the task structure: called with (scores grouped task after task, runs per task)
_BY_TASK: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray | float]] = {"median": _median_of_task_means}


def _resolve(statistic: Statistic) -> tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray | float]]:
    """Name and reducer ``(scores, sizes) -> statistic`` of a statistic given by name or as a callable.

    ``scores`` (..., n) holds the runs of task after task along the last axis, ``sizes`` the runs per task.
    """
    if callable(statistic):
        function = statistic
        return getattr(statistic, "__name__", "custom"), lambda a, sizes: function(a)
    if statistic in _BY_TASK:
        return statistic, _BY_TASK[statistic]
    if statistic not in _NAMED:
        raise ValueError(f"unknown statistic {statistic!r}; expected one of {STATISTICS} or a callable")
    reducer = _NAMED[statistic]
    return statistic, lambda a, sizes: reducer(a)


Scores = Mapping[str, Sequence[float] | np.ndarray] | Sequence[Sequence[float] | np.ndarray] | np.ndarray


def task_scores(scores: Scores) -> list[np.ndarray]:
    """The runs of each task as 1-D float arrays (NaN kept), from one of the three accepted forms.

    * a mapping task -> 1-D scores (in the mapping's order);
    * a sequence of 1-D arrays, one per task;
    * a 2-D ``np.ndarray`` in rliable's orientation: **runs × tasks** (column ``m`` = the runs of task ``m``).

    Anything else (a 1-D array, an entry that is not 1-D, an array of 3 or more dimensions) raises ``ValueError``.
    """
    if isinstance(scores, np.ndarray):
        if scores.ndim != 2:
            raise ValueError(
                f"a score matrix must be 2-D, runs x tasks (rliable's orientation), got shape {scores.shape}; "
                "give per-task scores as a list of 1-D arrays or a mapping task -> 1-D array"
            )
        return [np.asarray(column, dtype=float) for column in scores.T]
    entries = list(scores.items()) if isinstance(scores, Mapping) else list(enumerate(scores))
    tasks = []
    for task, runs in entries:
        a = np.asarray(runs, dtype=float)
        if a.ndim != 1:
            raise ValueError(
                f"the scores of task {task!r} must be 1-D (the runs of that task), got shape {a.shape}; "
                "a 2-D matrix is read as runs x tasks only when passed as one np.ndarray"
            )
        tasks.append(a)
    return tasks


def _clean(per_task: Scores) -> tuple[list[np.ndarray], list[str]]:
    """Per task 1-D float arrays without NaN; tasks left without runs are dropped. Returns (tasks, notes)."""
    tasks: list[np.ndarray] = []
    n_nan = 0
    n_empty = 0
    for a in task_scores(per_task):
        missing = np.isnan(a)
        n_nan += int(missing.sum())
        a = a[~missing]
        if a.size == 0:
            n_empty += 1
        else:
            tasks.append(a)
    notes = []
    if n_nan:
        notes.append(f"{n_nan} missing (NaN) score(s) dropped")
    if n_empty:
        notes.append(f"{n_empty} task(s) without runs dropped")
    return tasks, notes


def aggregate(per_task: Scores, statistic: Statistic = "iqm") -> float:
    """The statistic (a name of :data:`STATISTICS` or a callable of the pooled scores) over tasks, NaN dropped."""
    _, reducer = _resolve(statistic)
    tasks, _ = _clean(per_task)
    if not tasks:
        return float("nan")
    return float(reducer(np.concatenate(tasks), np.array([t.size for t in tasks])))


def derive_seed(seed: int, *keys: str) -> int:
    """A sub-seed derived from ``seed`` and string keys, stable across processes (independent of PYTHONHASHSEED)."""
    entropy = [int(seed)] + [zlib.crc32(key.encode("utf-8")) for key in keys]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0])


def _check_bootstrap_args(reps: int, confidence: float) -> None:
    if reps < MIN_REPS:
        raise ValueError(f"reps must be at least {MIN_REPS}, got {reps}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    """Percentile interval of bootstrap samples (linear interpolation, NaN samples ignored)."""
    alpha = 100.0 * (1.0 - confidence) / 2.0
    finite = samples[~np.isnan(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [alpha, 100.0 - alpha])
    return float(low), float(high)


def _apply_to_resamples(
    reducer: Callable[[np.ndarray, np.ndarray], np.ndarray | float], samples: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """Reduce each row of ``samples`` (reps, n); callables that only reduce 1-D arrays are applied row by row."""
    reps = samples.shape[0]
    try:
        out = np.asarray(reducer(samples, sizes), dtype=float)
    except Exception:  # a callable written for 1-D input only; a real error surfaces again row by row
        out = None
    if out is not None and out.shape == (reps,):
        return out
    return np.array([float(reducer(row, sizes)) for row in samples])


def _task_order(index: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``index`` (from ``stratified_indices``) with its columns reordered task after task (as the pooled runs)."""
    if np.all(sizes == sizes[0]):
        return index  # one draw for all strata: already in task order
    task_of_run = np.repeat(np.arange(sizes.size), sizes)
    return index[:, np.argsort(task_of_run[index[0]], kind="stable")]


def stratified_bootstrap(
    per_task: Scores,
    statistic: Statistic = "iqm",
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Point estimate and stratified-bootstrap percentile interval of ``statistic`` over pooled per-task scores.

    ``per_task``: see :func:`task_scores` (a 2-D array is runs × tasks).  ``statistic`` is a name of
    :data:`STATISTICS` or a callable; a callable receives the pooled scores, shape ``(reps, n)``, and should reduce
    the last axis (a callable that only maps a 1-D array to a scalar also works, one call per
    resample).  If any task has a single run the interval is NaN with note :data:`SINGLE_RUN_NOTE` (resampling
    a single run carries no information about the spread between runs).
    """
    _check_bootstrap_args(reps, confidence)
    _, reducer = _resolve(statistic)
    tasks, notes = _clean(per_task)
    sizes = np.array([t.size for t in tasks], dtype=np.int64)
    n_runs = int(sizes.sum())
    if not tasks:
        return Interval(float("nan"), float("nan"), float("nan"), 0, 0, "; ".join(["no runs", *notes]))
    pooled = np.concatenate(tasks)
    point = float(reducer(pooled, sizes))
    if sizes.min() < 2:
        note = "; ".join([SINGLE_RUN_NOTE, *notes])
        return Interval(point, float("nan"), float("nan"), n_runs, len(tasks), note)
    index = stratified_indices(np.random.default_rng(seed), sizes, reps)
    if not callable(statistic) and statistic in _BY_TASK:
        index = _task_order(index, sizes)
    resampled = _apply_to_resamples(reducer, pooled[index], sizes)
    low, high = percentile_interval(resampled, confidence)
    return Interval(point, low, high, n_runs, len(tasks), "; ".join(notes))


def interval_table(
    scores: Mapping[str, Scores],
    statistic: Statistic = "iqm",
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """One :func:`stratified_bootstrap` row per method (columns method, statistic, point, low, high, n_runs,
    n_tasks, note).

    Each method resamples from its own sub-seed ``derive_seed(seed, method)``, so a method's interval does not
    depend on which other methods are in the table or on their order.
    """
    name, _ = _resolve(statistic)
    rows = []
    for method, per_task in scores.items():
        interval = stratified_bootstrap(
            per_task, statistic, reps=reps, confidence=confidence, seed=derive_seed(seed, str(method))
        )
        rows.append(
            {
                "method": method,
                "statistic": name,
                "point": interval.point,
                "low": interval.low,
                "high": interval.high,
                "n_runs": interval.n_runs,
                "n_tasks": interval.n_tasks,
                "note": interval.note,
            }
        )
    columns = ["method", "statistic", "point", "low", "high", "n_runs", "n_tasks", "note"]
    return pd.DataFrame(rows, columns=columns)


def percentile_band(
    values_over_seeds: np.ndarray | Sequence[Sequence[float]],
    q: tuple[float, float] = (25.0, 75.0),
) -> Band:
    """Median and the ``q`` percentiles over seeds per time point, ignoring NaN.

    ``values_over_seeds`` has shape ``(n_seeds, n_times)`` (one curve per row, on a common time grid).  A time
    point where every seed is NaN gives NaN (without a warning).  Percentiles use linear interpolation.
    """
    a = np.asarray(values_over_seeds, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise ValueError(f"values_over_seeds must have shape (n_seeds, n_times), got {a.shape}")
    low_q, high_q = float(q[0]), float(q[1])
    if not 0.0 <= low_q <= high_q <= 100.0:
        raise ValueError(f"q must be two percentiles with 0 <= q[0] <= q[1] <= 100, got {q}")
    n = (~np.isnan(a)).sum(axis=0)
    if a.shape[0] == 0:
        empty = np.full(a.shape[1], np.nan)
        return Band(empty, empty.copy(), empty.copy(), n, (low_q, high_q))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice encountered", RuntimeWarning)
        median, low, high = np.nanpercentile(a, [50.0, low_q, high_q], axis=0)
    return Band(median, low, high, n, (low_q, high_q))

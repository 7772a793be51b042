"""Comparing two methods: probability of improvement (unpaired, rliable) and paired-seed statistics.

Two different "probability of improvement" numbers live here; do not mix them up:

* :func:`probability_of_improvement` is rliable's **unpaired** P(X > Y) (Agarwal et al., NeurIPS 2021).  For each
  task m, every run of X is compared with every run of Y,
  ``P(X_m > Y_m) = 1/(N K) sum_i sum_j S(x_mi, y_mj)`` with ``S = 1`` if x is better, ``1/2`` on a tie and ``0``
  otherwise (the Mann-Whitney U statistic divided by N K); the result is the mean over tasks (each task weighs the
  same).  :func:`poi_interval` adds a stratified-bootstrap percentile interval (runs of X and of Y are resampled
  independently within each task).
* ``PairedResult.paired_poi`` (from :func:`paired_comparison`) uses the **pairing by seed**: only seed s of A is
  compared with seed s of B; it is ``(wins + ties / 2) / n`` over all pairs pooled (each pair weighs the same).

"Better" follows ``mode``: lower for ``"min"``, higher for ``"max"``. Scores per task take the forms of
``plotting.stats.task_scores`` (a list of 1-D arrays, a mapping task -> 1-D array, or a 2-D array in rliable's
orientation, runs × tasks). Per-task arrays of two methods are aligned by seed (position i of task m is seed i for
both methods); NaN marks a missing seed. Unpaired statistics drop NaN runs per method; paired statistics drop every
pair with a NaN and count it in ``dropped``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plotting.resample import draw_counts
from plotting.stats import (
    SINGLE_RUN_NOTE,
    Interval,
    Scores,
    _check_bootstrap_args,
    derive_seed,
    percentile_interval,
    task_scores,
)

__all__ = [
    "MIN_WILCOXON_PAIRS",
    "PairedResult",
    "paired_comparison",
    "pairwise_matrix",
    "poi_interval",
    "probability_of_improvement",
]

#: With fewer non-zero paired differences the two-sided Wilcoxon test cannot reach p < 0.05 (2 / 2**5 = 0.0625).
MIN_WILCOXON_PAIRS = 6


@dataclass(frozen=True)
class PairedResult:
    """Seed-paired comparison of A against B.

    ``wins``: pairs where A is better, ``losses``: B better, ``ties``: equal within the tolerance; ``n`` pairs used
    (``wins + ties + losses``), ``dropped`` pairs with a NaN.  ``wilcoxon_statistic``/``p_value`` come from the
    two-sided Wilcoxon signed-rank test on the paired differences (see :func:`paired_comparison`).  ``paired_poi``
    is ``(wins + ties / 2) / n``.
    """

    wins: int
    ties: int
    losses: int
    n: int
    dropped: int
    wilcoxon_statistic: float
    p_value: float
    paired_poi: float
    note: str = ""


def _check_mode(mode: str, tol: float = 0.0) -> None:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    if not tol >= 0.0:
        raise ValueError(f"tol must be >= 0, got {tol}")


def _improvement(a: np.ndarray, b: np.ndarray, mode: str) -> np.ndarray:
    """How much a is better than b (positive = a better), broadcasting."""
    return b - a if mode == "min" else a - b


def _weighted_poi(
    x: np.ndarray, y: np.ndarray, counts_x: np.ndarray, counts_y: np.ndarray, mode: str, tol: float
) -> np.ndarray:
    """P(X > Y) of one task for weighted runs: ``sum_ij cx_i cy_j S(x_i, y_j) / (sum cx * sum cy)`` per row.

    ``counts_x`` (R, N) and ``counts_y`` (R, K) weigh the runs (bootstrap draw counts, or ones for the plain
    estimate).  Instead of the N x K matrix S, y is sorted once and prefix sums of its weights count, for each x_i,
    the weight of the y that x_i beats (y > x_i + tol for "min", y < x_i - tol for "max") and of the ties
    (|x_i - y| <= tol); all terms are small multiples of 1/2, so the sums are exact.  No BLAS call is involved.
    """
    order = np.argsort(y, kind="stable")
    ys = y[order]
    prefix = np.zeros((counts_y.shape[0], ys.size + 1))
    np.cumsum(counts_y[:, order], axis=1, out=prefix[:, 1:])
    lo = np.searchsorted(ys, x - tol, side="left")  # first y >= x - tol
    hi = np.searchsorted(ys, x + tol, side="right")  # first y > x + tol
    ties = prefix[:, hi] - prefix[:, lo]
    beaten = prefix[:, -1:] - prefix[:, hi] if mode == "min" else prefix[:, lo]
    wins = ((beaten + 0.5 * ties) * counts_x).sum(axis=1)
    return wins / (counts_x.sum(axis=1) * prefix[:, -1])


def _finite_pairs_per_task(x_per_task: Scores, y_per_task: Scores) -> tuple[list[tuple[np.ndarray, np.ndarray]], int]:
    """Per task (x runs, y runs) without NaN; tasks where either method has no run are skipped (and counted)."""
    x_tasks, y_tasks = task_scores(x_per_task), task_scores(y_per_task)
    if len(x_tasks) != len(y_tasks):
        raise ValueError(f"x and y must have the same number of tasks, got {len(x_tasks)} and {len(y_tasks)}")
    tasks = []
    skipped = 0
    for xs, ys in zip(x_tasks, y_tasks):
        xs = xs[~np.isnan(xs)]
        ys = ys[~np.isnan(ys)]
        if xs.size == 0 or ys.size == 0:
            skipped += 1
        else:
            tasks.append((xs, ys))
    return tasks, skipped


def probability_of_improvement(x_per_task: Scores, y_per_task: Scores, mode: str, *, tol: float = 0.0) -> float:
    """Unpaired P(X > Y) averaged over tasks (rliable's definition; ties count 1/2, ``|x - y| <= tol`` is a tie).

    Tasks where X or Y has no (non-NaN) run are skipped; no comparable task gives NaN.
    """
    _check_mode(mode, tol)
    tasks, _ = _finite_pairs_per_task(x_per_task, y_per_task)
    if not tasks:
        return float("nan")
    return float(
        np.mean([_weighted_poi(x, y, np.ones((1, x.size)), np.ones((1, y.size)), mode, tol)[0] for x, y in tasks])
    )


def poi_interval(
    x_per_task: Scores,
    y_per_task: Scores,
    mode: str,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    tol: float = 0.0,
) -> Interval:
    """:func:`probability_of_improvement` with a stratified-bootstrap percentile interval.

    In each resample the runs of X and, independently, the runs of Y are drawn with replacement within each task.
    A resample's P(X_m > Y_m) is the mean of S over the resampled pairs, computed from the draw counts of the runs
    (``c_x^T S c_y / (N K)``) without forming S.  ``n_runs`` counts the runs of both methods.  If X or Y has a
    single run in some task the interval is NaN with note :data:`~plotting.stats.SINGLE_RUN_NOTE`.
    """
    _check_mode(mode, tol)
    _check_bootstrap_args(reps, confidence)
    tasks, skipped = _finite_pairs_per_task(x_per_task, y_per_task)
    notes = [f"{skipped} task(s) without runs of both methods skipped"] if skipped else []
    n_runs = sum(x.size + y.size for x, y in tasks)
    if not tasks:
        return Interval(float("nan"), float("nan"), float("nan"), 0, 0, "; ".join(["no runs", *notes]))
    point = probability_of_improvement([x for x, _ in tasks], [y for _, y in tasks], mode, tol=tol)
    if min(min(x.size, y.size) for x, y in tasks) < 2:
        return Interval(point, float("nan"), float("nan"), n_runs, len(tasks), "; ".join([SINGLE_RUN_NOTE, *notes]))
    rng = np.random.default_rng(seed)
    total = np.zeros(reps)
    for x, y in tasks:
        counts_x = draw_counts(rng, x.size, reps)
        counts_y = draw_counts(rng, y.size, reps)
        total += _weighted_poi(x, y, counts_x, counts_y, mode, tol)
    low, high = percentile_interval(total / len(tasks), confidence)
    return Interval(point, low, high, n_runs, len(tasks), "; ".join(notes))


def paired_comparison(a: np.ndarray, b: np.ndarray, mode: str, *, tol: float = 0.0) -> PairedResult:
    """Win/tie/loss counts, Wilcoxon signed-rank test and paired PoI of A against B over seed-aligned pairs.

    ``a`` and ``b`` are aligned (same shape; entry i of both comes from the same seed/task); pairs with a NaN are
    dropped.  Differences with ``|a - b| <= tol`` are ties and enter the test as zero differences.  The test is
    ``scipy.stats.wilcoxon(d)`` with its defaults (two-sided, ``zero_method="wilcox"``: zero differences are
    discarded, ``method="auto"``) on ``d`` = improvement of A over B.  Degenerate inputs do not raise:

    * no pairs: statistic and p are NaN;
    * all differences are ties: statistic NaN, p = 1 (no evidence of a difference);
    * fewer than :data:`MIN_WILCOXON_PAIRS` non-zero differences: scipy's (exact) p is returned, with a note
      that it cannot fall below 0.05.
    """
    _check_mode(mode, tol)
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must be aligned (same shape), got {a.shape} and {b.shape}")
    a = a.ravel()
    b = b.ravel()
    keep = ~(np.isnan(a) | np.isnan(b))
    dropped = int(keep.size - keep.sum())
    d = _improvement(a[keep], b[keep], mode)
    tie = np.abs(d) <= tol
    d = np.where(tie, 0.0, d)
    wins = int((d > 0).sum())
    losses = int((d < 0).sum())
    ties = int(tie.sum())
    n = int(d.size)
    notes = [f"{dropped} pair(s) with a missing value dropped"] if dropped else []
    if n == 0:
        return PairedResult(
            0, 0, 0, 0, dropped, float("nan"), float("nan"), float("nan"), "; ".join(["no pairs", *notes])
        )
    paired_poi = (wins + 0.5 * ties) / n
    nonzero = wins + losses
    if nonzero == 0:
        notes.insert(0, "all paired differences are ties: p = 1")
        return PairedResult(wins, ties, losses, n, dropped, float("nan"), 1.0, paired_poi, "; ".join(notes))
    from scipy.stats import wilcoxon

    with warnings.catch_warnings():
        # scipy warns about small samples / zeros and falls back to another method; the note below says enough
        warnings.simplefilter("ignore")
        result = wilcoxon(d)
    if nonzero < MIN_WILCOXON_PAIRS:
        notes.insert(0, f"only {nonzero} non-zero paired difference(s): the Wilcoxon test cannot reach p < 0.05")
    return PairedResult(
        wins, ties, losses, n, dropped, float(result.statistic), float(result.pvalue), paired_poi, "; ".join(notes)
    )


def pairwise_matrix(
    scores: Mapping[str, Scores],
    mode: str,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    tol: float = 0.0,
) -> pd.DataFrame:
    """All ordered pairs of methods in long format (rows in the order of ``scores``), for a heatmap of P(A > B).

    ``scores[method][m]`` holds the runs of task m, aligned by seed across methods (NaN = missing seed); all
    methods must have the same number of tasks and, per task, arrays of the same length.  Columns: method_a,
    method_b, poi, low, high (unpaired PoI of A over B with its :func:`poi_interval`; computed once per unordered
    pair, for the names in sorted order with sub-seed ``derive_seed(seed, first, second)``, the reverse row being
    ``1 - poi`` with ``(1 - high, 1 - low)``), wins, ties, losses, n, dropped, paired_poi, p_value (from
    :func:`paired_comparison` on all (task, seed) pairs pooled), note.
    """
    _check_mode(mode)
    methods = list(scores)
    columns = [
        "method_a",
        "method_b",
        "poi",
        "low",
        "high",
        "wins",
        "ties",
        "losses",
        "n",
        "dropped",
        "paired_poi",
        "p_value",
        "note",
    ]
    flat: dict[str, np.ndarray] = {}
    shapes: dict[str, list[int]] = {}
    for method in methods:
        tasks = task_scores(scores[method])
        shapes[method] = [t.size for t in tasks]
        flat[method] = np.concatenate(tasks) if tasks else np.empty(0)
    for method in methods[1:]:
        if shapes[method] != shapes[methods[0]]:
            raise ValueError(
                f"per-task arrays must be aligned by seed: {method!r} has runs per task {shapes[method]}, "
                f"{methods[0]!r} has {shapes[methods[0]]} (pad missing seeds with NaN)"
            )
    rows = []
    for i, first in enumerate(methods):
        for second in methods[i + 1 :]:
            # one computation per unordered pair, in the order of the names so that the result does not depend on
            # the order of the mapping; the reverse row follows exactly: S(b, a) = 1 - S(a, b), wins and losses
            # swap, the two-sided p is symmetric
            method_a, method_b = sorted((first, second), key=str)
            interval = poi_interval(
                scores[method_a],
                scores[method_b],
                mode,
                reps=reps,
                confidence=confidence,
                seed=derive_seed(seed, str(method_a), str(method_b)),
                tol=tol,
            )
            paired = paired_comparison(flat[method_a], flat[method_b], mode, tol=tol)
            note = "; ".join(part for part in (interval.note, paired.note) if part)
            common = {"ties": paired.ties, "n": paired.n, "dropped": paired.dropped, "p_value": paired.p_value}
            rows.append(
                {
                    "method_a": method_a,
                    "method_b": method_b,
                    "poi": interval.point,
                    "low": interval.low,
                    "high": interval.high,
                    "wins": paired.wins,
                    "losses": paired.losses,
                    "paired_poi": paired.paired_poi,
                    "note": note,
                    **common,
                }
            )
            rows.append(
                {
                    "method_a": method_b,
                    "method_b": method_a,
                    "poi": 1.0 - interval.point,
                    "low": 1.0 - interval.high,
                    "high": 1.0 - interval.low,
                    "wins": paired.losses,
                    "losses": paired.wins,
                    "paired_poi": 1.0 - paired.paired_poi,
                    "note": note,
                    **common,
                }
            )
    order = {method: position for position, method in enumerate(methods)}
    rows.sort(key=lambda row: (order[row["method_a"]], order[row["method_b"]]))
    return pd.DataFrame(rows, columns=columns)

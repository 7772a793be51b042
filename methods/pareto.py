"""Pareto fronts of several objectives: non-dominated sorting, crowding distance, exact hypervolume.

Every function takes points as an ``(n, m)`` array of objectives to *minimise* (``to_minimization`` turns
max-mode objectives into their negatives). Point ``a`` dominates ``b`` when ``a <= b`` in every objective and
``a < b`` in at least one; equal points do not dominate each other (they share a front).

- ``nondominated_ranks``: the front of every point (0: not dominated by any point; k: dominated only by points of
  fronts < k), as in NSGA-II's fast non-dominated sorting (Deb et al., 2002). Two objectives: a sweep in
  O(n log n) (points sorted by the first objective join the first front whose last point does not dominate
  them; those last points are ordered, so a binary search finds it); more: pairwise dominance, O(m n^2).
- ``crowding_distance``: NSGA-II's crowding distance within one front (boundary points infinite).
- ``hypervolume``: the volume dominated by the points and bounded by ``reference`` (points that do not strictly
  dominate the reference point add nothing). Exact for 2 objectives (a sort, O(n log n)) and 3 (a sweep over
  the third objective adding 2-D slices, O(n^2)); more objectives are refused.
- ``hypervolume_trace``: the hypervolume of the first i points, for every i (results in time order: hypervolume
  over time). Only the current front is kept; the volume is recomputed only when a point enters it.
- ``reference_point``: the rule that makes hypervolumes comparable across the runs of a benchmark: per objective,
  the worst value among all the points given (every run of every method) plus ``margin`` (default 0.1) times
  that objective's range over them, so that extreme points still add volume.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

__all__ = [
    "crowding_distance",
    "dominates",
    "hypervolume",
    "hypervolume_trace",
    "nondominated_ranks",
    "pareto_front",
    "reference_point",
    "to_minimization",
]


def to_minimization(values: np.ndarray, modes: Sequence[str]) -> np.ndarray:
    """``values`` (n, m) with the columns of max-mode objectives negated, so that every column is minimised."""
    values = _points(values)
    if len(modes) != values.shape[1]:
        raise ValueError(f"{len(modes)} modes for {values.shape[1]} objectives")
    signs = np.array([_sign(mode) for mode in modes])
    return values * signs


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether point ``a`` dominates point ``b`` (minimisation)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return bool(np.all(a <= b) and np.any(a < b))


def nondominated_ranks(points: np.ndarray) -> np.ndarray:
    """The front index of every point (0: the Pareto front of ``points``); rows with NaN get -1."""
    points = _points(points)
    ranks = np.full(len(points), -1, dtype=np.int64)
    finite = np.flatnonzero(np.all(np.isfinite(points), axis=1))
    if finite.size == 0:
        return ranks
    if points.shape[1] == 1:
        ranks[finite] = np.unique(points[finite, 0], return_inverse=True)[1]
    elif points.shape[1] == 2:
        ranks[finite] = _ranks_2d(points[finite])
    else:
        ranks[finite] = _ranks_pairwise(points[finite])
    return ranks


def pareto_front(points: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated points (rank 0), in input order."""
    return np.flatnonzero(nondominated_ranks(points) == 0)


def _ranks_2d(points: np.ndarray) -> np.ndarray:
    order = np.lexsort((points[:, 1], points[:, 0]))  # by the first objective, ties by the second
    ranks = np.empty(len(points), dtype=np.int64)
    last: list[tuple[float, float]] = []  # per front: (second, first) objective of its last point, ascending
    for index in order.tolist():
        key = (float(points[index, 1]), float(points[index, 0]))
        # front k dominates the point iff its last point's key is smaller (equal points do not dominate)
        front = bisect.bisect_left(last, key)
        if front == len(last):
            last.append(key)
        else:
            last[front] = key
        ranks[index] = front
    return ranks


def _ranks_pairwise(points: np.ndarray) -> np.ndarray:
    less_equal = np.all(points[:, None, :] <= points[None, :, :], axis=2)
    less = np.any(points[:, None, :] < points[None, :, :], axis=2)
    dominated_by = (less_equal & less).T  # [i, j]: j dominates i
    ranks = np.full(len(points), -1, dtype=np.int64)
    remaining = np.ones(len(points), dtype=bool)
    front = 0
    while remaining.any():
        current = remaining & ~np.any(dominated_by[:, remaining], axis=1)
        ranks[current] = front
        remaining &= ~current
        front += 1
    return ranks


def crowding_distance(points: np.ndarray) -> np.ndarray:
    """NSGA-II's crowding distance of each point of one front: per objective, the gap between its neighbours
    sorted by that objective over the objective's range, summed; the extreme points of any objective get inf."""
    points = _points(points)
    n, m = points.shape
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for j in range(m):
        order = np.argsort(points[:, j], kind="stable")
        values = points[order, j]
        span = values[-1] - values[0]
        distance[order[0]] = distance[order[-1]] = np.inf
        if span > 0:
            distance[order[1:-1]] += (values[2:] - values[:-2]) / span
    return distance


def hypervolume(points: np.ndarray, reference: Sequence[float] | np.ndarray) -> float:
    """The hypervolume dominated by ``points`` and bounded by ``reference`` (minimisation; 2 or 3 objectives)."""
    points = _points(points)
    reference = np.asarray(reference, dtype=float)
    if reference.shape != (points.shape[1],) or not np.all(np.isfinite(reference)):
        raise ValueError(f"the reference point must have {points.shape[1]} finite values, got {reference.tolist()}")
    inside = points[np.all(np.isfinite(points), axis=1) & np.all(points < reference, axis=1)]
    if inside.shape[0] == 0:
        return 0.0
    if points.shape[1] == 2:
        return _hypervolume_2d(inside, reference)
    if points.shape[1] == 3:
        return _hypervolume_3d(inside, reference)
    raise ValueError(f"exact hypervolume is implemented for 2 or 3 objectives, got {points.shape[1]}")


def hypervolume_trace(points: np.ndarray, reference: Sequence[float] | np.ndarray) -> np.ndarray:
    """``out[i]`` = ``hypervolume(points[: i + 1], reference)`` for every ``i`` (points in time order)."""
    points = _points(points)
    reference = np.asarray(reference, dtype=float)
    hypervolume(np.empty((0, points.shape[1])), reference)  # checks the reference point and the dimension
    if points.shape[1] == 2:
        return _trace_2d(points, reference)
    out = np.zeros(len(points))
    front = np.empty((0, points.shape[1]))
    volume = 0.0
    for i, point in enumerate(points):
        if np.all(np.isfinite(point)) and np.all(point < reference):
            covered = np.all(front <= point, axis=1)  # a front point at least as good everywhere: nothing new
            if not covered.any():
                front = np.vstack([front[~np.all(point <= front, axis=1)], point])
                volume = hypervolume(front, reference)
        out[i] = volume
    return out


def _trace_2d(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``hypervolume_trace`` in 2-D: the front is a staircase sorted by x (y falling), so whether a point is
    covered is one binary search (the front point with the largest x <= its x covers it iff its y <= the point's)."""
    out = np.zeros(len(points))
    xs: list[float] = []
    ys: list[float] = []
    volume = 0.0
    rx, ry = float(reference[0]), float(reference[1])
    for i, (x, y) in enumerate(points.tolist()):
        if x < rx and y < ry:  # False for NaN
            k = bisect.bisect_right(xs, x)
            if not (k and ys[k - 1] <= y):
                end = k
                while end < len(xs) and ys[end] >= y:  # the front points it dominates follow it
                    end += 1
                xs[k:end], ys[k:end] = [x], [y]
                volume = _hypervolume_2d(np.column_stack([xs, ys]), reference)
        out[i] = volume
    return out


def reference_point(points: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """Per objective: the worst value of ``points`` (NaN rows ignored) plus ``margin`` times its range (or plus
    ``margin`` in absolute terms where the range is 0)."""
    points = _points(points)
    finite = points[np.all(np.isfinite(points), axis=1)]
    if finite.shape[0] == 0:
        raise ValueError("no finite points to place a reference point by")
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    worst, best = finite.max(axis=0), finite.min(axis=0)
    span = worst - best
    return worst + margin * np.where(span > 0, span, 1.0)


def _hypervolume_2d(points: np.ndarray, reference: np.ndarray) -> float:
    order = np.lexsort((points[:, 1], points[:, 0]))
    x, y = points[order, 0], points[order, 1]
    best = np.minimum.accumulate(y)
    # a point adds the strip between its x and the next point's x, below the best y so far
    widths = np.diff(np.append(x, reference[0]))
    return float(np.sum(widths * (reference[1] - best)))


def _hypervolume_3d(points: np.ndarray, reference: np.ndarray) -> float:
    order = np.argsort(points[:, 2], kind="stable")
    z = points[order, 2]
    heights = np.diff(np.append(z, reference[2]))
    volume = 0.0
    for i in range(len(order)):
        if heights[i] > 0:  # the slice from z[i] up: every point with z <= z[i]
            volume += heights[i] * _hypervolume_2d(points[order[: i + 1], :2], reference[:2])
    return float(volume)


def _points(values: np.ndarray) -> np.ndarray:
    points = np.asarray(values, dtype=float)
    if points.ndim != 2:
        raise ValueError(f"points must be an (n, m) array of objective values, got shape {points.shape}")
    return points


def _sign(mode: str) -> float:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return 1.0 if mode == "min" else -1.0

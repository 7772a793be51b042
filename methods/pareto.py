"""Pareto fronts of several objectives: non-dominated sorting and crowding distance.

Every function takes points as an ``(n, m)`` array of objectives to *minimise* (``to_minimization`` turns
max-mode objectives into their negatives). Point ``a`` dominates ``b`` when ``a <= b`` in every objective and
``a < b`` in at least one; equal points do not dominate each other (they share a front).

- ``nondominated_ranks``: the front of every point (0: not dominated by any point; k: dominated only by points of
  fronts < k), as in NSGA-II's fast non-dominated sorting (Deb et al., 2002). Two objectives: a sweep in
  O(n log n) (points sorted by the first objective join the first front whose last point does not dominate
  them; those last points are ordered, so a binary search finds it); more: pairwise dominance, O(m n^2).
- ``crowding_distance``: NSGA-II's crowding distance within one front (boundary points infinite).

Hypervolume (the indicator of the figures, with its trace over time and the reference-point rule) is in
``plotting.hypervolume``: methods do not need it.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

__all__ = [
    "crowding_distance",
    "dominates",
    "nondominated_ranks",
    "pareto_front",
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
    # one comparison per objective: much faster than all/any over a short last axis
    less_equal = points[:, None, 0] <= points[None, :, 0]
    less = points[:, None, 0] < points[None, :, 0]
    for j in range(1, points.shape[1]):
        less_equal &= points[:, None, j] <= points[None, :, j]
        less |= points[:, None, j] < points[None, :, j]
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


def _points(values: np.ndarray) -> np.ndarray:
    points = np.asarray(values, dtype=float)
    if points.ndim != 2:
        raise ValueError(f"points must be an (n, m) array of objective values, got shape {points.shape}")
    return points


def _sign(mode: str) -> float:
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    return 1.0 if mode == "min" else -1.0

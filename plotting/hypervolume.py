"""Exact hypervolume of a set of points, its trace over time, and the reference-point rule.

Points are an ``(n, m)`` array of objectives to *minimise* (``signs`` gives the factors that turn max-mode
objectives into their negatives). The hypervolume is the volume dominated by the points and bounded by the
``reference`` point; points that do not strictly dominate the reference point add nothing, rows with NaN are
skipped.

- ``hypervolume``: exact for 2 objectives (a sort, O(n log n)) and 3 (a sweep over the third objective adding 2-D
  slices: for small sets all slices in one matrix product, for large ones the 2-D front of the points below each
  slice kept as a staircase); more objectives are refused.
- ``hypervolume_trace``: the hypervolume of the first i points, for every i (results in time order: hypervolume
  over time). Only the current front is kept and the volume is updated only when a point enters it; in 2-D the
  front is a staircase, so whether a point enters it is one binary search and only the steps it changes are
  recomputed; in 3-D whether points enter is tested in vectorised blocks.
- ``nondominated``: the non-dominated rows of a set of points (the Pareto-front figures).
- ``reference_point``: the rule that makes hypervolumes comparable across the runs of a benchmark: per objective,
  the worst value among all the points given (every run of every method) plus ``margin`` (default 0.1) times that
  objective's range over them, so that extreme points still add volume.

This is the indicator of the figures; the methods' own Pareto tools (non-dominated sorting, crowding distance) are
in ``methods.pareto``, which ``plotting`` does not import.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np

__all__ = ["hypervolume", "hypervolume_trace", "reference_point", "signs"]

#: the rule's margin: the reference point lies 10% of each objective's range beyond its worst value
MARGIN = 0.1


def signs(modes: Sequence[str]) -> np.ndarray:
    """Per objective +1 (mode "min") or -1 (mode "max"): ``values * signs(modes)`` are all minimised."""
    bad = [mode for mode in modes if mode not in ("min", "max")]
    if bad:
        raise ValueError(f"mode must be 'min' or 'max', got {bad[0]!r}")
    return np.array([1.0 if mode == "min" else -1.0 for mode in modes])


def hypervolume(points: np.ndarray, reference: Sequence[float] | np.ndarray) -> float:
    """The hypervolume dominated by ``points`` and bounded by ``reference`` (minimisation; 2 or 3 objectives)."""
    points = _points(points)
    reference = _reference(reference, points.shape[1])
    inside = points[np.all(np.isfinite(points), axis=1) & np.all(points < reference, axis=1)]
    if inside.shape[0] == 0:
        return 0.0
    if points.shape[1] == 2:
        return _hypervolume_2d(inside, reference)
    return _hypervolume_3d(inside, reference)


def hypervolume_trace(points: np.ndarray, reference: Sequence[float] | np.ndarray) -> np.ndarray:
    """``out[i]`` = ``hypervolume(points[: i + 1], reference)`` for every ``i`` (points in time order)."""
    points = _points(points)
    reference = _reference(reference, points.shape[1])
    if points.shape[1] == 2:
        return _trace_2d(points, reference)
    return _trace_3d(points, reference)


#: points tested at once against the earlier points in ``_entering``
_BLOCK = 128
_EARLIER = np.triu(np.ones((_BLOCK, _BLOCK), dtype=bool), k=1)  # [j, i]: j before i


def _entering(points: np.ndarray) -> np.ndarray:
    """Whether each point (rows in order, no NaN) is NOT weakly dominated (at least as good in every objective) by
    any earlier point. Vectorised per block of points: against the block's earlier points and against the points
    that entered before the block (every earlier point is weakly dominated by one of them)."""
    mask = np.zeros(len(points), dtype=bool)
    entered = np.empty((0, points.shape[1]))
    for start in range(0, len(points), _BLOCK):
        block = points[start : start + _BLOCK]
        k = len(block)
        covered = np.any(_weakly_dominates(block, block) & _EARLIER[:k, :k], axis=0)
        if len(entered):
            covered |= np.any(_weakly_dominates(entered, block), axis=0)
        mask[start : start + k] = ~covered
        entered = np.concatenate([entered, block[~covered]])
    return mask


def _weakly_dominates(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``[i, j]``: ``a[i] <= b[j]`` in every objective (one comparison per objective: faster than ``all`` over a
    short last axis)."""
    out = a[:, None, 0] <= b[None, :, 0]
    for j in range(1, a.shape[1]):
        out &= a[:, None, j] <= b[None, :, j]
    return out


def _trace_3d(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``hypervolume_trace`` in 3-D: the volume changes exactly at the points no earlier point weakly dominates
    (``_entering``); only there is the front updated and its volume recomputed. The trace is the running maximum
    of those volumes."""
    changes = np.zeros(len(points))
    rows = np.flatnonzero(np.all(points < reference, axis=1))  # False for NaN
    front = np.empty((0, points.shape[1]))
    for row in rows[_entering(points[rows])]:
        point = points[row]
        front = np.concatenate([front[~_weakly_dominates(point[None, :], front)[0]], point[None, :]])
        changes[row] = _hypervolume_3d(front, reference)
    return np.maximum.accumulate(changes) if len(changes) else changes


def reference_point(points: np.ndarray, margin: float = MARGIN) -> np.ndarray:
    """Per objective: the worst value of ``points`` (NaN rows ignored) plus ``margin`` times its range (or plus
    ``margin`` in absolute terms where the range is 0)."""
    points = _points(points)
    finite = points[np.all(np.isfinite(points), axis=1)]
    if finite.shape[0] == 0:
        raise ValueError("no finite points to place a reference point by; give reference_points in the spec")
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    worst, best = finite.max(axis=0), finite.min(axis=0)
    span = worst - best
    return worst + margin * np.where(span > 0, span, 1.0)


def nondominated(points: np.ndarray) -> np.ndarray:
    """The rows of ``points`` (minimisation, no NaN) that no other row dominates, sorted by the first objective
    (then the next ones); equal rows are kept once."""
    points = np.unique(_points(points), axis=0)  # sorted lexicographically, duplicates dropped
    if len(points) <= 1:
        return points
    if points.shape[1] == 2:
        best = np.minimum.accumulate(points[:, 1])
        keep = np.ones(len(points), dtype=bool)
        keep[1:] = points[1:, 1] < best[:-1]  # sorted by x: kept iff below every earlier y
        return points[keep]
    # a point's dominators precede it in lexicographic order, and no two rows are equal
    return points[_entering(points)]


def _trace_2d(points: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``hypervolume_trace`` in 2-D. The front is a staircase sorted by x (y falling): whether a point is covered is
    one binary search (the front point with the largest x <= its x covers it iff its y <= the point's). The volume
    is the sum over front points j of ``(x[j+1] - x[j]) * (ry - y[j])`` (``x[n]`` = rx); a new point changes only
    the terms of its left neighbour and of the points it dominates, so only those are recomputed."""
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
                right = xs[end] if end < len(xs) else rx
                before = after = 0.0
                for j in range(k, end):
                    before += ((xs[j + 1] if j + 1 < len(xs) else rx) - xs[j]) * (ry - ys[j])
                if k:
                    before += ((xs[k] if k < len(xs) else rx) - xs[k - 1]) * (ry - ys[k - 1])
                    after += (x - xs[k - 1]) * (ry - ys[k - 1])
                after += (right - x) * (ry - y)
                volume += after - before
                xs[k:end], ys[k:end] = [x], [y]
        out[i] = volume
    return out


def _hypervolume_2d(points: np.ndarray, reference: np.ndarray) -> float:
    order = np.lexsort((points[:, 1], points[:, 0]))
    x, y = points[order, 0], points[order, 1]
    best = np.minimum.accumulate(y)
    # a point adds the strip between its x and the next point's x, below the best y so far
    widths = np.diff(np.append(x, reference[0]))
    return float(np.sum(widths * (reference[1] - best)))


#: fronts up to this size get the vectorised 3-D hypervolume (memory: size² floats)
_DENSE_3D = 512


def _hypervolume_3d(points: np.ndarray, reference: np.ndarray) -> float:
    """Slices along z: from each point's z to the next one's, the 2-D hypervolume of the points with z <= it.

    Small sets: every slice at once. With the points sorted by x, the slice of the first k points (in z order) has
    area sum_i (x[i+1] - x[i]) * (ry - min(y[j] : j <= i, j among them)) (x[n] = rx; the order of equal x does not
    matter); a matrix (slices x points) of those minima gives every area in one product. Large sets: the slices'
    areas are the 2-D trace of the points sorted by z.
    """
    n = len(points)
    order = np.argsort(points[:, 2], kind="stable")
    z = points[order, 2]
    heights = np.empty(n)
    heights[:-1] = z[1:] - z[:-1]
    heights[-1] = reference[2] - z[-1]
    if n > _DENSE_3D:
        return float(heights @ _trace_2d(points[order, :2], reference[:2]))
    by_x = np.argsort(points[:, 0], kind="stable")
    rank_z = np.empty(n, dtype=np.int64)
    rank_z[order] = np.arange(n)
    included = rank_z[by_x] <= np.arange(n)[:, None]  # [slice k, point i in x order]
    lowest = np.minimum.accumulate(np.where(included, points[by_x, 1], reference[1]), axis=1)
    x = points[by_x, 0]
    widths = np.empty(n)
    widths[:-1] = x[1:] - x[:-1]
    widths[-1] = reference[0] - x[-1]
    return float(heights @ ((reference[1] - lowest) @ widths))


def _points(values: np.ndarray) -> np.ndarray:
    points = np.asarray(values, dtype=float)
    if points.ndim != 2:
        raise ValueError(f"points must be an (n, m) array of objective values, got shape {points.shape}")
    return points


def _reference(reference: Sequence[float] | np.ndarray, m: int) -> np.ndarray:
    """``reference`` checked: ``m`` finite values, and 2 or 3 objectives."""
    reference = np.asarray(reference, dtype=float)
    if reference.shape != (m,) or not np.all(np.isfinite(reference)):
        raise ValueError(f"the reference point must have {m} finite values, got {reference.tolist()}")
    if m not in (2, 3):
        raise ValueError(f"exact hypervolume is implemented for 2 or 3 objectives, got {m}")
    return reference

"""Multi-objective priorities: which of several loss vectors (smaller is better in every objective) comes first.

Shared by MOASHA (``methods.moasha``: which trials of a rung go on) and MOREA (``methods.morea``: which member of
the population wins a tournament). The two priorities of the seed documentation (Syne Tune 0.13,
``multiobjective_priority``):

- ``NonDominatedPriority`` (the default, "nondominated"): points are ordered front by front (non-dominated sorting,
  ``methods.pareto.nondominated_ranks``) and, inside a front, by an epsilon-net order (the documentation's
  ``compute_epsilon_net``, after Clarkson 2005): first the point with the lowest value of objective ``dim``
  (default 0, the first objective), then again and again the point farthest (Euclidean distance in the units
  of the losses, as documented: no rescaling) from the points already ordered. Ties are broken by the lower
  index (the earlier point). A point's priority is its position in that order.
- ``LinearScalarizationPriority`` ("linear"): the weighted sum of the losses (``weights``, default 1 each).

``rank_of_last(points)`` is the rank of the last point (a newcomer) among all of them: the number of points
strictly ahead of it. Identical points share a rank (the position of the first of them in the order), so with
one objective the rank is the number of strictly smaller losses, for both priorities.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence

import numpy as np

from methods.pareto import nondominated_ranks

PRIORITIES = ("nondominated", "linear")


def epsilon_net_order(points: np.ndarray, dim: int = 0, stop_at: int | None = None) -> list[int]:
    """Greedy farthest-point order of the rows of ``points`` (see the module docstring); with ``stop_at``, the
    order only up to the first row identical to row ``stop_at`` (inclusive)."""
    n = len(points)
    if n == 0:
        return []
    first = int(np.argmin(points[:, dim]))
    order = [first]
    target = None if stop_at is None else points[stop_at]
    if target is not None and np.array_equal(points[first], target):
        return order
    nearest = np.sqrt(((points - points[first]) ** 2).sum(axis=1))
    nearest[first] = -1.0  # chosen rows never win again
    for _ in range(n - 1):
        choice = int(np.argmax(nearest))  # the first on ties
        order.append(choice)
        if target is not None and np.array_equal(points[choice], target):
            break
        np.minimum(nearest, np.sqrt(((points - points[choice]) ** 2).sum(axis=1)), out=nearest)
        nearest[choice] = -1.0
    return order


class Priority(abc.ABC):
    """Orders loss vectors (rows of an ``(n, m)`` array, smaller is better)."""

    @abc.abstractmethod
    def scores(self, points: np.ndarray) -> np.ndarray:
        """One score per row: lower comes first; identical rows score the same."""

    @abc.abstractmethod
    def rank_of_last(self, points: np.ndarray) -> int:
        """How many rows are strictly ahead of the last row (identical rows share a rank)."""

    @abc.abstractmethod
    def describe(self) -> str: ...


class NonDominatedPriority(Priority):
    """Non-dominated sorting, an epsilon-net order inside each front (see the module docstring)."""

    def __init__(self, dim: int = 0) -> None:
        self.dim = dim

    def order(self, points: np.ndarray) -> np.ndarray:
        """Row indices, first to last."""
        points = np.asarray(points, dtype=float)
        ranks = nondominated_ranks(points)
        order: list[int] = []
        for front in range(int(ranks.max(initial=-1)) + 1):
            members = np.flatnonzero(ranks == front)
            order.extend(members[epsilon_net_order(points[members], self.dim)].tolist())
        return np.array(order, dtype=np.int64)

    def scores(self, points: np.ndarray) -> np.ndarray:
        """Each row's position in the order; identical rows share the position of the first of them."""
        points = np.asarray(points, dtype=float)
        positions = np.empty(len(points))
        positions[self.order(points)] = np.arange(len(points))
        _, group = np.unique(points, axis=0, return_inverse=True)
        group = group.reshape(-1)
        first = np.full(group.max(initial=-1) + 1, np.inf)
        np.minimum.at(first, group, positions)
        return first[group]

    def rank_of_last(self, points: np.ndarray) -> int:
        points = np.asarray(points, dtype=float)
        ranks = nondominated_ranks(points)
        front = ranks[-1]
        ahead = int(np.count_nonzero(ranks < front))
        members = np.flatnonzero(ranks == front)  # the last row is the last member
        order = epsilon_net_order(points[members], self.dim, stop_at=len(members) - 1)
        return ahead + len(order) - 1

    def describe(self) -> str:
        return f"non-dominated sorting, epsilon-net order within a front (seeded by the lowest objective {self.dim})"


class LinearScalarizationPriority(Priority):
    """The weighted sum of the losses."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = np.asarray(weights, dtype=float)

    def scores(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, dtype=float) @ self.weights

    def rank_of_last(self, points: np.ndarray) -> int:
        scores = self.scores(points)
        return int(np.count_nonzero(scores < scores[-1]))

    def describe(self) -> str:
        return "weighted sum of the losses, weights " + ", ".join(f"{w:g}" for w in self.weights)


def make_priority(kind: str, weights: Sequence[float] | None, num_objectives: int) -> Priority:
    """The priority named ``kind`` ("nondominated" or "linear") for ``num_objectives`` objectives."""
    if kind not in PRIORITIES:
        raise ValueError(f"`multiobjective_priority` is {kind!r}, but must be one of {PRIORITIES}")
    if kind == "nondominated":
        if weights is not None:
            raise ValueError("`weights` apply to multiobjective_priority='linear' only; drop them or use 'linear'")
        return NonDominatedPriority()
    return LinearScalarizationPriority(check_weights(weights, num_objectives))


def check_weights(weights: Sequence[float] | None, num_objectives: int) -> np.ndarray:
    """``weights`` as an array, one positive finite weight per objective (default: 1 each)."""
    if weights is None:
        return np.ones(num_objectives)
    array = np.asarray(weights, dtype=float)
    if array.shape != (num_objectives,) or not np.all(np.isfinite(array)) or np.any(array <= 0):
        given = list(np.atleast_1d(weights))
        raise ValueError(f"`weights` must be {num_objectives} positive numbers, one per objective, got {given}")
    return array

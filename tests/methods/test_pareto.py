"""Pareto fronts: non-dominated sorting against the definition and pymoo, crowding distance as NSGA-II defines
it (hypervolume: tests/plotting/test_hypervolume.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from methods.pareto import (
    crowding_distance,
    dominates,
    nondominated_ranks,
    pareto_front,
    to_minimization,
)
from tests.blackbox_repository.optional import import_or_skip

pymoo_nds = import_or_skip("pymoo.util.nds.non_dominated_sorting", "needs pymoo: pip install -e '.[test]'")


def ranks_by_definition(points: np.ndarray) -> np.ndarray:
    """Peel fronts off by the definition of dominance, O(n^3): the reference the fast sorts must equal."""
    ranks = np.full(len(points), -1)
    remaining = set(range(len(points)))
    front = 0
    while remaining:
        current = {i for i in remaining if not any(dominates(points[j], points[i]) for j in remaining if j != i)}
        for i in current:
            ranks[i] = front
        remaining -= current
        front += 1
    return ranks


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("seed", range(6))
def test_nondominated_ranks_follow_the_definition_with_ties(m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 6, size=(60, m)).astype(float)  # a small grid: many ties and duplicates
    np.testing.assert_array_equal(nondominated_ranks(points), ranks_by_definition(points))


@pytest.mark.parametrize("m", [2, 3])
def test_nondominated_ranks_equal_pymoo(m: int) -> None:
    rng = np.random.default_rng(m)
    points = rng.random((300, m))
    fronts = pymoo_nds.NonDominatedSorting().do(points)
    expected = np.empty(len(points), dtype=int)
    for k, front in enumerate(fronts):
        expected[front] = k
    np.testing.assert_array_equal(nondominated_ranks(points), expected)


def test_nan_rows_are_left_out_and_the_front_is_the_first_rank() -> None:
    points = np.array([[1.0, 2.0], [np.nan, 0.0], [2.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(nondominated_ranks(points), [0, -1, 0, 1])
    np.testing.assert_array_equal(pareto_front(points), [0, 2])


def test_max_mode_objectives_are_negated() -> None:
    values = np.array([[0.9, 10.0], [0.8, 5.0]])  # accuracy (max), latency (min)
    np.testing.assert_array_equal(to_minimization(values, ["max", "min"]), [[-0.9, 10.0], [-0.8, 5.0]])
    np.testing.assert_array_equal(nondominated_ranks(to_minimization(values, ["max", "min"])), [0, 0])
    with pytest.raises(ValueError, match="mode must be"):
        to_minimization(values, ["max", "lower"])


def test_crowding_distance_as_nsga2_defines_it() -> None:
    front = np.array([[0.0, 4.0], [1.0, 2.0], [2.0, 1.0], [4.0, 0.0]])
    distance = crowding_distance(front)
    assert np.isinf(distance[0]) and np.isinf(distance[3])
    # point 1: neighbours 0 and 2 -> (2 - 0) / 4 + (4 - 1) / 4
    assert distance[1] == pytest.approx(2 / 4 + 3 / 4)
    assert distance[2] == pytest.approx(3 / 4 + 2 / 4)
    assert np.all(np.isinf(crowding_distance(front[:2])))


def test_every_pair_of_a_front_is_mutually_nondominated() -> None:
    rng = np.random.default_rng(7)
    points = rng.random((200, 3))
    front = points[pareto_front(points)]
    assert not any(dominates(a, b) for a, b in itertools.permutations(front, 2))

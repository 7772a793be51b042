"""Pareto fronts: non-dominated sorting against the definition and pymoo, hypervolume against pymoo on random
fronts (2 and 3 objectives), crowding distance as NSGA-II defines it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from methods.pareto import (
    crowding_distance,
    dominates,
    hypervolume,
    hypervolume_trace,
    nondominated_ranks,
    pareto_front,
    reference_point,
    to_minimization,
)
from tests.blackbox_repository.optional import import_or_skip

pymoo_hv = import_or_skip("pymoo.indicators.hv", "needs pymoo (a test dependency): pip install -e '.[test]'")
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


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(10))
def test_hypervolume_equals_pymoo_on_random_fronts(m: int, seed: int) -> None:
    rng = np.random.default_rng(100 * m + seed)
    n = int(rng.integers(1, 200))
    if seed % 2:  # points on a curved front, the case of interest
        directions = np.abs(rng.normal(size=(n, m)))
        points = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    else:  # a cloud, many points dominated, some beyond the reference point
        points = rng.random((n, m)) * 1.2
    reference = np.full(m, 1.1)
    expected = pymoo_hv.HV(ref_point=reference)(points[np.all(points < reference, axis=1)]) if np.any(
        np.all(points < reference, axis=1)
    ) else 0.0
    assert hypervolume(points, reference) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_hypervolume_by_hand() -> None:
    # two points in 2-D: the union of two rectangles, 3 x 1 and 2 x 3, overlapping in 2 x 1
    assert hypervolume(np.array([[1.0, 3.0], [2.0, 1.0]]), [4.0, 4.0]) == pytest.approx(3 * 1 + 2 * 3 - 2 * 1)
    # a dominated point and a point outside the reference box add nothing
    assert hypervolume(np.array([[1.0, 1.0], [2.0, 2.0], [5.0, 0.0]]), [4.0, 4.0]) == pytest.approx(9.0)
    # 3-D: a unit cube corner at the origin of a 2x2x2 box, and a point on the box boundary adds nothing
    assert hypervolume(np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0]]), [2.0, 2.0, 2.0]) == pytest.approx(8.0)
    assert hypervolume(np.empty((0, 2)), [1.0, 1.0]) == 0.0


def test_hypervolume_refuses_more_objectives_and_bad_reference_points() -> None:
    with pytest.raises(ValueError, match="2 or 3 objectives"):
        hypervolume(np.zeros((3, 4)), np.ones(4))
    with pytest.raises(ValueError, match="reference point must have 2 finite values"):
        hypervolume(np.zeros((3, 2)), [1.0, np.inf])


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


@pytest.mark.parametrize("m", [2, 3])
def test_hypervolume_trace_is_the_hypervolume_of_every_prefix(m: int) -> None:
    rng = np.random.default_rng(m)
    points = rng.random((150, m)) * 1.2
    points[rng.random(150) < 0.05] = np.nan  # failed trials
    points[10] = points[3]  # a repeated point adds nothing
    reference = np.full(m, 1.1)
    trace = hypervolume_trace(points, reference)
    finite = np.all(np.isfinite(points), axis=1)
    expected = [hypervolume(points[: i + 1][finite[: i + 1]], reference) for i in range(len(points))]
    np.testing.assert_allclose(trace, expected, rtol=1e-12, atol=1e-15)
    assert np.all(np.diff(trace) >= 0)


def test_reference_point_rule() -> None:
    points = np.array([[0.0, 10.0], [1.0, 20.0], [np.nan, 0.0], [0.5, 10.0]])
    np.testing.assert_allclose(reference_point(points), [1.0 + 0.1 * 1.0, 20.0 + 0.1 * 10.0])
    np.testing.assert_allclose(reference_point(np.array([[2.0, 3.0]]), margin=0.5), [2.5, 3.5])
    with pytest.raises(ValueError, match="no finite points"):
        reference_point(np.array([[np.nan, 1.0]]))


def test_hypervolume_trace_in_2d_with_ties_equals_prefix_recomputation() -> None:
    rng = np.random.default_rng(11)
    points = rng.integers(0, 8, size=(300, 2)).astype(float)  # many equal x, equal y and repeated points
    trace = hypervolume_trace(points, [8.0, 8.0])
    expected = [hypervolume(points[: i + 1], [8.0, 8.0]) for i in range(len(points))]
    np.testing.assert_allclose(trace, expected, rtol=1e-12)

"""Hypervolume (``plotting.hypervolume``): against pymoo on random fronts (2 and 3 objectives) and by hand, its
trace over time against recomputation on every prefix, the reference-point rule, the non-dominated filter."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from plotting.hypervolume import hypervolume, hypervolume_trace, nondominated, reference_point, signs
from tests.blackbox_repository.optional import import_or_skip

pymoo_hv = import_or_skip("pymoo.indicators.hv", "needs pymoo (a test dependency): pip install -e '.[test]'")


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
    expected = (
        pymoo_hv.HV(ref_point=reference)(points[np.all(points < reference, axis=1)])
        if np.any(np.all(points < reference, axis=1))
        else 0.0
    )
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


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_nondominated_keeps_exactly_the_points_nothing_dominates(m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 6, size=(80, m)).astype(float)  # ties and duplicates
    front = nondominated(points)
    expected = {tuple(p) for p in points if not any(dominates(q, p) for q in points)}
    assert {tuple(p) for p in front} == expected and len(front) == len(expected)
    assert not any(dominates(a, b) for a, b in itertools.permutations(front, 2))
    np.testing.assert_array_equal(front, front[np.lexsort(front.T[::-1])])  # sorted by the first objective
    assert hypervolume(front, np.full(m, 7.0)) == pytest.approx(hypervolume(points, np.full(m, 7.0)), rel=1e-12)


def test_signs_turn_max_objectives_into_minimised_ones() -> None:
    np.testing.assert_array_equal(signs(["min", "max"]), [1.0, -1.0])
    with pytest.raises(ValueError, match="mode must be"):
        signs(["min", "lower"])


def test_hypervolume_trace_in_3d_with_ties_equals_prefix_recomputation() -> None:
    rng = np.random.default_rng(12)
    points = rng.integers(0, 5, size=(120, 3)).astype(float)  # equal coordinates and repeated points
    trace = hypervolume_trace(points, [5.0, 5.0, 5.0])
    expected = [pymoo_hv.HV(ref_point=np.full(3, 5.0))(points[: i + 1]) for i in range(len(points))]
    np.testing.assert_allclose(trace, expected, rtol=1e-12)


def test_long_2d_trace_stays_exact() -> None:
    # 20,000 points arriving in random order on and behind a curved front: the volume is updated incrementally
    rng = np.random.default_rng(5)
    angles = rng.uniform(0, np.pi / 2, 20_000)
    points = np.column_stack([np.cos(angles), np.sin(angles)]) * rng.uniform(1.0, 1.05, (20_000, 1))
    trace = hypervolume_trace(points, [1.2, 1.2])
    checked = [99, 999, 9_999, 19_999]
    expected = [pymoo_hv.HV(ref_point=np.full(2, 1.2))(points[: i + 1]) for i in checked]
    np.testing.assert_allclose(trace[checked], expected, rtol=1e-12)
    assert np.all(np.diff(trace) >= 0)

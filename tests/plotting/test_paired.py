"""Probability of improvement (unpaired) and paired-seed comparisons, against hand-worked values and scipy."""

import dataclasses
import warnings

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, wilcoxon

from plotting.paired import (
    _weighted_poi,
    paired_comparison,
    pairwise_matrix,
    poi_interval,
    probability_of_improvement,
)
from plotting.stats import SINGLE_RUN_NOTE


def test_poi_of_small_arrays_with_a_tie():
    # task 0, mode "min" (lower is better): x = [1, 2, 3], y = [2, 4]
    #            y=2   y=4
    #   x=1  S =  1     1
    #   x=2       1/2   1      <- tie
    #   x=3       0     1
    # sum 4.5 over N K = 6 -> 0.75 (= Mann-Whitney U of y over x / 6)
    # task 1: x = [5], y = [5] -> a single tie -> 0.5; mean over tasks (0.75 + 0.5) / 2 = 0.625
    x = [np.array([1.0, 2.0, 3.0]), np.array([5.0])]
    y = [np.array([2.0, 4.0]), np.array([5.0])]
    assert probability_of_improvement(x[:1], y[:1], "min") == pytest.approx(0.75)
    assert probability_of_improvement(x[:1], y[:1], "min") == pytest.approx(mannwhitneyu(y[0], x[0]).statistic / 6)
    assert probability_of_improvement(x, y, "min") == pytest.approx(0.625)
    # "max": S becomes 1 - S (ties stay 1/2) -> task 0 gives 0.25
    assert probability_of_improvement(x[:1], y[:1], "max") == pytest.approx(0.25)
    assert probability_of_improvement(x, y, "min") + probability_of_improvement(y, x, "min") == pytest.approx(1.0)


def test_poi_tolerance_and_missing_runs():
    assert probability_of_improvement([np.array([1.0])], [np.array([1.05])], "min") == 1.0
    assert probability_of_improvement([np.array([1.0])], [np.array([1.05])], "min", tol=0.1) == 0.5
    # NaN runs are dropped per method: x = [1], y = [2] -> 1; a task without runs of x is skipped
    x = [np.array([1.0, np.nan]), np.array([np.nan])]
    y = [np.array([2.0, 2.0]), np.array([0.0])]
    assert probability_of_improvement(x, y, "min") == 1.0
    with pytest.raises(ValueError):
        probability_of_improvement(x, y, "lower")


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("tol", [0.0, 0.5, 0.7])
def test_sorted_prefix_sums_equal_the_s_matrix(mode, tol):
    # the bootstrap never forms S; compare with c_x^T S c_y / (sum c_x * sum c_y) on data full of ties
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.integers(0, 5, size=rng.integers(1, 8)) * 0.5
        y = rng.integers(0, 5, size=rng.integers(1, 8)) * 0.5
        counts_x = rng.integers(0, 4, size=(3, x.size)).astype(float) + np.eye(1, x.size)
        counts_y = rng.integers(0, 4, size=(3, y.size)).astype(float) + np.eye(1, y.size)
        d = y[None, :] - x[:, None] if mode == "min" else x[:, None] - y[None, :]
        s = np.where(np.abs(d) <= tol, 0.5, (d > 0).astype(float))
        expected = np.einsum("rn,nk,rk->r", counts_x, s, counts_y) / (counts_x.sum(1) * counts_y.sum(1))
        np.testing.assert_allclose(_weighted_poi(x, y, counts_x, counts_y, mode, tol), expected)


def test_poi_interval():
    rng = np.random.default_rng(0)
    x = [rng.normal(0.0, 1.0, size=10) for _ in range(4)]
    y = [rng.normal(0.5, 1.0, size=12) for _ in range(4)]
    interval = poi_interval(x, y, "min", seed=1)
    assert interval.point == pytest.approx(probability_of_improvement(x, y, "min"))
    assert 0.0 <= interval.low <= interval.point <= interval.high <= 1.0
    assert (interval.n_runs, interval.n_tasks) == (88, 4)
    assert dataclasses.astuple(poi_interval(x, y, "min", seed=1)) == dataclasses.astuple(interval)
    assert poi_interval(x, y, "min", seed=2).low != interval.low
    clearly_better = poi_interval(x, [v + 10.0 for v in y], "min", seed=1)
    assert clearly_better.low == clearly_better.point == clearly_better.high == 1.0


def _independent_poi_interval(x_tasks, y_tasks, mode, reps, confidence, seed):
    """rliable's two-sided stratified bootstrap of P(X > Y), written out with the full S matrix per task.

    Independent draws (a generator of its own), so it agrees with ``poi_interval`` up to Monte Carlo error.
    """
    rng = np.random.default_rng(seed)
    total = np.zeros(reps)
    for x, y in zip(x_tasks, y_tasks):
        xr = x[rng.integers(0, x.size, size=(reps, x.size))]
        yr = y[rng.integers(0, y.size, size=(reps, y.size))]
        d = yr[:, None, :] - xr[:, :, None] if mode == "min" else xr[:, :, None] - yr[:, None, :]
        total += np.where(d == 0, 0.5, (d > 0).astype(float)).mean(axis=(1, 2))
    alpha = 100 * (1 - confidence) / 2
    return np.percentile(total / len(x_tasks), [alpha, 100 - alpha])


@pytest.mark.parametrize("mode", ["min", "max"])
def test_poi_interval_resamples_both_methods(mode):
    # the interval agrees with a two-sided bootstrap; resampling only X's (or only Y's) runs would make it
    # about 1/sqrt(2) as wide here (both sides spread alike), far outside the tolerance
    rng = np.random.default_rng(3)
    x = [rng.normal(0.0, 1.0, size=12) for _ in range(3)]
    y = [rng.normal(0.3, 1.0, size=12) for _ in range(3)]
    interval = poi_interval(x, y, mode, reps=20000, seed=0)
    low, high = _independent_poi_interval(x, y, mode, 20000, 0.95, 7)
    assert interval.low == pytest.approx(low, abs=0.012)
    assert interval.high == pytest.approx(high, abs=0.012)
    assert interval.high - interval.low == pytest.approx(high - low, rel=0.06)


def test_poi_interval_is_not_degenerate_when_one_side_is_constant():
    # X constant, Y spread over both sides of it (and the reverse): only resampling the other side moves P, so
    # resampling one side only would give a zero-width interval in one of the two cases
    constant = [np.full(10, 0.5)]
    spread = [np.linspace(0.0, 1.0, 10)]
    for x, y in ((constant, spread), (spread, constant)):
        interval = poi_interval(x, y, "min", reps=5000, seed=1)
        assert interval.point == pytest.approx(0.5)
        low, high = _independent_poi_interval(x, y, "min", 5000, 0.95, 2)
        assert interval.high - interval.low > 0.2
        assert interval.low == pytest.approx(low, abs=0.05) and interval.high == pytest.approx(high, abs=0.05)


def test_poi_takes_rliable_shaped_matrices():
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(10, 4)), rng.normal(0.5, 1.0, size=(10, 4))  # runs x tasks
    assert probability_of_improvement(x, y, "min") == pytest.approx(
        probability_of_improvement(list(x.T), list(y.T), "min")
    )
    assert dataclasses.astuple(poi_interval(x, y, "min", seed=3)) == dataclasses.astuple(
        poi_interval(list(x.T), list(y.T), "min", seed=3)
    )
    with pytest.raises(ValueError, match="1-D"):
        probability_of_improvement([x], [y], "min")


def test_poi_interval_single_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        interval = poi_interval([np.array([1.0, 2.0])], [np.array([3.0])], "min")
    assert interval.point == 1.0
    assert np.isnan(interval.low) and np.isnan(interval.high)
    assert interval.note == SINGLE_RUN_NOTE


def test_paired_counts_and_paired_poi():
    # mode "min", improvement of A over B = b - a per seed:
    #   seed 0: 2 - 1 = 1 (win), seed 1: 2 - 2 = 0 (tie), seed 2: 1 - 3 = -2 (loss), seed 3: 5 - 4 = 1 (win),
    #   seed 4: a missing -> dropped
    # paired_poi = (2 + 1/2) / 4 = 0.625
    a = np.array([1.0, 2.0, 3.0, 4.0, np.nan])
    b = np.array([2.0, 2.0, 1.0, 5.0, 3.0])
    result = paired_comparison(a, b, "min")
    assert (result.wins, result.ties, result.losses, result.n, result.dropped) == (2, 1, 1, 4, 1)
    assert result.paired_poi == pytest.approx(0.625)
    expected = wilcoxon(np.array([1.0, 0.0, -2.0, 1.0]))
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.wilcoxon_statistic == pytest.approx(expected.statistic)
    assert "cannot reach p < 0.05" in result.note and "1 pair(s) with a missing value dropped" in result.note
    mirrored = paired_comparison(b, a, "min")
    assert (mirrored.wins, mirrored.losses, mirrored.p_value) == (1, 2, result.p_value)
    assert paired_comparison(a, b, "max").wins == 1


def test_wilcoxon_matches_scipy_on_a_known_example():
    # differences from scipy's documentation example; |d| are all distinct, so the ranks are 1..15 and the
    # negative differences -48 and -67 have ranks 10 and 14: W- = 24, W+ = 120 - 24 = 96 -> statistic min = 24
    d = np.array([6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75], dtype=float)
    b = np.linspace(100.0, 200.0, d.size)
    a = b + d  # mode "max": A is better where d > 0
    result = paired_comparison(a, b, "max")
    assert result.wilcoxon_statistic == 24.0
    assert result.p_value == pytest.approx(wilcoxon(d).pvalue)
    assert result.p_value == pytest.approx(0.04126, abs=1e-5)
    assert (result.wins, result.losses, result.note) == (13, 2, "")


def test_degenerate_paired_inputs_do_not_crash():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        all_ties = paired_comparison(np.ones(8), np.ones(8), "min")
        none = paired_comparison(np.array([np.nan, 1.0]), np.array([2.0, np.nan]), "min")
        single = paired_comparison(np.array([1.0]), np.array([2.0]), "min")
        within_tol = paired_comparison(np.array([1.0, 2.0]), np.array([1.01, 3.0]), "min", tol=0.05)
    assert (all_ties.ties, all_ties.p_value, all_ties.paired_poi) == (8, 1.0, 0.5)
    assert "all paired differences are ties" in all_ties.note
    assert none.n == 0 and none.dropped == 2 and np.isnan(none.p_value) and "no pairs" in none.note
    assert single.wins == 1 and 0.0 < single.p_value <= 1.0 and "cannot reach" in single.note
    assert (within_tol.wins, within_tol.ties, within_tol.losses) == (1, 1, 0)
    with pytest.raises(ValueError):
        paired_comparison(np.ones(3), np.ones(4), "min")


def test_pairwise_matrix():
    # two tasks, 3 seeds each, aligned by seed; method "c" misses seed 2 of task 1
    scores = {
        "a": [np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 1.0])],
        "b": [np.array([2.0, 3.0, 4.0]), np.array([2.0, 1.0, 0.0])],
        "c": [np.array([0.0, 5.0, 6.0]), np.array([3.0, 3.0, np.nan])],
    }
    table = pairwise_matrix(scores, "min", seed=0)
    assert list(table[["method_a", "method_b"]].itertuples(index=False, name=None)) == [
        ("a", "b"),
        ("a", "c"),
        ("b", "a"),
        ("b", "c"),
        ("c", "a"),
        ("c", "b"),
    ]
    assert {"poi", "low", "high", "wins", "ties", "losses", "dropped", "p_value"} <= set(table.columns)
    ab = table.iloc[0]
    # a vs b, lower is better: task 0 a wins all 3 seeds; task 1 seeds: 1<2 win, 1=1 tie, 1>0 loss
    assert (ab["wins"], ab["ties"], ab["losses"], ab["dropped"]) == (4, 1, 1, 0)
    assert ab["paired_poi"] == pytest.approx(4.5 / 6)
    assert ab["poi"] == pytest.approx(probability_of_improvement(scores["a"], scores["b"], "min"))
    ba = table.iloc[2]
    assert ba["poi"] == pytest.approx(1.0 - ab["poi"])
    assert (ba["low"], ba["high"]) == pytest.approx((1.0 - ab["high"], 1.0 - ab["low"]))
    assert (ba["wins"], ba["losses"], ba["p_value"]) == (ab["losses"], ab["wins"], ab["p_value"])
    assert table.iloc[1]["dropped"] == 1 and table.iloc[1]["n"] == 5
    reordered = pairwise_matrix({k: scores[k] for k in ("c", "b", "a")}, "min", seed=0)
    row = reordered[(reordered["method_a"] == "a") & (reordered["method_b"] == "b")].iloc[0]
    assert (row["low"], row["high"]) == (ab["low"], ab["high"])
    with pytest.raises(ValueError, match="aligned"):
        pairwise_matrix({"a": [np.ones(3)], "b": [np.ones(2)]}, "min")

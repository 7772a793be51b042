"""IQM, trimmed means, stratified bootstrap intervals and percentile bands (expected values worked out by hand)."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import trim_mean

from plotting.stats import (
    SINGLE_RUN_NOTE,
    STATISTICS,
    Interval,
    aggregate,
    derive_seed,
    interval_table,
    iqm,
    optimality_gap,
    percentile_band,
    stratified_bootstrap,
    task_scores,
    trimmed_mean,
)


def test_iqm_pools_runs_over_tasks():
    # tasks {8, 1, 5, 3} and {2, 7, 4, 6} pool to 1..8; n = 8, k = int(0.25 * 8) = 2 cut from each end
    # -> middle 3, 4, 5, 6 -> mean 4.5 (the per-task IQMs 4.0 and 5.0 are not what is wanted)
    per_task = [np.array([8.0, 1.0, 5.0, 3.0]), np.array([2.0, 7.0, 4.0, 6.0])]
    assert aggregate(per_task, "iqm") == pytest.approx(4.5)
    assert iqm(np.arange(1, 9)) == pytest.approx(4.5)
    assert iqm(np.stack(per_task)) == pytest.approx(4.5)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # n = 7: k = int(1.75) = 1 -> drop 1 and 100, mean of 2..6 = 4
        ([1, 2, 3, 4, 5, 6, 100], 4.0),
        # n = 5: k = int(1.25) = 1 -> sorted 1 2 3 10 50 -> mean(2, 3, 10) = 5
        ([10, 1, 2, 3, 50], 5.0),
        # n = 6: k = int(1.5) = 1 -> mean(2, 3, 4, 5) = 3.5
        ([1, 2, 3, 4, 5, 60], 3.5),
        # n = 3: k = int(0.75) = 0 -> plain mean 5
        ([1, 2, 12], 5.0),
    ],
)
def test_iqm_with_n_not_divisible_by_4(values, expected):
    assert iqm(values) == pytest.approx(expected)
    assert iqm(values) == pytest.approx(trim_mean(values, 0.25))


def test_trimmed_mean_agrees_with_scipy_for_every_size():
    rng = np.random.default_rng(3)
    for n in range(1, 30):
        x = rng.normal(size=n)
        for proportion in (0.0, 0.1, 0.25, 0.4):
            assert trimmed_mean(x, proportion) == pytest.approx(trim_mean(x, proportion), rel=1e-12)


def test_trimmed_mean_ignores_nan_and_rejects_bad_proportions():
    assert iqm([1.0, np.nan, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(3.0)  # 1..5: k = 1 -> mean(2, 3, 4)
    assert np.isnan(iqm([np.nan]))
    with pytest.raises(ValueError):
        trimmed_mean([1.0, 2.0], 0.5)


def test_mean_is_pooled_and_median_is_the_median_of_per_task_means():
    per_task = [np.array([1.0, 2.0]), np.array([3.0, 10.0])]
    assert aggregate(per_task, "mean") == pytest.approx(4.0)  # 16 / 4
    # rliable: per-task means 1.5 and 6.5 -> median 4.0; the pooled median (2 and 3 in the middle) is 2.5
    assert aggregate(per_task, "median") == pytest.approx(4.0)
    assert aggregate(per_task, "pooled_median") == pytest.approx(2.5)
    # three tasks: means 4, 0, 8.75 -> median 4; pooled 0 0 0 0 1 2 | 3 5 5 5 10 20 -> 2.5
    three = [np.array([1.0, 2.0, 3.0, 10.0]), np.zeros(4), np.array([5.0, 5.0, 5.0, 20.0])]
    assert aggregate(three, "median") == pytest.approx(4.0)
    assert aggregate(three, "pooled_median") == pytest.approx(2.5)
    with pytest.raises(ValueError):
        aggregate(per_task, "mode")


def test_optimality_gap_by_hand():
    # gamma = 1: max(0, 1 - s) = 0.5, 0, 0.2 -> 0.7 / 3; tasks pooled
    assert aggregate([np.array([0.5, 1.5]), np.array([0.8])], "optimality_gap") == pytest.approx(0.7 / 3)
    assert optimality_gap(np.array([0.5, 1.5, 0.8]), gamma=2.0) == pytest.approx((1.5 + 0.5 + 1.2) / 3)
    np.testing.assert_allclose(optimality_gap(np.array([[0.0, 2.0], [1.0, 1.0]])), [0.5, 0.0])


def test_a_2d_matrix_is_runs_by_tasks_as_in_rliable():
    rng = np.random.default_rng(4)
    matrix = rng.normal(size=(30, 5)) + np.arange(5)  # 30 runs of 5 tasks (task m centred on m)
    assert aggregate(matrix, "median") == pytest.approx(np.median(matrix.mean(axis=0)))
    assert aggregate(matrix, "median") != pytest.approx(np.median(matrix.mean(axis=1)))
    columns = list(matrix.T)
    named = {f"task{m}": column for m, column in enumerate(columns)}
    for statistic in ("median", "iqm"):
        expected = dataclasses.astuple(stratified_bootstrap(columns, statistic, seed=2))
        assert dataclasses.astuple(stratified_bootstrap(matrix, statistic, seed=2)) == expected
        assert dataclasses.astuple(stratified_bootstrap(named, statistic, seed=2)) == expected
    assert stratified_bootstrap(matrix, "mean").n_tasks == 5
    # stratification follows the columns: task 0 always 0, task 1 always 10 -> every resample's mean is 5
    constant = np.stack([np.zeros(6), np.full(6, 10.0)], axis=1)  # 6 runs x 2 tasks
    interval = stratified_bootstrap(constant, "mean")
    assert interval.low == interval.point == interval.high == 5.0


@pytest.mark.parametrize(
    "bad",
    [np.arange(6.0), np.zeros((2, 3, 4)), [np.zeros((3, 2)), np.zeros((3, 2))], {"a": np.zeros((2, 2))}],
)
def test_scores_of_the_wrong_shape_are_refused(bad):
    with pytest.raises(ValueError, match="1-D|2-D"):
        task_scores(bad)
    with pytest.raises(ValueError):
        stratified_bootstrap(bad, "iqm")


def _independent_interval(columns, statistic, reps, confidence, seed):
    """The stratified percentile bootstrap written out with numpy, task by task (as rliable does it).

    Draws as ``plotting.resample`` does for equal-sized tasks: one ``integers(0, n, (reps, tasks * n))`` call,
    columns task after task; so the result must equal ``stratified_bootstrap`` up to floating-point rounding.
    """
    n = len(columns[0])
    draws = np.random.default_rng(seed).integers(0, n, size=(reps, len(columns) * n))
    resampled = np.stack([columns[m][draws[:, m * n : (m + 1) * n]] for m in range(len(columns))], axis=1)
    if statistic == "median":
        values = np.median(resampled.mean(axis=2), axis=1)
    elif statistic == "iqm":
        values = np.array([trim_mean(r.ravel(), 0.25) for r in resampled])
    elif statistic == "mean":
        values = resampled.reshape(reps, -1).mean(axis=1)
    else:
        values = np.maximum(0.0, 1.0 - resampled.reshape(reps, -1)).mean(axis=1)
    alpha = 100 * (1 - confidence) / 2
    return np.percentile(values, [alpha, 100 - alpha])


@pytest.mark.parametrize("statistic", ["median", "iqm", "mean", "optimality_gap"])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_interval_equals_an_independent_bootstrap(statistic, confidence):
    rng = np.random.default_rng(9)
    matrix = rng.gamma(2.0, 0.5, size=(12, 4))  # runs x tasks
    interval = stratified_bootstrap(matrix, statistic, reps=1000, confidence=confidence, seed=3)
    low, high = _independent_interval(list(matrix.T), statistic, 1000, confidence, 3)
    assert interval.low == pytest.approx(low, rel=1e-9)
    assert interval.high == pytest.approx(high, rel=1e-9)


def test_median_interval_with_unequal_tasks_matches_a_resampling_of_per_task_means():
    # tasks of 4, 9 and 20 runs: the columns of the resample are regrouped by task before the per-task means
    rng = np.random.default_rng(5)
    tasks = [rng.normal(loc=m, size=size) for m, size in enumerate((4, 9, 20))]
    interval = stratified_bootstrap(tasks, "median", reps=20000, seed=0)
    other = np.random.default_rng(123)
    medians = np.median(
        np.stack([t[other.integers(0, t.size, size=(20000, t.size))].mean(axis=1) for t in tasks], axis=1), axis=1
    )
    low, high = np.percentile(medians, [2.5, 97.5])
    assert interval.point == pytest.approx(np.median([t.mean() for t in tasks]))
    assert interval.low == pytest.approx(low, abs=0.03)
    assert interval.high == pytest.approx(high, abs=0.03)


def test_interval_coverage_of_the_mean():
    # 400 data sets of 3 tasks x 15 normal runs with true mean 0: the 90% interval covers 0 about 90% of the time
    # (bootstrap percentile intervals are slightly narrow at n = 45: 85%..95% accepted; 50% or 99% are not)
    rng = np.random.default_rng(0)
    hits = 0
    for k in range(400):
        interval = stratified_bootstrap(rng.normal(size=(15, 3)), "mean", reps=1000, confidence=0.9, seed=k)
        hits += interval.low <= 0.0 <= interval.high
    assert 0.84 <= hits / 400 <= 0.95


def _tasks(runs: int, seed: int = 0, num_tasks: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(loc=task, scale=1.0, size=runs) for task in range(num_tasks)]


@pytest.mark.parametrize("statistic", STATISTICS)
def test_interval_contains_point_and_is_deterministic(statistic):
    per_task = _tasks(20)
    first = stratified_bootstrap(per_task, statistic, seed=7)
    assert isinstance(first, Interval)
    assert first.low <= first.point <= first.high
    assert (first.n_runs, first.n_tasks, first.note) == (100, 5, "")
    again = stratified_bootstrap(per_task, statistic, seed=7)
    assert dataclasses.astuple(again) == dataclasses.astuple(first)  # bit for bit
    other = stratified_bootstrap(per_task, statistic, seed=8)
    assert other.point == first.point
    if statistic != "pooled_median":  # resampled medians take few distinct values; their percentiles can coincide
        assert (other.low, other.high) != (first.low, first.high)


def test_interval_shrinks_with_more_runs():
    small = stratified_bootstrap(_tasks(5, seed=1), "iqm", seed=0)
    large = stratified_bootstrap(_tasks(50, seed=1), "iqm", seed=0)
    assert large.high - large.low < 0.6 * (small.high - small.low)


def test_resampling_is_stratified_by_task():
    # task 0 is always 0, task 1 always 10 (5 runs each): every stratified resample has the pooled mean 5;
    # pooling before resampling would move the mean between 0 and 10
    interval = stratified_bootstrap([np.zeros(5), np.full(5, 10.0)], "mean", seed=0)
    assert interval.low == interval.point == interval.high == 5.0


def test_confidence_widens_interval():
    per_task = _tasks(10)
    narrow = stratified_bootstrap(per_task, "mean", confidence=0.5)
    wide = stratified_bootstrap(per_task, "mean", confidence=0.99)
    assert wide.low < narrow.low < narrow.high < wide.high


def test_single_run_gives_nan_interval_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        single = stratified_bootstrap([np.array([1.0]), np.array([2.0])], "iqm")
        one_task_short = stratified_bootstrap([np.array([1.0, 2.0, 3.0]), np.array([np.nan, 4.0])], "mean")
        empty = stratified_bootstrap([np.array([np.nan])], "iqm")
    assert single.point == pytest.approx(1.5)
    assert np.isnan(single.low) and np.isnan(single.high)
    assert single.note == SINGLE_RUN_NOTE
    assert one_task_short.point == pytest.approx(2.5)
    assert np.isnan(one_task_short.low) and one_task_short.note.startswith(SINGLE_RUN_NOTE)
    assert "1 missing (NaN) score(s) dropped" in one_task_short.note
    assert np.isnan(empty.point) and empty.n_runs == 0 and "no runs" in empty.note


def test_callable_statistics():
    per_task = _tasks(10)
    vectorised = stratified_bootstrap(per_task, lambda a: a.mean(axis=-1), seed=3)
    named = stratified_bootstrap(per_task, "mean", seed=3)
    assert dataclasses.astuple(vectorised) == dataclasses.astuple(named)
    one_dimensional = stratified_bootstrap(per_task, lambda a: float(np.mean(a)), seed=3)  # called per resample
    assert one_dimensional.low == pytest.approx(named.low)
    assert one_dimensional.high == pytest.approx(named.high)


def test_bootstrap_argument_checks():
    with pytest.raises(ValueError):
        stratified_bootstrap(_tasks(5), "iqm", reps=100)
    with pytest.raises(ValueError):
        stratified_bootstrap(_tasks(5), "iqm", confidence=1.0)


def test_interval_table_sub_seeds_do_not_depend_on_other_methods():
    scores = {"asha": _tasks(8, seed=1), "random": _tasks(8, seed=2)}
    table = interval_table(scores, "iqm", seed=5)
    assert list(table.columns) == ["method", "statistic", "point", "low", "high", "n_runs", "n_tasks", "note"]
    assert list(table["method"]) == ["asha", "random"]
    assert (table["statistic"] == "iqm").all()
    alone = interval_table({"random": scores["random"]}, "iqm", seed=5)
    pd.testing.assert_frame_equal(alone.iloc[0:1].reset_index(drop=True), table.iloc[1:2].reset_index(drop=True))
    direct = stratified_bootstrap(scores["asha"], "iqm", seed=derive_seed(5, "asha"))
    assert (table.loc[0, "low"], table.loc[0, "high"]) == (direct.low, direct.high)
    assert derive_seed(5, "asha") == derive_seed(5, "asha") != derive_seed(6, "asha")


def test_percentile_band_is_nan_aware():
    curves = np.array(
        [
            [1.0, np.nan, np.nan],
            [2.0, np.nan, np.nan],
            [3.0, np.nan, np.nan],
            [4.0, 5.0, np.nan],
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        band = percentile_band(curves, q=(25, 75))
    # column 0: 1 2 3 4 -> median 2.5; 25th at position 0.75 -> 1.75; 75th at position 2.25 -> 3.25
    np.testing.assert_allclose(band.median[:2], [2.5, 5.0])
    np.testing.assert_allclose(band.low[:2], [1.75, 5.0])
    np.testing.assert_allclose(band.high[:2], [3.25, 5.0])
    assert np.isnan(band.median[2]) and np.isnan(band.low[2]) and np.isnan(band.high[2])
    np.testing.assert_array_equal(band.n, [4, 1, 0])

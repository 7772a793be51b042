"""IQM, trimmed means, stratified bootstrap intervals and percentile bands (expected values worked out by hand)."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import trim_mean

from plotting.stats import (
    SINGLE_RUN_NOTE,
    Interval,
    aggregate,
    derive_seed,
    interval_table,
    iqm,
    percentile_band,
    stratified_bootstrap,
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


def test_mean_and_median_are_pooled():
    per_task = [np.array([1.0, 2.0]), np.array([3.0, 10.0])]
    assert aggregate(per_task, "mean") == pytest.approx(4.0)  # 16 / 4
    assert aggregate(per_task, "median") == pytest.approx(2.5)  # between 2 and 3
    with pytest.raises(ValueError):
        aggregate(per_task, "mode")


def _tasks(runs: int, seed: int = 0, num_tasks: int = 5) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(loc=task, scale=1.0, size=runs) for task in range(num_tasks)]


@pytest.mark.parametrize("statistic", ["iqm", "mean", "median"])
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
    if statistic != "median":  # resampled medians take few distinct values; their percentiles can coincide
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

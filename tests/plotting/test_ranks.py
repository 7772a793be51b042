"""Average ranks with ties, missing methods, per-benchmark modes and a time grid (worked out by hand)."""

import numpy as np
import pandas as pd
import pytest

from plotting.ranks import average_ranks


def _frame(rows):
    return pd.DataFrame(rows, columns=["benchmark", "method", "seed", "time", "value"])


def _ranks(result: pd.DataFrame, time: float | None = None) -> dict[str, tuple[float, int, int]]:
    if time is not None:
        result = result[result["time"] == time]
    return {row.method: (row.mean_rank, row.n, row.n_missing) for row in result.itertuples()}


ROWS = [
    # seed 0: A = B = 1 tie, C = 3
    ("b1", "A", 0, 0.0, 1.0),
    ("b1", "B", 0, 0.0, 1.0),
    ("b1", "C", 0, 0.0, 3.0),
    # seed 1: C has no row
    ("b1", "A", 1, 0.0, 2.0),
    ("b1", "B", 1, 0.0, 1.0),
]


def test_ranks_with_ties_and_a_missing_method_min():
    # min: seed 0 -> A 1.5, B 1.5, C 3; seed 1 (only A, B) -> B 1, A 2
    # A (1.5 + 2) / 2 = 1.75, B (1.5 + 1) / 2 = 1.25, C 3 from one seed, missing in one
    result = average_ranks(_frame(ROWS), "min")
    assert list(result.columns) == ["time", "method", "mean_rank", "n", "n_missing"]
    assert _ranks(result) == {"A": (1.75, 2, 0), "B": (1.25, 2, 0), "C": (3.0, 1, 1)}


def test_ranks_max_mode():
    # max: seed 0 -> C 1, A 2.5, B 2.5; seed 1 -> A 1, B 2
    # A (2.5 + 1) / 2 = 1.75, B (2.5 + 2) / 2 = 2.25, C 1
    result = average_ranks(_frame(ROWS), {"b1": "max"})
    assert _ranks(result) == {"A": (1.75, 2, 0), "B": (2.25, 2, 0), "C": (1.0, 1, 1)}


def test_nan_value_counts_as_missing_and_time_points_are_ranked_separately():
    rows = [
        ("b1", "A", 0, 0.0, 1.0),
        ("b1", "B", 0, 0.0, np.nan),
        ("b1", "A", 0, 1.0, 5.0),
        ("b1", "B", 0, 1.0, 2.0),
    ]
    result = average_ranks(_frame(rows), "min")
    assert _ranks(result, 0.0) == {"A": (1.0, 1, 0)}
    assert _ranks(result, 1.0) == {"A": (2.0, 1, 0), "B": (1.0, 1, 0)}


def test_each_benchmark_weighs_the_same_and_modes_differ_per_benchmark():
    rows = [
        # b1 (min), two seeds: A better in both -> A 1, B 2 per seed
        ("b1", "A", 0, 0.0, 1.0),
        ("b1", "B", 0, 0.0, 2.0),
        ("b1", "A", 1, 0.0, 1.0),
        ("b1", "B", 1, 0.0, 2.0),
        # b2 (max), one seed: A = 1 < B = 2 -> B best: A 2, B 1
        ("b2", "A", 0, 0.0, 1.0),
        ("b2", "B", 0, 0.0, 2.0),
    ]
    result = average_ranks(_frame(rows), {"b1": "min", "b2": "max"})
    # A: mean over benchmarks of (1, 2) = 1.5 (pooling the 3 cells would give 4/3); B: (2 + 1) / 2 = 1.5
    assert _ranks(result) == {"A": (1.5, 3, 0), "B": (1.5, 3, 0)}


def test_without_time_column():
    frame = _frame(ROWS).drop(columns="time")
    result = average_ranks(frame, "min")
    assert list(result.columns) == ["method", "mean_rank", "n", "n_missing"]
    assert _ranks(result) == {"A": (1.75, 2, 0), "B": (1.25, 2, 0), "C": (3.0, 1, 1)}


def test_invalid_inputs():
    with pytest.raises(ValueError, match="several rows"):
        average_ranks(_frame([*ROWS, ("b1", "A", 0, 0.0, 7.0)]), "min")
    with pytest.raises(ValueError, match="no mode"):
        average_ranks(_frame(ROWS), {"other": "min"})
    with pytest.raises(ValueError):
        average_ranks(_frame(ROWS), "best")
    with pytest.raises(ValueError, match="lacks"):
        average_ranks(_frame(ROWS).drop(columns="seed"), "min")


def test_many_rows_vectorised():
    rng = np.random.default_rng(0)
    benchmarks, seeds, methods, times = 3, 4, 5, 6
    b, s, m, t = np.meshgrid(
        np.arange(benchmarks), np.arange(seeds), np.arange(methods), np.arange(times), indexing="ij"
    )
    frame = pd.DataFrame(
        {
            "benchmark": b.ravel(),
            "method": m.ravel(),
            "seed": s.ravel(),
            "time": t.ravel().astype(float),
            "value": rng.normal(size=b.size) + m.ravel(),  # method 0 clearly best
        }
    )
    result = average_ranks(frame, "min")
    assert len(result) == methods * times
    # ranks 1..5 in every cell sum to 15 per cell, so the mean ranks over methods sum to 15 at every time
    np.testing.assert_allclose(result.groupby("time")["mean_rank"].sum(), 15.0)
    assert (result["n"] == benchmarks * seeds).all()

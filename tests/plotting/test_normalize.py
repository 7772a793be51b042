"""Normalized regret for min and max mode, per benchmark (expected values worked out by hand)."""

import logging

import numpy as np
import pandas as pd
import pytest

from plotting.normalize import normalize_frame, normalized_regret


def test_normalized_regret_min():
    # best 3, worst 7: (v - 3) / 4 -> 3: 0, 5: 0.5, 4: 0.25, 7: 1; 2 (better than best) clips to 0, 9 to 1
    values = np.array([3.0, 5.0, 4.0, 7.0, 2.0, 9.0, np.nan])
    np.testing.assert_allclose(normalized_regret(values, 3.0, 7.0, "min"), [0.0, 0.5, 0.25, 1.0, 0.0, 1.0, np.nan])


def test_normalized_regret_max():
    # best 7, worst 3: (v - 7) / (3 - 7) = (7 - v) / 4 -> 5: 0.5, 4: 0.75, 7: 0, 3: 1; 8 clips to 0, 2 to 1
    values = np.array([5.0, 4.0, 7.0, 3.0, 8.0, 2.0])
    np.testing.assert_allclose(normalized_regret(values, 7.0, 3.0, "max"), [0.5, 0.75, 0.0, 1.0, 0.0, 1.0])
    assert normalized_regret(7.0, 7.0, 3.0, "max") == 0.0


def test_normalized_regret_flat_and_wrong_order():
    np.testing.assert_array_equal(normalized_regret(np.array([1.0, 1.0]), 1.0, 1.0, "min"), [0.0, 0.0])
    with pytest.raises(ValueError):
        normalized_regret(1.0, 5.0, 1.0, "min")
    with pytest.raises(ValueError):
        normalized_regret(1.0, 1.0, 5.0, "max")


def test_normalize_frame_per_benchmark(caplog):
    frame = pd.DataFrame(
        {
            "benchmark": ["err", "err", "err", "acc", "acc", "acc", "flat", "flat", "none"],
            "method": ["a", "b", "a", "a", "b", "b", "a", "b", "a"],
            "value": [0.1, 0.3, 0.2, 80.0, 90.0, 85.0, 4.0, 4.0, np.nan],
        }
    )
    modes = {"err": "min", "acc": "max", "flat": "min", "none": "min"}
    with caplog.at_level(logging.WARNING, logger="plotting.normalize"):
        result = normalize_frame(frame, modes)
    # err (min): best 0.1, worst 0.3 -> 0, 1, 0.5; acc (max): best 90, worst 80 -> (90 - v) / 10 -> 1, 0, 0.5
    np.testing.assert_allclose(result["normalized"][:6], [0.0, 1.0, 0.5, 1.0, 0.0, 0.5])
    np.testing.assert_array_equal(result["normalized"][6:8], [0.0, 0.0])  # best == worst -> 0 and a warning
    assert np.isnan(result["normalized"].iloc[8])
    assert any("'flat'" in record.getMessage() for record in caplog.records)
    assert "normalized" not in frame.columns  # the input is not modified
    with pytest.raises(ValueError, match="no mode"):
        normalize_frame(frame, {"err": "min"})


def test_normalize_frame_single_mode():
    frame = pd.DataFrame({"benchmark": ["x", "x", "x"], "value": [2.0, 4.0, 3.0]})
    np.testing.assert_allclose(normalize_frame(frame, "max")["normalized"], [1.0, 0.0, 0.5])

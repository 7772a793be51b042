"""Rung levels, bracket sizes and quantiles: exact arithmetic, as documented."""

from __future__ import annotations

import numpy as np
import pytest

from methods.rungs import (
    Rung,
    bracket_probabilities,
    hyperband_bracket_sizes,
    promotion_quantiles,
    quantile_linear,
    rung_levels,
)


def test_geometric_levels_stay_below_max_t():
    assert rung_levels(81) == [1, 3, 9, 27]
    assert rung_levels(200) == [1, 3, 9, 27, 81]
    assert rung_levels(56, grace_period=1) == [1, 3, 9, 27]


def test_exact_arithmetic_keeps_every_rung():
    # log(243, 3) is 4.999... in floating point; exact arithmetic must still give 5 rungs below 243
    assert rung_levels(243) == [1, 3, 9, 27, 81]
    assert rung_levels(244) == [1, 3, 9, 27, 81, 243]
    assert rung_levels(1000, grace_period=1, reduction_factor=10) == [1, 10, 100]
    assert len(hyperband_bracket_sizes(rung_levels(243), 3, 6)) == 6


def test_linear_and_explicit_levels():
    assert rung_levels(10, grace_period=2, reduction_factor=None, rung_increment=3) == [2, 5, 8]
    assert rung_levels(11, grace_period=2, reduction_factor=None, rung_increment=3) == [2, 5, 8]  # 11 is max_t
    assert rung_levels(27, grace_period=1, reduction_factor=3) == [1, 3, 9]  # 27 is max_t: trials complete there
    assert rung_levels(200, levels=[1, 3, 9, 27, 81, 200]) == [1, 3, 9, 27, 81]


def test_promotion_quantiles_are_ratios_of_successive_levels():
    assert promotion_quantiles([1, 3, 9, 27, 81], 200) == [1 / 3, 1 / 3, 1 / 3, 1 / 3, 81 / 200]


def test_synchronous_hyperband_sizes_of_the_documentation():
    sizes = hyperband_bracket_sizes([1, 3, 9, 27, 81], 3, 6)
    assert [s[0] for s in sizes] == [243, 98, 41, 18, 9, 6]
    assert sizes[0] == [243, 81, 27, 9, 3, 1]
    probabilities = bracket_probabilities([1, 3, 9, 27, 81], 3, 6)
    assert probabilities == pytest.approx([243 / 415, 98 / 415, 41 / 415, 18 / 415, 9 / 415, 6 / 415])
    with pytest.raises(ValueError, match="brackets"):
        hyperband_bracket_sizes([1, 3, 9], 3, 5)


def test_quantile_matches_numpy_bit_for_bit():
    rng = np.random.default_rng(0)
    for n in range(2, 60):
        values = np.sort(rng.normal(size=n))
        for q in (1 / 3, 2 / 3, 0.5, 81 / 200, 1 - 81 / 200, 0.25, 1 / 9):
            assert quantile_linear(values.tolist(), q) == np.quantile(values, q)


def test_rung_needs_two_values_before_it_promotes():
    rung = Rung(1, 1 / 3, "min")
    rung.pause(7, 0.1)
    assert rung.pop_promotable() is None
    rung.pause(8, 0.2)
    assert rung.pop_promotable() == 7
    assert rung.pop_promotable() is None  # 0.2 > cutoff 0.1333

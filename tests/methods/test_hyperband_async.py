"""Asynchronous Hyperband: bracket distribution of the documentation, shared or separate rung systems."""

from __future__ import annotations

import numpy as np
import pytest

from methods import Action
from methods.asha import ASHA, Hyperband
from methods.rungs import bracket_probabilities, hyperband_bracket_sizes, rung_levels
from searchspace import Grid, SearchSpace
from simulator import StopCriteria, simulate

SPACE = SearchSpace({"x": Grid(tuple(range(100_000)))})


def hyperband(**kwargs) -> Hyperband:
    options = dict(metric="error", mode="min", max_t=81, seed=0)
    options.update(kwargs)
    return Hyperband(SPACE, **options)


def test_defaults_are_promotion_with_every_bracket():
    scheduler = hyperband()
    assert scheduler.rule == "promotion" and scheduler.pauses_trials
    assert scheduler.levels == [1, 3, 9, 27] and scheduler.brackets == 5
    stopping = hyperband(rule="stopping")
    assert stopping.rule == "stopping" and not stopping.pauses_trials and stopping.brackets == 5


def test_bracket_probabilities_are_the_first_rung_sizes_of_synchronous_hyperband():
    # s_max = 4 rungs below 81: ceil(5/5 * 81), ceil(5/4 * 27), ceil(5/3 * 9), ceil(5/2 * 3), ceil(5/1 * 1)
    sizes = hyperband_bracket_sizes(rung_levels(81), 3, 5)
    assert [s[0] for s in sizes] == [81, 34, 15, 8, 5]
    assert sizes[1] == [34, 12, 4, 2]  # ceil(5/4 * 27), ceil(5/4 * 9), ceil(5/4 * 3), ceil(5/4 * 1)
    assert bracket_probabilities(rung_levels(81), 3, 5) == pytest.approx(np.array([81, 34, 15, 8, 5]) / 143)
    # the documentation's example (NASBench-201, max_t = 200, 6 brackets)
    assert bracket_probabilities(rung_levels(200), 3, 6) == pytest.approx(np.array([243, 98, 41, 18, 9, 6]) / 415)
    assert bracket_probabilities(rung_levels(81), 3, 3) == pytest.approx(np.array([81, 34, 15]) / 130)


def test_bracket_frequencies_match_the_distribution():
    draws = 20_000
    scheduler = hyperband(rule="stopping", seed=11)
    first = np.array([scheduler.suggest(t).report_at for t in range(draws)])
    levels, counts = np.unique(first, return_counts=True)
    assert levels.tolist() == [1, 3, 9, 27, 81]  # bracket s starts at level s; the last runs to max_t
    expected = draws * np.array([81, 34, 15, 8, 5]) / 143
    chi_square = float(((counts - expected) ** 2 / expected).sum())
    assert chi_square < 18.47  # 99.9% quantile of chi-square with 4 degrees of freedom


def test_same_seed_same_brackets_and_configurations():
    def trace(seed: int) -> list:
        scheduler = hyperband(seed=seed)
        return [(s.config["x"], s.report_at) for s in (scheduler.suggest(t) for t in range(300))]

    assert trace(5) == trace(5)
    assert trace(5) != trace(6)


def _first_trials(scheduler: ASHA, count: int) -> dict[int, list[int]]:
    """Start ``count`` trials; trial ids by first rung."""
    by_level: dict[int, list[int]] = {}
    for trial in range(count):
        by_level.setdefault(scheduler.suggest(trial).report_at, []).append(trial)
    return by_level


def test_shared_rung_system_lets_brackets_compete():
    scheduler = hyperband(max_t=27, brackets=2, seed=1)  # rungs 1, 3, 9; brackets start at 1 and 3
    by_level = _first_trials(scheduler, 40)
    a, b = by_level[1][:2]
    c = by_level[3][0]
    for trial, value in ((a, 0.2), (b, 0.3)):
        assert scheduler.on_report(trial, 1, {"error": value}).action is Action.PAUSE
    promoted = scheduler.suggest(100)  # rung 1 = [0.2, 0.3], cutoff 0.2333: trial a goes to 3
    assert promoted.trial_id == a and promoted.report_at == 3
    scheduler.on_report(a, 3, {"error": 0.5})
    scheduler.on_report(c, 3, {"error": 0.1})  # bracket-1 trial enters the same rung 3
    promoted = scheduler.suggest(101)  # rung 3 = [0.1, 0.5], cutoff 0.2333: c is promoted, not a
    assert promoted.trial_id == c and promoted.report_at == 9


def test_rung_system_per_bracket_keeps_brackets_apart():
    scheduler = hyperband(max_t=27, brackets=2, seed=1, rung_system_per_bracket=True)
    by_level = _first_trials(scheduler, 40)
    a, b = by_level[1][:2]
    c = by_level[3][0]
    scheduler.on_report(a, 1, {"error": 0.2})
    scheduler.on_report(b, 1, {"error": 0.3})
    resumed = None
    for new_id in range(100, 200):  # draws bracket 0 with probability 9/13; promotes within it
        suggestion = scheduler.suggest(new_id)
        if suggestion.is_resume:
            resumed = suggestion
            break
    assert resumed is not None and resumed.trial_id == a and resumed.report_at == 3
    scheduler.on_report(a, 3, {"error": 0.5})
    # c is alone in bracket 1's rung 3; a is alone in bracket 0's rung 3: nobody can be promoted
    assert scheduler.on_report(c, 3, {"error": 0.1}).action is Action.PAUSE
    assert not any(scheduler.suggest(t).is_resume for t in range(300, 400))


def test_cost_promotion_with_brackets(random_table):
    scheduler = Hyperband(
        random_table.space, metric="error", max_t=27, seed=3, rule="cost_promotion", rung_system_per_bracket=True
    )
    result = simulate(random_table, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_wallclock_time=200.0))
    frame = result.trials_frame()
    assert len(frame) > 10 and result.num_results > 100

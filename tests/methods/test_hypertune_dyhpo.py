"""Hyper-Tune's searcher (ranking losses, level weights, bracket distribution) and the DyHPO scheduler."""

from __future__ import annotations

import numpy as np
import pytest

from methods import Action, make_method
from methods.bayesopt import GPSearcher
from methods.dyhpo import DyHPO
from methods.gp.blas import blas_single_thread
from methods.hypertune import HyperTuneSearcher, _ranking_losses
from methods.searchers import RandomSearcher
from searchspace import Float, SearchSpace
from simulator import OUTCOMES, StopCriteria, simulate

PLANE = SearchSpace({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})


@pytest.fixture(autouse=True)
def one_blas_thread():
    with blas_single_thread():
        yield


# 1. Ranking losses --------------------------------------------------------------------------------------------
def test_ranking_losses_count_discordant_pairs():
    targets = np.array([0.1, 0.4, 0.2, 0.9, 0.5])
    pairs = 5 * 4 // 2
    concordant = 3.0 * targets - 1.0  # any increasing map keeps every pair's order
    reversed_ = -targets
    swapped = targets.copy()
    swapped[[0, 2]] = swapped[[2, 0]]  # 0.1 and 0.2 are neighbours in rank: exactly one pair changes order
    far_swap = targets.copy()
    far_swap[[0, 3]] = far_swap[[3, 0]]  # smallest and largest: 2 * 3 + 1 = 7 pairs change order
    samples = np.column_stack([concordant, reversed_, swapped, far_swap])
    losses = _ranking_losses(samples, targets)
    assert losses.shape == (4,)
    np.testing.assert_allclose(losses, [0.0, 1.0, 1.0 / pairs, 7.0 / pairs])


# 2. Bracket distribution --------------------------------------------------------------------------------------
def hypertune_searcher(max_t=27, rung_levels=(1, 3, 9)):
    searcher = HyperTuneSearcher(PLANE, seed=0)
    searcher.configure(max_t=max_t, rung_levels=rung_levels)
    return searcher


def expected_distribution(default, first_levels, weights, levels):
    """P(r) ∝ θ_r / r over the brackets with first level <= min(r_*, largest first level), given their default
    mass; the other brackets keep their default probabilities."""
    r_star = levels[len(weights) - 1]
    limit = min(r_star, max(first_levels))
    head = [s for s, r in enumerate(first_levels) if r <= limit]
    raw = np.array([weights[levels.index(first_levels[s])] / first_levels[s] for s in head])
    result = np.array(default, dtype=float)
    result[head] = np.sum(np.asarray(default)[head]) * raw / raw.sum()
    return result


def test_bracket_distribution_default_until_weights_exist():
    searcher = hypertune_searcher()
    default = [0.4, 0.3, 0.2, 0.1]
    assert searcher.levels == [1, 3, 9, 27]
    assert searcher.bracket_distribution(default, [1, 3, 9, 27]) == default


@pytest.mark.parametrize(
    "weights, default, first_levels",
    [
        ([0.5, 0.3, 0.2], [0.4, 0.3, 0.2, 0.1], [1, 3, 9, 27]),  # r_* = 9: brackets 0-2 adapt, bracket 3 stays
        ([0.6, 0.4], [0.4, 0.3, 0.2, 0.1], [1, 3, 9, 27]),  # r_* = 3: brackets 0-1 adapt
        ([0.1, 0.2, 0.3, 0.4], [0.5, 0.5], [1, 3]),  # r_* = 27 beyond the first levels: limit 3, both adapt
        ([0.0, 0.5, 0.5], [0.25, 0.25, 0.25, 0.25], [1, 3, 9, 27]),  # a level without weight gets probability 0
    ],
)
def test_bracket_distribution_follows_the_level_weights(weights, default, first_levels):
    searcher = hypertune_searcher()
    searcher.weights = np.array(weights)
    result = searcher.bracket_distribution(default, first_levels)
    expected = expected_distribution(default, first_levels, weights, searcher.levels)
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-15)
    assert sum(result) == pytest.approx(1.0)
    assert all(p >= 0 for p in result)


def test_bracket_distribution_by_hand():
    searcher = hypertune_searcher()
    searcher.weights = np.array([0.5, 0.3, 0.2])
    # θ/r = 0.5, 0.1, 0.2/9 over mass 0.9; bracket 3 keeps 0.1
    raw = np.array([0.5, 0.1, 0.2 / 9])
    result = searcher.bracket_distribution([0.4, 0.3, 0.2, 0.1], [1, 3, 9, 27])
    np.testing.assert_allclose(result, [*(0.9 * raw / raw.sum()), 0.1])
    assert result[0] > 0.4  # the lowest level predicts best per unit of resource: more trials start there


def test_hypertune_options_and_schedulers():
    with pytest.raises(ValueError, match="hypertune_distribution_num_samples"):
        HyperTuneSearcher(PLANE, hypertune_distribution_num_samples=0)
    with pytest.raises(ValueError, match="multi-fidelity"):
        HyperTuneSearcher(PLANE).configure(max_t=10, rung_levels=())
    assert HyperTuneSearcher(PLANE).model == "independent"


def fed_hypertune(results):
    """A Hyper-Tune searcher (levels 1, 3, 9) told ``results``: trial -> {level: loss}."""
    searcher = HyperTuneSearcher(PLANE, seed=0, num_init_random=0, num_init_candidates=20)
    searcher.configure(max_t=9, rung_levels=(1, 3))
    rng = np.random.default_rng(0)
    for trial, losses in results.items():
        config = {"x": float(rng.uniform()), "y": float(rng.uniform())}
        for level, loss in losses.items():
            searcher.on_pending(trial, config, level)
            searcher.on_result(trial, config, level, loss)
    return searcher


def test_hypertune_model_suggestion_with_weights_over_two_levels():
    rng = np.random.default_rng(1)
    results = {t: {1: float(rng.uniform())} for t in range(10)}
    for t in range(7):
        results[t][3] = results[t][1] * 0.8 + 0.05 * float(rng.uniform())
    searcher = fed_hypertune(results)
    config = searcher.suggest(100)
    assert config is not None and PLANE["x"].contains(config["x"])
    assert searcher.state_summary()["model_suggestions"] == 1
    weights = searcher.weights
    assert len(weights) == 2 and weights.sum() == pytest.approx(1.0)  # r_* = 3 (7 results there)


def test_hypertune_model_suggestion_without_results_at_the_lowest_level():
    """With several brackets a trial may start above the lowest level: results only at level 3 (fewer than 6,
    so r_* is the lowest level, which has no data) must still give a suggestion."""
    searcher = fed_hypertune({t: {3: 0.1 * t + 0.2} for t in range(4)})
    config = searcher.suggest(100)
    assert config is not None
    assert searcher.state_summary()["model_suggestions"] == 1
    np.testing.assert_array_equal(searcher.weights, [1.0])


# 3. Hyper-Tune in a simulation --------------------------------------------------------------------------------
def test_hypertune_with_four_brackets_runs_and_its_weights_sum_to_one(random_table):
    scheduler = make_method("HYPERTUNE4-INDEP", space=random_table.space, metric="error", max_t=27, seed=0, n_workers=4)
    assert scheduler.brackets == 4 and isinstance(scheduler.searcher, HyperTuneSearcher)
    result = simulate(random_table, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_results=250))
    summary = scheduler.searcher.state_summary()
    weights = np.array(summary["level_weights"])
    assert summary["model_suggestions"] > 0
    assert len(weights) >= 2  # a level above the lowest has >= 6 results: the weights were computed
    assert weights.sum() == pytest.approx(1.0) and np.all(weights >= 0)
    distribution = scheduler.searcher.bracket_distribution(scheduler.bracket_probabilities, [1, 3, 9, 27])
    assert sum(distribution) == pytest.approx(1.0)
    assert result.num_trials > 4


# 4. DyHPO -----------------------------------------------------------------------------------------------------
def test_dyhpo_rung_levels_are_linear_by_default():
    scheduler = DyHPO(PLANE, metric="error", max_t=10)
    assert scheduler.levels == [1, 3, 5, 7, 9]
    assert scheduler.searcher.levels == [1, 3, 5, 7, 9, 10]
    assert scheduler.probability_sh == 0.25
    registered = make_method("DyHPO", space=PLANE, metric="error", max_t=20)
    assert registered.levels == list(range(1, 20, 2))
    assert registered.searcher.model == "joint" and registered.searcher.opt_skip_period == 3
    assert DyHPO(PLANE, metric="error", max_t=20, grace_period=2, rung_increment=4).levels == [2, 6, 10, 14, 18]


def test_dyhpo_with_probability_one_promotes_by_successive_halving():
    scheduler = DyHPO(PLANE, metric="error", max_t=10, probability_sh=1.0, seed=0)
    values = {0: 0.7, 1: 0.5, 2: 0.9}
    for trial in values:
        suggestion = scheduler.suggest(trial)
        assert suggestion is not None and not suggestion.is_resume and suggestion.report_at == 1
    for trial, value in values.items():
        assert scheduler.on_report(trial, 1, {"error": value}).action is Action.PAUSE
    # promotion quantile at rung 1 is 1/3 (levels 1 -> 3): the cutoff is the 1/3 quantile of the rung's values
    cutoff = np.quantile(list(values.values()), 1 / 3)
    qualifying = [t for t, v in values.items() if v <= cutoff]
    assert qualifying == [1]
    resumed = scheduler.suggest(3)
    assert resumed.is_resume and resumed.trial_id == 1 and resumed.report_at == 3
    assert scheduler.on_report(1, 3, {"error": 0.4}).action is Action.PAUSE
    # nobody else qualifies at rung 1 (0.7 and 0.9 are above the cutoff), nobody can go on from rung 3 (one value):
    # the model decides, and it must not resume trial 1 by the SH rule (it would need a second value at rung 3)
    following = scheduler.suggest(4)
    assert following is not None
    assert scheduler.searcher.state_summary()["model_suggestions"] >= 1


def test_dyhpo_refuses_searchers_it_cannot_use():
    with pytest.raises(ValueError, match="RandomSearcher"):
        DyHPO(PLANE, metric="error", max_t=10, searcher=RandomSearcher(PLANE))
    with pytest.raises(ValueError, match="joint"):
        DyHPO(PLANE, metric="error", max_t=10, searcher=GPSearcher(PLANE, model="independent"))
    with pytest.raises(ValueError, match="joint"):
        make_method("DyHPO", space=PLANE, metric="error", max_t=10, model="independent")
    with pytest.raises(ValueError, match="probability_sh"):
        DyHPO(PLANE, metric="error", max_t=10, probability_sh=1.5)


def test_dyhpo_simulation_pauses_only_at_rung_levels(random_table):
    scheduler = make_method("DyHPO", space=random_table.space, metric="error", max_t=27, seed=0, n_workers=4)
    levels = scheduler.levels
    assert levels == list(range(1, 27, 2))
    result = simulate(random_table, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_results=150))
    assert result.stop_reason and result.num_results >= 150
    outcome = np.array(OUTCOMES)[result.outcome]
    consulted = outcome != ""
    assert set(result.epoch[outcome == "pause"].tolist()) <= set(levels)
    assert np.all(np.isin(result.epoch[consulted], [*levels, 27]))
    assert np.count_nonzero(outcome == "pause") > 10
    assert result.epoch.max() > levels[0]  # trials were resumed
    # every paused trial, at any time, waits at a rung level
    frame = result.trials_frame()
    paused = frame[frame["status"] == "paused"]
    assert np.all(np.isin(paused["last_epoch"].to_numpy(), levels))
    assert scheduler.searcher.state_summary()["model_suggestions"] > 0

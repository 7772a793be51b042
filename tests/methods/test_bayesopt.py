"""The GP searcher (``methods.bayesopt.GPSearcher``): fantasies for pending trials, determinism, restricted
candidates, the initial random phase, subsampling of the model's data, a benchmark against random search and
option checks."""

from __future__ import annotations

import numpy as np
import pytest

import methods.bayesopt as bayesopt
from methods import TrialStatus, make_method
from methods.bayesopt import GPSearcher
from methods.searchers import RandomSearcher
from searchspace import Categorical, Float, SearchSpace
from simulator import StopCriteria, simulate

LINE = SearchSpace({"x": Float(0.0, 1.0)})
PLANE = SearchSpace({"x": Float(-1.0, 1.0), "y": Float(-1.0, 1.0)})


def bowl(config):
    return (config["x"] - 0.3) ** 2 + (config["y"] + 0.2) ** 2


def feed(searcher, trial, config, loss, epoch=1):
    searcher.on_pending(trial, config, epoch)
    searcher.on_result(trial, config, epoch, loss)
    searcher.on_end(trial, TrialStatus.COMPLETED)


# 1. Fantasies -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_a_pending_trial_near_the_optimum_moves_the_next_proposal_away(seed):
    """1-D, candidates every 0.025, results around the optimum 0.3, one trial pending at 0.3. Without the
    pending trial the best EI is a neighbour of 0.3 (0.275 or 0.325). The fantasized values at 0.3 make that
    neighbourhood known (low variance) and, as incumbents, good: the proposal must move further away.

    Note: EI averaged over fantasies with incumbents taken only at *observed* configurations equals, in
    expectation over the fantasies, the EI without them (law of total expectation), so fantasies can only act
    through the incumbent; Syne Tune takes it over observed and pending configurations."""
    grid = [{"x": i / 40} for i in range(41)]
    history = [0.0, 0.15, 0.5, 0.7, 1.0]

    def f(x):
        return (x - 0.3) ** 2

    def searcher(**options):
        s = GPSearcher(LINE, seed=seed, num_init_random=0, restrict_configurations=grid, **options)
        s.configure(max_t=1, rung_levels=())
        for trial, x in enumerate(history):
            feed(s, trial, {"x": x}, f(x))
        return s

    pending = {"x": 0.3}
    # the same trial, known but not pending (it ended without a result)
    plain = searcher()
    plain.on_pending(99, pending, 1)
    plain.on_end(99, TrialStatus.STOPPED)
    fantasizing = searcher()
    fantasizing.on_pending(99, pending, 1)
    ignoring = searcher(no_fantasizing=True)
    ignoring.on_pending(99, pending, 1)

    without = plain.suggest(100)["x"]
    with_fantasies = fantasizing.suggest(100)["x"]
    assert ignoring.suggest(100)["x"] == without  # no_fantasizing: the pending trial changes nothing
    assert plain.state_summary()["model_suggestions"] == fantasizing.state_summary()["model_suggestions"] == 1
    assert abs(without - 0.3) == pytest.approx(0.025)  # without fantasies: next to the pending point
    assert with_fantasies != without
    assert abs(with_fantasies - 0.3) > abs(without - 0.3) + 0.01, (without, with_fantasies)


# 2. Determinism -----------------------------------------------------------------------------------------------
def run_method(name, table, seed, **stop):
    scheduler = make_method(name, space=table.space, metric="error", max_t=27, seed=seed, n_workers=2)
    result = simulate(table, scheduler, n_workers=2, seed=0, stop=StopCriteria(**stop))
    return result, scheduler.searcher.state_summary()


@pytest.mark.parametrize(
    "name, stop", [("BayesianOptimization", {"max_trials": 14}), ("MOBSTER-JOINT", {"max_results": 80})]
)
def test_same_seed_same_suggestions_different_seed_different(random_table, name, stop):
    first, summary = run_method(name, random_table, 1, **stop)
    again, _ = run_method(name, random_table, 1, **stop)
    other, _ = run_method(name, random_table, 2, **stop)
    assert summary["model_suggestions"] > 0  # the model proposed some of them
    assert first.trials_frame().equals(again.trials_frame())
    np.testing.assert_array_equal(first.trial_id, again.trial_id)
    np.testing.assert_array_equal(first.epoch, again.epoch)
    np.testing.assert_array_equal(first.objectives, again.objectives)
    names = random_table.space.names
    configs = [tuple(row) for row in first.trials_frame()[names].itertuples(index=False)]
    other_configs = [tuple(row) for row in other.trials_frame()[names].itertuples(index=False)]
    assert len(set(configs)) == len(configs)  # no configuration twice
    assert configs != other_configs


# 3. Restricted candidates -------------------------------------------------------------------------------------
def test_restricted_proposals_are_candidates_without_repeats_then_none():
    rng = np.random.default_rng(0)
    candidates = [{"x": float(x), "y": float(y)} for x, y in rng.uniform(-1, 1, size=(12, 2))]
    searcher = GPSearcher(PLANE, seed=0, num_init_random=2, restrict_configurations=candidates)
    searcher.configure(max_t=5, rung_levels=())
    keys = {(c["x"], c["y"]) for c in candidates}
    proposed = []
    for trial in range(len(candidates)):
        config = searcher.suggest(trial)
        assert config is not None and (config["x"], config["y"]) in keys
        proposed.append((config["x"], config["y"]))
        feed(searcher, trial, config, bowl(config), epoch=5)
    assert len(set(proposed)) == len(candidates)
    assert searcher.state_summary()["model_suggestions"] == len(candidates) - 2
    assert searcher.suggest(len(candidates)) is None


# 4. The initial random phase ----------------------------------------------------------------------------------
def test_first_num_init_random_suggestions_do_not_use_the_model():
    assert GPSearcher(PLANE).num_init_random == 3
    assert GPSearcher(PLANE, n_workers=4).num_init_random == 4
    assert GPSearcher(PLANE, n_workers=4, num_init_random=2).num_init_random == 2
    scheduler = make_method("BayesianOptimization", space=PLANE, metric="loss", max_t=1, seed=0, n_workers=5)
    assert scheduler.searcher.num_init_random == 5

    searcher = GPSearcher(PLANE, seed=0, n_workers=4)
    searcher.configure(max_t=1, rung_levels=())
    configs = []
    for trial in range(4):
        configs.append(searcher.suggest(trial))
        assert searcher.state_summary()["model_suggestions"] == 0
        feed(searcher, trial, configs[-1], bowl(configs[-1]))
    assert configs[0] == PLANE.midpoint()  # the default first point
    assert searcher.state_summary()["hyperparameter_fits"] == 0
    searcher.suggest(4)
    assert searcher.state_summary()["model_suggestions"] == 1
    assert searcher.state_summary()["hyperparameter_fits"] == 1

    # with no result in, suggestions stay random after the initial phase
    idle = GPSearcher(PLANE, seed=0, num_init_random=1)
    idle.configure(max_t=1, rung_levels=())
    for trial in range(4):
        config = idle.suggest(trial)
        idle.on_pending(trial, config, 1)
    assert idle.state_summary()["model_suggestions"] == 0


# 5. Subsampling -----------------------------------------------------------------------------------------------
def test_model_data_is_subsampled_keeping_the_highest_level(monkeypatch):
    space = SearchSpace({"x": Float(0.0, 1.0), "c": Categorical(("a", "b"))})
    searcher = GPSearcher(space, seed=0, num_init_random=0, max_size_data_for_model=20, num_init_candidates=20)
    searcher.configure(max_t=9, rung_levels=(1, 3))
    rng = np.random.default_rng(1)
    top_trials, level3 = [], {}
    count = 0
    for trial in range(30):  # 30 results at 1, 20 at 3, 10 at 9: 60 in all
        config = {"x": float(rng.uniform()), "c": "ab"[trial % 2]}
        for epoch in (1, 3, 9):
            if (epoch == 3 and trial >= 20) or (epoch == 9 and trial >= 10):
                break
            loss = float(rng.uniform()) / epoch
            searcher.on_pending(trial, config, epoch)
            searcher.on_result(trial, config, epoch, loss)
            count += 1
            if epoch == 3:
                level3[trial] = loss
            if epoch == 9:
                top_trials.append(trial)
        searcher.on_end(trial, TrialStatus.STOPPED)
    assert count == 60

    shapes = []
    original = bayesopt.fit_hyperparameters

    def recording(prior, X, y, rng, **kwargs):
        shapes.append(X.shape)
        np.testing.assert_allclose([y.mean(), y.std()], [0.0, 1.0], atol=1e-12)  # standardised targets
        return original(prior, X, y, rng, **kwargs)

    monkeypatch.setattr(bayesopt, "fit_hyperparameters", recording)
    assert searcher.suggest(100) is not None
    assert shapes == [(20, searcher.encoder.dimension + 1)]

    data = searcher._model_data()
    assert data.num_observations == 60 and len(data.y) == 20
    top = data.levels == 2
    assert sorted(data.trials[top].tolist()) == sorted(top_trials)  # every result at max_t
    assert not np.any(data.levels == 0)  # no room left for the lowest level
    kept3 = set(data.trials[data.levels == 1].tolist())
    assert len(kept3) == 10
    best_two = sorted(level3, key=level3.get)[:2]  # 25% of the 10 places left: the best two at level 3
    assert set(best_two) <= kept3


# 6. Better than random search ---------------------------------------------------------------------------------
def best_after(searcher, evaluations):
    best = np.inf
    for trial in range(evaluations):
        config = searcher.suggest(trial)
        loss = bowl(config)
        best = min(best, loss)
        feed(searcher, trial, config, loss)
    return best


def test_bo_beats_random_search_on_a_quadratic_bowl():
    bo, random = [], []
    for seed in range(3):
        searcher = GPSearcher(PLANE, seed=seed, num_init_candidates=100)
        searcher.configure(max_t=1, rung_levels=())
        bo.append(best_after(searcher, 25))
        random.append(best_after(RandomSearcher(PLANE, seed=seed), 25))
    assert np.mean(bo) < 0.5 * np.mean(random), (bo, random)
    assert max(bo) < 1e-2


# 7. Options ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "option, value",
    [
        ("model", "shared"),
        ("initial_scoring", "best"),
        ("num_init_candidates", 0),
        ("num_fantasy_samples", 0),
        ("opt_nstarts", 0),
        ("opt_maxiter", 2.5),
        ("opt_skip_period", 0),
        ("opt_skip_init_length", -1),
        ("max_size_data_for_model", 1),
        ("max_size_top_fraction", 1.5),
        ("max_size_top_fraction", -0.1),
    ],
)
def test_bad_option_values_are_refused_naming_the_option(option, value):
    with pytest.raises(ValueError, match=option):
        GPSearcher(PLANE, **{option: value})
    with pytest.raises(ValueError, match=option):
        make_method("BayesianOptimization", space=PLANE, metric="loss", max_t=1, **{option: value})

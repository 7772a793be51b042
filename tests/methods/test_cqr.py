"""CQR: conformalized quantile regression covers at the nominal rate; the searcher's data, refits and choices."""

import math

import numpy as np
import pytest

from methods import make_method
from methods.conformal import ConformalQuantileRegressor, conformal_rank, quantile_levels
from methods.cqr import CQRSearcher
from methods.searchers import RandomSearcher
from searchspace import Categorical, Float, SearchSpace


def test_quantile_levels_and_the_conformal_rank():
    np.testing.assert_allclose(quantile_levels(5), [1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6])
    assert conformal_rank(0.1, 9) == 9  # ceil(0.9 * 10)
    assert conformal_rank(1 / 3, 30) == 21  # ceil(2/3 * 31) = ceil(20.67)
    assert conformal_rank(2 / 3, 50) == 17  # ceil(1/3 * 51)
    assert conformal_rank(0.01, 5) == 5  # more than n: the largest score


def synthetic(rng, n):
    """Heteroscedastic noise: the spread grows with x0."""
    X = rng.random((n, 3))
    y = np.sin(4 * X[:, 0]) + X[:, 1] + (0.1 + 0.5 * X[:, 0]) * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("regressor", ["xgboost", "sklearn"])
def test_conformal_intervals_cover_at_the_nominal_rate(regressor):
    rng = np.random.default_rng(0)
    levels = quantile_levels(5)
    repetitions = 30 if regressor == "xgboost" else 6
    coverage = {0: [], 1: []}
    for repetition in range(repetitions):
        X, y = synthetic(rng, 300)
        model = ConformalQuantileRegressor(levels, seed=repetition, regressor=regressor).fit(X, y, rng)
        X_test, y_test = synthetic(rng, 2000)
        q = model.predict(X_test)
        for k in (0, 1):
            coverage[k].append(np.mean((q[:, k] <= y_test) & (y_test <= q[:, 4 - k])))
    n_cal = 30  # 10% of 300
    for k, nominal in ((0, 2 / 3), (1, 1 / 3)):
        expected = conformal_rank(2 * levels[k], n_cal) / (n_cal + 1)  # the exact mean coverage of split conformal
        spread = math.sqrt(expected * (1 - expected) / (n_cal + 2) / repetitions)
        assert expected >= nominal
        assert np.mean(coverage[k]) == pytest.approx(expected, abs=4 * spread + 0.01)


def test_no_calibration_up_to_the_threshold_and_the_median_never_moves():
    rng = np.random.default_rng(1)
    X, y = synthetic(rng, 32)
    model = ConformalQuantileRegressor(quantile_levels(5), seed=0).fit(X, y, rng)
    assert not model.corrections.any()
    X, y = synthetic(rng, 200)
    model.fit(X, y, rng)
    assert model.corrections[0] != 0 and model.corrections[2] == 0
    assert model.corrections[0] == model.corrections[4] and model.corrections[1] == model.corrections[3]
    np.testing.assert_array_equal(model.predict(X)[:, 2], model.predict_uncorrected(X)[:, 2])


SPACE = SearchSpace({"x": Float(0.0, 1.0), "lr": Float(1e-4, 1.0, log=True), "c": Categorical(("a", "b", "c"))})
FAST = {"regressor_kwargs": {"n_estimators": 30}}


def loss(config):
    return (config["x"] - 0.7) ** 2 + 0.05 * (math.log10(config["lr"]) + 2) ** 2 + (0.0 if config["c"] == "b" else 0.2)


def feed(searcher, trial_id, config, level, value):
    searcher.on_pending(trial_id, config, level)
    searcher.on_result(trial_id, config, level, value)


def run(searcher, trials):
    searcher.configure(max_t=1, rung_levels=())
    configs = []
    for trial in range(trials):
        config = searcher.suggest(trial)
        configs.append(config)
        feed(searcher, trial, config, 1, loss(config))
    return configs


def test_each_trial_counts_once_with_its_last_result():
    searcher = make_method("ASHA-CQR", space=SPACE, metric="loss", max_t=9, seed=0, **FAST).searcher
    configs = SPACE.sample_many(np.random.default_rng(2), 4)
    for trial, config in enumerate(configs):
        feed(searcher, trial, config, 1, 1.0 + trial)
    feed(searcher, 0, configs[0], 3, 0.5)
    feed(searcher, 2, configs[2], 3, 2.5)
    feed(searcher, 2, configs[2], 9, 2.2)
    inputs, losses = searcher.last_results()
    np.testing.assert_array_equal(losses, [0.5, 2.0, 2.2, 4.0])
    np.testing.assert_array_equal(inputs, searcher.encoder.encode(configs))


def test_random_first_then_refits_as_the_data_grows():
    searcher = CQRSearcher(SPACE, seed=0, refit_growth=0.1, **FAST)
    run(searcher, 5)
    assert searcher.num_model_suggestions == 0 and searcher.num_fits == 0
    run_from = 5
    for trial in range(run_from, 60):
        config = searcher.suggest(trial)
        feed(searcher, trial, config, 1, loss(config))
    # a fit at 5 results, then whenever 10% more came in: 5, 6, 7, ..., about 25 fits rather than 55
    assert searcher.num_model_suggestions == 55
    assert 15 <= searcher.num_fits <= 30
    every = CQRSearcher(SPACE, seed=0, refit_growth=0.0, **FAST)
    run(every, 20)
    assert every.num_fits == 15


def test_lcb_takes_the_candidate_with_the_lowest_lower_quantile():
    candidates = SPACE.sample_many(np.random.default_rng(3), 60)
    searcher = CQRSearcher(SPACE, seed=0, acquisition="lcb", restrict_configurations=candidates, **FAST)
    run(searcher, 12)
    remaining, inputs = searcher.candidate_pool(0)
    assert len(remaining) == 48
    searcher.model.fit(*searcher.last_results(), np.random.default_rng(0))  # what the next suggestion refits
    expected = remaining[int(np.argmin(searcher.model.predict(inputs)[:, 0]))]
    assert searcher.suggest(12) == expected


def test_thompson_draws_win_through_low_quantiles():
    searcher = CQRSearcher(SPACE, seed=4, **FAST)
    run(searcher, 30)
    configs, inputs = searcher.candidate_pool(500)
    quantiles = searcher.model.predict(inputs)
    chosen = searcher.suggest(30)
    index = next(i for i, c in enumerate(configs) if c == chosen) if chosen in configs else None
    # the chosen configuration's lowest quantile is among the lowest of a fresh candidate pool
    lowest = searcher.model.predict(searcher.encoder.encode([chosen]))[0, 0]
    assert lowest <= np.quantile(quantiles[:, 0], 0.1)
    assert index is None or quantiles[index, 0] == lowest


def test_same_seed_same_proposals_and_cqr_beats_random_search():
    first = run(CQRSearcher(SPACE, seed=5, **FAST), 25)
    assert first == run(CQRSearcher(SPACE, seed=5, **FAST), 25)
    assert first[5:] != run(CQRSearcher(SPACE, seed=6, **FAST), 25)[5:]
    cqr = [min(map(loss, run(CQRSearcher(SPACE, seed=s, **FAST), 30))) for s in range(8)]
    rand = [min(map(loss, run(RandomSearcher(SPACE, seed=s), 30))) for s in range(8)]
    assert sum(c < r for c, r in zip(cqr, rand)) >= 6


@pytest.mark.parametrize(
    "options",
    [{"num_quantiles": 4}, {"num_quantiles": 1}, {"num_init_random": 1}, {"num_candidates": 0},
     {"acquisition": "ei"}, {"regressor": "lightgbm"}, {"calibration_fraction": 1.0},
     {"min_samples_to_conformalize": -1}, {"refit_growth": 2.0}],
)  # fmt: skip
def test_bad_options_are_refused_in_one_line(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        CQRSearcher(SPACE, **options)

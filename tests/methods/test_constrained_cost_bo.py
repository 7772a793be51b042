"""Constrained BO (``methods.constrained_bo``) and cost-aware BO (``methods.cost_aware_bo``): the acquisition
factors against their formulas, the acquisitions against plain BO's EI times those factors, the weighted exact
argmax against scoring every candidate, behaviour on cheap synthetic problems, and option checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from methods import TrialStatus, make_method
from methods.bayesopt import GPSearcher
from methods.constrained_bo import ConstrainedGPSearcher, FeasibilityWeight
from methods.cost_aware_bo import CostAwareGPSearcher, CostWeight
from methods.gp.acquisition import (
    argmax_expected_improvement,
    cost_weight,
    expected_improvement,
    probability_of_feasibility,
)
from searchspace import Float, SearchSpace

PLANE = SearchSpace({"x": Float(-1.0, 1.0), "y": Float(-1.0, 1.0)})
CHEAP = {"num_init_random": 3, "num_init_candidates": 100, "opt_maxiter": 20}


def bowl(config):
    return (config["x"] - 0.3) ** 2 + (config["y"] + 0.2) ** 2


def two_valleys(config):
    """Minima at x = -0.5 and x = +0.5 (y = 0), equally good."""
    return (abs(config["x"]) - 0.5) ** 2 + config["y"] ** 2


def cost_along_x(config):
    return math.exp(2.0 * (config["x"] + 1.0))  # from 1 at x = -1 to e^4 at x = 1


def feed(searcher, trial, config, metrics):
    searcher.on_pending(trial, config, 1)
    searcher.on_report(trial, config, 1, metrics)
    searcher.on_end(trial, TrialStatus.COMPLETED)


def run(searcher, count, objective, other):
    """Sequential search: ``count`` proposals, each evaluated at once; returns them in order."""
    searcher.configure(max_t=1, rung_levels=())
    proposals = []
    for trial in range(count):
        config = searcher.suggest(trial)
        feed(searcher, trial, config, {"loss": objective(config), **other(config)})
        proposals.append(config)
    return proposals


class FixedPosterior:
    """A hand-made posterior: the given means and variances whatever the inputs (rows of X select them)."""

    def __init__(self, means, variances):
        self.means, self.variances = np.asarray(means, float), np.asarray(variances, float)

    def predict(self, X):
        return self.means[: len(X)], self.variances[: len(X)]

    def predict_mean(self, X):
        return self.means[: len(X)]

    def predict_bounded(self, X):
        bounds = 2.0 * self.variances[: len(X)]  # any upper bound
        return self.means[: len(X)], bounds, lambda rows: self.variances[rows]


# 1. The formulas ----------------------------------------------------------------------------------------------
def test_probability_of_feasibility_is_the_normal_cdf_of_minus_mean_over_sd():
    # P(c <= 0) for c ~ N(1, 1), N(-1, 4), N(0, 9): Φ(-1), Φ(0.5), 1/2
    values = probability_of_feasibility(np.array([1.0, -1.0, 0.0]), np.array([1.0, 4.0, 9.0]))
    np.testing.assert_allclose(values, [0.15865525393145707, 0.6914624612740131, 0.5], rtol=1e-12)


def test_cost_weight_is_the_predicted_cost_to_the_minus_rho():
    np.testing.assert_allclose(cost_weight(np.array([4.0, 2.0, 0.5]), 0.5), [0.5, 2**-0.5, 2**0.5], rtol=1e-12)
    np.testing.assert_allclose(cost_weight(np.array([4.0, 2.0]), 1.0), [0.25, 0.5], rtol=1e-12)


def test_constrained_ei_on_a_hand_made_posterior():
    """CEI = EI × Φ(−μ_c/σ_c): objective N(0, 1) with incumbent 0 has EI = φ(0) = 1/√(2π)."""
    ei = expected_improvement(np.zeros((3, 1)), np.ones(3), np.zeros(1))
    np.testing.assert_allclose(ei, 1 / math.sqrt(2 * math.pi), rtol=1e-12)
    weight = FeasibilityWeight(FixedPosterior([1.0, -1.0, 0.0], [1.0, 4.0, 9.0]))
    X = np.zeros((3, 2))
    cei = ei * weight.values(X)
    np.testing.assert_allclose(cei, [0.398942 * 0.158655, 0.398942 * 0.691462, 0.398942 * 0.5], rtol=1e-5)
    bounds, exact = weight.bounded(X)
    np.testing.assert_allclose(exact(np.arange(3)), weight.values(X))
    assert np.all(bounds >= weight.values(X))


def test_ei_per_unit_cost_on_a_hand_made_posterior():
    """EIpu = EI / μ_c^ρ with μ_c = exp(mean of the log cost): log costs log 4 and 0 -> costs 4 and 1."""
    weight = CostWeight(FixedPosterior([math.log(4.0), 0.0], [1.0, 1.0]), exponent=0.5)
    X = np.zeros((2, 2))
    np.testing.assert_allclose(weight.values(X), [0.5, 1.0], rtol=1e-12)
    ei = expected_improvement(np.array([[0.0], [1.0]]), np.ones(2), np.zeros(1))
    np.testing.assert_allclose(ei * weight.values(X), [ei[0] / 2.0, ei[1]], rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_exact_argmax_equals_scoring_every_row(seed):
    rng = np.random.default_rng(seed)
    n = 700
    means = rng.normal(size=(n, 3))
    variances = rng.uniform(0.01, 1.0, n)
    bounds = variances + rng.uniform(0.0, 0.5, n)
    weights = rng.uniform(0.0, 1.0, n)
    weight_bounds = np.minimum(weights + rng.uniform(0.0, 0.3, n), 1.0)
    best = np.array([-1.0, -0.5, -1.5])
    expected = int(np.argmax(expected_improvement(means, variances, best) * weights))
    winner = argmax_expected_improvement(
        means,
        bounds,
        best,
        lambda rows: variances[rows],
        chunk=32,
        weight_bounds=weight_bounds,
        weights_of=lambda rows: weights[rows],
    )
    assert winner == expected


# 2. The searchers' acquisitions against plain BO -----------------------------------------------------------
def fed(cls, configs, metrics, **options):
    searcher = cls(PLANE, seed=3, num_init_random=0, **options)
    searcher.configure(max_t=1, rung_levels=())
    for trial, config in enumerate(configs):
        feed(searcher, trial, config, metrics(config))
    return searcher


def scores(searcher, inputs):
    posterior, data = searcher._posterior()
    return searcher.scorer(posterior, data)(inputs)[0], data


@pytest.fixture(scope="module")
def design():
    rng = np.random.default_rng(5)
    configs = PLANE.sample_many(rng, 12)
    return configs, PLANE.sample_many(rng, 40)


def test_constrained_acquisition_is_plain_ei_times_the_probability_of_feasibility(design):
    """Every observation feasible (latency <= 2): the feasible incumbent is plain BO's, the objective's model
    the same, so CEI = plain EI × Φ(−μ_c/σ_c); the constraint GP is in the metric's units minus the threshold."""
    configs, candidates = design

    def metrics(config):
        return {"loss": bowl(config), "latency": 1.0 + 0.5 * config["x"]}

    plain = fed(GPSearcher, configs, metrics)
    constrained = fed(ConstrainedGPSearcher, configs, metrics, constraint_attr="latency", constraint_threshold=2.0)
    inputs = constrained.encoder.encode(candidates)
    ei, _ = scores(plain, inputs)
    cei, data = scores(constrained, inputs)
    means, variances = data.second.predict(inputs)
    np.testing.assert_allclose(cei, ei * norm.cdf(-means / np.sqrt(variances)), rtol=1e-9)
    observed, _ = data.second.predict(constrained.encoder.encode(configs))
    np.testing.assert_allclose(observed, [0.5 * c["x"] - 1.0 for c in configs], atol=0.02)


def test_until_a_feasible_result_the_acquisition_is_the_probability_of_feasibility_alone(design):
    configs, candidates = design
    constrained = fed(
        ConstrainedGPSearcher, configs, lambda c: {"loss": bowl(c), "c": 1.0 + c["x"] ** 2}, constraint_attr="c"
    )
    inputs = constrained.encoder.encode(candidates)
    values, data = scores(constrained, inputs)
    assert constrained.feasible_trials(data) == []
    means, variances = data.second.predict(inputs)
    np.testing.assert_allclose(values, norm.cdf(-means / np.sqrt(variances)), rtol=1e-12)


def test_the_incumbent_is_the_best_feasible_posterior_mean(design):
    """Half the observations infeasible, among them the best: EI's incumbent is the best *feasible* one."""
    configs, _ = design

    def metrics(config):
        return {"loss": bowl(config), "c": config["x"]}

    constrained = fed(ConstrainedGPSearcher, configs, metrics, constraint_attr="c")
    posterior, data = constrained._posterior()
    feasible = [t for t, config in enumerate(configs) if config["x"] <= 0]
    assert constrained.feasible_trials(data) == feasible
    means, _ = posterior.predict(constrained.encoder.encode([configs[t] for t in feasible]))
    incumbent = constrained._incumbent(posterior, data, 1)
    np.testing.assert_allclose(incumbent, means.min(axis=0))
    overall, _ = posterior.predict(constrained.encoder.encode(configs))
    assert incumbent[0] > overall.min()  # the best observation is infeasible here


def test_cost_aware_acquisition_is_plain_ei_over_the_predicted_cost(design):
    configs, candidates = design

    def metrics(config):
        return {"loss": bowl(config), "elapsed": cost_along_x(config)}

    plain = fed(GPSearcher, configs, metrics)
    aware = fed(CostAwareGPSearcher, configs, metrics, cost_attr="elapsed", cost_exponent=0.5)
    inputs = aware.encoder.encode(candidates)
    ei, _ = scores(plain, inputs)
    eipu, data = scores(aware, inputs)
    predicted = np.exp(data.second.predict(inputs)[0])
    np.testing.assert_allclose(eipu, ei / predicted**0.5, rtol=1e-9)
    observed = np.exp(data.second.predict(aware.encoder.encode(configs))[0])
    np.testing.assert_allclose(observed, [cost_along_x(c) for c in configs], rtol=0.05)


@pytest.mark.parametrize(
    "cls, option", [(ConstrainedGPSearcher, "constraint_attr"), (CostAwareGPSearcher, "cost_attr")]
)
def test_restricted_candidates_get_the_argmax_of_the_acquisition(cls, option, design):
    configs, candidates = design

    def metrics(config):
        return {"loss": bowl(config), "m": 0.2 + config["x"]}

    searcher = fed(cls, configs, metrics, restrict_configurations=configs + candidates, **{option: "m"})
    values, _ = scores(searcher, searcher.encoder.encode(candidates))
    assert searcher.suggest(100) == candidates[int(np.argmax(values))]


# 3. Behaviour on synthetic problems -----------------------------------------------------------------------------
def test_constrained_bo_proposes_feasible_configurations_more_often_than_plain_bo():
    """The bowl's minimum (0.3, -0.2) is infeasible (feasible iff x <= 0: half the space)."""
    feasible = {"plain": 0, "constrained": 0}
    for seed in range(3):
        for name, searcher in (
            ("plain", GPSearcher(PLANE, seed=seed, **CHEAP)),
            ("constrained", ConstrainedGPSearcher(PLANE, seed=seed, constraint_attr="c", **CHEAP)),
        ):
            proposals = run(searcher, 15, bowl, lambda c: {"c": c["x"]})
            feasible[name] += sum(config["x"] <= 0 for config in proposals[3:])
    assert feasible["constrained"] >= 30  # of 36 model-based proposals
    assert feasible["constrained"] >= feasible["plain"] + 15, feasible


def test_cost_aware_bo_proposes_cheaper_configurations_than_plain_bo_early_on():
    """Two equally good valleys, one cheap (x = -0.5) and one expensive (x = 0.5)."""
    mean_cost = {"plain": [], "aware": []}
    for seed in range(3):
        for name, searcher in (
            ("plain", GPSearcher(PLANE, seed=seed, **CHEAP)),
            ("aware", CostAwareGPSearcher(PLANE, seed=seed, cost_attr="cost", **CHEAP)),
        ):
            proposals = run(searcher, 11, two_valleys, lambda c: {"cost": cost_along_x(c)})
            mean_cost[name].append(np.mean([cost_along_x(config) for config in proposals[3:]]))
    assert np.mean(mean_cost["aware"]) < 0.5 * np.mean(mean_cost["plain"]), mean_cost


# 4. Options and errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, option",
    [("ConstrainedBayesianOptimization", "constraint_attr"), ("CostAwareBayesianOptimization", "cost_attr")],
)
def test_a_missing_metric_option_is_refused_naming_it(method, option):
    with pytest.raises(ValueError, match=f"needs `{option}`") as error:
        make_method(method, space=PLANE, metric="loss", max_t=1)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "method, options",
    [
        ("ConstrainedBayesianOptimization", {"constraint_attr": "c", "constraint_threshold": "high"}),
        ("ConstrainedBayesianOptimization", {"constraint_attr": "c", "constraint_threshold": math.inf}),
        ("CostAwareBayesianOptimization", {"cost_attr": "c", "cost_exponent": 0.0}),
        ("CostAwareBayesianOptimization", {"cost_attr": "c", "cost_exponent": 1.5}),
    ],
)
def test_bad_option_values_are_refused_naming_the_option(method, options):
    bad = [name for name in options if not name.endswith("_attr")][0]
    with pytest.raises(ValueError, match=f"`{bad}`"):
        make_method(method, space=PLANE, metric="loss", max_t=1, **options)


@pytest.mark.parametrize("searcher, option", [("gp_constrained", "constraint_attr"), ("gp_cost", "cost_attr")])
def test_a_scheduler_with_rung_levels_is_refused(searcher, option):
    with pytest.raises(ValueError, match="needs a single-fidelity scheduler"):
        make_method(f"ASHA+{searcher}", space=PLANE, metric="loss", max_t=9, **{option: "c"})


@pytest.mark.parametrize(
    "cls, option", [(ConstrainedGPSearcher, "constraint_attr"), (CostAwareGPSearcher, "cost_attr")]
)
def test_a_report_without_the_metric_is_refused_naming_the_option(cls, option):
    searcher = cls(PLANE, seed=0, **{option: "latency"})
    searcher.configure(max_t=1, rung_levels=())
    config = searcher.suggest(0)
    searcher.on_pending(0, config, 1)
    with pytest.raises(ValueError, match=f"no metric 'latency'.*`{option}`"):
        searcher.on_report(0, config, 1, {"loss": 1.0})


def test_non_positive_costs_are_left_out_of_the_cost_model(design):
    configs, _ = design
    aware = fed(CostAwareGPSearcher, configs, lambda c: {"loss": bowl(c), "cost": c["x"] + 0.5}, cost_attr="cost")
    _, data = aware._posterior()
    positive = [c for c in configs if c["x"] + 0.5 > 0]
    assert 0 < len(positive) < len(configs)
    assert len(data.second.posterior.X) == len(positive)

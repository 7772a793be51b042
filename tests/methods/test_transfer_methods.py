"""Transfer-learning methods: ZeroShotTransfer's greedy portfolio, BoundingBox's box, CTS's copula transform and
proposals, RUSH's hurdles, and the registered methods end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from methods import REGISTRY, Action, resolve_method
from methods.asha import ASHA
from methods.bounding_box import BoundingBox, bounding_box
from methods.quantile_surrogate import QuantileBasedSurrogateSearcher, gaussian_copula, standardized
from methods.rush import RUSH
from methods.transfer import TransferTask
from methods.zero_shot import ZeroShotSearcher, greedy_step, task_ranks
from searchspace import Categorical, Condition, Float, Grid, Integer, Ordinal, SearchSpace
from simulator import StopCriteria, simulate

TRANSFER_METHODS = ["ZeroShotTransfer", "BoundingBox", "QuantileBasedSurrogateSearcher", "ASHA-CTS", "RUSH"]
GRID = SearchSpace({"x": Grid(tuple(range(5)))})


def grid_task(name, losses, mode="min"):
    """A task on GRID evaluated at one fidelity: configuration x has loss ``losses[x]``."""
    return TransferTask(name, [{"x": x} for x in range(len(losses))], np.array(losses, dtype=float)[:, None], mode)


# ZeroShotTransfer -------------------------------------------------------------------------------
THREE_TASKS = [
    grid_task("t1", [0.1, 0.5, 0.3, 0.9, 0.2]),  # ranks 1 4 3 5 2
    grid_task("t2", [0.6, 0.1, 0.3, 0.9, 0.2]),  # ranks 4 1 3 5 2
    grid_task("t3", [-0.7, -0.8, -0.3, -0.1, -0.2], mode="max"),  # as losses 0.7 0.8 0.3 0.1 0.2: ranks 4 5 3 1 2
]


def test_zero_shot_picks_the_greedy_rank_portfolio_then_searches_at_random():
    # rank sums 9 10 9 11 6: x=4 first (best ranks 2,2,2: sum 6); then x=0, 1 and 3 each lower it to 5 (ties: the
    # first, x=0 -> 1,2,2); then x=1 and 3 lower it to 4 (x=1 -> 1,1,2); then x=3 (1,1,1); nothing lowers 3 any more
    searcher = ZeroShotSearcher(GRID, seed=0, transfer_evaluations=THREE_TASKS)
    picks = [searcher.suggest(trial)["x"] for trial in range(4)]
    assert picks == [4, 0, 1, 3]
    assert searcher.suggest(4) == {"x": 2}  # random search: the one configuration left
    assert searcher.suggest(5) is None
    assert len(searcher.portfolio) == 4


def test_greedy_step_is_the_argmin_of_the_summed_clipped_ranks():
    ranks = task_ranks(np.array([[0.1, 0.5, 0.3], [0.6, 0.1, np.nan]]))
    assert ranks.tolist() == [[1, 3, 2], [2, 1, 3]]  # NaN ranks last
    remaining = np.ones(3, dtype=bool)
    assert greedy_step(ranks, np.full(2, np.inf), remaining) == 0  # sums 3, 4, 5
    assert greedy_step(ranks, np.array([1.0, 2.0]), remaining) == 1  # 1+1 beats 1+2 = the current sum 3
    assert greedy_step(ranks, np.array([1.0, 1.0]), remaining) is None  # nothing beats 2


def test_zero_shot_gives_points_to_evaluate_first_and_never_proposes_twice():
    searcher = ZeroShotSearcher(GRID, seed=0, transfer_evaluations=THREE_TASKS, points_to_evaluate=[{"x": 0}])
    picks = [searcher.suggest(trial)["x"] for trial in range(5)]
    assert picks == [0, 4, 1, 3, 2]  # x=0 counts for the portfolio but is not proposed again


def test_zero_shot_needs_shared_configurations_or_surrogates():
    tasks = [grid_task("a", [0.1, 0.2, 0.3, 0.4, 0.5]), TransferTask("b", [{"x": 0}, {"x": 4}], [[0.9], [0.1]])]
    searcher = ZeroShotSearcher(GRID, seed=0, transfer_evaluations=tasks)  # shared: x=0 (ranks 1, 2), x=4 (2, 1)
    assert [searcher.suggest(t)["x"] for t in range(2)] == [0, 4]
    disjoint = [TransferTask("a", [{"x": 0}], [[0.1]]), TransferTask("b", [{"x": 1}], [[0.2]])]
    with pytest.raises(ValueError, match="use_surrogates=True"):
        ZeroShotSearcher(GRID, seed=0, transfer_evaluations=disjoint).suggest(0)
    predicted = ZeroShotSearcher(GRID, seed=0, transfer_evaluations=tasks, use_surrogates=True, regressor="sklearn")
    assert predicted.suggest(0) is not None and predicted.state_summary()["candidates"] == 5


# BoundingBox ------------------------------------------------------------------------------------
MIXED = SearchSpace(
    {
        "lr": Float(1e-5, 1.0, log=True),
        "units": Integer(1, 512, log=True),
        "grid": Grid((1, 2, 4, 8, 16)),
        "act": Categorical(("relu", "tanh", "gelu")),
        "size": Ordinal(("s", "m", "l", "xl")),
        "opt": Categorical(("sgd", "adam")),
        "momentum": Float(0.0, 0.99),
    },
    conditions=[Condition("momentum", "opt", ("sgd",))],
)


def mixed_config(lr, units, grid, act, size, opt="adam", momentum=None):
    return {"lr": lr, "units": units, "grid": grid, "act": act, "size": size, "opt": opt, "momentum": momentum}


BOX_TASKS = [  # each task's best configuration first (smallest loss)
    TransferTask(
        "a", [mixed_config(1e-3, 32, 2, "tanh", "l"), mixed_config(0.9, 500, 16, "relu", "s")], [[0.1], [0.9]]
    ),
    TransferTask(
        "b", [mixed_config(0.5, 400, 16, "relu", "xl"), mixed_config(1e-2, 8, 4, "gelu", "s")], [[0.3], [0.2]]
    ),
]


def test_the_box_spans_the_best_configuration_of_each_task():
    box, dropped = bounding_box(MIXED, [task.best_configs(1)[0] for task in BOX_TASKS])
    assert box["lr"] == Float(1e-3, 1e-2, log=True)
    assert box["units"] == Integer(8, 32, log=True)
    assert box["grid"] == Grid((2, 4))
    assert box["act"] == Categorical(("tanh", "gelu"))  # the domain's order
    assert box["size"] == Ordinal(("s", "l"))
    assert box["opt"] == Categorical(("adam",))
    assert dropped == ["momentum"] and "momentum" not in box  # only active with sgd, which left the box


def in_box(config):
    """The box of BOX_TASKS, written out."""
    return (
        1e-3 <= config["lr"] <= 1e-2
        and 8 <= config["units"] <= 32
        and config["grid"] in (2, 4)
        and config["act"] in ("tanh", "gelu")
        and config["size"] in ("s", "l")
        and config["opt"] == "adam"
        and config["momentum"] is None
    )


def test_every_suggestion_lies_in_the_box_and_a_dropped_hyperparameter_is_none():
    method = BoundingBox(MIXED, metric="loss", max_t=3, seed=0, transfer_evaluations=BOX_TASKS)
    for trial in range(50):
        config = method.suggest(trial).config
        MIXED.validate(config)
        assert in_box(config), config


def test_bounding_box_keeps_a_condition_that_can_still_hold():
    tasks = [*BOX_TASKS, TransferTask("c", [mixed_config(5e-3, 16, 4, "tanh", "m", "sgd", 0.5)], [[0.0]])]
    box, dropped = bounding_box(MIXED, [task.best_configs(1)[0] for task in tasks])
    assert not dropped and box["momentum"] == Float(0.5, 0.5) and box["opt"] == Categorical(("sgd", "adam"))
    assert box.conditions_of("momentum") == (Condition("momentum", "opt", ("sgd",)),)


@pytest.mark.parametrize("when_exhausted", ["space", "stop"])
def test_bounding_box_restricted_through_the_registry_proposes_the_candidates_in_the_box_first(when_exhausted):
    candidates = MIXED.sample_many(np.random.default_rng(0), 2000) + [mixed_config(5e-3, 16, 4, "tanh", "l")]
    inside = [config for config in candidates if in_box(config)]
    assert 1 < len(inside) < 20
    method = resolve_method("BoundingBox")(
        MIXED,
        metric="loss",
        max_t=3,
        transfer_evaluations=BOX_TASKS,
        restrict_configurations=candidates,
        when_exhausted=when_exhausted,
    )
    proposed = [method.suggest(trial).config for trial in range(len(inside))]
    assert sorted(map(repr, proposed)) == sorted(map(repr, inside))
    if when_exhausted == "stop":  # as Syne Tune: the box is used up, no new trial
        assert method.suggest(len(inside)) is None
        return
    later = [method.suggest(trial).config for trial in range(len(inside), len(inside) + 30)]
    assert all(config in candidates and not in_box(config) for config in later)  # random, outside, not twice
    assert len({repr(config) for config in proposed + later}) == len(inside) + 30


# CTS --------------------------------------------------------------------------------------------
def test_copula_transform_is_the_gaussian_quantile_of_the_truncated_empirical_cdf():
    delta = 1 / (4 * 4**0.25 * math.sqrt(math.pi * math.log(4)))  # n = 4: 0.0847...
    assert 0.0847 < delta < 0.0848
    expected = norm.ppf([1 - delta, 0.25, 0.75, 0.75])  # F(3) = 1 truncated, F(1) = 1/4, F(2) = 3/4 (ties)
    np.testing.assert_allclose(gaussian_copula(np.array([3.0, 1.0, 2.0, 2.0])), expected)
    np.testing.assert_allclose(standardized(np.array([1.0, 3.0])), [-1.0, 1.0])
    assert gaussian_copula(np.array([5.0])).tolist() == [0.0]


def smooth_tasks(count=3, n=300, seed=0):
    """Tasks on [0,1]^2 whose loss is a different increasing function of the distance to (0.8, 0.2)."""
    rng = np.random.default_rng(seed)
    tasks = []
    for t in range(count):
        points = rng.random((n, 2))
        distance = np.hypot(points[:, 0] - 0.8, points[:, 1] - 0.2)
        losses = (t + 1) * 10 * distance ** (t + 1) + t  # a different scale and shape per task
        configs = [{"x": float(a), "y": float(b)} for a, b in points]
        tasks.append(TransferTask(f"t{t}", configs, losses[:, None]))
    return tasks


SQUARE = SearchSpace({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})


def test_cts_proposes_configurations_near_the_other_tasks_optimum_first():
    searcher = QuantileBasedSurrogateSearcher(
        SQUARE, seed=0, transfer_evaluations=smooth_tasks(), points_to_evaluate=[]
    )
    proposals = [searcher.suggest(trial) for trial in range(5)]
    distances = [math.hypot(c["x"] - 0.8, c["y"] - 0.2) for c in proposals]
    assert max(distances) < 0.12, distances  # a random point is this close with probability 0.045
    assert searcher.num_model_suggestions == 5 and 0 < searcher.sigma < 1


def test_cts_starts_at_the_midpoint_by_default_and_ignores_the_targets_results():
    first = QuantileBasedSurrogateSearcher(SQUARE, seed=1, transfer_evaluations=smooth_tasks())
    second = QuantileBasedSurrogateSearcher(SQUARE, seed=1, transfer_evaluations=smooth_tasks())
    assert first.suggest(0) == {"x": 0.5, "y": 0.5} == second.suggest(0)
    first.on_result(0, {"x": 0.5, "y": 0.5}, 1, -100.0)  # a great result at the midpoint changes nothing
    assert [first.suggest(t) for t in range(1, 4)] == [second.suggest(t) for t in range(1, 4)]


# RUSH -------------------------------------------------------------------------------------------
LINE = SearchSpace({"x": Float(0.0, 1.0)})
BEST_ELSEWHERE = TransferTask("other", [{"x": 0.25}, {"x": 0.75}], [[0.5], [0.1]])  # x = 0.75 is its best


def drive(method, values, order=None):
    """Start trials 0..n-1, then report ``values[i]`` for trial i at epoch 1 (rung 1), trials in ``order``."""
    configs = [method.suggest(trial).config for trial in range(len(values))]
    decisions = {}
    for trial in order or range(len(values)):
        decisions[trial] = method.on_report(trial, 1, {"loss": values[trial]}).action
    return configs, [decisions[trial] for trial in range(len(values))]


@pytest.mark.parametrize("order", [[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 0, 5]])
def test_rush_stops_a_trial_worse_than_the_hurdle_that_asha_keeps(order):
    # trial 0 starts with the other task's best configuration: its 0.1 is the hurdle at rung 1. Levels [1, 3] with
    # max_t 9: rung 1 keeps the best third, so when trial 5 (0.2) reports, the values 0.1 0.2 0.5 0.6 0.7 0.8 are
    # cut at 0.2 + (0.5 - 0.2) * 2/3 = 0.4: ASHA keeps it, RUSH stops it (0.2 > 0.1)
    values = [0.1, 0.5, 0.6, 0.7, 0.8, 0.2]
    options = {"metric": "loss", "max_t": 9, "seed": 0, "points_to_evaluate": []}
    rush = RUSH(LINE, transfer_evaluations=[BEST_ELSEWHERE], **options)
    _, decisions = drive(rush, values, order)
    _, plain = drive(ASHA(LINE, **options), values, order)
    assert plain[5] is Action.CONTINUE and decisions[5] is Action.STOP
    assert rush.state_summary()["hurdles"] == {"1": 0.1}


def test_rush_starts_the_best_configurations_of_other_tasks_and_exempts_them_from_the_hurdle():
    rush = RUSH(LINE, metric="loss", max_t=9, seed=0, transfer_evaluations=[BEST_ELSEWHERE], points_to_evaluate=[])
    configs, decisions = drive(rush, [0.9, 0.1, 0.2])  # the threshold trial is the worst: ASHA's rule alone
    assert configs[0] == {"x": 0.75} and {"x": 0.75} not in configs[1:]
    assert decisions[0] is Action.CONTINUE  # first value at the rung: ASHA keeps it; the hurdle is now 0.9
    assert decisions[1] is Action.CONTINUE  # 0.1 clears 0.9 and ASHA's cut (0.1 0.9: 0.367)


def test_rush_promotion_promotes_only_trials_that_clear_the_hurdle():
    rush = RUSH(
        LINE,
        metric="loss",
        max_t=9,
        seed=0,
        transfer_evaluations=[BEST_ELSEWHERE],
        points_to_evaluate=[],
        rule="promotion",
    )
    values = [0.3, 0.35, 0.6, 0.7, 0.8, 0.9]  # trial 0 (threshold) sets the hurdle 0.3 at rung 1
    _, decisions = drive(rush, values)
    assert all(action is Action.PAUSE for action in decisions)
    promoted = rush.suggest(6)
    assert promoted.is_resume and promoted.trial_id == 0  # cut at 0.6: trials 0 and 1 qualify, 0 is the best
    assert not rush.suggest(7).is_resume  # trial 1 (0.35) passes ASHA's cut but not the hurdle: a new trial


# Registered methods -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    from experiments.run import load_benchmark

    _, blackbox = load_benchmark("sklearn-mlp-digits")
    configs = [blackbox.config(row) for row in range(blackbox.num_configs)]
    index = blackbox.objective_index(blackbox.metric)
    tasks = [TransferTask(f"seed{s}", configs, blackbox.objectives[:, s, :, index]) for s in (1, 2)]
    return blackbox, tasks


@pytest.mark.parametrize("name", TRANSFER_METHODS)
def test_a_transfer_method_needs_transfer_evaluations(name):
    with pytest.raises(ValueError, match="needs transfer_evaluations") as error:
        REGISTRY[name](GRID, metric="loss", max_t=9)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("name", TRANSFER_METHODS)
def test_a_transfer_method_runs_in_the_simulator_deterministically(name, digits):
    blackbox, tasks = digits
    options = {"num_hyperparameters_per_task": 10} if name == "BoundingBox" else {}

    def run(seed):
        method = REGISTRY[name](
            blackbox.space, metric=blackbox.metric, max_t=30, seed=seed, transfer_evaluations=tasks, **options
        )
        result = simulate(blackbox, method, n_workers=4, seed=0, stop=StopCriteria(max_results=150))
        return result.results_frame()

    first, again = run(0), run(0)
    assert len(first) == 150 and first.equals(again)


@pytest.mark.parametrize("base_method", ["ASHA", "BayesianOptimization", "PBT"])
def test_a_used_up_box_continues_in_the_whole_space_unless_the_base_makes_its_own_configurations(base_method, digits):
    blackbox, tasks = digits  # the best configurations of seeds 1 and 2 span a box of 4 configurations
    options = {"opt_maxiter": 5, "num_init_candidates": 20} if base_method == "BayesianOptimization" else {}
    method = REGISTRY["BoundingBox"](
        blackbox.space,
        metric=blackbox.metric,
        max_t=30,
        transfer_evaluations=tasks,
        base_method=base_method,
        base_options=options,
    )
    assert method.box.size == 4
    result = simulate(blackbox, method, n_workers=4, seed=0, stop=StopCriteria(max_results=150))
    configs = result.trial_configs.to_dict("records")
    inside = [method.box_config(config) is not None for config in configs]
    if base_method == "PBT":  # explores within its space: stays in the box
        assert all(inside)
        return
    assert inside[:4] == [True] * 4 and not any(inside[4:]) and len(configs) > 4
    assert len({tuple(config.values()) for config in configs}) == len(configs)  # never twice

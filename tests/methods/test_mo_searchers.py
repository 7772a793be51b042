"""Multi-objective searchers (NSGA2, MOREA, MO-BO by random scalarisations) and LinearScalarization, checked against
their definitions, against pymoo (NSGA-II's survival) and end to end on a small two-objective benchmark."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from blackbox_repository import BlackboxBase, Objective
from methods import make_method
from methods.mo_bayesopt import MultiObjectiveGPSearcher
from methods.morea import MultiObjectiveRegularizedEvolution
from methods.nsga2 import NSGA2Searcher, polynomial_mutation, simulated_binary_crossover, survival_selection
from methods.objectives import Objectives
from methods.pareto import crowding_distance, nondominated_ranks
from methods.rea import RegularizedEvolution
from methods.searcher import Searcher
from searchspace import Categorical, Float, SearchSpace
from simulator import StopCriteria, simulate


# A computed two-objective benchmark -----------------------------------------------------------------
class TwoObjectiveBenchmark(BlackboxBase):
    """ZDT1-like objectives with learning curves: ``x`` moves along the trade-off, ``y`` away from the Pareto front
    (``y = 0`` on it: ``f2 = 1 - sqrt(f1)``). Also ``f2_max = -f2`` (mode max) and ``weighted = f1 + 2 f2``."""

    def __init__(self, num_epochs: int = 9) -> None:
        self.name = "two-objective"
        self.space = SearchSpace({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0), "c": Categorical(("a", "b"))})
        self.fidelities = np.arange(1, num_epochs + 1)
        self.seeds = np.array([0])
        self.objective_info = (
            Objective("f1", "min"),
            Objective("f2", "min"),
            Objective("f2_max", "max"),
            Objective("weighted", "min"),
            Objective("runtime", None, "s"),
            Objective("elapsed_time", None, "s"),
        )
        self.metric = "f1"
        self.runtime_objective = "runtime"
        self.elapsed_objective = "elapsed_time"
        self.fidelity_name = "epoch"
        self.metadata = {}

    def curve(self, config: Mapping[str, Any], seed_index: int) -> np.ndarray:
        x, y = float(config["x"]), float(config["y"])
        g = 1.0 + 9.0 * y + (0.5 if config["c"] == "b" else 0.0)
        epochs = self.fidelities.astype(float)
        decay = np.exp(-epochs / (1.0 + 2.0 * x))
        f1 = x + 0.5 * decay
        f2 = g * (1.0 - np.sqrt(x / g)) + decay
        runtime = np.full(len(epochs), 1.0 + x + 0.3 * y)
        return np.stack([f1, f2, -f2, f1 + 2.0 * f2, runtime, np.cumsum(runtime)], axis=1)


@pytest.fixture(scope="module")
def bench():
    return TwoObjectiveBenchmark()


class Probe:
    """Forwards a simulator's calls to ``inner`` and records what was asked and answered."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def suggest(self, new_trial_id):
        answer = self.inner.suggest(new_trial_id)
        config = None if answer is None or answer.config is None else tuple(answer.config.items())
        self.calls.append(("suggest", new_trial_id, None if answer is None else (config, answer.trial_id)))
        return answer

    def on_report(self, trial_id, epoch, metrics):
        answer = self.inner.on_report(trial_id, epoch, metrics)
        self.calls.append(("report", trial_id, epoch, answer.action, answer.report_at))
        return answer


def run(scheduler, blackbox, *, n_workers=2, stop=None, seed=0):
    probe = Probe(scheduler)
    result = simulate(blackbox, probe, n_workers=n_workers, seed=seed, stop=stop or StopCriteria(max_results=300))
    return result, probe.calls


def final_points(result, blackbox, max_t):
    frame = result.results_frame()
    done = frame[frame["epoch"] == max_t]
    return done[["f1", "f2"]].to_numpy()


def objectives(*names, modes=None):
    return Objectives.of(list(names), modes or "min")


# NSGA-II ----------------------------------------------------------------------------------------------
def test_survival_keeps_whole_fronts_then_the_least_crowded_of_the_front_that_does_not_fit():
    # front 0: a, b, c; front 1: d, e, f, g (crowding: d, g inf, e 0.5 + 2.5/3, f 2/3 + 1/3); front 2: h
    points = {
        "e": (2.0, 2.0), "a": (0.0, 3.0), "h": (5.0, 5.0), "f": (2.5, 1.5),
        "b": (1.0, 1.0), "g": (4.0, 1.0), "c": (3.0, 0.0), "d": (1.0, 4.0),
    }  # fmt: skip
    names = list(points)
    losses = np.array([points[name] for name in names])
    members = [names.index(name) for name in "defg"]
    assert crowding_distance(losses[members]).tolist() == [np.inf, 0.5 + 2.5 / 3, 1.0, np.inf]
    kept = {names[i] for i in survival_selection(losses, 6)}
    assert kept == {"a", "b", "c", "d", "e", "g"}
    assert {names[i] for i in survival_selection(losses, 3)} == {"a", "b", "c"}
    assert len(survival_selection(losses, 20)) == len(names)


@pytest.mark.parametrize("num_objectives", [2, 3])
def test_survival_equals_pymoos_rank_and_crowding_where_it_is_deterministic(num_objectives):
    pytest.importorskip("pymoo")
    from pymoo.core.population import Population
    from pymoo.core.problem import Problem
    from pymoo.operators.survival.rank_and_crowding import RankAndCrowding

    rng = np.random.default_rng(num_objectives)
    compared = 0
    for _ in range(100):
        n, size = int(rng.integers(8, 40)), int(rng.integers(2, 20))
        losses = rng.random((n, num_objectives))
        ours = survival_selection(losses, size)
        # pymoo breaks ties in the split front at random: compare only where the cut falls between distinct values
        front_of = nondominated_ranks(losses)
        taken = 0
        deterministic = True
        for front in range(front_of.max() + 1):
            members = np.flatnonzero(front_of == front)
            if taken + len(members) > size:
                crowding = np.sort(crowding_distance(losses[members]))[::-1]
                room = size - taken
                deterministic = crowding[room - 1] > crowding[room]
                break
            taken += len(members)
        if not deterministic:
            continue
        population = Population.new("F", losses, "index", np.arange(n))
        problem = Problem(n_var=1, n_obj=num_objectives)
        theirs = RankAndCrowding().do(problem, population, n_survive=size).get("index")
        assert ours.tolist() == sorted(theirs.tolist())
        compared += 1
    assert compared >= 40


def test_sbx_and_polynomial_mutation_keep_children_in_the_unit_cube():
    rng = np.random.default_rng(0)
    for _ in range(200):
        a, b = rng.random(5), rng.random(5)
        first, second = simulated_binary_crossover(a, b, rng, eta=15.0, coordinate_probability=1.0)
        assert np.all((0 <= first) & (first <= 1)) and np.all((0 <= second) & (second <= 1))
        mutated = polynomial_mutation(first, rng, eta=20.0, probability=1.0)
        assert np.all((0 <= mutated) & (mutated <= 1))
    same = rng.random(4)
    first, second = simulated_binary_crossover(same, same, rng, eta=15.0, coordinate_probability=1.0)
    assert first.tolist() == same.tolist() == second.tolist()
    assert polynomial_mutation(same, rng, eta=20.0, probability=0.0).tolist() == same.tolist()


def test_sbx_children_lie_near_their_parents_for_a_large_distribution_index():
    rng = np.random.default_rng(1)
    a, b = np.array([0.3]), np.array([0.5])
    near = [simulated_binary_crossover(a, b, rng, eta=200.0, coordinate_probability=1.0) for _ in range(300)]
    far = [simulated_binary_crossover(a, b, rng, eta=0.5, coordinate_probability=1.0) for _ in range(300)]

    def spread(pairs):
        return np.mean([abs(min(c1[0], c2[0]) - 0.3) + abs(max(c1[0], c2[0]) - 0.5) for c1, c2 in pairs])

    assert spread(near) < 0.01 < spread(far)


def nsga2(population_size=4, **options):
    searcher = NSGA2Searcher(
        TwoObjectiveBenchmark().space, seed=0, population_size=population_size, points_to_evaluate=[], **options
    )
    searcher.set_objectives(objectives("f1", "f2"))
    searcher.configure(max_t=1, rung_levels=())
    return searcher


def test_nsga2_never_waits_for_a_generation_and_keeps_the_elite():
    searcher = nsga2(allow_duplicates=True)  # every child is handed out: batches of exactly 4
    configs = [searcher.suggest(trial) for trial in range(4)]  # the initial population, at random
    searcher.on_report(0, configs[0], 1, {"f1": 0.2, "f2": 0.9})
    searcher.on_report(1, configs[1], 1, {"f1": 0.5, "f2": 0.5})
    more = [searcher.suggest(trial) for trial in range(4, 12)]  # trials 2, 3 still running: no waiting
    assert all(config is not None for config in more) and searcher.num_batches == 2
    assert [losses.tolist() for _, losses in searcher.population] == [[0.2, 0.9], [0.5, 0.5]]
    arrived = {2: (0.1, 0.1), 3: (0.9, 0.9), 4: (0.3, 0.3), 5: (0.05, 0.95), 6: (0.6, 0.6)}
    for trial, (f1, f2) in arrived.items():
        searcher.on_report(trial, (configs + more)[trial], 1, {"f1": f1, "f2": f2})
    pool = [[0.2, 0.9], [0.5, 0.5], *[list(v) for v in arrived.values()]]
    searcher.suggest(12)  # the current batch is used up (8 of 8 handed out): the next is made now
    expected = [pool[i] for i in survival_selection(np.array(pool), 4)]
    assert [losses.tolist() for _, losses in searcher.population] == expected
    assert [0.1, 0.1] in expected and [0.9, 0.9] not in expected


def test_nsga2_results_below_max_t_do_not_join():
    searcher = nsga2()
    searcher.configure(max_t=5, rung_levels=(1, 3))
    config = searcher.suggest(0)
    searcher.on_report(0, config, 3, {"f1": 0.1, "f2": 0.1})
    assert not searcher._arrived
    searcher.on_report(0, config, 5, {"f1": 0.1, "f2": 0.1})
    assert len(searcher._arrived) == 1


def test_nsga2_tournaments_prefer_the_lower_rank():
    # no variation: children are copies of tournament winners; of two parents the dominating one always wins
    searcher = nsga2(population_size=2, crossover_probability=0.0, mutation_probability=0.0, allow_duplicates=True)
    good, bad = searcher.suggest(0), searcher.suggest(1)
    searcher.on_report(0, good, 1, {"f1": 0.1, "f2": 0.1})
    searcher.on_report(1, bad, 1, {"f1": 0.2, "f2": 0.2})
    assert [searcher.suggest(trial) for trial in range(2, 8)] == [good] * 6


def test_nsga2_moves_towards_the_pareto_front(bench):
    """Mean distance parameter y of the last 40 of 80 trials: NSGA-II below random search, on each of 3 seeds."""
    for seed in range(3):
        means = []
        for name in ("NSGA2", "RandomSearch"):
            scheduler = make_method(name, space=bench.space, metric=["f1", "f2"], max_t=1, seed=seed)
            result, _ = run(scheduler, bench, stop=StopCriteria(max_trials=80), seed=seed)
            means.append(result.trials_frame()["y"].to_numpy()[40:].mean())
        assert means[0] < means[1] - 0.1


# MOREA ------------------------------------------------------------------------------------------------
class ScriptedRng:
    """Stands in for the tournament's generator: returns the given picks."""

    def __init__(self, picks):
        self.picks = list(picks)

    def integers(self, n, size):
        assert len(self.picks) == size and max(self.picks) < n
        return np.array(self.picks)


@pytest.mark.parametrize(
    ("priority", "weights", "winner"),
    [("nondominated", None, "B"), ("linear", None, "B"), ("linear", (1.0, 0.05), "C")],
)
def test_morea_tournament_takes_the_best_under_the_priority(priority, weights, winner):
    # A starts the epsilon net (lowest f1); B is farther from A than C, so B comes before C. The primary
    # objective alone would prefer C (f1 1.5 < 2), as would a weighted sum dominated by f1.
    space = TwoObjectiveBenchmark().space
    members = {"A": (1.0, 10.0), "B": (2.0, 1.0), "C": (1.5, 9.5)}
    configs = {name: {"x": i / 10, "y": 0.0, "c": "a"} for i, name in enumerate(members)}
    morea = MultiObjectiveRegularizedEvolution(
        space, population_size=3, sample_size=2, multiobjective_priority=priority, weights=weights
    )
    morea.set_objectives(objectives("f1", "f2"))
    rea = RegularizedEvolution(space, population_size=3, sample_size=2)
    rea.set_objectives(objectives("f1", "f2"))
    for trial, (name, (f1, f2)) in enumerate(members.items()):
        for searcher in (morea, rea):
            searcher.on_report(trial, configs[name], 1, {"f1": f1, "f2": f2})
    morea._rng = ScriptedRng([1, 2])  # the tournament draws B and C
    rea._rng = ScriptedRng([1, 2])
    assert morea.tournament() == configs[winner]
    assert rea.tournament() == configs["C"]


def test_morea_on_one_objective_makes_reas_choices(bench):
    calls = [
        run(make_method(name, space=bench.space, metric="f1", max_t=3, seed=4, population_size=6, sample_size=3), bench)
        for name in ("MOREA", "REA")
    ]
    assert calls[0][1] == calls[1][1]
    assert calls[0][0].num_trials > 20  # well past the random phase


def test_morea_scores_follow_the_non_dominated_order_and_the_oldest_leaves():
    morea = MultiObjectiveRegularizedEvolution(TwoObjectiveBenchmark().space, population_size=3, sample_size=2)
    morea.set_objectives(objectives("f1", "f2"))
    for trial, losses in enumerate([(3.0, 3.0), (1.0, 2.0), (2.0, 1.0), (0.5, 5.0)]):
        morea.on_report(trial, {"x": trial / 10, "y": 0.0, "c": "a"}, 1, {"f1": losses[0], "f2": losses[1]})
    # (3, 3) was the oldest and left; the others form one front: (0.5, 5) first, then (2, 1), then (1, 2)
    assert [score for score, _ in morea.population] == [2.0, 1.0, 0.0]


# MO-BO ------------------------------------------------------------------------------------------------
CHEAP_GP = {"opt_maxiter": 15, "num_init_candidates": 100}


def test_mo_bo_moves_towards_the_pareto_front(bench):
    """Hypervolume of 20 evaluations (reference (1.1, 11)), 3 seeds: random scalarisations beat random search."""
    from pymoo.indicators.hv import HV

    indicator = HV(ref_point=np.array([1.1, 11.0]))
    volumes = {"MORandomScalarizationBayesOpt": [], "RandomSearch": []}
    for seed in range(3):
        for name, volume in volumes.items():
            options = CHEAP_GP if name != "RandomSearch" else {}
            scheduler = make_method(name, space=bench.space, metric=["f1", "f2"], max_t=1, seed=seed, **options)
            result, _ = run(scheduler, bench, n_workers=1, stop=StopCriteria(max_trials=20), seed=seed)
            volume.append(indicator(final_points(result, bench, 1)))
    bo, random = np.array(volumes["MORandomScalarizationBayesOpt"]), np.array(volumes["RandomSearch"])
    assert np.all(bo > random)


class FixedWeights:
    """The searcher's generator, except that the scalarisation weights it draws are ``weights``."""

    def __init__(self, rng, weights, draws):
        self.rng, self.weights, self.draws = rng, weights, draws

    def random(self, size):
        self.draws.append(size)
        return np.array(self.weights)

    def __getattr__(self, name):
        return getattr(self.rng, name)


def test_mo_bo_scores_candidates_by_lcb_with_weights_drawn_per_suggestion():
    space = TwoObjectiveBenchmark().space
    searcher = MultiObjectiveGPSearcher(space, seed=0, num_init_random=0, points_to_evaluate=[], **CHEAP_GP)
    searcher.set_objectives(objectives("f1", "f2"))
    rng = np.random.default_rng(0)
    for trial, config in enumerate(space.sample_many(rng, 8)):
        searcher.on_report(trial, config, 1, {"f1": config["x"], "f2": 1 - config["x"] + config["y"]})
    # weights (1, 0): the winner is the candidate of the smallest f1-LCB; weights (0, 1): of the smallest f2-LCB
    draws: list = []
    for trial, weights in enumerate(([1.0, 0.0], [0.0, 1.0])):
        searcher._rng = FixedWeights(searcher._rng, weights, draws)
        config = searcher.suggest(100 + trial)
        searcher._rng = searcher._rng.rng
        chosen = config["x"] if weights[0] else 1 - config["x"] + config["y"]
        assert chosen < 0.25, (weights, config)
    assert draws == [2, 2]  # one draw of two weights per suggestion


def test_mo_bo_keeps_the_best_by_pareto_rank_when_sampling_the_data_down():
    searcher = MultiObjectiveGPSearcher(TwoObjectiveBenchmark().space, seed=0, max_size_top_fraction=0.5)
    losses = np.array([[5.0, 5.0], [1.0, 3.0], [4.0, 4.0], [3.0, 1.0], [6.0, 6.0], [2.0, 2.0]])
    kept = searcher.subsample(losses, 4)
    assert len(kept) == 4 and {1, 3}.issubset(kept.tolist())  # front 0 is (1, 3), (3, 1), (2, 2): 2 of 4 kept
    assert searcher.subsample(losses, 10).tolist() == list(range(6))


# LinearScalarization ----------------------------------------------------------------------------------
class RecordingSearcher(Searcher):
    """Wraps a searcher and records every report it hears."""

    def __init__(self, inner):
        self.inner = inner
        self.reports: list[dict] = []

    def suggest(self, trial_id):
        return self.inner.suggest(trial_id)

    def on_report(self, trial_id, config, epoch, metrics):
        self.reports.append(dict(metrics))
        self.inner.on_report(trial_id, config, epoch, metrics)


def test_the_inner_method_hears_the_weighted_sum_of_the_losses(bench):
    scheduler = make_method(
        "LinearScalarization", space=bench.space, metric=["f1", "f2_max"], mode=["min", "max"], max_t=3,
        weights=[0.5, 2.0],
    )  # fmt: skip
    assert type(scheduler.base).__name__ == "FIFOScheduler"  # the documented default: FIFO, random search
    scheduler.base.searcher = recorder = RecordingSearcher(scheduler.base.searcher)
    run(scheduler, bench, stop=StopCriteria(max_results=60))
    assert len(recorder.reports) >= 15
    for metrics in recorder.reports:
        assert metrics["scalarized_f1_f2_max"] == 0.5 * metrics["f1"] - 2.0 * metrics["f2_max"]
        assert metrics["scalarized_f1_f2_max"] == 0.5 * metrics["f1"] + 2.0 * metrics["f2"]


def test_linear_scalarization_decides_as_its_base_method_on_the_scalarised_problem(bench):
    scalarized = make_method(
        "LinearScalarization", space=bench.space, metric=["f1", "f2"], max_t=9, seed=2, weights=[1.0, 2.0],
        base_method="ASHA", base_options={"grace_period": 1},
    )  # fmt: skip
    direct = make_method("ASHA", space=bench.space, metric="weighted", max_t=9, seed=2)
    first, second = run(scalarized, bench, n_workers=4), run(direct, bench, n_workers=4)
    assert first[1] == second[1]
    assert any(call[0] == "report" and call[3].value == "stop" for call in first[1])  # ASHA did stop some


def test_linear_scalarization_takes_its_searcher_from_the_composition(bench):
    problem = {"space": bench.space, "metric": ["f1", "f2"], "max_t": 3}
    with pytest.raises(ValueError, match="compose LinearScalarization\\+kde") as error:
        make_method("LinearScalarization", base_method="BOHB", **problem)
    assert "\n" not in str(error.value)
    composed = make_method("LinearScalarization+kde", base_method="ASHA", **problem)
    assert type(composed.base).__name__ == "ASHA" and type(composed.base.searcher).__name__ == "KDESearcher"
    with pytest.raises(ValueError, match="weights"):
        make_method("LinearScalarization", weights=[1.0], **problem)

"""MOASHA: the documented rung test (top 1 / eta under the multi-objective priority) on hand-built rungs, the
epsilon-net order, and ASHA's decisions in the single-objective case."""

from __future__ import annotations

import numpy as np
import pytest

from methods import make_method
from methods.asha import ASHA
from methods.base import Action
from methods.mo_priority import LinearScalarizationPriority, NonDominatedPriority, epsilon_net_order
from methods.moasha import MOASHA, ParetoRung
from methods.rungs import Rung
from simulator import StopCriteria
from tests.methods.test_mo_searchers import TwoObjectiveBenchmark, run

C, S = Action.CONTINUE, Action.STOP


def decisions_at_first_rung(scheduler, reports, metrics=("a", "b"), signs=(1.0, 1.0)):
    """Start one trial per report and report it at epoch 1 (the first rung); the actions taken."""
    actions = []
    for trial, values in enumerate(reports):
        assert scheduler.suggest(trial).report_at == 1
        metrics_of = {name: sign * value for name, sign, value in zip(metrics, signs, values)}
        actions.append(scheduler.on_report(trial, 1, metrics_of).action)
    return actions


#: reports at one rung, in arrival order, chosen so that the non-dominated order (not the first objective) decides
RUNG = [
    (1.0, 5.0),  # t0: first at the rung: continues
    (2.0, 6.0),  # t1: dominated by t0 (front 1): rank 1 of 2 > 1/3: stops
    (5.0, 1.0),  # t2: front 0 with t0, after t0 in the epsilon net (t0 has the lowest a): rank 1 of 3: continues
    (1.5, 4.0),  # t3: front 0; the net takes t0, then t2 (farther from t0 than t3), then t3: rank 2 of 4: stops
    (0.5, 9.0),  # t4: front 0 with the lowest a: it starts the net: rank 0 of 5: continues
    (2.5, 6.5),  # t5: dominated by t1 (front 2): 5 trials ahead, 5 / 6: stops
]


def moasha(**options):
    space = TwoObjectiveBenchmark().space
    options = {"metric": ["a", "b"], "mode": "min", "max_t": 9, "seed": 0, **options}
    return MOASHA(space, **options)


def test_a_trial_continues_iff_it_is_in_the_top_third_of_the_rung_under_non_dominated_sorting():
    scheduler = moasha()
    assert scheduler.levels == [1, 3]
    assert decisions_at_first_rung(scheduler, RUNG) == [C, S, C, S, C, S]
    # the first objective alone would keep t3 (1.5 is second best of four) and stop t2 (5.0 is the worst of three)
    first_only = decisions_at_first_rung(moasha(metric="a"), [(a,) for a, _ in RUNG], metrics=("a",))
    assert first_only == [C, S, S, C, C, S]


def test_a_maximised_objective_is_compared_as_its_negation():
    scheduler = moasha(mode=["min", "max"])
    assert decisions_at_first_rung(scheduler, RUNG, signs=(1.0, -1.0)) == [C, S, C, S, C, S]


def test_the_linear_priority_is_asha_on_the_weighted_sum():
    # sums 6, 8, 6, 5.5, 9.5, 9: strictly better ones 0/1, 1/2, 0/3, 0/4, 4/5, 4/6
    scheduler = moasha(multiobjective_priority="linear")
    assert decisions_at_first_rung(scheduler, RUNG) == [C, S, C, C, S, S]
    weighted = moasha(multiobjective_priority="linear", weights=[1.0, 0.1])  # sums 1.5, 2.6, 5.1, 1.9, 1.4, 3.15
    asha = ASHA(TwoObjectiveBenchmark().space, metric="s", max_t=9, stopping_rule="rank")
    sums = [(a + 0.1 * b,) for a, b in RUNG]
    assert decisions_at_first_rung(weighted, RUNG) == decisions_at_first_rung(asha, sums, metrics=("s",))


def test_the_quantile_rule_takes_the_q_quantile_of_the_positions():
    # q = 1/3: with n values a trial continues iff its rank <= (n - 1) / 3: ranks 0, 1, 1, 2, 0, 5 -> C S S S C S
    scheduler = moasha(stopping_rule="quantile")
    assert decisions_at_first_rung(scheduler, RUNG) == [C, S, S, S, C, S]


def test_epsilon_net_starts_at_the_lowest_first_objective_and_takes_the_farthest_next():
    points = np.array([[1.0, 3.0], [4.0, 0.0], [0.0, 4.0], [3.0, 1.0], [2.0, 2.0]])
    # (0, 4) first, (4, 0) farthest from it, then (2, 2) (2.83 from both), then the tie (1, 3) / (3, 1): lower index
    assert epsilon_net_order(points) == [2, 1, 4, 0, 3]
    assert epsilon_net_order(points, dim=1) == [1, 2, 4, 0, 3]
    assert NonDominatedPriority().order(np.vstack([points, [[5.0, 5.0]]])).tolist() == [2, 1, 4, 0, 3, 5]


def test_identical_vectors_share_a_rank():
    points = np.array([[1.0, 2.0], [2.0, 1.0], [1.0, 2.0]])
    assert NonDominatedPriority().rank_of_last(points) == 0
    assert NonDominatedPriority().scores(points).tolist() == [0.0, 1.0, 0.0]
    assert LinearScalarizationPriority(np.ones(2)).rank_of_last(points) == 0


@pytest.mark.parametrize("rule", ["rank", "quantile"])
def test_a_pareto_rung_in_one_dimension_decides_as_ashas_rung(rule):
    rng = np.random.default_rng(0)
    values = rng.integers(0, 30, size=300).astype(float)  # many ties
    pareto = ParetoRung(1, 1 / 3, NonDominatedPriority(), 1)
    scalar = Rung(1, 1 / 3, "min")
    for value in values:
        if rule == "rank":
            assert pareto.admits_by_rank(np.array([value]), 1 / 3) == scalar.admits_by_rank(value, 1 / 3)
        else:
            assert pareto.admits(np.array([value])) == scalar.admits(value)


@pytest.mark.parametrize(("stopping_rule", "asha_method"), [("rank", "ASHA-RANK"), ("quantile", "ASHA")])
def test_on_one_objective_moasha_makes_ashas_decisions(stopping_rule, asha_method):
    bench = TwoObjectiveBenchmark()
    problem = {"space": bench.space, "metric": "f1", "max_t": 9, "seed": 3}
    _, ours = run(make_method("MOASHA", stopping_rule=stopping_rule, **problem), bench, n_workers=4)
    _, theirs = run(make_method(asha_method, **problem), bench, n_workers=4)
    assert ours == theirs
    assert sum(call[0] == "report" and call[3] is S for call in ours) > 10


def test_moasha_on_two_objectives_keeps_trials_that_trade_off():
    """Trials reaching max_t: on two objectives MOASHA lets through trials good in f2 only, ASHA on f1 does not."""
    bench = TwoObjectiveBenchmark()
    problem = {"space": bench.space, "max_t": 9, "seed": 1}
    stop = StopCriteria(max_results=600)
    finals = []
    for scheduler in (
        make_method("MOASHA", metric=["f1", "f2"], **problem),
        make_method("ASHA-RANK", metric="f1", **problem),
    ):
        result, _ = run(scheduler, bench, n_workers=4, stop=stop)
        frame = result.results_frame()
        finals.append(frame[frame["epoch"] == 9]["x"].to_numpy())
    assert finals[0].max() > 0.6 > finals[1].max()  # large x: a poor f1 but a good f2


def test_a_non_finite_objective_stops_the_trial_at_a_rung_and_is_not_recorded():
    scheduler = moasha()
    decisions_at_first_rung(scheduler, RUNG[:2])
    scheduler.suggest(2)
    assert scheduler.on_report(2, 1, {"a": 0.1, "b": float("nan")}).action is S
    assert len(scheduler._systems[0][1]) == 2


def test_moasha_refuses_other_rules_and_takes_ashas_schedule_options():
    with pytest.raises(ValueError, match="stopping"):
        moasha(rule="promotion")
    assert moasha(grace_period=3, max_t=27).levels == [3, 9]
    with pytest.raises(ValueError, match="weights"):
        moasha(multiobjective_priority="linear", weights=[1.0])
    description = moasha().schedule_description()
    assert "non-dominated sorting" in description and "['a', 'b']" in description

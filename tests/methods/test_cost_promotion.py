"""Cost-aware promotion (Syne Tune's ``type="cost_promotion"``) on hand-worked examples.

max_t = 9, reduction factor 3: rungs 1 and 3, promotion quantile q = 1/3 at rung 1. A paused trial of
rank k (best metric first) is promoted iff C(k) = c_1 + ... + c_k <= q * (c_1 + ... + c_N).
"""

from __future__ import annotations

import numpy as np
import pytest

from methods import Action
from methods.asha import ASHA
from methods.rungs import CostRung
from searchspace import Grid, SearchSpace
from simulator import StopCriteria, simulate
from tests.conftest import make_table

SPACE = SearchSpace({"x": Grid(tuple(range(1000)))})


def cost_asha(**kwargs) -> ASHA:
    options = dict(metric="error", mode="min", max_t=9, seed=0, rule="cost_promotion")
    options.update(kwargs)
    return ASHA(SPACE, **options)


def pause_all(scheduler: ASHA, entries: list[tuple[float, float]]) -> None:
    """Start one trial per (value, cost), then report each at rung 1."""
    for trial in range(len(entries)):
        assert scheduler.suggest(trial).report_at == 1
    for trial, (value, cost) in enumerate(entries):
        decision = scheduler.on_report(trial, 1, {"error": value, "elapsed_time": cost})
        assert decision.action is Action.PAUSE


def promotions(scheduler: ASHA, new_id: int = 100) -> list[int]:
    """Resume suggestions until a new trial would start."""
    promoted = []
    while (suggestion := scheduler.suggest(new_id)).is_resume:
        promoted.append(suggestion.trial_id)
        assert suggestion.report_at == 3
    return promoted


@pytest.mark.parametrize("entries", [[(0.5, 10.0), (0.5, 1.0)], [(0.5, 1.0), (0.5, 10.0)]])
def test_of_two_equal_metrics_the_cheaper_is_promoted(entries):
    scheduler = cost_asha()
    pause_all(scheduler, entries)
    cheap = min(range(2), key=lambda t: entries[t][1])
    # cheaper first: C(1) = 1 <= 11 / 3; then the other: C(2) = 11 > 11 / 3
    assert promotions(scheduler) == [cheap]


def test_cheap_trials_let_more_through_than_the_plain_quantile():
    scheduler = cost_asha()
    pause_all(scheduler, [(0.1, 1.0), (0.2, 1.0), (0.3, 10.0)])
    assert promotions(scheduler) == [0, 1]  # C = 1, 2 <= 12 / 3; C(3) = 12 > 4
    plain = cost_asha(rule="promotion")
    pause_all(plain, [(0.1, 1.0), (0.2, 1.0), (0.3, 10.0)])
    assert promotions(plain) == [0]  # quantile 1/3 of [0.1, 0.2, 0.3] is 0.1667


def test_an_expensive_leader_blocks_promotion():
    scheduler = cost_asha()
    pause_all(scheduler, [(0.1, 10.0), (0.2, 1.0), (0.3, 1.0)])
    assert promotions(scheduler) == []  # C(1) = 10 > 12 / 3


def test_promoted_entries_still_count():
    scheduler = cost_asha()
    pause_all(scheduler, [(0.1, 1.0), (0.2, 1.0), (0.3, 1.0), (0.4, 1.0), (0.5, 1.0), (0.6, 1.0)])
    assert promotions(scheduler) == [0, 1]  # C(k) = k <= 6 / 3
    scheduler.suggest(6)  # a new trial
    scheduler.on_report(6, 1, {"error": 0.05, "elapsed_time": 1.0})  # best so far
    assert promotions(scheduler) == [6]  # C(1) = 1 <= 7 / 3; trials 0 and 1 are ranked after it
    scheduler.suggest(7)
    scheduler.on_report(7, 1, {"error": 0.9, "elapsed_time": 1.0})
    assert promotions(scheduler) == []  # 8 entries, C(4) = 4 > 8 / 3 for trial 2


def test_mode_max_ranks_large_values_first():
    scheduler = cost_asha(mode="max")
    pause_all(scheduler, [(0.1, 1.0), (0.9, 1.0), (0.5, 1.0)])
    assert promotions(scheduler) == [1]  # C(1) = 1 <= 3 / 3


def test_missing_cost_is_a_clear_error():
    scheduler = cost_asha()
    scheduler.suggest(0)
    with pytest.raises(ValueError, match="elapsed_time"):
        scheduler.on_report(0, 1, {"error": 0.5})


def test_other_cost_attribute():
    scheduler = cost_asha(cost_attr="runtime")
    scheduler.suggest(0)
    assert scheduler.on_report(0, 1, {"error": 0.5, "runtime": 2.0}).action is Action.PAUSE
    assert "cost 'runtime'" in scheduler.schedule_description()


def test_rung_answers_are_cached_until_the_rung_changes():
    rung = CostRung(1, 1 / 3, "min")
    rung.pause(0, 0.1, 10.0)
    rung.pause(1, 0.2, 1.0)
    assert rung.pop_promotable() is None
    assert rung.pop_promotable() is None
    rung.pause(2, 0.3, 30.0)  # threshold 41 / 3 >= C(1) = 10
    assert rung.pop_promotable() == 0
    assert rung.num_paused == 2 and len(rung) == 3


def test_simulation_uses_the_elapsed_time_of_the_table():
    rng = np.random.default_rng(0)
    curves = np.sort(rng.uniform(0.1, 1.0, size=(30, 1, 9)), axis=2)[:, :, ::-1].copy()
    runtime = np.broadcast_to(rng.uniform(0.5, 5.0, size=(30, 1, 1)), curves.shape).copy()
    table = make_table(curves, runtime)

    def run(seed: int):
        scheduler = ASHA(table.space, metric="error", max_t=9, seed=seed, rule="cost_promotion")
        return simulate(table, scheduler, n_workers=3, seed=seed, stop=StopCriteria(max_wallclock_time=60.0))

    first = run(1)
    assert first.num_results > 20
    assert first.results_frame().equals(run(1).results_frame())


@pytest.mark.parametrize("mode", ["min", "max"])
def test_rung_matches_the_documented_rule_on_random_sequences(mode):
    """Syne Tune's walk written out: best first, stop once C(k) > q * C(N), promote the first paused."""
    rng = np.random.default_rng(5)
    sign = 1 if mode == "min" else -1
    for quantile in (1 / 3, 0.5):
        rung = CostRung(1, quantile, mode)
        entries: dict[int, tuple[float, float, int]] = {}
        promoted: set[int] = set()
        for _ in range(400):
            if rng.random() < 0.6:
                trial = len(entries)
                value, cost = float(rng.integers(10)) / 10, float(rng.choice([0.5, 1.0, 2.0, 5.0]))
                entries[trial] = (value, cost, trial)
                rung.pause(trial, value, cost)
                continue
            expected = None
            ranked = sorted(entries, key=lambda t: (sign * entries[t][0], entries[t][1], t))
            if len(ranked) > 1:
                threshold, total = quantile * sum(entries[t][1] for t in ranked), 0.0
                for trial in ranked:
                    total += entries[trial][1]
                    if total > threshold:
                        break
                    if trial not in promoted:
                        expected = trial
                        break
            assert rung.pop_promotable() == expected
            if expected is not None:
                promoted.add(expected)

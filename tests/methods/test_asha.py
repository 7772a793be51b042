"""ASHA decisions on hand-worked examples (reduction factor 3, grace period 1, max_t 9: rungs 1 and 3).

Cutoffs are numpy "linear" quantiles at q = 1/3 (mode min) of the values recorded at a rung:
  [0.5, 0.7]            -> 0.5 + 0.2/3        = 0.5667
  [0.4, 0.5, 0.7]       -> 0.5 - 0.1 * (1/3)  = 0.4667
  [0.4, 0.5, 0.6, 0.7]  -> 0.5
  [0.4, 0.5, 0.5, 0.6, 0.7] -> 0.5
"""

from __future__ import annotations

import numpy as np
import pytest

from methods import ASHA, Action
from searchspace import Grid, SearchSpace

SPACE = SearchSpace({"x": Grid(tuple(range(10_000)))})


def asha(**kwargs) -> ASHA:
    options = dict(metric="error", mode="min", max_t=9, seed=0)
    options.update(kwargs)
    return ASHA(SPACE, **options)


def report(scheduler: ASHA, trial: int, epoch: int, value: float):
    return scheduler.on_report(trial, epoch, {"error": value})


def start(scheduler: ASHA, trial: int) -> int:
    suggestion = scheduler.suggest(trial)
    assert suggestion is not None and not suggestion.is_resume
    return suggestion.report_at


def test_defaults_follow_the_seed_documentation():
    scheduler = asha(max_t=81)
    assert scheduler.grace_period == 1 and scheduler.reduction_factor == 3 and scheduler.brackets == 1
    assert scheduler.levels == [1, 3, 9, 27]


def test_stopping_rule_decisions_worked_by_hand():
    scheduler = asha(rule="stopping")
    for trial in range(5):
        assert start(scheduler, trial) == 1  # first report at rung 1
    expected_rung1 = [
        (0, 0.5, Action.CONTINUE),  # alone in the rung: continue
        (1, 0.7, Action.STOP),  # cutoff 0.5667
        (2, 0.4, Action.CONTINUE),  # cutoff 0.4667
        (3, 0.6, Action.STOP),  # cutoff 0.5
        (4, 0.5, Action.CONTINUE),  # cutoff 0.5, ties continue
    ]
    for trial, value, action in expected_rung1:
        decision = report(scheduler, trial, 1, value)
        assert decision.action is action, (trial, value)
        if action is Action.CONTINUE:
            assert decision.report_at == 3  # the next rung
    assert report(scheduler, 0, 3, 0.3).action is Action.CONTINUE
    assert report(scheduler, 2, 3, 0.35).action is Action.STOP  # cutoff 0.3 + 0.05/3
    decision = report(scheduler, 4, 3, 0.2)
    assert decision.action is Action.CONTINUE and decision.report_at == 9  # runs to max_t


def test_stopping_rule_in_max_mode_uses_the_upper_quantile():
    scheduler = asha(rule="stopping", mode="max")
    for trial in range(3):
        start(scheduler, trial)
    assert report(scheduler, 0, 1, 0.5).action is Action.CONTINUE
    assert report(scheduler, 1, 1, 0.7).action is Action.CONTINUE  # cutoff at q=2/3: 0.6333
    assert report(scheduler, 2, 1, 0.4).action is Action.STOP  # cutoff 0.5667


def test_promotion_rule_decisions_worked_by_hand():
    scheduler = asha(rule="promotion")
    assert scheduler.pauses_trials
    assert start(scheduler, 0) == 1
    assert report(scheduler, 0, 1, 0.5).action is Action.PAUSE
    assert start(scheduler, 1) == 1  # one value in rung 1: nobody can be promoted yet
    assert report(scheduler, 1, 1, 0.7).action is Action.PAUSE
    resume = scheduler.suggest(2)  # rung 1 = [0.5, 0.7], cutoff 0.5667: trial 0 qualifies
    assert resume.is_resume and resume.trial_id == 0 and resume.report_at == 3
    assert start(scheduler, 2) == 1  # trial 1 (0.7) does not qualify: new trial
    assert report(scheduler, 2, 1, 0.4).action is Action.PAUSE
    resume = scheduler.suggest(3)  # cutoff 0.4667: trial 2 (0.4) is promoted
    assert resume.is_resume and resume.trial_id == 2 and resume.report_at == 3
    assert start(scheduler, 3) == 1
    assert report(scheduler, 0, 3, 0.3).action is Action.PAUSE
    assert report(scheduler, 2, 3, 0.35).action is Action.PAUSE
    resume = scheduler.suggest(4)  # highest rung first: rung 3 = [0.3, 0.35], cutoff 0.3167
    assert resume.is_resume and resume.trial_id == 0 and resume.report_at == 9
    assert start(scheduler, 4) == 1  # trial 2 (0.35) and trial 1 (0.7) do not qualify


def test_promotion_prefers_the_highest_rung():
    scheduler = asha(rule="promotion", max_t=27)  # rungs 1, 3, 9
    for trial in range(4):
        start(scheduler, trial)
    for trial, value in enumerate([0.9, 0.8, 0.1, 0.2]):
        report(scheduler, trial, 1, value)
    # rung 1 = [0.1, 0.2, 0.8, 0.9]; promote 0.1 (trial 2) then 0.2? cutoff = 0.1 + 0.1 * 1 = 0.2
    assert scheduler.suggest(4).trial_id == 2
    assert scheduler.suggest(4).trial_id == 3
    start(scheduler, 4)  # 0.8 and 0.9 do not qualify: a new trial
    report(scheduler, 4, 1, 0.01)
    report(scheduler, 2, 3, 0.05)
    report(scheduler, 3, 3, 0.15)
    # rung 3 = [0.05, 0.15], cutoff 0.0833: trial 2 qualifies there; rung 1 = [0.01, 0.1, 0.2, 0.8, 0.9],
    # cutoff 0.1333: trial 4 qualifies too. The highest rung comes first: trial 2 to epoch 9, then trial 4
    suggestion = scheduler.suggest(5)
    assert suggestion.trial_id == 2 and suggestion.report_at == 9
    suggestion = scheduler.suggest(5)
    assert suggestion.trial_id == 4 and suggestion.report_at == 3


def test_reports_between_rungs_continue_to_the_next_rung():
    scheduler = asha(max_t=27)
    start(scheduler, 0)
    decision = report(scheduler, 0, 2, 0.5)
    assert decision.action is Action.CONTINUE and decision.report_at == 3


def test_hyperband_brackets_start_at_their_own_rung():
    scheduler = asha(max_t=27, brackets=4)  # rungs 1, 3, 9; brackets start at 1, 3, 9, 27
    first_reports = {start(scheduler, trial) for trial in range(400)}
    assert first_reports == {1, 3, 9, 27}


def test_bracket_frequencies_follow_the_documented_distribution():
    # NASBench-201 example of the documentation: P = [243, 98, 41, 18, 9, 6] / 415
    scheduler = ASHA(SearchSpace({"x": Grid(tuple(range(10**5)))}), metric="e", max_t=200, brackets=6, seed=3)
    assert scheduler.bracket_probabilities == pytest.approx(np.array([243, 98, 41, 18, 9, 6]) / 415)
    firsts = [scheduler.suggest(t).report_at for t in range(20000)]
    levels, counts = np.unique(firsts, return_counts=True)
    assert levels.tolist() == [1, 3, 9, 27, 81, 200]
    assert counts / counts.sum() == pytest.approx(np.array([243, 98, 41, 18, 9, 6]) / 415, abs=0.01)


def test_rung_system_per_bracket_separates_competitors():
    shared = asha(max_t=27, brackets=2, seed=1)
    separate = asha(max_t=27, brackets=2, seed=1, rung_system_per_bracket=True)
    # same seed: same brackets drawn; find two trials of different brackets
    firsts = [shared.suggest(t).report_at for t in range(30)]
    assert [separate.suggest(t).report_at for t in range(30)] == firsts
    b0 = [t for t, r in enumerate(firsts) if r == 1][:3]
    b1 = [t for t, r in enumerate(firsts) if r == 3][:2]
    for scheduler in (shared, separate):
        report(scheduler, b0[0], 1, 0.9)
        report(scheduler, b0[0], 3, 0.1)  # bracket-0 trial records a good value at rung 3
    # a bracket-1 trial with 0.5 at rung 3: stopped when competing with 0.1, continues alone
    report(shared, b1[0], 3, 0.05)
    report(separate, b1[0], 3, 0.05)
    assert report(shared, b1[1], 3, 0.5).action is Action.STOP
    assert report(separate, b1[1], 3, 0.5).action is Action.STOP
    fresh = asha(max_t=27, brackets=2, seed=1, rung_system_per_bracket=True)
    for t in range(30):
        fresh.suggest(t)
    report(fresh, b0[0], 1, 0.9)
    report(fresh, b0[0], 3, 0.01)
    assert report(fresh, b1[0], 3, 0.5).action is Action.CONTINUE  # alone in bracket 1's rung


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"reduction_factor": 1}, "reduction_factor"),
        ({"grace_period": 0}, "grace_period"),
        ({"grace_period": 9}, "grace_period"),
        ({"brackets": 4}, "brackets"),
        ({"rule": "promote"}, "rule"),
        ({"mode": "minimize"}, "mode"),
        ({"rung_levels": [3, 1]}, "rung_levels"),
    ],
)
def test_bad_options_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        asha(**kwargs)


def test_same_seed_same_decisions():
    def trace(seed: int) -> list:
        scheduler = asha(rule="promotion", max_t=27, brackets=3, seed=seed)
        rng = np.random.default_rng(0)
        out = []
        for step in range(200):
            suggestion = scheduler.suggest(step)
            out.append((suggestion.config, suggestion.trial_id, suggestion.report_at))
            trial = suggestion.trial_id if suggestion.is_resume else step
            if suggestion.report_at < 27:
                out.append(report(scheduler, trial, suggestion.report_at, float(rng.random())).action)
        return out

    assert trace(7) == trace(7)
    assert trace(7) != trace(8)


def test_brackets_none_means_the_maximum():
    scheduler = asha(max_t=200, brackets=None)
    assert scheduler.brackets == 6
    assert "bracket 5: r_min=200" in scheduler.schedule_description()


def syne_tune_016_rank_rule(recorded: list[float], new: float, reduction_factor: float) -> bool:
    """Syne Tune 0.16's ``Bracket.on_result`` decision, written from its definition: rank of the new value among all
    values at the rung (the number strictly smaller, over their count) continues iff it is at most 1/eta."""
    values = np.array([*recorded, new])
    rank = np.searchsorted(np.sort(values), values)[-1] / len(values)
    return not recorded or rank <= 1 / reduction_factor


def test_rank_rule_keeps_the_two_best_of_three_where_the_quantile_rule_keeps_one():
    quantile, rank = asha(rule="stopping"), asha(rule="stopping", stopping_rule="rank")
    for scheduler in (quantile, rank):
        for trial in range(3):
            start(scheduler, trial)
    decisions = {}
    for name, scheduler in (("quantile", quantile), ("rank", rank)):
        decisions[name] = [report(scheduler, trial, 1, value).action for trial, value in enumerate([0.4, 0.6, 0.5])]
    # 0.6: 1 of 2 better (1/2 > 1/3): stop under both; 0.5: 1 of 3 better (1/3): the rank rule continues,
    # the quantile rule stops it (cutoff 0.4 + 0.1 * 2/3 = 0.4667)
    assert decisions["rank"] == [Action.CONTINUE, Action.STOP, Action.CONTINUE]
    assert decisions["quantile"] == [Action.CONTINUE, Action.STOP, Action.STOP]


@pytest.mark.parametrize("mode", ["min", "max"])
def test_rank_rule_equals_syne_tune_016_on_random_streams(mode):
    rng = np.random.default_rng(7)
    scheduler = asha(rule="stopping", stopping_rule="rank", mode=mode, max_t=27)
    recorded: dict[int, list[float]] = {1: [], 3: [], 9: []}
    trial = 0
    for _ in range(300):
        epoch = start(scheduler, trial)
        while epoch in recorded:
            value = float(rng.choice([0.1, 0.2, 0.3, rng.uniform()]))  # ties included
            loss = value if mode == "min" else -value
            expected = syne_tune_016_rank_rule(recorded[epoch], loss, 3)
            recorded[epoch].append(loss)
            decision = report(scheduler, trial, epoch, value)
            assert (decision.action is Action.CONTINUE) == expected
            if decision.action is not Action.CONTINUE:
                break
            epoch = decision.report_at
        trial += 1


def test_rank_rule_needs_the_stopping_rule_and_a_reduction_factor():
    with pytest.raises(ValueError, match="applies to rule='stopping'"):
        asha(rule="promotion", stopping_rule="rank")
    with pytest.raises(ValueError, match="must be one of"):
        asha(stopping_rule="median")
    assert "Syne Tune 0.16's rank rule" in asha(stopping_rule="rank").schedule_description()
    assert "follows Syne Tune 0.13's rule" in asha().schedule_description()


def test_bracket_distribution_is_within_a_third_of_a_point_of_syne_tune_013():
    from methods import Hyperband

    scheduler = Hyperband(SPACE, metric="error", max_t=200, seed=0)
    levels = [*scheduler.levels, 200]  # Syne Tune 0.13: the rung levels with max_t appended
    weights = np.array([len(levels) / ((len(levels) - s) * levels[s]) for s in range(len(levels))])
    reference = weights / weights.sum()
    assert scheduler.brackets == len(reference) == 6
    assert np.abs(np.array(scheduler.bracket_probabilities) - reference).max() < 0.0035

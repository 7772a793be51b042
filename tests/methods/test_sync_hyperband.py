"""Synchronous Hyperband / successive halving decisions on hand-worked examples (reduction factor 3,
grace period 1). Bracket sizes (``hyperband_bracket_sizes``, the documentation's formula):

  max_t=9:  bracket 0: 9@1 3@3 1@9   bracket 1: 5@3 2@9   bracket 2: 3@9
  max_t=27: bracket 0: 27@1 9@3 3@9 1@27   bracket 1: 12@3 4@9 2@27   bracket 2: 6@9 2@27   bracket 3: 4@27
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from methods import Action
from methods.sync_hyperband import SyncHyperband, SyncSuccessiveHalving
from searchspace import Grid, SearchSpace
from simulator import StopCriteria, simulate
from tests.conftest import make_table

SPACE = SearchSpace({"x": Grid(tuple(range(10_000)))})


def sync_hb(cls=SyncHyperband, **kwargs) -> SyncHyperband:
    options = dict(metric="error", mode="min", max_t=9, seed=0)
    options.update(kwargs)
    return cls(SPACE, **options)


def start(scheduler: SyncHyperband, trial: int, level: int) -> dict:
    suggestion = scheduler.suggest(trial)
    assert suggestion is not None and not suggestion.is_resume
    assert suggestion.report_at == level
    return suggestion.config


def report(scheduler: SyncHyperband, trial: int, epoch: int, value: float) -> Action:
    return scheduler.on_report(trial, epoch, {"error": value}).action


def sequential(scheduler: SyncHyperband, value, jobs: int) -> list[tuple[str, int, int]]:
    """One worker; every job runs at once to its report level. Returns (kind, trial, level) per job."""
    done: dict[int, int] = {}
    configs: dict[int, dict] = {}
    events = []
    for _ in range(jobs):
        new_id = len(configs)
        suggestion = scheduler.suggest(new_id)
        if suggestion is None:
            break
        if suggestion.is_resume:
            trial = suggestion.trial_id
            assert done[trial] < suggestion.report_at
        else:
            trial = new_id
            configs[trial] = suggestion.config
        level = suggestion.report_at
        events.append(("resume" if suggestion.is_resume else "start", trial, level))
        done[trial] = level
        metrics = {"error": value(configs[trial], level)}
        if level == scheduler.max_t:
            scheduler.on_complete(trial, level, metrics)
        else:
            assert scheduler.on_report(trial, level, metrics).action is Action.PAUSE
    return events


def test_bracket_sizes_match_the_documentation():
    nb201 = sync_hb(max_t=200)
    assert nb201.brackets == 6 and nb201.grace_period == 1 and nb201.reduction_factor == 3
    assert [sizes[0] for sizes in nb201.bracket_sizes] == [243, 98, 41, 18, 9, 6]
    assert nb201.bracket_sizes[0] == [243, 81, 27, 9, 3, 1]
    assert nb201.bracket_levels[0] == [1, 3, 9, 27, 81, 200]
    assert sync_hb(max_t=9).bracket_sizes == [[9, 3, 1], [5, 2], [3]]
    assert sync_hb(max_t=27).bracket_sizes == [[27, 9, 3, 1], [12, 4, 2], [6, 2], [4]]
    assert sync_hb(max_t=27).bracket_levels == [[1, 3, 9, 27], [3, 9, 27], [9, 27], [27]]
    sh = sync_hb(SyncSuccessiveHalving, max_t=27)
    assert sh.brackets == 1 and sh.bracket_sizes == [[27, 9, 3, 1]]
    with pytest.raises(ValueError, match="brackets"):
        sync_hb(max_t=9, brackets=4)
    with pytest.raises(ValueError, match="geometric"):
        sync_hb(max_t=100, reduction_factor=None, rung_increment=2)
    text = nb201.schedule_description()
    assert "243@1  81@3  27@9  9@27  3@81  1@200" in text
    assert "6@200" in text and "98@3  33@9  11@27  4@81  2@200" in text


def test_promotes_exactly_the_top_of_a_complete_rung():
    scheduler = sync_hb(SyncSuccessiveHalving)  # 9@1 3@3 1@9
    assert scheduler.pauses_trials
    for trial in range(9):
        start(scheduler, trial, 1)
    values = [0.5, 0.9, 0.2, 0.7, 0.3, 0.8, 0.3, 0.6, 0.95]
    for trial, value in enumerate(values[:-1]):
        assert report(scheduler, trial, 1, value) is Action.PAUSE
    # rung 1 not complete yet: a free worker starts a new bracket instead of waiting
    start(scheduler, 9, 1)
    assert scheduler.state_summary()["brackets_opened"] == 2
    assert report(scheduler, 8, 1, values[8]) is Action.PAUSE  # completes the rung
    # the best 3 (ties: earlier slot first) are resumed towards level 3, best first
    resumed = [scheduler.suggest(10) for _ in range(3)]
    assert [(s.trial_id, s.report_at) for s in resumed] == [(2, 3), (4, 3), (6, 3)]
    assert all(s.is_resume for s in resumed)
    # all rung-3 slots pending: the next job is from bracket 2 (the one opened above)
    start(scheduler, 10, 1)
    assert report(scheduler, 2, 3, 0.25) is Action.PAUSE
    assert report(scheduler, 4, 3, 0.1) is Action.PAUSE
    assert report(scheduler, 6, 3, 0.15) is Action.PAUSE
    final = scheduler.suggest(11)
    assert final.is_resume and final.trial_id == 4 and final.report_at == 9
    scheduler.on_complete(4, 9, {"error": 0.05})
    summary = scheduler.state_summary()
    assert summary["brackets_completed"] == 1 and summary["trials_resumed"] == 4
    json.dumps(summary)


def test_max_mode_promotes_the_largest_values():
    scheduler = sync_hb(SyncSuccessiveHalving, mode="max")
    for trial in range(9):
        start(scheduler, trial, 1)
    for trial, value in enumerate([0.5, 0.9, 0.2, 0.7, 0.3, 0.8, 0.3, 0.6, 0.95]):
        report(scheduler, trial, 1, value)
    assert [scheduler.suggest(9).trial_id for _ in range(3)] == [8, 1, 5]


def test_brackets_cycle_and_each_rung_waits_for_completion():
    events = sequential(sync_hb(max_t=9), lambda config, level: config["x"] / 10_000 + 1 / level, 60)
    levels = [level for _, _, level in events]
    one_round = [1] * 9 + [3] * 3 + [9] + [3] * 5 + [9] * 2 + [9] * 3
    assert levels[: len(one_round)] == one_round
    assert levels[len(one_round) : len(one_round) + 9] == [1] * 9  # bracket 0 again
    kinds = [kind for kind, _, _ in events[: len(one_round)]]
    assert kinds == ["start"] * 9 + ["resume"] * 4 + ["start"] * 5 + ["resume"] * 2 + ["start"] * 3


def test_between_rungs_and_unknown_trials():
    scheduler = sync_hb()
    start(scheduler, 0, 1)
    decision = scheduler.on_report(0, 0, {"error": 1.0})
    assert decision.action is Action.CONTINUE and decision.report_at == 1
    assert report(scheduler, 99, 1, 0.5) is Action.STOP


def test_failed_trials_fill_their_slot_with_the_worst_value():
    scheduler = sync_hb(SyncSuccessiveHalving)
    for trial in range(9):
        start(scheduler, trial, 1)
    for trial in range(7):
        scheduler.on_error(trial, 1)  # 7 failures, 2 valid results: one failed trial is among the top 3
    report(scheduler, 7, 1, 0.4)
    report(scheduler, 8, 1, 0.3)
    first, second = scheduler.suggest(9), scheduler.suggest(9)
    assert (first.trial_id, second.trial_id) == (8, 7)
    # the third slot (a failed trial) is filled at once; nothing else of this bracket can run now
    third = scheduler.suggest(9)
    assert not third.is_resume and third.report_at == 1  # a new bracket
    assert scheduler.state_summary()["trials_failed"] == 7
    report(scheduler, 8, 3, 0.2)
    report(scheduler, 7, 3, 0.1)
    final = scheduler.suggest(10)
    assert final.is_resume and final.trial_id == 7 and final.report_at == 9


def test_no_new_trials_cuts_the_bracket_so_it_can_finish():
    scheduler = sync_hb(SyncSuccessiveHalving)
    for trial in range(4):
        start(scheduler, trial, 1)
    assert scheduler.suggest(None) is None  # no new trial may start: nothing to resume yet
    for trial, value in enumerate([0.4, 0.1, 0.3, 0.2]):
        report(scheduler, trial, 1, value)
    resume = scheduler.suggest(None)
    assert resume.is_resume and resume.trial_id == 1 and resume.report_at == 3
    # rung 1 cut to the 4 slots handed out: the later rungs shrink in proportion (2 slots at 3, 1 at 9)
    second = scheduler.suggest(None)
    assert second.is_resume and second.trial_id == 3
    assert scheduler.suggest(None) is None
    report(scheduler, 1, 3, 0.2)
    report(scheduler, 3, 3, 0.1)
    final = scheduler.suggest(None)
    assert final.trial_id == 3 and final.report_at == 9


def test_simulated_max_trials_lets_the_started_brackets_finish():
    rng = np.random.default_rng(3)
    table = make_table(rng.uniform(size=(200, 1, 9)), np.ones((200, 1, 9)))
    scheduler = SyncSuccessiveHalving(table.space, metric="error", max_t=9, seed=0)
    result = simulate(table, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_trials=12))
    assert result.num_trials == 12 and result.stop_reason == "max_trials"
    assert result.trial_status.count("completed") == 2  # bracket 0 and the cut bracket 1 both finish
    assert result.trial_epochs.max() == 9


def test_exhausted_searcher_finishes_the_last_bracket():
    space = SearchSpace({"x": Grid(tuple(range(12)))})
    scheduler = SyncSuccessiveHalving(space, metric="error", max_t=9, seed=0)
    events = sequential(scheduler, lambda config, level: config["x"] / level, 100)
    starts = [trial for kind, trial, _ in events if kind == "start"]
    assert len(starts) == 12
    assert [level for _, _, level in events].count(9) == 2
    assert scheduler.suggest(12) is None


def decaying_table(num_configs: int = 400, epochs: int = 27, seed: int = 0):
    rng = np.random.default_rng(seed)
    start_values = rng.uniform(0.3, 1.0, size=(num_configs, 1, 1))
    decay = rng.uniform(0.01, 0.2, size=(num_configs, 1, 1))
    metric = start_values * np.exp(-decay * np.arange(1, epochs + 1)) + rng.normal(0, 0.01, (num_configs, 2, epochs))
    runtime = rng.uniform(0.5, 2.0, size=(num_configs, 1, 1)) * rng.uniform(0.9, 1.1, size=(1, 2, epochs))
    return make_table(metric, runtime)


@pytest.mark.parametrize("cls", [SyncHyperband, SyncSuccessiveHalving])
def test_no_worker_is_idle_while_work_exists(cls):
    table = decaying_table()
    scheduler = cls(table.space, metric="error", max_t=27, seed=1)
    result = simulate(table, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_wallclock_time=300.0))
    frame = result.results_frame()
    assert result.stop_reason == "max_wallclock_time"
    assert sorted(frame["worker"].unique()) == [0, 1, 2, 3]
    assert scheduler.state_summary()["brackets_opened"] >= 3
    for _, rows in frame.groupby("worker"):
        ends = rows["time"].to_numpy()
        starts = ends - rows["runtime"].to_numpy()
        assert starts[0] == pytest.approx(0.0, abs=1e-9)
        # every epoch starts when the worker's previous one ended: 4 workers busy at every result time
        np.testing.assert_allclose(starts[1:], ends[:-1], atol=1e-6)
    decisions = frame["decision"].astype(str)
    assert set(decisions) <= {"", "pause", "complete"}
    assert (decisions == "complete").any()
    # resumed trials continue from their checkpoint: each trial's epochs are 1..last without repeats
    for _, rows in frame.groupby("trial_id"):
        assert rows["epoch"].tolist() == list(range(1, len(rows) + 1))


def test_same_seed_same_results_different_seed_different():
    table = decaying_table(seed=1)

    def run(seed: int):
        scheduler = SyncHyperband(table.space, metric="error", max_t=27, seed=seed)
        return simulate(table, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_wallclock_time=200.0))

    first, again, other = run(5), run(5), run(6)
    assert first.results_frame().equals(again.results_frame())
    assert not first.results_frame().equals(other.results_frame())


def test_registry_keywords_and_restricted_configurations():
    configs = [{"x": x} for x in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31)]
    scheduler = SyncHyperband(
        SPACE, metric="error", mode="max", max_t=9, seed=2, restrict_configurations=configs
    )
    proposed = [scheduler.suggest(trial).config for trial in range(9)]
    assert all(config in configs for config in proposed)
    assert len({config["x"] for config in proposed}) == 9

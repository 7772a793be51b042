"""The median stopping rule on hand-worked examples (rank = better values / values at the epoch)."""

from __future__ import annotations

import pytest

from methods import Action
from methods.asha import ASHA
from methods.median_stopping import MedianStoppingRule
from searchspace import Grid, SearchSpace
from simulator import StopCriteria, simulate

SPACE = SearchSpace({"x": Grid(tuple(range(1000)))})


def msr(**kwargs) -> MedianStoppingRule:
    options = dict(metric="error", mode="min", max_t=20, seed=0)
    options.update(kwargs)
    return MedianStoppingRule(SPACE, **options)


def start(scheduler: MedianStoppingRule, count: int, report_at: int = 1) -> None:
    for trial in range(count):
        suggestion = scheduler.suggest(trial)
        assert not suggestion.is_resume and suggestion.report_at == report_at


def report(scheduler: MedianStoppingRule, trial: int, epoch: int, value: float) -> Action:
    return scheduler.on_report(trial, epoch, {"error": value}).action


def test_nobody_is_stopped_before_the_grace_population():
    scheduler = msr(running_average=False)
    start(scheduler, 7)
    for trial, value in enumerate([0.1, 0.2, 0.3, 0.9]):  # the fourth is the worst, but only 4 values
        assert report(scheduler, trial, 1, value) is Action.CONTINUE
    assert report(scheduler, 4, 1, 0.25) is Action.CONTINUE  # 2 better of 5: rank 0.4 <= 0.5
    assert report(scheduler, 5, 1, 0.35) is Action.STOP  # 0.1, 0.2, 0.25, 0.3 better: rank 4 / 6
    assert report(scheduler, 6, 1, 0.15) is Action.CONTINUE  # 1 better of 7


def test_exactly_the_trial_worse_than_the_median_is_stopped():
    scheduler = msr(running_average=False)
    start(scheduler, 5)
    values = [0.4, 0.1, 0.5, 0.2, 0.3]
    actions = [report(scheduler, trial, 1, value) for trial, value in enumerate(values)]
    # the fifth report (0.3) has 0.1 and 0.2 better: rank 2 / 5 = 0.4 -> continues; all earlier ones had < 5 values
    assert actions == [Action.CONTINUE] * 5
    start_more = scheduler.suggest(5)
    assert start_more.report_at == 1
    assert report(scheduler, 5, 1, 0.45) is Action.STOP  # 5 better of 6: rank 0.83 > 0.5


def test_ties_count_as_not_better():
    scheduler = msr(running_average=False, grace_population=2)
    start(scheduler, 3)
    assert report(scheduler, 0, 1, 0.5) is Action.CONTINUE
    assert report(scheduler, 1, 1, 0.5) is Action.CONTINUE  # 0 strictly better of 2
    assert report(scheduler, 2, 1, 0.7) is Action.STOP  # 2 of 3


def test_no_stop_before_grace_time():
    scheduler = msr(running_average=False, grace_time=3, grace_population=2)
    start(scheduler, 3, report_at=3)  # without running averages, reports start at grace_time
    assert report(scheduler, 0, 3, 0.1) is Action.CONTINUE
    assert report(scheduler, 1, 3, 0.5) is Action.CONTINUE  # 1 better of 2: rank 0.5 is not above 0.5
    assert report(scheduler, 2, 3, 0.9) is Action.STOP  # 2 better of 3
    early = msr(running_average=True, grace_time=3, grace_population=2)
    start(early, 3)
    for epoch in (1, 2):
        for trial, value in enumerate([0.1, 0.5, 0.9]):
            decision = early.on_report(trial, epoch, {"error": value})
            assert decision.action is Action.CONTINUE and decision.report_at == epoch + 1
    assert report(early, 0, 3, 0.1) is Action.CONTINUE
    assert report(early, 1, 3, 0.5) is Action.CONTINUE
    assert report(early, 2, 3, 0.9) is Action.STOP


@pytest.mark.parametrize("running_average", [True, False])
def test_running_average_ranks_the_mean_of_the_reported_values(running_average):
    scheduler = msr(grace_population=2, grace_time=3, running_average=running_average)
    start(scheduler, 3, report_at=1 if running_average else 3)
    curves = {0: [0.5, 0.5, 0.5], 1: [0.6, 0.6, 0.6], 2: [0.9, 0.9, 0.2]}
    first = 1 if running_average else 3
    for epoch in range(first, 3):
        for trial, curve in curves.items():
            assert report(scheduler, trial, epoch, curve[epoch - 1]) is Action.CONTINUE  # grace time
    assert report(scheduler, 0, 3, 0.5) is Action.CONTINUE
    assert report(scheduler, 1, 3, 0.6) is Action.CONTINUE  # 1 better of 2
    # trial 2's last value is the best, its average (0.9 + 0.9 + 0.2) / 3 = 0.67 the worst
    assert report(scheduler, 2, 3, 0.2) is (Action.STOP if running_average else Action.CONTINUE)


def test_mode_max():
    scheduler = msr(running_average=False, grace_population=2, mode="max")
    start(scheduler, 3)
    assert report(scheduler, 0, 1, 0.9) is Action.CONTINUE
    assert report(scheduler, 1, 1, 0.5) is Action.CONTINUE
    assert report(scheduler, 2, 1, 0.1) is Action.STOP


def test_base_scheduler_is_consulted_only_at_its_epochs():
    base = ASHA(SPACE, metric="error", mode="min", max_t=20, seed=0, rule="stopping")  # rungs 1, 3, 9
    calls = []
    original = base.on_report

    def spy(trial_id, epoch, metrics):
        calls.append(epoch)
        return original(trial_id, epoch, metrics)

    base.on_report = spy
    scheduler = MedianStoppingRule(SPACE, metric="error", max_t=20, seed=0, base=base)
    assert scheduler.suggest(0).report_at == 1
    for epoch in range(1, 12):
        decision = scheduler.on_report(0, epoch, {"error": 0.5})
        assert decision.action is Action.CONTINUE and decision.report_at == epoch + 1
    assert calls == [1, 3, 9]


def test_base_must_agree_and_arguments_are_checked():
    base = ASHA(SPACE, metric="error", mode="max", max_t=20)
    with pytest.raises(ValueError, match="mode"):
        MedianStoppingRule(SPACE, metric="error", mode="min", max_t=20, base=base)
    with pytest.raises(ValueError, match="rank_cutoff"):
        msr(rank_cutoff=1.5)
    with pytest.raises(ValueError, match="grace_population"):
        msr(grace_population=0)


def test_simulation_is_deterministic_and_stops_trials(random_table):
    def run(seed: int):
        scheduler = MedianStoppingRule(
            random_table.space,
            metric="error",
            max_t=27,
            seed=seed,
            restrict_configurations=random_table.configs.to_dict("records"),
        )
        result = simulate(random_table, scheduler, n_workers=4, seed=seed, stop=StopCriteria(max_wallclock_time=300.0))
        return scheduler, result

    scheduler, first = run(2)
    assert scheduler.num_stopped > 0
    frame = first.results_frame()
    assert (frame["decision"] == "stop").sum() == scheduler.num_stopped
    assert frame.equals(run(2)[1].results_frame())
    assert not frame.equals(run(3)[1].results_frame())

"""Simulated-time accounting, conservation of results, stop criteria and determinism."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from methods import ASHA, Action, Decision, RandomSearch, Scheduler, Suggestion
from simulator import SimulationError, StopCriteria, simulate
from tests.conftest import make_table


def run(blackbox, scheduler, n_workers=4, seed=0, **stop):
    stop = stop or {"max_wallclock_time": 150.0}
    return simulate(blackbox, scheduler, n_workers=n_workers, seed=seed, stop=StopCriteria(**stop))


def methods(space, max_t):
    return {
        "random": RandomSearch(space, metric="error", max_t=max_t, seed=1),
        "asha-stop": ASHA(space, metric="error", max_t=max_t, seed=1),
        "asha-prom": ASHA(space, metric="error", max_t=max_t, seed=1, rule="promotion"),
        "hyperband": ASHA(space, metric="error", max_t=max_t, seed=1, rule="promotion", brackets=3),
    }


@pytest.mark.parametrize("name", ["random", "asha-stop", "asha-prom", "hyperband"])
def test_accounting(random_table, name):
    scheduler = methods(random_table.space, 27)[name]
    result = run(random_table, scheduler)
    frame = result.results_frame()
    runtime = frame["runtime"].to_numpy()
    # results in time order; every epoch ends exactly one runtime after the worker's previous epoch end
    assert np.all(np.diff(frame["time"]) >= 0)
    busy = 0.0
    for _, rows in frame.groupby("worker"):
        starts = rows["time"].to_numpy() - rows["runtime"].to_numpy()
        ends = rows["time"].to_numpy()
        assert np.all(starts[1:] >= ends[:-1] - 1e-9), "a worker ran two trials at once"
        assert ends.max() <= result.simulated_time + 1e-9
        busy = rows["runtime"].sum()
        assert busy <= result.simulated_time + 1e-9
    # conservation: every trial has epochs 1..last exactly once, none beyond a stop, none dropped
    for trial, rows in frame.groupby("trial_id"):
        epochs = rows["epoch"].to_numpy()
        assert epochs.tolist() == list(range(1, len(epochs) + 1)), f"trial {trial}: {epochs}"
        assert np.allclose(np.cumsum(rows["runtime"]), rows["elapsed_time"])  # charged only once per epoch
        status = result.trial_status[trial]
        decisions = rows["decision"].tolist()
        if status == "stopped":
            assert decisions[-1] == "stop"
        if status == "completed":
            assert epochs[-1] == 27 and decisions[-1] == "complete"
    assert len(frame) == result.num_results == len(runtime)


def test_resumed_trial_is_charged_only_its_remaining_epochs(random_table):
    scheduler = ASHA(random_table.space, metric="error", max_t=27, seed=1, rule="promotion")
    frame = run(random_table, scheduler, max_wallclock_time=400.0).results_frame()
    resumed = 0
    for _, rows in frame.groupby("trial_id"):
        pauses = rows.index[rows["decision"] == "pause"]
        for position in pauses[:-1]:
            pause_row = frame.loc[position]
            after = rows[rows["epoch"] == pause_row["epoch"] + 1]
            if len(after):
                resumed += 1
                next_row = after.iloc[0]
                # the resumed epoch ends exactly one epoch runtime after it (re)started
                assert next_row["time"] - next_row["runtime"] >= pause_row["time"] - 1e-9
    assert resumed > 5


def test_results_use_the_tabulated_values_and_runtimes():
    metric = np.array([[[0.9, 0.5, 0.4]], [[0.8, 0.7, 0.1]]])
    runtime = np.array([[[1.0, 2.0, 3.0]], [[10.0, 10.0, 10.0]]])
    table = make_table(metric, runtime)
    scheduler = RandomSearch(table.space, metric="error", max_t=3, seed=0)
    result = run(table, scheduler, n_workers=2, max_wallclock_time=1000.0)
    frame = result.results_frame()
    by_trial = {int(x): rows for x, rows in frame.groupby("x")}
    assert by_trial[0]["time"].tolist() == [1.0, 3.0, 6.0]
    assert by_trial[0]["error"].tolist() == [0.9, 0.5, 0.4]
    assert by_trial[1]["time"].tolist() == [10.0, 20.0, 30.0]
    assert result.stop_reason == "method has no more work" and result.simulated_time == 30.0


def busy(seconds: float) -> None:
    """Burn ``seconds`` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


class SlowScheduler(Scheduler):
    """Wraps a scheduler and spends time in every call (``burn``: busy CPU by default, or ``time.sleep``):
    simulated results must not change."""

    def __init__(self, inner: Scheduler, burn=busy) -> None:
        self.inner = inner
        self.burn = burn
        self.calls = 0
        self._set_problem(inner.space, inner.metric, inner.mode, inner.max_t, inner.seed)

    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        self.calls += 1
        self.burn(0.0005)
        return self.inner.suggest(new_trial_id)

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        self.calls += 1
        self.burn(0.0005)
        return self.inner.on_report(trial_id, epoch, metrics)


def test_real_decision_time_never_enters_simulated_time(random_table):
    fast = run(random_table, ASHA(random_table.space, metric="error", max_t=27, seed=4), max_results=300)
    slow = run(random_table, SlowScheduler(ASHA(random_table.space, metric="error", max_t=27, seed=4)), max_results=300)
    pd.testing.assert_frame_equal(fast.results_frame(), slow.results_frame())
    assert slow.decision_seconds > fast.decision_seconds and slow.decision_seconds > 0.05


def test_same_seed_same_result_bit_for_bit(random_table):
    def frame(seed):
        return run(random_table, ASHA(random_table.space, metric="error", max_t=27, seed=2), seed=seed).results_frame()

    pd.testing.assert_frame_equal(frame(5), frame(5), check_exact=True)
    assert not frame(5)["seed"].equals(frame(6)["seed"])  # the benchmark seed is drawn from the run's RNG


def test_decision_clock_is_the_methods_cpu_time(random_table):
    """Sleeping (waiting, as on a loaded machine) adds no decision time; computing does."""
    sleeping = SlowScheduler(ASHA(random_table.space, metric="error", max_t=27, seed=4), burn=time.sleep)
    computing = SlowScheduler(ASHA(random_table.space, metric="error", max_t=27, seed=4))
    slept = run(random_table, sleeping, max_results=300)
    computed = run(random_table, computing, max_results=300)
    assert sleeping.calls == computing.calls > 100
    assert computed.decision_seconds >= 0.9 * 0.0005 * computing.calls
    assert slept.decision_seconds < 0.2 * 0.0005 * sleeping.calls  # ~0.4 s of sleep, ~nothing on the clock


class PauseThenResume(Scheduler):
    """One worker, max_t=3: trial 0 reports at 1 (continue to 2), pauses at 2; trial 1 runs 1-3 in one segment;
    then trial 0 is resumed to 3. Starts: trials 0 and 1; resumes: trial 0 once; continues: trial 0 once."""

    pauses_trials = True

    def __init__(self, space) -> None:
        self._set_problem(space, "error", "min", 3, 0)
        self.script = [Suggestion.start({"x": 0}, report_at=1), Suggestion.start({"x": 1}, report_at=3),
                       Suggestion.resume(0, report_at=3)]  # fmt: skip

    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        return self.script.pop(0) if self.script else None

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        return Decision(Action.CONTINUE, report_at=2) if epoch == 1 else Decision(Action.PAUSE)


def test_decision_overhead_is_charged_to_starts_and_resumes():
    """Exact times: 0.5 s before each start and each resume, nothing on a continue or inside a segment (an
    overcharge or an undercharge anywhere changes a time)."""
    table = make_table(np.full((2, 1, 3), 0.5), np.ones((2, 1, 3)))
    result = simulate(
        table, PauseThenResume(table.space), n_workers=1, seed=0, stop=StopCriteria(max_wallclock_time=100),
        decision_overhead=0.5,
    )  # fmt: skip
    frame = result.results_frame()
    assert frame[frame["trial_id"] == 0]["decision"].tolist() == ["continue", "pause", "complete"]
    # trial 0: start +0.5, epoch 1 -> 1.5; continue (no charge) -> 2.5; resumed after trial 1: 6.0 +0.5 +1 -> 7.5
    assert frame[frame["trial_id"] == 0]["time"].tolist() == [1.5, 2.5, 7.5]
    # trial 1: starts at 2.5 +0.5, its three epochs in one segment: 4.0, 5.0, 6.0
    assert frame[frame["trial_id"] == 1]["time"].tolist() == [4.0, 5.0, 6.0]
    free = simulate(table, PauseThenResume(table.space), n_workers=1, seed=0, stop=StopCriteria(max_wallclock_time=100))
    assert free.time.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]  # without overhead: no charge at all


def test_max_results_keeps_the_first_results_in_time(random_table):
    full = run(random_table, ASHA(random_table.space, metric="error", max_t=27, seed=3), max_wallclock_time=500.0)
    cut = run(random_table, ASHA(random_table.space, metric="error", max_t=27, seed=3), max_results=123)
    assert cut.num_results == 123 and cut.stop_reason == "max_results"
    assert np.array_equal(cut.time, full.time[:123])
    assert np.array_equal(cut.trial_id, full.trial_id[:123])


def test_max_wallclock_time_cuts_running_trials(random_table):
    scheduler = RandomSearch(random_table.space, metric="error", max_t=27, seed=3)
    result = run(random_table, scheduler, max_wallclock_time=50)
    assert result.time.max() <= 50 and result.simulated_time == 50
    assert result.stop_reason == "max_wallclock_time"
    assert "running" in result.trial_status  # trials still running at the end are kept, cut at 50 s


def test_target_metric_value_stops_at_the_first_hit(random_table):
    target = 0.2
    full = run(random_table, ASHA(random_table.space, metric="error", max_t=27, seed=3), max_wallclock_time=500.0)
    hit = int(np.argmax(full.metric() <= target))
    result = run(
        random_table, ASHA(random_table.space, metric="error", max_t=27, seed=3), target_metric_value=target
    )
    assert result.stop_reason == "target_metric_value"
    assert result.metric()[-1] <= target and np.all(result.metric()[:-1] > target)
    assert result.time[-1] == full.time[hit]


@pytest.mark.parametrize("mode", ["min", "max"])
def test_a_result_exactly_at_the_target_stops_the_run(mode):
    curve = [0.5, 0.25, 0.1] if mode == "min" else [0.5, 0.75, 0.9]
    table = make_table(np.array([[curve], [curve]]), np.ones((2, 1, 3)), mode=mode)
    scheduler = RandomSearch(table.space, metric="error", mode=mode, max_t=3, seed=0)
    result = run(table, scheduler, n_workers=1, target_metric_value=curve[1])
    assert result.stop_reason == "target_metric_value"
    assert result.metric().tolist() == curve[:2] and result.time.tolist() == [1.0, 2.0]


def test_max_trials(random_table):
    result = run(random_table, RandomSearch(random_table.space, metric="error", max_t=27, seed=3), max_trials=6)
    assert result.num_trials == 6 and result.stop_reason == "max_trials"
    assert set(result.trial_status) == {"completed"}


class BrokenResume(Scheduler):
    def __init__(self, space):
        self._set_problem(space, "error", "min", 27, 0)

    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        return Suggestion.resume(99)

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        return Decision(Action.CONTINUE)


def test_contract_violations_are_reported(random_table):
    with pytest.raises(SimulationError, match="resume trial 99"):
        run(random_table, BrokenResume(random_table.space))
    with pytest.raises(SimulationError, match="n_workers"):
        run(random_table, BrokenResume(random_table.space), n_workers=0)
    with pytest.raises(SimulationError, match="max_wallclock_time"):
        StopCriteria(max_wallclock_time=-1)
    with pytest.raises(SimulationError, match="max_results"):
        StopCriteria(max_results=2.5)
    with pytest.raises(SimulationError, match="max_trials"):
        StopCriteria(max_trials=True)
    with pytest.raises(SimulationError, match="target_metric_value"):
        StopCriteria(target_metric_value=float("nan"))


def test_nan_metric_fails_the_trial():
    metric = np.array([[[0.5, np.nan, 0.3]], [[0.4, 0.3, 0.2]]])
    table = make_table(metric, np.ones((2, 1, 3)))
    result = run(table, RandomSearch(table.space, metric="error", max_t=3, seed=0), n_workers=2)
    statuses = dict(zip(result.trials_frame()["x"], result.trial_status))
    assert statuses == {0: "failed", 1: "completed"}
    frame = result.results_frame()
    assert frame[frame["x"] == 0]["decision"].tolist() == ["", "failed"]


def test_event_queue_ties_are_first_in_first_out():
    from simulator import EventQueue

    queue = EventQueue()
    for payload in "abc":
        queue.push(1.0, payload)
    queue.push(0.5, "z")
    assert [queue.pop()[2] for _ in range(4)] == ["z", "a", "b", "c"]
    with pytest.raises(ValueError, match="before the current time"):
        queue.push(0.1, "late")


def test_names_that_clash_with_result_columns_are_refused():
    from blackbox_repository import Blackbox, Objective

    table = make_table(np.full((2, 1, 2), 0.5), np.ones((2, 1, 2)))
    clashing = Blackbox(
        name="clash",
        space=table.space,
        configs=table.configs,
        fidelities=table.fidelities,
        seeds=table.seeds,
        objectives=np.asarray(table.objectives),
        objective_info=[Objective("time", "min"), Objective("runtime", None, "s"), Objective("elapsed_time")],
        metric="time",
    )
    with pytest.raises(SimulationError, match="clash"):
        run(clashing, RandomSearch(clashing.space, metric="time", max_t=2, seed=0))


KEEP_GOING = Decision(Action.CONTINUE)


class Scripted(Scheduler):
    """Answers every suggestion and report from fixed values (to provoke contract violations)."""

    def __init__(self, space, *, suggestion, decision=KEEP_GOING, max_t=27, pauses=False):
        self._set_problem(space, "error", "min", max_t, 0)
        self.suggestion, self.decision, self.pauses_trials = suggestion, decision, pauses

    def _suggest(self, new_trial_id):
        return self.suggestion if new_trial_id is not None and new_trial_id < 2 else None

    def _on_report(self, trial_id, epoch, metrics):
        return self.decision


def test_the_problem_is_the_methods(random_table):
    asha = ASHA(random_table.space, metric="error", max_t=9, seed=0)
    result = run(random_table, asha, max_results=200)
    assert result.results_frame()["epoch"].max() == 9  # the method's max_t, not the table's 27
    with pytest.raises(SimulationError, match=r"simulate\(max_t=27\) disagrees with ASHA's max_t=9"):
        simulate(random_table, asha, n_workers=2, seed=0, stop=StopCriteria(max_results=5), max_t=27)
    with pytest.raises(SimulationError, match="disagrees with ASHA's metric='error'"):
        simulate(random_table, asha, n_workers=2, seed=0, stop=StopCriteria(max_results=5), metric="runtime")
    with pytest.raises(SimulationError, match="max_t=40, but benchmark 'random-table' has epochs 1..27"):
        run(random_table, ASHA(random_table.space, metric="error", max_t=40, seed=0))
    with pytest.raises(SimulationError, match="build the method with mode='min'"):
        run(random_table, ASHA(random_table.space, metric="error", mode="max", max_t=9, seed=0))


@pytest.mark.parametrize("report_at, message", [(0, r"in \(0, 27\]"), (28, r"in \(0, 27\]")])
def test_report_at_outside_the_remaining_epochs_is_an_error(random_table, report_at, message):
    scheduler = Scripted(random_table.space, suggestion=Suggestion.start({"a": 1, "b": "x"}, report_at=report_at))
    with pytest.raises(SimulationError, match=message):
        run(random_table, scheduler)


def test_pause_needs_pauses_trials(random_table):
    start = Suggestion.start({"a": 1, "b": "x"}, report_at=3)
    with pytest.raises(SimulationError, match="answered PAUSE for trial 0 at epoch 3 but does not declare"):
        run(random_table, Scripted(random_table.space, suggestion=start, decision=Decision(Action.PAUSE)))
    pausing = Scripted(random_table.space, suggestion=start, decision=Decision(Action.PAUSE), pauses=True)
    result = run(random_table, pausing)
    assert result.trial_status == ["paused", "paused"]


def test_a_new_trial_after_no_new_trials_is_an_error(random_table):
    class Eager(Scripted):
        def _suggest(self, new_trial_id):
            return self.suggestion

    start = Suggestion.start({"a": 1, "b": "x"}, report_at=27)
    with pytest.raises(SimulationError, match=r"after being told that no new trial may start \(suggest\(None\)"):
        run(random_table, Eager(random_table.space, suggestion=start), max_trials=1)


def test_the_scheduler_hears_every_unfinished_trial_end(random_table):
    class Listening(Scripted):
        stopped: list

        def _on_stop(self, trial_id):
            self.stopped.append(trial_id)

    scheduler = Listening(random_table.space, suggestion=Suggestion.start({"a": 1, "b": "x"}, report_at=2))
    scheduler.stopped = []
    result = run(random_table, scheduler, max_results=5)
    assert result.trial_status == ["running", "running"] and scheduler.stopped == [0, 1]

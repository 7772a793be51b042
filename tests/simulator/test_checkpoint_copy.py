"""A new trial started from another trial's checkpoint (``Suggestion.start(..., checkpoint_from=...)``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

from methods import Action, Decision, Scheduler, Suggestion
from methods.pbt import PBT
from simulator import SimulationError, StopCriteria, simulate
from tests.conftest import make_table


class Script(Scheduler):
    """Plays scripted suggestions (in order) and answers reports from a dict (trial, epoch) -> Decision."""

    pauses_trials = True

    def __init__(
        self, suggestions: list[Suggestion | None], decisions: Mapping[tuple[int, int], Decision], max_t: int = 5
    ):
        self._set_problem(None, "error", "min", max_t, 0)
        self.suggestions = list(suggestions)
        self.decisions = dict(decisions)
        self.completed: list[tuple[int, int]] = []
        self.errors: list[tuple[int, int]] = []

    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        return self.suggestions.pop(0) if self.suggestions else None

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        return self.decisions[trial_id, epoch]

    def _on_complete(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        self.completed.append((trial_id, epoch))

    def _on_error(self, trial_id: int, epoch: int) -> None:
        self.errors.append((trial_id, epoch))


def run(table, scheduler, n_workers=1, seed=0):
    return simulate(table, scheduler, n_workers=n_workers, seed=seed, stop=StopCriteria(max_wallclock_time=1e6))


def table_3x2x5():
    """3 configurations x 2 seeds x 5 epochs; every value distinct, runtimes 1 s (x=0), 1.5 s (x=1), 2 s (x=2)."""
    metric = np.arange(30, dtype=float).reshape(3, 2, 5) / 100 + 0.1
    runtime = np.broadcast_to(np.array([1.0, 1.5, 2.0])[:, None, None], (3, 2, 5)).copy()
    return make_table(metric, runtime), metric, runtime


def test_copy_of_a_stopped_trial_continues_with_the_new_curve_from_the_next_epoch():
    table, metric, runtime = table_3x2x5()
    script = Script(
        [Suggestion.start({"x": 0}, report_at=2), Suggestion.start({"x": 2}, report_at=5, checkpoint_from=0)],
        {(0, 2): Decision(Action.STOP)},
    )
    result = run(table, script)
    frame = result.results_frame()
    source, copy = frame[frame.trial_id == 0], frame[frame.trial_id == 1]
    assert source["epoch"].tolist() == [1, 2] and copy["epoch"].tolist() == [3, 4, 5]
    seed = int(source["seed"].iloc[0])
    assert copy["seed"].eq(seed).all()  # the source's benchmark seed
    np.testing.assert_array_equal(copy["error"], metric[2, seed, 2:5])  # the NEW configuration's curve
    # the copy starts when the worker is free (t=2) and is charged only the epochs it runs (2 s each)
    np.testing.assert_allclose(copy["time"], [4.0, 6.0, 8.0])
    assert result.simulated_time == 8.0
    trials = result.trials_frame()
    assert trials["checkpoint_from"].tolist() == [-1, 0]
    assert trials["last_epoch"].tolist() == [2, 5] and trials["status"].tolist() == ["stopped", "completed"]
    assert script.completed == [(1, 5)]


def test_copy_of_a_paused_trial_leaves_it_resumable():
    table, metric, _ = table_3x2x5()
    script = Script(
        [
            Suggestion.start({"x": 1}, report_at=3),
            Suggestion.start({"x": 0}, report_at=5, checkpoint_from=0),
            Suggestion.resume(0, report_at=5),
        ],
        {(0, 3): Decision(Action.PAUSE)},
    )
    result = run(table, script)
    frame = result.results_frame()
    assert frame[frame.trial_id == 1]["epoch"].tolist() == [4, 5]
    assert frame[frame.trial_id == 0]["epoch"].tolist() == [1, 2, 3, 4, 5]  # resumed after the copy ran
    seed = int(frame["seed"].iloc[0])
    np.testing.assert_array_equal(frame[frame.trial_id == 1]["error"], metric[0, seed, 3:5])
    np.testing.assert_allclose(frame[frame.trial_id == 1]["time"], [4.5 + 1.0, 4.5 + 2.0])
    assert result.trials_frame()["checkpoint_from"].tolist() == [-1, 0]


def test_copy_of_a_running_trial_uses_its_last_report():
    table, metric, _ = table_3x2x5()
    # worker 0: trial 0 (x=0, 1 s/epoch) reports at 2 (t=2) and runs on to 5; worker 1: trial 1 (x=1, 1.5 s)
    # reports at 2 (t=3) and is stopped; trial 2 copies trial 0's checkpoint of epoch 2 (trial 0 is running)
    script = Script(
        [
            Suggestion.start({"x": 0}, report_at=2),
            Suggestion.start({"x": 1}, report_at=2),
            Suggestion.start({"x": 2}, report_at=5, checkpoint_from=0),
        ],
        {(0, 2): Decision(Action.CONTINUE, 5), (1, 2): Decision(Action.STOP)},
    )
    frame = run(table, script, n_workers=2).results_frame()
    copy = frame[frame.trial_id == 2]
    assert copy["epoch"].tolist() == [3, 4, 5]
    np.testing.assert_allclose(copy["time"], [5.0, 7.0, 9.0])
    assert copy["worker"].eq(1).all()


def test_the_source_seed_is_replaced_when_the_new_configuration_has_no_data_for_it():
    metric = np.array([[[0.5] * 4, [np.nan] * 4], [[np.nan] * 4, [0.3] * 4]])  # x=0: seed 0 only; x=1: seed 1 only
    table = make_table(metric, np.ones((2, 2, 4)))
    script = Script(
        [Suggestion.start({"x": 0}, report_at=2), Suggestion.start({"x": 1}, report_at=4, checkpoint_from=0)],
        {(0, 2): Decision(Action.STOP)},
        max_t=4,
    )
    result = run(table, script)
    assert result.trial_seed_indices.tolist() == [0, 1]
    assert result.results_frame()["error"].tolist() == [0.5, 0.5, 0.3, 0.3]


def test_missing_values_before_the_checkpoint_do_not_fail_the_copy():
    metric = np.array([[[0.5, 0.4, 0.3, 0.2]], [[np.nan, 0.9, 0.8, 0.7]]])  # x=1 has no value at epoch 1
    table = make_table(metric, np.ones((2, 1, 4)))
    script = Script(
        [Suggestion.start({"x": 0}, report_at=2), Suggestion.start({"x": 1}, report_at=4, checkpoint_from=0)],
        {(0, 2): Decision(Action.STOP)},
        max_t=4,
    )
    result = run(table, script)
    assert result.trial_status == ["stopped", "completed"] and script.errors == []
    assert result.results_frame()["error"].tolist() == [0.5, 0.4, 0.8, 0.7]


@pytest.mark.parametrize(
    "suggestions, decisions, message",
    [
        ([Suggestion.start({"x": 0}, report_at=5, checkpoint_from=3)], {}, "does not exist"),
        ([Suggestion.start({"x": 0}, report_at=5, checkpoint_from=-1)], {}, "does not exist"),
        (  # completed: no epochs left
            [Suggestion.start({"x": 0}, report_at=5), Suggestion.start({"x": 1}, checkpoint_from=0)],
            {},
            "completed after 5 epoch",
        ),
        (  # failed
            [Suggestion.start({"x": 2}, report_at=5), Suggestion.start({"x": 1}, checkpoint_from=0)],
            {},
            "failed",
        ),
        (  # no finished epoch yet (the source is running its first segment)
            [Suggestion.start({"x": 0}, report_at=5), Suggestion.start({"x": 1}, checkpoint_from=0)],
            "two workers",
            "after 0 epoch",
        ),
        (
            [Suggestion.start({"x": 0}, report_at=2), Suggestion(trial_id=0, report_at=5, checkpoint_from=0)],
            {(0, 2): Decision(Action.PAUSE)},
            "only a new trial",
        ),
    ],
)
def test_invalid_sources_are_rejected(suggestions, decisions, message):
    metric = np.full((3, 1, 5), 0.5)
    metric[2, 0, 1] = np.nan  # x=2 fails at epoch 2
    table = make_table(metric, np.ones((3, 1, 5)))
    n_workers = 2 if decisions == "two workers" else 1
    with pytest.raises(SimulationError, match=message):
        run(table, Script(suggestions, decisions if isinstance(decisions, dict) else {}), n_workers=n_workers)


def test_pbt_on_a_table_is_deterministic_per_seed_and_copies_only_at_reports(random_table):
    def frames(seed):
        scheduler = PBT(random_table.space, metric="error", max_t=27, seed=seed, perturbation_interval=3)
        result = simulate(random_table, scheduler, n_workers=4, seed=seed, stop=StopCriteria(max_wallclock_time=400.0))
        return result.results_frame(), result.trials_frame()

    results, trials = frames(3)
    again_results, again_trials = frames(3)
    pd.testing.assert_frame_equal(results, again_results, check_exact=True)
    pd.testing.assert_frame_equal(trials, again_trials, check_exact=True)
    assert not results.equals(frames(4)[0])
    copies = trials[trials.checkpoint_from >= 0]
    assert len(copies) > 10
    first_epoch = results.groupby("trial_id")["epoch"].min()
    for trial, source in zip(copies.trial_id, copies.checkpoint_from):
        assert source < trial
        source_rows = results[(results.trial_id == source) & (results.decision != "")]
        start = first_epoch[trial]
        assert (start - 1) % 3 == 0 and start - 1 in source_rows["epoch"].tolist()  # a report of the source
        assert trials.loc[trial, "seed"] == trials.loc[source, "seed"]

"""Ask/tell: a method driven by an external loop, with the simulator's protocol and the store's format."""

from __future__ import annotations

import math

import pytest

from experiments.ask_tell import AskTell
from experiments.errors import ExperimentError
from experiments.store_format import read_run
from searchspace import Float, SearchSpace
from simulator import StopCriteria

SPACE = SearchSpace({"x": Float(0.0, 1.0)})


def loss(base: float, epoch: int) -> float:
    return base + 1.0 / epoch


def run_sequentially(ask_tell: AskTell, bases: list[float]) -> list[tuple[int, int, str, int | None]]:
    """One worker: run each assignment epoch by epoch until its verdict ends it; trial i has loss bases[i] + 1/e.
    Returns every (trial, epoch, outcome, report_at) told."""
    told = []
    while (assignment := ask_tell.ask()) is not None:
        trial, epoch = assignment.trial_id, assignment.start
        while True:
            epoch += 1
            verdict = ask_tell.tell(trial, epoch, {"loss": loss(bases[trial], epoch)}, time=float(len(told)))
            told.append((trial, epoch, verdict.outcome, verdict.report_at))
            if not verdict.keep_running:
                break
    return told


def test_asha_decides_as_its_rule_says():
    # ASHA, max_t 9, grace period 1, eta 3: rungs 1 and 3, each keeping values at or below the 1/3 quantile
    # (numpy "linear") of the values recorded there, its own included; fewer than two values: continue.
    ask_tell = AskTell("ASHA", SPACE, metric="loss", mode="min", max_t=9, seed=0, stop=StopCriteria(max_trials=5))
    told = run_sequentially(ask_tell, [0.5, 0.3, 0.7, 0.1, 0.4])
    decisions = [(trial, epoch, outcome, report_at) for trial, epoch, outcome, report_at in told if outcome]
    assert decisions == [
        (0, 1, "continue", 3),  # rung 1: alone
        (0, 3, "continue", 9),  # rung 3: alone
        (0, 9, "complete", None),
        (1, 1, "continue", 3),  # 1.3 <= quantile([1.5, 1.3], 1/3) = 1.3667
        (1, 3, "continue", 9),  # 0.633 <= quantile([0.833, 0.633], 1/3) = 0.7
        (1, 9, "complete", None),
        (2, 1, "stop", None),  # 1.7 > quantile([1.5, 1.3, 1.7], 1/3) = 1.4333
        (3, 1, "continue", 3),  # 1.1 <= 1.3
        (3, 3, "continue", 9),  # 0.433 <= 0.5667
        (3, 9, "complete", None),
        (4, 1, "stop", None),  # 1.4 > quantile([1.5, 1.3, 1.7, 1.1, 1.4], 1/3) = 1.3333
    ]
    # epochs between reports are recorded but not reported: the verdict "" names the next report epoch
    assert (0, 2, "", 3) in told and (0, 4, "", 9) in told
    assert ask_tell.ask() is None  # max_trials reached and nothing paused
    result = ask_tell.finish(None)  # None: the stop reason the loop's end means, as the simulator says it
    assert result.stop_reason == "max_trials"
    assert result.trial_status == ["completed", "completed", "stopped", "completed", "stopped"]
    assert result.num_results == len(told) == 9 + 9 + 1 + 9 + 1


def test_promotion_pauses_and_resumes_and_an_epoch_told_twice_is_recorded_once(tmp_path):
    ask_tell = AskTell("ASHA-PROM", SPACE, metric="loss", max_t=9, seed=0, stop=StopCriteria(max_trials=4))
    first = ask_tell.ask()
    assert (first.trial_id, first.start, first.report_at, first.resume) == (0, 0, 1, False)
    assert ask_tell.tell(0, 1, {"loss": 1.2}).outcome == "pause"
    second = ask_tell.ask()  # rung 1 has one value: nobody is promoted, a new trial starts
    assert (second.trial_id, second.resume) == (1, False)
    assert ask_tell.tell(1, 1, {"loss": 2.0}).outcome == "pause"
    resumed = ask_tell.ask()  # trial 0 is the best of two at rung 1: promoted to rung 3
    assert (resumed.trial_id, resumed.start, resumed.report_at, resumed.resume) == (0, 1, 3, True)
    assert ask_tell.tell(0, 1, {"loss": 1.2}).outcome == ""  # a restarted function tells epoch 1 again: skipped
    assert ask_tell.tell(0, 2, {"loss": 1.0}).outcome == ""
    assert ask_tell.tell(0, 3, {"loss": 0.9}).outcome == "pause"
    path = ask_tell.store(tmp_path, experiment_tag="ask")
    run = read_run(path)
    assert run.results[["trial_id", "epoch"]].values.tolist() == [[0, 1], [1, 1], [0, 2], [0, 3]]
    assert run.results["decision"].tolist() == ["pause", "pause", "", "pause"]
    assert run.trials["status"].tolist() == ["paused", "paused"]
    assert run.metadata["clock"] == "real" and run.metadata["stop_reason"] == "finished by the caller"
    assert run.metadata["method"] == "ASHA-PROM" and run.metadata["num_trials"] == 2


def test_pbt_hands_out_the_checkpoint_to_copy():
    ask_tell = AskTell("PBT", SPACE, metric="loss", max_t=8, seed=0, method_options={"population_size": 2})
    a, b = ask_tell.ask(), ask_tell.ask()
    assert ask_tell.tell(a.trial_id, 1, {"loss": 0.2}).outcome == "continue"
    assert ask_tell.tell(b.trial_id, 1, {"loss": 0.9}).outcome == "stop"  # the worse of two exploits
    copy = ask_tell.ask()
    assert copy.checkpoint_from == a.trial_id and copy.start == 1 and not copy.resume
    assert copy.config != a.config  # explored
    result = ask_tell.finish()
    assert result.trials_frame()["checkpoint_from"].tolist() == [-1, -1, a.trial_id]


def test_failures_and_misuse():
    ask_tell = AskTell("RandomSearch", SPACE, metric="loss", max_t=3, seed=1, stop=StopCriteria(max_results=4))
    trial = ask_tell.ask().trial_id
    assert ask_tell.tell(trial, 1, {"loss": 0.5, "epoch": 1}).outcome == ""
    with pytest.raises(ExperimentError, match="tell every epoch in order"):
        ask_tell.tell(trial, 3, {"loss": 0.5})
    with pytest.raises(ExperimentError, match="without the metric 'loss'"):
        ask_tell.tell(trial, 2, {"accuracy": 0.5})
    with pytest.raises(ExperimentError, match="trial 7 is unknown"):
        ask_tell.tell(7, 1, {"loss": 0.5})
    assert ask_tell.tell_error(trial).outcome == "failed"
    with pytest.raises(ExperimentError, match="is failed, not running"):
        ask_tell.tell(trial, 3, {"loss": 0.5})
    other = ask_tell.ask().trial_id
    assert ask_tell.tell(other, 1, {"loss": math.nan}).outcome == "failed"  # a NaN metric fails the trial
    last = ask_tell.ask().trial_id
    assert ask_tell.tell(last, 1, {"loss": 0.1}).outcome == "stop" and ask_tell.ended  # the 4th result: max_results
    assert ask_tell.ask() is None
    result = ask_tell.finish()
    assert result.stop_reason == "max_results" and result.num_results == 4
    assert result.trial_status == ["failed", "failed", "running"]


def test_several_objectives_reach_a_multi_objective_method_and_are_stored(tmp_path):
    # MOASHA (max_t 3, a rung at 1): a trial continues iff at most n/3 of the n trials at the rung are ahead of it
    # in non-dominated order (fronts, then an epsilon-net from the lowest loss: farthest point next). All four
    # points are mutually non-dominated; the net orders them A, D, C, B. ASHA-RANK on the loss alone ranks them
    # A, B, C, D and stops all but A.
    points = {"A": (0.1, 5.0), "B": (0.2, 4.0), "C": (0.3, 3.0), "D": (0.9, 0.1)}

    def outcomes(method, metric, mode):
        ask_tell = AskTell(method, SPACE, metric=metric, mode=mode, max_t=3, seed=0)
        told = [ask_tell.tell(ask_tell.ask().trial_id, 1, {"loss": a, "size": b}).outcome for a, b in points.values()]
        return ask_tell, told

    ask_tell, told = outcomes("MOASHA", ["loss", "size"], ["min", "min"])
    assert told == ["continue", "stop", "continue", "continue"]
    assert outcomes("ASHA-RANK", "loss", "min")[1] == ["continue", "stop", "stop", "stop"]
    with pytest.raises(ExperimentError, match="lack 'size'"):
        ask_tell.tell(ask_tell.ask().trial_id, 1, {"loss": 0.1})
    stored = read_run(ask_tell.store(tmp_path))
    assert stored.metadata["objectives"] == ["loss", "size"] and stored.metadata["modes"] == ["min", "min"]
    assert stored.metadata["settings"]["objectives"] == ["loss", "size"]
    assert {"loss", "size"} <= set(stored.results.columns)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "NoSuchMethod"}, "unknown method 'NoSuchMethod'"),
        ({"metric": ["loss", "loss"]}, "named twice"),
        ({"metric": ["loss", "size"], "mode": ["min"]}, "one mode for all, or one per metric"),
        ({"metric": "time"}, "metric 'time' is a column of the results"),
        ({"mode": "best"}, "mode must be 'min' or 'max'"),
        ({"max_t": 0}, "max_t must be an integer >= 1"),
        ({"method": "ASHA", "max_t": 1}, "method 'ASHA' cannot be built"),
        ({"method_options": {"no_such_option": 1}}, "cannot be built"),
        ({"train_seeds": [1, 1]}, "train_seeds must be distinct"),
    ],
)
def test_bad_arguments_give_one_line_errors(kwargs, message):
    arguments = {"method": "RandomSearch", "metric": "loss", "max_t": 5, **kwargs}
    method = arguments.pop("method")
    with pytest.raises(ExperimentError, match=message) as error:
        AskTell(method, SPACE, **arguments)
    assert "\n" not in str(error.value)

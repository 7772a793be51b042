"""The real-clock Tuner: real worker processes running tiny training functions (a few ms per epoch)."""

from __future__ import annotations

import functools
import itertools
import json
import time

import numpy as np
import pytest

from blackbox_repository.embedded import sklearn_mlp_digits as digits
from experiments.errors import ExperimentError
from experiments.store_format import load_results, read_run
from experiments.tuner import Tuner
from searchspace import Float, SearchSpace
from simulator import StopCriteria
from tests.experiments import training_functions as functions

SPACE = SearchSpace({"x": Float(0.0, 1.0)})
MAX_T = 9  # ASHA's rungs: 1, 3 (grace period 1, eta 3)


def tune(train, method: str, stop: StopCriteria, **kwargs):
    options = {"metric": "loss", "mode": "min", "max_t": MAX_T, "n_workers": 2, "seed": 0, "progress": False}
    return Tuner(train, SPACE, method=method, stop=stop, **{**options, **kwargs}).run()


def rows_by_trial(results):
    return {trial: frame.sort_values("epoch") for trial, frame in results.groupby("trial_id")}


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """RandomSearch and ASHA on the plain function, stored under one tag."""
    results_dir = tmp_path_factory.mktemp("results")
    summaries = {
        method: tune(
            functions.plain, method, StopCriteria(max_trials=trials), results_dir=results_dir, experiment_tag="real"
        )
        for method, trials in (("RandomSearch", 4), ("ASHA", 10))
    }
    return results_dir, summaries


def test_runs_are_stored_as_simulated_runs_are(stored):
    results_dir, summaries = stored
    listing = load_results(results_dir, "real")
    assert listing["method"].tolist() == ["ASHA", "RandomSearch"]
    assert set(listing["benchmark"]) == {"plain"} and set(listing["stop_reason"]) == {"max_trials"}
    for path in listing["path"]:
        run = read_run(path)
        results, metadata = run.results, run.metadata
        assert metadata["clock"] == "real" and metadata["num_trials"] == len(run.trials)
        assert metadata["num_results"] == len(results) and len(metadata["worker_startup_seconds"]) == 2
        times = results["time"].to_numpy()
        assert np.all(np.diff(times) >= 0) and times[0] > 0 and times[-1] <= metadata["simulated_time_seconds"]
        assert set(results["worker"]) <= {0, 1}
        assert (results["runtime"] > 0).all()  # the measured seconds of each epoch
        np.testing.assert_allclose(results["loss"], results["x"] + 1 / results["epoch"])
        np.testing.assert_allclose(results["best_so_far"], np.minimum.accumulate(results["loss"]))
        assert not results.duplicated(["trial_id", "epoch"]).any()
    assert summaries["RandomSearch"].result.trial_status == ["completed"] * 4
    trial, config, value = summaries["ASHA"].best()
    frame = summaries["ASHA"].result.results_frame()
    assert value == frame["loss"].min() and config == {"x": frame.loc[frame["loss"].idxmin(), "x"]}
    assert frame.loc[frame["loss"].idxmin(), "trial_id"] == trial


def test_the_plotting_loader_reads_real_runs(stored):
    from plotting.load import load

    curves = load(stored[0], "real", progress=False, log=False)
    assert curves.benchmarks == ["plain"] and sorted(curves.methods) == ["ASHA", "RandomSearch"]
    for method in curves.methods:
        values = curves.values["plain", method]
        assert np.isfinite(values[:, -1]).all() and np.all(np.diff(values[0][np.isfinite(values[0])]) <= 0)
    from plotting.labels import time_label

    assert time_label(curves.runs, "plain") == "wall-clock time (s)"  # figures of real runs say so


def test_asha_stops_trials_at_rung_levels(stored):
    run = read_run(stored[1]["ASHA"].path)
    trials, results = run.trials, run.results
    stopped = trials[trials["status"] == "stopped"]
    assert len(stopped) >= 2  # the worst configurations of a rung stop there
    assert set(stopped["last_epoch"]) <= {1, 3}
    assert set(trials.loc[trials["status"] == "completed", "last_epoch"]) == {MAX_T}
    assert set(results.loc[results["decision"] == "stop", "epoch"]) <= {1, 3}
    assert set(results.loc[results["decision"] == "continue", "epoch"]) <= {1, 3}


def test_promotion_resumes_a_trial_from_its_checkpoint(tmp_path):
    summary = tune(functions.checkpointed, "ASHA-PROM", StopCriteria(max_trials=8), results_dir=tmp_path)
    results, trials = summary.result.results_frame(), summary.result.trials_frame()
    resumed = 0
    for trial, rows in rows_by_trial(results).items():
        assert rows["epoch"].tolist() == list(range(1, len(rows) + 1))  # every epoch once, in order
        np.testing.assert_allclose(rows["loss"], rows["x"] + 1 / rows["epoch"])
        for pause in rows.loc[rows["decision"] == "pause", "epoch"]:
            after = rows[rows["epoch"] == pause + 1]
            if len(after):  # resumed: the function found its state of the paused epoch
                resumed += 1
                assert after["resumed_from"].item() == pause
        state = json.loads((summary.path / "checkpoints" / f"trial-{trial}" / functions.STATE).read_text())
        assert state["epoch"] == trials.loc[trial, "last_epoch"]  # kept by default
    assert resumed >= 1
    assert set(trials["status"]) <= {"paused", "completed"}


def test_a_function_without_checkpoints_restarts_and_is_not_reported_twice():
    summary = tune(functions.plain, "ASHA-PROM", StopCriteria(max_trials=8), results_dir=None)
    resumed = 0
    for rows in rows_by_trial(summary.result.results_frame()).values():
        assert rows["epoch"].tolist() == list(range(1, len(rows) + 1))
        # every recorded epoch was computed by a call that started at epoch 1 (epochs seen before were skipped)
        assert (rows["in_call"] == rows["epoch"]).all()
        resumed += int(((rows["decision"] == "pause") & (rows["epoch"] < rows["epoch"].max())).sum())
    assert resumed >= 1


def test_pbt_copies_the_source_checkpoint(tmp_path):
    summary = tune(
        functions.checkpointed, "PBT", StopCriteria(max_trials=10), results_dir=None, checkpoint_root=tmp_path / "ck"
    )
    results, trials = summary.result.results_frame(), summary.result.trials_frame()
    copies = trials[trials["checkpoint_from"] >= 0]
    assert len(copies) >= 1
    by_trial = rows_by_trial(results)
    for trial, source in zip(copies["trial_id"], copies["checkpoint_from"]):
        rows = by_trial[trial]
        first = rows["epoch"].iloc[0]
        assert first >= 2 and rows["resumed_from"].iloc[0] == first - 1  # continues the copied state
        assert rows["lineage"].iloc[0] >= 2  # trained by the source's configuration, then its own
        assert (by_trial[source]["epoch"] == first - 1).any()  # the source reported that epoch
    assert not (tmp_path / "ck" / ".reported").exists()  # the snapshots at reports are gone at the end
    kept = {path.name for path in (tmp_path / "ck").iterdir()}
    assert kept == {f"trial-{trial}" for trial in trials["trial_id"]}  # the trials' directories are kept


def test_stop_criteria(tmp_path):
    by_results = tune(functions.plain, "ASHA", StopCriteria(max_results=20), results_dir=None)
    assert by_results.result.stop_reason == "max_results" and by_results.result.num_results == 20
    target = tune(
        functions.plain, "RandomSearch", StopCriteria(target_metric_value=0.6, max_trials=30), results_dir=None
    )
    assert target.result.stop_reason == "target_metric_value" and target.result.best_so_far()[-1] <= 0.6
    started = time.monotonic()
    timed = tune(functions.slow, "RandomSearch", StopCriteria(max_wallclock_time=2.5), results_dir=tmp_path)
    took = time.monotonic() - started
    result = timed.result
    assert result.stop_reason == "max_wallclock_time" and result.simulated_time == 2.5
    assert result.time.max() <= 2.5 and "running" in result.trial_status  # stopped mid-trial at the end
    assert took < 2.5 + 30  # generous: worker start-up on a busy machine, then at most one epoch and the store
    assert timed.metadata["simulated_time_seconds"] == 2.5


@pytest.mark.parametrize("method", ["Hyperband", "SyncHyperband", "BayesianOptimization", "MedianStoppingRule"])
def test_other_methods_run_under_the_same_protocol(method):
    summary = tune(functions.checkpointed, method, StopCriteria(max_trials=6), results_dir=None)
    result = summary.result
    assert result.num_trials == 6 and set(result.trial_status) <= {"completed", "stopped", "paused"}
    for rows in rows_by_trial(result.results_frame()).values():
        assert rows["epoch"].tolist() == list(range(1, len(rows) + 1))


def test_forkserver_workers():
    summary = tune(functions.plain, "ASHA", StopCriteria(max_trials=4), results_dir=None, start_method="forkserver")
    assert summary.result.num_trials == 4 and summary.result.stop_reason == "max_trials"
    assert summary.metadata["start_method"] == "forkserver"


@pytest.mark.parametrize(
    ("train", "message"), [(functions.failing, "RuntimeError: diverged"), (functions.killed, "its worker process died")]
)
def test_a_failing_trial_fails_and_the_run_goes_on(train, message):
    summary = tune(train, "RandomSearch", StopCriteria(max_trials=5), results_dir=None)
    trials, results = summary.result.trials_frame(), summary.result.results_frame()
    failed = trials[trials["status"] == "failed"]
    assert len(failed) >= 1 and (failed["x"] > 0.5).all() and (failed["last_epoch"] == 2).all()
    assert set(trials.loc[trials["x"] <= 0.5, "status"]) == {"completed"}
    failure_rows = results[results["decision"] == "failed"]
    assert failure_rows["loss"].isna().all() and len(failure_rows) == len(failed)
    assert summary.metadata["num_failed_trials"] == len(failed) and message in summary.metadata["failures"][0]
    assert summary.result.stop_reason == "max_trials"


def test_the_embedded_training_function_resumes_from_its_checkpoint(tmp_path):
    config = {
        "n_units": 16,
        "n_layers": 1,
        "learning_rate_init": 1e-2,
        "alpha": 1e-4,
        "batch_size": 128,
        "activation": "tanh",
    }
    plain = list(digits.train_mlp(config, 2, epochs=4))
    assert all("epoch" not in row for row in plain)  # without checkpoint_dir: what the table was made of
    first = list(itertools.islice(digits.train_mlp(config, 2, epochs=4, checkpoint_dir=tmp_path), 2))
    rest = list(digits.train_mlp(config, 2, epochs=4, checkpoint_dir=tmp_path))
    assert [row.pop("epoch") for row in first + rest] == [1, 2, 3, 4]
    assert first + rest == plain  # resumed exactly where it stopped
    other = {**config, "n_units": 32}  # another architecture cannot continue that state: it restarts
    assert next(iter(digits.train_mlp(other, 2, epochs=4, checkpoint_dir=tmp_path)))["epoch"] == 1


@pytest.mark.parametrize(
    ("train", "kwargs", "message"),
    [
        (42, {}, "train must be a function"),
        (lambda config, seed: iter(()), {}, "train cannot be sent to the worker processes"),
        (functools.partial(functions.plain), {"method": "NoSuchMethod"}, "unknown method 'NoSuchMethod'"),
        (functions.plain, {"n_workers": 0}, "n_workers must be an integer >= 1"),
        (functions.plain, {"stop": None}, "give stop=StopCriteria"),
        (functions.plain, {"metric": "seed"}, "metric 'seed' is a column"),
        (functions.plain, {"start_method": "fork"}, "start_method must be one of"),
    ],
)
def test_bad_inputs_give_one_line_errors(train, kwargs, message):
    arguments = {"method": "RandomSearch", "metric": "loss", "max_t": 3, "stop": StopCriteria(max_trials=1), **kwargs}
    with pytest.raises(ExperimentError, match=message) as error:
        Tuner(train, SPACE, **arguments)
    assert "\n" not in str(error.value)


def test_a_metric_the_function_does_not_yield_is_an_error(tmp_path):
    with pytest.raises(ExperimentError, match="without the metric 'loss'") as error:
        tune(functions.wrong_metric, "RandomSearch", StopCriteria(max_trials=2), results_dir=tmp_path)
    assert "\n" not in str(error.value)
    assert load_results(tmp_path).empty  # nothing stored

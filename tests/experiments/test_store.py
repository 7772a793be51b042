"""The results store: layout, completeness marker, readers."""

from __future__ import annotations

import json

import pytest

from experiments import ExperimentError, load_results, read_run, run_dir
from experiments.run import run_experiment
from experiments.store import METADATA_FILE, RESULTS_FILE, TRIALS_FILE, read_complete_metadata
from experiments.store_format import LOCK_FILE, VERIFIED_FILE
from tests.experiments.helpers import TOY


@pytest.fixture
def stored(tmp_path):
    run_experiment(TOY, ["ASHA", "RandomSearch"], num_seeds=2, max_wallclock_time=30.0, results_dir=tmp_path / "res")
    return tmp_path / "res"


def test_layout_and_contents(stored):
    path = run_dir(stored, "default", TOY, "ASHA", 1)
    assert path == stored / "default" / TOY / "ASHA" / "seed-1"
    files = [LOCK_FILE, VERIFIED_FILE, METADATA_FILE, RESULTS_FILE, TRIALS_FILE]
    assert sorted(p.name for p in path.iterdir()) == files
    run = read_run(path)
    expected = ["trial_id", "a", "b", "seed", "epoch", "time", "worker", "decision", "error", "runtime"]
    assert list(run.results.columns) == [*expected, "elapsed_time", "best_so_far"]
    assert run.results["time"].is_monotonic_increasing
    assert run.results["best_so_far"].equals(run.results["error"].cummin())
    assert list(run.trials.columns) == ["trial_id", "a", "b", "seed", "status", "last_epoch", "checkpoint_from"]
    meta = run.metadata
    assert meta["completed"] is True
    assert meta["final_best"] == run.results["best_so_far"].iloc[-1]
    assert meta["num_results"] == len(run.results) and meta["num_trials"] == len(run.trials)
    assert meta["simulated_time_seconds"] == pytest.approx(30.0)
    assert meta["decision_cpu_seconds"] > 0 and "decision_time_seconds" not in meta
    assert (meta["run_seed"], meta["seed"], meta["master_random_seed"]) == (1, 1, 0)
    assert "rung levels: [1, 3]" in meta["schedule_description"]
    assert set(meta["versions"]) >= {"python", "numpy", "pandas", "pyarrow", "scikit-learn"}
    assert "git_revision" in meta and meta["started_at"] <= meta["finished_at"]
    assert meta["arguments"]["num_seeds"] == 2 and meta["benchmark_definition"]["blackbox"] == TOY


def test_load_results_lists_complete_runs_only(stored):
    listing = load_results(stored, "default")
    assert list(listing[["method", "seed"]].itertuples(index=False, name=None)) == [
        ("ASHA", 0),
        ("ASHA", 1),
        ("RandomSearch", 0),
        ("RandomSearch", 1),
    ]
    assert listing["final_best"].dtype == float and listing["tag"].eq("default").all()
    assert len(load_results(stored, "default", method="ASHA")) == 2
    assert load_results(stored, "other").empty
    # an interrupted run (metadata.json not yet written) is not listed
    (run_dir(stored, "default", TOY, "ASHA", 0) / METADATA_FILE).unlink()
    assert len(load_results(stored, "default")) == 3
    with pytest.raises(ExperimentError, match="no complete run"):
        read_run(run_dir(stored, "default", TOY, "ASHA", 0))


@pytest.mark.parametrize("damage", ["truncated", "not-completed", "missing-table"])
def test_incomplete_metadata_is_not_complete(stored, damage):
    path = run_dir(stored, "default", TOY, "RandomSearch", 0)
    text = (path / METADATA_FILE).read_text()
    if damage == "truncated":
        (path / METADATA_FILE).write_text(text[: len(text) // 2])
    elif damage == "not-completed":
        (path / METADATA_FILE).write_text(json.dumps({**json.loads(text), "completed": False}))
    else:
        (path / TRIALS_FILE).unlink()
    assert read_complete_metadata(path) is None


def test_sizes_and_checksums_are_checked(stored):
    path = run_dir(stored, "default", TOY, "ASHA", 0)
    assert read_complete_metadata(path, verify=True) is not None
    data = bytearray((path / RESULTS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum notices
    (path / RESULTS_FILE).write_bytes(bytes(data))
    assert read_complete_metadata(path) is not None
    assert read_complete_metadata(path, verify=True) is None
    (path / RESULTS_FILE).write_bytes(bytes(data[:-1]))  # another size: noticed without reading
    assert read_complete_metadata(path) is None


@pytest.mark.parametrize("bad", ["", "a/b", "..", ".hidden"])
def test_names_must_be_path_components(tmp_path, bad):
    with pytest.raises(ExperimentError, match="experiment tag"):
        run_dir(tmp_path, bad, TOY, "ASHA", 0)

"""The command line: determinism, paired seeds, resume, parallel jobs, schedules and every error path."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxRepository
from experiments import BENCHMARKS, BenchmarkDefinition, available_benchmarks, load_results, read_run, run_dir
from experiments.benchmarks import benchmark_summary
from experiments.run import main, run_experiment
from experiments.store import METADATA_FILE, RESULTS_FILE, TRIALS_FILE
from experiments.store_format import LOCK_FILE, VERIFIED_FILE
from methods import REGISTRY, method_listing, resolve_method
from tests.experiments.helpers import REPO_ROOT, TOY, TOY_ARGS, subprocess_env

EMBEDDED = REPO_ROOT / "blackbox_repository" / "data" / "sklearn-mlp-digits" / "metadata.json"


def cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tables(results_dir: Path) -> dict[tuple[str, int], tuple[pd.DataFrame, pd.DataFrame]]:
    """(method, seed) -> (results, trials) of every complete run under ``results_dir``."""
    return {
        (row.method, row.seed): (read_run(row.path).results, read_run(row.path).trials)
        for row in load_results(results_dir).itertuples()
    }


def assert_same_tables(a: Path, b: Path) -> None:
    first, second = tables(a), tables(b)
    assert first and first.keys() == second.keys()
    for key in first:
        pd.testing.assert_frame_equal(first[key][0], second[key][0], check_exact=True)
        pd.testing.assert_frame_equal(first[key][1], second[key][1], check_exact=True)


def test_same_command_gives_identical_results(tmp_path, capsys):
    args = [*TOY_ARGS, "--method", "ASHA", "ASHA-PROM", "RandomSearch", "--num_seeds", "2"]
    assert cli(capsys, *args, "--results_dir", str(tmp_path / "a"))[0] == 0
    assert cli(capsys, *args, "--results_dir", str(tmp_path / "b"))[0] == 0
    assert_same_tables(tmp_path / "a", tmp_path / "b")
    assert len(tables(tmp_path / "a")) == 6


def test_seeds_are_paired_across_methods(tmp_path, capsys):
    args = [*TOY_ARGS, "--method", "ASHA", "RandomSearch", "--num_seeds", "3", "--master_random_seed", "100"]
    assert cli(capsys, *args, "--results_dir", str(tmp_path))[0] == 0
    listing = load_results(tmp_path)
    for seed in range(3):
        asha, rs = (read_run(run_dir(tmp_path, "default", TOY, m, seed)) for m in ("ASHA", "RandomSearch"))
        for key in ("run_seed", "simulator_seed", "method_seed"):
            assert asha.metadata[key] == rs.metadata[key], key
        assert asha.metadata["run_seed"] == 100 + seed
        # trial k replays the same benchmark seed under both methods
        n = min(len(asha.trials), len(rs.trials))
        assert n >= 5
        np.testing.assert_array_equal(asha.trials["seed"].to_numpy()[:n], rs.trials["seed"].to_numpy()[:n])
    assert listing.groupby("seed")["run_seed"].nunique().eq(1).all()
    assert listing["run_seed"].nunique() == 3


@pytest.mark.parametrize("damage", ["deleted", "truncated"])
def test_interrupted_run_resumes_only_the_missing_seed(tmp_path, capsys, damage):
    args = [*TOY_ARGS, "--method", "ASHA", "--num_seeds", "3"]
    assert cli(capsys, *args, "--results_dir", str(tmp_path / "full"))[0] == 0
    assert cli(capsys, *args, "--results_dir", str(tmp_path / "resumed"))[0] == 0
    paths = [run_dir(tmp_path / "resumed", "default", TOY, "ASHA", seed) for seed in range(3)]
    before = [(p / RESULTS_FILE).stat().st_mtime_ns for p in paths]
    # an interrupted write: metadata.json missing, or cut off half way
    metadata = paths[1] / METADATA_FILE
    if damage == "deleted":
        metadata.unlink()
    else:
        metadata.write_text(metadata.read_text()[:100])
    code, out, _ = cli(capsys, *args, "--results_dir", str(tmp_path / "resumed"))
    assert code == 0
    assert "3 runs: 1 run now, 2 skipped (already complete)" in out
    after = [(p / RESULTS_FILE).stat().st_mtime_ns for p in paths]
    assert after[0] == before[0] and after[2] == before[2]
    assert after[1] != before[1]
    assert json.loads(metadata.read_text())["completed"] is True
    assert_same_tables(tmp_path / "full", tmp_path / "resumed")


def test_run_experiment_reports_skipped_runs(tmp_path):
    kwargs = {"num_seeds": 2, "max_wallclock_time": 20.0, "results_dir": tmp_path}
    first = run_experiment(TOY, ["ASHA"], **kwargs)
    assert (first.num_run, first.num_skipped) == (2, 0)
    second = run_experiment(TOY, ["ASHA", "RandomSearch"], **kwargs)
    assert [(r.method, r.seed, r.skipped) for r in second.records] == [
        ("ASHA", 0, True),
        ("ASHA", 1, True),
        ("RandomSearch", 0, False),
        ("RandomSearch", 1, False),
    ]
    table = second.table()
    assert list(table["method"]) == ["ASHA", "RandomSearch"] and list(table["seeds"]) == [2, 2]
    assert table["simulated_time_mean"].tolist() == pytest.approx([20.0, 20.0])


def needs_what_the_toy_lacks(method: str) -> str | None:
    """What ``method`` takes that a benchmark supplies and the toy table has not (a constraint, other tasks)."""
    spec = resolve_method(method)
    if spec.takes("transfer_evaluations"):
        return "no family of tasks to transfer from"
    return "needs `constraint_attr`" if spec.takes("constraint_attr") else None


@pytest.mark.parametrize("method", list(REGISTRY))
def test_every_registered_method_runs(tmp_path, capsys, method):
    code, out, err = cli(capsys, *TOY_ARGS, "--method", method, "--num_seeds", "1", "--results_dir", str(tmp_path))
    lacking = needs_what_the_toy_lacks(method)
    if lacking is not None:  # refused before any run, in one line that says what is missing
        assert code == 2 and lacking in err and "Traceback" not in err, err
        return
    assert code == 0, err
    run = read_run(run_dir(tmp_path, "default", TOY, method, 0))
    assert run.metadata["num_results"] == len(run.results) > 0
    assert run.metadata["schedule_description"]


def test_parallel_jobs_give_the_same_results(tmp_path, capsys):
    args = [*TOY_ARGS, "--method", "ASHA", "RandomSearch", "--num_seeds", "3"]
    assert cli(capsys, *args, "--jobs", "1", "--results_dir", str(tmp_path / "serial"))[0] == 0
    assert cli(capsys, *args, "--jobs", "2", "--results_dir", str(tmp_path / "parallel"))[0] == 0
    assert_same_tables(tmp_path / "serial", tmp_path / "parallel")


def test_show_schedule_prints_rung_levels(tmp_path, capsys):
    argv = [
        "--benchmark",
        TOY,
        "--method",
        "ASHA",
        "RandomSearch",
        "--show-schedule",
        "--results_dir",
        str(tmp_path / "res"),
    ]
    code, out, err = cli(capsys, *argv)
    assert code == 0, err
    assert "rung levels: [1, 3]" in out and "max_t=9" in out
    assert "RandomSearch" in out
    assert not (tmp_path / "res").exists()


def test_aliases_are_listed_as_aliases(tmp_path, capsys, caplog):
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "ASHA-STOP (alias of ASHA)" in help_text and "ASHA-HB-PROM (alias of Hyperband)" in help_text
    code, out, err = cli(capsys, "--benchmark", TOY, "--method", "ASHA-HB", "Hyperband-STOP", "--show-schedule")
    assert code == 0, err
    alias, target = out.split("\n\n")
    assert "ASHA-HB is an alias of Hyperband-STOP: both give identical results" in caplog.text
    assert alias.startswith("ASHA-HB on toy-table (max_t=9; alias of Hyperband-STOP, identical results;")
    assert alias.splitlines()[1:] == target.splitlines()[1:]


def test_a_composed_method_runs_and_records_its_composition(tmp_path, capsys):
    argv = [*TOY_ARGS, "--method", "ASHA-PROM+rea", "--num_seeds", "1", "--results_dir", str(tmp_path)]
    code, _, err = cli(capsys, *argv)
    assert code == 0, err
    run = read_run(run_dir(tmp_path, "default", TOY, "ASHA-PROM+rea", 0))
    assert run.metadata["method_composition"] == {
        "scheduler": "ASHA",
        "searcher": "rea",
        "options": {"rule": "promotion"},
        "alias_of": None,
    }
    code, _, err = cli(capsys, *TOY_ARGS, "--method", "ASHA+bogus", "--results_dir", str(tmp_path))
    assert code == 2 and "unknown method 'ASHA+bogus'" in err


def test_summary_table(tmp_path, capsys):
    code, out, _ = cli(capsys, *TOY_ARGS, "--method", "ASHA", "RandomSearch", "--num_seeds", "4",
                       "--results_dir", str(tmp_path))  # fmt: skip
    assert code == 0
    lines = out.strip().splitlines()
    assert "final best error: median [25%, 75%]" in lines[2]
    assert "simulated time" in lines[2] and "decision CPU time" in lines[2]
    listing = load_results(tmp_path)
    for method, line in zip(["ASHA", "RandomSearch"], lines[3:]):
        cells = line.split()
        assert cells[:2] == [method, "4"]
        best = listing.loc[listing["method"] == method, "final_best"]
        assert float(cells[2]) == pytest.approx(best.median(), rel=1e-3)
        assert float(cells[3].strip("[,")) == pytest.approx(best.quantile(0.25), rel=1e-3)
        assert float(cells[4].strip("]")) == pytest.approx(best.quantile(0.75), rel=1e-3)
        assert float(cells[5]) == pytest.approx(40.0)


def test_registry_entry_is_used(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(BENCHMARKS, "toy-short", BenchmarkDefinition(TOY, "error", "min", 6, 2, 15.0))
    code, out, err = cli(capsys, "--benchmark", "toy-short", "--num_seeds", "1", "--results_dir", str(tmp_path))
    assert code == 0, err
    meta = read_run(run_dir(tmp_path, "default", "toy-short", "ASHA", 0)).metadata
    assert meta["settings"]["max_t"] == 6 and meta["settings"]["n_workers"] == 2
    assert meta["simulated_time_seconds"] == pytest.approx(15.0)
    assert read_run(run_dir(tmp_path, "default", "toy-short", "ASHA", 0)).results["epoch"].max() <= 6


def test_cli_in_a_subprocess(tmp_path, toy_cache):
    command = [sys.executable, "-m", "experiments.run", *TOY_ARGS, "--num_seeds", "2", "--results_dir", str(tmp_path)]
    env = subprocess_env(toy_cache)
    completed = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "2 runs: 2 run now, 0 skipped" in completed.stdout
    again = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert "2 runs: 0 run now, 2 skipped" in again.stdout
    meta = read_run(run_dir(tmp_path, "default", TOY, "ASHA", 1)).metadata
    assert meta["command_line"][3:] == command[3:]


@pytest.mark.skipif(not EMBEDDED.is_file(), reason="the embedded sklearn-mlp-digits data has not been generated")
def test_end_to_end_on_the_embedded_benchmark(tmp_path, capsys):
    code, out, err = cli(capsys, "--num_seeds", "2", "--method", "ASHA", "RandomSearch", "--results_dir", str(tmp_path))
    assert code == 0, err
    assert "benchmark sklearn-mlp-digits: metric valid_loss (min)" in out
    assert "4 runs: 4 run now, 0 skipped" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[3:]}
    assert set(rows) == {"ASHA", "RandomSearch"} and all(cells[1] == "2" for cells in rows.values())
    root = tmp_path / "default" / "sklearn-mlp-digits"
    assert sorted(p.relative_to(root).as_posix() for p in root.glob("*/*")) == [
        "ASHA/.settings.json",
        "ASHA/seed-0",
        "ASHA/seed-1",
        "RandomSearch/.settings.json",
        "RandomSearch/seed-0",
        "RandomSearch/seed-1",
    ]
    for path in root.glob("*/seed-*"):
        assert sorted(p.name for p in path.iterdir()) == [
            LOCK_FILE, VERIFIED_FILE, METADATA_FILE, RESULTS_FILE, TRIALS_FILE
        ]
        meta = json.loads((path / METADATA_FILE).read_text())
        assert meta["completed"] and 0 <= meta["final_best"] < 0.1
        budget = BENCHMARKS["sklearn-mlp-digits"].max_wallclock_time
        if meta["stop_reason"] == "max_wallclock_time":
            assert meta["simulated_time_seconds"] == pytest.approx(budget)
        else:  # a budget large enough for ASHA to exhaust the 1,280 configurations
            assert meta["stop_reason"] == "method has no more work" and meta["simulated_time_seconds"] < budget


# Errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--benchmark", "nope"], "unknown benchmark 'nope'; available: {benchmarks}"),
        (
            ["--method", "ASAH"],
            "unknown method 'ASAH'; available: {methods}, or SCHEDULER+SEARCHER (did you mean 'ASHA'?)",
        ),
        (["--method", "ASHA", "ASHA"], "--method lists 'ASHA' more than once"),
        (["--num_seeds", "0"], "--num_seeds must be an integer >= 1, got 0"),
        (["--num_seeds", "two"], "argument --num_seeds: invalid int value: 'two'"),
        (["--n_workers", "0"], "--n_workers must be an integer >= 1, got 0"),
        (["--jobs", "0"], "--jobs must be an integer >= 1, got 0"),
        (["--max_wallclock_time", "0"], "--max_wallclock_time must be a finite number > 0, got 0.0"),
        (["--max_wallclock_time", "-3"], "--max_wallclock_time must be a finite number > 0, got -3.0"),
        (["--max_wallclock_time", "nan"], "--max_wallclock_time must be a finite number > 0, got nan"),
        (["--start_seed", "-1"], "--start_seed must be an integer >= 0, got -1"),
        (["--master_random_seed", "-5"], "--master_random_seed must be an integer >= 0, got -5"),
        (["--max_results", "0"], "--max_results must be an integer >= 1, got 0"),
        (["--max_trials", "-2"], "--max_trials must be an integer >= 1, got -2"),
        (["--decision_overhead", "-1"], "--decision_overhead must be a finite number >= 0, got -1.0"),
        (["--experiment_tag", "a/b"], "--experiment_tag must be a non-empty name"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--num_seed", "2"], "unrecognized arguments: --num_seed 2"),  # no abbreviations
        (["--method"], "argument --method: expected at least one argument"),
    ],
)
def test_user_errors_are_one_line(tmp_path, capsys, argv, message):
    code, out, err = cli(capsys, *TOY_ARGS, "--results_dir", str(tmp_path / "res"), *argv)
    message = message.format(benchmarks=benchmark_summary(available_benchmarks()), methods=method_listing())
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == "" and not (tmp_path / "res").exists()


def test_no_stop_criterion_for_an_unregistered_table(tmp_path, capsys):
    code, _, err = cli(capsys, "--benchmark", TOY, "--results_dir", str(tmp_path))
    assert code == 2
    assert err == (
        "error: benchmark 'toy-table' has no default time budget; give --max_wallclock_time (simulated seconds) "
        "or another stop criterion (--max_results, --max_trials, --target_metric_value)\n"
    )
    assert (
        cli(capsys, "--benchmark", TOY, "--max_trials", "5", "--num_seeds", "1", "--results_dir", str(tmp_path))[0] == 0
    )


def test_method_constructor_errors_are_reported(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(BENCHMARKS, "toy-one-epoch", BenchmarkDefinition(TOY, max_t=1, max_wallclock_time=10.0))
    code, _, err = cli(capsys, "--benchmark", "toy-one-epoch", "--results_dir", str(tmp_path))
    assert code == 2 and err.startswith("error: ") and "max_t" in err and err.count("\n") == 1


def test_changed_settings_under_the_same_tag_are_refused(tmp_path, capsys):
    args = ["--benchmark", TOY, "--num_seeds", "1", "--results_dir", str(tmp_path)]
    assert cli(capsys, *args, "--max_wallclock_time", "30")[0] == 0
    code, _, err = cli(capsys, *args, "--max_wallclock_time", "31")
    assert code == 2 and "other settings" in err and "max_wallclock_time" in err and "--experiment_tag" in err
    assert cli(capsys, *args, "--max_wallclock_time", "31", "--experiment_tag", "longer")[0] == 0


def test_corrupt_benchmark_file_is_one_line(tmp_path, capsys, toy_cache):
    objectives = BlackboxRepository(toy_cache).path(TOY) / "objectives.npy"
    data = bytearray(objectives.read_bytes())
    data[-3] ^= 0xFF
    objectives.write_bytes(bytes(data))
    stat = objectives.stat()
    os.utime(objectives, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    code, _, err = cli(capsys, *TOY_ARGS, "--results_dir", str(tmp_path))
    assert code == 2
    assert err.startswith("error: benchmark file ") and str(objectives) in err and "corrupt" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_errors_in_a_subprocess(tmp_path, toy_cache):
    env = subprocess_env(toy_cache)
    for argv, message in [
        (["--method", "ASAH"], f"error: unknown method 'ASAH'; available: {method_listing()}"),
        (["--bogus"], "error: unrecognized arguments: --bogus"),
    ]:
        completed = subprocess.run(
            [sys.executable, "-m", "experiments.run", *argv, "--results_dir", str(tmp_path)],
            capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120,
        )  # fmt: skip
        assert completed.returncode == 2
        assert completed.stderr.startswith(message) and completed.stderr.count("\n") == 1
        assert "Traceback" not in completed.stderr and completed.stdout == ""


def test_final_best_is_finite(tmp_path):
    summary = run_experiment(TOY, ["ASHA"], num_seeds=2, max_wallclock_time=10.0, results_dir=tmp_path)
    assert all(math.isfinite(r.metadata["final_best"]) for r in summary.records)

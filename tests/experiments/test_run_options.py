"""Flags of ``experiments.run`` and what a run stores: pinned seeds, max-mode best-so-far, the restrict switch."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from blackbox_repository import BlackboxRepository
from experiments import RunSeeds, derive_seeds, load_results, read_run, run_dir
from experiments.run import build_method, load_benchmark, main, run_experiment
from experiments.store import RESULTS_FILE, TRIALS_FILE
from simulator import StopCriteria, simulate
from tests.conftest import make_table
from tests.experiments.helpers import TOY, TOY_ARGS
from tests.experiments.test_surrogate_and_restriction import SAMPLED, sampled_table, tabulated_keys


def cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# Seeds -------------------------------------------------------------------------------------------
def test_seed_derivation_is_pinned():
    assert derive_seeds(0, 0) == RunSeeds(run_seed=0, simulator_seed=3757552657, method_seed=673228719)
    assert derive_seeds(0, 1) == RunSeeds(run_seed=1, simulator_seed=1641411168, method_seed=1454127163)
    assert derive_seeds(0, 29) == RunSeeds(run_seed=29, simulator_seed=1814067574, method_seed=338108031)
    assert derive_seeds(7, 3) == RunSeeds(run_seed=10, simulator_seed=1875612636, method_seed=4061350255)


def test_the_simulator_and_the_method_get_their_own_seeds(tmp_path):
    run_experiment(TOY, ["ASHA"], num_seeds=2, max_wallclock_time=40.0, results_dir=tmp_path)
    run = read_run(run_dir(tmp_path, "default", TOY, "ASHA", 1))
    assert (run.metadata["simulator_seed"], run.metadata["method_seed"]) == (1641411168, 1454127163)
    definition, blackbox = load_benchmark(TOY)
    expected = simulate(
        blackbox,
        build_method("ASHA", blackbox, definition, seed=1454127163),
        n_workers=definition.n_workers,
        seed=1641411168,
        stop=StopCriteria(max_wallclock_time=40.0),
    )
    assert run.results["trial_id"].tolist() == expected.trial_id.tolist()
    replayed = np.asarray(blackbox.seeds)[expected.trial_seed_indices[expected.trial_id]]
    assert run.results["seed"].tolist() == replayed.tolist()
    assert run.results["time"].tolist() == expected.time.tolist()


# final_best, computed independently from the stored table -----------------------------------------
def _column(path, name):
    return pq.read_table(path / RESULTS_FILE, columns=[name]).column(name).to_pylist()


def test_final_best_of_a_min_metric_is_the_smallest_stored_value(tmp_path):
    run_experiment(TOY, ["RandomSearch", "ASHA"], num_seeds=2, max_wallclock_time=40.0, results_dir=tmp_path)
    for row in load_results(tmp_path).itertuples():
        errors = _column(row.path, "error")
        assert row.final_best == min(errors) and min(errors) < max(errors)
        best, running = [], float("inf")
        for value in errors:
            running = min(running, value)
            best.append(running)
        assert _column(row.path, "best_so_far") == best


def test_final_best_of_a_max_metric_goes_through_simulator_and_store(tmp_path, toy_cache):
    rng = np.random.default_rng(5)
    accuracy = np.sort(rng.uniform(0.1, 0.9, size=(12, 2, 4)), axis=2)  # rising curves
    BlackboxRepository(toy_cache).store(make_table(accuracy, np.ones((12, 2, 4)), name="toy-max", mode="max"))
    run_experiment("toy-max", ["RandomSearch", "ASHA"], num_seeds=3, max_wallclock_time=12.0, results_dir=tmp_path)
    listing = load_results(tmp_path)
    assert len(listing) == 6 and set(listing["mode"]) == {"max"}
    for row in listing.itertuples():
        values = _column(row.path, "error")
        assert row.final_best == max(values) and max(values) > min(values)
        best, running = [], -float("inf")
        for value in values:
            running = max(running, value)
            best.append(running)
        assert _column(row.path, "best_so_far") == best


# The restrict switch -----------------------------------------------------------------------------
def test_restrict_switch_on_a_table_without_a_definition(tmp_path, toy_cache, capsys):
    BlackboxRepository(toy_cache).store(sampled_table())
    base = ["--benchmark", SAMPLED, "--max_wallclock_time", "20", "--num_seeds", "2", "--results_dir", str(tmp_path)]
    code, _, err = cli(capsys, *base, "--method", "RandomSearch", "--experiment_tag", "plain")
    assert code == 2 and "is not tabulated" in err  # unrestricted: the table lacks the configurations drawn
    code, _, err = cli(capsys, *base, "--method", "RandomSearch", "ASHA", "--restrict_configurations")
    assert code == 0, err
    for method in ("RandomSearch", "ASHA"):
        for seed in range(2):
            path = run_dir(tmp_path, "default", SAMPLED, method, seed)
            keys = {(row["u"], row["v"]) for row in pq.read_table(path / TRIALS_FILE, columns=["u", "v"]).to_pylist()}
            assert keys and keys <= tabulated_keys()
            assert read_run(path).metadata["settings"]["restrict_configurations"] is True
    # part of the settings: the unrestricted command is refused under the same tag, before running anything
    code, out, err = cli(capsys, *base, "--method", "ASHA", "--start_seed", "5", "--num_seeds", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "restrict_configurations" in err
    assert not run_dir(tmp_path, "default", SAMPLED, "ASHA", 5).exists()


def test_restrict_switch_refuses_a_method_that_cannot_be_restricted(tmp_path, capsys):
    code, out, err = cli(capsys, *TOY_ARGS, "--method", "DEHB", "--restrict_configurations", "--results_dir",
                         str(tmp_path))  # fmt: skip
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "method 'DEHB'" in err and "cannot be restricted" in err and "--restrict_configurations" in err
    assert not (tmp_path / "default").exists()  # refused before anything is written


# Flag spellings ----------------------------------------------------------------------------------
def test_every_multi_word_flag_takes_dashes_too(tmp_path, capsys):
    code, out, err = cli(capsys, "--benchmark", TOY, "--max-wallclock-time", "40", "--num-seeds", "2",
                         "--start-seed", "1", "--experiment-tag", "dashes", "--results-dir", str(tmp_path),
                         "--master-random-seed", "3", "--n-workers", "2", "--max-results=50")  # fmt: skip
    assert code == 0, err
    listing = load_results(tmp_path, "dashes")
    assert listing["seed"].tolist() == [1, 2] and listing["run_seed"].tolist() == [4, 5]
    assert read_run(listing["path"][0]).metadata["settings"]["n_workers"] == 2
    dashed, underscored = cli(capsys, *TOY_ARGS, "--show-schedule"), cli(capsys, *TOY_ARGS, "--show_schedule")
    assert dashed == underscored and dashed[0] == 0 and "rung levels" in dashed[1]
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = capsys.readouterr().out
    for flag in ("--num_seeds", "--show_schedule", "--restrict_configurations", "--experiment_tag"):
        assert flag in help_text


# The decision clock ------------------------------------------------------------------------------
def test_runs_stored_with_the_old_decision_clock_key_still_read(tmp_path, capsys):
    import json

    args = [*TOY_ARGS, "--method", "ASHA", "--num_seeds", "2", "--results_dir", str(tmp_path)]
    assert cli(capsys, *args)[0] == 0
    path = run_dir(tmp_path, "default", TOY, "ASHA", 0)
    metadata = json.loads((path / "metadata.json").read_text())
    metadata["decision_time_seconds"] = 123.0  # as stored before the clock was CPU time
    del metadata["decision_cpu_seconds"]
    (path / "metadata.json").write_text(json.dumps(metadata))
    listing = load_results(tmp_path)
    assert listing["decision_cpu_seconds"].iloc[0] == 123.0 and listing["decision_cpu_seconds"].iloc[1] < 1
    code, out, err = cli(capsys, *args)  # resumed: both skipped, the summary reads both kinds
    assert code == 0, err
    header, row = out.strip().splitlines()[-2:]
    assert "decision CPU time per run (s, mean)" in header and float(row.split()[-1]) > 60


def test_start_at_random_skips_the_midpoint_and_is_part_of_the_settings(tmp_path, capsys):
    definition, blackbox = load_benchmark(TOY)
    midpoint = blackbox.space.midpoint()
    for flags, first_is_midpoint in (([], True), (["--start_at_random"], False)):
        results = tmp_path / ("random" if flags else "midpoint")
        code, _, err = cli(capsys, *TOY_ARGS, "--method", "RandomSearch", "ASHA", "--num_seeds", "2",
                           "--results_dir", str(results), *flags)  # fmt: skip
        assert code == 0, err
        for method in ("RandomSearch", "ASHA"):
            for seed in range(2):
                run = read_run(run_dir(results, "default", TOY, method, seed))
                first = run.trials.iloc[0][blackbox.space.names].to_dict()
                assert (first == midpoint) is first_is_midpoint, (method, seed, first)
                assert run.metadata["settings"].get("start_at_random", False) is not first_is_midpoint
    code, _, err = cli(capsys, *TOY_ARGS, "--method", "ASHA", "--num_seeds", "2", "--results_dir",
                       str(tmp_path / "midpoint"), "--start_at_random")  # fmt: skip
    assert code == 2 and "start_at_random" in err  # other settings under the same tag are refused

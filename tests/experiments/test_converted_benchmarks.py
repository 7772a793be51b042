"""A converted NASBench-201 file runs through experiments: registered defaults, missing seeds never replayed."""

from __future__ import annotations

import dataclasses

import numpy as np

from blackbox_repository import BlackboxRepository
from blackbox_repository.convert import convert_into
from experiments import BENCHMARKS, read_run, run_dir
from experiments.run import run_experiment
from tests.blackbox_repository.source_builders import NATS_ARCHS, nats_data, write_nats


def test_nas201_from_a_local_copy_runs_with_its_registered_defaults(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    source = write_nats(tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2")
    convert_into("nas201-cifar100", source, repository=BlackboxRepository(cache), progress=False)
    # the small file holds a handful of cells of the 15,625-cell space: methods must draw from the table
    definition = dataclasses.replace(BENCHMARKS["nas201-cifar100"], restrict_configurations=True)
    monkeypatch.setitem(BENCHMARKS, "nas201-cifar100", definition)
    run_experiment("nas201-cifar100", ["RandomSearch", "ASHA"], num_seeds=3, results_dir=tmp_path / "results",
                   cache_dir=cache, max_trials=len(NATS_ARCHS))
    blackbox = BlackboxRepository(cache).load("nas201-cifar100")
    data = nats_data()
    seeds_with_data = {
        tuple(blackbox.config(arch).values()): {
            seed for seed in (777, 888, 999) if ("cifar100", seed) in data["arch2infos"][arch]["200"]["all_results"]
        }
        for arch in range(len(NATS_ARCHS))
    }
    assert any(len(seeds) < 3 for seeds in seeds_with_data.values())  # the file lacks some runs
    for method in ("RandomSearch", "ASHA"):
        for seed in range(3):
            run = read_run(run_dir(tmp_path / "results", "default", "nas201-cifar100", method, seed))
            assert run.metadata["settings"]["n_workers"] == 4 and run.metadata["settings"]["max_t"] == 200
            for trial in run.trials.itertuples(index=False):
                key = tuple(getattr(trial, f"hp_x{i}") for i in range(6))
                assert trial.seed in seeds_with_data[key]  # a missing run is never replayed
            assert np.isfinite(run.results["valid_error"]).all()

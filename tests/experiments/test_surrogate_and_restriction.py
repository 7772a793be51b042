"""Benchmark definitions with a surrogate or restricted to the tabulated configurations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import Blackbox, BlackboxRepository, Objective
from experiments import BENCHMARKS, BenchmarkDefinition, ExperimentError, read_run, run_dir
from experiments.run import load_benchmark, run_experiment
from searchspace import Float, SearchSpace
from simulator import SimulationError

SAMPLED = "toy-sampled"


def sampled_table() -> Blackbox:
    """40 random samples of a continuous space (like LCBench), 1 seed, 6 epochs."""
    rng = np.random.default_rng(7)
    space = SearchSpace({"u": Float(0.0, 1.0), "v": Float(1e-3, 1.0, log=True)})
    configs = pd.DataFrame(space.sample_many(rng, 40))
    epochs = np.arange(1, 7)
    error = (configs["u"].to_numpy()[:, None, None] - 0.5) ** 2 + 1 / epochs + np.zeros((40, 1, 6))
    runtime = np.ones_like(error)
    return Blackbox(
        name=SAMPLED,
        space=space,
        configs=configs,
        fidelities=epochs,
        seeds=np.array([0]),
        objectives=np.stack([error, runtime, np.cumsum(runtime, axis=2)], axis=-1),
        objective_info=[Objective("error", "min"), Objective("runtime"), Objective("elapsed_time")],
        metric="error",
    )


@pytest.fixture
def registered(toy_cache, monkeypatch):
    BlackboxRepository(toy_cache).store(sampled_table())
    base = BenchmarkDefinition(SAMPLED, "error", "min", 6, 2, 20.0)
    monkeypatch.setitem(BENCHMARKS, "sampled-knn", BenchmarkDefinition(
        SAMPLED, "error", "min", 6, 2, 20.0, surrogate="knn", surrogate_kwargs={"n_neighbors": 1}))
    monkeypatch.setitem(BENCHMARKS, "sampled-restricted", BenchmarkDefinition(
        SAMPLED, "error", "min", 6, 2, 20.0, restrict_configurations=True))
    monkeypatch.setitem(BENCHMARKS, "sampled-plain", base)
    return toy_cache


def tabulated_keys():
    table = sampled_table()
    return {tuple(row) for row in table.configs.itertuples(index=False)}


@pytest.mark.parametrize("method", ["RandomSearch", "ASHA"])
def test_restricted_runs_use_only_tabulated_configurations(registered, tmp_path, method):
    run_experiment("sampled-restricted", [method], num_seeds=2, results_dir=tmp_path, cache_dir=registered)
    for seed in range(2):
        run = read_run(run_dir(tmp_path, "default", "sampled-restricted", method, seed))
        keys = {tuple(row) for row in run.trials[["u", "v"]].itertuples(index=False)}
        assert keys <= tabulated_keys()
        assert run.metadata["settings"]["restrict_configurations"] is True


def test_knn_surrogate_runs_any_configuration_with_real_curves(registered, tmp_path):
    run_experiment("sampled-knn", ["RandomSearch"], num_seeds=1, results_dir=tmp_path, cache_dir=registered)
    run = read_run(run_dir(tmp_path, "default", "sampled-knn", "RandomSearch", 0))
    keys = {tuple(row) for row in run.trials[["u", "v"]].itertuples(index=False)}
    assert not keys & tabulated_keys()  # fresh random configurations...
    table_errors = set(np.round(sampled_table().objectives[:, 0, :, 0].ravel(), 12))
    assert set(np.round(run.results["error"], 12)) <= table_errors  # ...replaying measured curves
    assert run.metadata["settings"]["surrogate"] == "knn"


def test_plain_sampled_table_rejects_configurations_it_lacks(registered, tmp_path):
    with pytest.raises(SimulationError, match="is not tabulated in benchmark 'toy-sampled'; restrict the searcher"):
        run_experiment("sampled-plain", ["RandomSearch"], num_seeds=1, results_dir=tmp_path, cache_dir=registered)


def test_definition_errors(registered):
    with pytest.raises(ExperimentError, match="either a surrogate or restrict_configurations"):
        BenchmarkDefinition(SAMPLED, surrogate="knn", restrict_configurations=True)
    with pytest.raises(ExperimentError, match="unknown surrogate 'gp'"):
        BenchmarkDefinition(SAMPLED, surrogate="gp")
    definition, blackbox = load_benchmark("sampled-knn", BlackboxRepository(registered))
    assert blackbox.name == f"{SAMPLED}+knn" and definition.max_t == 6


def test_a_method_that_cannot_be_restricted_says_so(registered, tmp_path):
    expected = r"method 'DEHB' \(DEHB scheduler \+ random searcher\) cannot be restricted to tabulated configurations"
    with pytest.raises(ExperimentError, match=expected):
        run_experiment("sampled-restricted", ["DEHB"], num_seeds=1, results_dir=tmp_path, cache_dir=registered)

"""Leave-one-task-out transfer data: the families, seed means of tables, a shared sample of a YAHPO scenario, the
target never among its own transfer tasks, and the disk cache."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxRepository
from experiments import transfer
from experiments.benchmarks import BenchmarkDefinition
from experiments.errors import ExperimentError
from experiments.run_task import load_benchmark
from experiments.transfer import load_transfer_tasks, source_tasks
from tests.blackbox_repository.conftest import yahpo_data  # noqa: F401 (fixture)
from tests.conftest import make_table

#: the shared YAHPO data as $HPO_YAHPO_DATA (skipped without it, a failure in CI)
needs_yahpo_lcbench = pytest.mark.usefixtures("yahpo_data")


def test_table_families_are_the_other_tasks_on_the_same_space():
    assert source_tasks("nas201-cifar10") == ["nas201-cifar100", "nas201-ImageNet16-120"]
    assert source_tasks("nas201-ImageNet16-120") == ["nas201-cifar10", "nas201-cifar100"]
    assert source_tasks("fcnet-naval") == ["fcnet-protein", "fcnet-parkinsons", "fcnet-slice"]
    lcbench = source_tasks("lcbench-Fashion-MNIST")
    assert len(lcbench) == 34 and "lcbench-Fashion-MNIST" not in lcbench and "lcbench-airlines" in lcbench
    restricted = source_tasks("lcbench-Fashion-MNIST-restricted")
    assert restricted == [f"{name}-restricted" for name in lcbench]
    assert source_tasks("nas201-cifar10-mo") == ["nas201-cifar100-mo", "nas201-ImageNet16-120-mo"]


@pytest.mark.parametrize("name", ["sklearn-mlp-digits", "toy-table", "nas201-cifar1000", "lcbench-"])
def test_a_benchmark_without_a_family_is_refused_in_one_line(name):
    with pytest.raises(ExperimentError, match="no family") as error:
        source_tasks(name)
    assert "\n" not in str(error.value)


@needs_yahpo_lcbench
def test_yahpo_sources_are_the_other_instances_of_the_scenario():
    sources = source_tasks("yahpo-lcbench-3945")
    assert len(sources) == 33 and "yahpo-lcbench-3945" not in sources and "yahpo-lcbench-7593" in sources
    with pytest.raises(ExperimentError, match="no instance"):
        source_tasks("yahpo-lcbench-1")


# Tables ----------------------------------------------------------------------------------------
def store_nas201_tables(cache: Path) -> dict[str, np.ndarray]:
    """Three 4-configuration tables named like the NAS201 family (2 seeds, 4 epochs), each with its own values."""
    repository = BlackboxRepository(cache)
    metrics = {}
    for offset, dataset in enumerate(["cifar10", "cifar100", "ImageNet16-120"]):
        metric = np.arange(4 * 2 * 4, dtype=float).reshape(4, 2, 4) + 100 * offset
        metric[1, 0, :] = np.nan  # configuration 1 lacks seed 0
        metric[2, :, :] = np.nan  # configuration 2 has no data at all
        name = f"nas201-{dataset}"
        repository.store(make_table(metric, np.ones_like(metric), name=name))
        metrics[name] = metric
    return metrics


DEFINITION = BenchmarkDefinition(blackbox="nas201-cifar10", metric="error", mode="min", max_t=3)


def test_table_tasks_are_seed_means_of_every_configuration_and_leave_the_target_out(toy_cache):
    metrics = store_nas201_tables(toy_cache)
    tasks, metadata = load_transfer_tasks("nas201-cifar10", DEFINITION, BlackboxRepository(toy_cache), progress=False)
    assert [task.name for task in tasks] == ["nas201-cifar100", "nas201-ImageNet16-120"]
    cifar100 = tasks[0]
    assert cifar100.configs == [{"x": 0}, {"x": 1}, {"x": 2}, {"x": 3}] and cifar100.mode == "min"
    metric = metrics["nas201-cifar100"]
    assert cifar100.values.shape == (4, 3)
    np.testing.assert_array_equal(cifar100.values[0], (metric[0, 0, :3] + metric[0, 1, :3]) / 2)
    np.testing.assert_array_equal(cifar100.values[1], metric[1, 1, :3])  # the one seed with data
    assert np.isnan(cifar100.values[2]).all()
    target = metrics["nas201-cifar10"]
    assert all(np.all(task.values[0] != target[0, :, :3].mean(axis=0)) for task in tasks)
    assert metadata == {
        "protocol": "leave-one-task-out",
        "target": "nas201-cifar10",
        "source_tasks": ["nas201-cifar100", "nas201-ImageNet16-120"],
        "configs_per_task": 4,
        "metric": "error",
        "mode": "min",
        "max_t": 3,
        "config_sample_seed": None,
        "cache_key": metadata["cache_key"],
    }


def test_built_tasks_are_cached_and_rebuilt_only_for_other_settings(toy_cache, monkeypatch):
    store_nas201_tables(toy_cache)
    repository = BlackboxRepository(toy_cache)
    tasks, metadata = load_transfer_tasks("nas201-cifar10", DEFINITION, repository, progress=False)
    assert list((toy_cache / "transfer").glob("*.npz"))

    def refuse(*args, **kwargs):
        raise AssertionError("built again")

    monkeypatch.setattr(transfer, "build_task", refuse)
    cached, again = load_transfer_tasks("nas201-cifar10", DEFINITION, repository, progress=False)
    assert again == metadata
    for task, copy in zip(tasks, cached):
        assert (task.name, task.configs, task.mode) == (copy.name, copy.configs, copy.mode)
        np.testing.assert_array_equal(task.values, copy.values)
    with pytest.raises(AssertionError, match="built again"):  # another max_t is another transfer set
        load_transfer_tasks("nas201-cifar10", dataclasses.replace(DEFINITION, max_t=2), repository, progress=False)


# YAHPO ------------------------------------------------------------------------------------------
@needs_yahpo_lcbench
def test_yahpo_tasks_share_one_sample_and_never_hold_the_target(toy_cache):
    repository = BlackboxRepository(toy_cache)
    definition, target = load_benchmark("yahpo-lcbench-3945", repository)
    definition = dataclasses.replace(definition, max_t=3)
    tasks, metadata = load_transfer_tasks(
        "yahpo-lcbench-3945", definition, repository, max_configs=8, seed=5, progress=False
    )
    assert len(tasks) == 33 and all(task.name != "yahpo-lcbench-3945" for task in tasks)
    assert all(task.configs == tasks[0].configs for task in tasks) and len(tasks[0].configs) == 8
    assert metadata["configs_per_task"] == 8 and metadata["config_sample_seed"] == 5
    assert all(task.mode == "max" and task.values.shape == (8, 3) for task in tasks)
    frame = pd.DataFrame(tasks[0].configs)
    own = [
        target.evaluate(frame, np.full(8, float(epoch)))[:, target.objective_index("val_accuracy")]
        for epoch in (1, 2, 3)
    ]
    own = np.stack(own, axis=1)
    assert not any(np.allclose(task.values, own) for task in tasks)  # the target's values are in no task
    source = repository.load(tasks[0].name)
    theirs = source.evaluate(frame, np.full(8, 3.0))[:, source.objective_index("val_accuracy")]
    np.testing.assert_allclose(tasks[0].values[:, 2], theirs)

"""Benchmarks with several objectives or a constraint: the definitions, what methods receive, what runs store."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from blackbox_repository import BlackboxRepository
from experiments.benchmarks import BenchmarkDefinition, get_benchmark
from experiments.errors import ExperimentError
from experiments.run import main
from experiments.run_task import build_method, load_benchmark
from tests.blackbox_repository.conftest import yahpo_data  # noqa: F401 (fixture)


def test_the_mo_variant_adds_the_family_second_objective_and_its_mode():
    definition, _ = load_benchmark("sklearn-mlp-digits-mo")
    assert definition.objectives == ("valid_error", "elapsed_time") and definition.modes == ("min", "min")
    assert definition.method_problem() == {"metric": ["valid_error", "elapsed_time"], "mode": ["min", "min"]}
    other, _ = load_benchmark("sklearn-mlp-digits-mo-test_error")
    assert other.objectives == ("valid_loss", "test_error")


def test_a_list_of_metrics_and_modes_is_a_multi_objective_definition():
    definition = BenchmarkDefinition("sklearn-mlp-digits", metric=["valid_loss", "runtime"], mode=["min", "min"])
    assert definition.metric == "valid_loss" and definition.more_objectives == ("runtime",)
    _, blackbox = load_benchmark("sklearn-mlp-digits")
    assert definition.resolve(blackbox).modes == ("min", "min")
    with pytest.raises(ExperimentError, match="says mode 'max' for 'valid_error'"):
        BenchmarkDefinition("sklearn-mlp-digits", metric=["valid_loss", "valid_error"], mode=["min", "max"]).resolve(
            blackbox
        )


def test_an_unknown_objective_is_named_with_the_ones_there_are():
    with pytest.raises(ExperimentError, match="no objective 'latency'.*valid_loss"):
        load_benchmark("sklearn-mlp-digits-mo-latency")


def test_the_constraint_threshold_is_the_median_training_time_over_the_table():
    definition, blackbox = load_benchmark("sklearn-mlp-digits-constrained")
    assert definition.objectives == ("valid_loss",) and definition.constraint.metric == "elapsed_time"
    index = blackbox.objective_index("elapsed_time")
    first_seed = np.array(
        [blackbox.objectives[row, blackbox.row_seed_indices(row)[0], -1, index] for row in range(blackbox.num_configs)]
    )
    assert definition.constraint.threshold == pytest.approx(np.median(first_seed), rel=0, abs=0)


def test_methods_get_every_objective_and_the_constraint_they_take():
    definition, blackbox = load_benchmark("sklearn-mlp-digits-mo")
    scheduler = build_method("ASHA", blackbox, definition, seed=0)
    assert scheduler.metrics == ("valid_error", "elapsed_time") and scheduler.metric == "valid_error"
    constrained, blackbox = load_benchmark("sklearn-mlp-digits-constrained")
    bo = build_method("ConstrainedBayesianOptimization", blackbox, constrained, seed=0)
    assert bo.searcher.constraint_attr == "elapsed_time"
    assert bo.searcher.constraint_threshold == constrained.constraint.threshold


def test_single_objective_definitions_store_what_they_stored_before():
    definition, _ = load_benchmark("sklearn-mlp-digits")
    assert set(definition.to_json()) == {
        "blackbox", "metric", "mode", "max_t", "n_workers", "max_wallclock_time", "description", "surrogate",
        "surrogate_kwargs", "restrict_configurations",
    }  # fmt: skip


def test_runs_store_objectives_modes_constraint_and_a_fixed_reference_point(tmp_path, monkeypatch):
    from experiments import benchmarks

    fixed = dataclasses.replace(get_benchmark("sklearn-mlp-digits-mo"), reference_point=(1.0, 20.0))
    monkeypatch.setitem(benchmarks.BENCHMARKS, "digits-mo-fixed", fixed)
    for name in ("digits-mo-fixed", "sklearn-mlp-digits-constrained"):
        arguments = ["--benchmark", name, "--method", "RandomSearch", "--num_seeds", "1"]
        assert main([*arguments, "--results_dir", str(tmp_path), "--max_wallclock_time", "2"]) == 0
    mo = json.loads((tmp_path / "default/digits-mo-fixed/RandomSearch/seed-0/metadata.json").read_text())
    assert mo["objectives"] == ["valid_error", "elapsed_time"] and mo["modes"] == ["min", "min"]
    assert mo["reference_point"] == [1.0, 20.0] and mo["settings"]["objectives"] == mo["objectives"]
    constrained = json.loads(
        (tmp_path / "default/sklearn-mlp-digits-constrained/RandomSearch/seed-0/metadata.json").read_text()
    )
    assert constrained["objectives"] == ["valid_loss"]
    assert constrained["constraint"]["metric"] == "elapsed_time" and constrained["constraint"]["threshold"] > 0


@pytest.mark.usefixtures("yahpo_data")
def test_yahpo_variants_use_the_scenario_objectives():
    repository = BlackboxRepository()
    lcbench, _ = load_benchmark("yahpo-lcbench-3945-mo", repository)
    assert lcbench.objectives == ("val_accuracy", "elapsed_time") and lcbench.modes == ("max", "min")
    rbv2, _ = load_benchmark("yahpo-rbv2_xgboost-40981-mo", repository)
    assert rbv2.objectives == ("acc", "memory") and rbv2.modes == ("max", "min")

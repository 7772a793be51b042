"""Paired seeds and the benchmark registry."""

from __future__ import annotations

import dataclasses

import pytest

from blackbox_repository import BlackboxRepository
from experiments import BENCHMARKS, BenchmarkDefinition, ExperimentError, derive_seeds, get_benchmark, run_seed
from experiments.benchmarks import SKLEARN_MLP_DIGITS_MAX_WALLCLOCK_TIME, available_benchmarks, benchmark_summary
from tests.experiments.helpers import TOY, make_toy_blackbox


def test_run_seed_formula():
    assert run_seed(0, 0) == 0
    assert run_seed(7, 5) == 12
    assert run_seed(2**31 - 2, 3) == 2  # wraps modulo 2**31 - 1
    assert run_seed(2**31 - 1, 0) == 0


def test_derived_seeds_are_deterministic_and_independent():
    a, b = derive_seeds(3, 4), derive_seeds(3, 4)
    assert a == b
    assert a.run_seed == 7
    assert a.simulator_seed != a.method_seed
    assert derive_seeds(0, 7) == a  # only the run seed matters
    others = {derive_seeds(0, s).simulator_seed for s in range(50)}
    assert len(others) == 50


def test_registered_default_benchmark():
    definition = BENCHMARKS["sklearn-mlp-digits"]
    assert (definition.blackbox, definition.metric, definition.mode, definition.n_workers) == (
        "sklearn-mlp-digits",
        "valid_loss",
        "min",
        4,
    )
    assert definition.max_t is None
    assert definition.max_wallclock_time == SKLEARN_MLP_DIGITS_MAX_WALLCLOCK_TIME > 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        definition.n_workers = 8  # type: ignore[misc]


def test_repository_blackbox_gets_defaults():
    definition = get_benchmark(TOY)
    assert definition.blackbox == TOY
    assert definition.max_wallclock_time is None
    resolved = definition.resolve(make_toy_blackbox())
    assert (resolved.metric, resolved.mode, resolved.max_t, resolved.n_workers) == ("error", "min", 9, 4)
    assert TOY in available_benchmarks(BlackboxRepository())


def test_unknown_benchmark_lists_names():
    with pytest.raises(ExperimentError, match=r"unknown benchmark 'nope'; available: .*sklearn-mlp-digits.*toy-table"):
        get_benchmark("nope")


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (BenchmarkDefinition(TOY, "runtime"), "has no mode"),
        (BenchmarkDefinition(TOY, "accuracy"), "has no objective 'accuracy'"),
        (BenchmarkDefinition(TOY, "error", "max"), "says mode 'max'"),
        (BenchmarkDefinition(TOY, max_t=10), "max_t must be between 1 and 9"),
    ],
)
def test_resolve_checks_against_the_blackbox(definition, message):
    with pytest.raises(ExperimentError, match=message):
        definition.resolve(make_toy_blackbox())


def test_unknown_benchmark_suggests_close_names_and_lists_families_briefly():
    with pytest.raises(ExperimentError) as error:
        get_benchmark("nas201-cifar1O")
    message = str(error.value)
    assert message.startswith(
        "unknown benchmark 'nas201-cifar1O'; did you mean 'nas201-cifar10' or 'nas201-cifar100'? available: "
    )
    assert "lcbench-<dataset> (35)" in message and "lcbench-<dataset>-restricted (35)" in message
    assert "nas201-<dataset> (3)" in message and "fcnet-<dataset> (4)" in message
    assert "yahpo-<scenario>-<instance>" in message and "lcbench-Fashion-MNIST" not in message
    assert len(message) < 400 and "\n" not in message


def test_benchmark_summary_lists_other_names_up_to_a_limit():
    names = [f"mine-{i:02d}" for i in range(15)] + ["nas201-cifar10"]
    summary = benchmark_summary(names)
    assert summary == ", ".join([f"mine-{i:02d}" for i in range(12)] + ["... 3 more", "nas201-cifar10"])

"""The table exporter: one row per (configuration, seed) with the metric at a fidelity, checked against the blackbox."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxBase, BlackboxRepository, Objective
from experiments import table_data
from experiments.cli import underscored
from searchspace import Categorical, Float, SearchSpace

BENCHMARK = "sklearn-mlp-digits"


@pytest.fixture(scope="module")
def digits() -> Any:
    return BlackboxRepository().load(BENCHMARK)


def test_the_embedded_benchmark_exports_every_configuration_and_seed(tmp_path, digits, capsys):
    out = tmp_path / "digits.parquet"
    assert table_data.main([BENCHMARK, "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip() == (
        f"{out}: 3840 rows = 1280 tabulated configurations x 3 seed(s); valid_loss (min) at epoch 30 of 30"
    )
    frame = pd.read_parquet(out)
    names = digits.space.names
    assert list(frame.columns) == ["config_id", *names, "seed", "valid_loss"] and len(frame) == 1280 * 3
    metric = digits.objective_index("valid_loss")
    rows = frame["config_id"].to_numpy()
    seeds = frame["seed"].to_numpy()
    np.testing.assert_array_equal(frame["valid_loss"], digits.objectives[rows, seeds, 29, metric])
    pd.testing.assert_frame_equal(frame.loc[frame["seed"] == 2, names].reset_index(drop=True), digits.configs)
    info = table_data.read_info(out)
    assert (info.benchmark, info.metric, info.mode, info.fidelity_name, info.fidelity, info.max_t) == (
        BENCHMARK,
        "valid_loss",
        "min",
        "epoch",
        30,
        30,
    )
    assert info.hyperparameters == names and info.source == "table" and info.seeds == [0, 1, 2] and info.dropped == 0


def test_another_fidelity_and_metric_with_the_dash_spelling(tmp_path, digits, capsys):
    out = tmp_path / "early.parquet"
    assert table_data.main([BENCHMARK, "--output", str(out), "--fidelity", "5", "--metric", "valid_error"]) == 0
    capsys.readouterr()
    frame = pd.read_parquet(out)
    expected = digits.objectives[frame["config_id"], frame["seed"], 4, digits.objective_index("valid_error")]
    np.testing.assert_array_equal(frame["valid_error"], expected)
    assert table_data.read_info(out).fidelity == 5
    assert underscored(["--num-configs"]) == ["--num_configs"]  # what main applies to its arguments
    assert underscored(["--sample-seed=3"]) == ["--sample_seed=3"]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--fidelity", "31"], "--fidelity must be between 1 and 30, got 31"),
        (["--metric", "runtime"], "objective 'runtime' of sklearn-mlp-digits has no mode"),
        (["--num_configs", "0"], "--num_configs must be at least 1"),
    ],
)
def test_bad_options_are_one_line(tmp_path, capsys, arguments, expected):
    assert table_data.main([BENCHMARK, "--output", str(tmp_path / "x.parquet"), *arguments]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
    assert not (tmp_path / "x.parquet").exists()


def test_an_unknown_benchmark_is_one_line(tmp_path, capsys):
    assert table_data.main(["no-such-benchmark", "--output", str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown benchmark 'no-such-benchmark'" in err


class _Formula(BlackboxBase):
    """A benchmark without a table: metric = (x - 0.3)^2 + [c == "b"] + seed / 10, the same at every epoch."""

    def __init__(self) -> None:
        self.name = "formula"
        self.space = SearchSpace({"x": Float(0.0, 1.0), "c": Categorical(("a", "b"))})
        self.fidelities = np.arange(1, 5)
        self.seeds = np.array([0, 1])
        self.objective_info = (Objective("loss", "min"), Objective("elapsed_time", None, "s"))
        self.metric = "loss"
        self.runtime_objective = None
        self.elapsed_objective = "elapsed_time"
        self.fidelity_name = "epoch"
        self.metadata = {}

    def curve(self, config: Mapping[str, Any], seed_index: int) -> np.ndarray:
        value = (config["x"] - 0.3) ** 2 + (config["c"] == "b") + seed_index / 10
        return np.column_stack([np.full(4, value), np.arange(1.0, 5.0)])


def test_a_benchmark_without_a_table_is_sampled_with_a_fixed_seed():
    blackbox = _Formula()
    options = {"benchmark": "formula", "metric": "loss", "mode": "min", "fidelity": 4, "max_t": 4, "progress": False}
    frame, info = table_data.export_blackbox(blackbox, num_configs=50, sample_seed=3, **options)
    assert len(frame) == 100 and info.source == "sample" and info.num_configs == 50 and info.sample_seed == 3
    expected = (frame["x"] - 0.3) ** 2 + (frame["c"] == "b") + frame["seed"] / 10
    np.testing.assert_allclose(frame["loss"], expected)
    again, _ = table_data.export_blackbox(blackbox, num_configs=50, sample_seed=3, **options)
    pd.testing.assert_frame_equal(frame, again)
    other, _ = table_data.export_blackbox(blackbox, num_configs=50, sample_seed=4, **options)
    assert not np.allclose(frame["x"], other["x"])

"""YAHPO surrogates: reference outputs, spaces and conditions, curves, instances and clear errors.

Uses the shared copy of yahpo_data (``$HPO_SHARED_DIR/yahpo_data``, default ``<repo>/../shared``); never
downloads.
"""

from __future__ import annotations

import platform
import shutil

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxError
from blackbox_repository.yahpo import (
    YAHPO_SCENARIOS,
    YahpoScenario,
    is_yahpo_name,
    load_yahpo,
    parse_yahpo_name,
    yahpo_instances,
)
from blackbox_repository.yahpo.config_space import documented_bound
from blackbox_repository.yahpo.scenarios import SCENARIOS
from searchspace import Float, Integer, SearchSpaceError
from tests.blackbox_repository.conftest import SHARED

REFERENCE_SCENARIOS = ("lcbench", "iaml_glmnet", "rbv2_rpart", "rbv2_xgboost")


pytestmark = pytest.mark.usefixtures("yahpo_data")


def reference(scenario: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(SHARED / "docs" / f"yahpo_reference_{scenario}.csv")
    outputs = [column for column in frame.columns if column.startswith("y:")]
    return frame.drop(columns=outputs), frame[outputs]


@pytest.mark.parametrize("scenario", REFERENCE_SCENARIOS)
def test_outputs_equal_the_reference_implementation(scenario):
    inputs, expected = reference(scenario)
    predicted = YahpoScenario.load(scenario).predict(inputs)
    assert [f"y:{name}" for name in predicted.columns] == list(expected.columns)
    got, want = predicted.to_numpy(), expected.to_numpy()
    scale = np.maximum(np.abs(want).max(axis=0), 1e-30)
    # float32 precision relative to each value, or to its column's scale for values near 0
    np.testing.assert_allclose(got / scale, want / scale, rtol=1e-6, atol=1e-6)
    if platform.machine().lower() in ("x86_64", "amd64"):
        # onnxruntime's x86-64 kernels, fed batches padded to whole row blocks, reproduce every bit
        np.testing.assert_array_equal(got.astype(np.float32), want.astype(np.float32))


def test_a_row_gets_the_same_output_alone_or_in_any_batch():
    inputs, _ = reference("rbv2_xgboost")
    scenario = YahpoScenario.load("rbv2_xgboost")
    batch = scenario.predict_array(inputs)
    alone = np.concatenate([scenario.predict_array(inputs.iloc[i : i + 1]) for i in range(0, 100, 9)])
    np.testing.assert_array_equal(alone, batch[::9])
    shuffled = np.random.default_rng(0).permutation(len(inputs))[:37]
    np.testing.assert_array_equal(scenario.predict_array(inputs.iloc[shuffled]), batch[shuffled])


def test_rbv2_xgboost_space_conditions_and_fidelities():
    bb = load_yahpo("yahpo-rbv2_xgboost-1040")
    assert {"task_id", "trainsize", "repl"}.isdisjoint(bb.space.names)
    assert bb.space["nrounds"] == Integer(7, 2981, log=True)
    assert isinstance(bb.space["eta"], Float) and bb.space["eta"].log
    config = {name: None for name in bb.space}
    config.update(booster="gblinear", alpha=1.0, **{"lambda": 1.0}, nrounds=100, subsample=0.5)
    config["num.impute.selected.cpo"] = "impute.mean"
    assert not bb.space.is_active("rate_drop", config) and not bb.space.is_active("eta", config)
    assert bb.space.is_active("eta", {**config, "booster": "gbtree"})
    assert not bb.space.is_active("rate_drop", {**config, "booster": "gbtree"})
    assert bb.space.is_active("rate_drop", {**config, "booster": "dart"})
    bb.space.validate(config)
    assert bb.fidelities.tolist() == list(range(1, 8))
    assert bb.metadata["fidelity_values"] == [0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert bb.metadata["fixed"] == {"repl": 10}
    assert (bb.metric, bb.mode, bb.fidelity_name) == ("acc", "max", "trainsize_level")
    assert bb.objective_names[:9] == list(SCENARIOS["rbv2_xgboost"].y_names)
    assert bb.objective_names[9:] == ["runtime", "elapsed_time"]
    assert (bb.runtime_objective, bb.elapsed_objective) == ("runtime", "elapsed_time")
    assert bb.seeds.tolist() == [0]


def test_lcbench_curve_has_a_monotone_elapsed_time_and_matches_evaluate():
    bb = load_yahpo("yahpo-lcbench-3945")
    assert bb.fidelities.tolist() == list(range(1, 53)) and bb.fidelity_name == "epoch"
    assert (bb.metric, bb.mode, bb.runtime_objective, bb.elapsed_objective) == ("val_accuracy", "max", None,
                                                                                  "elapsed_time")
    assert "time" not in bb.objective_names  # the simulator reserves it: renamed surrogate_time
    configs = bb.space.sample_many(np.random.default_rng(0), 5)
    for config in configs:
        curve = bb.curve(config, 0)
        assert curve.shape == (52, len(bb.objective_names)) and curve.dtype == np.float64
        elapsed = curve[:, bb.objective_index("elapsed_time")]
        assert np.all(np.diff(elapsed) >= 0) and elapsed[0] >= 0
        np.testing.assert_array_equal(elapsed, np.maximum.accumulate(curve[:, bb.objective_index("surrogate_time")]))
    frame = pd.DataFrame(configs)
    epochs = np.array([1, 10, 26, 40, 52])
    values = bb.evaluate(frame, epochs)
    for row, (config, epoch) in enumerate(zip(configs, epochs)):
        np.testing.assert_array_equal(values[row, :6], bb.curve(config, 0)[epoch - 1, :6])
    assert np.isnan(values[:, bb.objective_index("elapsed_time")]).all()


def test_trainsize_curve_replays_the_levels_and_evaluate_takes_any_trainsize():
    bb = load_yahpo("yahpo-rbv2_xgboost-1040")
    configs = bb.space.sample_many(np.random.default_rng(3), 4)
    for config in configs:
        curve = bb.curve(config, 0)
        assert curve.shape == (7, 11)
        runtime = curve[:, bb.objective_index("runtime")]
        np.testing.assert_array_equal(runtime, np.maximum(curve[:, bb.objective_index("timetrain")], 0))
        np.testing.assert_allclose(curve[:, bb.objective_index("elapsed_time")], np.cumsum(runtime))
    frame = pd.DataFrame(configs)
    at_level_4 = bb.evaluate(frame, np.full(4, 0.4))
    for row, config in enumerate(configs):
        np.testing.assert_array_equal(at_level_4[row, :10], bb.curve(config, 0)[3, :10])
    between = bb.evaluate(frame, np.array([0.03, 0.33, 0.545, 0.99]))
    assert np.isfinite(between[:, :10]).all() and not np.array_equal(between, at_level_4)


def test_the_instance_changes_the_outputs():
    first, second = load_yahpo("yahpo-lcbench-3945"), load_yahpo("yahpo-lcbench-7593")
    config = first.space.sample(np.random.default_rng(4))
    assert not np.allclose(first.curve(config, 0), second.curve(config, 0))
    assert first.scenario is second.scenario  # one session per scenario


def test_names_scenarios_and_instances():
    assert len(YAHPO_SCENARIOS) == 14 and {"lcbench", "nb301", "rbv2_super", "iaml_super"} <= set(YAHPO_SCENARIOS)
    assert is_yahpo_name("yahpo-lcbench-3945") and not is_yahpo_name("nas201-cifar10")
    assert parse_yahpo_name("yahpo-rbv2_xgboost-1040") == ("rbv2_xgboost", "1040")
    assert parse_yahpo_name("yahpo-lcbench") == ("lcbench", None)
    instances = yahpo_instances("lcbench")
    assert len(instances) == 34 and instances[0] == "3945"
    assert yahpo_instances("nb301") == ["CIFAR10"]


@pytest.mark.parametrize("scenario", YAHPO_SCENARIOS)
def test_every_scenario_space_parses(scenario):
    loaded = YahpoScenario.load(scenario)
    facts = loaded.facts
    excluded = set(facts.fidelity_params) | {facts.instance_name}
    assert set(loaded.space.names) == set(facts.hp_names) - excluded
    for config in loaded.space.sample_many(np.random.default_rng(0), 30):
        loaded.space.validate(config)


@pytest.mark.parametrize(
    "name, message",
    [
        ("yahpo-lcbench-999", r"YAHPO lcbench has no instance '999'; instances: 3945, 7593, .* \(34 in all\)"),
        ("yahpo-nosuch-1", r"unknown YAHPO scenario 'nosuch'; scenarios: lcbench, nb301"),
        ("yahpo-lcbench", r"names no instance; use yahpo-lcbench-<instance>"),
    ],
)
def test_unknown_names_give_one_line_errors(name, message):
    with pytest.raises(BlackboxError, match=message) as error:
        load_yahpo(name)
    assert "\n" not in str(error.value)


def test_configurations_outside_the_space_are_refused():
    bb = load_yahpo("yahpo-lcbench-3945")
    config = bb.space.sample(np.random.default_rng(0))
    with pytest.raises(SearchSpaceError, match="learning_rate"):
        bb.curve({**config, "learning_rate": 1.0}, 0)
    with pytest.raises(BlackboxError, match=r"epoch=53 in row 0 is outside its range"):
        bb.evaluate(pd.DataFrame([config]), np.array([53]))
    with pytest.raises(BlackboxError, match="one seed"):
        bb.curve(config, 1)
    xgb = load_yahpo("yahpo-rbv2_xgboost-1040")
    config = xgb.space.sample(np.random.default_rng(0))
    config = {**config, "booster": "gblinear", **{name: None for name in ("eta", "gamma", "max_depth",
              "min_child_weight", "colsample_bytree", "colsample_bylevel", "rate_drop", "skip_drop")}}
    xgb.curve(config, 0)
    with pytest.raises(SearchSpaceError, match="'eta' is inactive"):
        xgb.curve({**config, "eta": 0.1}, 0)
    with pytest.raises(BlackboxError, match="eta is inactive .* must be left empty"):
        xgb.evaluate(pd.DataFrame([{**config, "eta": 0.1}]), np.array([0.5]))


def test_a_scenario_without_its_model_gives_a_one_line_error():
    """iaml_ranger has no model.onnx in the shared data, and downloads point at an unreachable file URL."""
    with pytest.raises(BlackboxError) as error:
        load_yahpo("yahpo-iaml_ranger-1489")
    message = str(error.value)
    assert "\n" not in message
    assert "model.onnx is not in" in message and "cannot download file:///nonexistent" in message
    assert "set HPO_YAHPO_DATA to a directory with a copy of github.com/slds-lmu/yahpo_data" in message


def test_missing_files_are_downloaded_into_the_data_directory(tmp_path, monkeypatch, yahpo_data):
    """A local file:// mirror stands in for GitHub (no network in tests)."""
    monkeypatch.setenv("HPO_YAHPO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HPO_YAHPO_URL", yahpo_data.as_uri())
    bb = load_yahpo("yahpo-iaml_glmnet-1489")
    for name in ("config_space.json", "encoding.json", "model.onnx"):
        copy = tmp_path / "data" / "iaml_glmnet" / name
        assert copy.read_bytes() == (yahpo_data / "iaml_glmnet" / name).read_bytes()
    assert bb.curve(bb.space.sample(np.random.default_rng(0)), 0).shape == (7, 14)


def test_lcbench_accepts_its_documented_bounds():
    """config_space.json stores learning_rate's range as [0.00010000000000000009, 0.10000000000000002]."""
    bb = load_yahpo("yahpo-lcbench-3945")
    assert bb.space["learning_rate"].low == 1e-4
    config = {**bb.space.sample(np.random.default_rng(0)), "learning_rate": 0.0001}
    bb.curve(config, 0)
    bb.curve({**config, "learning_rate": 0.1}, 0)
    values = bb.evaluate(pd.DataFrame([config]), np.array([52]))
    assert np.isfinite(values[0, bb.objective_index(bb.metric)])
    with pytest.raises(SearchSpaceError, match="learning_rate"):
        bb.curve({**config, "learning_rate": 0.0000999}, 0)


@pytest.mark.parametrize(
    ("stored", "side", "expected"),
    [
        (0.00010000000000000009, "lower", 1e-4),  # widens: rounded
        (0.10000000000000002, "upper", 0.10000000000000002),  # rounding would narrow: kept
        (0.09999999999999999, "upper", 0.1),
        (0.99, "upper", 0.99),
        (0.123456789012345, "lower", 0.123456789012345),  # no short decimal that close: kept
        (0.0, "lower", 0.0),
    ],
)
def test_documented_bound(stored, side, expected):
    assert documented_bound(stored, side) == expected


def test_a_download_with_a_wrong_checksum_is_refused(tmp_path, monkeypatch, yahpo_data):
    """A served encoding.json that differs from yahpo_data v1.0.2's is never stored nor parsed."""
    served = tmp_path / "served" / "iaml_glmnet"
    shutil.copytree(yahpo_data / "iaml_glmnet", served)
    (served / "encoding.json").write_text((served / "encoding.json").read_text() + " ")  # still valid JSON
    monkeypatch.setenv("HPO_YAHPO_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("HPO_YAHPO_URL", (tmp_path / "served").as_uri())
    with pytest.raises(BlackboxError) as error:
        load_yahpo("yahpo-iaml_glmnet-1489")  # config_space.json matches its checksum, encoding.json does not
    assert "encoding.json is not in" in str(error.value) and "truncated or corrupt (sha256" in str(error.value)
    assert not (tmp_path / "data" / "iaml_glmnet" / "encoding.json").exists()

"""The batch evaluation CLI: reference round trips, fixed instances, other benchmarks and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import load_blackbox
from blackbox_repository.evaluate import main
from blackbox_repository.yahpo import YahpoScenario
from tests.blackbox_repository.conftest import SHARED

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.usefixtures("yahpo_data")


def write_inputs(scenario: str, path: Path) -> pd.DataFrame:
    """The input columns of a reference CSV, text for text; returns the whole reference."""
    text = pd.read_csv(SHARED / "docs" / f"yahpo_reference_{scenario}.csv", dtype=str, keep_default_na=False)
    text[[c for c in text.columns if not c.startswith("y:")]].to_csv(path, index=False)
    return text


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "blackbox_repository.evaluate", *args], capture_output=True, text=True, cwd=ROOT
    )


@pytest.mark.parametrize("scenario", ["lcbench", "rbv2_xgboost"])
def test_cli_reproduces_the_reference_csv(tmp_path, scenario):
    reference = write_inputs(scenario, tmp_path / "in.csv")
    done = run_cli("--benchmark", f"yahpo-{scenario}", "--input", str(tmp_path / "in.csv"),
                   "--output", str(tmp_path / "out.csv"))
    assert done.returncode == 0, done.stderr
    output = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(output.columns) == list(reference.columns)
    inputs = [c for c in reference.columns if not c.startswith("y:")]
    pd.testing.assert_frame_equal(output[inputs], reference[inputs])  # input passed through as written
    outputs = [c for c in reference.columns if c.startswith("y:")]
    got = output[outputs].astype(float).to_numpy(np.float32)
    np.testing.assert_allclose(got, reference[outputs].astype(float).to_numpy(np.float32), rtol=1e-6, atol=1e-12)


def test_cli_bad_input_exits_2_with_one_line(tmp_path):
    write_inputs("lcbench", tmp_path / "in.csv")
    done = run_cli("--benchmark", "yahpo-lcbench-999", "--input", str(tmp_path / "in.csv"),
                   "--output", str(tmp_path / "out.csv"))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "out.csv").exists()


def test_fixed_instance_from_the_name_or_the_option(tmp_path, capsys):
    write_inputs("lcbench", tmp_path / "in.csv")
    inputs = pd.read_csv(tmp_path / "in.csv").drop(columns=["OpenML_task_id"]).head(10)
    inputs.to_csv(tmp_path / "no_instance.csv", index=False)
    expected = YahpoScenario.load("lcbench").predict(inputs.assign(OpenML_task_id="3945"))
    for args in (["--benchmark", "yahpo-lcbench-3945"], ["--benchmark", "yahpo-lcbench", "--instance", "3945"]):
        assert main([*args, "--input", str(tmp_path / "no_instance.csv"), "--output", str(tmp_path / "o.csv")]) == 0
        output = pd.read_csv(tmp_path / "o.csv")
        np.testing.assert_array_equal(output[[f"y:{c}" for c in expected.columns]].to_numpy(), expected.to_numpy())
    # an instance column that contradicts the fixed instance is an error, not silently overridden
    status = main(["--benchmark", "yahpo-lcbench-3945", "--input", str(tmp_path / "in.csv"),
                   "--output", str(tmp_path / "o.csv")])
    assert status == 2 and "OpenML_task_id holds" in capsys.readouterr().err


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    write_inputs("rbv2_xgboost", tmp_path / "xgb.csv")
    frame = pd.read_csv(tmp_path / "xgb.csv", dtype=str, keep_default_na=False)
    cases = {
        "missing": (frame.drop(columns=["subsample"]), "lacks column(s) ['subsample']"),
        "instance": (frame.assign(task_id="123456789"), "unknown instance task_id='123456789' in row 0"),
        "range": (frame.assign(trainsize="1.5"), "trainsize=1.5 in row 0 is outside its range"),
        "inactive": (frame.assign(booster="gblinear"), "is inactive (booster='gblinear') in row 0"),
        "not-a-number": (frame.assign(alpha="abc"), "alpha='abc' in row 0 is not a number"),
    }
    runs = {}
    for key, (bad, message) in cases.items():
        bad.to_csv(tmp_path / f"{key}.csv", index=False)
        runs[key] = (["--benchmark", "yahpo-rbv2_xgboost", "--input", str(tmp_path / f"{key}.csv")], message)
    runs["benchmark"] = (["--benchmark", "no-such-benchmark", "--input", str(tmp_path / "xgb.csv")],
                         "unknown benchmark 'no-such-benchmark'")
    runs["scenario"] = (["--benchmark", "yahpo-nosuch", "--input", str(tmp_path / "xgb.csv")],
                        "unknown YAHPO scenario 'nosuch'")
    runs["file"] = (["--benchmark", "yahpo-lcbench", "--input", str(tmp_path / "absent.csv")], "does not exist")
    return runs


def test_bad_inputs_give_one_line_errors_and_exit_code_2(tmp_path, capsys):
    for key, (args, message) in _bad_inputs(tmp_path).items():
        status = main([*args, "--output", str(tmp_path / "out.csv")])
        err = capsys.readouterr().err
        assert status == 2, key
        assert err.startswith("error: ") and err.count("\n") == 1, (key, err)
        assert message in err, (key, err)
    assert not (tmp_path / "out.csv").exists()


def test_other_benchmarks_use_the_repository_and_their_fidelity_column(tmp_path):
    blackbox = load_blackbox("sklearn-mlp-digits")
    frame = blackbox.configs.head(6).assign(epoch=[1, 2, 3, 10, 20, 30])
    frame.to_csv(tmp_path / "in.csv", index=False)
    assert main(["--benchmark", "sklearn-mlp-digits", "--input", str(tmp_path / "in.csv"),
                 "--output", str(tmp_path / "out.csv")]) == 0
    output = pd.read_csv(tmp_path / "out.csv")
    expected = blackbox.evaluate(frame[blackbox.space.names], frame["epoch"].to_numpy())
    np.testing.assert_array_equal(output[[f"y:{n}" for n in blackbox.objective_names]].to_numpy(), expected)


def test_describe_prints_the_input_columns(capsys):
    assert main(["--benchmark", "yahpo-lcbench-3945", "--describe"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "yahpo-lcbench-3945: YAHPO Gym lcbench surrogate; input columns:"
    assert "  learning_rate: Float(low=0.0001, high=0.10000000000000002, log=True)" in lines
    assert "  epoch: Integer(low=1, high=52, log=False) (fidelity)" in lines
    assert "  OpenML_task_id: one of 34 instances (instance; fixed to 3945 by the name)" in lines
    assert lines[-1].startswith("outputs: y:time, y:val_accuracy")
    assert main(["--benchmark", "sklearn-mlp-digits", "--describe"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  n_units: Grid(choices=(16, 32, 64, 128))"
    assert "  epoch: integer 1..30 (30 values, fidelity)" in lines
    assert lines[-1] == ("outputs: y:valid_loss, y:valid_error, y:test_loss, y:test_error, y:train_loss, y:runtime, "
                         "y:elapsed_time (seed indices 0..2)")


def test_describe_shows_conditions_and_input_is_required_without_it(capsys):
    assert main(["--benchmark", "yahpo-rbv2_xgboost", "--describe"]) == 0
    assert "  rate_drop is active only if booster == 'dart'" in capsys.readouterr().out.splitlines()
    with pytest.raises(SystemExit) as exit_:
        main(["--benchmark", "sklearn-mlp-digits"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == (
        "error: --input and --output are required (or pass --describe to see the input columns) (see --help)\n"
    )


def test_seed_index_flag_has_both_spellings(tmp_path):
    blackbox = load_blackbox("sklearn-mlp-digits")
    blackbox.configs.head(2).assign(epoch=[1, 30]).to_csv(tmp_path / "in.csv", index=False)
    outputs = []
    for flag in ("--seed_index", "--seed-index"):
        assert main(["--benchmark", "sklearn-mlp-digits", "--input", str(tmp_path / "in.csv"),
                     "--output", str(tmp_path / "out.csv"), flag, "2"]) == 0
        outputs.append(pd.read_csv(tmp_path / "out.csv"))
    pd.testing.assert_frame_equal(*outputs)
    expected = blackbox.evaluate(blackbox.configs.head(2), np.array([1, 30]), 2)
    np.testing.assert_array_equal(outputs[0][[f"y:{n}" for n in blackbox.objective_names]].to_numpy(), expected)

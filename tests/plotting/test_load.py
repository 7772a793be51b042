"""Loading stored results: best-so-far on the time grid (checked by hand), gaps reported, remote sources."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import store
from plotting.load import LoadError, Steps, load, run_command, time_grid

BENCHMARK = "sklearn-mlp-digits"


# Helpers shared by the plotting tests -------------------------------------------------------------
def make_store(
    root: Path,
    *,
    methods: Sequence[str] = ("ASHA", "RandomSearch"),
    num_seeds: int = 3,
    tag: str = "default",
    max_wallclock_time: float = 3.0,
    **options,
) -> Path:
    """Real runs of the embedded benchmark (a few seconds of simulated time each) under ``root``."""
    from experiments.run import run_experiment

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HPO_BLACKBOX_CACHE", str(root.parent / "blackbox-cache"))
        run_experiment(
            BENCHMARK,
            list(methods),
            num_seeds=num_seeds,
            results_dir=root,
            experiment_tag=tag,
            max_wallclock_time=max_wallclock_time,
            **options,
        )
    return root


def write_run(
    root: Path,
    benchmark: str,
    method: str,
    seed: int,
    times: Sequence[float],
    values: Sequence[float],
    *,
    mode: str = "min",
    tag: str = "hand",
    end: float | None = None,
    stop_reason: str = "max_wallclock_time",
) -> Path:
    """A run written by hand in the store's format (metadata.json last): results with time, metric, best_so_far."""
    path = store.run_dir(root, tag, benchmark, method, seed)
    path.mkdir(parents=True, exist_ok=True)
    values = np.asarray(values, dtype=float)
    best = np.fmin.accumulate(values) if mode == "min" else np.fmax.accumulate(values)
    results = pd.DataFrame(
        {
            "trial_id": np.arange(len(values)),
            "time": np.asarray(times, dtype=float),
            "worker": 0,
            "decision": "complete",
            "score": values,
            "best_so_far": best,
        }
    )
    trials = pd.DataFrame({"trial_id": np.arange(len(values)), "status": "completed", "last_epoch": 1})
    files = {}
    for name, frame in ((store.RESULTS_FILE, results), (store.TRIALS_FILE, trials)):
        frame.to_parquet(path / name, index=False)
        data = (path / name).read_bytes()
        files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    metadata = {
        "format_version": store.FORMAT_VERSION,
        "completed": True,
        "tag": tag,
        "benchmark": benchmark,
        "method": method,
        "seed": seed,
        "metric": "score",
        "mode": mode,
        "final_best": float(best[-1]) if len(best) else None,
        "simulated_time_seconds": float(end if end is not None else (times[-1] if len(times) else 0.0)),
        "stop_reason": stop_reason,
        "num_results": len(values),
        "files": files,
    }
    (path / store.METADATA_FILE).write_text(json.dumps(metadata))
    return path


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("load") / "results")


def _by_hand(times: np.ndarray, best: np.ndarray, t: float) -> float:
    """Best-so-far of the last result with time <= t (NaN before the first)."""
    value = math.nan
    for time, b in zip(times, best):
        if time <= t:
            value = b
    return value


# Tests ------------------------------------------------------------------------------------------
def test_best_so_far_on_the_grid_matches_results_parquet_by_hand(stored):
    curves = load(stored, "default", points=60)
    assert curves.benchmarks == [BENCHMARK]
    assert curves.methods == ["RandomSearch", "ASHA"]  # registry order, not alphabetical
    assert curves.modes == {BENCHMARK: "min"} and curves.metrics == {BENCHMARK: "valid_loss"}
    grid = curves.grids[BENCHMARK]
    first_results = [
        pd.read_parquet(path / store.RESULTS_FILE)["time"].iloc[0] for path in curves.runs["path"].map(Path)
    ]
    assert grid[0] == pytest.approx(min(first_results))
    assert grid[-1] == curves.budgets[BENCHMARK] == pytest.approx(3.0)
    assert np.allclose(np.diff(np.log(grid)), np.log(grid[1] / grid[0]))  # log-spaced
    results = store.read_run(store.run_dir(stored, "default", BENCHMARK, "ASHA", 1)).results
    times, best = results["time"].to_numpy(), results["best_so_far"].to_numpy()
    expected = np.array([_by_hand(times, best, t) for t in grid])
    row = list(curves.seeds[BENCHMARK]).index(1)
    got = curves.values[BENCHMARK, "ASHA"][row]
    assert np.isnan(got[0]) == np.isnan(expected[0])
    np.testing.assert_array_equal(got, expected)
    assert got[-1] == best[-1]
    # the tidy frame holds the same numbers
    frame = curves.frame()
    assert list(frame.columns) == ["tag", "benchmark", "method", "seed", "time", "value"]
    rows = frame[(frame["method"] == "ASHA") & (frame["seed"] == 1)]
    np.testing.assert_array_equal(rows["value"].to_numpy(), expected)
    assert len(frame) == 6 * len(grid)


def test_linear_grid_final_values_and_report_of_a_complete_store(stored):
    curves = load(stored, ["default"], points=5, spacing="linear")
    grid = curves.grids[BENCHMARK]
    assert np.allclose(np.diff(grid), grid[1] - grid[0]) and grid[-1] == pytest.approx(3.0)
    final = curves.final()
    listing = store.load_results(stored, "default").set_index(["method", "seed"])
    for row in final.itertuples():
        assert row.value == listing.loc[(row.method, row.seed), "final_best"]
    assert curves.report.complete and curves.report.num_runs == 6 and not curves.report.ended_early
    scores = curves.scores()
    assert set(scores) == {"ASHA", "RandomSearch"} and all(
        len(tasks) == 1 and tasks[0].size == 3 for tasks in scores.values()
    )
    assert all(0.0 <= v <= 1.0 for tasks in scores.values() for v in tasks[0])


def test_missing_seed_partial_run_and_missing_method_are_reported(stored, tmp_path, caplog):
    root = tmp_path / "results"
    shutil.copytree(stored, root)
    base = root / "default"
    shutil.copytree(base / BENCHMARK / "ASHA", base / "other-benchmark" / "ASHA")  # RandomSearch missing there
    shutil.rmtree(base / BENCHMARK / "RandomSearch" / "seed-2")  # a missing seed
    (base / BENCHMARK / "ASHA" / "seed-1" / store.METADATA_FILE).unlink()  # an interrupted run
    with caplog.at_level(logging.WARNING, logger="plotting.load"):
        curves = load(root, "default")
    report = curves.report
    assert report.missing == [(BENCHMARK, "RandomSearch", 2)]
    assert [(r.benchmark, r.method, r.seed, r.reason) for r in report.partial] == [
        (BENCHMARK, "ASHA", 1, "no metadata.json")
    ]
    assert report.missing_methods == {"other-benchmark": ["RandomSearch"]}
    assert not report.complete
    # seeds stay aligned: the missing rows are NaN, not dropped
    assert list(curves.seeds[BENCHMARK]) == [0, 1, 2]
    assert np.isnan(curves.values[BENCHMARK, "RandomSearch"][2]).all()
    assert np.isnan(curves.values[BENCHMARK, "ASHA"][1]).all()
    text = report.format()
    assert "RandomSearch on sklearn-mlp-digits: missing seed 2" in text
    assert "ASHA on sklearn-mlp-digits: partial run(s) without complete metadata.json: seed 1" in text
    assert "benchmark other-benchmark: no runs of RandomSearch" in text
    command = (
        f"python -m experiments.run --benchmark {BENCHMARK} --method RandomSearch ASHA --num_seeds 3 "
        f"--experiment_tag default --max_wallclock_time 3 --results_dir {root}"
    )
    assert command in report.commands
    assert any("missing seed 2" in record.getMessage() for record in caplog.records)
    assert any(command in record.getMessage() for record in caplog.records)


def test_expected_seeds_and_runs_that_ended_early(tmp_path):
    root = tmp_path / "results"
    write_run(root, "b", "A", 0, [1.0, 2.0, 5.0], [3.0, 1.0, 2.0], end=10.0)
    write_run(root, "b", "B", 0, [0.5, 3.0], [4.0, 2.5], end=4.0, stop_reason="method has no more work")
    curves = load(root, "hand", points=4, spacing="linear", num_seeds=2)
    assert curves.budgets["b"] == 10.0
    np.testing.assert_allclose(curves.grids["b"], [0.5, 3.66666667, 6.83333333, 10.0])
    # B stopped at 4 s: its best (2.5) is carried forward to the budget; before its first result: NaN
    np.testing.assert_array_equal(curves.values["b", "B"][0], [4.0, 2.5, 2.5, 2.5])
    np.testing.assert_array_equal(curves.values["b", "A"][0], [np.nan, 1.0, 1.0, 1.0])
    report = curves.report
    assert [(e.method, e.seed, e.stop_reason, e.end, e.budget) for e in report.ended_early] == [
        ("B", 0, "method has no more work", 4.0, 10.0)
    ]
    assert report.missing == [("b", "A", 1), ("b", "B", 1)]  # num_seeds = 2 expects seeds 0 and 1
    assert any("carried forward" in line for line in report.lines())
    assert report.single_seed == [("b", "A"), ("b", "B")]


def test_max_mode_and_metric_column_fallback(tmp_path):
    root = tmp_path / "results"
    path = write_run(root, "up", "A", 0, [1.0, 2.0, 3.0], [0.2, 0.9, 0.5], mode="max")
    curves = load(root, "hand", points=3, spacing="linear")
    np.testing.assert_array_equal(curves.values["up", "A"][0], [0.2, 0.9, 0.9])
    assert curves.modes == {"up": "max"}
    # a results table without best_so_far: the running best of the metric (with the mode)
    results = pd.read_parquet(path / store.RESULTS_FILE).drop(columns="best_so_far")
    results.to_parquet(path / store.RESULTS_FILE, index=False)
    metadata = json.loads((path / store.METADATA_FILE).read_text())
    data = (path / store.RESULTS_FILE).read_bytes()
    metadata["files"][store.RESULTS_FILE] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (path / store.METADATA_FILE).write_text(json.dumps(metadata))
    curves = load(root, "hand", points=3, spacing="linear")
    np.testing.assert_array_equal(curves.values["up", "A"][0], [0.2, 0.9, 0.9])


def test_tags_are_merged_or_kept_apart(tmp_path):
    root = tmp_path / "results"
    write_run(root, "b", "A", 0, [1.0], [1.0], tag="one")
    write_run(root, "b", "A", 1, [1.0], [2.0], tag="two")
    merged = load(root, ["one", "two"], points=2)
    assert merged.methods == ["A"] and list(merged.seeds["b"]) == [0, 1]
    assert set(merged.frame()["tag"]) == {"one", "two"}
    write_run(root, "b", "A", 0, [1.0], [3.0], tag="two")
    with pytest.raises(LoadError, match=r"A seed 0 on b is stored twice .*label = \"tag/method\""):
        load(root, ["one", "two"])
    apart = load(root, ["one", "two"], points=2, label="tag/method")
    assert apart.methods == ["one/A", "two/A"]
    assert load(root, ["one", "two"], points=2, label="tag/method", methods=["A"]).methods == ["one/A", "two/A"]


def test_mixed_modes_and_nothing_found_are_errors(tmp_path):
    root = tmp_path / "results"
    write_run(root, "b", "A", 0, [1.0], [1.0], mode="min")
    write_run(root, "b", "B", 0, [1.0], [1.0], mode="max")
    with pytest.raises(LoadError, match="disagree on the metric or mode"):
        load(root, "hand")
    with pytest.raises(LoadError) as error:
        load(
            tmp_path / "nowhere",
            "headline",
            benchmarks=["fcnet-protein"],
            methods=["ASHA", "RandomSearch"],
            num_seeds=30,
        )
    message = str(error.value)
    assert "does not exist" in message and "\n" not in message
    assert (
        "python -m experiments.run --benchmark fcnet-protein --method ASHA RandomSearch --num_seeds 30 "
        f"--experiment_tag headline --results_dir {tmp_path / 'nowhere'}"
    ) in message


def test_remote_results_through_fsspec(stored):
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    for path in sorted(stored.rglob("*")):
        if path.is_file():
            memory.pipe(f"/bucket/results/{path.relative_to(stored).as_posix()}", path.read_bytes())
    try:
        remote = load("memory://bucket/results", "default", points=20)
        local = load(stored, "default", points=20)
        for key, matrix in local.values.items():
            np.testing.assert_array_equal(remote.values[key], matrix)
        memory.rm("/bucket/results/default/sklearn-mlp-digits/ASHA/seed-0/metadata.json")
        partial = load("memory://bucket/results", "default", points=20).report.partial
        assert [(r.method, r.seed) for r in partial] == [("ASHA", 0)]
    finally:
        memory.rm("/bucket", recursive=True)


def test_s3_results_on_a_local_s3_server(stored, tmp_path, monkeypatch):
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server", reason="needs moto's S3 server: pip install 'moto[server]'")
    boto3 = pytest.importorskip("boto3")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name, raising=False)
        environment = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
            "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        client = boto3.client("s3")
        client.create_bucket(Bucket="results-bucket")
        for path in sorted(stored.rglob("*")):
            if path.is_file():
                client.put_object(
                    Bucket="results-bucket", Key=f"runs/{path.relative_to(stored).as_posix()}", Body=path.read_bytes()
                )
        remote = load("s3://results-bucket/runs", "default", points=20, benchmarks=[BENCHMARK])
        local = load(stored, "default", points=20)
        assert remote.report.num_runs == 6 and remote.report.complete
        for key, matrix in local.values.items():
            np.testing.assert_array_equal(remote.values[key], matrix)
    finally:
        server.stop()


def test_s3_without_s3fs_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "s3fs", None)  # import s3fs now fails
    with pytest.raises(LoadError, match=r"needs s3fs: pip install 'hpo-workbench\[s3\]'"):
        load("s3://some-bucket/results", "headline")


def test_helpers():
    steps = Steps(np.array([1.0, 2.0]), np.array([5.0, 4.0]), 3.0)
    np.testing.assert_array_equal(steps.at(np.array([0.5, 1.0, 1.5, 2.0, 9.0])), [np.nan, 5.0, 5.0, 4.0, 4.0])
    assert time_grid(0.01, 10.0, 4, "log") == pytest.approx([0.01, 0.1, 1.0, 10.0])
    assert run_command("b", ["ASHA", "RandomSearch"], 30, "t", "results", arguments={"max_wallclock_time": 3.0}) == (
        "python -m experiments.run --benchmark b --method ASHA RandomSearch --num_seeds 30 --experiment_tag t "
        "--max_wallclock_time 3"
    )
    with pytest.raises(LoadError, match="spacing"):
        load("results", "t", spacing="cubic")

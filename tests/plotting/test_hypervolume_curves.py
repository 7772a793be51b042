"""Hypervolume over time as the curves' indicator: a run's curve by hand, the reference-point rule pooled over every
run of a benchmark (and its overrides), aggregation of identical runs, each trial's last result only, the columns
read, the sidecar and table captions naming the reference points, and the spec keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from experiments import store
from plotting import figures as fig
from plotting import tables as tab
from plotting.figure import produce
from plotting.hypervolume import hypervolume
from plotting.load import IndicatorOptions, LoadError, load
from plotting.spec import SpecError, load_spec, parse_spec

HV = IndicatorOptions("hypervolume")


def write_mo_run(
    root: Path,
    benchmark: str,
    method: str,
    seed: int,
    times: Sequence[float],
    objectives: Mapping[str, Sequence[float]],
    modes: Sequence[str] = ("min", "min"),
    *,
    trial_ids: Sequence[int] | None = None,
    constraint: tuple[str, float] | None = None,
    extra: Mapping[str, Sequence[float]] | None = None,
    reference_point: Sequence[float] | None = None,
    tag: str = "hand",
    end: float | None = None,
) -> Path:
    """A run in the store's format with one column per objective (the first is the metric) and the multi-objective
    fields of ``metadata.json`` (``objectives``, ``modes``, optionally ``constraint``, ``reference_point``)."""
    path = store.run_dir(root, tag, benchmark, method, seed)
    path.mkdir(parents=True, exist_ok=True)
    names = list(objectives)
    primary = np.asarray(objectives[names[0]], dtype=float)
    best = np.fmin.accumulate(primary) if modes[0] == "min" else np.fmax.accumulate(primary)
    trials = np.arange(len(times)) if trial_ids is None else np.asarray(trial_ids)
    results = pd.DataFrame({"trial_id": trials, "time": np.asarray(times, dtype=float), "worker": 0})
    for name, values in {**objectives, **(extra or {})}.items():
        results[name] = np.asarray(values, dtype=float)
    results["best_so_far"] = best
    trial_table = pd.DataFrame({"trial_id": np.unique(trials), "status": "completed", "last_epoch": 1})
    files = {}
    for name, frame in ((store.RESULTS_FILE, results), (store.TRIALS_FILE, trial_table)):
        frame.to_parquet(path / name, index=False)
        data = (path / name).read_bytes()
        files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    metadata: dict[str, Any] = {
        "format_version": store.FORMAT_VERSION,
        "completed": True,
        "tag": tag,
        "benchmark": benchmark,
        "method": method,
        "seed": seed,
        "metric": names[0],
        "mode": modes[0],
        "objectives": names,
        "modes": list(modes),
        "final_best": float(best[-1]) if len(best) else None,
        "simulated_time_seconds": float(end if end is not None else (times[-1] if len(times) else 0.0)),
        "stop_reason": "max_wallclock_time",
        "num_results": len(times),
        "files": files,
    }
    if constraint is not None:
        metadata["constraint"] = {"metric": constraint[0], "threshold": constraint[1]}
    if reference_point is not None:
        metadata["reference_point"] = list(reference_point)
    (path / store.METADATA_FILE).write_text(json.dumps(metadata))
    return path


def test_hypervolume_curve_of_a_run_by_hand(tmp_path):
    # error and cost, both minimised; reference point (1, 50)
    times = [1.0, 2.0, 3.0, 4.0, 5.0]
    error = [0.8, np.nan, 0.5, 0.9, 0.2]  # t=2: a failed result (skipped); t=4: dominated by (0.8, 10)
    cost = [10.0, 5.0, 20.0, 30.0, 40.0]
    write_mo_run(tmp_path, "b", "A", 0, times, {"error": error, "cost": cost}, end=6.0)
    curves = load(tmp_path, indicator=IndicatorOptions("hypervolume", reference_points={"b": [1.0, 50.0]}), log=False)
    steps = curves.steps["b", "A", 0]
    # t=1: 0.2 x 40 = 8; t=3: + (0.5 x 30 - 0.2 x 30) = 17; t=5: + (0.8 x 10 - 0.5 x 10) = 20
    np.testing.assert_array_equal(steps.times, [1.0, 3.0, 5.0])
    np.testing.assert_allclose(steps.values, [8.0, 17.0, 20.0], rtol=1e-12)
    np.testing.assert_allclose(steps.at(np.array([0.5, 1.0, 2.5, 4.0, 6.0])), [np.nan, 8.0, 8.0, 17.0, 20.0])
    assert curves.metrics["b"] == "hypervolume" and curves.modes["b"] == "max"
    assert curves.indicator.references["b"].values == (1.0, 50.0)
    assert curves.indicator.references["b"].source == "given in the spec"


def _two_method_store(root: Path) -> dict[tuple[str, int], np.ndarray]:
    """Accuracy (max) against latency (min), two methods x two seeds; returns each run's points (own units)."""
    rng = np.random.default_rng(3)
    points = {}
    for method in ("A", "B"):
        for seed in (0, 1):
            accuracy, latency = rng.uniform(0.5, 0.95, 12), rng.uniform(0.01, 0.2, 12)
            write_mo_run(
                root,
                "b",
                method,
                seed,
                np.arange(1.0, 13.0),
                {"accuracy": accuracy, "latency": latency},
                ["max", "min"],
            )
            points[method, seed] = np.column_stack([accuracy, latency])
    return points


def test_reference_point_rule_pools_every_run_of_the_benchmark(tmp_path):
    points = _two_method_store(tmp_path)
    curves = load(tmp_path, indicator=HV, log=False)
    pooled = np.vstack(list(points.values()))
    low, high = pooled.min(axis=0), pooled.max(axis=0)
    # accuracy is maximised: its worst value is the lowest, and the point lies 10% of the range below it
    expected = [low[0] - 0.1 * (high[0] - low[0]), high[1] + 0.1 * (high[1] - low[1])]
    reference = curves.indicator.references["b"]
    np.testing.assert_allclose(reference.values, expected, rtol=1e-12)
    assert reference.objectives == ("accuracy", "latency") and reference.modes == ("max", "min")
    assert "rule" in reference.source and "4 runs" in reference.source
    minimised_reference = np.array(expected) * [-1.0, 1.0]
    for (method, seed), run in points.items():  # every run's final value: the hypervolume of all its points
        final = curves.steps["b", method, seed].values[-1]
        assert final == pytest.approx(hypervolume(run * [-1.0, 1.0], minimised_reference), rel=1e-12)


def test_reference_point_of_the_spec_then_of_the_runs_then_the_rule(tmp_path):
    times, values = [1.0, 2.0], {"error": [0.5, 0.2], "cost": [1.0, 3.0]}
    write_mo_run(tmp_path, "fixed", "A", 0, times, values, reference_point=[2.0, 8.0])
    write_mo_run(tmp_path, "ruled", "A", 0, times, values)
    curves = load(tmp_path, indicator=HV, log=False)
    assert curves.indicator.references["fixed"].values == (2.0, 8.0)
    assert curves.indicator.references["fixed"].source == "fixed by the benchmark definition"
    np.testing.assert_allclose(curves.indicator.references["ruled"].values, [0.5 + 0.03, 3.0 + 0.2])
    given = load(tmp_path, indicator=IndicatorOptions("hypervolume", reference_points={"fixed": [1.0, 4.0]}), log=False)
    assert given.indicator.references["fixed"].values == (1.0, 4.0)
    # (1 - 0.5) x (4 - 1) + (1 - 0.2) x (4 - 3) - overlap (1 - 0.5) x (4 - 3)
    assert given.steps["fixed", "A", 0].values[-1] == pytest.approx(1.5 + 0.8 - 0.5)


def test_identical_runs_aggregate_to_the_run_curve(tmp_path):
    times = np.arange(1.0, 21.0)
    rng = np.random.default_rng(0)
    values = {"error": rng.random(20), "cost": rng.random(20)}
    for seed in range(5):
        write_mo_run(tmp_path, "b", "A", seed, times, values)
    curves = load(tmp_path, indicator=HV, points=50, log=False)
    run = curves.steps["b", "A", 0].at(curves.grids["b"])
    for statistic in ("iqm", "mean", "median"):
        band = fig.curve_bands(curves, statistic=statistic, reps=1000)["b", "A"]
        np.testing.assert_allclose(band.point, run, rtol=1e-12)
        seen = np.isfinite(run)
        np.testing.assert_allclose(band.low[seen], run[seen], rtol=1e-12)
        np.testing.assert_allclose(band.high[seen], run[seen], rtol=1e-12)
    table = tab.final_table(curves, reps=1000)
    row = table[(table["benchmark"] == "b") & (table["method"] == "A")].iloc[0]
    assert row["point"] == pytest.approx(curves.steps["b", "A", 0].values[-1], rel=1e-12)


def test_one_result_per_trial_counts_each_trials_last_result_only(tmp_path):
    # trial 0 reports at t=1 and t=2, trial 1 at t=3; reference (1, 1)
    objectives = {"error": [0.5, 0.6, 0.3], "cost": [0.1, 0.2, 0.7]}
    write_mo_run(tmp_path, "b", "A", 0, [1.0, 2.0, 3.0], objectives, trial_ids=[0, 0, 1])
    reference = {"b": [1.0, 1.0]}
    every = load(tmp_path, indicator=IndicatorOptions("hypervolume", reference_points=reference), log=False)
    last = IndicatorOptions("hypervolume", reference_points=reference, one_result_per_trial=True)
    only_last = load(tmp_path, indicator=last, log=False)
    # every result: (0.5, 0.1) from t=1 on (0.45); (0.6, 0.2) is dominated; (0.3, 0.7) adds 0.2 x 0.3 = 0.06
    np.testing.assert_allclose(every.steps["b", "A", 0].values, [0.45, 0.51])
    # last results: (0.6, 0.2) at t=2 (0.4 x 0.8 = 0.32), then (0.3, 0.7) adds 0.3 x 0.3 = 0.09
    np.testing.assert_array_equal(only_last.steps["b", "A", 0].times, [2.0, 3.0])
    np.testing.assert_allclose(only_last.steps["b", "A", 0].values, [0.32, 0.41])


def test_best_indicator_is_unchanged_when_more_columns_are_read(tmp_path):
    _two_method_store(tmp_path)
    plain = load(tmp_path, log=False)
    extended = load(tmp_path, indicator=IndicatorOptions("best", fronts=True, feasibility=True), log=False)
    assert plain.metrics == extended.metrics and plain.modes == extended.modes
    for key, matrix in plain.values.items():
        np.testing.assert_array_equal(matrix, extended.values[key])  # NaN in the same places, bit-identical values
    for key, steps in plain.steps.items():
        np.testing.assert_array_equal(steps.values, extended.steps[key].values)
    assert extended.indicator.fronts and not plain.indicator.fronts


def test_only_the_columns_needed_are_read(tmp_path, monkeypatch):
    write_mo_run(tmp_path, "b", "A", 0, [1.0, 2.0], {"error": [0.5, 0.2], "cost": [1.0, 3.0]}, extra={"unused": [0, 1]})
    read: list[tuple[str, ...]] = []
    original = pq.ParquetFile.read

    def recording(self, columns=None, **kwargs):  # type: ignore[no-untyped-def]
        read.append(tuple(columns or ()))
        return original(self, columns=columns, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read", recording)
    load(tmp_path, indicator=HV, log=False)
    assert read == [("time", "error", "cost")]
    read.clear()
    load(tmp_path, indicator=IndicatorOptions("hypervolume", one_result_per_trial=True), log=False)
    assert read == [("time", "trial_id", "error", "cost")]


def test_runs_that_cannot_give_a_hypervolume_are_errors(tmp_path):
    write_mo_run(tmp_path / "one", "b", "A", 0, [1.0], {"error": [0.5]}, ["min"])
    with pytest.raises(LoadError, match="hypervolume needs runs with 2 or 3 objectives; .* has 1 \\(error\\)"):
        load(tmp_path / "one", indicator=HV, log=False)
    write_mo_run(tmp_path / "mixed", "b", "A", 0, [1.0], {"error": [0.5], "cost": [1.0]})
    write_mo_run(tmp_path / "mixed", "b", "B", 0, [1.0], {"error": [0.5], "size": [1.0]})
    with pytest.raises(LoadError, match="disagree on the objectives"):
        load(tmp_path / "mixed", indicator=HV, log=False)
    path = write_mo_run(tmp_path / "lacking", "b", "A", 0, [1.0], {"error": [0.5], "cost": [1.0]})
    metadata = json.loads((path / store.METADATA_FILE).read_text())
    (path / store.METADATA_FILE).write_text(json.dumps({**metadata, "objectives": ["error", "latency"]}))
    with pytest.raises(LoadError, match="has no column 'latency', which the hypervolume indicator needs"):
        load(tmp_path / "lacking", indicator=HV, log=False)


def _spec(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(
        f"""
[results]
dirs = ["{tmp_path / "results"}"]
tags = ["hand"]

[aggregation]
reps = 1000
indicator = "hypervolume"

[figures]
curves = true
ranks = false
final = false
improvement = false

[tables]
pairwise = false
formats = ["md", "csv"]

[output]
formats = ["png"]
{extra}
"""
    )
    return path


def test_the_reference_points_used_are_written_next_to_the_figures_and_named_in_tables(tmp_path):
    _two_method_store(tmp_path / "results")
    produced = produce(load_spec(_spec(tmp_path, "")), tmp_path / "out", progress=False)
    names = sorted(path.name for path in produced.paths)
    assert names == ["curves.png", "final_table.csv", "final_table.md", "hypervolume_reference.json"]
    sidecar = json.loads((tmp_path / "out" / "hypervolume_reference.json").read_text())
    reference = produced.curves.indicator.references["b"]
    assert sidecar["indicator"] == "hypervolume" and sidecar["one_result_per_trial"] is False
    assert sidecar["benchmarks"]["b"] == {
        "objectives": ["accuracy", "latency"],
        "modes": ["max", "min"],
        "reference_point": list(reference.values),
        "source": reference.source,
    }
    shown = f"[{reference.values[0]:.6g}, {reference.values[1]:.6g}]"
    caption = (tmp_path / "out" / "final_table.md").read_text().splitlines()[-1]
    assert "of the hypervolume at the budget (of every result)" in caption
    assert f"hypervolume reference points: b: accuracy (max), latency (min) = {shown}" in caption
    notes = pd.read_csv(tmp_path / "out" / "final_table.csv")
    assert notes.loc[notes["benchmark"] == "b", "note"].str.contains(shown, regex=False).all()


def test_spec_keys_of_the_indicator_and_the_hypervolume():
    spec = parse_spec(
        {
            "results": {"tags": ["t"]},
            "aggregation": {"indicator": "hypervolume"},
            "hypervolume": {"reference_points": {"b": [1, 2.5]}, "one_result_per_trial": True},
        }
    )
    assert spec.aggregation.indicator == "hypervolume"
    assert spec.hypervolume.reference_points == {"b": (1.0, 2.5)} and spec.hypervolume.one_result_per_trial
    assert parse_spec({"results": {"tags": ["t"]}}).aggregation.indicator == "best"
    with pytest.raises(SpecError, match=r"\[aggregation\] indicator must be one of 'best', 'hypervolume'"):
        parse_spec({"results": {"tags": ["t"]}, "aggregation": {"indicator": "hv"}})
    with pytest.raises(SpecError, match=r"\[hypervolume\] reference_points of 'b' must be a list of 2 or 3 finite"):
        parse_spec({"results": {"tags": ["t"]}, "hypervolume": {"reference_points": {"b": [1.0]}}})
    with pytest.raises(SpecError, match=r"\[hypervolume\] unknown key 'reference'"):
        parse_spec({"results": {"tags": ["t"]}, "hypervolume": {"reference": [1.0, 2.0]}})

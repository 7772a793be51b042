"""Constrained runs: the best feasible value over time ignores infeasible results, and the fraction of infeasible
trials (a trial's last result decides) per run and per method, by hand; the spec's figure and table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plotting.feasibility import infeasible_table, plot_infeasible
from plotting.figure import produce
from plotting.load import IndicatorOptions, LoadError, load
from plotting.spec import load_spec, parse_spec
from tests.plotting.test_hypervolume_curves import write_mo_run
from tests.plotting.test_load import write_run

FEASIBLE = IndicatorOptions("best_feasible")


def test_best_feasible_ignores_infeasible_results(tmp_path):
    # feasible iff latency <= 0.02 (equality is feasible, NaN is not)
    error = [0.5, 0.6, 0.4, 0.55, 0.3, 0.1]
    latency = [0.03, 0.01, 0.05, np.nan, 0.02, 0.021]
    times = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    write_mo_run(
        tmp_path,
        "b",
        "A",
        0,
        times,
        {"error": error},
        ["min"],
        extra={"latency": latency},
        constraint=("latency", 0.02),
    )
    curves = load(tmp_path, indicator=FEASIBLE, log=False)
    steps = curves.steps["b", "A", 0]
    np.testing.assert_array_equal(steps.times, [2.0, 5.0])
    np.testing.assert_array_equal(steps.values, [0.6, 0.3])
    np.testing.assert_array_equal(steps.at(np.array([1.5, 2.0, 4.0, 6.0])), [np.nan, 0.6, 0.6, 0.3])
    assert curves.metrics["b"] == "error (feasible)" and curves.modes["b"] == "min"
    plain = load(tmp_path, log=False)  # the best-so-far counts the infeasible 0.4 and 0.1
    np.testing.assert_array_equal(plain.steps["b", "A", 0].values, [0.5, 0.4, 0.3, 0.1])


def test_best_feasible_of_a_maximised_metric_is_nan_until_a_feasible_result(tmp_path):
    write_mo_run(
        tmp_path,
        "b",
        "A",
        0,
        [1.0, 2.0, 3.0],
        {"accuracy": [0.9, 0.7, 0.8]},
        ["max"],
        extra={"size": [5.0, 1.0, 2.0]},
        constraint=("size", 2.0),
    )
    steps = load(tmp_path, indicator=FEASIBLE, log=False).steps["b", "A", 0]
    np.testing.assert_array_equal(steps.times, [2.0, 3.0])
    np.testing.assert_array_equal(steps.values, [0.7, 0.8])


def test_best_feasible_needs_runs_with_a_constraint(tmp_path):
    write_run(tmp_path, "b", "A", 0, [1.0], [0.5])
    with pytest.raises(LoadError, match='indicator "best_feasible" needs runs with a constraint; .* has none'):
        load(tmp_path, indicator=FEASIBLE, log=False)


def _constrained_store(root):
    """Three seeds of A with 2/3, 1/3 and 0 infeasible trials; one seed of B with 1/2."""
    # trial 0: infeasible then feasible (last decides: feasible); trial 1: feasible then infeasible; trial 2: NaN
    runs = {
        ("A", 0): ([0, 0, 1, 1, 2], [0.03, 0.01, 0.01, 0.03, np.nan]),  # infeasible: trials 1, 2 -> 2/3
        ("A", 1): ([0, 1, 2], [0.01, 0.02, 0.5]),  # trial 2 -> 1/3
        ("A", 2): ([0, 1], [0.0, 0.01]),  # none
        ("B", 0): ([0, 1, 1], [0.01, 0.01, 0.04]),  # trial 1 -> 1/2
    }
    for (method, seed), (trials, latency) in runs.items():
        times = np.arange(1.0, len(trials) + 1.0)
        write_mo_run(
            root,
            "b",
            method,
            seed,
            times,
            {"error": np.linspace(0.5, 0.1, len(trials))},
            ["min"],
            trial_ids=trials,
            extra={"latency": latency},
            constraint=("latency", 0.02),
        )


def test_infeasible_fractions_by_hand(tmp_path):
    _constrained_store(tmp_path)
    curves = load(tmp_path, indicator=IndicatorOptions("best_feasible", feasibility=True), log=False)
    infeasible = curves.indicator.infeasible
    assert infeasible["b", "A", 0] == pytest.approx(2 / 3)
    assert infeasible["b", "A", 1] == pytest.approx(1 / 3)
    assert infeasible["b", "A", 2] == 0.0
    assert infeasible["b", "B", 0] == 0.5
    table = infeasible_table(curves, reps=1000)
    a = table[table["method"] == "A"].iloc[0]
    assert a["point"] == pytest.approx(1 / 3)  # the mean of 2/3, 1/3 and 0
    assert 0.0 <= a["low"] <= a["point"] <= a["high"] <= 2 / 3
    assert (a["n_runs"], a["n_expected"], a["metric"]) == (3, 3, "infeasible fraction (latency <= 0.02)")
    b = table[table["method"] == "B"].iloc[0]
    assert b["point"] == 0.5 and np.isnan(b["low"]) and b["n_runs"] == 1 and b["n_expected"] == 3
    assert table["best"].tolist() == [True, False]  # fewer infeasible trials is better
    figure = plot_infeasible(curves, table)
    assert "fraction of infeasible trials" in figure._supxlabel.get_text()


def test_a_spec_writes_the_infeasible_figure_and_table(tmp_path):
    _constrained_store(tmp_path / "results")
    spec_path = tmp_path / "spec.toml"
    spec_path.write_text(
        f"""
[results]
dirs = ["{tmp_path / "results"}"]
tags = ["hand"]

[aggregation]
reps = 1000
indicator = "best_feasible"

[figures]
curves = false
ranks = false
final = false
improvement = false
infeasible = true

[tables]
final = false
pairwise = false
infeasible = true
formats = ["md", "csv"]

[output]
formats = ["png"]
"""
    )
    produced = produce(load_spec(spec_path), tmp_path / "out", progress=False)
    names = sorted(path.name for path in produced.paths)
    assert names == ["infeasible.png", "infeasible_table.csv", "infeasible_table.md"]
    text = (tmp_path / "out" / "infeasible_table.md").read_text()
    assert "b (infeasible fraction (latency <= 0.02), min)" in text
    assert "mean of the fraction of infeasible trials (last result infeasible) per run over seeds" in text
    csv = pd.read_csv(tmp_path / "out" / "infeasible_table.csv")
    assert csv.set_index("method").loc["A", "point"] == pytest.approx(1 / 3)


def test_spec_keys_of_the_infeasible_figure_and_table():
    spec = parse_spec({"results": {"tags": ["t"]}, "figures": {"infeasible": True}, "tables": {"infeasible": True}})
    assert spec.figures.infeasible is not None and spec.tables.infeasible
    defaults = parse_spec({"results": {"tags": ["t"]}})
    assert defaults.figures.infeasible is None and not defaults.tables.infeasible and defaults.figures.pareto is None

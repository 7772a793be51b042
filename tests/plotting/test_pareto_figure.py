"""Pareto-front figures: each method's non-dominated set pooled over seeds (or of one seed) by hand, with a
maximised objective and with 3 objectives; the staircase drawn; the figure file of a spec."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from plotting.colors import method_styles
from plotting.figure import produce
from plotting.fronts import pareto_fronts, plot_pareto, staircase
from plotting.load import IndicatorOptions, load
from plotting.spec import load_spec, parse_spec
from tests.plotting.test_hypervolume_curves import write_mo_run
from tests.plotting.test_load import write_run

FRONTS = IndicatorOptions(fronts=True)


def _rows(points: np.ndarray) -> set[tuple[float, ...]]:
    return {tuple(float(v) for v in row) for row in points}


@pytest.fixture
def store(tmp_path):
    """Accuracy (max) against latency (min): method A on seeds 0 and 1, method B on seed 0."""
    runs = {
        ("A", 0): ([0.9, 0.8, 0.7, 0.85], [3.0, 1.0, 2.0, 3.5]),  # front: (0.9, 3), (0.8, 1); the rest dominated
        ("A", 1): ([0.95, 0.6], [5.0, 0.5]),  # both on A's pooled front; (0.8, 1) of seed 0 stays too
        ("B", 0): ([0.9, 0.9, np.nan], [2.0, 2.0, 0.1]),  # a repeated point once; the NaN row is skipped
    }
    for (method, seed), (accuracy, latency) in runs.items():
        times = np.arange(1.0, len(accuracy) + 1.0)
        write_mo_run(
            tmp_path / "results", "b", method, seed, times, {"accuracy": accuracy, "latency": latency}, ["max", "min"]
        )
    return tmp_path


def test_fronts_pooled_over_seeds_and_of_one_seed_by_hand(store):
    curves = load(store / "results", indicator=FRONTS, log=False)
    pooled = pareto_fronts(curves)
    assert _rows(pooled["b", "A"]) == {(0.95, 5.0), (0.9, 3.0), (0.8, 1.0), (0.6, 0.5)}
    assert _rows(pooled["b", "B"]) == {(0.9, 2.0)}
    # rows in the order of the first objective, best (highest accuracy) first
    np.testing.assert_array_equal(pooled["b", "A"][:, 0], [0.95, 0.9, 0.8, 0.6])
    one = pareto_fronts(curves, seed=0)
    assert _rows(one["b", "A"]) == {(0.9, 3.0), (0.8, 1.0)}
    assert _rows(pareto_fronts(curves, seed=1)["b", "A"]) == {(0.95, 5.0), (0.6, 0.5)}


def test_staircase_of_a_front():
    front = np.array([[0.9, 3.0], [0.8, 1.0], [0.6, 0.5]])
    vertices = staircase(front, np.array([-1.0, 1.0]))
    # from each point along accuracy to the next point's accuracy, then down along latency to that point
    np.testing.assert_array_equal(vertices, [[0.9, 3.0], [0.8, 3.0], [0.8, 1.0], [0.6, 1.0], [0.6, 0.5]])


def test_figure_draws_each_methods_front_in_its_colour_with_labelled_axes(store):
    curves = load(store / "results", indicator=FRONTS, log=False)
    figure = plot_pareto(curves)
    ax = figure.axes[0]
    styles = method_styles(curves.methods)
    lines = [line for line in ax.lines if line.get_linestyle() != "None"]
    assert [line.get_color() for line in lines] == [styles["A"].color, styles["B"].color]
    expected = staircase(pareto_fronts(curves)["b", "A"], np.array([-1.0, 1.0]))
    np.testing.assert_array_equal(lines[0].get_xydata(), expected)
    assert ax.get_xlabel() == "accuracy (max)" and ax.get_ylabel() == "latency (min)"
    assert "pooled over seeds" in figure._suptitle.get_text()


def test_three_objectives_show_the_front_of_the_first_two(tmp_path):
    objectives = {"error": [0.1, 0.2, 0.3, 0.1], "cost": [3.0, 1.0, 1.0, 3.0], "size": [9.0, 9.0, 1.0, 1.0]}
    write_mo_run(tmp_path, "b3", "A", 0, [1.0, 2.0, 3.0, 4.0], objectives, ["min", "min", "min"])
    curves = load(tmp_path, indicator=FRONTS, log=False)
    front = pareto_fronts(curves)["b3", "A"]
    # in 3-D: (0.1, 3, 1) dominates (0.1, 3, 9); (0.2, 1, 9) and (0.3, 1, 1) are not comparable
    assert _rows(front) == {(0.1, 3.0, 1.0), (0.2, 1.0, 9.0), (0.3, 1.0, 1.0)}
    ax = plot_pareto(curves).axes[0]
    drawn = ax.lines[0].get_xydata()
    np.testing.assert_array_equal(drawn, [[0.1, 3.0], [0.2, 3.0], [0.2, 1.0]])  # the 2-D front of (error, cost)
    assert "size not shown" in ax.get_title().replace("\n", "")


def _spec(tmp_path, figures: str) -> object:
    path = tmp_path / "spec.toml"
    path.write_text(
        f"""
[results]
dirs = ["{tmp_path / "results"}"]
tags = ["hand"]

[aggregation]
reps = 1000

[figures]
curves = false
ranks = false
final = false
improvement = false
{figures}

[tables]
final = false
pairwise = false

[output]
formats = ["png"]
"""
    )
    return load_spec(path)


def test_a_spec_writes_the_pareto_figure(store):
    produced = produce(_spec(store, "pareto = { seed = 1 }"), store / "out", progress=False)
    assert [path.name for path in produced.paths] == ["pareto.png"]
    assert (store / "out" / "pareto.png").stat().st_size > 1000


def test_the_pareto_figure_is_skipped_without_several_objectives(tmp_path, caplog):
    write_run(tmp_path / "results", "b", "A", 0, [1.0, 2.0], [2.0, 1.0])
    with caplog.at_level(logging.WARNING, logger="plotting.figure"):
        produced = produce(_spec(tmp_path, "pareto = true"), tmp_path / "out", progress=False)
    assert produced.paths == []
    assert "Pareto-front figure skipped: no run has 2 or more objectives" in caplog.text


def test_spec_keys_of_the_pareto_figure(store):
    spec = parse_spec({"results": {"tags": ["t"]}, "figures": {"pareto": {"seed": 1, "yscale": "log"}}})
    assert (spec.figures.pareto.seed, spec.figures.pareto.xscale, spec.figures.pareto.yscale) == (1, "linear", "log")
    assert parse_spec({"results": {"tags": ["t"]}, "figures": {"pareto": True}}).figures.pareto.seed is None
    curves = load(store / "results", indicator=FRONTS, log=False)
    ax = plot_pareto(curves, xscale="log", yscale="log").axes[0]
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")

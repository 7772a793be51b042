"""Figures are written (PDF and a PNG with varying pixels); the vectorised curve bootstrap agrees with stats."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from plotting import figures as fig
from plotting.colors import KNOWN_METHODS, OKABE_ITO, method_order, method_styles
from plotting.load import load
from plotting.stats import aggregate, stratified_bootstrap
from tests.plotting.test_load import BENCHMARK, make_store, write_run

REPS = 1000


@pytest.fixture(scope="module")
def curves(tmp_path_factory: pytest.TempPathFactory):
    root = make_store(tmp_path_factory.mktemp("figures") / "results", num_seeds=3)
    return load(root, "default", points=40)


def _check_written(paths: list[Path]) -> None:
    assert sorted(path.suffix for path in paths) == [".pdf", ".png"]
    for path in paths:
        assert path.is_file() and path.stat().st_size > 1000
        if path.suffix == ".png":
            pixels = imread(path)
            assert pixels.std() > 0
        else:
            assert path.read_bytes().startswith(b"%PDF")


def test_every_figure_is_written(curves, tmp_path):
    layout = fig.Layout(columns=2, width=7.0, row_height=2.0)
    bands = fig.curve_bands(curves, reps=REPS)
    _check_written(fig.save(fig.plot_curves(curves, bands=bands, layout=layout), tmp_path / "curves"))
    _check_written(fig.save(fig.plot_ranks(curves, layout=layout), tmp_path / "ranks"))
    table = fig.final_intervals(curves, reps=REPS)
    assert set(table["statistic"]) == {"median", "iqm", "mean"} and set(table["method"]) == {"ASHA", "RandomSearch"}
    _check_written(fig.save(fig.plot_final(curves, table=table, layout=layout), tmp_path / "final"))
    pairs = fig.improvement_pairs(curves, reps=REPS)
    assert list(zip(pairs["method_a"], pairs["method_b"])) == [("RandomSearch", "ASHA")]
    assert 0.0 <= pairs["low"].iloc[0] <= pairs["poi"].iloc[0] <= pairs["high"].iloc[0] <= 1.0
    _check_written(fig.save(fig.plot_improvement(curves, pairs=pairs, layout=layout), tmp_path / "improvement"))
    results = pd.read_parquet(Path(curves.runs["path"].iloc[0]) / "results.parquet")
    _check_written(fig.save(fig.plot_timeline(results, title="one run", layout=layout), tmp_path / "timeline"))


def test_improvement_pairs_match_pairwise_matrix(curves):
    from plotting.tables import pairwise_table

    pairwise = pairwise_table(curves, reps=REPS)
    direct = fig.improvement_pairs(curves, reps=REPS, reference="ASHA")
    reused = fig.improvement_pairs(curves, reps=REPS, reference="ASHA", pairwise=pairwise)
    pd.testing.assert_frame_equal(direct.drop(columns="note"), reused.drop(columns="note"))


def test_curve_bands_agree_with_plotting_stats():
    rng = np.random.default_rng(1)
    values = rng.random((12, 30))
    values[:4, :5] = np.nan  # runs without a result yet
    values[7] = np.nan  # a missing seed
    for statistic in ("iqm", "mean", "median"):
        band = fig.bootstrap_curve(values, statistic, reps=4000, seed=5)
        expected = [aggregate([values[:, j]], statistic) for j in range(values.shape[1])]
        np.testing.assert_allclose(band.point, expected, rtol=1e-12)
        assert np.all(band.low <= band.point + 1e-12) and np.all(band.point <= band.high + 1e-12)
        np.testing.assert_array_equal(band.n, [7] * 5 + [11] * 25)
        for j in (0, 29):  # the same distribution as resampling seeds: close to stratified_bootstrap
            reference = stratified_bootstrap([values[:, j]], statistic, reps=20000, seed=1)
            assert band.low[j] == pytest.approx(reference.low, abs=0.05)
            assert band.high[j] == pytest.approx(reference.high, abs=0.05)
    again = fig.bootstrap_curve(values, "iqm", reps=4000, seed=5)
    np.testing.assert_array_equal(again.low, fig.bootstrap_curve(values, "iqm", reps=4000, seed=5).low)


def test_single_seed_gives_no_band_and_says_so(tmp_path, caplog):
    root = tmp_path / "results"
    write_run(root, "b", "A", 0, [1.0, 2.0], [2.0, 1.0], end=3.0)
    write_run(root, "b", "B", 0, [1.5, 2.5], [3.0, 0.5], end=3.0)
    curves = load(root, "hand", points=10)
    with caplog.at_level(logging.WARNING):
        bands = fig.curve_bands(curves, reps=REPS)
        table = fig.final_intervals(curves, reps=REPS)
    assert all(np.isnan(band.low).all() and not np.isnan(band.point[-1]) for band in bands.values())
    assert any("single run: no interval" in record.getMessage() for record in caplog.records)
    assert table["low"].isna().all() and table["note"].str.contains("single run: no interval").all()
    _check_written(fig.save(fig.plot_curves(curves, bands=bands), tmp_path / "curves"))
    _check_written(fig.save(fig.plot_final(curves, table=table), tmp_path / "final"))
    _check_written(fig.save(fig.plot_improvement(curves, reps=REPS), tmp_path / "improvement"))


def test_timeline_segments_by_hand():
    results = pd.DataFrame(
        {
            "trial_id": [0, 1, 0, 1, 2, 0, 2],
            "time": [1.0, 1.5, 2.0, 3.0, 3.5, 4.0, 5.0],
            "worker": [0, 1, 0, 1, 1, 0, 1],
            "decision": ["", "pause", "continue", "stop", "failed", "complete", ""],
            "runtime": [1.0, 1.5, 1.0, 1.5, 0.5, 2.0, 1.5],
        }
    )
    segments = fig.timeline_segments(results)
    expected = pd.DataFrame(
        {
            "worker": [0, 0, 1, 1, 1, 1],
            "trial_id": [0, 0, 1, 1, 2, 2],
            "start": [0.0, 2.0, 0.0, 1.5, 3.0, 3.5],
            "end": [2.0, 4.0, 1.5, 3.0, 3.5, 5.0],
            "outcome": ["continue", "complete", "pause", "stop", "failed", ""],
            "epochs": [2, 1, 1, 1, 1, 1],
        }
    )
    pd.testing.assert_frame_equal(segments, expected, check_dtype=False)
    # without per-epoch runtimes: the end of the worker's previous result
    fallback = fig.timeline_segments(results.drop(columns="runtime"))
    assert fallback["start"].tolist() == [0.0, 2.0, 0.0, 1.5, 3.0, 3.5]


def test_colours_are_stable_across_figures():
    assert method_order(["zeta", "ASHA", "alpha", "RandomSearch"]) == ["RandomSearch", "ASHA", "alpha", "zeta"]
    few = method_styles(["ASHA", "mine"])
    many = method_styles(["RandomSearch", "ASHA", "ASHA-PROM", "mine"])
    assert few["ASHA"] == many["ASHA"] and few["ASHA"].color == OKABE_ITO[1]
    styles = method_styles([f"m{i}" for i in range(12)] + ["ASHA"])
    combos = {(s.color, s.linestyle) for s in styles.values()}
    assert len(combos) == len(styles)  # no two methods look the same
    tagged = method_styles(["a/ASHA", "b/ASHA"])
    assert tagged["a/ASHA"].color == tagged["b/ASHA"].color != "" and tagged["a/ASHA"] != tagged["b/ASHA"]


def test_every_registered_method_has_a_fixed_colour_slot():
    # plotting does not import methods; its list of colour slots must name every method of the registry
    from methods import REGISTRY

    missing = [name for name in REGISTRY if name not in KNOWN_METHODS]
    assert not missing, f"append {missing} to plotting.colors.KNOWN_METHODS (at the end: other colours stay)"
    assert len(set(KNOWN_METHODS)) == len(KNOWN_METHODS)
    assert method_order(reversed(list(REGISTRY))) == [name for name in KNOWN_METHODS if name in REGISTRY]


def test_layout_keeps_fonts_readable():
    layout = fig.Layout(font_size=6.0)
    assert layout.rc()["font.size"] == 8.0 and layout.rc()["xtick.labelsize"] == 8.0
    assert fig._title(BENCHMARK + "-with-a-very-long-name", 1.0, 8.0).count("\n") >= 1

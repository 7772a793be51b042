"""Figures are written (PDF and a PNG with varying pixels); the vectorised curve bootstrap agrees with stats."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread
from scipy.stats import trim_mean

from plotting import figures as fig
from plotting.colors import KNOWN_METHODS, OKABE_ITO, method_order, method_styles
from plotting.labels import add_note
from plotting.load import load
from plotting.stats import aggregate, derive_seed, stratified_bootstrap
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
        # over the seeds of ONE benchmark the curve's median is the median of the runs (pooled_median)
        reference_statistic = "pooled_median" if statistic == "median" else statistic
        expected = [aggregate([values[:, j]], reference_statistic) for j in range(values.shape[1])]
        np.testing.assert_allclose(band.point, expected, rtol=1e-12)
        assert np.all(band.low <= band.point + 1e-12) and np.all(band.point <= band.high + 1e-12)
        np.testing.assert_array_equal(band.n, [7] * 5 + [11] * 25)
        for j in (0, 29):  # the same distribution as resampling seeds: close to stratified_bootstrap
            reference = stratified_bootstrap([values[:, j]], reference_statistic, reps=20000, seed=1)
            assert band.low[j] == pytest.approx(reference.low, abs=0.05)
            assert band.high[j] == pytest.approx(reference.high, abs=0.05)
    again = fig.bootstrap_curve(values, "iqm", reps=4000, seed=5)
    np.testing.assert_array_equal(again.low, fig.bootstrap_curve(values, "iqm", reps=4000, seed=5).low)


def _independent_band(values, statistic, reps, confidence, seed):
    """Percentile bootstrap over seeds per time point, written out: resample the rows, reduce, take percentiles.

    The draws are those of ``plotting.resample`` for one stratum (``integers(0, n, (reps, n))``), applied, as
    ``bootstrap_curve`` documents, to the values of each time point in sorted order (draw i picks the i-th
    smallest: the same distribution as picking seed i), so the band must equal ``bootstrap_curve``'s up to rounding.
    """
    n = values.shape[0]
    draws = np.random.default_rng(seed).integers(0, n, size=(reps, n))
    resampled = np.sort(values, axis=0)[draws]  # reps x seeds x times
    if statistic == "iqm":
        stats = trim_mean(resampled, 0.25, axis=1)
    elif statistic == "mean":
        stats = resampled.mean(axis=1)
    else:
        stats = np.median(resampled, axis=1)
    alpha = 100 * (1 - confidence) / 2
    return np.percentile(stats, [alpha, 100 - alpha], axis=0)


@pytest.mark.parametrize("statistic", ["iqm", "mean", "median"])
def test_curve_band_level_equals_an_independent_percentile_bootstrap(statistic):
    values = np.random.default_rng(2).gamma(2.0, 1.0, size=(10, 6))
    for confidence in (0.95, 0.9):
        band = fig.bootstrap_curve(values, statistic, reps=2000, confidence=confidence, seed=4)
        low, high = _independent_band(values, statistic, 2000, confidence, 4)
        np.testing.assert_allclose(band.low, low, rtol=1e-9)
        np.testing.assert_allclose(band.high, high, rtol=1e-9)


def test_curve_bands_use_the_confidence_they_are_labelled_with(curves):
    # the spec's confidence reaches the bands, and the figure says which level it shows
    for confidence in (0.95, 0.9):
        bands = fig.curve_bands(curves, confidence=confidence, reps=REPS, seed=3)
        for (benchmark, method), band in bands.items():
            values = curves.values[benchmark, method]
            values = values[~np.all(np.isnan(values), axis=1)]
            column = values.shape[1] - 1  # the budget: every run has a result
            seed = derive_seed(3, benchmark, method)
            low, high = _independent_band(values[:, column : column + 1], "iqm", REPS, confidence, seed)
            assert band.low[column] == pytest.approx(low[0], rel=1e-9)
            assert band.high[column] == pytest.approx(high[0], rel=1e-9)
        figure = fig.plot_curves(curves, bands=bands, confidence=confidence)
        labels = [ax.get_ylabel() for ax in figure.axes if ax.get_ylabel()]
        assert labels and all(f"{confidence:.0%} CI" in label for label in labels)


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


def test_final_panels_share_one_x_range_and_zero_width_intervals_show(curves):
    table = pd.DataFrame(
        {
            "method": ["RandomSearch", "ASHA"] * 3,
            "statistic": ["median"] * 2 + ["iqm"] * 2 + ["mean"] * 2,
            "point": [0.9, 0.5, 1.0, 0.5, 0.2, 0.5],
            "low": [0.7, 0.5, 0.6, np.nan, 0.1, 0.5],
            "high": [1.0, 0.5, 1.0, np.nan, 0.3, 0.5],
            "n_runs": 3,
            "n_tasks": 1,
            "note": "",
        }
    )
    figure = fig.plot_final(curves, table=table)
    panels = [ax for ax in figure.axes if ax.get_visible() and ax.get_title()]
    assert len(panels) == 3
    limits = {ax.get_xlim() for ax in panels}
    assert len(limits) == 1  # one x range for all panels
    ((low, high),) = limits
    assert low < 0.1 and high > 1.0
    for ax, filled in zip(panels, (1, 0, 1)):
        diamonds = [line for line in ax.lines if line.get_marker() == "D"]
        assert len(diamonds) == 1  # the zero-width interval (or the missing one) of ASHA is drawn, not empty
        assert (diamonds[0].get_markerfacecolor() != "white") == bool(filled)
        assert diamonds[0].get_xdata()[0] == 0.5
    assert "zero width" in figure.get_supxlabel()


def test_log_curves_label_ticks_near_the_final_values(curves):
    figure = fig.plot_curves(curves, bands=fig.curve_bands(curves, reps=REPS), yscale="log")
    for ax in figure.axes:
        if not ax.get_visible() or not ax.lines:
            continue
        low, high = ax.get_ylim()
        labelled = [t for t in ax.get_yticks() if low <= t <= high]
        formatter = ax.yaxis.get_major_formatter()
        assert len(labelled) >= 3 and all(formatter(t) for t in labelled)
        finals = [line.get_ydata()[-1] for line in ax.lines]
        # a labelled tick within a factor 1.5 of every curve's final value
        assert all(min(abs(np.log(t / value)) for t in labelled) < np.log(1.5) for value in finals)


def test_timeline_is_legible_at_8_workers():
    rng = np.random.default_rng(0)
    rows = []
    for worker in range(8):
        time = 0.0
        for trial in range(worker * 1000, worker * 1000 + 150):
            epochs = int(rng.integers(1, 4))
            for epoch in range(epochs):
                time += 0.01
                last = epoch == epochs - 1
                decision = ("stop" if rng.random() < 0.8 else "complete") if last else "continue"
                rows.append((trial, time, worker, decision, 0.01, epoch + 1))
    results = pd.DataFrame(rows, columns=["trial_id", "time", "worker", "decision", "runtime", "epoch"])
    figure = fig.plot_timeline(results)
    ax = figure.axes[0]
    (bars,) = [c for c in ax.collections if isinstance(c, fig.PolyCollection)]
    assert len(bars.get_paths()) == 8 * 150  # one bar per trial stretch: "continue" does not split a bar
    assert np.all(bars.get_linewidths() == 0)  # no edges to over-plot
    ticks = [c for c in ax.collections if c is not bars]
    assert sum(len(c.get_segments()) for c in ticks) == 8 * 150  # one event tick per stopped/completed trial
    assert len(ax.get_yticks()) == 8


def test_a_note_goes_on_top_of_the_figure_under_its_title() -> None:
    """A spec's ``note`` (e.g. which benchmark stood in for an unavailable one) heads every figure, wrapped to its
    width, and the figure grows to hold it."""
    layout = fig.Layout()
    plain = fig._figure(layout, 7.0, 2.0)
    plain.add_subplot()
    add_note(plain, "nas201-cifar100 was unavailable here; shown: sklearn-mlp-digits instead. " * 3, layout)
    assert "shown: sklearn-mlp-digits" in plain._suptitle.get_text()
    assert plain._suptitle.get_text().count("\n") >= 1 and plain.get_figheight() > 2.0
    titled = fig._figure(layout, 7.0, 2.0)
    titled.suptitle("ASHA on digits")
    add_note(titled, "a note", layout)
    assert titled._suptitle.get_text() == "ASHA on digits\na note"

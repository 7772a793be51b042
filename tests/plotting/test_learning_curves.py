"""Learning curves of one run: a curve per trial, coloured by outcome, circles at rung levels, a diamond at the end."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection

from experiments import store_format
from plotting.figures import save
from plotting.learning_curves import (
    OUTCOMES,
    SHADES,
    _shade,
    learning_curve_data,
    load_learning_curves,
    plot_learning_curves,
)
from tests.plotting.test_load import BENCHMARK, make_store

#: trial -> (status, epochs run, decisions at those epochs); rung levels 1 and 3, max_t 9
TRIALS = {
    0: ("completed", 9, {1: "continue", 3: "continue", 9: "complete"}),
    1: ("stopped", 1, {1: "stop"}),
    2: ("stopped", 3, {1: "continue", 3: "stop"}),
    3: ("paused", 3, {1: "continue", 3: "pause"}),
    4: ("running", 2, {1: "continue"}),
    5: ("completed", 9, {1: "continue", 3: "continue", 9: "complete"}),
    6: ("pending", 0, {}),
}


def hand_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """results.parquet and trials.parquet of the run in ``TRIALS`` (metric ``loss``, value 1/epoch + trial/100)."""
    rows = []
    clock = 0.0
    for trial, (_, epochs, decisions) in TRIALS.items():
        for epoch in range(1, epochs + 1):
            clock += 0.5
            value = 1.0 / epoch + trial / 100.0
            rows.append(
                {
                    "trial_id": trial,
                    "x": trial * 0.1,
                    "seed": 0,
                    "epoch": epoch,
                    "time": clock,
                    "worker": trial % 2,
                    "decision": decisions.get(epoch, ""),
                    "loss": value,
                }
            )
    results = pd.DataFrame(rows)
    trials = pd.DataFrame(
        {
            "trial_id": list(TRIALS),
            "x": [t * 0.1 for t in TRIALS],
            "seed": 0,
            "status": [s for s, _, _ in TRIALS.values()],
            "last_epoch": [e for _, e, _ in TRIALS.values()],
            "checkpoint_from": -1,
        }
    )
    return results, trials


def write_tables_run(
    root: Path,
    results: pd.DataFrame,
    trials: pd.DataFrame,
    *,
    benchmark: str = "hand",
    method: str = "ASHA",
    seed: int = 0,
    tag: str = "hand",
    metric: str = "loss",
    mode: str = "min",
    **metadata: Any,
) -> Path:
    """A run written by hand in the store's format (both tables, then metadata.json with their SHA-256)."""
    path = store_format.run_dir(root, tag, benchmark, method, seed)
    path.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, frame in ((store_format.RESULTS_FILE, results), (store_format.TRIALS_FILE, trials)):
        frame.to_parquet(path / name, index=False)
        data = (path / name).read_bytes()
        files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    values = results[metric].to_numpy(dtype=float)
    full = {
        "format_version": store_format.FORMAT_VERSION,
        "completed": True,
        "tag": tag,
        "benchmark": benchmark,
        "method": method,
        "seed": seed,
        "metric": metric,
        "mode": mode,
        "settings": {"max_t": 9},
        "final_best": float(np.nanmin(values) if mode == "min" else np.nanmax(values)),
        "simulated_time_seconds": float(results["time"].max()),
        "stop_reason": "max_wallclock_time",
        "num_results": len(results),
        "files": files,
        **metadata,
    }
    (path / store_format.METADATA_FILE).write_text(json.dumps(full))
    return path


def _base(outcome: str) -> np.ndarray:
    return np.array(_shade(OUTCOMES[outcome][0], 0.0)[:3])


def _is_shade_of(rgba: np.ndarray, outcome: str) -> bool:
    return any(np.allclose(rgba[:3], _shade(OUTCOMES[outcome][0], amount)[:3]) for amount in SHADES)


def test_one_curve_per_trial_coloured_by_outcome_with_rung_and_final_markers():
    results, trials = hand_tables()
    data = learning_curve_data(results, trials, metric="loss", rung_levels=[1, 3], max_t=9)
    by_trial = data.trials.set_index("trial_id")
    assert set(by_trial.index) == {0, 1, 2, 3, 4, 5} and data.num_without_results == 1  # 6 never ran
    assert by_trial["outcome"].to_dict() == {
        0: "completed",
        1: "stopped",
        2: "stopped",
        3: "paused",
        4: "running",
        5: "completed",
    }
    assert data.counts == {"stopped": 2, "paused": 1, "running": 1, "failed": 0, "completed": 2}
    for row, rgba in zip(data.trials.itertuples(), data.colors):
        assert _is_shade_of(rgba, row.outcome), (row.trial_id, row.outcome, rgba)
    # neighbouring trials of one outcome get different shades
    completed = data.colors[(data.trials["outcome"] == "completed").to_numpy()]
    assert not np.allclose(completed[0], completed[1])
    # one segment per trial with two or more results (trial 1 has one), with its epochs and values
    segments = data.segments("epoch")
    drawn = data.trials[data.trials["n_points"] >= 2]["trial_id"].tolist()
    assert len(segments) == len(drawn) == 5
    for trial, segment in zip(drawn, segments):
        epochs = np.arange(1, TRIALS[trial][1] + 1)
        np.testing.assert_array_equal(segment[:, 0], epochs)
        np.testing.assert_allclose(segment[:, 1], 1.0 / epochs + trial / 100.0)
    # circles: rung levels a trial passed (decided there and went on); diamonds: every trial's last result
    points = data.points
    circles = sorted(map(tuple, points[points["rung"]][["trial_id", "epoch"]].to_numpy().tolist()))
    assert circles == [(0, 1), (0, 3), (2, 1), (3, 1), (4, 1), (5, 1), (5, 3)]
    diamonds = dict(points[points["last"]][["trial_id", "epoch"]].to_numpy().tolist())
    assert diamonds == {0: 9, 1: 1, 2: 3, 3: 3, 4: 2, 5: 9}
    assert (data.best_trial, data.best_value) == (0, pytest.approx(1 / 9))


def test_the_figure_draws_those_segments_and_markers(tmp_path):
    results, trials = hand_tables()
    data = learning_curve_data(results, trials, metric="loss", rung_levels=[1, 3], max_t=9, title="hand run")
    figure = plot_learning_curves(data, xscale="log")
    (ax,) = figure.axes
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == 5
    for drawn, expected in zip(lines.get_segments(), data.segments("epoch")):
        np.testing.assert_allclose(drawn, expected)
    np.testing.assert_allclose(lines.get_colors()[:, :3], data.segment_colors()[:, :3])
    circles, diamonds = [c for c in ax.collections if isinstance(c, PathCollection)]
    points = data.points
    np.testing.assert_allclose(circles.get_offsets(), points[points["rung"]][["epoch", "value"]].to_numpy())
    np.testing.assert_allclose(diamonds.get_offsets(), points[points["last"]][["epoch", "value"]].to_numpy())
    np.testing.assert_allclose(diamonds.get_facecolors()[:, :3], data.point_colors(points["last"].to_numpy())[:, :3])
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "rung level (1, 3)" in legend and "last result of a trial" in legend
    assert "completed (epoch 9): 2" in legend and "stopped by the method: 2" in legend
    assert "best loss: 0.1111 (trial 0)" in legend
    assert ax.get_ylabel() == "loss (lower is better)" and ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "3", "9"]
    assert ax.get_title() == "hand run: 7 trials (1 without a result)"
    assert [p.suffix for p in save(figure, tmp_path / "lc")] == [".pdf", ".png"]


def test_max_mode_time_panel_and_log_metric():
    results, trials = hand_tables()
    data = learning_curve_data(results, trials, metric="loss", mode="max", rung_levels=[], max_t=9)
    assert data.best_trial == 5 and data.best_value == pytest.approx(1.05)  # the largest value (min: trial 0)
    assert not data.points["rung"].any()
    figure = plot_learning_curves(data, time_panel=True, ylim=(0.0, 1.2))
    epoch_ax, time_ax = figure.axes
    assert epoch_ax.get_ylabel() == "loss (higher is better)" and epoch_ax.get_ylim() == (0.0, 1.2)
    assert time_ax.get_xlabel() == "simulated time (s)"
    (lines,) = [c for c in time_ax.collections if isinstance(c, LineCollection)]
    for drawn, expected in zip(lines.get_segments(), data.segments("time")):
        np.testing.assert_allclose(drawn, expected)
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert "no rung levels (the method has none)" in legend and not any(t.startswith("rung level") for t in legend)


def test_statuses_from_decisions_when_the_trials_table_has_none():
    results, _ = hand_tables()
    data = learning_curve_data(results, None, metric="loss")
    outcome = data.trials.set_index("trial_id")["outcome"].to_dict()
    assert outcome == {0: "completed", 1: "stopped", 2: "stopped", 3: "paused", 4: "running", 5: "completed"}


def test_a_stored_run_without_rung_levels_says_so(tmp_path):
    results, trials = hand_tables()
    old = write_tables_run(tmp_path / "results", results, trials)
    data = load_learning_curves(old)
    assert data.rung_levels is None and not data.points["rung"].any() and data.max_t == 9
    assert data.title == "ASHA on hand, seed 0"
    legend = [text.get_text() for text in plot_learning_curves(data).legends[0].get_texts()]
    assert "no rung markers: the run's metadata records no rung levels" in legend
    new = write_tables_run(tmp_path / "results", results, trials, seed=1, rung_levels=[1, 3])
    assert load_learning_curves(new).points["rung"].sum() == 7


def test_thousands_of_trials_draw_as_one_collection_quickly():
    rng = np.random.default_rng(0)
    num, epochs = 2000, 12
    last = rng.choice([1, 3, 12], size=num, p=[0.6, 0.3, 0.1])
    trial = np.repeat(np.arange(num), last)
    epoch = np.concatenate([np.arange(1, k + 1) for k in last])
    results = pd.DataFrame(
        {
            "trial_id": trial,
            "epoch": epoch,
            "time": np.arange(len(trial)) * 0.01,
            "loss": rng.random(len(trial)),
            "decision": np.where(np.isin(epoch, [1, 3]), "continue", ""),
        }
    )
    status = np.where(last == epochs, "completed", "stopped")
    trials = pd.DataFrame({"trial_id": np.arange(num), "status": status})
    started = time.perf_counter()
    data = learning_curve_data(results, trials, metric="loss", rung_levels=[1, 3], max_t=epochs)
    figure = plot_learning_curves(data, time_panel=True)
    figure.canvas.draw()
    elapsed = time.perf_counter() - started
    ax = figure.axes[0]
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == int((last >= 2).sum())
    assert len(ax.lines) == 4 and len(ax.collections) == 3  # best trial, star, 2 rung lines; curves, circles, diamonds
    assert elapsed < 10.0, f"{elapsed:.1f} s"


def test_a_real_asha_run_matches_its_trials_table(tmp_path):
    root = make_store(tmp_path / "results", methods=("ASHA",), num_seeds=1)
    path = store_format.run_dir(root, "default", BENCHMARK, "ASHA", 0)
    data = load_learning_curves(path)
    trials = pd.read_parquet(path / store_format.TRIALS_FILE).set_index("trial_id")
    drawn = data.trials.set_index("trial_id")
    assert drawn["outcome"].to_dict() == trials.loc[drawn.index, "status"].to_dict()
    assert drawn["last_epoch"].astype(int).to_dict() == trials.loc[drawn.index, "last_epoch"].to_dict()
    assert data.metric == "valid_loss" and data.mode == "min" and data.max_t == 30
    assert data.best_value == pytest.approx(pd.read_parquet(path / store_format.RESULTS_FILE)["best_so_far"].min())

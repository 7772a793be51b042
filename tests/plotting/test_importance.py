"""Hyperparameter importance: the hyperparameter that determines the metric ranks first, per original column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from plotting import importance as imp
from plotting import run_data
from plotting.figures import save
from tests.plotting.test_learning_curves import hand_tables, write_tables_run

TREES = 40


def synthetic(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """``signal`` determines ``y``; ``noise`` and ``colour`` (a string) do not; ``optimizer`` shifts y a little."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "signal": rng.uniform(0, 1, n),
            "noise": rng.uniform(0, 1, n),
            "colour": rng.choice(["red", "green", "blue"], n),
            "optimizer": rng.choice(["sgd", "adam"], n),
        }
    )
    frame["y"] = 5.0 * frame["signal"] ** 2 + 0.3 * (frame["optimizer"] == "adam") + rng.normal(0, 0.05, n)
    return frame


HPS = ["signal", "noise", "colour", "optimizer"]


def test_the_determining_hyperparameter_ranks_above_noise_and_r2_is_reported():
    result = imp.table_importance(synthetic(), HPS, "y", trees=TREES, seed=1)
    assert result.ranking()[:2] == ["signal", "optimizer"]
    table = result.table.set_index("feature")
    assert table.loc["signal", "mean"] > 10 * max(table.loc["noise", "mean"], table.loc["colour", "mean"], 0.01)
    assert result.r2 > 0.9 and result.meaningful
    assert result.n_train + result.n_test == 400 and result.repeats_values.shape == (4, 10)
    np.testing.assert_allclose(result.repeats_values.mean(axis=1), result.table["mean"])


@pytest.mark.parametrize("encoding", imp.ENCODINGS)
def test_importance_is_per_original_hyperparameter_whatever_the_encoding(encoding):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "optimizer": rng.choice(["sgd", "adam", "rmsprop", "adagrad", None], 300),  # None: inactive
            "width": rng.integers(16, 512, 300),
            "dropout": rng.uniform(0, 0.5, 300),
        }
    )
    effect = {"sgd": 0.0, "adam": 2.0, "rmsprop": 1.0, "adagrad": 3.0, None: -1.0}
    frame["loss"] = frame["optimizer"].map(effect) + rng.normal(0, 0.1, 300)
    result = imp.table_importance(frame, ["optimizer", "width", "dropout"], "loss", encoding=encoding, trees=TREES)
    assert sorted(result.table["feature"]) == ["dropout", "optimizer", "width"]  # no one-hot columns
    assert result.ranking()[0] == "optimizer" and result.r2 > 0.9


def test_the_same_seed_gives_the_same_numbers():
    frame = synthetic(200)
    first = imp.table_importance(frame, HPS, "y", trees=TREES, seed=7)
    again = imp.table_importance(frame, HPS, "y", trees=TREES, seed=7)
    pd.testing.assert_frame_equal(first.table, again.table)
    assert first.r2 == again.r2
    other = imp.table_importance(frame, HPS, "y", trees=TREES, seed=8)
    assert not np.allclose(first.table.set_index("feature")["mean"], other.table.set_index("feature")["mean"])


def test_a_forest_that_predicts_nothing_is_flagged_on_the_figure(tmp_path):
    frame = synthetic(200)
    frame["y"] = np.random.default_rng(5).normal(size=200)  # pure noise
    result = imp.table_importance(frame, HPS, "y", trees=TREES)
    assert result.r2 < imp.MIN_R2 and not result.meaningful
    figure = imp.plot_importance(result)
    texts = [t.get_text() for legend in figure.legends for t in legend.get_texts()]
    assert any("importances are not meaningful" in text for text in texts)
    meaningful = imp.plot_importance(imp.table_importance(synthetic(), HPS, "y", trees=TREES))
    assert not meaningful.legends
    assert [p.suffix for p in save(figure, tmp_path / "noise")] == [".pdf", ".png"]


def test_the_bars_are_sorted_and_the_title_gives_the_fit():
    result = imp.table_importance(synthetic(), HPS, "y", trees=TREES, description="synthetic data")
    figure = imp.plot_importance(result)
    (ax,) = figure.axes
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    np.testing.assert_allclose([bar.get_width() for bar in bars], result.table["mean"])
    assert [t.get_text() for t in ax.get_yticklabels()] == result.ranking()
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # the first (most important) bar on top
    title = ax.get_title()
    assert title.startswith("synthetic data\nrandom forest (40 trees): held-out R² = ") and "of 400 rows" in title


def test_rows_without_a_metric_are_left_out_and_bad_input_is_one_line():
    frame = synthetic(100)
    frame.loc[:9, "y"] = np.nan
    result = imp.table_importance(frame, HPS, "y", trees=TREES)
    assert result.notes == ["10 rows without a finite y left out"] and result.n_train + result.n_test == 90
    with pytest.raises(ValueError, match="lack column"):
        imp.table_importance(frame, ["absent"], "y")
    with pytest.raises(ValueError, match=f"at least {imp.MIN_ROWS} rows"):
        imp.table_importance(frame.head(15), HPS, "y")
    with pytest.raises(ValueError, match="encoding must be one of"):
        imp.table_importance(frame, HPS, "y", encoding="binary")


def test_run_rows_at_max_t_at_an_epoch_and_at_the_last_result(tmp_path):
    results, trials = hand_tables()
    runs = [
        run_data.read_run_data(write_tables_run(tmp_path / "results", results, trials, seed=seed)) for seed in (0, 1)
    ]
    at_max_t = imp.run_importance_frame(runs[:1], level="max_t")
    assert at_max_t.hyperparameters == ["x"] and at_max_t.target == "loss" and at_max_t.fidelity_features == []
    assert sorted(at_max_t.frame["x"]) == [0.0, 0.5]  # trials 0 and 5 reached epoch 9
    np.testing.assert_allclose(sorted(at_max_t.frame["loss"]), [1 / 9, 1 / 9 + 0.05])
    assert at_max_t.description == "ASHA on hand, seed 0: 2 trials, loss at epoch 9 (max_t)"
    at_three = imp.run_importance_frame(runs[:1], level=3)
    assert len(at_three.frame) == 4  # trials 0, 2, 3, 5
    last = imp.run_importance_frame(runs, level="last")
    assert last.fidelity_features == ["epoch"] and len(last.frame) == 12  # 6 trials with results, 2 runs pooled
    assert last.description.startswith("2 runs of ASHA on hand (pooled): 12 trials")
    assert sorted(last.frame[last.frame["x"] == 0.4]["epoch"]) == [2, 2]  # trial 4 ran 2 epochs
    with pytest.raises(ValueError, match="level must be"):
        imp.run_importance_frame(runs, level="best")


def test_the_epoch_reached_is_a_feature_of_its_own_at_level_last():
    rng = np.random.default_rng(2)
    frame = synthetic(300)
    frame["epoch"] = rng.integers(1, 10, 300)
    frame["y"] = frame["y"] + 10.0 / frame["epoch"]
    data = imp.ImportanceData(frame, HPS, "y", fidelity_features=["epoch"])
    result = imp.importance_of(data, trees=TREES)
    kinds = result.table.set_index("feature")["kind"]
    assert kinds["epoch"] == "fidelity" and kinds["signal"] == "hyperparameter"
    labels = [t.get_text() for t in imp.plot_importance(result).axes[0].get_yticklabels()]
    assert "epoch reached" in labels


def test_a_table_file_of_experiments_table_data(tmp_path):
    from experiments.table_data import METADATA_KEY, TableInfo, write_table

    assert imp.TABLE_METADATA_KEY == METADATA_KEY
    frame = synthetic(120).rename(columns={"y": "valid_loss"})
    frame.insert(0, "config_id", np.arange(120))
    frame["seed"] = 0
    info = TableInfo("toy", "toy", "valid_loss", "min", "epoch", 9, 9, HPS, "sample", 120, [0], 0, 0)
    write_table(frame, info, tmp_path / "toy.parquet")
    data = imp.read_table_data(tmp_path / "toy.parquet")
    assert data.hyperparameters == HPS and data.target == "valid_loss" and data.mode == "min"
    assert data.description == "toy: 120 sampled configurations x 1 seed, valid_loss at epoch 9"
    assert imp.importance_of(data, trees=TREES).ranking()[0] == "signal"
    frame.to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(ValueError, match="not written by python -m experiments.table_data"):
        imp.read_table_data(tmp_path / "plain.parquet")

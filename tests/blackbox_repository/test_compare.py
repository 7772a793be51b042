"""Disagreement figures between a table and a surrogate (YAHPO lcbench as the surrogate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import Blackbox, Objective
from blackbox_repository.compare import LCBENCH_OPENML_TASKS, compare_table_with_surrogate, spearman
from blackbox_repository.yahpo import load_yahpo, yahpo_instances

pytestmark = pytest.mark.usefixtures("yahpo_data")
EPOCHS = 50


def table_from_surrogate(surrogate, shift: float = 0.0, num_configs: int = 40) -> Blackbox:
    """An LCBench-shaped table whose epoch e holds the surrogate's epoch e + 1 (plus ``shift``)."""
    configs = pd.DataFrame(surrogate.space.sample_many(np.random.default_rng(1), num_configs))
    epochs = np.arange(1, EPOCHS + 1)
    rows = configs.loc[configs.index.repeat(EPOCHS)].reset_index(drop=True)
    predicted = surrogate.evaluate(rows, np.tile(epochs + 1, num_configs))
    accuracy = predicted[:, surrogate.objective_index("val_accuracy")].reshape(num_configs, 1, EPOCHS) + shift
    time = predicted[:, surrogate.objective_index("surrogate_time")].reshape(num_configs, 1, EPOCHS)
    start = surrogate.evaluate(configs, np.ones(num_configs))[:, surrogate.objective_index("surrogate_time")]
    elapsed = time - start[:, None, None]
    return Blackbox(
        name="lcbench-test",
        space=surrogate.space,
        configs=configs,
        fidelities=epochs,
        seeds=np.array([0]),
        objectives=np.stack([accuracy, elapsed], axis=-1),
        objective_info=[Objective("val_accuracy", "max"), Objective("elapsed_time")],
        metric="val_accuracy",
        runtime_objective=None,
    )


def test_a_table_equal_to_the_surrogate_shows_no_disagreement():
    surrogate = load_yahpo("yahpo-lcbench-189908")
    table = table_from_surrogate(surrogate)
    other = load_yahpo("yahpo-lcbench-3945")
    figures = compare_table_with_surrogate(table, surrogate, surrogate_elapsed="surrogate_time",
                                           other_instances=[other])
    assert figures["mae_all"] == 0 and figures["max_abs_final"] == 0
    assert figures["spearman_final"] == pytest.approx(1.0)
    assert figures["regret_of_surrogate_best"] == 0
    assert figures["elapsed_ratio_median"] == pytest.approx(1.0)
    assert figures["best_matching_instance"] == surrogate.name
    naive = compare_table_with_surrogate(table, surrogate, epoch_offset=0)
    assert naive["mae_all"] > 0  # misaligned epochs disagree


def test_a_shifted_table_disagrees_by_the_shift():
    surrogate = load_yahpo("yahpo-lcbench-189908")
    figures = compare_table_with_surrogate(table_from_surrogate(surrogate, shift=-2.5), surrogate)
    assert figures["mae_all"] == pytest.approx(2.5) and figures["mae_final"] == pytest.approx(2.5)
    assert figures["spearman_final"] == pytest.approx(1.0)  # same order, shifted values


def test_spearman_by_hand():
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 40])) == pytest.approx(1.0)
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([4.0, 3, 2, 1])) == pytest.approx(-1.0)
    # ranks (1, 2, 3) vs (1, 3, 2): 1 - 6 * 2 / (3 * 8) = 0.5
    assert spearman(np.array([1.0, 2, 3]), np.array([1.0, 3, 2])) == pytest.approx(0.5)
    assert np.isnan(spearman(np.array([1.0, np.nan]), np.array([1.0, 2.0])))


def test_mapping_covers_the_yahpo_instances():
    instances = {int(i) for i in yahpo_instances("lcbench")}
    assert len(LCBENCH_OPENML_TASKS) == 35 and len(set(LCBENCH_OPENML_TASKS.values())) == 35
    assert instances <= set(LCBENCH_OPENML_TASKS.values())

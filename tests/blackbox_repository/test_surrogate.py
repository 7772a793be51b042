"""Surrogates fitted on a table: nearest neighbours return real curves, models predict held-out configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import Blackbox, BlackboxError, Objective
from blackbox_repository.surrogate import SurrogateBlackbox
from methods import ASHA
from searchspace import Categorical, Float, SearchSpace, SearchSpaceError
from simulator import StopCriteria, simulate

EPOCHS = 12


def smooth_table(num_configs: int = 300, seed: int = 0) -> Blackbox:
    """Random samples of a continuous space; error = (x - 0.6)^2 + 0.1·[act == tanh] + 1/epoch (+ seed noise)."""
    rng = np.random.default_rng(seed)
    space = SearchSpace({"x": Float(0.0, 1.0), "lr": Float(1e-4, 1e-1, log=True), "act": Categorical(("relu", "tanh"))})
    configs = pd.DataFrame(space.sample_many(rng, num_configs))
    epochs = np.arange(1, EPOCHS + 1)
    base = (configs["x"].to_numpy() - 0.6) ** 2 + 0.1 * (configs["act"] == "tanh").to_numpy()
    error = base[:, None, None] + 1.0 / epochs + rng.normal(0, 0.002, size=(num_configs, 2, EPOCHS))
    runtime = np.broadcast_to(1.0 + configs["x"].to_numpy()[:, None, None], error.shape)
    objectives = np.stack([error, runtime, np.cumsum(runtime, axis=2)], axis=-1)
    return Blackbox(
        name="smooth",
        space=space,
        configs=configs,
        fidelities=epochs,
        seeds=np.arange(2),
        objectives=objectives,
        objective_info=[Objective("error", "min"), Objective("runtime", None, "s"), Objective("elapsed_time")],
        metric="error",
    )


def test_one_nearest_neighbour_returns_the_tabulated_curve_of_the_nearest_config():
    table = smooth_table()
    surrogate = SurrogateBlackbox(table, "knn")
    tabulated = table.config(17)
    np.testing.assert_array_equal(surrogate.curve(tabulated, 1), table.objectives[17, 1])
    nudged = dict(tabulated, x=tabulated["x"] + 1e-6)
    np.testing.assert_array_equal(surrogate.curve(nudged, 0), table.objectives[17, 0])
    assert surrogate.seed_indices(nudged).tolist() == [0, 1]
    assert surrogate.nearest_configs(pd.DataFrame([nudged])).iloc[0].to_dict() == tabulated


def test_k_neighbours_average_per_seed_and_evaluate_matches_curve():
    table = smooth_table()
    surrogate = SurrogateBlackbox(table, "knn", n_neighbors=3)
    config = {"x": 0.5, "lr": 1e-3, "act": "relu"}
    curve = surrogate.curve(config, 0)
    rows = surrogate._nearest_rows(pd.DataFrame([config]))[0]
    np.testing.assert_allclose(curve, table.objectives[rows, 0].mean(axis=0))
    frame = pd.DataFrame([config, config])
    out = surrogate.evaluate(frame, np.array([1, EPOCHS]))
    np.testing.assert_allclose(out, curve[[0, -1]])


@pytest.mark.parametrize("model", ["random_forest", "xgboost", "mlp"])
def test_models_predict_held_out_configurations(model, tmp_path):
    table = smooth_table()
    kwargs = {"max_iter": 400} if model == "mlp" else {}
    surrogate = SurrogateBlackbox(table, model, seed=0, cache_dir=tmp_path, **kwargs)
    held_out = [{"x": x, "lr": 3e-3, "act": act} for x in (0.1, 0.35, 0.6, 0.85) for act in ("relu", "tanh")]
    errors = []
    for config in held_out:
        truth = (config["x"] - 0.6) ** 2 + 0.1 * (config["act"] == "tanh") + 1.0 / np.arange(1, EPOCHS + 1)
        curve = surrogate.curve(config, 0)
        assert curve.shape == (EPOCHS, 3)
        errors.append(np.abs(curve[:, 0] - truth))
        assert np.all(curve[:, 1] >= 0)
        np.testing.assert_allclose(curve[:, 2], np.cumsum(curve[:, 1]))  # elapsed time is consistent
    # the spread of the truth over these configurations is ~0.4; a useful model is far closer than that
    assert np.mean(errors) < 0.03 and np.max(errors) < 0.1, (model, np.mean(errors), np.max(errors))
    assert surrogate.seeds.tolist() == [0]
    cached = list((tmp_path / "surrogates" / "smooth").glob(f"{model}-*.pkl"))
    assert len(cached) == 1
    again = SurrogateBlackbox(table, model, seed=0, cache_dir=tmp_path, **kwargs)  # loaded, not refitted
    np.testing.assert_array_equal(again.curve(held_out[0], 0), surrogate.curve(held_out[0], 0))


def test_surrogate_runs_in_the_simulator_deterministically():
    table = smooth_table()
    results = []
    for _ in range(2):
        surrogate = SurrogateBlackbox(table, "knn")
        scheduler = ASHA(table.space, metric="error", max_t=EPOCHS, seed=5)
        result = simulate(surrogate, scheduler, n_workers=4, seed=5, stop=StopCriteria(max_wallclock_time=200.0))
        results.append(result.results_frame())
    pd.testing.assert_frame_equal(*results)
    assert results[0]["trial_id"].nunique() > 20


def test_bad_inputs_give_clear_errors():
    table = smooth_table(num_configs=20)
    with pytest.raises(BlackboxError, match="unknown surrogate 'gp'; choose one of knn, random_forest"):
        SurrogateBlackbox(table, "gp")
    surrogate = SurrogateBlackbox(table, "knn")
    with pytest.raises(SearchSpaceError, match="value 2.0 of hyperparameter 'x' is outside its domain"):
        surrogate.curve({"x": 2.0, "lr": 1e-3, "act": "relu"}, 0)
    with pytest.raises(BlackboxError, match=r"input lacks hyperparameter column\(s\) \['act'\]"):
        surrogate.evaluate(pd.DataFrame({"x": [0.1], "lr": [1e-3]}), np.array([1]))
    with pytest.raises(BlackboxError, match="n_neighbors must be a positive integer"):
        SurrogateBlackbox(table, "knn", n_neighbors=0)

"""Surrogates fitted on a table: nearest neighbours return real curves, models predict held-out configs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import Blackbox, BlackboxError, Objective
from blackbox_repository import surrogate as surrogate_module
from blackbox_repository.surrogate import MLP_MAX_ITER, SurrogateBlackbox
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


def test_seed_index_is_checked_with_a_one_line_error():
    table = smooth_table(num_configs=40)
    knn = SurrogateBlackbox(table, "knn")
    config = table.config(3)
    for index in (2, -1):
        with pytest.raises(BlackboxError) as error:
            knn.curve(config, index)
        assert str(error.value) == f"surrogate 'smooth+knn' has seed indices 0..1, got seed index {index}"
    with pytest.raises(BlackboxError, match="has seed indices 0..1, got seed index 2"):
        knn.evaluate(pd.DataFrame([config]), np.array([1]), seed_index=2)
    forest = SurrogateBlackbox(table, "random_forest", n_estimators=5)
    with pytest.raises(BlackboxError) as error:
        forest.curve(config, 1)
    assert str(error.value) == (
        "surrogate 'smooth+random_forest' has one seed (index 0), got seed index 1: a regression surrogate "
        "predicts the mean over seeds"
    )
    with pytest.raises(BlackboxError, match="has one seed"):
        forest.evaluate(pd.DataFrame([config]), np.array([1]), seed_index=1)


@pytest.mark.parametrize("model", ["random_forest", "xgboost"])
def test_threads_are_an_argument_defaulting_to_one_and_do_not_change_results(model):
    table = smooth_table(num_configs=60)
    kwargs = {"n_estimators": 10}
    one = SurrogateBlackbox(table, model, **kwargs)
    assert one.threads == 1
    if model == "xgboost":
        assert one._regressor.get_params()["n_jobs"] == 1
    two = SurrogateBlackbox(table, model, threads=2, **kwargs)
    if model == "xgboost":
        assert two._regressor.get_params()["n_jobs"] == 2
    configs = pd.DataFrame([table.config(i) for i in range(10)])
    last = np.full(10, EPOCHS)
    np.testing.assert_array_equal(one.evaluate(configs, last), two.evaluate(configs, last))
    with pytest.raises(BlackboxError, match="surrogate threads must be a positive integer, got 0"):
        SurrogateBlackbox(table, model, threads=0)


def test_forest_fit_uses_the_given_threads(monkeypatch):
    from sklearn.ensemble import RandomForestRegressor

    seen = []
    fit = RandomForestRegressor.fit

    def spy(self, *args, **kwargs):
        seen.append(self.n_jobs)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(RandomForestRegressor, "fit", spy)
    SurrogateBlackbox(smooth_table(num_configs=30), "random_forest", n_estimators=3)
    SurrogateBlackbox(smooth_table(num_configs=30), "random_forest", threads=2, n_estimators=3)
    assert seen == [1, 2]


def test_a_code_change_refits_instead_of_reusing_the_cached_model(tmp_path, monkeypatch):
    table = smooth_table(num_configs=40)
    SurrogateBlackbox(table, "random_forest", cache_dir=tmp_path, n_estimators=3)
    SurrogateBlackbox(table, "random_forest", cache_dir=tmp_path, n_estimators=3)  # same code: reused
    assert len(list((tmp_path / "surrogates" / "smooth").glob("*.pkl"))) == 1
    monkeypatch.setattr(surrogate_module, "CODE_DIGEST", "edited-surrogate")
    SurrogateBlackbox(table, "random_forest", cache_dir=tmp_path, n_estimators=3)
    assert len(list((tmp_path / "surrogates" / "smooth").glob("*.pkl"))) == 2


def test_regression_models_fit_the_objectives_they_keep_and_the_mlp_cost_is_bounded():
    table = smooth_table()
    mlp = SurrogateBlackbox(table, "mlp")
    network = mlp._regressor.regressor_
    assert network.n_outputs_ == 2  # error and runtime; the elapsed time is the runtime's cumulative sum
    assert network.early_stopping and network.max_iter == MLP_MAX_ITER and network.n_iter_ <= MLP_MAX_ITER
    weights = np.concatenate([w.ravel() for w in network.coefs_])
    assert not np.any((weights != 0) & (np.abs(weights) < np.finfo(np.float64).tiny))  # no subnormal weights
    curve = mlp.curve(table.config(0), 0)
    np.testing.assert_allclose(curve[:, 2], np.cumsum(curve[:, 1]))
    forest = SurrogateBlackbox(table, "random_forest", n_estimators=5)
    assert forest._regressor.n_outputs_ == 2


def test_the_mlp_fit_uses_the_given_blas_threads(monkeypatch):
    seen = []
    real = surrogate_module.threadpool_limits

    def recording(limits=None, **kwargs):
        seen.append(limits)
        return real(limits=limits, **kwargs)

    monkeypatch.setattr(surrogate_module, "threadpool_limits", recording)
    table = smooth_table(num_configs=30)
    SurrogateBlackbox(table, "mlp", max_iter=5)
    SurrogateBlackbox(table, "mlp", threads=2, max_iter=5)
    assert seen == [1, 2]

"""The simulator replays any ``BlackboxBase``: tables with missing seeds and benchmarks computed on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxBase, BlackboxError, Objective
from methods import ASHA, RandomSearch
from searchspace import Float, SearchSpace
from simulator import SimulationError, StopCriteria, simulate
from tests.conftest import make_table


def test_missing_seeds_are_never_replayed():
    rng = np.random.default_rng(0)
    metric = rng.uniform(0.1, 1.0, size=(6, 3, 5))
    runtime = np.ones((6, 3, 5))
    metric[::2, 2] = np.nan  # even configurations lack their third seed, as NASBench-201 lacks seed 999
    metric[5, :] = np.nan  # configuration 5 has no seed at all
    blackbox = make_table(metric, runtime)
    assert blackbox.seed_indices({"x": 0}).tolist() == [0, 1]
    assert blackbox.seed_indices({"x": 1}).tolist() == [0, 1, 2]
    assert blackbox.seed_indices({"x": 5}).tolist() == []

    used = {config: set() for config in range(6)}
    for seed in range(40):
        scheduler = RandomSearch(blackbox.space, metric="error", max_t=5, seed=seed, allow_duplicates=True)
        result = simulate(blackbox, scheduler, n_workers=2, seed=seed, stop=StopCriteria(max_trials=12))
        trials = result.trials_frame()
        for row in trials.itertuples():
            used[row.x].add(row.seed)
            assert (row.status == "failed") == (row.x == 5)
    for config in (0, 2, 4):
        assert used[config] == {0, 1}
    for config in (1, 3):
        assert used[config] == {0, 1, 2}


class Quadratic(BlackboxBase):
    """A benchmark computed on demand: error = (x - 0.3)^2 + 1/epoch, one second per epoch."""

    def __init__(self) -> None:
        self.name = "quadratic"
        self.space = SearchSpace({"x": Float(0.0, 1.0)})
        self.fidelities = np.arange(1, 11)
        self.seeds = np.array([0])
        self.objective_info = (Objective("error", "min"), Objective("runtime", None, "s"))
        self.metric = "error"
        self.runtime_objective = "runtime"
        self.elapsed_objective = None
        self.fidelity_name = "epoch"
        self.metadata = {}
        self.calls = 0

    def curve(self, config: Mapping[str, Any], seed_index: int) -> np.ndarray:
        self.space.validate(config)
        self.calls += 1
        epochs = self.fidelities.astype(float)
        return np.stack([(config["x"] - 0.3) ** 2 + 1 / epochs, np.ones_like(epochs)], axis=1)


def test_benchmark_computed_on_demand():
    blackbox = Quadratic()
    scheduler = ASHA(blackbox.space, metric="error", max_t=10, seed=3)
    result = simulate(blackbox, scheduler, n_workers=3, seed=3, stop=StopCriteria(max_wallclock_time=40.0))
    frame = result.results_frame()
    assert blackbox.calls == result.num_trials  # one curve per trial
    expected = (frame["x"] - 0.3) ** 2 + 1 / frame["epoch"]
    np.testing.assert_allclose(frame["error"], expected)
    np.testing.assert_allclose(frame["time"] % 1.0, 0.0, atol=1e-9)  # one second per epoch from time 0
    assert result.trials_frame()["x"].between(0, 1).all()
    again = simulate(Quadratic(), ASHA(blackbox.space, metric="error", max_t=10, seed=3), n_workers=3, seed=3,
                     stop=StopCriteria(max_wallclock_time=40.0))
    assert again.results_frame().equals(frame)


def test_evaluate_uses_curves_and_checks_fidelities():
    blackbox = Quadratic()
    out = blackbox.evaluate(pd.DataFrame({"x": [0.3, 0.5, 0.3]}), np.array([1, 10, 2]))
    np.testing.assert_allclose(out[:, 0], [1.0, 0.04 + 0.1, 0.5])
    with pytest.raises(BlackboxError, match="epoch 11 is not one of its fidelities"):
        blackbox.evaluate(pd.DataFrame({"x": [0.3]}), np.array([11]))


def test_invalid_configuration_of_computed_benchmark_is_reported():
    class Bad(RandomSearch):
        def suggest(self, new_trial_id):
            suggestion = super().suggest(new_trial_id)
            suggestion.config["x"] = 2.0
            return suggestion

    blackbox = Quadratic()
    with pytest.raises(SimulationError, match="suggested an invalid configuration.*outside its domain"):
        simulate(blackbox, Bad(blackbox.space, metric="error", max_t=10, seed=0), n_workers=1, seed=0,
                 stop=StopCriteria(max_trials=2))

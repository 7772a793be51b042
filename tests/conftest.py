"""Shared fixtures: small hand-built tables (synthetic, for tests only; never presented as benchmarks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import Blackbox, Objective
from searchspace import Categorical, Grid, SearchSpace


def make_table(
    metric: np.ndarray,
    runtime: np.ndarray,
    *,
    name: str = "hand-built",
    mode: str = "min",
) -> Blackbox:
    """A blackbox over one hyperparameter ``x`` = 0..C-1 from arrays of shape (C, S, F)."""
    num_configs, num_seeds, num_epochs = metric.shape
    space = SearchSpace({"x": Grid(tuple(range(num_configs)))})
    configs = pd.DataFrame({"x": np.arange(num_configs)})
    objectives = np.stack([metric, runtime, np.cumsum(runtime, axis=2)], axis=-1).astype(float)
    return Blackbox(
        name=name,
        space=space,
        configs=configs,
        fidelities=np.arange(1, num_epochs + 1),
        seeds=np.arange(num_seeds),
        objectives=objectives,
        objective_info=[
            Objective("error", mode),
            Objective("runtime", None, "s"),
            Objective("elapsed_time", None, "s"),
        ],
        metric="error",
    )


@pytest.fixture
def random_table() -> Blackbox:
    """60 configurations x 2 hyperparameters, 3 seeds, 27 epochs of random curves and runtimes."""
    rng = np.random.default_rng(12345)
    space = SearchSpace({"a": Grid(tuple(range(30))), "b": Categorical(("x", "y"))})
    configs = pd.DataFrame([{"a": a, "b": b} for a in range(30) for b in ("x", "y")])
    num_configs, num_seeds, num_epochs = 60, 3, 27
    start = rng.uniform(0.3, 1.0, size=(num_configs, 1, 1))
    decay = rng.uniform(0.01, 0.2, size=(num_configs, 1, 1))
    noise = rng.normal(0, 0.01, size=(num_configs, num_seeds, num_epochs))
    epochs = np.arange(1, num_epochs + 1)
    metric = start * np.exp(-decay * epochs) + noise
    runtime = rng.uniform(0.5, 2.0, size=(num_configs, 1, 1)) * rng.uniform(0.9, 1.1, size=(1, num_seeds, num_epochs))
    objectives = np.stack([metric, runtime, np.cumsum(runtime, axis=2)], axis=-1)
    return Blackbox(
        name="random-table",
        space=space,
        configs=configs,
        fidelities=epochs,
        seeds=np.arange(num_seeds),
        objectives=objectives,
        objective_info=[
            Objective("error", "min"),
            Objective("runtime", None, "s"),
            Objective("elapsed_time", None, "s"),
        ],
        metric="error",
    )

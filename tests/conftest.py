"""Shared fixtures: small hand-built tables (synthetic, for tests only; never presented as benchmarks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import Blackbox, Objective
from searchspace import Categorical, Grid, SearchSpace


@pytest.fixture(autouse=True)
def no_user_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never reach a developer's own S3 mirror; mirror tests start their own server."""
    monkeypatch.delenv("HPO_BLACKBOX_MIRROR", raising=False)
    monkeypatch.delenv("HPO_BLACKBOX_MIRROR_UPLOAD", raising=False)


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


def decaying_curves_table(
    name: str,
    space: SearchSpace,
    configs: pd.DataFrame,
    *,
    num_seeds: int,
    num_epochs: int,
    seed: int,
    start_range: tuple[float, float],
    decay_range: tuple[float, float],
    noise: float,
) -> Blackbox:
    """Random exponentially decaying curves with per-config runtimes of 0.5-2 s per epoch (tests only)."""
    rng = np.random.default_rng(seed)
    num_configs = len(configs)
    epochs = np.arange(1, num_epochs + 1)
    start = rng.uniform(*start_range, size=(num_configs, 1, 1))
    decay = rng.uniform(*decay_range, size=(num_configs, 1, 1))
    metric = start * np.exp(-decay * epochs) + rng.normal(0, noise, size=(num_configs, num_seeds, num_epochs))
    runtime = rng.uniform(0.5, 2.0, size=(num_configs, 1, 1)) * rng.uniform(0.9, 1.1, size=(1, num_seeds, num_epochs))
    objectives = np.stack([metric, runtime, np.cumsum(runtime, axis=2)], axis=-1)
    return Blackbox(
        name=name,
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


@pytest.fixture
def random_table() -> Blackbox:
    """60 configurations x 2 hyperparameters, 3 seeds, 27 epochs of random curves and runtimes."""
    space = SearchSpace({"a": Grid(tuple(range(30))), "b": Categorical(("x", "y"))})
    configs = pd.DataFrame([{"a": a, "b": b} for a in range(30) for b in ("x", "y")])
    return decaying_curves_table(
        "random-table",
        space,
        configs,
        num_seeds=3,
        num_epochs=27,
        seed=12345,
        start_range=(0.3, 1.0),
        decay_range=(0.01, 0.2),
        noise=0.01,
    )

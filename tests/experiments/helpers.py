"""Helpers: a small synthetic table (for tests only; never presented as a benchmark)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from blackbox_repository import Blackbox, Objective
from searchspace import Categorical, Grid, SearchSpace

TOY = "toy-table"
#: flags every CLI run on the toy table needs (it has no registered time budget)
TOY_ARGS = ["--benchmark", TOY, "--max_wallclock_time", "40"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def make_toy_blackbox(name: str = TOY) -> Blackbox:
    """60 configurations (20 x 3 grid), 3 seeds, 9 epochs of random decaying curves; runtimes 0.5-2 s."""
    rng = np.random.default_rng(2024)
    levels = ("x", "y", "z")
    space = SearchSpace({"a": Grid(tuple(range(20))), "b": Categorical(levels)})
    configs = pd.DataFrame([{"a": a, "b": b} for a in range(20) for b in levels])
    num_configs, num_seeds, num_epochs = 60, 3, 9
    epochs = np.arange(1, num_epochs + 1)
    start = rng.uniform(0.4, 1.0, size=(num_configs, 1, 1))
    decay = rng.uniform(0.05, 0.4, size=(num_configs, 1, 1))
    metric = start * np.exp(-decay * epochs) + rng.normal(0, 0.02, size=(num_configs, num_seeds, num_epochs))
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


def subprocess_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HPO_BLACKBOX_CACHE"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env

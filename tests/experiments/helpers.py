"""Helpers: a small synthetic table (for tests only; never presented as a benchmark)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from blackbox_repository import Blackbox
from searchspace import Categorical, Grid, SearchSpace
from tests.conftest import decaying_curves_table

TOY = "toy-table"
#: flags every CLI run on the toy table needs (it has no registered time budget)
TOY_ARGS = ["--benchmark", TOY, "--max_wallclock_time", "40"]
REPO_ROOT = Path(__file__).resolve().parents[2]


def make_toy_blackbox(name: str = TOY) -> Blackbox:
    """60 configurations (20 x 3 grid), 3 seeds, 9 epochs of random decaying curves; runtimes 0.5-2 s."""
    levels = ("x", "y", "z")
    space = SearchSpace({"a": Grid(tuple(range(20))), "b": Categorical(levels)})
    configs = pd.DataFrame([{"a": a, "b": b} for a in range(20) for b in levels])
    return decaying_curves_table(
        name,
        space,
        configs,
        num_seeds=3,
        num_epochs=9,
        seed=2024,
        start_range=(0.4, 1.0),
        decay_range=(0.05, 0.4),
        noise=0.02,
    )


def subprocess_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HPO_BLACKBOX_CACHE"] = str(cache)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env

"""A real tuning run as the results store takes it: a ``SimulationResult`` over a ``TuningProblem``.

The store (``experiments.store.write_run``) and the plotting readers see the same tables as for a simulated run;
``time`` holds real seconds since the tuner started and ``seed`` the training seed each trial was called with.
``TuningProblem`` is the benchmark-shaped description of the problem that the store reads (space, epochs,
training seeds, the recorded metrics and their modes); it has no table behind it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository import BlackboxBase, BlackboxError, Objective
from blackbox_repository.tabulate import machine_info
from experiments.run_task import library_versions, result_fields
from experiments.trial_metrics import ELAPSED, EPOCH_KEY, RUNTIME
from searchspace import SearchSpace
from simulator import SimulationResult

VERSION_PACKAGES = ("numpy", "pandas", "scikit-learn", "threadpoolctl", "hpo-workbench")


class TuningProblem(BlackboxBase):
    """The problem of a real tuning run, shaped like a benchmark for the store (``curve`` is not available)."""

    def __init__(
        self,
        name: str,
        space: SearchSpace,
        max_t: int,
        train_seeds: Sequence[int],
        metric_names: Sequence[str],
        metric: str,
        mode: str,
    ) -> None:
        self.name = name
        self.space = space
        self.fidelities = np.arange(1, int(max_t) + 1)
        self.seeds = np.asarray(train_seeds, dtype=np.int64)
        self.objective_info = [Objective(name, mode if name == metric else None) for name in metric_names]
        self.metric = metric
        self.runtime_objective = RUNTIME if RUNTIME in metric_names else None
        self.elapsed_objective = ELAPSED if ELAPSED in metric_names else None
        self.fidelity_name = EPOCH_KEY
        self.metadata = {}

    def curve(self, config: Any, seed_index: int) -> np.ndarray:
        raise BlackboxError(f"{self.name!r} is a real tuning run: it has no table to replay")


def make_result(
    problem: TuningProblem,
    *,
    trial_id: np.ndarray,
    epoch: np.ndarray,
    time: np.ndarray,
    worker: np.ndarray,
    segment: np.ndarray,
    outcome: np.ndarray,
    objectives: np.ndarray,
    configs: Sequence[dict[str, Any]],
    seed_indices: Sequence[int],
    status: Sequence[str],
    last_epochs: Sequence[int],
    sources: Sequence[int],
    end_time: float,
    decision_seconds: float,
    num_decisions: int,
    stop_reason: str,
) -> SimulationResult:
    """The rows in time order (ties: segment order, then epoch), as the simulator orders them."""
    order = np.lexsort((epoch, segment, time))
    return SimulationResult(
        blackbox=problem,
        trial_id=trial_id[order],
        epoch=epoch[order],
        time=time[order],
        worker=worker[order],
        outcome=outcome[order],
        objectives=objectives[order],
        trial_configs=pd.DataFrame(list(configs), columns=problem.space.names),
        trial_seed_indices=np.asarray(seed_indices, dtype=np.int64),
        trial_status=list(status),
        trial_epochs=np.asarray(last_epochs, dtype=np.int64),
        trial_checkpoint_from=np.asarray(sources, dtype=np.int64),
        simulated_time=float(end_time),
        decision_seconds=float(decision_seconds),
        num_decisions=int(num_decisions),
        stop_reason=stop_reason,
    )


def environment() -> dict[str, Any]:
    """Library versions, the machine (as ``tabulate`` records it) and its load average now."""
    versions = library_versions(VERSION_PACKAGES)
    return {"versions": versions, "machine": machine_info(), "load_average_at_start": load_average()}


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (None where the platform has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def result_summary(result: SimulationResult, metric: str) -> dict[str, Any]:
    """The metadata fields every run records about its result (``run_task.result_fields``), and how many trials
    ended in each status."""
    statuses = result.trial_status
    return {
        **result_fields(result, metric),
        "trial_statuses": {status: statuses.count(status) for status in sorted(set(statuses))},
    }

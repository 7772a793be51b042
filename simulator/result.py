"""The outcome of one simulated experiment, as columns in time order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from blackbox_repository import BlackboxBase

#: ``outcome`` codes of a result row: "" means the method was not consulted at that epoch.
OUTCOMES = ("", "continue", "pause", "stop", "complete", "failed")


@dataclass(eq=False)
class SimulationResult:
    """Every result (one per trial and epoch run), sorted by simulated time.

    Row arrays (length = number of results): ``trial_id``, ``epoch``, ``time`` (simulated seconds
    at the end of the epoch), ``worker``, ``outcome`` (index into ``OUTCOMES``), ``objectives``
    (results × objectives). Per trial (indexed by trial id): ``trial_configs`` (one row per trial, one
    column per hyperparameter), ``trial_seed_indices``, ``trial_status``, ``trial_epochs`` (last epoch run),
    ``trial_checkpoint_from`` (the trial whose checkpoint it started from, -1 if none).
    ``simulated_time`` is the simulated end of the experiment; ``decision_seconds`` the CPU time
    (``time.thread_time`` of the simulating thread) the method spent deciding: a separate clock, never part of
    simulated time, and not inflated by machine load.
    """

    blackbox: BlackboxBase
    trial_id: np.ndarray
    epoch: np.ndarray
    time: np.ndarray
    worker: np.ndarray
    outcome: np.ndarray
    objectives: np.ndarray
    trial_configs: pd.DataFrame
    trial_seed_indices: np.ndarray
    trial_status: list[str]
    trial_epochs: np.ndarray
    simulated_time: float
    decision_seconds: float
    num_decisions: int
    stop_reason: str
    trial_checkpoint_from: np.ndarray | None = None

    @property
    def num_results(self) -> int:
        return len(self.trial_id)

    @property
    def num_trials(self) -> int:
        return len(self.trial_configs)

    def metric(self, name: str | None = None) -> np.ndarray:
        return self.objectives[:, self.blackbox.objective_index(name or self.blackbox.metric)]

    def best_so_far(self, name: str | None = None) -> np.ndarray:
        """Running best of a metric over results in time order (respecting its mode)."""
        name = name or self.blackbox.metric
        values = self.metric(name)
        if self.blackbox.objective(name).mode == "max":
            return np.fmax.accumulate(values)
        return np.fmin.accumulate(values)

    def results_frame(self) -> pd.DataFrame:
        """One row per result: trial, configuration, epoch, simulated time, worker, decision, objectives."""
        bb = self.blackbox
        frame = {"trial_id": self.trial_id}
        for name in bb.space.names:
            frame[name] = self.trial_configs[name].to_numpy()[self.trial_id]
        frame["seed"] = np.asarray(bb.seeds)[self.trial_seed_indices[self.trial_id]]
        frame[bb.fidelity_name] = self.epoch
        frame["time"] = self.time
        frame["worker"] = self.worker
        frame["decision"] = pd.Categorical.from_codes(self.outcome.astype(np.int64), categories=list(OUTCOMES))
        for i, name in enumerate(bb.objective_names):
            frame[name] = self.objectives[:, i]
        return pd.DataFrame(frame)

    def trials_frame(self) -> pd.DataFrame:
        """One row per trial: configuration, replayed benchmark seed, final status, last epoch, and
        ``checkpoint_from``: the trial whose checkpoint it started from (-1: from scratch)."""
        bb = self.blackbox
        frame = {"trial_id": np.arange(self.num_trials)}
        for name in bb.space.names:
            frame[name] = self.trial_configs[name].to_numpy()
        frame["seed"] = np.asarray(bb.seeds)[self.trial_seed_indices]
        frame["status"] = self.trial_status
        frame["last_epoch"] = self.trial_epochs
        sources = self.trial_checkpoint_from
        frame["checkpoint_from"] = sources if sources is not None else np.full(self.num_trials, -1, dtype=np.int64)
        return pd.DataFrame(frame)

"""Evaluations of other tasks, the input of transfer-learning methods (ZeroShotTransfer, BoundingBox, CTS, RUSH).

A ``TransferTask`` is one other task (another dataset of the same benchmark family, on the same search space):
configurations and the value of the optimised metric at every fidelity, averaged over the task's seeds. Methods
take a sequence of them as ``transfer_evaluations``; ``experiments.transfer`` builds them from the repository
under a leave-one-task-out protocol (the target task is never among them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from methods.objectives import check_mode
from searchspace import Config


@dataclass(frozen=True, eq=False)
class TransferTask:
    """One other task's evaluations.

    Args:
        name: the task (e.g. the benchmark name it comes from).
        configs: the evaluated configurations (n).
        values: the metric, shape (n, fidelities): column j is epoch j + 1; NaN where not evaluated.
        mode: "min" or "max" for the metric.
    """

    name: str
    configs: Sequence[Config]
    values: np.ndarray
    mode: str = "min"

    def __post_init__(self) -> None:
        check_mode(self.mode)
        values = np.asarray(self.values, dtype=float)
        if values.ndim != 2 or values.shape[0] != len(self.configs):
            raise ValueError(
                f"transfer task {self.name!r}: values must have shape (configurations, fidelities) = "
                f"({len(self.configs)}, ...), got {values.shape}"
            )
        object.__setattr__(self, "values", values)

    def losses(self, epoch: int | None = None) -> np.ndarray:
        """The metric as losses (smaller is better) at ``epoch`` (default: the last epoch each configuration
        reached)."""
        sign = 1.0 if self.mode == "min" else -1.0
        if epoch is not None:
            return sign * self.values[:, epoch - 1]
        return sign * last_finite(self.values)

    def best_configs(self, count: int) -> list[Config]:
        """The ``count`` configurations with the smallest final loss (ties: in the order given; NaN last)."""
        losses = self.losses()
        order = np.argsort(np.where(np.isnan(losses), np.inf, losses), kind="stable")
        return [self.configs[int(i)] for i in order[:count]]


def last_finite(values: np.ndarray) -> np.ndarray:
    """Per row, the last finite entry (NaN for a row without any)."""
    finite = np.isfinite(values)
    last = values.shape[1] - 1 - np.argmax(finite[:, ::-1], axis=1)
    out = values[np.arange(len(values)), last]
    out[~finite.any(axis=1)] = np.nan
    return out


def check_transfer_evaluations(method: str, evaluations: Sequence[TransferTask] | None) -> list[TransferTask]:
    """``evaluations`` as a list, or a one-line ``ValueError`` naming ``method`` and the fix."""
    if evaluations is None or not len(evaluations):
        raise ValueError(
            f"{method} needs transfer_evaluations: the evaluations of other tasks (experiments passes them for "
            "benchmarks of a family, e.g. LCBench or YAHPO instances, leaving the target task out)"
        )
    tasks = list(evaluations)
    for task in tasks:
        if not isinstance(task, TransferTask):
            raise ValueError(f"{method}: transfer_evaluations must be TransferTask objects, got {type(task).__name__}")
    return tasks

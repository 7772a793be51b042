"""Evaluations of other tasks, the input of transfer-learning methods (ZeroShotTransfer, BoundingBox, CTS, RUSH).

A ``TransferTask`` is one other task (another dataset of the same benchmark family, on the same search space):
configurations and the value of the optimised metric at every fidelity, averaged over the task's seeds. Methods
take a sequence of them as ``transfer_evaluations``; ``experiments.transfer`` builds them from the repository
under a leave-one-task-out protocol (the target task is never among them).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from methods.model_searcher import import_xgboost
from methods.objectives import check_mode
from searchspace import Config, SearchSpace, SearchSpaceError

logger = logging.getLogger(__name__)

#: regressors of the transfer methods' surrogates: "auto" is xgboost if installed, else scikit-learn's
REGRESSORS = ("auto", "xgboost", "sklearn")


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


def check_task_configs(method: str, space: SearchSpace, task: TransferTask, configs: Sequence[Config]) -> None:
    """A one-line ``ValueError`` unless every one of ``configs`` (of ``task``) lies in ``space``."""
    for config in configs:
        try:
            space.validate(config)
        except SearchSpaceError as error:
            raise ValueError(
                f"{method}: a configuration of transfer task {task.name!r} is not in the search space ({error}); "
                "transfer tasks must share the target's search space"
            ) from None


def config_key(names: Sequence[str], config: Mapping[str, Any]) -> tuple:
    """The values of ``config`` in the order of ``names`` (a hashable identity of the configuration)."""
    return tuple(config[name] for name in names)


def make_regressor(kind: str, seed: int, options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """A seeded scikit-learn style regressor and its name: "xgboost" (``XGBRegressor`` with its defaults, Syne Tune's
    choice, on one thread) or "sklearn" (``HistGradientBoostingRegressor``, its defaults); "auto" is xgboost if it
    is installed, else scikit-learn's (the optional extra is missing: logged)."""
    if kind not in REGRESSORS:
        raise ValueError(f"`regressor` is {kind!r}, but must be one of {REGRESSORS}")
    options = dict(options or {})
    if kind in ("auto", "xgboost"):
        try:
            xgboost = import_xgboost("regressor='xgboost'", "regressor='sklearn'")
        except ValueError:
            if kind == "xgboost":
                raise
            logger.info("xgboost is not installed: transfer surrogates use HistGradientBoostingRegressor")
        else:
            return xgboost.XGBRegressor(**{"n_jobs": 1, "random_state": seed, "verbosity": 0, **options}), "xgboost"
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(**{"random_state": seed, **options}), "sklearn"

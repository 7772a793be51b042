"""What a training function may yield per epoch, checked in one place (the worker processes import it: it is light).

A yielded dict maps metric names to numbers. The key ``"epoch"`` (optional) is not a metric: it names the epoch
(1, 2, ...) the metrics belong to, so that a function resumed from a checkpoint says where it resumed
(``experiments.tuner`` documents the convention). Names that are columns of the results store (``trial_id``,
``seed``, ``time``, ``worker``, ``decision``, ``best_so_far``, the hyperparameters) cannot be metrics.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from experiments.errors import ExperimentError

#: the optional key of a yielded dict that names its epoch
EPOCH_KEY = "epoch"
#: metrics the tuner measures and adds, unless the function yields them itself
RUNTIME = "runtime"
ELAPSED = "elapsed_time"
#: columns of ``results.parquet`` besides the hyperparameters and the metrics
RESULT_COLUMNS = ("trial_id", "seed", EPOCH_KEY, "time", "worker", "decision", "best_so_far")


class MetricsError(ExperimentError):
    """A yielded dict cannot be recorded (the metric is missing, a value is not a number, a name clashes)."""


def reserved_names(hyperparameters: Iterable[str]) -> frozenset[str]:
    """Names a metric may not have: the result columns and the hyperparameters."""
    return frozenset(RESULT_COLUMNS).union(hyperparameters)


def clean_metrics(metrics: Any, metric: str, reserved: frozenset[str]) -> tuple[int | None, dict[str, float]]:
    """``(epoch or None, {name: float})`` of one yielded dict, or a ``MetricsError`` naming the problem and the fix."""
    if not isinstance(metrics, Mapping):
        raise MetricsError(
            f"train yielded {type(metrics).__name__} {metrics!r:.80}; yield one dict of metrics per epoch"
        )
    epoch = None
    values: dict[str, float] = {}
    for key, value in metrics.items():
        if key == EPOCH_KEY:
            epoch = _epoch_of(value)
            continue
        if not isinstance(key, str):
            raise MetricsError(f"train yielded the key {key!r}; metric names must be strings")
        if key in reserved:
            raise MetricsError(
                f"train yielded a metric named {key!r}, which is a column of the results (or a hyperparameter); "
                "rename it"
            )
        values[key] = _number(key, value)
    if metric not in values:
        raise MetricsError(
            f"train yielded {sorted(values)} without the metric {metric!r}; yield it at every epoch or tune one of "
            "the yielded metrics (metric=...)"
        )
    return epoch, values


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool | str | bytes) or value is None:
        raise MetricsError(f"train yielded {key}={value!r}; metrics must be numbers (float('nan') if unknown)")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise MetricsError(f"train yielded {key}={value!r:.60}; metrics must be numbers") from None


def _epoch_of(value: Any) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value != int(value)
    ):
        raise MetricsError(f"train yielded {EPOCH_KEY}={value!r}; the epoch must be a whole number >= 1")
    if value < 1:
        raise MetricsError(f"train yielded {EPOCH_KEY}={value!r}; epochs are counted from 1")
    return int(value)

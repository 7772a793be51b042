"""The objectives of a problem: one or more metrics, each minimised or maximised.

Every method is built with ``metric`` (a name, or a sequence of names) and ``mode`` ("min"/"max", or one per
metric). A single-objective method optimises the first metric; a multi-objective method (MOASHA, NSGA2, ...)
all of them. ``Objectives.losses`` turns a report into a vector where smaller is better for every objective, so
that nothing below it needs to know the modes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


def check_mode(mode: str) -> str:
    if mode not in ("min", "max"):
        raise ValueError(f"`mode` must be 'min' or 'max', but got {mode!r}")
    return mode


@dataclass(frozen=True, slots=True)
class Objectives:
    """Metric names and their modes (same length, at least one; the first is the primary objective)."""

    metrics: tuple[str, ...]
    modes: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.metrics or len(self.metrics) != len(self.modes):
            raise ValueError(f"objectives need one mode per metric, got metrics {self.metrics} and modes {self.modes}")
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"an objective is named twice in {list(self.metrics)}")
        for metric in self.metrics:
            if not isinstance(metric, str) or not metric:
                raise ValueError(f"a metric must be a non-empty name, got {metric!r}")
        for mode in self.modes:
            check_mode(mode)

    @classmethod
    def of(cls, metric: str | Sequence[str], mode: str | Sequence[str] = "min") -> Objectives:
        """From a method's ``metric`` and ``mode`` arguments: a name or names; one mode for all, or one each."""
        metrics = (metric,) if isinstance(metric, str) else tuple(metric)
        if isinstance(mode, str):
            modes = (mode,) * len(metrics)
        else:
            modes = tuple(mode)
            if len(modes) != len(metrics):
                raise ValueError(
                    f"`mode` has {len(modes)} entries but `metric` names {len(metrics)} objectives "
                    f"({list(metrics)}): give one mode for all, or one per metric"
                )
        return cls(metrics, modes)

    @property
    def count(self) -> int:
        return len(self.metrics)

    def losses(self, metrics: Mapping[str, float]) -> np.ndarray:
        """The objectives of a report as losses (smaller is better), in order."""
        return np.array(
            [metrics[name] if mode == "min" else -metrics[name] for name, mode in zip(self.metrics, self.modes)],
            dtype=float,
        )

    def loss(self, metrics: Mapping[str, float]) -> float:
        """The primary objective of a report as a loss."""
        value = metrics[self.metrics[0]]
        return value if self.modes[0] == "min" else -value

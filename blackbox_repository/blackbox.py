"""A tabulated benchmark held as data: configurations, fidelities, seeds and objective arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.errors import BlackboxError
from searchspace import SearchSpace

MODES = ("min", "max")


@dataclass(frozen=True, slots=True)
class Objective:
    """One tabulated objective: its name, the direction that is better (if any) and its unit."""

    name: str
    mode: str | None = None
    unit: str = ""

    def __post_init__(self) -> None:
        if self.mode is not None and self.mode not in MODES:
            raise BlackboxError(f"objective {self.name!r}: mode must be 'min', 'max' or None, got {self.mode!r}")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "unit": self.unit}


@dataclass(eq=False)
class Blackbox:
    """A tabulated benchmark.

    Args:
        name: benchmark name, e.g. ``"sklearn-mlp-digits"``.
        space: the search space of the tabulated configurations.
        configs: one row per configuration, one column per hyperparameter (in ``space`` order).
        fidelities: the fidelity values, shape (F,); for epochs ``1 .. F``.
        seeds: the benchmark seeds, shape (S,).
        objectives: values, shape (configs, seeds, fidelities, objectives); may be memory-mapped.
        objective_info: one ``Objective`` per last-axis entry of ``objectives``.
        metric: default metric to optimise (an objective name); its mode is the default mode.
        runtime_objective: objective holding the seconds spent in each fidelity step (an epoch).
        elapsed_objective: objective holding the cumulative seconds up to each fidelity.
        fidelity_name: name of the fidelity axis (``"epoch"``).
        metadata: free-form facts (description, source, machine, ...), kept as JSON.
    """

    name: str
    space: SearchSpace
    configs: pd.DataFrame
    fidelities: np.ndarray
    seeds: np.ndarray
    objectives: np.ndarray
    objective_info: Sequence[Objective]
    metric: str
    runtime_objective: str | None = "runtime"
    elapsed_objective: str | None = "elapsed_time"
    fidelity_name: str = "epoch"
    metadata: dict[str, Any] = field(default_factory=dict)
    _row_of: dict[tuple, int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.objective_info = tuple(self.objective_info)
        self.fidelities = np.asarray(self.fidelities)
        self.seeds = np.asarray(self.seeds)
        expected = (len(self.configs), len(self.seeds), len(self.fidelities), len(self.objective_info))
        if self.objectives.shape != expected:
            raise BlackboxError(
                f"benchmark {self.name!r}: objectives have shape {self.objectives.shape}, expected "
                f"(configs, seeds, fidelities, objectives) = {expected}"
            )
        if list(self.configs.columns) != self.space.names:
            raise BlackboxError(
                f"benchmark {self.name!r}: configuration columns {list(self.configs.columns)} do not "
                f"match the search space {self.space.names}"
            )
        names = self.objective_names
        for name in (self.metric, self.runtime_objective, self.elapsed_objective):
            if name is not None and name not in names:
                raise BlackboxError(f"benchmark {self.name!r}: {name!r} is not an objective; objectives: {names}")
        if self.objective(self.metric).mode is None:
            raise BlackboxError(f"benchmark {self.name!r}: the default metric {self.metric!r} needs a mode")

    # Objectives ----------------------------------------------------------------------------------
    @property
    def objective_names(self) -> list[str]:
        return [objective.name for objective in self.objective_info]

    @property
    def mode(self) -> str:
        """Mode of the default metric."""
        return self.objective(self.metric).mode  # type: ignore[return-value]

    def objective(self, name: str) -> Objective:
        for objective in self.objective_info:
            if objective.name == name:
                return objective
        raise BlackboxError(
            f"benchmark {self.name!r} has no objective {name!r}; objectives: {', '.join(self.objective_names)}"
        )

    def objective_index(self, name: str) -> int:
        self.objective(name)
        return self.objective_names.index(name)

    def best_value(self, name: str | None = None) -> float:
        """Best tabulated value of an objective (default: the metric) over all cells."""
        name = name or self.metric
        mode = self.objective(name).mode
        if mode is None:
            raise BlackboxError(f"objective {name!r} has no mode, so it has no best value")
        values = self.objectives[..., self.objective_index(name)]
        return float(np.nanmin(values) if mode == "min" else np.nanmax(values))

    # Configurations ------------------------------------------------------------------------------
    @property
    def num_configs(self) -> int:
        return len(self.configs)

    @property
    def max_fidelity(self) -> int:
        return int(self.fidelities[-1])

    def config(self, row: int) -> dict[str, Any]:
        return {name: _plain(value) for name, value in self.configs.iloc[row].items()}

    def index_of(self, config: Mapping[str, Any]) -> int:
        """Row of a tabulated configuration; a clear error if the configuration is not in the table."""
        key = tuple(config[name] for name in self.space.names)
        row = self.row_lookup().get(key)
        if row is None:
            self.space.validate(config)
            raise BlackboxError(
                f"configuration {dict(config)} is not tabulated in benchmark {self.name!r}; restrict the "
                "searcher to tabulated configurations or use a surrogate for this benchmark"
            )
        return row

    def row_lookup(self) -> dict[tuple, int]:
        """Mapping from a configuration's values (in space order) to its row: the fast path."""
        if self._row_of is None:
            columns = [self.configs[name].tolist() for name in self.space.names]
            self._row_of = {key: row for row, key in enumerate(zip(*columns))}
        return self._row_of

    def curve(self, config: Mapping[str, Any], seed_index: int, objective: str | None = None) -> np.ndarray:
        """Values of one objective over all fidelities for one configuration and seed."""
        row = self.index_of(config)
        return np.asarray(self.objectives[row, seed_index, :, self.objective_index(objective or self.metric)])

    def __repr__(self) -> str:
        return (
            f"Blackbox({self.name!r}, configs={self.num_configs}, seeds={len(self.seeds)}, "
            f"{self.fidelity_name}s={len(self.fidelities)}, objectives={self.objective_names})"
        )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value

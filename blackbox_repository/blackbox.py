"""A tabulated benchmark held as data: configurations, fidelities, seeds and objective arrays."""

from __future__ import annotations

import math
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


class BlackboxBase:
    """What every benchmark offers, tabulated or not: a search space, fidelities, seeds, objectives,
    and the learning curve of a configuration (all fidelities, all objectives) for one seed.

    Subclasses set the attributes below and implement ``curve``; ``seed_indices`` and ``evaluate``
    have generic implementations.

    Attributes:
        name: benchmark name, e.g. ``"nas201-cifar10"``.
        space: the search space.
        fidelities: the fidelity steps ``1 .. F`` the simulator replays (epochs).
        seeds: the benchmark seeds, shape (S,).
        objective_info: one ``Objective`` per entry of the last axis of a curve.
        metric: default metric to optimise (an objective name); its mode is the default mode.
        runtime_objective: objective holding the seconds spent in each fidelity step (an epoch).
        elapsed_objective: objective holding the cumulative seconds up to each fidelity.
        fidelity_name: name of the fidelity axis (``"epoch"``).
        metadata: free-form facts (description, source, machine, ...), kept as JSON.
    """

    name: str
    space: SearchSpace
    fidelities: np.ndarray
    seeds: np.ndarray
    objective_info: Sequence[Objective]
    metric: str
    runtime_objective: str | None
    elapsed_objective: str | None
    fidelity_name: str
    metadata: dict[str, Any]

    # To implement ---------------------------------------------------------------------------------
    def curve(self, config: Mapping[str, Any], seed_index: int) -> np.ndarray:
        """Values of every objective at every fidelity, shape (fidelities, objectives), float64.

        Raises ``BlackboxError`` (or ``SearchSpaceError``) if the configuration cannot be evaluated.
        """
        raise NotImplementedError

    def seed_indices(self, config: Mapping[str, Any]) -> np.ndarray:
        """Indices of the seeds that have data for ``config`` (all of them unless a table says otherwise)."""
        return np.arange(len(self.seeds))

    @property
    def tabulated_configs(self) -> pd.DataFrame | None:
        """The configurations with measured data (for ``restrict_configurations``), or None."""
        return None

    def evaluate(self, configs: pd.DataFrame, fidelity: np.ndarray, seed_index: int = 0) -> np.ndarray:
        """Objectives of many (configuration, fidelity) pairs at once, shape (rows, objectives).

        ``configs`` has one column per hyperparameter; ``fidelity`` holds fidelity values (one of
        ``fidelities``). Subclasses override this with a vectorised version where they can.
        """
        steps = self.fidelity_steps(fidelity)
        self.check_columns(configs)
        names = self.space.names
        out = np.empty((len(configs), len(self.objective_info)))
        columns = [configs[name].tolist() for name in names]
        curves: dict[tuple, np.ndarray] = {}
        for i, key in enumerate(zip(*columns)):
            curve = curves.get(key)
            if curve is None:
                curve = curves[key] = self.curve(dict(zip(names, key)), seed_index)
            out[i] = curve[steps[i]]
        return out

    def check_columns(self, configs: pd.DataFrame) -> None:
        """Raise ``BlackboxError`` naming the hyperparameter columns ``configs`` lacks, if any."""
        missing = [name for name in self.space.names if name not in configs.columns]
        if missing:
            raise BlackboxError(f"benchmark {self.name!r}: input lacks hyperparameter column(s) {missing}")

    def fidelity_steps(self, fidelity: np.ndarray) -> np.ndarray:
        """Positions (0-based) of fidelity values in ``fidelities``; a clear error for any other value."""
        fidelity = np.asarray(fidelity)
        steps = np.searchsorted(self.fidelities, fidelity)
        last = len(self.fidelities) - 1
        valid = (steps <= last) & (self.fidelities[np.minimum(steps, last)] == fidelity)
        if not valid.all():
            bad = _plain(fidelity[~valid][0])
            raise BlackboxError(
                f"benchmark {self.name!r}: {self.fidelity_name} {bad} is not one of its fidelities "
                f"{self.fidelities[0]}..{self.fidelities[-1]}"
            )
        return steps

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

    @property
    def max_fidelity(self) -> int:
        return int(self.fidelities[-1])

    def check_objectives(self) -> None:
        """Raise ``BlackboxError`` unless the named objectives exist and the metric has a mode."""
        names = self.objective_names
        for name in (self.metric, self.runtime_objective, self.elapsed_objective):
            if name is not None and name not in names:
                raise BlackboxError(f"benchmark {self.name!r}: {name!r} is not an objective; objectives: {names}")
        if self.objective(self.metric).mode is None:
            raise BlackboxError(f"benchmark {self.name!r}: the default metric {self.metric!r} needs a mode")


@dataclass(eq=False)
class Blackbox(BlackboxBase):
    """A tabulated benchmark: every objective of every configuration, seed and fidelity, as one array.

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
        checksum: SHA-256 of the stored objectives (set when read from disk), identifies the data.
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
    checksum: str | None = None
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
        self.check_objectives()

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

    def config(self, row: int) -> dict[str, Any]:
        """The configuration of ``row``, with each value in its column's own type."""
        return {name: _plain(self.configs[name].iat[row]) for name in self.space.names}

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

    def curve(self, config: Mapping[str, Any], seed_index: int) -> np.ndarray:
        """The tabulated curve of ``config`` for one seed, shape (fidelities, objectives), float64."""
        return np.asarray(self.objectives[self.index_of(config), seed_index], dtype=np.float64)

    def objective_curve(self, config: Mapping[str, Any], seed_index: int, objective: str | None = None) -> np.ndarray:
        """Values of one objective (default: the metric) over all fidelities for one configuration and seed."""
        row = self.index_of(config)
        return np.asarray(self.objectives[row, seed_index, :, self.objective_index(objective or self.metric)])

    def seed_indices(self, config: Mapping[str, Any]) -> np.ndarray:
        """Seeds with data for ``config``: those whose metric at the first fidelity is not NaN.

        Tables such as NASBench-201 lack some (configuration, seed) runs; they are stored as NaN and
        never replayed (a run that diverges later keeps its seed and fails where its values stop).
        """
        return self.row_seed_indices(self.index_of(config))

    def row_seed_indices(self, row: int) -> np.ndarray:
        first = np.asarray(self.objectives[row, :, 0, self.objective_index(self.metric)])
        return np.flatnonzero(~np.isnan(first))

    @property
    def tabulated_configs(self) -> pd.DataFrame:
        return self.configs

    def evaluate(self, configs: pd.DataFrame, fidelity: np.ndarray, seed_index: int = 0) -> np.ndarray:
        """Tabulated objectives of many (configuration, fidelity) pairs, shape (rows, objectives)."""
        steps = self.fidelity_steps(fidelity)
        self.check_columns(configs)
        lookup = self.row_lookup()
        columns = [configs[name].tolist() for name in self.space.names]
        rows = np.empty(len(configs), dtype=np.int64)
        for i, key in enumerate(zip(*columns)):
            row = lookup.get(key)
            rows[i] = self.index_of(dict(zip(self.space.names, key))) if row is None else row
        return np.asarray(self.objectives[rows, seed_index, steps], dtype=np.float64)

    def __repr__(self) -> str:
        return (
            f"Blackbox({self.name!r}, configs={self.num_configs}, seeds={len(self.seeds)}, "
            f"{self.fidelity_name}s={len(self.fidelities)}, objectives={self.objective_names})"
        )


def table_configs(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table of configurations (``tabulated_configs``) as configurations: NaN (an inactive
    hyperparameter) becomes None."""
    return [
        {name: None if isinstance(value, float) and math.isnan(value) else value for name, value in row.items()}
        for row in table.to_dict("records")
    ]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value

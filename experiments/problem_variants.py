"""Multi-objective and constrained variants of a benchmark, named by a suffix.

- ``<benchmark>-mo``: the benchmark's metric and the family's second objective (``SECOND_OBJECTIVES``):
  NASBench-201 latency, LCBench and the embedded benchmark training time, FCNet parameter count, YAHPO ``iaml_*``
  training time, ``rbv2_*`` memory.
- ``<benchmark>-mo-<objective>``: the benchmark's metric and any other objective of the blackbox, e.g.
  ``nas201-cifar10-mo-params`` or ``nas201-cifar10-mo-flops``.
- ``<benchmark>-constrained``: the benchmark's metric, subject to the family's second objective being at most
  its median over the space (``Constraint``; quantile ``CONSTRAINT_QUANTILE``): the threshold is computed once
  from the benchmark at ``max_t`` (every tabulated configuration, else a seeded sample of
  ``CONSTRAINT_SAMPLE`` configurations) and stored with every run. Feasible iff value <= threshold.

Objectives without a declared mode (training time, parameter count) are minimised.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from blackbox_repository import BlackboxBase
from blackbox_repository.blackbox import table_configs
from experiments.errors import ExperimentError

#: ``experiments.benchmarks.BenchmarkDefinition`` (not imported: that module imports this one)
BenchmarkDefinition = Any

MO_SUFFIX = "-mo"
CONSTRAINED_SUFFIX = "-constrained"
CONSTRAINT_QUANTILE = 0.5
CONSTRAINT_SAMPLE = 2000
CONSTRAINT_SAMPLE_SEED = 0

#: family (benchmark name prefix) -> the second objective of its ``-mo`` and ``-constrained`` variants
SECOND_OBJECTIVES: dict[str, str] = {
    "sklearn-mlp-digits": "elapsed_time",
    "nas201-": "latency",
    "lcbench-": "elapsed_time",
    "fcnet-": "n_params",
    "yahpo-lcbench-": "elapsed_time",
    "yahpo-iaml_": "timetrain",
    "yahpo-rbv2_": "memory",
}


@dataclass(frozen=True)
class Constraint:
    """Feasible iff ``metric <= threshold``; ``threshold`` None: the ``quantile`` of the metric over the space at
    ``max_t`` (filled in when the definition is resolved)."""

    metric: str
    threshold: float | None = None
    quantile: float = CONSTRAINT_QUANTILE

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def second_objective(benchmark: str) -> str | None:
    """The family's second objective for ``benchmark`` (the longest matching prefix), or None."""
    matches = [prefix for prefix in SECOND_OBJECTIVES if benchmark == prefix or benchmark.startswith(prefix)]
    return SECOND_OBJECTIVES[max(matches, key=len)] if matches else None


def split_variant(name: str) -> tuple[str, str, str | None] | None:
    """``(base benchmark, "mo" or "constrained", objective or None)`` for a variant name, else None."""
    if name.endswith(CONSTRAINED_SUFFIX):
        return name[: -len(CONSTRAINED_SUFFIX)], "constrained", None
    if name.endswith(MO_SUFFIX):
        return name[: -len(MO_SUFFIX)], "mo", None
    base, marker, objective = name.rpartition(MO_SUFFIX + "-")
    if marker and base and objective:
        return base, "mo", objective
    return None


def variant(base: BenchmarkDefinition, base_name: str, kind: str, objective: str | None) -> BenchmarkDefinition:
    """The ``kind`` ("mo" or "constrained") variant of the definition ``base`` of ``base_name``."""
    objective = objective or second_objective(base_name)
    if objective is None:
        families = ", ".join(prefix.rstrip("-_") for prefix in SECOND_OBJECTIVES)
        raise ExperimentError(
            f"benchmark {base_name!r} has no default second objective (families: {families}); name one: "
            f"{base_name}{MO_SUFFIX}-<objective>"
        )
    if kind == "constrained":
        return dataclasses.replace(
            base,
            constraint=Constraint(objective),
            description=f"{base.description} — subject to {objective} <= its median over the space",
        )
    return dataclasses.replace(
        base,
        more_objectives=(*base.more_objectives, objective),
        modes=(),
        description=f"{base.description} — multi-objective: {base.metric or 'its metric'} and {objective}",
    )


def resolve_modes(
    definition: str, blackbox: BlackboxBase, names: Sequence[str], given: Sequence[str | None]
) -> tuple[str, ...]:
    """The modes of the objectives ``names`` after the primary one (``given``: the definition's, or empty): the
    blackbox's, else the definition's, else "min" (times and sizes)."""
    modes = []
    for i, name in enumerate(names):
        if name not in blackbox.objective_names:
            raise ExperimentError(
                f"benchmark {definition!r} has no objective {name!r}; objectives: {', '.join(blackbox.objective_names)}"
            )
        declared = blackbox.objective(name).mode
        wanted = given[i] if given else None
        if declared is not None and wanted is not None and wanted != declared:
            raise ExperimentError(
                f"benchmark definition {definition!r} says mode {wanted!r} for {name!r}, but the objective is "
                f"{declared!r}"
            )
        modes.append(declared or wanted or "min")
    return tuple(modes)


def resolve_constraint(constraint: Constraint, blackbox: BlackboxBase, max_t: int) -> Constraint:
    """``constraint`` with its threshold computed (if not given) from the benchmark at ``max_t``."""
    if constraint.metric not in blackbox.objective_names:
        raise ExperimentError(
            f"constraint metric {constraint.metric!r} is not an objective of {blackbox.name!r}; objectives: "
            f"{', '.join(blackbox.objective_names)}"
        )
    if constraint.threshold is not None:
        return constraint
    values = constraint_values(blackbox, constraint.metric, max_t)
    threshold = float(np.quantile(values, constraint.quantile))
    return dataclasses.replace(constraint, threshold=threshold)


def constraint_values(blackbox: BlackboxBase, metric: str, max_t: int) -> np.ndarray:
    """The finite values of ``metric`` at ``max_t`` (first seed with data) over the tabulated configurations, else
    over a seeded sample of the space."""
    table = blackbox.tabulated_configs
    if table is not None:
        configs = table_configs(table)
    else:
        configs = blackbox.space.sample_many(np.random.default_rng(CONSTRAINT_SAMPLE_SEED), CONSTRAINT_SAMPLE)
    index = blackbox.objective_index(metric)
    values = np.array([blackbox.curve(c, int(blackbox.seed_indices(c)[0]))[max_t - 1, index] for c in configs])
    values = values[np.isfinite(values)]
    if not len(values) or math.isclose(float(values.min()), float(values.max())):
        raise ExperimentError(f"{blackbox.name!r}: {metric!r} is constant or missing at {max_t}; it cannot constrain")
    return values

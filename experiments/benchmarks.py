"""Benchmark definitions: which blackbox, which metric, how long a run lasts.

``BENCHMARKS`` maps a benchmark name to a ``BenchmarkDefinition``; adding one is one line::

    "nas201-cifar10": BenchmarkDefinition("nas201-cifar10", "valid_error", "min", 200, 4, 20_000.0),

Any other name that ``BlackboxRepository`` can load (e.g. a table imported by the user) is a benchmark
too, with the metric and mode of the blackbox, 4 workers and no default time budget (the user then
gives ``--max_wallclock_time`` or another stop criterion).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from blackbox_repository import Blackbox, BlackboxRepository
from experiments.errors import ExperimentError

#: Simulated seconds per run on sklearn-mlp-digits. Per-epoch runtimes have a median of ~8 ms and a
#: 30-epoch training takes ~0.28 s on average, so 4 workers do ~140 full trainings in 10 s: random
#: search sees ~11% of the 1,280 configurations, ASHA ~55%. (ASHA exhausts the grid after ~15 s.)
SKLEARN_MLP_DIGITS_MAX_WALLCLOCK_TIME = 10.0

DEFAULT_N_WORKERS = 4


@dataclass(frozen=True)
class BenchmarkDefinition:
    """How a benchmark is run.

    Args:
        blackbox: name of the blackbox in ``BlackboxRepository``.
        metric: objective to optimise (None: the blackbox's default metric).
        mode: "min" or "max" (None: the objective's mode; if given it must agree with it).
        max_t: last epoch of a trial (None: every epoch of the table).
        n_workers: simulated parallel workers.
        max_wallclock_time: simulated seconds per run (None: the user must give a stop criterion).
        description: one line for humans.
    """

    blackbox: str
    metric: str | None = None
    mode: str | None = None
    max_t: int | None = None
    n_workers: int = DEFAULT_N_WORKERS
    max_wallclock_time: float | None = None
    description: str = ""

    def resolve(self, blackbox: Blackbox) -> BenchmarkDefinition:
        """A copy with metric, mode and max_t filled in from ``blackbox`` and checked against it."""
        metric = self.metric or blackbox.metric
        if metric not in blackbox.objective_names:
            raise ExperimentError(
                f"benchmark {self.blackbox!r} has no objective {metric!r}; objectives: "
                f"{', '.join(blackbox.objective_names)}"
            )
        objective_mode = blackbox.objective(metric).mode
        if objective_mode is None:
            raise ExperimentError(f"objective {metric!r} of {self.blackbox!r} has no mode and cannot be optimised")
        if self.mode is not None and self.mode != objective_mode:
            raise ExperimentError(
                f"benchmark definition {self.blackbox!r} says mode {self.mode!r}, but objective {metric!r} "
                f"is {objective_mode!r}"
            )
        max_t = self.max_t if self.max_t is not None else blackbox.max_fidelity
        if not 1 <= max_t <= blackbox.max_fidelity:
            raise ExperimentError(f"max_t must be between 1 and {blackbox.max_fidelity}, got {max_t}")
        return dataclasses.replace(self, metric=metric, mode=objective_mode, max_t=int(max_t))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


BENCHMARKS: dict[str, BenchmarkDefinition] = {
    "sklearn-mlp-digits": BenchmarkDefinition(
        blackbox="sklearn-mlp-digits",
        metric="valid_error",
        mode="min",
        max_t=None,
        n_workers=4,
        max_wallclock_time=SKLEARN_MLP_DIGITS_MAX_WALLCLOCK_TIME,
        description="scikit-learn MLP on digits: 1,280-configuration grid, 3 seeds, 30 epochs (embedded)",
    ),
}


def available_benchmarks(repository: BlackboxRepository | None = None) -> list[str]:
    """Registered benchmark names plus every blackbox the repository can load."""
    repository = repository or BlackboxRepository()
    return sorted(set(BENCHMARKS) | set(repository.list()))


def get_benchmark(name: str, repository: BlackboxRepository | None = None) -> BenchmarkDefinition:
    """The definition of ``name``; a blackbox without one gets defaults; unknown names list the valid ones."""
    if name in BENCHMARKS:
        return BENCHMARKS[name]
    repository = repository or BlackboxRepository()
    if name in repository.list():
        return BenchmarkDefinition(blackbox=name, description=f"blackbox {name!r} with default settings")
    raise ExperimentError(
        f"unknown benchmark {name!r}; available: {', '.join(available_benchmarks(repository)) or 'none'}"
    )

"""Benchmark definitions: which blackbox, which metric, how long a run lasts.

``BENCHMARKS`` maps a benchmark name to a ``BenchmarkDefinition``; adding one is one line::

    "nas201-cifar10": BenchmarkDefinition("nas201-cifar10", "valid_error", "min", 200, 4, 20_000.0),

Any other name that ``BlackboxRepository`` can load (e.g. a table imported by the user) is a benchmark
too, with the metric and mode of the blackbox, 4 workers and no default time budget (the user then
gives ``--max_wallclock_time`` or another stop criterion).
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from blackbox_repository import BlackboxBase, BlackboxRepository
from blackbox_repository.converters.lcbench import DATASET_NAMES as LCBENCH_DATASETS
from blackbox_repository.repository import NAME_FAMILIES, YAHPO_PREFIX, summarize_names
from blackbox_repository.surrogate import SURROGATES, SurrogateBlackbox
from experiments.errors import ExperimentError
from experiments.problem_variants import (
    CONSTRAINED_SUFFIX,
    MO_SUFFIX,
    Constraint,
    resolve_constraint,
    resolve_modes,
    split_variant,
    variant,
)

#: Simulated seconds per run on sklearn-mlp-digits. Per-epoch runtimes have a median of ~11 ms and a
#: 30-epoch training takes ~0.34 s (median), so 4 workers do ~105 full trainings in 10 s: random
#: search sees ~8% of the 1,280 configurations, ASHA ~57%. (ASHA exhausts the grid after ~17 s.)
SKLEARN_MLP_DIGITS_MAX_WALLCLOCK_TIME = 10.0

DEFAULT_N_WORKERS = 4


@dataclass(frozen=True)
class BenchmarkDefinition:
    """How a benchmark is run.

    Args:
        blackbox: name of the blackbox in ``BlackboxRepository``.
        metric: objective to optimise (None: the blackbox's default metric); a list names several objectives
            (the first is the primary one, which single-objective methods optimise and ``best_so_far`` tracks).
        mode: "min" or "max" (None: the objective's mode; if given it must agree with it); a list: one per
            objective (objectives without a declared mode, such as times, default to "min").
        max_t: last epoch of a trial (None: every epoch of the table).
        n_workers: simulated parallel workers.
        max_wallclock_time: simulated seconds per run (None: the user must give a stop criterion).
        description: one line for humans.
        surrogate: wrap the table in this surrogate (``knn``, ``random_forest``, ``xgboost``, ``mlp``) so
            that methods may propose any configuration of the space; None: the table as it is.
        surrogate_kwargs: arguments of the surrogate, e.g. ``{"n_neighbors": 1}``.
        restrict_configurations: methods draw new configurations only from the tabulated ones (the
            alternative to a surrogate: results then depend on the data alone, not on a model).
        more_objectives: the objectives after ``metric`` (multi-objective benchmarks; ``metric`` as a list
            fills it).
        modes: one mode per objective (filled in by ``resolve``).
        constraint: the primary metric is optimised subject to ``constraint`` (``problem_variants.Constraint``).
        reference_point: a fixed hypervolume reference point (one value per objective); None: the rule of the
            plots (worst value + 10% of the range, pooled over every run of the benchmark).
    """

    blackbox: str
    metric: str | Sequence[str] | None = None
    mode: str | Sequence[str] | None = None
    max_t: int | None = None
    n_workers: int = DEFAULT_N_WORKERS
    max_wallclock_time: float | None = None
    description: str = ""
    surrogate: str | None = None
    surrogate_kwargs: Mapping[str, Any] = field(default_factory=dict)
    restrict_configurations: bool = False
    more_objectives: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    constraint: Constraint | None = None
    reference_point: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if self.metric is not None and not isinstance(self.metric, str):  # a list of objectives
            names = tuple(self.metric)
            object.__setattr__(self, "metric", names[0] if names else None)
            object.__setattr__(self, "more_objectives", names[1:])
        if self.mode is not None and not isinstance(self.mode, str):
            object.__setattr__(self, "modes", tuple(self.mode))
            object.__setattr__(self, "mode", self.modes[0] if self.modes else None)
        if self.surrogate is not None and self.surrogate not in SURROGATES:
            raise ExperimentError(f"unknown surrogate {self.surrogate!r}; choose one of {', '.join(SURROGATES)}")
        if self.surrogate is not None and self.restrict_configurations:
            raise ExperimentError(
                f"benchmark {self.blackbox!r}: choose either a surrogate or restrict_configurations, not both"
            )

    def open(self, repository: BlackboxRepository) -> BlackboxBase:
        """The benchmark to simulate: the repository's blackbox, wrapped in the surrogate if one is set."""
        blackbox = repository.load(self.blackbox)
        if self.surrogate is None:
            if self.restrict_configurations and blackbox.tabulated_configs is None:
                raise ExperimentError(
                    f"benchmark {self.blackbox!r} has no table of configurations to restrict methods to"
                )
            return blackbox
        if blackbox.tabulated_configs is None:
            raise ExperimentError(f"benchmark {self.blackbox!r} is not a table; it needs no surrogate")
        return SurrogateBlackbox(
            blackbox, self.surrogate, seed=0, cache_dir=repository.cache_dir, **dict(self.surrogate_kwargs)
        )

    @property
    def objectives(self) -> tuple[str, ...]:
        """Every objective, the primary ``metric`` first (one for a single-objective benchmark)."""
        return (self.metric, *self.more_objectives)

    @property
    def is_multi_objective(self) -> bool:
        return bool(self.more_objectives)

    def method_problem(self) -> dict[str, Any]:
        """The ``metric`` and ``mode`` arguments of a method: names and modes for several objectives."""
        if self.is_multi_objective:
            return {"metric": list(self.objectives), "mode": list(self.modes)}
        return {"metric": self.metric, "mode": self.mode}

    def resolve(self, blackbox: BlackboxBase) -> BenchmarkDefinition:
        """A copy with metric, mode(s), max_t and the constraint threshold filled in from ``blackbox`` and
        checked against it."""
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
        objectives = (metric, *self.more_objectives)
        if self.modes and len(self.modes) != len(objectives):
            raise ExperimentError(
                f"benchmark {self.blackbox!r}: {len(self.modes)} modes for {len(objectives)} objectives "
                f"{list(objectives)}"
            )
        modes = (objective_mode, *resolve_modes(self.blackbox, blackbox, self.more_objectives, self.modes[1:]))
        if self.reference_point is not None and len(self.reference_point) != len(objectives):
            raise ExperimentError(
                f"benchmark {self.blackbox!r}: reference_point has {len(self.reference_point)} values for "
                f"{len(objectives)} objectives"
            )
        constraint = self.constraint and resolve_constraint(self.constraint, blackbox, int(max_t))
        return dataclasses.replace(
            self, metric=metric, mode=objective_mode, max_t=int(max_t), modes=modes, constraint=constraint
        )

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["surrogate_kwargs"] = dict(self.surrogate_kwargs)
        # the fields of the modalities only where used, so single-objective definitions read as before
        if self.is_multi_objective:
            data["more_objectives"], data["modes"] = list(self.more_objectives), list(self.modes)
        else:
            del data["more_objectives"], data["modes"]
        for name in ("constraint", "reference_point"):
            if data[name] is None:
                del data[name]
        if self.reference_point is not None:
            data["reference_point"] = list(self.reference_point)
        return data


BENCHMARKS: dict[str, BenchmarkDefinition] = {
    "sklearn-mlp-digits": BenchmarkDefinition(
        blackbox="sklearn-mlp-digits",
        metric="valid_loss",
        mode="min",
        max_t=None,
        n_workers=4,
        max_wallclock_time=SKLEARN_MLP_DIGITS_MAX_WALLCLOCK_TIME,
        description="scikit-learn MLP on digits: 1,280-configuration grid, 3 seeds, 30 epochs (embedded)",
    ),
}


#: Published simulation defaults (Syne Tune's benchmark definitions and ``source_formats.md``).
NAS201_DATASETS = {"cifar10": (4, 5 * 3600.0), "cifar100": (4, 6 * 3600.0), "ImageNet16-120": (8, 8 * 3600.0)}
FCNET_DATASETS = ("protein", "naval", "parkinsons", "slice")

for _dataset, (_workers, _budget) in NAS201_DATASETS.items():
    BENCHMARKS[f"nas201-{_dataset}"] = BenchmarkDefinition(
        blackbox=f"nas201-{_dataset}",
        metric="valid_error",
        mode="min",
        max_t=200,
        n_workers=_workers,
        max_wallclock_time=_budget,
        description=f"NASBench-201 on {_dataset}: 15,625 cells, 200 epochs, 3 seeds (some runs missing)",
    )
for _dataset in FCNET_DATASETS:
    BENCHMARKS[f"fcnet-{_dataset}"] = BenchmarkDefinition(
        blackbox=f"fcnet-{_dataset}",
        metric="valid_loss",
        mode="min",
        max_t=100,
        n_workers=4,
        max_wallclock_time=3600.0,
        description=f"FCNet on {_dataset}: 62,208-configuration grid, 100 epochs, 4 seeds",
    )
for _dataset in LCBENCH_DATASETS:
    BENCHMARKS[f"lcbench-{_dataset}"] = BenchmarkDefinition(
        blackbox=f"lcbench-{_dataset}",
        metric="val_accuracy",
        mode="max",
        max_t=50,
        n_workers=4,
        max_wallclock_time=7200.0,
        description=f"LCBench on {_dataset}: 2,000 sampled configurations, 50 epochs, 1-nearest-neighbour surrogate",
        surrogate="knn",
        surrogate_kwargs={"n_neighbors": 1},
    )
    BENCHMARKS[f"lcbench-{_dataset}-restricted"] = dataclasses.replace(
        BENCHMARKS[f"lcbench-{_dataset}"],
        description=f"LCBench on {_dataset}: methods draw only the 2,000 tabulated configurations",
        surrogate=None,
        surrogate_kwargs={},
        restrict_configurations=True,
    )

#: the embedded benchmark's multi-objective variant: error (not loss) against training time
BENCHMARKS["sklearn-mlp-digits-mo"] = dataclasses.replace(
    BENCHMARKS["sklearn-mlp-digits"],
    metric="valid_error",
    more_objectives=("elapsed_time",),
    description="scikit-learn MLP on digits (embedded), multi-objective: validation error and training time",
)
for _name in ["sklearn-mlp-digits", *(f"nas201-{dataset}" for dataset in NAS201_DATASETS)]:
    BENCHMARKS[f"{_name}{CONSTRAINED_SUFFIX}"] = variant(BENCHMARKS[_name], _name, "constrained", None)
    if f"{_name}{MO_SUFFIX}" not in BENCHMARKS:
        BENCHMARKS[f"{_name}{MO_SUFFIX}"] = variant(BENCHMARKS[_name], _name, "mo", None)


def available_benchmarks(repository: BlackboxRepository | None = None) -> list[str]:
    """Registered benchmark names plus every blackbox the repository can load."""
    repository = repository or BlackboxRepository()
    return sorted(set(BENCHMARKS) | set(repository.list()))


#: Defaults of YAHPO scenarios (``yahpo-<scenario>-<instance>``): workers and simulated seconds. lcbench
#: follows LCBench's published definition; other scenarios have no published budget here, so a run
#: needs ``--max_wallclock_time`` or another stop criterion.
YAHPO_DEFAULTS: dict[str, tuple[int, float | None]] = {"lcbench": (4, 7200.0)}


def get_benchmark(name: str, repository: BlackboxRepository | None = None) -> BenchmarkDefinition:
    """The definition of ``name``; a blackbox without one gets defaults; unknown names list the valid ones.

    ``<benchmark>-mo``, ``<benchmark>-mo-<objective>`` and ``<benchmark>-constrained`` are the multi-objective and
    constrained variants of any benchmark (``experiments.problem_variants``)."""
    if name in BENCHMARKS:
        return BENCHMARKS[name]
    parts = split_variant(name)
    if parts is not None and parts[0]:
        base_name, kind, objective = parts
        try:
            base = get_benchmark(base_name, repository)
        except ExperimentError:
            base = None
        if base is not None:
            return variant(base, base_name, kind, objective)
    if name.startswith(YAHPO_PREFIX):
        scenario = name[len(YAHPO_PREFIX) :].partition("-")[0]
        n_workers, budget = YAHPO_DEFAULTS.get(scenario, (DEFAULT_N_WORKERS, None))
        return BenchmarkDefinition(
            blackbox=name, n_workers=n_workers, max_wallclock_time=budget, description=f"YAHPO Gym {scenario} surrogate"
        )
    repository = repository or BlackboxRepository()
    known = repository.list()
    if name in known:
        return BenchmarkDefinition(blackbox=name, description=f"blackbox {name!r} with default settings")
    names = sorted(n for n in set(BENCHMARKS) | set(known) if split_variant(n) is None)  # variants: by grammar
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
    raise ExperimentError(
        f"unknown benchmark {name!r}; {hint}available: {benchmark_summary(names)}, "
        f"{YAHPO_PREFIX}<scenario>-<instance> (YAHPO Gym, e.g. yahpo-lcbench-3945); variants "
        f"<benchmark>{MO_SUFFIX}[-<objective>], <benchmark>{CONSTRAINED_SUFFIX}"
    )


#: families listed as one entry each in the unknown-benchmark error
FAMILY_PATTERNS = (("lcbench-<dataset>-restricted", "lcbench-", "-restricted"), *NAME_FAMILIES)


def benchmark_summary(names: list[str]) -> str:
    """A short listing of benchmark ``names``: families as ``pattern (count)``, other names one by one; the
    ``-mo``/``-constrained`` variants are left out (the error that lists benchmarks states their grammar)."""
    return summarize_names([name for name in names if split_variant(name) is None], FAMILY_PATTERNS)

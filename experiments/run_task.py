"""One run: build the method, simulate it and store the result (the unit every backend executes).

``RunContext`` holds what the runs of one benchmark share (picklable: it is shipped to worker processes and
Ray tasks), ``RunTask`` one (method, seed) pair. ``run_and_store`` computes a run under its lock unless it is
complete already, and writes it to the context's destination (``experiments.destinations``: a local directory
or an object store). ``experiments.run`` and ``experiments.study`` both execute runs through it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import math
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from blackbox_repository import BlackboxBase, BlackboxRepository
from blackbox_repository.storage import read_metadata as read_blackbox_metadata
from experiments import store
from experiments.benchmarks import BenchmarkDefinition, get_benchmark
from experiments.destinations import LocalDestination, RemoteDestination
from experiments.errors import ExperimentError
from experiments.seeds import RunSeeds
from methods import MethodSpec, Scheduler, resolve_method
from simulator import SimulationResult, StopCriteria, simulate

logger = logging.getLogger(__name__)

VERSION_PACKAGES = ("numpy", "pandas", "pyarrow", "scikit-learn", "tqdm", "hpo-workbench")
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class MethodChoice:
    """A method as a study names it: a registered name (or ``NAME+searcher``) and options for its parts."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunContext:
    """Everything a worker process needs for the runs of one benchmark (picklable)."""

    benchmark: str
    definition: BenchmarkDefinition
    cache_dir: Path
    n_workers: int
    stop: StopCriteria
    decision_overhead: float
    tag: str
    master_random_seed: int
    benchmark_files: dict[str, str]
    arguments: dict[str, Any]
    environment: dict[str, Any]
    start_at_random: bool = False
    #: where runs are stored (default: ``results_dir`` of the arguments, a local directory)
    destination: LocalDestination | RemoteDestination | None = None
    #: labels that are not plain method names: label -> the method and its options
    method_choices: Mapping[str, MethodChoice] = field(default_factory=dict)
    #: how a run of this context is recomputed (e.g. the study command); None: ``experiments.run``'s
    rerun_command: tuple[str, ...] | None = None

    def choice(self, label: str) -> MethodChoice:
        return self.method_choices.get(label) or MethodChoice(label)


@dataclass(frozen=True)
class RunTask:
    """One (method, seed) run: ``method`` is the label stored (a method name, or a study's label)."""

    method: str
    seed: int
    seeds: RunSeeds
    path: Path | str



def load_benchmark(
    name: str, repository: BlackboxRepository | None = None, *, restrict_configurations: bool = False
) -> tuple[BenchmarkDefinition, BlackboxBase]:
    """The benchmark's definition (resolved against its blackbox) and the blackbox to simulate
    (checksums verified; wrapped in its surrogate if the definition names one).

    ``restrict_configurations`` restricts methods to the tabulated configurations whatever the definition
    says; the table is then replayed as it is (a definition's surrogate is not needed and not used).
    """
    repository = repository or BlackboxRepository()
    definition = get_benchmark(name, repository)
    if restrict_configurations and not definition.restrict_configurations:
        if definition.surrogate is not None:
            logger.info("%s: restricted to its tabulated configurations, replayed without its surrogate", name)
        definition = dataclasses.replace(definition, surrogate=None, surrogate_kwargs={}, restrict_configurations=True)
    blackbox = definition.open(repository)
    return definition.resolve(blackbox), blackbox


def build_method(
    name: str,
    blackbox: BlackboxBase,
    definition: BenchmarkDefinition,
    *,
    seed: int,
    start_at_random: bool = False,
    n_workers: int | None = None,
    options: Mapping[str, Any] | None = None,
    repository: BlackboxRepository | None = None,
) -> Scheduler:
    """The method ``name`` (registered or ``NAME+searcher``) for a resolved benchmark definition;
    ``start_at_random``: no point (by default the midpoint of the space) is evaluated before the search proper;
    ``n_workers`` (default: the definition's) is passed to the parts of the method that take it; ``options``
    go to the scheduler or searcher that takes them (e.g. ``{"classifier": "rf"}`` for BORE).

    The benchmark's modalities reach the methods that take them (``problem_options``): every objective of a
    multi-objective benchmark (single-objective methods optimise the first), the constraint, the cost metric,
    and the evaluations of the other tasks of its family (``experiments.transfer``, leave-one-task-out)."""
    n_workers = definition.n_workers if n_workers is None else n_workers
    spec = resolve_method(name)
    options = {**problem_options(spec, blackbox, definition, options or {}, repository), **(options or {})}
    if start_at_random:
        options["points_to_evaluate"] = []
    if definition.restrict_configurations:
        if not spec.supports_restrict_configurations:
            raise ExperimentError(
                f"method {name!r} ({spec.describe()}) cannot be restricted to tabulated configurations; drop "
                "--restrict_configurations or use a benchmark definition with a surrogate instead"
            )
        options["restrict_configurations"] = blackbox.tabulated_configs.to_dict("records")
    try:
        return spec(
            space=blackbox.space,
            max_t=definition.max_t,
            seed=seed,
            n_workers=n_workers,
            **definition.method_problem(),
            **options,
        )
    except ValueError as error:
        raise ExperimentError(f"method {name!r} on {definition.blackbox!r}: {error}") from None


def problem_options(
    spec: MethodSpec,
    blackbox: BlackboxBase,
    definition: BenchmarkDefinition,
    given: Mapping[str, Any],
    repository: BlackboxRepository | None,
) -> dict[str, Any]:
    """The options a method takes that the benchmark supplies: ``constraint_attr``/``constraint_threshold``
    (a constrained benchmark), ``cost_attr`` (the blackbox's cumulative training time) and
    ``transfer_evaluations`` (the other tasks of the benchmark's family)."""
    options: dict[str, Any] = {}
    constraint = definition.constraint
    if constraint is not None and spec.takes("constraint_attr"):
        options["constraint_attr"] = constraint.metric
        if spec.takes("constraint_threshold"):
            options["constraint_threshold"] = constraint.threshold
    if spec.takes("cost_attr") and "cost_attr" not in spec.options and blackbox.elapsed_objective is not None:
        options["cost_attr"] = blackbox.elapsed_objective
    if spec.takes("transfer_evaluations") and "transfer_evaluations" not in given:
        options["transfer_evaluations"] = transfer_data(definition, repository)[0]
    return options


def transfer_data(
    definition: BenchmarkDefinition, repository: BlackboxRepository | None = None
) -> tuple[list[Any], dict[str, Any]]:
    """The other tasks' evaluations for ``definition`` and the protocol's metadata (built once per process)."""
    from experiments.transfer import load_transfer_tasks  # only for transfer methods

    repository = repository or BlackboxRepository()
    key = (repository.cache_dir, definition_key(definition))
    if key not in _TRANSFER:
        _TRANSFER[key] = load_transfer_tasks(definition.blackbox, definition, repository)
    return _TRANSFER[key]


_TRANSFER: dict[tuple[Path, str], tuple[list[Any], dict[str, Any]]] = {}


def definition_key(definition: BenchmarkDefinition) -> str:
    """A benchmark definition as a string key (of the per-process caches of blackboxes and transfer data)."""
    return json.dumps(store.to_json(definition.to_json()), sort_keys=True)


_BLACKBOXES: dict[tuple[Path, str, str], BlackboxBase] = {}


def run_and_store(
    context: RunContext, task: RunTask, blackbox: BlackboxBase | None = None, *, block: bool = True
) -> tuple[dict[str, Any], bool] | None:
    """Simulate one (method, seed) run under its lock and store it; returns (metadata, skipped), where
    ``skipped`` means another process completed it meanwhile, or None if it is locked and not ``block``."""
    destination = destination_of(context)
    lock = destination.lock(task.path, block=block)
    if lock is None:
        return None
    try:
        metadata = destination.complete_metadata(task.path, verify=False)
        if metadata is not None:  # completed by another process while we waited
            check_same_settings(task, metadata, run_settings(context, task))
            return metadata, True
        result, metadata = simulate_run(context, task, blackbox)
        return store_run(context, task, result, metadata), False
    finally:
        lock.release()


def destination_of(context: RunContext) -> LocalDestination | RemoteDestination:
    if context.destination is not None:
        return context.destination
    return LocalDestination(context.arguments.get("results_dir") or store.DEFAULT_RESULTS_DIR)


def open_blackbox(context: RunContext) -> BlackboxBase:
    """The context's benchmark, loaded once per process (memory-mapped tables stay shared by the page cache)."""
    key = (context.cache_dir, context.benchmark, definition_key(context.definition))
    if key not in _BLACKBOXES:
        _BLACKBOXES[key] = context.definition.open(BlackboxRepository(context.cache_dir))
    return _BLACKBOXES[key]


def simulate_run(
    context: RunContext, task: RunTask, blackbox: BlackboxBase | None = None
) -> tuple[SimulationResult, dict[str, Any]]:
    """Simulate one run: its ``SimulationResult`` and its metadata (before storing)."""
    definition = context.definition
    if blackbox is None:  # in a worker process: load once per process
        blackbox = open_blackbox(context)
    choice = context.choice(task.method)
    scheduler = build_method(
        choice.name,
        blackbox,
        definition,
        seed=task.seeds.method_seed,
        start_at_random=context.start_at_random,
        n_workers=context.n_workers,
        options=choice.options,
        repository=BlackboxRepository(context.cache_dir),
    )
    started_at = now()
    started = time.perf_counter()
    result = simulate(
        blackbox,
        scheduler,
        n_workers=context.n_workers,
        seed=task.seeds.simulator_seed,
        stop=context.stop,
        metric=definition.metric,
        max_t=definition.max_t,
        decision_overhead=context.decision_overhead,
    )
    metadata = {
        "tag": context.tag,
        "benchmark": context.benchmark,
        "method": task.method,
        "seed": task.seed,
        "settings": run_settings(context, task),
        "benchmark_definition": definition.to_json(),
        "arguments": context.arguments,
        "master_random_seed": context.master_random_seed,
        "run_seed": task.seeds.run_seed,
        "simulator_seed": task.seeds.simulator_seed,
        "method_seed": task.seeds.method_seed,
        "method_composition": store.to_json(dataclasses.asdict(resolve_method(choice.name))),
        **({"method_options": store.to_json(dict(choice.options))} if choice.options else {}),
        "schedule_description": scheduler.schedule_description(),
        "rung_levels": [int(level) for level in getattr(scheduler, "levels", ())],
        "method_state": scheduler.state_summary(),
        "searcher_state": scheduler.searcher.state_summary() if scheduler.searcher is not None else {},
        "metric": definition.metric,
        "mode": definition.mode,
        **modality_fields(context, choice),
        "fidelity_name": blackbox.fidelity_name,
        **result_fields(result, definition.metric),
        **context.environment,
        **({"command_line": [*context.rerun_command, *_only(context, task)]} if context.rerun_command else {}),
        "started_at": started_at,
        "finished_at": now(),
        "real_time_seconds": time.perf_counter() - started,
    }
    return result, metadata


def modality_fields(context: RunContext, choice: MethodChoice) -> dict[str, Any]:
    """The metadata of a run's problem: its objectives and modes (also for one objective), the constraint and
    the benchmark's fixed hypervolume reference point (if any), and the transfer protocol (transfer methods)."""
    definition = context.definition
    fields: dict[str, Any] = {"objectives": list(definition.objectives), "modes": list(definition.modes)}
    if definition.constraint is not None:
        fields["constraint"] = {"metric": definition.constraint.metric, "threshold": definition.constraint.threshold}
    if definition.reference_point is not None:
        fields["reference_point"] = list(definition.reference_point)
    if resolve_method(choice.name).takes("transfer_evaluations"):
        fields["transfer"] = transfer_data(definition, BlackboxRepository(context.cache_dir))[1]
    return fields


def result_fields(result: SimulationResult, metric: str) -> dict[str, Any]:
    """The metadata fields of a run's outcome, the same for simulated and real runs (``experiments.tuner``)."""
    best = result.best_so_far(metric)
    finite = best[~np.isnan(best)]
    return {
        "final_best": float(finite[-1]) if len(finite) else None,
        "simulated_time_seconds": result.simulated_time,
        "decision_cpu_seconds": result.decision_seconds,
        "num_decisions": result.num_decisions,
        "num_results": result.num_results,
        "num_trials": result.num_trials,
        "stop_reason": result.stop_reason,
    }


def _only(context: RunContext, task: RunTask) -> list[str]:
    return ["--only", f"{context.benchmark}/{task.method}/{task.seed}"]


def store_run(context: RunContext, task: RunTask, result: SimulationResult, metadata: dict[str, Any]) -> dict[str, Any]:
    """Store a simulated run at its destination; returns the complete metadata."""
    metadata = destination_of(context).write_run(task.path, result, context.definition.metric, metadata)
    logger.info(
        "%s seed %d: best %s %.6g after %.4g simulated s (%.3g CPU s deciding), %s",
        task.method,
        task.seed,
        context.definition.metric,
        float_or_nan(metadata["final_best"]),
        result.simulated_time,
        result.decision_seconds,
        result.stop_reason,
    )
    return metadata


def run_settings(context: RunContext, task: RunTask) -> dict[str, Any]:
    """Everything that determines a run's results; a stored run must match it to be reused."""
    return {
        **shared_settings(context, task.method),
        **store.to_json({"seed": task.seed, **dataclasses.asdict(task.seeds)}),
    }


def shared_settings(context: RunContext, method: str) -> dict[str, Any]:
    """The settings every seed of ``method`` shares (recorded once per method under a tag)."""
    definition = context.definition
    choice = context.choice(method)
    return store.to_json(
        {
            "benchmark": context.benchmark,
            "blackbox": definition.blackbox,
            "benchmark_files": context.benchmark_files,
            "metric": definition.metric,
            "mode": definition.mode,
            # recorded only for the modalities, so single-objective runs stored before them keep matching
            **({"objectives": list(definition.objectives), "modes": list(definition.modes)}
               if definition.is_multi_objective else {}),
            **({"constraint": definition.constraint.to_json()} if definition.constraint is not None else {}),
            "max_t": definition.max_t,
            "surrogate": definition.surrogate,
            "surrogate_kwargs": dict(definition.surrogate_kwargs),
            "restrict_configurations": definition.restrict_configurations,
            "n_workers": context.n_workers,
            "stop": dataclasses.asdict(context.stop),
            "decision_overhead": context.decision_overhead,
            "method": method,
            "master_random_seed": context.master_random_seed,
            # recorded only when set, so runs stored before the switch existed keep matching
            **({"start_at_random": True} if context.start_at_random else {}),
            **({"method_choice": dataclasses.asdict(choice)} if choice != MethodChoice(method) else {}),
        }
    )


def check_same_settings(task: RunTask, metadata: Mapping[str, Any], settings: dict[str, Any]) -> None:
    store.check_same_settings(task.path, "a run", metadata.get("settings") or {}, settings)


def benchmark_files(repository: BlackboxRepository, name: str) -> dict[str, str]:
    """SHA-256 of the benchmark's data files (so results of a regenerated table are not mixed)."""
    try:
        return dict(read_blackbox_metadata(repository.path(name)).get("files", {}))
    except (OSError, ValueError):
        return {}


def environment() -> dict[str, Any]:
    """Library versions and the git state of the code that computes the runs."""
    return {"versions": library_versions(), **_git_state()}


def library_versions(packages: tuple[str, ...] = VERSION_PACKAGES) -> dict[str, str | None]:
    """Python's version and those of ``packages`` (None: not installed)."""
    import importlib.metadata  # not at the top: only needed once a run is computed

    versions: dict[str, str | None] = {"python": platform.python_version()}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _git_state() -> dict[str, Any]:
    import subprocess

    def git(*args: str) -> str | None:
        try:
            completed = subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return completed.stdout.strip()

    revision = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if revision else None
    return {"git_revision": revision, "git_dirty": bool(status) if status is not None else None}


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def float_or_nan(value: Any) -> float:
    return math.nan if value is None else float(value)



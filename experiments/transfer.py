"""The transfer data of a benchmark under the leave-one-task-out protocol: the evaluations of the other tasks of
its family (the same search space), never of the benchmark itself.

Families (``source_tasks``): ``lcbench-<dataset>`` (the other LCBench datasets; ``lcbench-<dataset>-restricted``
likewise), ``nas201-<dataset>``, ``fcnet-<dataset>`` and ``yahpo-<scenario>-<instance>`` (the other instances of
the scenario); a variant ``<benchmark>-mo``/``-constrained`` has the variants of its family's tasks. Transfer
methods take the primary metric only.

Data (``load_transfer_tasks``): one ``methods.transfer.TransferTask`` per source task, values of the target
definition's metric at fidelities ``1 .. max_t``:

- a table: every tabulated configuration, the mean over the seeds that have data (NaN where none has);
- a surrogate (YAHPO): ``max_configs`` configurations drawn from the space with ``seed`` (the same sample for
  every task of the family, whose tasks share one space), evaluated through the blackbox at every fidelity and
  averaged over its seeds.

Built tasks are cached under ``<repository cache>/transfer/`` (written atomically, built by one process while
the others wait on a file lock), keyed by the target, its sources, metric, mode, ``max_t``, the sample size and
seed, and the source benchmarks' file checksums (tables: their recorded SHA-256; YAHPO: the release's SHA-256 of
the scenario files and the sizes of the local copies).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository import BlackboxBase, BlackboxRepository
from blackbox_repository.atomic import atomic_path
from blackbox_repository.blackbox import table_configs
from blackbox_repository.converters.lcbench import DATASET_NAMES as LCBENCH_DATASETS
from blackbox_repository.locations import YAHPO_PREFIX
from blackbox_repository.progress import tqdm
from blackbox_repository.storage import read_metadata
from blackbox_repository.yahpo import parse_yahpo_name, yahpo_data_dir, yahpo_instances
from blackbox_repository.yahpo.checksums import YAHPO_SHA256
from experiments.benchmarks import FCNET_DATASETS, NAS201_DATASETS, BenchmarkDefinition, get_benchmark
from experiments.errors import ExperimentError
from experiments.problem_variants import split_variant
from methods.transfer import TransferTask

try:
    import fcntl
except ImportError:  # Windows: no lock, builds may then be repeated
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

PROTOCOL = "leave-one-task-out"
DEFAULT_MAX_CONFIGS = 1000
#: mixed into the sample's seed, so that the configurations differ from other draws of the same seed
SAMPLE_SALT = 8117
CACHE_SUBDIR = "transfer"
#: (datasets, prefix, suffix) of the table families, the more specific names first
TABLE_FAMILIES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (tuple(LCBENCH_DATASETS), "lcbench-", "-restricted"),
    (tuple(LCBENCH_DATASETS), "lcbench-", ""),
    (tuple(NAS201_DATASETS), "nas201-", ""),
    (tuple(FCNET_DATASETS), "fcnet-", ""),
)


def source_tasks(benchmark: str, repository: BlackboxRepository | None = None) -> list[str]:
    """The other tasks of ``benchmark``'s family, on the same search space (never ``benchmark`` itself); a
    one-line ``ExperimentError`` for a benchmark without a family. ``repository`` is not needed: families are
    fixed by name (YAHPO instances come from the scenario's ``config_space.json``)."""
    parts = split_variant(benchmark)
    if parts is not None and parts[0]:
        base = parts[0]
        return [name + benchmark[len(base) :] for name in source_tasks(base, repository)]
    for datasets, prefix, suffix in TABLE_FAMILIES:
        for dataset in datasets:
            if benchmark == f"{prefix}{dataset}{suffix}":
                return [f"{prefix}{other}{suffix}" for other in datasets if other != dataset]
    if benchmark.startswith(YAHPO_PREFIX):
        try:
            scenario, instance = parse_yahpo_name(benchmark)
            instances = yahpo_instances(scenario)
        except ValueError as error:  # BlackboxError
            raise ExperimentError(f"{benchmark!r} has no transfer tasks: {error}") from None
        if instance not in instances:
            raise ExperimentError(f"{benchmark!r} has no transfer tasks: {scenario} has no instance {instance!r}")
        return [f"{YAHPO_PREFIX}{scenario}-{other}" for other in instances if other != instance]
    raise ExperimentError(
        f"benchmark {benchmark!r} has no family of tasks to transfer from; transfer methods run on "
        "lcbench-<dataset>[-restricted], nas201-<dataset>, fcnet-<dataset> or yahpo-<scenario>-<instance>"
    )


def load_transfer_tasks(
    benchmark: str,
    definition: BenchmarkDefinition,
    repository: BlackboxRepository,
    *,
    max_configs: int = DEFAULT_MAX_CONFIGS,
    seed: int = 0,
    progress: bool = True,
) -> tuple[list[TransferTask], dict[str, Any]]:
    """The transfer tasks of ``benchmark`` (every source task, for ``definition``'s metric, mode and ``max_t``) and
    a JSON-able description of the protocol (see the module docstring); cached on disk."""
    if isinstance(max_configs, bool) or not isinstance(max_configs, int) or max_configs < 1:
        raise ExperimentError(f"max_configs must be an integer >= 1, got {max_configs!r}")
    sources = source_tasks(benchmark, repository)
    blackboxes = {source: get_benchmark(source, repository).blackbox for source in sources}
    if any(name == get_benchmark(benchmark, repository).blackbox for name in blackboxes.values()):
        raise ExperimentError(f"a transfer task of {benchmark!r} has the target's own data")  # never, by the names
    metric, mode, max_t = definition.metric, definition.mode, definition.max_t
    if metric is None or mode is None or max_t is None:
        raise ExperimentError(f"load_transfer_tasks needs a resolved definition of {benchmark!r} (metric, mode, max_t)")
    key_facts = {
        "protocol": PROTOCOL,
        "target": benchmark,
        "sources": blackboxes,
        "metric": metric,
        "mode": mode,
        "max_t": max_t,
        "max_configs": max_configs,
        "seed": seed,
        "files": {source: source_files(repository, name) for source, name in blackboxes.items()},
    }
    key = hashlib.sha256(json.dumps(key_facts, sort_keys=True).encode()).hexdigest()[:20]
    path = Path(repository.cache_dir) / CACHE_SUBDIR / f"{_safe(benchmark)}-{key}.npz"
    with _locked(path):
        tasks = read_tasks(path) if path.is_file() else None
        if tasks is None:
            tasks = [
                build_task(source, repository.load(name), metric, mode, max_t, max_configs=max_configs, seed=seed)
                for source, name in tqdm(
                    blackboxes.items(), desc=f"transfer tasks of {benchmark}", unit="task", disable=not progress
                )
            ]
            write_tasks(path, tasks)
    counts = {task.name: len(task.configs) for task in tasks}
    sampled = any(name.startswith(YAHPO_PREFIX) for name in blackboxes.values())  # the only surrogate family
    metadata = {
        "protocol": PROTOCOL,
        "target": benchmark,
        "source_tasks": sources,
        "configs_per_task": next(iter(counts.values())) if len(set(counts.values())) == 1 else counts,
        "metric": metric,
        "mode": mode,
        "max_t": max_t,
        "config_sample_seed": seed if sampled else None,
        "cache_key": key,
    }
    return tasks, metadata


def build_task(
    name: str, blackbox: BlackboxBase, metric: str, mode: str, max_t: int, *, max_configs: int, seed: int
) -> TransferTask:
    """One source task: a table's configurations and seed-mean values, or a seeded sample through the blackbox."""
    if metric not in blackbox.objective_names:
        raise ExperimentError(
            f"transfer task {name!r} has no objective {metric!r}; objectives: {', '.join(blackbox.objective_names)}"
        )
    steps = min(max_t, len(blackbox.fidelities))
    index = blackbox.objective_index(metric)
    table = blackbox.tabulated_configs
    if table is not None and hasattr(blackbox, "objectives"):
        configs = table_configs(table)
        cells = np.asarray(blackbox.objectives[:, :, :steps, index], dtype=float)
        finite = np.isfinite(cells)
        counts = finite.sum(axis=1)
        values = np.where(counts > 0, np.where(finite, cells, 0.0).sum(axis=1) / np.maximum(counts, 1), np.nan)
    else:
        configs = blackbox.space.sample_many(np.random.default_rng([seed, SAMPLE_SALT]), max_configs)
        values = sampled_values(blackbox, configs, steps, index)
    if steps < max_t:  # a shorter source: no values beyond its last fidelity
        values = np.hstack([values, np.full((len(configs), max_t - steps), np.nan)])
    return TransferTask(name, configs, values, mode)


def sampled_values(blackbox: BlackboxBase, configs: Sequence[dict], steps: int, index: int) -> np.ndarray:
    """The metric of ``configs`` at fidelity steps ``1 .. steps``, averaged over the blackbox's seeds, shape
    (configs, steps): one batched ``evaluate`` per seed."""
    fidelity_values = np.asarray(getattr(blackbox, "fidelity_values", blackbox.fidelities))[:steps]
    frame = pd.DataFrame(configs, columns=blackbox.space.names)
    repeated = pd.concat([frame] * steps, ignore_index=True)
    fidelity = np.repeat(fidelity_values, len(frame))
    total = np.zeros((len(frame), steps))
    for seed_index in range(len(blackbox.seeds)):
        out = np.asarray(blackbox.evaluate(repeated, fidelity, seed_index), dtype=float)[:, index]
        total += out.reshape(steps, len(frame)).T
    return total / len(blackbox.seeds)


def source_files(repository: BlackboxRepository, name: str) -> dict[str, Any]:
    """What identifies a source's data: a table's recorded SHA-256 per file; for YAHPO, the release's SHA-256 of
    the scenario's files and the sizes of the local copies."""
    if name.startswith(YAHPO_PREFIX):
        scenario = name[len(YAHPO_PREFIX) :].partition("-")[0]
        known = {file: sha for file, sha in YAHPO_SHA256.items() if file.startswith(f"{scenario}/")}
        directory = yahpo_data_dir() / scenario
        sizes = {p.name: p.stat().st_size for p in sorted(directory.glob("*")) if p.is_file()}
        return {"sha256": known, "sizes": sizes}
    try:
        return dict(read_metadata(repository.path(name)).get("files", {}))
    except (OSError, ValueError):
        return {}


# Cache file ---------------------------------------------------------------------------------------
def write_tasks(path: Path, tasks: Sequence[TransferTask]) -> None:
    """Store ``tasks`` in one ``.npz`` (values) with their names, modes and configurations as JSON; configuration
    lists shared by several tasks (a common sample) are stored once."""
    config_sets: list[list[dict]] = []
    entries = []
    for task in tasks:
        configs = list(task.configs)
        if not config_sets or config_sets[-1] != configs:
            config_sets.append(configs)
        entries.append({"name": task.name, "mode": task.mode, "configs": len(config_sets) - 1})
    meta = json.dumps({"tasks": entries, "config_sets": config_sets}, allow_nan=False)
    arrays = {f"values_{i}": task.values for i, task in enumerate(tasks)}
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, meta=np.array(meta), **arrays)
            handle.flush()
            os.fsync(handle.fileno())


def read_tasks(path: Path) -> list[TransferTask] | None:
    """The tasks stored at ``path``, or None if the file cannot be read (it is then built again)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            return [
                TransferTask(entry["name"], meta["config_sets"][entry["configs"]], data[f"values_{i}"], entry["mode"])
                for i, entry in enumerate(meta["tasks"])
            ]
    except (OSError, ValueError, KeyError) as error:
        logger.warning("cannot read the cached transfer tasks %s (%s); building them again", path, error)
        return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``<path>.lock`` while one process builds or reads ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)

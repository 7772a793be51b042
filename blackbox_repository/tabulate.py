"""Tabulate your own benchmark: run a training function on every (configuration, seed) and keep the curves.

``train(config, seed)`` returns an iterator (typically a generator) yielding one dict of metrics per
epoch. ``tabulate`` runs every (configuration, seed) task, in parallel worker processes if
``n_jobs > 1``, and measures the wall-clock seconds spent producing each epoch (the time spent
inside ``next()`` of the iterator; work done by ``train`` before it returns the iterator is not
counted). It adds two objectives: ``runtime`` (seconds of each epoch) and ``elapsed_time`` (their
cumulative sum). Every epoch must yield the same metrics (a metric yielded at some epochs only is an
error naming it); metrics that are not declared objectives are not stored.

Progress is checkpointed in ``checkpoint_dir``: completed tasks are written in atomically replaced
chunk files every ``checkpoint_every`` tasks or ``checkpoint_seconds`` seconds, and once more when
the run stops (Ctrl-C, SIGTERM, an error). Calling ``tabulate`` again with the same configurations,
seeds and objectives skips the completed tasks. The checkpoint is kept after success; delete it
once the benchmark is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import platform
import signal
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from blackbox_repository.atomic import write_bytes_atomic, write_text_atomic
from blackbox_repository.blackbox import Blackbox, Objective
from blackbox_repository.errors import BlackboxError
from blackbox_repository.progress import tqdm
from searchspace import SearchSpace, SearchSpaceError

logger = logging.getLogger(__name__)

RUNTIME = "runtime"
ELAPSED = "elapsed_time"
FINGERPRINT_FILE = "fingerprint.json"
CHUNK_GLOB = "chunk-*.npz"
LIBRARIES = ("numpy", "pandas", "scikit-learn", "scipy", "pyarrow", "threadpoolctl", "tqdm")

TrainFunction = Callable[[dict, int], Iterable[Mapping[str, float]]]


def tabulate(
    name: str,
    train: TrainFunction,
    configs: Sequence[Mapping[str, Any]],
    seeds: Sequence[int],
    space: SearchSpace,
    *,
    objectives: Sequence[Objective],
    metric: str,
    checkpoint_dir: Path | str,
    n_jobs: int = 1,
    fidelity_name: str = "epoch",
    metadata: dict[str, Any] | None = None,
    progress: bool = True,
    checkpoint_every: int = 100,
    checkpoint_seconds: float = 10.0,
) -> Blackbox:
    """Run ``train`` on every (configuration, seed) and return the tabulated ``Blackbox``.

    Args:
        name: benchmark name.
        train: ``train(config, seed)`` yielding one ``{objective: value}`` dict per epoch; every task
            must yield the same number of epochs. With ``n_jobs > 1`` it must be picklable (a
            module-level function or a ``functools.partial`` of one).
        configs: the configurations to tabulate (each must belong to ``space``; no duplicates).
        seeds: the seeds passed to ``train``.
        space: the search space; configuration columns follow ``space.names``.
        objectives: the metrics yielded by ``train`` (name, mode, unit).
        metric: the default metric, one of ``objectives`` with a mode.
        checkpoint_dir: directory of the resumable checkpoint of this run.
        n_jobs: number of worker processes (1: run in this process).
        fidelity_name: name of the fidelity axis.
        metadata: free-form facts stored with the benchmark; ``machine``, ``tabulated_at`` and
            ``n_jobs`` are added.
        progress: show a progress bar over tasks.
        checkpoint_every: flush completed tasks to the checkpoint after this many tasks ...
        checkpoint_seconds: ... or after this many seconds, whichever comes first.
    """
    objectives = tuple(objectives)
    names = _check_objectives(objectives, metric)
    seeds = [_as_int_seed(seed) for seed in seeds]
    rows = _check_configs(configs, space)
    if not seeds:
        raise BlackboxError("tabulate needs at least one seed; pass seeds=[0] or more")
    if len(set(seeds)) != len(seeds):
        raise BlackboxError(f"seeds must be distinct, got {seeds}; remove the duplicates")
    if n_jobs < 1:
        raise BlackboxError(f"n_jobs must be at least 1, got {n_jobs}")

    checkpoint = _Checkpoint(Path(checkpoint_dir), _fingerprint(name, space, rows, seeds, names, fidelity_name))
    results = checkpoint.load(num_tasks=len(rows) * len(seeds), num_values=len(names) + 1)
    tasks = [task for task in range(len(rows) * len(seeds)) if task not in results]
    if results:
        logger.info("resuming %r from %s: %d of %d tasks done", name, checkpoint.directory,
                    len(results), len(rows) * len(seeds))

    def describe(task: int) -> tuple[dict[str, Any], int]:
        return rows[task // len(seeds)], seeds[task % len(seeds)]

    recorder = _Recorder(checkpoint, results, checkpoint_every, checkpoint_seconds)
    bar = tqdm(total=len(rows) * len(seeds), initial=len(results), desc=name, unit="task", disable=not progress)
    try:
        with _sigterm_raises_interrupt():
            if n_jobs == 1:
                _run_in_process(train, tasks, describe, names, recorder, bar, checkpoint.directory)
            else:
                _run_in_pool(train, tasks, describe, names, recorder, bar, checkpoint.directory, n_jobs)
    finally:
        bar.close()
        recorder.flush()
    checkpoint.compact()

    values = np.stack([results[task] for task in range(len(rows) * len(seeds))])
    num_epochs = values.shape[1]
    values = values.reshape(len(rows), len(seeds), num_epochs, len(names) + 1)
    elapsed = np.cumsum(values[..., -1:], axis=2)
    table = np.concatenate([values, elapsed], axis=-1).astype(np.float64)

    info = dict(metadata or {})
    info["machine"] = machine_info()
    info["tabulated_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    info["n_jobs"] = n_jobs
    return Blackbox(
        name=name,
        space=space,
        configs=pd.DataFrame(rows, columns=space.names),
        fidelities=np.arange(1, num_epochs + 1),
        seeds=np.asarray(seeds, dtype=np.int64),
        objectives=table,
        objective_info=[*objectives, Objective(RUNTIME, None, "s"), Objective(ELAPSED, None, "s")],
        metric=metric,
        runtime_objective=RUNTIME,
        elapsed_objective=ELAPSED,
        fidelity_name=fidelity_name,
        metadata=info,
    )


def machine_info() -> dict[str, Any]:
    """Facts about this machine that runtimes depend on: CPU, cores, platform and library versions."""
    versions = {}
    for library in LIBRARIES:
        try:
            versions[library] = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_available": available,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "libraries": versions,
    }


# Running tasks -----------------------------------------------------------------------------------


def run_task(train: TrainFunction, config: dict[str, Any], seed: int, names: Sequence[str]) -> np.ndarray:
    """One task: an array (epochs, len(names) + 1) of the yielded metrics and the seconds per epoch."""
    iterator = iter(train(dict(config), seed))
    rows = []
    keys: set | None = None
    while True:
        start = time.perf_counter()
        try:
            metrics = next(iterator)
        except StopIteration:
            break
        seconds = time.perf_counter() - start
        if keys is None:
            keys = set(metrics)
        elif set(metrics) != keys:
            _refuse_changed_keys(keys, set(metrics), config, seed, len(rows) + 1)
        rows.append([_metric_value(metrics, key, config, seed, len(rows) + 1) for key in names] + [seconds])
    if not rows:
        raise BlackboxError(f"train({config}, {seed}) yielded no epoch; yield one dict of metrics per epoch")
    return np.asarray(rows, dtype=np.float64)


def _refuse_changed_keys(first: set, now: set, config: dict, seed: int, epoch: int) -> None:
    """A metric yielded at some epochs only would be dropped or half-stored: refuse it, naming it and the epoch."""
    key = sorted(now - first or first - now, key=str)[0]
    where = f"at epoch {epoch} but not at epoch 1" if key in now else f"at epoch 1 but not at epoch {epoch}"
    raise BlackboxError(
        f"train({config}, {seed}) yielded metric {key!r} {where}; yield the same metrics at every epoch "
        "(float('nan') where one is not measured)"
    )


def _metric_value(metrics: Mapping[str, Any], key: str, config: dict, seed: int, epoch: int) -> float:
    try:
        return float(metrics[key])
    except KeyError:
        raise BlackboxError(
            f"train({config}, {seed}) yielded {sorted(metrics)} at epoch {epoch}, without objective {key!r}; "
            "yield every objective at every epoch"
        ) from None
    except (TypeError, ValueError):
        raise BlackboxError(
            f"train({config}, {seed}) yielded {key}={metrics[key]!r} at epoch {epoch}; yield numbers"
        ) from None


def _run_in_process(train, tasks, describe, names, recorder, bar, directory) -> None:
    with threadpool_limits(limits=1):
        for task in tasks:
            config, seed = describe(task)
            try:
                values = run_task(train, config, seed, names)
            except Exception as error:
                raise _task_error(error, config, seed, directory) from error
            recorder.add(task, values, config, seed)
            bar.update()


def _run_in_pool(train, tasks, describe, names, recorder, bar, directory, n_jobs) -> None:
    pool = ProcessPoolExecutor(max_workers=n_jobs, initializer=_init_worker)
    try:
        pending: dict[Future, int] = {}
        for task in tasks:
            config, seed = describe(task)
            pending[pool.submit(run_task, train, config, seed, names)] = task
        while pending:
            done, _ = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                config, seed = describe(task)
                try:
                    values = future.result()
                except Exception as error:
                    raise _task_error(error, config, seed, directory) from error
                recorder.add(task, values, config, seed)
                bar.update()
            if not done:
                recorder.maybe_flush()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()  # tasks in flight are lost anyway; do not wait for them
        raise
    pool.shutdown()


def _init_worker() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the main process, which ends the workers
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    global _WORKER_LIMITS
    _WORKER_LIMITS = threadpool_limits(limits=1)  # kept for the life of the worker


_WORKER_LIMITS: Any = None


def _task_error(error: Exception, config: dict, seed: int, directory: Path) -> BlackboxError:
    if isinstance(error, BlackboxError):
        return error
    return BlackboxError(
        f"train failed on configuration {config}, seed {seed}: {type(error).__name__}: {error}; fix it and "
        f"run tabulate again (completed tasks are kept in {directory})"
    )


@contextlib.contextmanager
def _sigterm_raises_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so that a killed run still saves its completed tasks."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


class _Recorder:
    """Collects finished tasks and flushes them to the checkpoint every N tasks or T seconds."""

    def __init__(self, checkpoint: _Checkpoint, results: dict[int, np.ndarray], every: int, seconds: float):
        self.checkpoint, self.results = checkpoint, results
        self.every, self.seconds = max(1, every), seconds
        self.buffer: list[int] = []
        self.last_flush = time.monotonic()
        self.num_epochs = next(iter(results.values())).shape[0] if results else None

    def add(self, task: int, values: np.ndarray, config: dict, seed: int) -> None:
        if self.num_epochs is None:
            self.num_epochs = values.shape[0]
        elif values.shape[0] != self.num_epochs:
            raise BlackboxError(
                f"train({config}, {seed}) yielded {values.shape[0]} epochs, other tasks {self.num_epochs}; "
                "every task must yield the same number of epochs"
            )
        self.results[task] = values
        self.buffer.append(task)
        self.maybe_flush()

    def maybe_flush(self) -> None:
        if len(self.buffer) >= self.every or (
            self.buffer and time.monotonic() - self.last_flush >= self.seconds
        ):
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.checkpoint.write_chunk(self.buffer, [self.results[task] for task in self.buffer])
            logger.debug("checkpointed %d tasks", len(self.buffer))
            self.buffer = []
        self.last_flush = time.monotonic()


# Checkpoint --------------------------------------------------------------------------------------


class _Checkpoint:
    """A directory with ``fingerprint.json`` and chunk files of completed tasks (task ids, values)."""

    def __init__(self, directory: Path, fingerprint: dict[str, Any]) -> None:
        self.directory = directory
        self.fingerprint = fingerprint

    def chunks(self) -> list[Path]:
        return sorted(self.directory.glob(CHUNK_GLOB))

    def load(self, num_tasks: int, num_values: int) -> dict[int, np.ndarray]:
        """Completed tasks of an earlier run with the same fingerprint (writes the fingerprint if new)."""
        path = self.directory / FINGERPRINT_FILE
        if path.is_file():
            stored = json.loads(path.read_text())
            if stored.get("fingerprint") != self.fingerprint["fingerprint"]:
                raise BlackboxError(
                    f"checkpoint {self.directory} was made for other tasks ({_summary(stored)}) than this call "
                    f"({_summary(self.fingerprint)}); delete it or pass another checkpoint_dir"
                )
        elif self.chunks():
            raise BlackboxError(
                f"checkpoint {self.directory} has chunk files but no {FINGERPRINT_FILE}; delete it or pass "
                "another checkpoint_dir"
            )
        else:
            write_text_atomic(path, json.dumps(self.fingerprint, indent=1))
        for stale in self.directory.glob(".chunk-*.tmp"):  # left by a process killed while writing
            stale.unlink(missing_ok=True)

        results: dict[int, np.ndarray] = {}
        for chunk in self.chunks():
            try:
                with np.load(chunk, allow_pickle=False) as data:
                    task_ids, values = data["task_ids"], data["values"]
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
                raise BlackboxError(
                    f"checkpoint chunk {chunk} is unreadable ({error}); delete that file and its tasks run again"
                ) from None
            if values.ndim != 3 or values.shape[2] != num_values or len(task_ids) != len(values) or (
                len(task_ids) and (task_ids.min() < 0 or task_ids.max() >= num_tasks)
            ):
                raise BlackboxError(
                    f"checkpoint chunk {chunk} does not fit this run; delete that file and its tasks run again"
                )
            for task, row in zip(task_ids.tolist(), values):
                results[task] = row
        epochs = {row.shape[0] for row in results.values()}
        if len(epochs) > 1:
            raise BlackboxError(
                f"checkpoint {self.directory} holds tasks with different numbers of epochs {sorted(epochs)}; "
                "delete it and run again"
            )
        return results

    def write_chunk(self, task_ids: Sequence[int], values: Sequence[np.ndarray]) -> None:
        existing = self.chunks()
        index = int(existing[-1].stem.split("-")[1]) + 1 if existing else 0
        buffer = io.BytesIO()
        np.savez(buffer, task_ids=np.asarray(task_ids, dtype=np.int64), values=np.stack(values))
        write_bytes_atomic(self.directory / f"chunk-{index:06d}.npz", buffer.getvalue())

    def compact(self) -> None:
        """Merge the chunk files into one (safe to interrupt: duplicates are harmless on load)."""
        chunks = self.chunks()
        if len(chunks) <= 1:
            return
        task_ids, values = [], []
        for chunk in chunks:
            with np.load(chunk, allow_pickle=False) as data:
                task_ids.append(data["task_ids"])
                values.append(data["values"])
        self.write_chunk(np.concatenate(task_ids).tolist(), list(np.concatenate(values)))
        for chunk in chunks:
            chunk.unlink(missing_ok=True)


def _fingerprint(
    name: str, space: SearchSpace, rows: list[dict], seeds: list[int], names: Sequence[str], fidelity_name: str
) -> dict[str, Any]:
    content = {
        "configs": [[row[key] for key in space.names] for row in rows],
        "hyperparameters": space.names,
        "seeds": seeds,
        "objectives": list(names),
        "fidelity_name": fidelity_name,
    }
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=_json_default).encode()).hexdigest()
    return {
        "fingerprint": digest,
        "name": name,
        "num_configs": len(rows),
        "seeds": seeds,
        "objectives": list(names),
    }


def _summary(fingerprint: Mapping[str, Any]) -> str:
    return (
        f"{fingerprint.get('num_configs')} configurations, seeds {fingerprint.get('seeds')}, "
        f"objectives {fingerprint.get('objectives')}"
    )


# Checks ------------------------------------------------------------------------------------------


def _check_objectives(objectives: Sequence[Objective], metric: str) -> list[str]:
    names = [objective.name for objective in objectives]
    if not names:
        raise BlackboxError("tabulate needs at least one objective; describe the metrics that train yields")
    if len(set(names)) != len(names):
        raise BlackboxError(f"objective names must be distinct, got {names}")
    for reserved in (RUNTIME, ELAPSED):
        if reserved in names:
            raise BlackboxError(
                f"objective name {reserved!r} is reserved (tabulate measures it); rename that metric in train"
            )
    modes = {objective.name: objective.mode for objective in objectives}
    if metric not in modes:
        raise BlackboxError(f"metric {metric!r} is not one of the objectives {names}; pick one of them")
    if modes[metric] is None:
        raise BlackboxError(f"metric {metric!r} has no mode; give its Objective mode='min' or mode='max'")
    return names


def _check_configs(configs: Sequence[Mapping[str, Any]], space: SearchSpace) -> list[dict[str, Any]]:
    rows = []
    for i, config in enumerate(configs):
        try:
            space.validate(config)
        except SearchSpaceError as error:
            raise BlackboxError(f"configuration {i} ({dict(config)}) does not fit the search space: {error}") from None
        rows.append({key: _to_python(config[key]) for key in space.names})
    if not rows:
        raise BlackboxError("tabulate needs at least one configuration")
    keys = [tuple(row.values()) for row in rows]
    if len(set(keys)) != len(keys):
        seen: set[tuple] = set()
        duplicate = next(key for key in keys if key in seen or seen.add(key))
        raise BlackboxError(
            f"configuration {dict(zip(space.names, duplicate))} is listed twice; pass each configuration once"
        )
    return rows


def _as_int_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise BlackboxError(f"seeds must be integers, got {seed!r}")
    return int(seed)


def _to_python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot fingerprint a {type(value).__name__} hyperparameter value")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

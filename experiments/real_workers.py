"""Worker processes of the real-clock tuner: each runs one trial segment at a time.

A worker is a process of a ``spawn`` (default) or ``forkserver`` context that exits with its parent
(``experiments.workers.init_worker``; with ``forkserver`` the parent is the fork server, which exits with the
tuner) and, by default, uses one BLAS/OpenMP thread (environment variables at its start and ``threadpoolctl``). The
training function arrives pickled and is loaded once per worker, so it must be importable by name (a module-level
function, or a ``functools.partial`` of one).

A segment (``Segment``) runs ``train(config, seed[, checkpoint_dir=...])`` and sends every epoch after ``start`` to
the parent, with the seconds spent producing it (inside ``next()``) and the time it ended (``time.monotonic()``:
one system-wide clock, comparable across processes). Epochs up to ``start`` are skipped (a function restarted from
scratch); an epoch yielded with an ``"epoch"`` key is that epoch, otherwise epochs are counted from ``start`` (a
function that takes ``checkpoint_dir``, which resumes) or from 0 (one that does not). At ``report_at`` (before
``max_t``) the worker waits for the parent's decision: ``("continue", report_at)``, ``("pause",)`` or
``("stop",)``; between reports it trains on, looking for a ``("stop",)`` (the end of the experiment) after each
epoch only. The segment ends at ``max_t``, at a NaN metric, when told to, or when ``train`` raises or stops
yielding too early (a ``failed`` message with the traceback; the worker itself lives on). The iterator is closed
whenever a segment ends (``GeneratorExit`` at its ``yield``).

Messages to the parent: ``("ready",)``, ``("load_error", text)``, ``("result", trial, epoch, metrics, runtime,
stamp, setup_seconds, checkpoint_seconds)``, ``("failed", trial, summary, traceback)``, ``("bad_metrics", trial,
text)``. The parent (``WorkerPool``) turns them into ``Event``s and adds ``("died", exit code)`` for a worker whose
process ended.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import multiprocessing.connection
import os
import pickle
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from experiments.checkpoints import snapshot
from experiments.trial_metrics import MetricsError, clean_metrics
from experiments.workers import init_worker

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


@dataclass(frozen=True)
class WorkerSetup:
    """What every worker needs (picklable): the pickled training function and the problem's facts."""

    train: bytes
    metric: str
    max_t: int
    reserved: frozenset[str]
    blas_threads: int | None
    parent: int  # the tuner's process id; 0 with a fork server (the workers' parent, which ends with the tuner)


@dataclass(frozen=True)
class Segment:
    """Run ``trial_id`` from epoch ``start + 1`` to ``report_at`` (then ask), with its checkpoint directory (None:
    the function takes none) and, if set, the directory where to snapshot it at each report."""

    trial_id: int
    config: dict[str, Any]
    seed: int
    start: int
    report_at: int
    checkpoint_dir: str | None = None
    snapshot_dir: str | None = None


class Event(NamedTuple):
    """Something a worker did: ``kind`` is "ready", "load_error", "result", "failed", "bad_metrics" or "died"."""

    kind: str
    slot: int
    trial: int | None = None
    epoch: int | None = None
    metrics: dict[str, float] | None = None
    runtime: float = 0.0
    stamp: float = 0.0
    setup_seconds: float = 0.0
    checkpoint_seconds: float = 0.0
    message: str = ""


# In the worker process -----------------------------------------------------------------------------
def worker_main(conn: multiprocessing.connection.Connection, setup: WorkerSetup) -> None:
    """A worker's life: load ``train``, then run the segments the parent sends until told to exit."""
    global _LIMITS
    init_worker(setup.parent or os.getppid())  # 0: the parent is a fork server, which exits with the tuner
    if setup.blas_threads is not None:
        os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(setup.blas_threads)))
    try:
        train = pickle.loads(setup.train)
        if setup.blas_threads is not None:
            from threadpoolctl import threadpool_limits

            _LIMITS = threadpool_limits(limits=setup.blas_threads)  # kept for the life of the worker
    except BaseException as error:  # noqa: BLE001 - whatever fails here, the parent must hear it in one line
        conn.send(("load_error", f"{type(error).__name__}: {error}"))
        return
    try:
        conn.send(("ready",))
        while True:
            message = conn.recv()
            if message[0] == "exit" or (message[0] == "run" and _run_segment(conn, train, message[1], setup) == "exit"):
                return
    except (EOFError, OSError):  # the connection is gone: the parent has ended (train's own errors are caught)
        return


_LIMITS: Any = None


def _run_segment(conn: Any, train: Any, segment: Segment, setup: WorkerSetup) -> str | None:
    """Run one segment; returns "exit" if the parent said so while it ran."""
    began = time.perf_counter()
    kwargs = {} if segment.checkpoint_dir is None else {"checkpoint_dir": segment.checkpoint_dir}
    try:
        iterator = iter(train(dict(segment.config), segment.seed, **kwargs))
    except Exception as error:  # noqa: BLE001 - a failing trial, whatever the error
        conn.send(("failed", segment.trial_id, _summary(error), traceback.format_exc()))
        return None
    try:
        return _epochs(conn, iterator, segment, setup, time.perf_counter() - began)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()


def _epochs(
    conn: Any, iterator: Iterator[Any], segment: Segment, setup: WorkerSetup, setup_seconds: float
) -> str | None:
    trial, report_at, done = segment.trial_id, segment.report_at, segment.start
    counted = segment.start if segment.checkpoint_dir is not None else 0
    while True:
        began = time.perf_counter()
        try:
            metrics = next(iterator)
        except StopIteration:
            text = f"train stopped yielding after epoch {counted}; it must yield max_t={setup.max_t} epochs"
            conn.send(("failed", trial, text, ""))
            return None
        except Exception as error:  # noqa: BLE001 - a failing trial, whatever the error
            conn.send(("failed", trial, _summary(error), traceback.format_exc()))
            return None
        runtime, stamp = time.perf_counter() - began, time.monotonic()
        try:
            epoch, values = clean_metrics(metrics, setup.metric, setup.reserved)
        except MetricsError as error:
            conn.send(("bad_metrics", trial, str(error)))
            return None
        counted = counted + 1 if epoch is None else epoch
        if counted <= done:
            continue  # recorded before: a function restarted from scratch (or from an older checkpoint)
        if counted != done + 1:
            text = f"train yielded epoch {counted} after epoch {done}; epochs must follow each other"
            conn.send(("failed", trial, text, ""))
            return None
        done = counted
        ends = math.isnan(values[setup.metric]) or done >= setup.max_t
        wait = done == report_at and not ends
        saved = 0.0
        if wait and segment.snapshot_dir is not None and segment.checkpoint_dir is not None:
            saved = time.perf_counter()
            snapshot(segment.checkpoint_dir, Path(segment.snapshot_dir) / f"epoch-{done}")
            saved = time.perf_counter() - saved
        conn.send(("result", trial, done, values, runtime, stamp, setup_seconds, saved))
        setup_seconds = 0.0
        if ends:
            return None
        if not wait:
            if conn.poll():  # between reports only the end of the experiment interrupts a trial
                return "exit" if conn.recv()[0] == "exit" else None
            continue
        answer = conn.recv()
        if answer[0] != "continue":
            return "exit" if answer[0] == "exit" else None
        report_at = answer[1]


def _summary(error: BaseException) -> str:
    """``Type: message (file:line)`` of the innermost frame of ``error``."""
    frames = traceback.extract_tb(error.__traceback__)
    where = f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


# In the parent process -----------------------------------------------------------------------------
class _Worker:
    __slots__ = ("process", "conn", "spawned", "ready")

    def __init__(self, process: Any, conn: Any, spawned: float) -> None:
        self.process, self.conn, self.spawned, self.ready = process, conn, spawned, False


class WorkerPool:
    """``n`` worker slots, each holding one process; a dead worker is replaced with ``replace(slot)``.

    ``startup_seconds`` lists, per process started, the real seconds from its start to its "ready" message
    (interpreter start, imports, loading the training function).
    """

    def __init__(self, n: int, setup: WorkerSetup, start_method: str = "spawn") -> None:
        self.setup = setup
        self.context = multiprocessing.get_context(start_method)
        self.workers: list[_Worker | None] = [None] * n
        self.startup_seconds: list[float] = []

    def start(self) -> None:
        for slot in range(len(self.workers)):
            self.replace(slot)

    def replace(self, slot: int) -> None:
        """Start a new process in ``slot`` (the old one, if any, has ended)."""
        parent_conn, child_conn = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=worker_main, args=(child_conn, self.setup), name=f"tuner-worker-{slot}", daemon=False
        )
        with _thread_environment(self.setup.blas_threads):
            process.start()
        child_conn.close()
        self.workers[slot] = _Worker(process, parent_conn, time.perf_counter())

    def send(self, slot: int, message: tuple) -> bool:
        """Send ``message`` to the worker in ``slot``; False if it is gone (its death is reported by ``wait``)."""
        worker = self.workers[slot]
        if worker is None:
            return False
        try:
            worker.conn.send(message)
        except (OSError, ValueError):
            return False
        return True

    def wait(self, timeout: float | None) -> list[Event]:
        """The events of the next ``timeout`` seconds at most (as soon as there is one)."""
        live = [(slot, worker) for slot, worker in enumerate(self.workers) if worker is not None]
        waitables = [w.conn for _, w in live] + [w.process.sentinel for _, w in live]
        ready = set(multiprocessing.connection.wait(waitables, timeout))
        events: list[Event] = []
        for slot, worker in live:
            if worker.conn in ready or worker.process.sentinel in ready:
                events.extend(self._drain(slot, worker))
            if worker.process.sentinel in ready:
                worker.process.join()
                worker.conn.close()
                self.workers[slot] = None
                events.append(Event("died", slot, message=f"exit code {worker.process.exitcode}"))
        return events

    def _drain(self, slot: int, worker: _Worker) -> list[Event]:
        events = []
        while True:
            try:
                if not worker.conn.poll():
                    return events
                message = worker.conn.recv()
            except (EOFError, OSError):
                return events
            kind = message[0]
            if kind == "ready":
                worker.ready = True
                self.startup_seconds.append(time.perf_counter() - worker.spawned)
                events.append(Event("ready", slot))
            elif kind == "result":
                _, trial, epoch, metrics, runtime, stamp, setup_seconds, saved = message
                events.append(Event("result", slot, trial, epoch, metrics, runtime, stamp, setup_seconds, saved))
            elif kind == "failed":
                events.append(Event("failed", slot, message[1], message=f"{message[2]}\n{message[3]}".strip()))
            elif kind == "bad_metrics":
                events.append(Event("bad_metrics", slot, message[1], message=message[2]))
            else:  # load_error
                events.append(Event("load_error", slot, message=message[1]))

    def is_ready(self, slot: int) -> bool:
        worker = self.workers[slot]
        return worker is not None and worker.ready

    def close(self, grace: float = 1.0) -> None:
        """Ask every worker to exit, wait up to ``grace`` seconds in all, then terminate the others."""
        for slot in range(len(self.workers)):
            self.send(slot, ("exit",))
        deadline = time.monotonic() + grace
        workers = [worker for worker in self.workers if worker is not None]
        for worker in workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.process.is_alive():
                worker.process.terminate()
        for worker in workers:
            worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        self.workers = [None] * len(self.workers)


@contextlib.contextmanager
def _thread_environment(threads: int | None) -> Iterator[None]:
    """The thread-count variables set to ``threads`` while a process starts (a spawned process inherits them, so
    its BLAS and OpenMP libraries start with that many threads); the parent's values are restored."""
    if threads is None:
        yield
        return
    saved = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, str(threads)))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

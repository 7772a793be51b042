"""Where a study's runs execute: local worker processes (default) or a Ray cluster (the ``ray`` extra).

A backend takes (context, task) pairs and calls ``experiments.run_task.run_and_store`` on each, somewhere;
``attempt`` wraps that call so that an error inside one run comes back as that run's failure (with a
one-line message) instead of ending the study. Outcomes are reported as runs finish, in completion order.

- ``LocalBackend(jobs)``: ``jobs`` worker processes that exit with this one. A worker that dies (``kill -9``,
  out of memory, a crash in native code) breaks Python's process pool; the runs that were in flight are then
  retried one at a time in a fresh process, so the crash costs exactly the run that caused it.
  ``jobs=1`` runs everything in this process (no start-up cost; what the overhead benchmark measures).
- ``RayBackend(address)``: runs are Ray tasks (1 CPU, never retried by Ray). A task carries one run, or several
  runs of one method when its runs turn out to be short (a chunk of about 0.2 s: Ray's fixed cost per task, a few
  ms, would otherwise dominate runs of a few ms); a run that crashed its worker is listed as failed, the others
  of its chunk are run again, and rerunning the study resumes. With no address a local Ray is started (or the one this
  process already started is used); ``"auto"`` joins the running cluster. Benchmarks reach the workers through
  the blackbox cache (a local Ray shares this machine's cache directory; on a cluster each node builds or
  downloads its own, from the S3 mirror if ``HPO_BLACKBOX_MIRROR`` is set), and each worker process loads a
  benchmark once and keeps it for the next runs (``run_task.open_blackbox``).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from experiments import workers
from experiments.errors import ExperimentError
from experiments.run_task import RunContext, RunTask, run_and_store

logger = logging.getLogger(__name__)

BACKENDS = ("local", "ray")
RAY_INSTALL_HINT = "pip install 'hpo-workbench[ray]'"
#: environment variables the workers of a local Ray get from this process (a Ray started earlier, e.g. by the
#: user's own ``ray.init``, does not see later changes): where benchmarks are, and the object store's credentials
FORWARDED_PREFIXES = ("HPO_", "AWS_")


@dataclass(frozen=True)
class Outcome:
    """What became of one run: ``metadata`` if stored (``skipped``: completed elsewhere meanwhile), else
    ``error`` (one line) and ``details`` (the traceback's last lines). ``seconds``: wall time in the worker."""

    index: int
    metadata: dict[str, Any] | None
    skipped: bool = False
    error: str | None = None
    details: str = ""
    seconds: float = 0.0


def attempt(index: int, context: RunContext, task: RunTask) -> Outcome:
    """Run and store one run; any error becomes the run's failure (never raised)."""
    started = time.perf_counter()
    try:
        metadata, skipped = run_and_store(context, task, block=True)  # type: ignore[misc]
    except Exception as error:  # one run's failure must not end the others
        details = "".join(traceback.format_exception(error)[-3:]).strip()
        message = " ".join(str(error).split()) or type(error).__name__
        return Outcome(index, None, error=f"{type(error).__name__}: {message}", details=details)
    return Outcome(index, metadata, skipped, seconds=time.perf_counter() - started)


Items = Sequence[tuple[RunContext, RunTask]]
#: a Ray task should last about this long, so that its fixed cost (a few ms) stays small against its runs
CHUNK_SECONDS = 0.2
MAX_CHUNK = 64


def attempt_chunk(context: RunContext, pairs: list[tuple[int, RunTask]]) -> list[Outcome]:
    """``attempt`` for several runs of one context, one after the other (one Ray task)."""
    return [attempt(index, context, task) for index, task in pairs]


def _next_chunk(queue: deque[int], items: Items, seconds: dict[tuple[int, str], list[float]]) -> list[int]:
    """The next runs from the front of ``queue`` that share its first run's context and method: as many as take
    about ``CHUNK_SECONDS`` by the mean of that method's runs so far (one while fewer than two are known)."""
    context, task = items[queue[0]]
    key = (id(context), task.method)
    known = seconds.get(key, [])
    size = 1 if len(known) < 2 else int(min(MAX_CHUNK, max(1, CHUNK_SECONDS / max(sum(known) / len(known), 1e-6))))
    chunk = [queue.popleft()]
    while queue and len(chunk) < size:
        other_context, other = items[queue[0]]
        if (id(other_context), other.method) != key:
            break
        chunk.append(queue.popleft())
    return chunk



class LocalBackend:
    """``jobs`` local worker processes (1: this process)."""

    name = "local"

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs

    def run(self, items: Items) -> Iterator[Outcome]:
        if self.jobs == 1 or len(items) <= 1:
            for index, (context, task) in enumerate(items):
                yield attempt(index, context, task)
            return
        queue = deque(range(len(items)))
        while queue:
            retry: list[int] = []
            yield from self._pool(items, queue, self.jobs, retry)
            for index in retry:  # in flight when a worker died: one at a time, so only the culprit fails
                for outcome in self._pool(items, deque([index]), 1, None):
                    # a run stored just before the pool broke is found complete: this study computed it all the same
                    yield dataclasses.replace(outcome, skipped=False)

    def _pool(self, items: Items, queue: deque[int], jobs: int, retry: list[int] | None) -> Iterator[Outcome]:
        """Run the runs of ``queue`` with twice ``jobs`` in flight until it is empty or a worker dies: then the
        runs in flight go to ``retry`` (None: they fail) and the rest stay in ``queue`` for a fresh pool."""
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        pool = ProcessPoolExecutor(max_workers=min(jobs, len(queue)), initializer=workers.init_worker,
                                   initargs=(os.getpid(),))
        in_flight: dict[Any, int] = {}
        try:
            while queue or in_flight:
                while queue and len(in_flight) < 2 * jobs:
                    index = queue.popleft()
                    in_flight[pool.submit(attempt, index, *items[index])] = index
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    index = in_flight.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        broken = [index, *in_flight.values()]
                        in_flight.clear()
                        if retry is None:
                            yield from (Outcome(i, None, error="the worker process running it died") for i in broken)
                        else:
                            retry.extend(broken)
                        break
                else:
                    continue
                break  # the pool is broken: a fresh one takes the rest of the queue
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop now; the runs already stored are kept
            pool.shutdown(wait=False, cancel_futures=True)
            workers.stop_workers()
            raise
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # runs already going finish and are stored
            raise
        pool.shutdown(wait=True, cancel_futures=True)


class RayBackend:
    """One Ray task per run on a local Ray (``address=None``) or a cluster (``"auto"``, ``"ray://host:port"``)."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise ExperimentError(f"--backend ray needs Ray: {RAY_INSTALL_HINT}") from None
        self.ray = ray
        self.started_here = False
        local = address in (None, "", "local")
        # a cluster's nodes have their own paths and credentials; only the benchmark mirror is passed on
        environment = {
            name: value
            for name, value in os.environ.items()
            if name.startswith(FORWARDED_PREFIXES) and (local or name == "HPO_BLACKBOX_MIRROR")
        }
        if not ray.is_initialized():
            try:
                ray.init(
                    address=None if local else address,
                    num_cpus=num_cpus if local else None,
                    include_dashboard=False,
                    log_to_driver=False,
                )
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise ExperimentError(
                    f"cannot connect to Ray at {address!r}: {' '.join(str(error).split())}; start a cluster "
                    "(`ray start --head`) or leave out --address for a local Ray"
                ) from None
            self.started_here = True
        options: dict[str, Any] = {"num_cpus": 1, "max_retries": 0}
        if environment:
            options["runtime_env"] = {"env_vars": environment}
        self.remote_chunk = ray.remote(**options)(attempt_chunk)

    def run(self, items: Items) -> Iterator[Outcome]:
        """Runs go out in chunks of one (context, method) each, about ``CHUNK_SECONDS`` long by the times of the
        runs of that method measured so far (one run per task until two have finished), with twice as many tasks
        in flight as the cluster has CPUs. The runs of a chunk whose worker died are sent again one per task, so
        the crash costs only the run that caused it."""
        ray = self.ray
        width = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        contexts: dict[int, Any] = {}  # one object-store copy of each context, shared by its runs
        queue = deque(range(len(items)))
        alone: deque[int] = deque()
        seconds: dict[tuple[int, str], list[float]] = {}
        in_flight: dict[Any, list[int]] = {}
        retried: set[int] = set()
        try:
            while queue or alone or in_flight:
                while len(in_flight) < width and (queue or alone):
                    chunk = [alone.popleft()] if alone else _next_chunk(queue, items, seconds)
                    context = items[chunk[0]][0]
                    if id(context) not in contexts:
                        contexts[id(context)] = ray.put(context)
                    pairs = [(i, items[i][1]) for i in chunk]
                    in_flight[self.remote_chunk.remote(contexts[id(context)], pairs)] = chunk
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                chunk = in_flight.pop(ready[0])
                try:
                    outcomes = ray.get(ready[0])
                except ray.exceptions.RayError as error:  # the worker died
                    if len(chunk) > 1:
                        alone.extend(chunk)  # those already stored are found complete
                        retried.update(chunk)
                        continue
                    message = " ".join(str(error).split())[:300]
                    yield Outcome(chunk[0], None, error=f"{type(error).__name__}: {message}")
                    continue
                for outcome in outcomes:
                    context, task = items[outcome.index]
                    if outcome.index in retried:  # stored by the crashed chunk: computed by this study all the same
                        outcome = dataclasses.replace(outcome, skipped=False)
                    seconds.setdefault((id(context), task.method), []).append(outcome.seconds)
                    yield outcome
        except BaseException:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            raise

    def close(self) -> None:
        if self.started_here:
            self.ray.shutdown()


def make_backend(name: str, *, jobs: int = 1, address: str | None = None) -> LocalBackend | RayBackend:
    if name == "local":
        return LocalBackend(jobs)
    if name == "ray":
        return RayBackend(address, num_cpus=jobs if jobs > 1 else None)
    raise ExperimentError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")


def close_backend(backend: Any) -> None:
    close: Callable[[], None] | None = getattr(backend, "close", None)
    if close is not None:
        close()

"""Processes of ``experiments.run``: the worker pool of ``--jobs``, workers that exit with their parent,
SIGTERM handled like Ctrl-C, and the progress bar (tqdm, imported only when shown)."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any


def execute_in_pool(
    run_task: Callable[..., tuple[dict[str, Any], bool] | None],
    context: Any,
    tasks: Sequence[Any],
    jobs: int,
    done: dict[int, tuple[dict[str, Any], bool]],
    bar: Any,
) -> None:
    """Run ``run_task(context, task, block=...)`` for every task in ``jobs`` worker processes that exit with
    this one (``init_worker``); fills ``done`` (task index -> outcome). A task that returns None (locked by
    another process) is submitted again with ``block=True`` once the others are done. On Ctrl-C or SIGTERM
    the workers are stopped at once (runs already stored are kept)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), initializer=init_worker, initargs=(os.getpid(),))
    try:
        pending = {pool.submit(run_task, context, task, block=False): i for i, task in enumerate(tasks)}
        while pending:
            busy = []
            for future in as_completed(pending):
                outcome = future.result()
                if outcome is None:
                    busy.append(pending[future])
                    continue
                done[pending[future]] = outcome
                bar.update()
            pending = {pool.submit(run_task, context, tasks[i], block=True): i for i in busy}
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop now; the runs already stored are kept
        pool.shutdown(wait=False, cancel_futures=True)
        stop_workers()
        raise
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # runs already going finish and are stored
        raise
    pool.shutdown()


def stop_workers() -> None:
    import multiprocessing

    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(timeout=5)


def init_worker(parent: int) -> None:
    """In a worker process: exit when the parent does (SIGTERM, ``kill -9``, crash); Ctrl-C is the parent's.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``; everywhere: a thread that polls ``os.getppid()``.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="watch-parent", daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def progress_bar(total: int, progress: bool | None) -> Any:
    """A tqdm bar (imported only when shown), else an object with the same no-op methods."""
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc="runs")


class _NoBar:
    def update(self) -> None:
        pass

    def close(self) -> None:
        pass


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise Terminated()


def handle_sigterm() -> Any:
    """Make SIGTERM raise ``Terminated`` (main thread only); returns the previous handler."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


def restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


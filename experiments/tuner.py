"""The real-clock Tuner: a user's training function under any registered method, on local worker processes.

    from experiments.tuner import Tuner
    from simulator import StopCriteria

    tuner = Tuner(train, space, method="ASHA", metric="valid_loss", mode="min", max_t=30, n_workers=2, seed=0,
                  stop=StopCriteria(max_wallclock_time=60), results_dir="results", experiment_tag="real")
    summary = tuner.run()   # summary.path: <results_dir>/<tag>/<benchmark name>/<method>/seed-<seed>/

The training function has the form ``tabulate`` takes: ``train(config, seed)`` returns an iterator (a generator)
yielding one dict of metrics per epoch; it must be importable by name (a module-level function of a module,
or a ``functools.partial`` of one), because it is pickled to the worker processes.

Checkpoints. Each trial has a directory ``<checkpoint_root>/trial-<id>/``. If ``train`` takes a keyword
``checkpoint_dir``, it is called ``train(config, seed, checkpoint_dir=path)``: it should save its state there
*before* yielding an epoch (a segment may end at any yield) and, when the directory holds a state, resume from
it. A paused trial that resumes is called again with the same directory. The convention for where it resumed:
a yielded dict may hold the key ``"epoch"`` (1, 2, ...: the epoch of those metrics); without it, the first yield
of a call is taken as the epoch after the trial's last one (a function with ``checkpoint_dir``) or as epoch 1 (a
function without). Epochs the trial has already recorded are skipped, never recorded twice. So a function without
``checkpoint_dir`` restarts from scratch on resume and its repeated epochs are skipped. A new trial that starts
from another trial's checkpoint (``checkpoint_from``: PBT) gets a copy of the source's directory as it was at the
source's last report (the worker snapshots it at reports for such methods, ``experiments.checkpoints``).
Directories are kept after the run (``keep_checkpoints=False`` removes them); the default root is
``<run directory>/checkpoints`` (cleared at the start), or a temporary directory if nothing is stored.

Workers. ``n_workers`` processes (``spawn`` by default, or ``forkserver``) each run one trial segment at a
time and stay alive for the run; they use ``blas_threads`` BLAS/OpenMP threads (default 1) and exit with the
parent. A worker asks for the method's decision after each epoch the method wants to hear about (``report_at``)
and trains on between those, so pausing or stopping a trial takes effect at that epoch's end. An exception in
``train``, a generator that ends before ``max_t``, or a dead worker process fails that trial (``on_error``; a row
of NaN metrics is recorded at its next epoch) and the run continues (a dead process is replaced). Each worker
imports the main module, as multiprocessing does: a script needs the ``if __name__ == "__main__":`` guard, and
its top-level imports are paid again at every worker's start. When the run ends, running trials get
``stop_grace`` seconds to reach an epoch's end, then their processes are terminated.

Clock and results. ``time`` is real seconds since ``run()`` started (worker start-up included) at the end of each
epoch; each epoch's measured seconds are added as the metric ``runtime`` and their running sum per trial as
``elapsed_time`` (unless ``train`` yields those names). Stop criteria (``simulator.StopCriteria``) are on that
clock; at the end, running trials are stopped (``on_stop``) and results after the end are dropped. The run is
stored as simulated runs are (``experiments.store.write_run``), with ``"clock": "real"`` and the costs the
simulation does not see (worker start-up, segment set-up, checkpoint copies, workers waiting for decisions) in
``metadata.json``; ``plotting`` reads it unchanged.

Determinism: the method's seed and the training-seed draws derive from ``seed`` (``experiments.seeds``), but
which trial reports first depends on real time, so two runs with the same seed differ in general.
"""

from __future__ import annotations

import functools
import heapq
import inspect
import logging
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments import workers
from experiments.ask_tell import AskTell
from experiments.checkpoints import TrialCheckpoints
from experiments.errors import ExperimentError, check_int
from experiments.real_workers import Event, Segment, WorkerPool, WorkerSetup
from experiments.store_format import DEFAULT_RESULTS_DIR
from experiments.trial_driver import Assignment
from experiments.trial_metrics import ELAPSED, RUNTIME, reserved_names
from experiments.tuning_result import result_summary
from methods import PBT, Scheduler
from searchspace import SearchSpace
from simulator import SimulationResult, StopCriteria

__all__ = ["Tuner", "TuningSummary"]

logger = logging.getLogger(__name__)

START_METHODS = ("spawn", "forkserver")


@dataclass
class TuningSummary:
    """What ``Tuner.run`` did: the stored run's directory (None if not stored), its metadata and the result."""

    path: Path | None
    metadata: dict[str, Any]
    result: SimulationResult

    def best(self) -> tuple[int, dict[str, Any], float] | None:
        """``(trial id, configuration, metric value)`` of the best result, or None if there is none."""
        result = self.result
        values = result.metric(result.blackbox.metric)
        best = result.best_so_far()
        if not len(best) or best[-1] != best[-1]:
            return None
        row = int(next(i for i, value in enumerate(values) if value == best[-1]))
        trial = int(result.trial_id[row])
        return trial, result.trial_configs.iloc[trial].to_dict(), float(best[-1])


class Tuner:
    """Tune ``train`` on ``space`` with ``method`` in real time (see the module docstring).

    Args:
        train: ``train(config, seed[, checkpoint_dir=...])`` yielding one dict of metrics per epoch.
        space: the search space.
        method: a registered method name (``methods.REGISTRY``, or ``"NAME+searcher"``) or a built scheduler.
        metric, mode, max_t: the yielded metric to optimise, "min" or "max", the last epoch of a trial (several
            objectives: a list of names, and one mode for all or one each; see ``AskTell``).
        n_workers: worker processes.
        seed, master_random_seed: the experiment seed (the method's seed derives from both, as in
            ``experiments.run``).
        stop: stop criteria on the real clock (at least one).
        method_options: options of the method (e.g. ``{"grace_period": 2}``).
        train_seeds: training seeds each new trial draws one of (default: the run seed for every trial).
        results_dir, experiment_tag, benchmark_name: where the run is stored (``results_dir=None``: not stored);
            the benchmark name defaults to the function's name.
        checkpoint_root, keep_checkpoints: the trials' checkpoint directories (see the module docstring).
        start_method: "spawn" or "forkserver".
        blas_threads: BLAS/OpenMP threads per worker (None: the libraries' defaults).
        progress: a progress bar (None: only on a terminal).
        stop_grace: seconds the running trials get to reach an epoch's end when the run ends (then killed).
    """

    def __init__(
        self,
        train: Any,
        space: SearchSpace,
        *,
        method: str | Scheduler = "ASHA",
        metric: str | Sequence[str],
        mode: str | Sequence[str] = "min",
        max_t: int,
        n_workers: int = 2,
        seed: int = 0,
        master_random_seed: int = 0,
        stop: StopCriteria | None = None,
        method_options: dict[str, Any] | None = None,
        train_seeds: list[int] | None = None,
        results_dir: Path | str | None = DEFAULT_RESULTS_DIR,
        experiment_tag: str = "default",
        benchmark_name: str | None = None,
        checkpoint_root: Path | str | None = None,
        keep_checkpoints: bool = True,
        start_method: str = "spawn",
        blas_threads: int | None = 1,
        progress: bool | None = None,
        stop_grace: float = 1.0,
    ) -> None:
        self.payload = _pickled(train)
        self.train_name = _name_of(train)
        self.takes_checkpoint_dir = _takes_checkpoint_dir(train)
        check_int("n_workers", n_workers, 1)
        if not isinstance(stop, StopCriteria) or all(
            value is None
            for value in (stop.max_wallclock_time, stop.max_results, stop.max_trials, stop.target_metric_value)
        ):
            raise ExperimentError(
                "give stop=StopCriteria(max_wallclock_time=SECONDS) (or max_results, max_trials, target_metric_value): "
                f"a real run needs an end, got stop={stop!r}"
            )
        if start_method not in START_METHODS:
            raise ExperimentError(f"start_method must be one of {', '.join(START_METHODS)}, got {start_method!r}")
        if blas_threads is not None:
            check_int("blas_threads", blas_threads, 1)
        if not isinstance(stop_grace, int | float) or not stop_grace >= 0:
            raise ExperimentError(f"stop_grace must be a number of seconds >= 0, got {stop_grace!r}")
        self.ask_tell = AskTell(
            method,
            space,
            metric=metric,
            mode=mode,
            max_t=max_t,
            seed=seed,
            master_random_seed=master_random_seed,
            n_workers=n_workers,
            stop=stop,
            method_options=method_options,
            train_seeds=train_seeds,
            name=benchmark_name if benchmark_name is not None else self.train_name.rpartition(".")[2],
            settings={"train": self.train_name, "blas_threads": blas_threads},
        )
        scheduler = self.ask_tell.scheduler
        self.snapshots = self.takes_checkpoint_dir and (
            isinstance(scheduler, PBT) or bool(getattr(scheduler, "copies_checkpoints", False))
        )
        self.n_workers, self.start_method, self.blas_threads = n_workers, start_method, blas_threads
        self.results_dir = None if results_dir is None else Path(results_dir)
        self.experiment_tag = experiment_tag
        self.checkpoint_root = None if checkpoint_root is None else Path(checkpoint_root)
        self.keep_checkpoints = bool(keep_checkpoints)
        self.progress, self.stop_grace = progress, float(stop_grace)
        self._ran = False

    def run(self) -> TuningSummary:
        """Tune until a stop criterion (or the method) ends the run; store it; return the summary."""
        if self._ran:
            raise ExperimentError("a Tuner runs once; make a new Tuner for another run")
        self._ran = True
        lock, path = None, None
        if self.results_dir is not None:
            lock = self.ask_tell.open_run(self.results_dir, self.experiment_tag)
            path = self.ask_tell.run_path(self.results_dir, self.experiment_tag)
        try:
            with tempfile.TemporaryDirectory(prefix="tuner-checkpoints-") as scratch:
                checkpoints = self._checkpoints(path, Path(scratch))
                real_run = _RealRun(self, checkpoints)
                previous = workers.handle_sigterm()
                try:
                    result = real_run.run()
                finally:
                    workers.restore_sigterm(previous)
                    checkpoints.close()
            metadata = {**result_summary(result, self.ask_tell.metric), **real_run.metadata()}
            if path is not None:
                metadata = self.ask_tell.write(path, self.experiment_tag, metadata)
        finally:
            if lock is not None:
                lock.release()
        logger.info(
            "%s with %s: %d trials, %d results, best %s %s after %.1f s (%s)%s",
            self.ask_tell.name,
            self.ask_tell.method_name,
            result.num_trials,
            result.num_results,
            self.ask_tell.metric,
            metadata.get("final_best"),
            result.simulated_time,
            result.stop_reason,
            f"; stored in {path}" if path is not None else "",
        )
        return TuningSummary(path, metadata, result)

    def _checkpoints(self, path: Path | None, scratch: Path) -> TrialCheckpoints:
        if self.checkpoint_root is not None:
            return TrialCheckpoints(
                self.checkpoint_root, snapshots=self.snapshots, keep=self.keep_checkpoints, owned=False
            )
        if path is not None:
            root = path / "checkpoints"
            return TrialCheckpoints(root, snapshots=self.snapshots, keep=self.keep_checkpoints, owned=True)
        return TrialCheckpoints(scratch / "checkpoints", snapshots=self.snapshots, keep=False, owned=True)


class _RealRun:
    """One run of the tuner: the worker pool, the loop on the real clock and the costs it measures."""

    def __init__(self, tuner: Tuner, checkpoints: TrialCheckpoints) -> None:
        self.tuner = tuner
        self.ask_tell = tuner.ask_tell
        self.driver = tuner.ask_tell.driver
        self.checkpoints = checkpoints
        setup = WorkerSetup(
            train=tuner.payload,
            metric=self.ask_tell.metric,
            max_t=self.ask_tell.max_t,
            reserved=reserved_names(self.ask_tell.space.names),
            blas_threads=tuner.blas_threads,
            parent=os.getpid() if tuner.start_method == "spawn" else 0,
        )
        self.pool = WorkerPool(tuner.n_workers, setup, tuner.start_method)
        self.idle = list(range(tuner.n_workers))
        self.running: dict[int, int] = {}  # worker slot -> trial
        self.ready: set[int] = set()
        self.elapsed: dict[int, float] = {}  # trial -> measured seconds of its recorded epochs
        self.elapsed_reported: dict[int, float] = {}  # trial -> the same at its last report
        self.costs = {"segment_setup_seconds": 0.0, "checkpoint_seconds": 0.0, "decision_wait_seconds": 0.0}
        self.failures: list[str] = []
        self.origin = 0.0
        self.bar: Any = None
        self.shown = 0.0  # when the progress bar was last refreshed

    def run(self) -> SimulationResult:
        self.origin = self.ask_tell.start_clock()
        self.bar = _progress_bar(self.tuner.progress, self.ask_tell.stop)
        end = None
        try:
            self.pool.start()
            self._fill()
            while not self._over():
                for event in self.pool.wait(self._timeout()):
                    self._handle(event)
                    if self.driver.ended:
                        break
                    self._fill()  # after every event, as the simulator: a PBT copy starts before its source moves on
                self._show_progress()
            end = self.ask_tell.now()
        finally:
            self.pool.close(self.tuner.stop_grace)
            if self.bar is not None:
                self.bar.close()
        return self.ask_tell.finish(None, time=end)

    def _over(self) -> bool:
        return self.driver.check_time(self.ask_tell.now()) or self.driver.ended or not self.running

    def _timeout(self) -> float | None:
        budget = self.ask_tell.stop.max_wallclock_time
        timeout = None if budget is None else max(0.0, budget - self.ask_tell.now())
        if self.bar is not None:
            timeout = 0.5 if timeout is None else min(timeout, 0.5)
        return timeout

    # Starting segments ---------------------------------------------------------------------------------
    def _fill(self) -> None:
        """Ask the method for work while workers are idle (lowest slot first), until the budget is over."""
        self.driver.check_time(self.ask_tell.now())
        while self.idle and not self.driver.ended:
            assignment = self.driver.ask()
            if assignment is None:
                return
            slot = heapq.heappop(self.idle)
            segment = self._segment(assignment)
            self.running[slot] = assignment.trial_id
            self.pool.send(slot, ("run", segment))  # a dead worker's trial fails when its death is seen

    def _segment(self, assignment: Assignment) -> Segment:
        trial, source = assignment.trial_id, assignment.checkpoint_from
        if not assignment.resume:
            self.elapsed[trial] = self.elapsed_reported.get(source, 0.0) if source is not None else 0.0
        checkpoint_dir = snapshot_dir = None
        if self.tuner.takes_checkpoint_dir:
            began = time.perf_counter()
            if source is not None:
                self.checkpoints.copy(source, assignment.start, trial)
            elif not assignment.resume:
                self.checkpoints.create(trial)
            self.costs["checkpoint_seconds"] += time.perf_counter() - began
            checkpoint_dir = str(self.checkpoints.trial_dir(trial))
            snapshots = self.checkpoints.snapshot_root(trial)
            snapshot_dir = None if snapshots is None else str(snapshots)
        return Segment(
            trial_id=trial,
            config=assignment.config,
            seed=assignment.seed,
            start=assignment.start,
            report_at=assignment.report_at,
            checkpoint_dir=checkpoint_dir,
            snapshot_dir=snapshot_dir,
        )

    # Events ------------------------------------------------------------------------------------------------
    def _handle(self, event: Event) -> None:
        if event.kind == "result":
            self._on_result(event)
        elif event.kind == "ready":
            self.ready.add(event.slot)
        elif event.kind == "failed":
            if self.running.get(event.slot) == event.trial:
                self._fail(event.slot, event.message)
        elif event.kind == "died":
            self._on_died(event)
        elif event.kind == "bad_metrics":
            raise ExperimentError(event.message)
        else:  # load_error
            raise ExperimentError(
                f"the worker processes cannot load train ({event.message}); define it at module level of an "
                "importable module"
            )

    def _on_result(self, event: Event) -> None:
        slot, trial, epoch = event.slot, event.trial, event.epoch
        if self.running.get(slot) != trial:
            return
        elapsed = self.elapsed.get(trial, 0.0) + event.runtime
        self.elapsed[trial] = elapsed
        metrics = dict(event.metrics or {})
        metrics.setdefault(RUNTIME, event.runtime)
        metrics.setdefault(ELAPSED, elapsed)
        self.costs["segment_setup_seconds"] += event.setup_seconds
        self.costs["checkpoint_seconds"] += event.checkpoint_seconds
        verdict = self.driver.tell(trial, epoch, metrics, time=event.stamp - self.origin, worker=slot)
        if self.driver.ended or verdict.outcome == "":
            return
        self.elapsed_reported[trial] = elapsed
        if verdict.outcome == "continue":
            self._answer(slot, ("continue", verdict.report_at), event.stamp)
            self.checkpoints.reported(trial, epoch)
            return
        del self.running[slot]
        heapq.heappush(self.idle, slot)
        if verdict.outcome in ("pause", "stop"):  # the worker waits for the answer
            self._answer(slot, (verdict.outcome,), event.stamp)
            self.checkpoints.reported(trial, epoch)
        else:  # complete or failed: the worker ended the segment itself
            self.checkpoints.ended(trial, self.driver.status[trial].value)

    def _answer(self, slot: int, message: tuple, stamp: float) -> None:
        self.pool.send(slot, message)
        self.costs["decision_wait_seconds"] += time.monotonic() - stamp

    def _fail(self, slot: int, message: str) -> None:
        trial = self.running.pop(slot)
        heapq.heappush(self.idle, slot)
        summary = message.splitlines()[0] if message else "no message"
        logger.warning("trial %d failed: %s", trial, summary)
        logger.debug("trial %d failed:\n%s", trial, message)
        self.failures.append(f"trial {trial}: {summary}")
        self.driver.tell_error(trial, time=self.ask_tell.now(), worker=slot)
        self.checkpoints.ended(trial, "failed")

    def _on_died(self, event: Event) -> None:
        if event.slot not in self.ready:
            raise ExperimentError(
                f"a worker process died while starting ({event.message}); check that train's module imports cleanly "
                "in a fresh Python process and that a script runs the tuner under `if __name__ == '__main__':`"
            )
        self.ready.discard(event.slot)
        self.pool.replace(event.slot)
        if event.slot in self.running:  # (an idle worker's slot is in ``idle`` already)
            self._fail(event.slot, f"its worker process died ({event.message})")

    # Reporting ---------------------------------------------------------------------------------------------
    def _show_progress(self) -> None:
        bar = self.bar
        if bar is None or time.monotonic() - self.shown < 0.2:
            return
        self.shown = time.monotonic()
        stop = self.ask_tell.stop
        if stop.max_wallclock_time is not None:
            bar.n = round(min(self.ask_tell.now(), stop.max_wallclock_time), 1)
        elif stop.max_results is not None:
            bar.n = self.driver.num_results
        elif stop.max_trials is not None:
            bar.n = self.driver.num_trials
        best = self.driver.best()
        bar.set_postfix(trials=self.driver.num_trials, best="-" if best is None else f"{best:.4g}", refresh=False)
        bar.refresh()

    def metadata(self) -> dict[str, Any]:
        """The tuner's facts and measured costs, stored with the run."""
        return {
            "train": self.tuner.train_name,
            "n_workers": self.tuner.n_workers,
            "start_method": self.tuner.start_method,
            "blas_threads": self.tuner.blas_threads,
            "checkpoint_root": str(self.checkpoints.root),
            "keep_checkpoints": self.checkpoints.keep,
            "takes_checkpoint_dir": self.tuner.takes_checkpoint_dir,
            "checkpoint_snapshots": self.checkpoints.snapshots,
            "checkpoints_copied_live": self.checkpoints.copied_live,
            "real_time_seconds": self.ask_tell.now(),
            "worker_startup_seconds": self.pool.startup_seconds,
            **self.costs,
            "num_failed_trials": len(self.failures),
            "failures": self.failures[:20],
        }


def _progress_bar(progress: bool | None, stop: StopCriteria) -> Any:
    if progress is False or (progress is None and not sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    if stop.max_wallclock_time is not None:
        return tqdm(
            total=stop.max_wallclock_time,
            unit="s",
            desc="tuning",
            bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s{postfix}",
        )
    total, unit = (stop.max_results, "result") if stop.max_results is not None else (stop.max_trials, "trial")
    return tqdm(total=total, unit=unit, desc="tuning")


def _pickled(train: Any) -> bytes:
    """``train`` pickled for the workers, or a one-line error saying how to make it importable."""
    if not callable(train):
        raise ExperimentError(
            f"train must be a function train(config, seed) that yields one dict of metrics per epoch, got "
            f"{type(train).__name__}"
        )
    target = train.func if isinstance(train, functools.partial) else train
    if getattr(target, "__module__", None) == "__main__" and not getattr(sys.modules.get("__main__"), "__file__", None):
        raise ExperimentError(
            "train is defined in an interactive session; the worker processes load it by name: define it in a .py "
            "module and import it from there"
        )
    try:
        return pickle.dumps(train)
    except Exception as error:  # noqa: BLE001 - any pickling failure means the same fix
        raise ExperimentError(
            f"train cannot be sent to the worker processes ({type(error).__name__}: {' '.join(str(error).split())}); "
            "define it at module level of an importable module (not a lambda or a nested function)"
        ) from None


def _name_of(train: Any) -> str:
    target = train.func if isinstance(train, functools.partial) else train
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(target).__name__)}"


def _takes_checkpoint_dir(train: Any) -> bool:
    try:
        parameters = inspect.signature(train).parameters
    except (TypeError, ValueError):
        return False
    parameter = parameters.get("checkpoint_dir")
    return parameter is not None and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)

"""Ask/tell: any registered method driven by an external loop, on the real clock.

    ask_tell = AskTell("ASHA", space, metric="loss", mode="min", max_t=27, seed=0)
    while (assignment := ask_tell.ask()) is not None:
        for epoch in range(assignment.start + 1, assignment.report_at + 1):
            verdict = ask_tell.tell(assignment.trial_id, epoch, {"loss": train_one_epoch(...)})
        ...  # verdict.outcome: "continue" (go on to verdict.report_at), "pause", "stop", "complete", "failed"
    path = ask_tell.store("results", experiment_tag="mine")

``ask()`` hands out what to run: a new trial (its configuration, the training seed, and for PBT the trial
whose checkpoint it starts from), or a paused trial to resume, and the epoch up to which to run it before
telling (``report_at``). ``tell`` records one epoch's metrics; the method decides at ``report_at`` (epochs in
between are recorded, not reported), and an epoch told twice is recorded once. ``tell_error`` fails a trial.
``finish()`` returns the result and ``store()`` writes it in the format of simulated runs (``time``: real seconds
since the ``AskTell`` was made, unless you pass ``time=``). This is the core of ``experiments.tuner.Tuner``,
which adds worker processes and checkpoints; both drive the method through one ``TrialDriver``.

The method's seed is derived from one explicit ``seed`` (``experiments.seeds.derive_seeds``), so its decisions
for the same told values are the same; with a real training loop the told values and their timing, hence the
run, are not reproducible in general.
"""

from __future__ import annotations

import dataclasses
import datetime
import time as real_time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from experiments import store
from experiments.errors import ExperimentError, check_int
from experiments.seeds import derive_seeds
from experiments.trial_driver import Assignment, TrialDriver, Verdict
from experiments.trial_metrics import EPOCH_KEY, clean_metrics, reserved_names
from experiments.tuning_result import environment, load_average, result_summary
from methods import Objectives, Scheduler, method_listing, resolve_method
from searchspace import SearchSpace
from simulator import SimulationResult, StopCriteria

__all__ = ["AskTell", "Assignment", "Verdict", "make_scheduler"]

FINISHED_BY_CALLER = "finished by the caller"


class AskTell:
    """Drive ``method`` from an external loop (see the module docstring).

    Args:
        method: a registered method name (``"ASHA"``, ``"ASHA-PROM"``, ``"PBT"``, ``"NAME+searcher"``, ...) or a
            ``methods.Scheduler`` already built for this problem.
        space: the search space.
        metric, mode, max_t: the metric the method optimises, "min" or "max", and the last epoch of a trial;
            ``metric`` may name several objectives (``mode`` one for all or one each): every report must hold
            them all, a multi-objective method (MOASHA, NSGA2, ...) uses them all, any other the first.
        seed: the experiment seed; the method's seed and the training-seed draws derive from it and
            ``master_random_seed`` as in ``experiments.run``.
        n_workers: the workers of the external loop (some methods use it, e.g. BO's initial random points).
        stop: stop criteria (None: the caller decides when to ``finish``); real seconds for
            ``max_wallclock_time``.
        method_options: options of the method (e.g. ``{"grace_period": 2}``).
        train_seeds: training seeds each new trial draws one of (default: the run seed for every trial).
        name: the problem's name, the benchmark name of the stored run.
        settings: more settings to record with the run (the Tuner's).
    """

    def __init__(
        self,
        method: str | Scheduler,
        space: SearchSpace,
        *,
        metric: str | Sequence[str],
        mode: str | Sequence[str] = "min",
        max_t: int,
        seed: int = 0,
        master_random_seed: int = 0,
        n_workers: int = 1,
        stop: StopCriteria | None = None,
        method_options: Mapping[str, Any] | None = None,
        train_seeds: Sequence[int] | None = None,
        name: str = "ask-tell",
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(space, SearchSpace):
            raise ExperimentError(f"space must be a searchspace.SearchSpace, got {type(space).__name__}")
        objectives = check_objectives(metric, mode, space)
        metric, mode = objectives.metrics[0], objectives.modes[0]
        check_int("max_t", max_t, 1)
        check_int("seed", seed, 0)
        check_int("master_random_seed", master_random_seed, 0)
        check_int("n_workers", n_workers, 1)
        store.check_name("name", name)
        self.seeds = derive_seeds(master_random_seed, seed)
        self.seed, self.master_random_seed, self.name = seed, master_random_seed, name
        self.options = dict(method_options or {})
        self.objectives = objectives
        self.scheduler, self.method_name, self.composition = make_scheduler(
            method, space, objectives, max_t, self.seeds.method_seed, n_workers, self.options
        )
        self.stop = stop if stop is not None else StopCriteria()
        if not isinstance(self.stop, StopCriteria):
            raise ExperimentError(f"stop must be a simulator.StopCriteria, got {type(stop).__name__}")
        seeds = (self.seeds.run_seed,) if train_seeds is None else check_train_seeds(train_seeds)
        self.driver = TrialDriver(
            self.scheduler, space=space, stop=self.stop, seed=self.seeds.simulator_seed, train_seeds=seeds, name=name
        )
        self.metric, self.mode, self.max_t, self.space = metric, mode, max_t, space
        self._reserved = reserved_names(space.names)
        self._settings = {
            "clock": "real",
            "benchmark": name,
            "space": space.to_json(),
            "metric": metric,
            "mode": mode,
            # recorded only for several objectives, so single-objective runs stored before keep matching
            **(
                {"objectives": list(objectives.metrics), "modes": list(objectives.modes)}
                if objectives.count > 1
                else {}
            ),
            "max_t": max_t,
            "method": self.method_name,
            "method_options": self.options,
            "n_workers": n_workers,
            "stop": dataclasses.asdict(self.stop),
            "master_random_seed": master_random_seed,
            "train_seeds": None if train_seeds is None else list(seeds),
            **(settings or {}),
        }
        self._started_at = _now()
        self._t0 = real_time.monotonic()
        self._result: SimulationResult | None = None

    # The loop ----------------------------------------------------------------------------------------
    def now(self) -> float:
        """Real seconds since this ``AskTell`` was made (or its clock restarted)."""
        return real_time.monotonic() - self._t0

    def start_clock(self) -> float:
        """Restart the clock at 0 now; returns its origin on ``time.monotonic()``'s scale."""
        self._t0 = real_time.monotonic()
        return self._t0

    @property
    def ended(self) -> bool:
        """Whether a stop criterion (or ``finish``) ended the experiment."""
        return self.driver.ended

    @property
    def stop_reason(self) -> str | None:
        return self.driver.stop_reason

    def ask(self) -> Assignment | None:
        """What to run next, or None (nothing to run now: wait for running trials, or the experiment ended)."""
        self.driver.check_time(self.now())
        return self.driver.ask()

    def tell(
        self, trial_id: int, epoch: int, metrics: Mapping[str, Any], *, time: float | None = None, worker: int = 0
    ) -> Verdict:
        """Record ``metrics`` of ``trial_id`` at ``epoch`` (at ``time`` real seconds; default: now). The verdict:
        "" (keep going to ``report_at``), "continue" (keep going to the new ``report_at``), "pause", "stop",
        "complete" or "failed" (a NaN metric)."""
        named, values = clean_metrics(metrics, self.metric, self._reserved)
        if named is not None and named != epoch:
            raise ExperimentError(f"tell(epoch={epoch}) got metrics with {EPOCH_KEY}={named}; they must agree")
        return self.driver.tell(trial_id, epoch, values, time=self.now() if time is None else time, worker=worker)

    def tell_error(self, trial_id: int, *, time: float | None = None, worker: int = 0) -> Verdict:
        """``trial_id`` failed before its next epoch's metrics (recorded as a row of NaN metrics)."""
        return self.driver.tell_error(trial_id, time=self.now() if time is None else time, worker=worker)

    def finish(self, reason: str | None = FINISHED_BY_CALLER, *, time: float | None = None) -> SimulationResult:
        """End the experiment (running and paused trials are stopped: ``on_stop``) and return its result; a second
        call returns the same result. ``reason`` is recorded as the stop reason unless a stop criterion ended the
        experiment (None: "max_trials" if that many trials started, else "method has no more work")."""
        if self._result is None:
            self._result = self.driver.finish(self.now() if time is None else time, reason)
        return self._result

    # The store ---------------------------------------------------------------------------------------
    def run_path(self, results_dir: Path | str, experiment_tag: str) -> Path:
        """``<results_dir>/<tag>/<name>/<method>/seed-<seed>``."""
        return store.run_dir(results_dir, experiment_tag, self.name, self.method_name, self.seed)

    def settings(self) -> dict[str, Any]:
        """Everything that describes the run (shared by the seeds of a method, plus the seeds)."""
        return store.to_json({**self._settings, "seed": self.seed, **dataclasses.asdict(self.seeds)})

    def open_run(self, results_dir: Path | str, experiment_tag: str) -> store.RunLock:
        """Lock the run directory and record the settings of the method under the tag: an ``ExperimentError`` if
        the run is complete already, locked by another process, or the tag holds other settings."""
        path = self.run_path(results_dir, experiment_tag)
        if store.read_complete_metadata(path) is not None:
            raise ExperimentError(
                f"{path} holds a complete run already; use another experiment_tag or seed, or delete that directory"
            )
        lock = store.lock_run(path, block=False)
        if lock is None:
            raise ExperimentError(f"{path} is being computed by another process; use another experiment_tag or seed")
        try:
            store.claim_settings(path.parent, store.to_json(self._settings))
        except BaseException:
            lock.release()
            raise
        return lock

    def write(self, path: Path | str, experiment_tag: str, metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Store the finished run in ``path`` (``open_run`` first); returns the stored metadata."""
        result = self.finish()
        scheduler = self.scheduler
        searcher = scheduler.searcher
        complete = {
            "tag": experiment_tag,
            "benchmark": self.name,
            "method": self.method_name,
            "seed": self.seed,
            "clock": "real",
            "settings": self.settings(),
            "master_random_seed": self.master_random_seed,
            "run_seed": self.seeds.run_seed,
            "simulator_seed": self.seeds.simulator_seed,  # here: the seed of the training-seed draws
            "method_seed": self.seeds.method_seed,
            "method_composition": self.composition,
            "schedule_description": scheduler.schedule_description(),
            "method_state": scheduler.state_summary(),
            "searcher_state": searcher.state_summary() if searcher is not None else {},
            "metric": self.metric,
            "mode": self.mode,
            "objectives": list(self.objectives.metrics),
            "modes": list(self.objectives.modes),
            **result_summary(result, self.metric),
            "decision_wall_seconds": self.driver.decision_wall_seconds,
            **environment(),
            "load_average_at_end": load_average(),
            "started_at": self._started_at,
            "finished_at": _now(),
            **(metadata or {}),
        }
        stored = store.write_run(path, result, self.metric, store.to_json(complete))
        store.sync_directories([path, Path(path).parent])
        return stored

    def store(self, results_dir: Path | str, *, experiment_tag: str = "default") -> Path:
        """``finish`` and store the run under ``results_dir``; returns its directory."""
        lock = self.open_run(results_dir, experiment_tag)
        try:
            path = self.run_path(results_dir, experiment_tag)
            self.write(path, experiment_tag, {"real_time_seconds": self.now()})
        finally:
            lock.release()
        return path


def check_objectives(metric: str | Sequence[str], mode: str | Sequence[str], space: SearchSpace) -> Objectives:
    """The objectives of ``metric`` and ``mode`` (one name or several; one mode or one each), or a one-line error."""
    names = [metric] if isinstance(metric, str) else list(metric) if isinstance(metric, list | tuple) else [metric]
    for name in names:
        if not isinstance(name, str) or not name:
            raise ExperimentError(f"metric must be the name of a yielded metric (or a list of them), got {metric!r}")
        if name in reserved_names(space.names):
            raise ExperimentError(f"metric {name!r} is a column of the results or a hyperparameter; rename it")
    for value in [mode] if isinstance(mode, str) else list(mode) if isinstance(mode, list | tuple) else [mode]:
        if value not in ("min", "max"):
            raise ExperimentError(f"mode must be 'min' or 'max' (or a list of them), got {mode!r}")
    try:
        return Objectives.of(names, mode)
    except ValueError as error:
        raise ExperimentError(str(error)) from None


def make_scheduler(
    method: str | Scheduler,
    space: SearchSpace,
    objectives: Objectives,
    max_t: int,
    seed: int,
    n_workers: int,
    options: Mapping[str, Any],
) -> tuple[Scheduler, str, dict[str, Any] | None]:
    """``(scheduler, its name, its composition)`` for a method name or a built scheduler; one-line errors."""
    if isinstance(method, Scheduler):
        if options:
            raise ExperimentError("method_options apply to a method name; build the scheduler with them instead")
        own = (getattr(method, "objectives", None), getattr(method, "max_t", None))
        if own != (objectives, max_t):
            raise ExperimentError(
                f"the scheduler was built for objectives, max_t = {own}, not {(objectives, max_t)}; build it for "
                "this problem"
            )
        return method, type(method).__name__, None
    if not isinstance(method, str):
        raise ExperimentError(f"method must be a method name or a methods.Scheduler, got {type(method).__name__}")
    try:
        spec = resolve_method(method)
    except ValueError:
        raise ExperimentError(
            f"unknown method {method!r}; available: {method_listing()}, or SCHEDULER+SEARCHER"
        ) from None
    try:
        problem = (
            {"metric": list(objectives.metrics), "mode": list(objectives.modes)}
            if objectives.count > 1
            else {"metric": objectives.metrics[0], "mode": objectives.modes[0]}
        )
        scheduler = spec(space, max_t=max_t, seed=seed, n_workers=n_workers, **problem, **options)
    except (TypeError, ValueError) as error:
        raise ExperimentError(f"method {method!r} cannot be built: {' '.join(str(error).split())}") from None
    return scheduler, method, store.to_json(dataclasses.asdict(spec))


def check_train_seeds(seeds: Any) -> tuple[int, ...]:
    """Distinct integer training seeds, at least one."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence) or not seeds:
        raise ExperimentError(f"train_seeds must be a non-empty list of integers, got {seeds!r}")
    values = tuple(check_int("each of train_seeds", seed, 0) for seed in seeds)
    if len(set(values)) != len(values):
        raise ExperimentError(f"train_seeds must be distinct, got {list(values)}")
    return values


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

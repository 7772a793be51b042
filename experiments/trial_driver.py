"""The scheduler driver shared by the real-clock ``Tuner`` and the ``AskTell`` interface: one copy of the protocol.

It speaks to a method (``methods.Scheduler``) exactly as ``simulator.simulation`` does, with the clock and the
training left to its caller:

- ``ask()`` asks ``suggest(new_trial_id)`` (``suggest(None)`` once ``max_trials`` trials have started) and
  returns an ``Assignment``: a new trial (possibly from another trial's checkpoint: ``checkpoint_from``, PBT) or a
  paused trial to resume, and the epoch up to which it runs before it is reported (``report_at``: the speed
  contract; epochs in between are recorded, not reported).
- ``tell(trial, epoch, metrics, time=...)`` records a result and, at ``report_at``, asks the method: the
  ``Verdict`` is CONTINUE (with the next ``report_at``), PAUSE or STOP; at ``max_t`` the trial completes
  (``on_complete``); a NaN metric fails it (``on_error``). An epoch already recorded (a function restarted
  from scratch) is skipped, never recorded twice.
- ``tell_error(trial, time=...)``: the trial failed without a result (an exception, a dead worker); a row of
  NaN metrics is recorded at its next epoch and the method hears ``on_error``.
- ``finish()`` ends the experiment: ``on_stop_all`` for every running or paused trial (their recorded status is
  unchanged, as in the simulator) and a ``SimulationResult`` (``experiments.tuning_result``) for the store.

Every status change follows ``methods.ALLOWED_TRANSITIONS``; a PAUSE from a method that does not declare
``pauses_trials``, a ``report_at`` outside ``(epochs done, max_t]``, a resume of a trial that is not paused and
a checkpoint copied from a trial without one are errors (``ExperimentError``). Stop criteria
(``simulator.StopCriteria``) are checked on the caller's clock: ``max_results`` ends the experiment at that
result (the method is not consulted on it), ``target_metric_value`` after the first result at least that good,
``max_wallclock_time`` at the first result (or ``check_time``) past it; results after the end are dropped.

Decision time: CPU seconds of the calling thread inside the method (``time.thread_time``, as the simulator)
and the real seconds the same calls took. Each new trial gets a training seed drawn uniformly from
``train_seeds`` with the simulator's rule and generator (a copied trial keeps its source's seed), so trial ``k``
trains with the seed that trial ``k`` replays in a simulation of the same run seed on a table with these seeds.
"""

from __future__ import annotations

import math
import time as real_time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from experiments.errors import ExperimentError
from experiments.trial_metrics import MetricsError
from experiments.tuning_result import TuningProblem, make_result
from methods import ALLOWED_TRANSITIONS, Action, Scheduler, TrialStatus
from searchspace import SearchSpace
from simulator import OUTCOMES, SimulationResult, StopCriteria

PENDING, RUNNING, PAUSED = TrialStatus.PENDING, TrialStatus.RUNNING, TrialStatus.PAUSED
_CODE = {name: code for code, name in enumerate(OUTCOMES)}
_STATUS_AFTER = {
    "pause": PAUSED,
    "stop": TrialStatus.STOPPED,
    "complete": TrialStatus.COMPLETED,
    "failed": TrialStatus.FAILED,
}
_SEED_BATCH = 256
NO_MORE_WORK = "method has no more work"


@dataclass(frozen=True, slots=True)
class Assignment:
    """What a free worker runs next.

    ``trial_id`` with ``config`` trains with ``seed``; it has done ``start`` epochs (0 for a new trial; for a
    resumed one its last epoch; for one started from ``checkpoint_from``, the source's last reported epoch) and
    runs epochs ``start + 1 .. report_at``, then reports. ``resume``: a paused trial continues.
    """

    trial_id: int
    config: dict[str, Any]
    seed: int
    start: int
    report_at: int
    resume: bool = False
    checkpoint_from: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to a result: ``outcome`` is "" (not a report epoch: keep training up to ``report_at``),
    "continue" (keep training up to ``report_at``), "pause", "stop", "complete" or "failed"."""

    outcome: str
    report_at: int | None = None

    @property
    def keep_running(self) -> bool:
        return self.outcome in ("", "continue")


_ENDED = Verdict("stop")


class TrialDriver:
    """Drive ``scheduler`` (see the module docstring).

    Args:
        scheduler: the method, built with its own seed; its ``metric``, ``mode`` and ``max_t`` are the problem.
        space: the search space (hyperparameter columns of the results).
        stop: stop criteria, on the caller's clock (seconds).
        seed: seed of the draws of training seeds.
        train_seeds: the training seeds a new trial draws from.
        name: the problem's name (the store's benchmark name).
    """

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        space: SearchSpace,
        stop: StopCriteria,
        seed: int,
        train_seeds: Sequence[int],
        name: str,
    ) -> None:
        self.scheduler = scheduler
        self.space = space
        self.metric, self.mode, self.max_t = scheduler.metric, scheduler.mode, int(scheduler.max_t)
        #: every objective the method decides on (the primary one first); each report must hold them all
        self.objective_names = tuple(getattr(scheduler, "metrics", (self.metric,)))
        self.stop = stop
        self.name = name
        self.train_seeds = tuple(int(seed) for seed in train_seeds)
        self._rng = np.random.default_rng(seed)
        self._draws: list[float] = []
        self._is_min = self.mode == "min"
        # per trial, indexed by trial id
        self.configs: list[dict[str, Any]] = []
        self.seed_indices: list[int] = []
        self.status: list[TrialStatus] = []
        self.done: list[int] = []  # last recorded epoch
        self.reported: list[int] = []  # last epoch of the last finished segment (its checkpoint for copies)
        self.report_at: list[int | None] = []  # of the running segment
        self.sources: list[int] = []  # checkpoint_from, -1 for none
        self._seq: list[int] = []  # the running segment's number
        self._num_segments = 0
        # results, in the order told
        self._rows: list[tuple[int, int, float, int, int]] = []  # trial, epoch, time, worker, segment
        self._outcomes: list[int] = []
        self._metrics: list[Mapping[str, float]] = []
        # clocks and the end
        self.decision_seconds = 0.0
        self.decision_wall_seconds = 0.0
        self.num_decisions = 0
        self.stop_reason: str | None = None
        self.end_time: float | None = None
        self._best: float | None = None

    # State -----------------------------------------------------------------------------------------
    @property
    def num_trials(self) -> int:
        return len(self.configs)

    @property
    def num_results(self) -> int:
        return len(self._rows)

    @property
    def ended(self) -> bool:
        """Whether a stop criterion ended the experiment (nothing is asked or recorded any more)."""
        return self.stop_reason is not None

    def trials_in(self, *statuses: TrialStatus) -> list[int]:
        return [trial for trial, status in enumerate(self.status) if status in statuses]

    def best(self) -> float | None:
        """The best metric value recorded so far (None before any finite one)."""
        return self._best

    def check_time(self, now: float) -> bool:
        """End the experiment if ``now`` is past ``max_wallclock_time``; True if it has ended."""
        budget = self.stop.max_wallclock_time
        if self.stop_reason is None and budget is not None and now >= budget:
            self._end("max_wallclock_time", float(budget))
        return self.ended

    # Asking ------------------------------------------------------------------------------------------
    def ask(self) -> Assignment | None:
        """The next trial to run (or resume), or None: the method has nothing to run now, or the experiment ended."""
        if self.ended:
            return None
        new_id = len(self.configs)
        max_trials = self.stop.max_trials
        may_start = max_trials is None or new_id < max_trials
        suggestion = self._decide(self.scheduler.suggest, new_id if may_start else None)
        if suggestion is None:
            return None
        method = type(self.scheduler).__name__
        trial = suggestion.trial_id
        if trial is not None:
            if suggestion.checkpoint_from is not None or self._status_of(trial) is not PAUSED:
                state = getattr(self._status_of(trial), "value", "unknown")
                raise ExperimentError(
                    f"{method} asked to resume trial {trial}, which is {state}; only a paused trial can resume, "
                    "and only a new trial can start from another trial's checkpoint"
                )
        elif not may_start:
            raise ExperimentError(
                f"{method} proposed a new trial after being told that none may start (max_trials={max_trials})"
            )
        else:
            if suggestion.checkpoint_from is not None:
                self._check_source(suggestion.checkpoint_from)
            trial = self._new_trial(dict(suggestion.config), suggestion.checkpoint_from)
        start = self.done[trial]
        report_at = self._check_report_at(trial, suggestion.report_at)
        self._start_segment(trial, report_at)
        source = self.sources[trial]
        return Assignment(
            trial_id=trial,
            config=dict(self.configs[trial]),
            seed=self.train_seeds[self.seed_indices[trial]],
            start=start,
            report_at=report_at,
            resume=suggestion.trial_id is not None,
            checkpoint_from=None if suggestion.trial_id is not None or source < 0 else source,
        )

    def _status_of(self, trial: object) -> TrialStatus | None:
        known = not isinstance(trial, bool) and isinstance(trial, int | np.integer) and 0 <= trial < len(self.status)
        return self.status[trial] if known else None

    def _check_source(self, source: object) -> None:
        status = self._status_of(source)
        ok = status in (RUNNING, PAUSED, TrialStatus.STOPPED) and 1 <= self.reported[source] < self.max_t
        if not ok:
            state = "unknown" if status is None else f"{status.value} after {self.reported[source]} epoch(s)"
            raise ExperimentError(
                f"{type(self.scheduler).__name__} asked to start a trial from the checkpoint of trial {source!r}, "
                f"which is {state}; a checkpoint comes from a running, paused or stopped trial that has reported at "
                f"least one epoch and fewer than max_t={self.max_t}"
            )

    def _new_trial(self, config: dict[str, Any], source: int | None) -> int:
        if source is not None:
            seed_index, start = self.seed_indices[source], self.reported[source]
        else:
            if not self._draws:
                self._draws = self._rng.random(_SEED_BATCH).tolist()
                self._draws.reverse()
            seed_index, start = int(self._draws.pop() * len(self.train_seeds)), 0
        self.configs.append(config)
        self.seed_indices.append(seed_index)
        self.status.append(PENDING)
        self.done.append(start)
        self.reported.append(start)
        self.report_at.append(None)
        self.sources.append(-1 if source is None else int(source))
        self._seq.append(-1)
        return len(self.configs) - 1

    def _check_report_at(self, trial: int, report_at: int | None) -> int:
        done = self.done[trial]
        if report_at is None:
            return done + 1
        if (
            isinstance(report_at, bool)
            or not isinstance(report_at, int | np.integer)
            or not done < report_at <= self.max_t
        ):
            raise ExperimentError(
                f"{type(self.scheduler).__name__} asked for a report of trial {trial} at epoch {report_at!r}, but the "
                f"trial has run {done} epoch(s) and max_t is {self.max_t}: report_at must be in ({done}, {self.max_t}]"
            )
        return int(report_at)

    def _start_segment(self, trial: int, report_at: int) -> None:
        if self.status[trial] is not RUNNING:
            self._transition(trial, RUNNING)
        self.report_at[trial] = report_at
        self._seq[trial] = self._num_segments
        self._num_segments += 1

    # Telling -----------------------------------------------------------------------------------------
    def tell(self, trial: int, epoch: int, metrics: Mapping[str, float], *, time: float, worker: int = 0) -> Verdict:
        """Record the metrics of ``trial`` at ``epoch`` (real seconds ``time``); the method decides at ``report_at``.

        An epoch already recorded is skipped. After the end of the experiment nothing is recorded (STOP).
        """
        if self.ended:
            return _ENDED
        self._check_running(trial)
        if self.check_time(time):
            return _ENDED
        done = self.done[trial]
        if epoch <= done:
            return Verdict("", self.report_at[trial])
        if epoch != done + 1:
            raise ExperimentError(f"trial {trial}: told epoch {epoch} after epoch {done}; tell every epoch in order")
        missing = [name for name in self.objective_names if name not in metrics]
        if missing:
            raise MetricsError(f"trial {trial} epoch {epoch}: the metrics {sorted(metrics)} lack {missing[0]!r}")
        self._record(trial, epoch, metrics, time, worker)
        max_results = self.stop.max_results
        if max_results is not None and len(self._rows) >= max_results:
            self._end("max_results", time)  # as the simulator: the method is not consulted on the last result
            return _ENDED
        value = float(metrics[self.metric])
        if math.isnan(value):
            verdict = self._end_segment(trial, "failed", self.scheduler.on_error, trial, epoch)
        elif epoch >= self.max_t:
            verdict = self._end_segment(trial, "complete", self.scheduler.on_complete, trial, epoch, metrics)
        elif epoch == self.report_at[trial]:
            verdict = self._report(trial, epoch, metrics)
        else:
            verdict = Verdict("", self.report_at[trial])
        target = self.stop.target_metric_value
        if target is not None and (value <= target if self._is_min else value >= target):
            self._end("target_metric_value", time)
            return _ENDED
        return verdict

    def tell_error(self, trial: int, *, time: float, worker: int = 0) -> Verdict:
        """``trial`` failed before its next result (an exception, a dead worker, too few epochs): a row of NaN
        metrics at its next epoch, and the method hears ``on_error``."""
        if self.ended:
            return _ENDED
        self._check_running(trial)
        if self.check_time(time):
            return _ENDED
        epoch = self.done[trial] + 1
        self._record(trial, epoch, {}, time, worker)
        return self._end_segment(trial, "failed", self.scheduler.on_error, trial, epoch)

    def _check_running(self, trial: int) -> None:
        status = self._status_of(trial)
        if status is not RUNNING:
            state = "unknown" if status is None else status.value
            raise ExperimentError(
                f"trial {trial!r} is {state}, not running; tell only the trials that ask() handed out, until their "
                "verdict ends them"
            )

    def _record(self, trial: int, epoch: int, metrics: Mapping[str, float], time: float, worker: int) -> None:
        self._rows.append((trial, epoch, float(time), int(worker), self._seq[trial]))
        self._outcomes.append(0)
        self._metrics.append(dict(metrics))
        self.done[trial] = epoch
        value = float(metrics.get(self.metric, math.nan))
        if not math.isnan(value) and (
            self._best is None or (value < self._best if self._is_min else value > self._best)
        ):
            self._best = value

    def _report(self, trial: int, epoch: int, metrics: Mapping[str, float]) -> Verdict:
        decision = self._decide(self.scheduler.on_report, trial, epoch, metrics)
        if decision.action is Action.CONTINUE:
            self._outcomes[-1] = _CODE["continue"]
            self.reported[trial] = epoch
            report_at = self._check_report_at(trial, decision.report_at)
            self._start_segment(trial, report_at)
            return Verdict("continue", report_at)
        if decision.action is Action.PAUSE and not self.scheduler.pauses_trials:
            raise ExperimentError(
                f"{type(self.scheduler).__name__} answered PAUSE for trial {trial} at epoch {epoch} but does not "
                "declare pauses_trials = True"
            )
        outcome = "pause" if decision.action is Action.PAUSE else "stop"
        return self._end_segment(trial, outcome, None)

    def _end_segment(self, trial: int, outcome: str, hook: Callable[..., Any] | None, *args: Any) -> Verdict:
        """The running segment of ``trial`` ends with ``outcome`` (after calling the method's ``hook``)."""
        if hook is not None:
            self._decide(hook, *args)
        self._outcomes[-1] = _CODE[outcome]
        self._transition(trial, _STATUS_AFTER[outcome])
        self.reported[trial] = self.done[trial]
        self.report_at[trial] = None
        return Verdict(outcome)

    def _transition(self, trial: int, status: TrialStatus) -> None:
        current = self.status[trial]
        if status not in ALLOWED_TRANSITIONS[current]:
            allowed = sorted(s.value for s in ALLOWED_TRANSITIONS[current]) or "none, it has ended"
            raise ExperimentError(
                f"{type(self.scheduler).__name__}: trial {trial} cannot go from {current.value} to {status.value} "
                f"(allowed: {allowed})"
            )
        self.status[trial] = status

    def _decide(self, call: Callable[..., Any], *args: Any) -> Any:
        """``call(*args)`` on the method, its CPU and real seconds added to the decision clocks."""
        cpu, wall = real_time.thread_time(), real_time.perf_counter()
        try:
            return call(*args)
        finally:
            self.decision_seconds += real_time.thread_time() - cpu
            self.decision_wall_seconds += real_time.perf_counter() - wall
            self.num_decisions += 1

    # The end ---------------------------------------------------------------------------------------------
    def _end(self, reason: str, time: float) -> None:
        if self.stop_reason is None:
            self.stop_reason, self.end_time = reason, float(time)

    def finish(self, now: float, reason: str | None = None) -> SimulationResult:
        """End the experiment at ``now`` (unless a stop criterion ended it earlier): ``on_stop_all`` for every
        running or paused trial, and the result. ``reason`` (default: "max_trials" if that many trials started,
        else "method has no more work") is recorded as the stop reason."""
        if self.stop_reason is None:
            if reason is None:
                max_trials = self.stop.max_trials
                reason = "max_trials" if max_trials is not None and self.num_trials >= max_trials else NO_MORE_WORK
            self._end(reason, now)
        self.scheduler.on_stop_all(self.trials_in(RUNNING, PAUSED))
        return self.result()

    def result(self) -> SimulationResult:
        """The results so far, in time order, as the store takes them."""
        names = _metric_names(self._metrics, self.metric)
        problem = TuningProblem(self.name, self.space, self.max_t, self.train_seeds, names, self.metric, self.mode)
        rows = np.array(self._rows, dtype=np.float64).reshape(-1, 5)
        objectives = np.full((len(self._rows), len(names)), np.nan)
        for i, metrics in enumerate(self._metrics):
            for j, name in enumerate(names):
                objectives[i, j] = metrics.get(name, math.nan)
        end = self.end_time if self.end_time is not None else float(rows[:, 2].max(initial=0.0))
        return make_result(
            problem,
            trial_id=rows[:, 0].astype(np.int64),
            epoch=rows[:, 1].astype(np.int64),
            time=rows[:, 2],
            worker=rows[:, 3].astype(np.int64),
            segment=rows[:, 4].astype(np.int64),
            outcome=np.array(self._outcomes, dtype=np.int8),
            objectives=objectives,
            configs=self.configs,
            seed_indices=self.seed_indices,
            status=[status.value for status in self.status],
            last_epochs=self.done,
            sources=self.sources,
            end_time=end,
            decision_seconds=self.decision_seconds,
            num_decisions=self.num_decisions,
            stop_reason=self.stop_reason or "not finished",
        )


def _metric_names(rows: Sequence[Mapping[str, float]], metric: str) -> list[str]:
    """The metric names in first-seen order (``metric`` first)."""
    names = {metric: None}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)

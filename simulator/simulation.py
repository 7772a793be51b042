"""Replay a benchmark under a scheduler with ``n_workers`` parallel workers.

A trial runs epoch by epoch; each epoch ends at ``previous end + runtime(config, seed, epoch)``
read from the benchmark: a table, a surrogate fitted on a table, or a surrogate model such as YAHPO's
(anything implementing ``BlackboxBase``). Each new trial replays one benchmark seed, drawn uniformly
among the seeds that have data for its configuration (NASBench-201 lacks some runs).

The scheduler is consulted only at the epochs it asked for (``report_at``): the epochs in between
run as one segment, one event in the queue, and are recorded with their simulated times. A paused
trial keeps its checkpoint and, when resumed, runs only its remaining epochs. The scheduler's compute
time is measured as CPU time of the simulating thread (``time.thread_time``: machine load and sleeping do not
inflate it) and reported, never added to simulated time (a fixed ``decision_overhead``
in simulated seconds can be charged to every start or resume).

A new trial may start from the checkpoint of another trial (``Suggestion.start(...,
checkpoint_from=source)``, PBT's exploit step): its first epoch is the source's last finished epoch + 1
(the end of the source's last segment, i.e. its last report) and it replays the *source's* benchmark seed
(when its own configuration has data for that seed; otherwise a seed drawn as usual). Approximation: a
table cannot know the curve of a configuration changed mid-training, so the copied trial continues with its
*new* configuration's tabulated curve (metric and epoch runtimes) from that epoch on. Only the epochs it
actually runs are recorded and charged, starting when its worker starts it. The source may be running (its
checkpoint is the one of its last report), paused or stopped, not failed or completed; ``trials_frame``
records it in a ``checkpoint_from`` column (-1: started from scratch).

The problem is the method's: the metric, mode and ``max_t`` the scheduler was built with are the ones
simulated (a different ``metric``/``max_t`` given to ``simulate`` is refused, as is a ``max_t`` beyond the
benchmark's epochs or a mode that contradicts the benchmark's objective). A ``report_at`` outside ``(epochs
done, max_t]`` is an error, never clamped.

Trial life cycle: every trial's status (``methods.TrialStatus``) changes only along ``ALLOWED_TRANSITIONS``
(PENDING → RUNNING → PAUSED/STOPPED/COMPLETED/FAILED, PAUSED → RUNNING); a PAUSE from a method that does not
declare ``pauses_trials`` is an error. Once ``max_trials`` trials have started the scheduler is asked
``suggest(None)``: no new trial may start, a paused one may be resumed. When the experiment ends, the
scheduler is told ``on_stop`` for every trial still running or paused (``on_stop_all``; their recorded status is
unchanged).

Stop criteria: simulated wall-clock, number of results, number of trials, target metric value.
Results are returned in time order (ties: order of the segments' starts, then epoch).
"""

from __future__ import annotations

import heapq
import math
import time as real_time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blackbox_repository import Blackbox, BlackboxBase, BlackboxError
from methods import ALLOWED_TRANSITIONS, Action, Scheduler, TrialStatus
from searchspace import SearchSpaceError
from simulator.errors import SimulationError
from simulator.events import EventQueue
from simulator.result import OUTCOMES, SimulationResult

NONE, CONTINUE, PAUSE, STOP, COMPLETE, FAIL = range(len(OUTCOMES))
_ACTION_CODE = {Action.CONTINUE: CONTINUE, Action.PAUSE: PAUSE, Action.STOP: STOP}
_SEED_BATCH = 256
_NO_ROW = -1
PENDING, RUNNING, PAUSED = TrialStatus.PENDING, TrialStatus.RUNNING, TrialStatus.PAUSED
# ALLOWED_TRANSITIONS as the two tuples the loop needs (membership in a tuple is by identity: no enum hashing)
_MAY_RUN = tuple(status for status in TrialStatus if RUNNING in ALLOWED_TRANSITIONS[status])
_AFTER_RUNNING = tuple(ALLOWED_TRANSITIONS[RUNNING])
_STATUS_OF_OUTCOME = {
    CONTINUE: RUNNING,
    PAUSE: PAUSED,
    STOP: TrialStatus.STOPPED,
    COMPLETE: TrialStatus.COMPLETED,
    FAIL: TrialStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class StopCriteria:
    """When a simulated experiment ends; None disables a criterion. At least one must be set
    unless the method runs out of work by itself.

    Args:
        max_wallclock_time: simulated seconds.
        max_results: number of recorded results (one per trial and epoch).
        max_trials: number of trials started; no further trial starts, running and paused ones
            may still go on until the method has nothing left to run.
        target_metric_value: stop at the first result at least this good.
    """

    max_wallclock_time: float | None = None
    max_results: int | None = None
    max_trials: int | None = None
    target_metric_value: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_results", "max_trials"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise SimulationError(f"`{name}` must be an integer >= 1 or None, but got {value!r}")
        wallclock = self.max_wallclock_time
        if wallclock is not None and not (isinstance(wallclock, (int, float)) and 0 < wallclock < math.inf):
            raise SimulationError(f"`max_wallclock_time` must be a positive finite number or None, got {wallclock!r}")
        target = self.target_metric_value
        if target is not None and not (isinstance(target, (int, float)) and math.isfinite(target)):
            raise SimulationError(f"`target_metric_value` must be a finite number or None, got {target!r}")


class _Segment:
    """A trial running on a worker from ``first`` to ``last`` epoch; ``times[i]`` ends epoch first+i."""

    __slots__ = ("trial", "worker", "first", "last", "times", "seq", "failed")

    def __init__(self, trial: int, worker: int, first: int, last: int, times: np.ndarray, seq: int, failed: bool):
        self.trial, self.worker, self.first, self.last = trial, worker, first, last
        self.times, self.seq, self.failed = times, seq, failed


def simulate(
    blackbox: BlackboxBase,
    scheduler: Scheduler,
    *,
    n_workers: int,
    seed: int,
    stop: StopCriteria,
    metric: str | None = None,
    max_t: int | None = None,
    decision_overhead: float = 0.0,
) -> SimulationResult:
    """Run ``scheduler`` on ``blackbox``; see the module docstring.

    Args:
        blackbox: benchmark with epochs ``1 .. F`` as fidelities.
        scheduler: the method, already built with its own seed.
        n_workers: parallel workers.
        seed: seed of the simulator's generator (which benchmark seed each trial replays).
        stop: stop criteria.
        metric: the metric the method optimises (default and only accepted value: ``scheduler.metric``);
            ``stop.target_metric_value`` applies to it in the scheduler's mode.
        max_t: last epoch of a trial (default and only accepted value: ``scheduler.max_t``).
        decision_overhead: simulated seconds charged before each start or resume.
    """
    return _Simulation(blackbox, scheduler, n_workers, seed, stop, metric, max_t, decision_overhead).run()


class _Simulation:
    def __init__(
        self,
        blackbox: BlackboxBase,
        scheduler: Scheduler,
        n_workers: int,
        seed: int,
        stop: StopCriteria,
        metric: str | None,
        max_t: int | None,
        decision_overhead: float,
    ) -> None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise SimulationError(f"`n_workers` must be an integer >= 1, but got {n_workers!r}")
        if not decision_overhead >= 0:
            raise SimulationError(f"`decision_overhead` must be >= 0 seconds, got {decision_overhead!r}")
        fidelities = np.asarray(blackbox.fidelities)
        if not np.array_equal(fidelities, np.arange(1, len(fidelities) + 1)):
            raise SimulationError(
                f"benchmark {blackbox.name!r} has fidelities {fidelities[:5].tolist()}…; the simulator "
                "replays epochs 1, 2, ..., F"
            )
        reserved = {"trial_id", "seed", "time", "worker", "decision", "best_so_far", blackbox.fidelity_name}
        names = blackbox.space.names + blackbox.objective_names
        clashes = sorted(reserved.intersection(names)) + sorted({n for n in names if names.count(n) > 1})
        if clashes:
            raise SimulationError(
                f"benchmark {blackbox.name!r}: the name(s) {clashes} clash with result columns or with each "
                f"other (reserved: {sorted(reserved)}); rename the hyperparameter or objective"
            )
        self.blackbox = blackbox
        self.scheduler = scheduler
        self.max_t, metric, mode = _problem_of(scheduler, blackbox, metric, max_t)
        self.n_workers = n_workers
        self.stop = stop
        self.overhead = float(decision_overhead)
        self.names = blackbox.objective_names
        self.metric_index = blackbox.objective_index(metric)
        self.target_is_min = mode == "min"
        self.runtime_index = self._runtime_index(blackbox)
        self.elapsed_index = None if blackbox.elapsed_objective is None else blackbox.objective_index(
            blackbox.elapsed_objective
        )
        # the fast path of a table: a dict lookup and a plain ndarray view (a memmap costs more per index)
        self.tabulated = isinstance(blackbox, Blackbox)
        self.lookup = blackbox.row_lookup() if self.tabulated else {}
        self.table = np.asarray(blackbox.objectives) if self.tabulated else None
        self.hp_names = blackbox.space.names
        self.rng = np.random.default_rng(seed)
        self.seed_draws: list[float] = []
        # per-trial state, indexed by trial id
        self.configs: list[dict] = []
        self.rows: list[int] = []
        self.seed_indices: list[int] = []
        self.full_curves: list[np.ndarray] = []  # per trial: (epochs, objectives)
        self.curves: list[tuple[np.ndarray, np.ndarray]] = []  # per trial: metric and runtime per epoch
        self.first_bad: list[int] = []  # per trial: index of the first epoch with NaN metric/runtime
        self.epoch_done: list[int] = []
        self.status: list[TrialStatus] = []
        self.checkpoint_from: list[int] = []  # per trial: trial whose checkpoint it started from, or -1
        # bookkeeping
        self.segments: list[_Segment] = []
        self.segment_outcomes: list[int] = []
        self.running: list[_Segment | None] = [None] * n_workers
        self.decision_seconds = 0.0
        self.num_decisions = 0
        self.emitted = 0
        self.target_time = math.inf

    @staticmethod
    def _runtime_index(blackbox: Blackbox) -> int | None:
        if blackbox.runtime_objective is not None:
            return blackbox.objective_index(blackbox.runtime_objective)
        if blackbox.elapsed_objective is None:
            raise SimulationError(
                f"benchmark {blackbox.name!r} has neither a runtime nor an elapsed-time objective; the "
                "simulator needs the seconds each epoch takes"
            )
        return None

    # Main loop -----------------------------------------------------------------------------------
    def run(self) -> SimulationResult:
        queue = EventQueue()
        idle = list(range(self.n_workers))
        wallclock = self.stop.max_wallclock_time if self.stop.max_wallclock_time is not None else math.inf
        max_results = self.stop.max_results
        self._fill(idle, queue, 0.0)
        reason = "method has no more work"
        while queue:
            t = queue.peek()
            if t > min(wallclock, self.target_time):
                reason = "target_metric_value" if self.target_time <= wallclock else "max_wallclock_time"
                break
            if max_results is not None and self._results_until(t) >= max_results:
                reason = "max_results"
                break
            t, _, worker = queue.pop()
            self._end_segment(self.running[worker], t, idle, queue)
            if idle:
                self._fill(idle, queue, t)
        else:
            if self.stop.max_trials is not None and len(self.seed_indices) >= self.stop.max_trials:
                reason = "max_trials"
        cutoff = min(wallclock, self.target_time)
        for segment in self.running:
            if segment is not None:
                self._record(segment, NONE, cutoff)
        result = self._result(reason, queue.now, wallclock)
        # the experiment is over: nothing runs again
        self.scheduler.on_stop_all(trial for trial, status in enumerate(self.status) if status in (RUNNING, PAUSED))
        return result

    def _results_until(self, t: float) -> int:
        count = self.emitted
        for segment in self.running:
            if segment is not None:
                count += int(np.searchsorted(segment.times, t, side="right"))
        return count

    # Starting work -------------------------------------------------------------------------------
    def _fill(self, idle: list[int], queue: EventQueue, now: float) -> None:
        """Ask the scheduler for work while workers are idle (lowest worker index first)."""
        scheduler = self.scheduler
        max_trials = self.stop.max_trials
        while idle:
            new_id = len(self.seed_indices)
            may_start = max_trials is None or new_id < max_trials
            started = real_time.thread_time()
            suggestion = scheduler.suggest(new_id if may_start else None)
            self.decision_seconds += real_time.thread_time() - started
            self.num_decisions += 1
            if suggestion is None:
                return
            trial = suggestion.trial_id
            if trial is not None:
                if suggestion.checkpoint_from is not None or self._status_of(trial) is not PAUSED:
                    self._refuse_resume(trial, suggestion.checkpoint_from)
            else:
                if not may_start:
                    raise SimulationError(
                        f"{type(scheduler).__name__} proposed a new trial after being told that no new trial may "
                        f"start (suggest(None): max_trials={max_trials} reached); it may only resume a paused trial"
                    )
                source = suggestion.checkpoint_from
                if source is not None:
                    self._check_checkpoint_source(source)
                trial = self._new_trial(suggestion.config, source)
            worker = heapq.heappop(idle)
            self._start_segment(trial, worker, suggestion.report_at, now + self.overhead, queue)

    def _status_of(self, trial: object) -> TrialStatus | None:
        """The status of ``trial``, or None if there is no such trial."""
        known = not isinstance(trial, bool) and isinstance(trial, (int, np.integer)) and 0 <= trial < len(self.status)
        return self.status[trial] if known else None

    def _refuse_resume(self, trial: object, checkpoint_from: int | None) -> None:
        method = type(self.scheduler).__name__
        status = self._status_of(trial)
        if status is not PAUSED:
            state = status.value if status is not None else "unknown"
            raise SimulationError(f"{method} asked to resume trial {trial}, which is {state}, not paused")
        raise SimulationError(
            f"{method} asked to resume trial {trial} from the checkpoint of trial {checkpoint_from}; only a "
            "new trial can start from another trial's checkpoint"
        )

    def _check_checkpoint_source(self, source: object) -> None:
        """A checkpoint to copy must exist: a running, paused or stopped trial that has finished an epoch
        and has epochs left to run."""
        method = type(self.scheduler).__name__
        if self._status_of(source) is None:
            raise SimulationError(
                f"{method} asked to start a trial from the checkpoint of trial {source!r}, which does not exist "
                f"({len(self.seed_indices)} trials so far)"
            )
        status, done = self.status[source], self.epoch_done[source]
        if status not in (RUNNING, PAUSED, TrialStatus.STOPPED) or not 1 <= done < self.max_t:
            raise SimulationError(
                f"{method} asked to start a trial from the checkpoint of trial {source}, which is {status.value} after "
                f"{done} epoch(s); a checkpoint to copy must come from a running, paused or stopped trial that has "
                f"finished at least one epoch and fewer than max_t={self.max_t}"
            )

    def _new_trial(self, config: dict, source: int | None = None) -> int:
        row = _NO_ROW
        try:
            if self.tabulated:
                row = self.lookup.get(tuple(config[name] for name in self.hp_names), _NO_ROW)
                seeds = self.blackbox.row_seed_indices(row) if row != _NO_ROW else self.blackbox.seed_indices(config)
            else:
                seeds = self.blackbox.seed_indices(config)
        except Exception as error:
            method = type(self.scheduler).__name__
            raise SimulationError(f"{method} suggested an invalid configuration: {error}") from None
        start, seed_index = 0, None
        if source is not None:
            start = self.epoch_done[source]
            # continue the source's seed if this configuration has data for it (or has none at all)
            if not len(seeds) or np.any(np.asarray(seeds) == self.seed_indices[source]):
                seed_index = self.seed_indices[source]
        if seed_index is None:
            if not self.seed_draws:
                self.seed_draws = self.rng.random(_SEED_BATCH).tolist()
                self.seed_draws.reverse()
            draw = self.seed_draws.pop()
            # no seed with data: replay the first seed's (missing) values, so the trial fails at once
            seed_index = int(seeds[int(draw * len(seeds))]) if len(seeds) else 0
        if self.tabulated:
            full = self.table[row, seed_index].astype(np.float64)  # (epochs, objectives)
        else:
            try:
                full = np.asarray(self.blackbox.curve(config, seed_index), dtype=np.float64)
            except (BlackboxError, SearchSpaceError) as error:
                method = type(self.scheduler).__name__
                raise SimulationError(f"{method} suggested an invalid configuration: {error}") from None
        curve = full.T
        if self.runtime_index is None:
            runtime = np.diff(curve[self.elapsed_index], prepend=0.0)
        else:
            runtime = curve[self.runtime_index]
        metric = curve[self.metric_index]
        # only the epochs the trial runs count (a copied trial starts after the source's checkpoint)
        bad = np.flatnonzero(np.isnan(metric[start:]) | np.isnan(runtime[start:]) | (runtime[start:] < 0))
        self.first_bad.append(start + int(bad[0]) if bad.size else len(metric))
        self.configs.append(config)
        self.full_curves.append(full)
        self.rows.append(row)
        self.seed_indices.append(seed_index)
        self.curves.append((metric, runtime))
        self.epoch_done.append(start)
        self.status.append(PENDING)
        self.checkpoint_from.append(-1 if source is None else int(source))
        return len(self.seed_indices) - 1

    def _start_segment(self, trial: int, worker: int, report_at: int | None, start: float, queue: EventQueue) -> None:
        done = self.epoch_done[trial]
        if report_at is None:
            last = done + 1
        elif done < report_at <= self.max_t:
            last = report_at
        else:
            raise SimulationError(
                f"{type(self.scheduler).__name__} asked for a report of trial {trial} at epoch {report_at!r}, but the "
                f"trial has run {done} epoch(s) and max_t is {self.max_t}: report_at must be in ({done}, {self.max_t}]"
            )
        metric_curve, runtime_curve = self.curves[trial]
        failed = self.first_bad[trial] < last
        if failed:
            last = self.first_bad[trial] + 1
            runtime = np.nan_to_num(runtime_curve[done:last], nan=0.0).clip(min=0.0)
        else:
            runtime = runtime_curve[done:last]
        # sequential sums: each epoch ends at the previous end plus its runtime
        steps = np.empty(last - done + 1)
        steps[0] = start
        steps[1:] = runtime
        times = np.cumsum(steps)[1:]
        target = self.stop.target_metric_value
        if target is not None and not failed:
            values = metric_curve[done:last]
            hits = np.flatnonzero(values <= target if self.target_is_min else values >= target)
            if hits.size:
                self.target_time = min(self.target_time, float(times[hits[0]]))
        segment = _Segment(trial, worker, done + 1, last, times, len(self.segments), failed)
        self.segments.append(segment)
        self.segment_outcomes.append(NONE)
        self.running[worker] = segment
        if self.status[trial] is not RUNNING:  # a new trial starts or a paused one resumes
            if self.status[trial] not in _MAY_RUN:
                self._refuse_transition(trial, RUNNING)
            self.status[trial] = RUNNING
        queue.push(float(times[-1]), worker)

    # Ending work ---------------------------------------------------------------------------------
    def _end_segment(self, segment: _Segment, now: float, idle: list[int], queue: EventQueue) -> None:
        trial, worker, last = segment.trial, segment.worker, segment.last
        self.running[worker] = None
        self.epoch_done[trial] = last
        scheduler = self.scheduler
        started = real_time.thread_time()
        if segment.failed:
            scheduler.on_error(trial, last)
            outcome = FAIL
        elif last >= self.max_t:
            scheduler.on_complete(trial, last, self._metrics(trial, last))
            outcome = COMPLETE
        else:
            decision = scheduler.on_report(trial, last, self._metrics(trial, last))
            outcome = _ACTION_CODE[decision.action]
        self.decision_seconds += real_time.thread_time() - started
        self.num_decisions += 1
        self._record(segment, outcome, math.inf)
        if outcome == CONTINUE:
            self._start_segment(trial, worker, decision.report_at, now, queue)
        else:
            if outcome == PAUSE and not scheduler.pauses_trials:
                raise SimulationError(
                    f"{type(scheduler).__name__} answered PAUSE for trial {trial} at epoch {last} but does not declare "
                    "pauses_trials = True; a method that pauses must say so (and resume or give up its paused trials)"
                )
            status = _STATUS_OF_OUTCOME[outcome]
            if self.status[trial] is not RUNNING or status not in _AFTER_RUNNING:
                self._refuse_transition(trial, status)
            self.status[trial] = status
            heapq.heappush(idle, worker)

    def _refuse_transition(self, trial: int, status: TrialStatus) -> None:
        """A status change outside ``ALLOWED_TRANSITIONS`` (checked inline at every change) is an error."""
        current = self.status[trial]
        allowed = sorted(s.value for s in ALLOWED_TRANSITIONS[current]) or "none, it has ended"
        raise SimulationError(
            f"{type(self.scheduler).__name__}: trial {trial} cannot go from {current.value} to {status.value} "
            f"(allowed: {allowed})"
        )

    def _metrics(self, trial: int, epoch: int) -> dict[str, float]:
        return dict(zip(self.names, self.full_curves[trial][epoch - 1].tolist()))

    def _record(self, segment: _Segment, outcome: int, cutoff: float) -> None:
        if cutoff < math.inf:  # a segment cut short by the end of the experiment
            kept = int(np.searchsorted(segment.times, cutoff, side="right"))
            segment.times = segment.times[:kept]
            segment.last = segment.first + kept - 1
            self.epoch_done[segment.trial] = segment.last
        self.segment_outcomes[segment.seq] = outcome
        self.emitted += len(segment.times)

    # Result --------------------------------------------------------------------------------------
    def _result(self, reason: str, last_event: float, wallclock: float) -> SimulationResult:
        segments = [s for s in self.segments if len(s.times)]
        lengths = np.array([len(s.times) for s in segments], dtype=np.int64)
        n = int(lengths.sum())
        trial_ids = np.repeat(np.array([s.trial for s in segments], dtype=np.int64), lengths)
        workers = np.repeat(np.array([s.worker for s in segments], dtype=np.int64), lengths)
        seqs = np.repeat(np.array([s.seq for s in segments], dtype=np.int64), lengths)
        times = np.concatenate([s.times for s in segments]) if segments else np.empty(0)
        offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
        epochs = np.arange(n, dtype=np.int64) - offsets + np.repeat(
            np.array([s.first for s in segments], dtype=np.int64), lengths
        )
        outcomes = np.zeros(n, dtype=np.int8)
        if n:
            ends = np.cumsum(lengths) - 1
            outcomes[ends] = np.array([self.segment_outcomes[s.seq] for s in segments], dtype=np.int8)
        order = np.lexsort((epochs, seqs, times))
        if self.stop.max_results is not None:
            order = order[: self.stop.max_results]
        trial_ids, workers, times, epochs, outcomes = (
            trial_ids[order], workers[order], times[order], epochs[order], outcomes[order]
        )
        rows = np.array(self.rows, dtype=np.int64)
        seed_indices = np.array(self.seed_indices, dtype=np.int64)
        if self.tabulated:
            objectives = self.table[rows[trial_ids], seed_indices[trial_ids], epochs - 1].astype(np.float64)
        elif segments:
            curves = self.full_curves
            pieces = [curves[s.trial][s.first - 1 : s.first - 1 + len(s.times)] for s in segments]
            objectives = np.concatenate(pieces)[order]
        else:
            objectives = np.empty((0, len(self.names)))
        objectives = objectives.reshape(len(order), len(self.names))
        trial_configs = pd.DataFrame(self.configs, columns=self.hp_names)
        if self.tabulated:  # the table's own dtypes and values
            trial_configs = self.blackbox.configs.iloc[rows].reset_index(drop=True)
        if reason in ("max_wallclock_time", "target_metric_value"):
            end_time = min(wallclock, self.target_time)
        elif reason == "max_results":
            end_time = float(times[-1]) if len(times) else 0.0
        else:
            end_time = last_event
        return SimulationResult(
            blackbox=self.blackbox,
            trial_id=trial_ids,
            epoch=epochs,
            time=times,
            worker=workers,
            outcome=outcomes,
            objectives=objectives,
            trial_configs=trial_configs,
            trial_seed_indices=seed_indices,
            trial_status=[status.value for status in self.status],
            trial_epochs=np.array(self.epoch_done, dtype=np.int64),
            trial_checkpoint_from=np.array(self.checkpoint_from, dtype=np.int64),
            simulated_time=float(end_time),
            decision_seconds=self.decision_seconds,
            num_decisions=self.num_decisions,
            stop_reason=reason,
        )


def _problem_of(
    scheduler: Scheduler, blackbox: BlackboxBase, metric: str | None, max_t: int | None
) -> tuple[int, str, str]:
    """``(max_t, metric, mode)`` of the method, checked against the benchmark and the caller's values."""
    method = type(scheduler).__name__
    own_max_t, own_metric, own_mode = (getattr(scheduler, name, None) for name in ("max_t", "metric", "mode"))
    if own_max_t is None or own_metric is None or own_mode is None:
        raise SimulationError(
            f"{method} has no max_t/metric/mode; a scheduler states its problem (Scheduler._set_problem)"
        )
    if max_t is not None and max_t != own_max_t:
        raise SimulationError(
            f"simulate(max_t={max_t}) disagrees with {method}'s max_t={own_max_t}: build the method with "
            f"max_t={max_t} (or leave simulate's max_t out)"
        )
    if metric is not None and metric != own_metric:
        raise SimulationError(
            f"simulate(metric={metric!r}) disagrees with {method}'s metric={own_metric!r}: build the method with "
            f"metric={metric!r} (or leave simulate's metric out)"
        )
    num_epochs = len(blackbox.fidelities)
    if isinstance(own_max_t, bool) or not isinstance(own_max_t, (int, np.integer)) or not 1 <= own_max_t <= num_epochs:
        raise SimulationError(
            f"{method} has max_t={own_max_t!r}, but benchmark {blackbox.name!r} has epochs 1..{num_epochs}: build "
            f"the method with max_t between 1 and {num_epochs}"
        )
    if own_metric not in blackbox.objective_names:
        raise SimulationError(
            f"{method} optimises {own_metric!r}, which benchmark {blackbox.name!r} does not have; objectives: "
            f"{blackbox.objective_names}"
        )
    declared = blackbox.objective(own_metric).mode
    if declared is not None and declared != own_mode:
        better = "smaller" if declared == "min" else "larger"
        raise SimulationError(
            f"{method} has mode={own_mode!r} but benchmark {blackbox.name!r} says {own_metric!r} is better {better} "
            f"(mode {declared!r}): build the method with mode={declared!r}"
        )
    return int(own_max_t), own_metric, own_mode

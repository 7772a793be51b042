"""The scheduler contract: what should run next, and what happens to a trial after a report.

A scheduler knows nothing of the simulator. It is asked ``suggest`` when a worker is free and is told
``on_report`` at the epochs it asked to hear about, ``on_complete`` when a trial has run its last epoch
(``max_t``), ``on_error`` when a trial failed and ``on_stop`` when its caller ended a trial (the experiment is
over, or a wrapping scheduler stopped it). It takes and returns plain values: ids, epochs, configurations and
metric values.

Subclasses implement the hooks ``_suggest`` and ``_on_report`` (and, if they keep state about trials,
``_on_complete``, ``_on_error``, ``_on_stop``); the public methods call them and keep the scheduler's
``searcher`` informed (``methods.searcher``): every trial that starts, continues or resumes is announced with
``on_pending``, every report the scheduler receives is passed on with ``on_report`` (every metric; by default
the searcher takes the primary objective as a loss, smaller is better), and every trial that will not run
again with ``on_end``. So any searcher plugs into any scheduler with no code of its own. A scheduler that
gives up a paused trial for good (synchronous Hyperband's losers) says so
with ``_give_up``.

Refusal: ``suggest(None)`` means that no new trial may start any more (e.g. ``max_trials`` is reached); the
scheduler may still resume a paused trial. A caller never starts a new trial it did not ask for.

Speed contract: every answer names the epoch at which the scheduler next needs to hear about the
trial (``report_at``, in ``(epochs done, max_t]``). The caller runs the trial up to that epoch without asking
again; results of the epochs in between are recorded but not reported. Default: the next epoch.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from methods.objectives import Objectives, check_mode
from methods.searcher import Searcher
from methods.trial_status import ALLOWED_TRANSITIONS, TrialStatus
from searchspace import Config

__all__ = [
    "ALLOWED_TRANSITIONS",
    "Action",
    "CONTINUE_NEXT_EPOCH",
    "Decision",
    "Objectives",
    "PAUSE",
    "STOP",
    "Scheduler",
    "Suggestion",
    "TrialStatus",
    "check_mode",
    "check_positive_int",
]


class Action(enum.Enum):
    """A scheduler's answer to a report.

    CONTINUE: keep training until ``report_at``.
    PAUSE: free the worker, keep the checkpoint; the trial may be resumed later by ``suggest``.
    STOP: free the worker for good; the trial is finished and its checkpoint may be dropped.
    """

    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """Start a new trial with ``config``, or resume the paused trial ``trial_id``.

    ``report_at`` is the first epoch at which the scheduler wants a report (None: the next epoch).
    ``checkpoint_from`` (new trials only): the new trial starts from the checkpoint of that trial (e.g.
    PBT's exploit step), so its first epoch is that trial's last finished epoch + 1.
    Build one with ``Suggestion.start`` or ``Suggestion.resume``.
    """

    config: Config | None = None
    trial_id: int | None = None
    report_at: int | None = None
    checkpoint_from: int | None = None

    @classmethod
    def start(cls, config: Config, report_at: int | None = None, checkpoint_from: int | None = None) -> Suggestion:
        return cls(config=config, trial_id=None, report_at=report_at, checkpoint_from=checkpoint_from)

    @classmethod
    def resume(cls, trial_id: int, report_at: int | None = None) -> Suggestion:
        return cls(config=None, trial_id=trial_id, report_at=report_at)

    @property
    def is_resume(self) -> bool:
        return self.trial_id is not None


@dataclass(frozen=True, slots=True)
class Decision:
    """Answer to ``on_report``: an action and, for CONTINUE, the next epoch to report at."""

    action: Action
    report_at: int | None = None


CONTINUE_NEXT_EPOCH = Decision(Action.CONTINUE)
STOP = Decision(Action.STOP)
PAUSE = Decision(Action.PAUSE)


class Scheduler(abc.ABC):
    """Base class of every HPO method (see the module docstring).

    Args (by convention, keyword-only in subclasses):
        space: the search space.
        metric: name of the metric to optimise (a key of the ``metrics`` passed to reports), or the names of
            several objectives (``methods.objectives``): a single-objective method optimises the first.
        mode: "min" or "max", or one per objective.
        max_t: the largest epoch a trial can reach; a trial completes there.
        seed: the one seed all randomness of the method flows from.
        searcher: proposes new configurations and observes every trial (most methods; None for a method
            that proposes configurations itself or through an inner scheduler).
    """

    #: whether the method may answer PAUSE and later resume trials (the caller refuses a PAUSE otherwise)
    pauses_trials: bool = False
    #: whether the method accepts ``restrict_configurations`` (propose only given configurations)
    supports_restrict_configurations: ClassVar[bool] = True
    #: whether the method's decisions use every objective (MOASHA); otherwise they use the primary one only
    multi_objective: ClassVar[bool] = False
    _searcher: Searcher | None = None

    @property
    def searcher(self) -> Searcher | None:
        """Proposes configurations and hears of every trial (None: the method has none of its own)."""
        return self._searcher

    @searcher.setter
    def searcher(self, searcher: Searcher | None) -> None:
        if searcher is not None:
            searcher.set_objectives(self.objectives)
            searcher.configure(max_t=self.max_t, rung_levels=tuple(getattr(self, "levels", ())))
        self._searcher = searcher

    # Hooks of subclasses -------------------------------------------------------------------------
    @abc.abstractmethod
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        """What a free worker should run (see ``suggest``)."""

    @abc.abstractmethod
    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        """Continue, pause or stop ``trial_id`` (see ``on_report``)."""

    def _on_complete(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        """``trial_id`` completed ``max_t`` (see ``on_complete``)."""

    def _on_error(self, trial_id: int, epoch: int) -> None:
        """``trial_id`` failed (see ``on_error``)."""

    def _on_stop(self, trial_id: int) -> None:
        """The caller ended ``trial_id`` (see ``on_stop``)."""

    # The contract --------------------------------------------------------------------------------
    def suggest(self, new_trial_id: int | None) -> Suggestion | None:
        """What a free worker should run: a new trial (which will get ``new_trial_id``), a paused trial to
        resume, or None if the method has nothing to run right now. ``new_trial_id=None``: no new trial may
        start any more (only a resume is acceptable)."""
        suggestion = self._suggest(new_trial_id)
        searcher = self._searcher
        if suggestion is not None and searcher is not None and searcher.observes:
            self._announce(new_trial_id, suggestion, searcher)
        return suggestion

    def on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        """``trial_id`` reached ``epoch`` (< max_t) with ``metrics``: continue, pause or stop?"""
        searcher = self._searcher
        if searcher is None or not searcher.observes:
            return self._on_report(trial_id, epoch, metrics)
        config = self._live[trial_id]
        self._epochs[trial_id] = epoch
        searcher.on_report(trial_id, config, epoch, metrics)
        decision = self._on_report(trial_id, epoch, metrics)
        if decision.action is Action.CONTINUE:
            report_at = decision.report_at
            searcher.on_pending(trial_id, config, epoch + 1 if report_at is None else report_at)
        elif decision.action is Action.STOP:
            self._end(trial_id, TrialStatus.STOPPED)
        return decision

    def on_complete(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        """``trial_id`` finished its last epoch (``max_t``) with ``metrics``."""
        searcher = self._searcher
        if searcher is not None and searcher.observes:
            self._epochs[trial_id] = epoch
            searcher.on_report(trial_id, self._live[trial_id], epoch, metrics)
            self._end(trial_id, TrialStatus.COMPLETED)
        self._on_complete(trial_id, epoch, metrics)

    def on_error(self, trial_id: int, epoch: int) -> None:
        """``trial_id`` failed at ``epoch`` (e.g. its metric is NaN); it will not report again."""
        self._end(trial_id, TrialStatus.FAILED)
        self._on_error(trial_id, epoch)

    def on_stop(self, trial_id: int) -> None:
        """The caller ended ``trial_id`` (running or paused): the experiment is over, or a scheduler wrapping
        this one stopped it. It will not run again."""
        self._end(trial_id, TrialStatus.STOPPED)
        self._on_stop(trial_id)

    def on_stop_all(self, trial_ids: Iterable[int]) -> None:
        """``on_stop`` for each of ``trial_ids`` (e.g. every unfinished trial when the experiment ends); nothing
        to do, and no call per trial, for a scheduler that neither reacts to stops nor has a listening searcher."""
        searcher = self._searcher
        if type(self)._on_stop is Scheduler._on_stop and (searcher is None or not searcher.observes):
            return
        for trial_id in trial_ids:
            self.on_stop(trial_id)

    # Searcher notifications ----------------------------------------------------------------------
    def _give_up(self, trial_id: int) -> None:
        """A paused trial will never be resumed: the searcher hears it ended (STOPPED)."""
        self._end(trial_id, TrialStatus.STOPPED)

    def _announce(self, new_trial_id: int | None, suggestion: Suggestion, searcher: Searcher) -> None:
        if suggestion.trial_id is not None:  # resume
            trial_id = suggestion.trial_id
            config = self._live[trial_id]
            done = self._epochs[trial_id]
        else:
            trial_id = new_trial_id
            config = suggestion.config
            source = suggestion.checkpoint_from
            done = 0 if source is None else self._epochs.get(source, 0)
            self._live[trial_id] = config
            self._epochs[trial_id] = done
        report_at = suggestion.report_at
        searcher.on_pending(trial_id, config, done + 1 if report_at is None else report_at)

    def _end(self, trial_id: int, status: TrialStatus) -> None:
        """Tell the searcher once that ``trial_id`` ended (later calls for the same trial do nothing). Only the
        trials of a listening searcher are in ``_live``: for any other this does nothing."""
        if self._live.pop(trial_id, None) is not None:
            self._searcher.on_end(trial_id, status)

    def losses(self, metrics: Mapping[str, float]) -> np.ndarray:
        """The objectives of a report as losses (smaller is better), in the order of ``metrics``."""
        return self.objectives.losses(metrics)

    # Problem -------------------------------------------------------------------------------------
    def _set_problem(
        self,
        space: Any,
        metric: str | Sequence[str],
        mode: str | Sequence[str],
        max_t: int,
        seed: int,
        *,
        min_max_t: int = 1,
    ) -> None:
        """Store and check the arguments every method shares (``space``, ``metric``, ``mode``, ``max_t``, ``seed``).

        ``metric`` may name several objectives (with one ``mode`` for all or one per objective): they are
        ``self.objectives`` (``self.metrics``, ``self.modes``), and the first is ``self.metric``/``self.mode``, the one
        a single-objective method optimises."""
        self.space = space
        self.objectives = Objectives.of(metric, mode)
        self.metrics = self.objectives.metrics
        self.modes = self.objectives.modes
        self.metric = self.metrics[0]
        self.mode = self.modes[0]
        self.max_t = check_positive_int("max_t", max_t, minimum=min_max_t)
        self.seed = seed
        self._live: dict[int, Config] = {}  # observed trials that have not ended: their configurations
        self._epochs: dict[int, int] = {}  # observed trials: the last epoch reported (or started after)

    def schedule_description(self) -> str:
        """Human-readable description of the rungs/brackets the method uses (for --show-schedule)."""
        return f"{type(self).__name__}: every trial runs to max_t without early stopping"

    def state_summary(self) -> dict[str, Any]:
        """Small JSON-able summary of the method's state, stored with the results (optional)."""
        return {}


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"The value of `{name}` is {value!r}, but must be an integer >= {minimum}")
    return value

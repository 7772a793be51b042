"""The scheduler contract: what should run next, and what happens to a trial after a report.

A scheduler knows nothing of the simulator. It is asked ``suggest`` when a worker is free and is
told ``on_report`` at the epochs it asked to hear about, ``on_complete`` when a trial has run its
last epoch and ``on_error`` when a trial failed. It takes and returns plain values: ids, epochs,
configurations and metric values.

Speed contract: every answer names the epoch at which the scheduler next needs to hear about the
trial (``report_at``). The caller runs the trial up to that epoch without asking again; results of
the epochs in between are recorded but not reported. Default: the next epoch.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from searchspace import Config


class Action(enum.Enum):
    """A scheduler's answer to a report.

    CONTINUE: keep training until ``report_at``.
    PAUSE: free the worker, keep the checkpoint; the trial may be resumed later by ``suggest``.
    STOP: free the worker for good; the trial is finished and its checkpoint may be dropped.
    """

    CONTINUE = "continue"
    PAUSE = "pause"
    STOP = "stop"


class TrialStatus(enum.Enum):
    """Life cycle of a trial; ``ALLOWED_TRANSITIONS`` lists the legal moves."""

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"

    def is_finished(self) -> bool:
        return self in (TrialStatus.STOPPED, TrialStatus.COMPLETED, TrialStatus.FAILED)

    def can_become(self, other: TrialStatus) -> bool:
        return other in ALLOWED_TRANSITIONS[self]


ALLOWED_TRANSITIONS: dict[TrialStatus, frozenset[TrialStatus]] = {
    TrialStatus.PENDING: frozenset({TrialStatus.RUNNING, TrialStatus.FAILED}),
    TrialStatus.RUNNING: frozenset(
        {TrialStatus.PAUSED, TrialStatus.STOPPED, TrialStatus.COMPLETED, TrialStatus.FAILED}
    ),
    TrialStatus.PAUSED: frozenset({TrialStatus.RUNNING, TrialStatus.STOPPED}),
    TrialStatus.STOPPED: frozenset(),
    TrialStatus.COMPLETED: frozenset(),
    TrialStatus.FAILED: frozenset(),
}


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
    """Base class of every HPO method.

    Args (by convention, keyword-only in subclasses):
        space: the search space.
        metric: name of the metric to optimise (a key of the ``metrics`` passed to reports).
        mode: "min" or "max".
        max_t: the largest epoch a trial can reach.
        seed: the one seed all randomness of the method flows from.
    """

    #: whether the method may answer PAUSE and later resume trials
    pauses_trials: bool = False

    @abc.abstractmethod
    def suggest(self, new_trial_id: int) -> Suggestion | None:
        """What a free worker should run: a new trial (which will get ``new_trial_id``), a paused
        trial to resume, or None if the method has nothing to run right now."""

    @abc.abstractmethod
    def on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        """``trial_id`` reached ``epoch`` (< max_t) with ``metrics``: continue, pause or stop?"""

    def on_complete(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        """``trial_id`` finished its last epoch (``max_t``) with ``metrics``."""

    def on_error(self, trial_id: int, epoch: int) -> None:
        """``trial_id`` failed at ``epoch`` (e.g. its metric is NaN); it will not report again."""

    def _set_problem(
        self, space: Any, metric: str, mode: str, max_t: int, seed: int, *, min_max_t: int = 1
    ) -> None:
        """Store and check the arguments every method shares (``space``, ``metric``, ``mode``, ``max_t``, ``seed``)."""
        self.space = space
        self.metric = metric
        self.mode = check_mode(mode)
        self.max_t = check_positive_int("max_t", max_t, minimum=min_max_t)
        self.seed = seed

    def schedule_description(self) -> str:
        """Human-readable description of the rungs/brackets the method uses (for --show-schedule)."""
        return f"{type(self).__name__}: every trial runs to max_t without early stopping"

    def state_summary(self) -> dict[str, Any]:
        """Small JSON-able summary of the method's state, stored with the results (optional)."""
        return {}


def check_mode(mode: str) -> str:
    if mode not in ("min", "max"):
        raise ValueError(f"`mode` must be 'min' or 'max', but got {mode!r}")
    return mode


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"The value of `{name}` is {value!r}, but must be an integer >= {minimum}")
    return value

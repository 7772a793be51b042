"""The life cycle of a trial: its states and the legal moves between them."""

from __future__ import annotations

import enum


class TrialStatus(enum.Enum):
    """State of a trial; ``ALLOWED_TRANSITIONS`` lists the legal moves.

    PENDING: proposed, not yet running. RUNNING: on a worker. PAUSED: off its worker with a checkpoint, may be
    resumed. STOPPED: ended early by its scheduler (or the end of the experiment). COMPLETED: ran its last epoch.
    FAILED: its training failed (e.g. a NaN metric).
    """

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

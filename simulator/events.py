"""A minimal event queue in simulated time.

A heap of ``(time, priority, seq, payload)``; ``seq`` comes from a monotone counter, so the order is
total, payloads are never compared and ties break first-in-first-out. Simulated time only moves to
the time of the event just popped.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

URGENT = 0
NORMAL = 1


class EventQueue:
    __slots__ = ("_heap", "_counter", "now")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, int, Any]] = []
        self._counter = itertools.count()
        self.now = 0.0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, time: float, payload: Any, priority: int = NORMAL) -> int:
        """Schedule ``payload`` at ``time`` (not before ``now``); returns its sequence number."""
        if time < self.now:
            raise ValueError(f"cannot schedule an event at time {time}, before the current time {self.now}")
        seq = next(self._counter)
        heapq.heappush(self._heap, (time, priority, seq, payload))
        return seq

    def peek(self) -> float:
        """Time of the next event (``inf`` if there is none)."""
        return self._heap[0][0] if self._heap else float("inf")

    def pop(self) -> tuple[float, int, Any]:
        """Remove the next event, advance ``now`` to its time; returns ``(time, seq, payload)``."""
        time, _, seq, payload = heapq.heappop(self._heap)
        self.now = time
        return time, seq, payload

    def drain(self) -> list[tuple[float, int, Any]]:
        """Remove every pending event without advancing time; ``(time, seq, payload)`` in order."""
        items = sorted(self._heap)
        self._heap.clear()
        return [(time, seq, payload) for time, _, seq, payload in items]

"""Rung levels, promotion quantiles, Hyperband bracket sizes and the rung data structure.

All level and size arithmetic is exact (``fractions.Fraction``): a float ``log(243, 3)`` of
4.999… must never cost a rung or a bracket.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Sequence
from fractions import Fraction

from methods.base import check_positive_int


def _exact(value: float) -> Fraction:
    """The decimal the user wrote (3, 2.5, ...) as an exact fraction."""
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def rung_levels(
    max_t: int,
    *,
    grace_period: int = 1,
    reduction_factor: float | None = 3,
    rung_increment: int | None = None,
    levels: Sequence[int] | None = None,
) -> list[int]:
    """Rung levels strictly below ``max_t`` (``max_t`` is where a trial completes).

    Geometric (default): ``round(grace_period * reduction_factor**k)`` while below ``max_t``.
    Linear (``reduction_factor=None`` and ``rung_increment``): ``grace_period + k * rung_increment``.
    Explicit ``levels``: positive, strictly increasing, at most ``max_t`` (a final ``max_t`` is dropped).
    """
    if levels is not None:
        levels = list(levels)
        if not levels or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in levels):
            raise ValueError(f"`rung_levels` must be a non-empty list of positive integers, got {levels}")
        if any(a >= b for a, b in zip(levels, levels[1:])):
            raise ValueError(f"`rung_levels` must be strictly increasing, got {levels}")
        if levels[-1] > max_t:
            raise ValueError(f"the last of `rung_levels` ({levels[-1]}) must be <= max_t ({max_t})")
        return levels[:-1] if levels[-1] == max_t else levels
    if isinstance(grace_period, bool) or not isinstance(grace_period, int) or grace_period < 1:
        raise ValueError(f"The value of `grace_period` is {grace_period!r}, but must be an integer >= 1")
    if grace_period >= max_t:
        raise ValueError(f"`grace_period` ({grace_period}) must be smaller than max_t ({max_t})")
    if reduction_factor is not None:
        if reduction_factor < 2:
            raise ValueError(f"The value of `reduction_factor` is {reduction_factor}, but must be >= 2")
        eta = _exact(reduction_factor)
        result, level = [], Fraction(grace_period)
        while level < max_t:
            result.append(round(level))
            level *= eta
        return result
    if rung_increment is None or rung_increment < 1:
        raise ValueError(
            f"The value of `rung_increment` is {rung_increment!r}, but must be an integer >= 1 "
            "when `reduction_factor` is None"
        )
    return list(range(grace_period, max_t, rung_increment))


def promotion_quantiles(levels: Sequence[int], max_t: int) -> list[float]:
    """``q_j = r_j / r_{j+1}`` with ``r_{J} = max_t``: the fraction of a rung that may go on."""
    following = list(levels[1:]) + [max_t]
    return [level / nxt for level, nxt in zip(levels, following)]


def bracket_count(levels: Sequence[int], brackets: int | None, max_t: int) -> int:
    """The number of Hyperband brackets: ``brackets`` checked, or the most there can be (None)."""
    if brackets is None:
        return len(levels) + 1
    check_positive_int("brackets", brackets)
    if brackets > len(levels) + 1:
        raise ValueError(
            f"The value of `brackets` is {brackets}, but must be between 1 and {len(levels) + 1} "
            f"(one more than the number of rung levels {list(levels)} below max_t={max_t})"
        )
    return brackets


def hyperband_bracket_sizes(levels: Sequence[int], reduction_factor: float, brackets: int) -> list[list[int]]:
    """Rung sizes of synchronous Hyperband, one list per bracket (its rungs then ``max_t``).

    With ``s_max = len(levels)`` (rungs below ``max_t``), bracket ``s`` has ``s_max - s + 1``
    levels and the size of its ``k``-th level is ``ceil((s_max + 1) / (s_max - s + 1) * eta**(s_max - s - k))``,
    the geometric schedule of the Hyperband paper (Li et al., 2018) as the seed documentation
    states it (NASBench-201, max_t = 200: first rungs 243, 98, 41, 18, 9, 6).
    """
    s_max = len(levels)
    if not 1 <= brackets <= s_max + 1:
        raise ValueError(f"The value of `brackets` is {brackets}, but must be between 1 and {s_max + 1}")
    eta = _exact(reduction_factor)
    sizes = []
    for s in range(brackets):
        num_levels = s_max - s + 1
        prefactor = Fraction(s_max + 1, num_levels)
        sizes.append([math.ceil(prefactor * eta ** (num_levels - 1 - k)) for k in range(num_levels)])
    return sizes


def bracket_probabilities(levels: Sequence[int], reduction_factor: float, brackets: int) -> list[float]:
    """Asynchronous Hyperband draws a new trial's bracket with probability proportional to the
    size of that bracket's first rung in synchronous Hyperband."""
    first = [sizes[0] for sizes in hyperband_bracket_sizes(levels, reduction_factor, brackets)]
    total = sum(first)
    return [size / total for size in first]


def quantile_linear(sorted_values: Sequence[float], q: float) -> float:
    """``numpy.quantile(values, q)`` (method "linear") of ascending ``sorted_values``, bit for bit."""
    n = len(sorted_values)
    virtual = (n - 1) * q
    below = math.floor(virtual)
    if below >= n - 1:
        return sorted_values[n - 1]
    gamma = virtual - below
    a, b = sorted_values[below], sorted_values[below + 1]
    diff = b - a
    if gamma >= 0.5:
        return b - diff * (1 - gamma)
    return a + diff * gamma


class Rung:
    """Metric values recorded at one rung level, and the trials paused there.

    Values are kept as losses (the metric, negated for mode "max"), so both modes run the same arithmetic and
    a max-mode run is the exact mirror of a min-mode run on the negated metric. ``cutoff()`` is the promotion
    threshold: the ``q`` quantile of the losses (in metric units: the ``1 - q`` quantile of the values for mode
    "max"), or None while the rung holds fewer than two values. A value at least as good as the cutoff may
    continue (stopping rule) or be promoted (promotion rule).
    """

    __slots__ = ("level", "quantile", "sign", "_sorted", "_paused", "_count", "_cutoff")

    def __init__(self, level: int, quantile: float, mode: str) -> None:
        self.level = level
        self.quantile = quantile
        self.sign = 1.0 if mode == "min" else -1.0
        self._sorted: list[float] = []  # losses, ascending
        self._paused: list[tuple[float, int, int]] = []  # heap of (loss, arrival, trial_id)
        self._count = 0
        self._cutoff: float | None = None  # as a loss; cached, recomputed after every value recorded

    def __len__(self) -> int:
        return len(self._sorted)

    def _record(self, value: float) -> float:
        """Insert ``value`` as a loss, update the cutoff; returns the loss."""
        loss = self.sign * value
        bisect.insort(self._sorted, loss)
        if len(self._sorted) >= 2:
            self._cutoff = quantile_linear(self._sorted, self.quantile)
        return loss

    def admits(self, value: float) -> bool:
        """Record ``value`` and say whether it is at least as good as the new cutoff (the stopping rule's test)."""
        loss = self._record(value)
        return self._cutoff is None or loss <= self._cutoff

    def admits_by_rank(self, value: float, fraction: float) -> bool:
        """Record ``value`` and say whether the values strictly better than it make up at most ``fraction`` of the
        rung, its own included (Syne Tune 0.16's rank rule; the first value always passes)."""
        better = bisect.bisect_left(self._sorted, self.sign * value)
        self._record(value)
        return better / len(self._sorted) <= fraction

    def cutoff(self) -> float | None:
        """The threshold in metric units (None with fewer than two values)."""
        return None if self._cutoff is None else self.sign * self._cutoff

    def pause(self, trial_id: int, value: float) -> None:
        """Record ``value`` and keep ``trial_id`` waiting here for promotion."""
        loss = self._record(value)
        self._count += 1
        heapq.heappush(self._paused, (loss, self._count, trial_id))

    def pop_promotable(self) -> int | None:
        """The best paused trial if it qualifies for promotion (it is then no longer paused here)."""
        if not self._paused or len(self._sorted) < 2:
            return None
        loss, _, trial_id = self._paused[0]
        if loss > self._cutoff:
            return None
        heapq.heappop(self._paused)
        return trial_id

    def withdraw(self, trial_id: int) -> None:
        """``trial_id`` is no longer paused here (resumed by another rule, e.g. DyHPO's model)."""
        self._paused = [entry for entry in self._paused if entry[2] != trial_id]
        heapq.heapify(self._paused)

    @property
    def values(self) -> list[float]:
        """The recorded values in metric units, ascending."""
        values = [self.sign * loss for loss in self._sorted]
        return values if self.sign > 0 else values[::-1]

    @property
    def num_paused(self) -> int:
        return len(self._paused)


class CostRung:
    """A rung of the cost-aware promotion rule (Syne Tune's ``type="cost_promotion"``,
    ``CostPromotionRungSystem``).

    Every trial that reached the rung (promoted from it or still paused here) is ranked by its metric
    value, best first; ``c_i`` is the cost (e.g. the elapsed training time) trial ``i`` spent to reach
    the rung. With ``C(k) = c_1 + ... + c_k`` and ``N`` entries, the paused trial of best rank ``k``
    may be promoted iff ``C(k) <= q * C(N)`` (nobody with fewer than two entries). Cheap trials thus
    let more trials through than expensive ones. Ties in the metric rank the cheaper trial first, then
    the earlier one (Syne Tune keeps insertion order; with equal metric values the cheaper one is
    the one worth promoting). Every entry ranked before the best paused one has been promoted, so
    ``C(k)`` is kept as the cost of those entries (updated by the slices between consecutive best paused
    entries) plus ``c_k``; sums are exact up to floating-point rounding.
    """

    __slots__ = ("level", "quantile", "sign", "_keys", "_costs", "_paused", "_count", "_changed", "_total", "_ahead")

    def __init__(self, level: int, quantile: float, mode: str) -> None:
        self.level = level
        self.quantile = quantile
        self.sign = 1.0 if mode == "min" else -1.0
        self._keys: list[tuple[float, float, int]] = []  # (±value, cost, arrival), sorted best first
        self._costs: list[float] = []  # costs in the order of ``_keys``
        self._paused: list[tuple[tuple[float, float, int], int]] = []  # heap of (key, trial_id)
        self._count = 0
        self._changed = True  # False after a negative answer until the rung changes
        self._total = 0.0  # C(N)
        self._ahead = 0.0  # cost of the entries ranked before the best paused one

    def __len__(self) -> int:
        return len(self._keys)

    def pause(self, trial_id: int, value: float, cost: float) -> None:
        """Record ``value`` and ``cost`` and keep ``trial_id`` waiting here for promotion."""
        self._count += 1
        key = (self.sign * value, cost, self._count)
        keys, costs, paused = self._keys, self._costs, self._paused
        position = bisect.bisect_right(keys, key)
        keys.insert(position, key)
        costs.insert(position, cost)
        self._total += cost
        if not paused:
            self._ahead = sum(costs[:position])
        elif key < paused[0][0]:  # the new best paused entry: drop the promoted ones between it and the old
            old = bisect.bisect_left(keys, paused[0][0], position + 1)
            self._ahead -= sum(costs[position + 1 : old])
        heapq.heappush(paused, (key, trial_id))
        self._changed = True

    def pop_promotable(self) -> int | None:
        """The best paused trial if it is promotable (it is then no longer paused here)."""
        paused = self._paused
        if not paused or len(self._keys) < 2 or not self._changed:
            return None
        key, trial_id = paused[0]
        cost = key[1]
        if self._ahead + cost > self.quantile * self._total:
            self._changed = False
            return None
        heapq.heappop(paused)
        if paused:
            keys = self._keys
            start = bisect.bisect_left(keys, key)
            end = bisect.bisect_left(keys, paused[0][0], start + 1)
            self._ahead += sum(self._costs[start:end])
        return trial_id

    @property
    def num_paused(self) -> int:
        return len(self._paused)

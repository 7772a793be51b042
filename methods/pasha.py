"""Progressive ASHA (PASHA): promotion-type ASHA whose maximum resource grows only while the ranking of
configurations in the top two rungs is unstable.

Bohdal, Balles, Wistuba, Ermis, Archambeau, Zappella, "PASHA: Efficient HPO and NAS with Progressive
Resource Allocation" (ICLR 2023), with the rules of Syne Tune's ``PASHARungSystem`` (the version the
seed documentation describes, with ε estimated automatically). Rung levels ``L_0 < L_1 < ... < L_{J-1}``
are ASHA's (below ``max_t``).

- Resources: PASHA starts with the first two rungs, current maximum ``L_1``. Trials pause at every
  rung; a free worker promotes, scanning rungs from the top, the best paused trial of the first rung
  *below the current maximum* that is within the rung's promotion quantile (ASHA's promotion rule),
  else starts a new trial. Trials paused at the current maximum wait there.
- Top two rungs: the top rung ``L_k`` (the current maximum) and the previous rung ``L_{k-1}``.
  Trials of the top rung are ranked by their value at ``L_k``; the same trials are ranked by their
  value at ``L_{k-1}``. Docs: "In soft ranking, configurations are still sorted by predictive
  performance but they are considered equivalent if the performance difference is smaller than a
  value ε (or equal to it)." The ranking is consistent iff, for every position ``i``, the trial at
  position ``i`` of the top-rung ranking lies in the group of trials whose ``L_{k-1}`` value is within ε
  of that of the trial at position ``i`` of the previous-rung ranking, i.e. iff
  ``max_i |v_{k-1}(top_i) - v_{k-1}(prev_i)| <= ε``. Ties rank the earlier arrival first.
- Increase: if the ranking is inconsistent, the maximum moves up one rung level (``L_{k+1}``; after
  ``L_{J-1}``: ``max_t``, where PASHA is plain promotion-type ASHA and stops checking). At most one
  increase per report. Syne Tune checks after every result; the ranking changes only when a trial
  reaches the top rung and ε only as described below, so checking then is the same.
- ε, ``epsilon=None`` (docs: "The value of ε is automatically estimated by measuring noise in
  rankings"; Syne Tune's ``_update_epsilon``): a pair of trials ``a`` (the earlier trial), ``b`` is
  compared at an epoch ``e`` with ``s_t = [v_a(t) > v_b(t)]``; it is *noisy* if, going back from
  ``e - 1`` to epoch 1, its order is first found opposite to ``s_e`` and then, further back, equal to
  ``s_e`` again (the learning curves crossed twice). ε is the 90th percentile (numpy "linear") of
  ``|v_a(e) - v_b(e)|`` over the noisy pairs; with no noisy pair ε keeps its previous value
  (initially 0, kept across windows). A top rung with a single entry uses ε = 0. Which pairs:

  - ``noise_pairs="top_rung"`` (default): the pairs of trials in the top rung, compared at ``e = L_k``;
    ε is updated when a trial reaches the top rung. For the first two rungs (1 and 3 by default)
    this is exactly Syne Tune's estimate (pairs compared below epoch 3 cannot be noisy).
  - ``noise_pairs="all"``: Syne Tune's estimate exactly: every pair of trials that ran past ``L_{k-1}``,
    compared at the highest epoch ``<= L_k`` both reached, re-estimated and checked after every
    report in ``(L_{k-1}, L_k]``. Slower: about twice the decision time (NASBench-201-sized tables).

  Each pair counts once (Syne Tune's loop may count a pair twice through set iteration order). The
  estimate needs every epoch's value: while PASHA can still increase its maximum it asks for a report
  every epoch. A given ``epsilon`` is fixed; then reports are needed at rung levels only.

With fewer than two rung levels below ``max_t`` PASHA is promotion-type ASHA from the start. (Syne Tune
starts at ``min(len(rung_levels) - 1, 2)`` rungs, which with two rung levels degenerates; here the start is
always the first two rungs, as in the paper.)
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from methods.asha import ASHA
from methods.base import PAUSE, Action, Decision, Suggestion
from methods.rungs import quantile_linear
from methods.searchers import Searcher
from searchspace import Config, SearchSpace

RANKING_CRITERIA = ("soft_ranking",)
NOISE_PAIRS = ("top_rung", "all")

# State of the order sequence s_1 .. s_m of a pair of learning curves, in four bits; for
# ``index = 2 * state + s_e``: whether the pair is noisy at ``e``, and its state after ``s_e``.
_SEEN_T, _SEEN_F, _T_THEN_F, _F_THEN_T = 1, 2, 4, 8


def _state_tables() -> tuple[np.ndarray, np.ndarray]:
    noisy = np.zeros(32, dtype=bool)
    following = np.zeros(32, dtype=np.uint8)
    for state in range(16):
        for order in (0, 1):
            index = 2 * state + order
            if order:  # noisy: some T came before some F; appending T after an F makes "F then T"
                noisy[index] = bool(state & _T_THEN_F)
                following[index] = state | _SEEN_T | (_F_THEN_T if state & _SEEN_F else 0)
            else:
                noisy[index] = bool(state & _F_THEN_T)
                following[index] = state | _SEEN_F | (_T_THEN_F if state & _SEEN_T else 0)
    return noisy, following


_NOISY, _NEXT = _state_tables()


def _order_state(order: np.ndarray) -> np.ndarray:
    """State bits of order sequences: ``order`` has one row per epoch and one column per pair. Some T
    comes before some F iff somewhere a T is directly followed by an F."""
    before, after = order[:-1], order[1:]
    state = order.any(axis=0) * np.uint8(_SEEN_T)
    state |= (~order).any(axis=0) * np.uint8(_SEEN_F)
    state |= (before > after).any(axis=0) * np.uint8(_T_THEN_F)
    state |= (before < after).any(axis=0) * np.uint8(_F_THEN_T)
    return state


def _noisy(order: np.ndarray) -> np.ndarray:
    """Whether each pair is noisy at the last row of ``order`` (one row per epoch, one column per pair):
    its last order is T and a T was directly followed by an F before, or the mirror image."""
    before, after = order[:-2], order[1:-1]
    return np.where(order[-1], (before > after).any(axis=0), (before < after).any(axis=0))


def _merged(ordered: np.ndarray, new: np.ndarray) -> np.ndarray:
    """The sorted array ``ordered`` with the sorted values ``new`` merged in."""
    positions = np.searchsorted(ordered, new) + np.arange(len(new))
    merged = np.empty(len(ordered) + len(new))
    keep = np.ones(len(merged), dtype=bool)
    keep[positions] = False
    merged[positions] = new
    merged[keep] = ordered
    return merged


def _grown(array: np.ndarray, size: int, fill: float | int = 0) -> np.ndarray:
    """``array`` with its last axis at least ``size`` long (doubling), new entries ``fill``."""
    length = array.shape[-1]
    if size <= length:
        return array
    extra = np.full((*array.shape[:-1], max(64, length, size - length)), fill, dtype=array.dtype)
    return np.concatenate([array, extra], axis=-1)


class PASHA(ASHA):
    """Progressive ASHA (see the module docstring for the exact rules).

    Args:
        space, metric, mode, max_t, seed: as for every scheduler.
        grace_period, reduction_factor, rung_increment, rung_levels: ASHA's rung levels (defaults 1, 3).
        ranking_criterion: "soft_ranking" (the only one; Syne Tune's former ``soft_ranking_std`` and
            ``*_dst`` variants are not implemented).
        epsilon: ε of the soft ranking; None (default): estimated from the noise in the learning curves.
        noise_percentile: percentile of the noisy pairs' distances taken as ε (default 90).
        noise_pairs: which pairs estimate ε, "top_rung" (default) or "all" (Syne Tune's exact rule).
        restrict_configurations, points_to_evaluate, searcher: as for ASHA.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: str = "min",
        max_t: int,
        seed: int = 0,
        grace_period: int = 1,
        reduction_factor: float | None = 3,
        rung_increment: int | None = None,
        rung_levels: Sequence[int] | None = None,
        ranking_criterion: str = "soft_ranking",
        epsilon: float | None = None,
        noise_percentile: float = 90.0,
        noise_pairs: Literal["top_rung", "all"] = "top_rung",
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        if ranking_criterion not in RANKING_CRITERIA:
            raise ValueError(
                f"The value of `ranking_criterion` is {ranking_criterion!r}, but must be one of {RANKING_CRITERIA}"
            )
        if epsilon is not None and not (isinstance(epsilon, int | float) and 0 <= epsilon < float("inf")):
            raise ValueError(f"The value of `epsilon` is {epsilon!r}, but must be None or a finite number >= 0")
        if noise_pairs not in NOISE_PAIRS:
            raise ValueError(f"The value of `noise_pairs` is {noise_pairs!r}, but must be one of {NOISE_PAIRS}")
        if not 0 <= noise_percentile <= 100:
            raise ValueError(f"The value of `noise_percentile` is {noise_percentile!r}, but must be in [0, 100]")
        super().__init__(
            space,
            metric=metric,
            mode=mode,
            max_t=max_t,
            seed=seed,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            rung_increment=rung_increment,
            rung_levels=rung_levels,
            rule="promotion",
            brackets=1,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
            searcher=searcher,
        )
        self.ranking_criterion = ranking_criterion
        self.auto_epsilon = epsilon is None
        self.epsilon = 0.0 if epsilon is None else float(epsilon)
        self.noise_quantile = noise_percentile / 100
        self.noise_pairs = noise_pairs
        self._every_report = self.auto_epsilon and noise_pairs == "all"  # ε may change at any report
        levels = self.levels
        self._rungs = [self._systems[0][level] for level in levels]
        self._level_index = {level: j for j, level in enumerate(levels)}
        self._at_level: list[dict[int, float]] = [{} for _ in levels]  # trial -> value at rung j
        self._sign = 1.0 if self.mode == "min" else -1.0
        self._next_epoch = [Decision(Action.CONTINUE, epoch + 1) for epoch in range(levels[-1] + 1)]
        self.num_increases = 0
        self.increase_reports: list[int] = []  # number of reports seen when each increase happened
        self._num_reports = 0
        # learning curves for the noise estimate: epochs 1 .. L_{J-1} x one column per trial
        self._columns: dict[int, int] = {}
        self._curves = np.full((levels[-1], 64), np.nan)
        self._k = 1
        self.tracking = len(levels) >= 2
        self.current_max_t = levels[1] if self.tracking else max_t
        self._reset_window()

    # Contract ------------------------------------------------------------------------------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        per_epoch = self.tracking and self.auto_epsilon
        current_max = self.current_max_t
        levels = self.levels
        for j in range(len(levels) - 1, -1, -1):
            level = levels[j]
            if level < current_max:
                trial_id = self._rungs[j].pop_promotable()
                if trial_id is not None:
                    report_at = level + 1 if per_epoch else self._next_milestone(0, level)
                    return Suggestion.resume(trial_id, report_at=report_at)
        if new_trial_id is None:
            return None
        config = self.searcher.suggest(new_trial_id)
        if config is None:
            return None
        return Suggestion.start(config, report_at=1 if per_epoch else levels[0])

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        value = metrics[self.metric]
        self._num_reports += 1
        in_window = self.tracking and self._bottom < epoch <= self._top
        top = in_window and epoch == self._top
        if self.tracking and self.auto_epsilon:
            self._record(trial_id, epoch, self._sign * value, in_window and self._every_report)
        j = self._level_index.get(epoch)
        if j is not None:
            self._rungs[j].pause(trial_id, value)
            self._at_level[j][trial_id] = value
            if top:
                if self.auto_epsilon and not self._every_report:
                    self._add_top_pairs(trial_id)
                self._rank(trial_id, value)
            decision = PAUSE
        elif self.tracking and self.auto_epsilon:
            decision = self._next_epoch[epoch]
        else:
            decision = Decision(Action.CONTINUE, self._next_milestone(0, epoch))
        if (top or (in_window and self._every_report)) and self._required > self.epsilon:
            self._increase()
        return decision

    # Schedule ------------------------------------------------------------------------------------
    def schedule_description(self) -> str:
        if self.auto_epsilon:
            epsilon = f"the {100 * self.noise_quantile:g}th percentile of noisy pairs' distances ({self.noise_pairs})"
        else:
            epsilon = f"{self.epsilon:g}"
        start = self.levels[1] if len(self.levels) >= 2 else self.max_t
        return "\n".join(
            [
                f"PASHA (promotion rule, soft ranking), max_t={self.max_t}",
                f"  rung levels: {self.levels} (trials complete at {self.max_t})",
                "  promotion quantiles: " + ", ".join(f"{q:.4g}" for q in self.quantiles),
                f"  maximum resource starts at {start} and grows one rung level at a time while the",
                f"  ranking in the top two rungs is unstable; epsilon: {epsilon}",
                "  follows Syne Tune 0.13's PASHA (soft ranking; the noise estimate of its epsilon rule)",
            ]
        )

    def state_summary(self) -> dict[str, Any]:
        return {
            "current_max_t": self.current_max_t,
            "epsilon": self.epsilon,
            "num_increases": self.num_increases,
            "increase_reports": list(self.increase_reports),
        }

    # Window of the top two rungs -----------------------------------------------------------------
    def _reset_window(self) -> None:
        """Rankings and noise estimate of the current top two rungs ``L_{k-1}``, ``L_k``."""
        if self.tracking:
            self._bottom, self._top = self.levels[self._k - 1], self.levels[self._k]
        else:
            self._bottom = self._top = self.max_t
        self._arrivals = 0
        self._top_keys: list[tuple[float, int]] = []  # (±value at L_k, arrival), best first
        self._prev_keys: list[tuple[float, int]] = []  # (±value at L_{k-1}, arrival), best first
        self._top_prev = np.empty(0)  # ±value at L_{k-1} in the order of ``_top_keys``
        self._prev_values = np.empty(0)  # ±value at L_{k-1} in the order of ``_prev_keys``
        self._required = 0.0  # max_i |v_{k-1}(top_i) - v_{k-1}(prev_i)|
        # noise_pairs="top_rung": the trials in the top rung and the noisy pairs' sorted distances
        self._top_count = 0
        self._top_columns = np.zeros(0, dtype=np.int64)
        self._top_ids = np.zeros(0, dtype=np.int64)
        self._top_distances = np.empty(0)
        # noise_pairs="all": trials that ran past L_{k-1} ("members"), their pairs' states, noisy pairs
        self._members = 0
        self._member_of: dict[int, int] = {}  # column -> member
        self._member_columns = np.zeros(0, dtype=np.int64)
        self._member_epoch = np.zeros(0, dtype=np.int64)  # highest epoch reached
        self._pair_state = np.zeros((0, 0), dtype=np.uint8)
        self._partners: dict[int, dict[int, float]] = {}  # member -> noisy partner -> distance
        self._distances: list[float] = []  # sorted distances of the noisy pairs

    def _rank(self, trial_id: int, value: float) -> None:
        """Insert a trial that reached the top rung into both rankings; update the required ε."""
        sign = self._sign
        previous = sign * self._at_level[self._k - 1][trial_id]
        self._arrivals += 1
        top_key, prev_key = (sign * value, self._arrivals), (previous, self._arrivals)
        i = bisect.bisect_right(self._top_keys, top_key)
        j = bisect.bisect_right(self._prev_keys, prev_key)
        self._top_keys.insert(i, top_key)
        self._prev_keys.insert(j, prev_key)
        count = len(self._top_keys)
        self._top_prev = _grown(self._top_prev, count)
        self._prev_values = _grown(self._prev_values, count)
        for values, position in ((self._top_prev, i), (self._prev_values, j)):
            values[position + 1 : count] = values[position : count - 1]
            values[position] = previous
        if count >= 2:
            self._required = float(np.abs(self._top_prev[:count] - self._prev_values[:count]).max())

    def _increase(self) -> None:
        self.num_increases += 1
        self.increase_reports.append(self._num_reports)
        if self._k < len(self.levels) - 1:
            self._k += 1
            self.current_max_t = self.levels[self._k]
        else:
            self.current_max_t = self.max_t
            self.tracking = False
            self._curves = np.empty((0, 0))  # no longer needed
        self._reset_window()

    # Noise estimate ------------------------------------------------------------------------------
    def _record(self, trial_id: int, epoch: int, loss: float, update_pairs: bool) -> None:
        """Keep the trial's ``loss`` (the metric, negated for mode "max": curves cross the same way in both modes)."""
        column = self._columns.get(trial_id)
        if column is None:
            column = len(self._columns)
            self._curves = _grown(self._curves, column + 1, np.nan)
            self._columns[trial_id] = column
        self._curves[epoch - 1, column] = loss
        if update_pairs:
            self._update_pairs(column, epoch)

    def _add_top_pairs(self, trial_id: int) -> None:
        """``noise_pairs="top_rung"``: pair the trial that reached the top rung ``L_k`` with every trial
        already there (compared at ``e = L_k``); add the noisy pairs' distances; update ε."""
        column = self._columns[trial_id]
        count = self._top_count
        if count:
            epoch = self._top
            difference = self._curves[:epoch, self._top_columns[:count]] - self._curves[:epoch, column, None]
            # s_t = [v_a(t) > v_b(t)], ``a`` the earlier trial: the sign of v_other - v_own, flipped when own is ``a``
            order = difference * np.where(self._top_ids[:count] > trial_id, -1.0, 1.0) > 0
            noisy = _noisy(order)
            if noisy.any():
                self._top_distances = _merged(self._top_distances, np.sort(np.abs(difference[-1, noisy])))
                self.epsilon = float(quantile_linear(self._top_distances, self.noise_quantile))
        self._top_columns = _grown(self._top_columns, count + 1)
        self._top_ids = _grown(self._top_ids, count + 1)
        self._top_columns[count] = column
        self._top_ids[count] = trial_id
        self._top_count = count + 1

    def _update_pairs(self, column: int, epoch: int) -> None:
        """``noise_pairs="all"``: ``column`` reached ``epoch`` in ``(L_{k-1}, L_k]``; its pairs with every
        trial past ``L_{k-1}`` that reached ``epoch`` too are now compared at ``epoch``; then ε.

        A pair's comparison epoch rises one epoch at a time, so each pair keeps the state of its order
        sequence (``_pair_state``); the epochs up to ``L_{k-1}`` are scanned once, when a trial enters
        ``(L_{k-1}, L_k]``. A noisy pair stays noisy at every later epoch (its curves crossed twice
        before), so the set of noisy pairs only grows; their distances change. The pair's ``a`` is the
        trial that entered first.
        """
        entering = epoch == self._bottom + 1
        if entering:
            member = self._members
            self._members += 1
            if member == len(self._member_columns):
                self._grow_members()
            self._member_columns[member] = column
            self._member_of[column] = member
        else:
            member = self._member_of[column]
        others = np.flatnonzero(self._member_epoch[: self._members] >= epoch)
        self._member_epoch[member] = epoch
        if not others.size:
            return
        curves = self._curves
        columns = self._member_columns[others]
        own = curves[epoch - 1, column]
        theirs = curves[epoch - 1, columns]
        later = others > member  # the reporting trial is the pair's ``a``
        order = np.where(later, own > theirs, theirs > own)  # s_e
        if entering:
            own_prefix, their_prefix = curves[: epoch - 1, column, None], curves[: epoch - 1, columns]
            state = _order_state(np.where(later, own_prefix > their_prefix, their_prefix > own_prefix))
        else:
            state = self._pair_state[member, others]
        index = 2 * state + order
        noisy = _NOISY[index]
        state = _NEXT[index]
        self._pair_state[member, others] = state
        self._pair_state[others, member] = state
        if not noisy.any():
            return
        partners = self._partners
        mine = partners.setdefault(member, {})
        distances = self._distances
        for other, distance in zip(others[noisy].tolist(), np.abs(theirs[noisy] - own).tolist(), strict=True):
            old = mine.get(other)
            if old is not None:
                if old == distance:
                    continue
                del distances[bisect.bisect_left(distances, old)]
            bisect.insort(distances, distance)
            mine[other] = distance
            partners.setdefault(other, {})[member] = distance
        self.epsilon = quantile_linear(distances, self.noise_quantile)

    def _grow_members(self) -> None:
        count = len(self._member_columns)
        capacity = max(64, 2 * count)
        state = np.zeros((capacity, capacity), dtype=np.uint8)
        state[:count, :count] = self._pair_state
        self._pair_state = state
        self._member_columns = _grown(self._member_columns, capacity)
        self._member_epoch = _grown(self._member_epoch, capacity)

"""Synchronous successive halving and synchronous Hyperband (pause and resume, with checkpoints).

Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization" (JMLR 2018), scheduled
as the seed documentation describes Syne Tune's ``SynchronousHyperbandScheduler``:

- Rung levels ``grace_period * reduction_factor**k`` below ``max_t`` (``methods.rungs.rung_levels``), then
  ``max_t``. Bracket ``s`` (``s = 0 .. brackets - 1``) has the levels from the ``s``-th on; its rung sizes
  (number of slots) are ``hyperband_bracket_sizes`` (NASBench-201, ``max_t=200``: bracket 0 has
  243, 81, 27, 9, 3, 1 slots at 1, 3, 9, 27, 81, 200; the first rungs of brackets 0..5 have 243, 98, 41, 18,
  9, 6 slots).
- The slots of a bracket's first rung get new configurations from the searcher. When every slot of a rung
  holds a result (the rung is complete: the synchronisation point), the best ``size of the next rung`` trials
  of that rung (ties: the earlier slot) fill the next rung's slots, best first; a free worker resumes them
  from their checkpoint up to the next level.
- Brackets are created in the order ``s = 0, 1, ..., brackets - 1, 0, 1, ...``. A free worker takes the next
  free slot of the oldest active bracket; if every remaining slot of that bracket's current rung is pending,
  it tries the next active bracket, and if no active bracket has a free slot it opens a new one. Workers
  are never idle while some bracket could take work.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from methods.base import PAUSE, STOP, Action, Decision, Scheduler, Suggestion
from methods.rungs import bracket_count, hyperband_bracket_sizes
from methods.rungs import rung_levels as compute_rung_levels
from methods.searchers import Searcher, searcher_or_random
from searchspace import Config, SearchSpace

#: sort key of a failed trial: ranked after every real value
WORST = math.inf
#: largest rung size accepted (linear or long explicit rung levels would need astronomically many slots)
MAX_RUNG_SIZE = 1_000_000


class Bracket:
    """One bracket: its rung levels and sizes, and the slots of its current rung.

    ``trials[i]`` is the trial assigned to slot ``i`` of the current rung (None: free, needs a new
    configuration); ``keys[i]`` its result as a sort key (smaller is better; None: no result yet). Slots
    ``< next_free`` have been handed out. ``rung == len(levels)`` once the bracket is complete.
    """

    __slots__ = ("index", "offset", "levels", "sizes", "rung", "trials", "keys", "next_free", "filled", "cache")

    def __init__(self, index: int, offset: int, levels: list[int], sizes: list[int]) -> None:
        self.index = index
        self.offset = offset
        self.levels = levels
        self.sizes = sizes
        self.rung = 0
        self.trials: list[int | None] = [None] * sizes[0]
        self.keys: list[float | None] = [None] * sizes[0]
        self.next_free = 0
        self.filled = 0
        self.cache: Any = None  # per-rung data of a subclass (e.g. DEHB's parent pool); reset per rung

    @property
    def level(self) -> int:
        return self.levels[self.rung]

    @property
    def is_complete(self) -> bool:
        return self.rung >= len(self.levels)

    def has_free_slot(self) -> bool:
        return not self.is_complete and self.next_free < self.sizes[self.rung]

    def top_trials(self, count: int) -> list[int]:
        """The ``count`` best trials of the (complete) current rung, best first; ties: earlier slot."""
        keys = self.keys
        order = sorted(range(len(keys)), key=lambda i: (keys[i], i))
        return [self.trials[i] for i in order[:count]]

    def describe(self) -> dict[str, Any]:
        return {
            "bracket": self.index,
            "offset": self.offset,
            "rung_level": self.level if not self.is_complete else None,
            "slots": self.sizes[self.rung] if not self.is_complete else 0,
            "handed_out": self.next_free,
            "filled": self.filled,
        }


class SyncHyperband(Scheduler):
    """Synchronous Hyperband with pause and resume (see the module docstring).

    Args:
        space: search space.
        metric: metric to optimise.
        mode: "min" or "max".
        max_t: largest epoch (trials complete there).
        seed: seed of the default searcher.
        grace_period: ``r_min``, the first rung level (default 1).
        reduction_factor: ``eta`` (default 3, >= 2); None for linear levels with ``rung_increment``. The rung
            sizes always follow the geometric formula with ``eta`` (3 when None).
        brackets: number of brackets (default None: the maximum, one more than the number of rung levels
            below ``max_t``; 1 is synchronous successive halving).
        rung_levels: explicit rung levels; overrides ``grace_period``/``reduction_factor`` spacing.
        rung_increment: spacing of linear rung levels (only with ``reduction_factor=None``).
        restrict_configurations: new configurations are drawn only from these.
        points_to_evaluate: configurations to start first (default: the midpoint of the space).
        searcher: proposes new configurations (default: uniform random, no duplicates).

    Decisions: a trial reaching its rung level is always PAUSEd (a synchronous method cannot decide before
    the rung is complete); the best ones are resumed from their checkpoints later, the others are simply
    never resumed (they stay paused), as a checkpointing synchronous Hyperband does. A trial that failed
    (``on_error``) fills its slot with the worst value; if it is nevertheless among the best of a rung
    (fewer valid results than next-rung slots) its next slot is filled with the worst value at once.

    When no new trial can start (the searcher ran out of configurations, or the caller said no new trial may
    start: ``suggest(None)``, which the simulator says once ``max_trials`` is reached), the current rung of the
    bracket that needs a new configuration is cut to the slots already handed out (its later rungs shrink in
    proportion), so running brackets can still finish. A trial the caller stops (``on_stop``) counts as failed.
    The paused trials of a complete rung that are not promoted are given up (their searcher hears they ended).
    """

    pauses_trials = True

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
        brackets: int | None = None,
        rung_levels: Sequence[int] | None = None,
        rung_increment: int | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        self._set_problem(space, metric, mode, max_t, seed, min_max_t=2)
        self.grace_period = grace_period
        self.reduction_factor = reduction_factor
        self.rung_increment = rung_increment
        self.levels = compute_rung_levels(
            max_t,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            rung_increment=rung_increment,
            levels=rung_levels,
        )
        self.brackets = bracket_count(self.levels, brackets, max_t)
        ratio = reduction_factor if reduction_factor is not None else 3
        self.bracket_sizes = hyperband_bracket_sizes(self.levels, ratio, self.brackets)
        if self.bracket_sizes[0][0] > MAX_RUNG_SIZE:
            raise ValueError(
                f"{len(self.levels)} rung levels below max_t={max_t} give a first rung of {self.bracket_sizes[0][0]} "
                f"slots (reduction_factor {ratio} per level); synchronous Hyperband needs geometric levels: use "
                "fewer rung levels or a larger grace_period"
            )
        all_levels = [*self.levels, max_t]
        self.bracket_levels = [all_levels[s:] for s in range(self.brackets)]
        self.searcher = searcher_or_random(
            space,
            searcher,
            seed=seed,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
        self._sign = 1.0 if self.mode == "min" else -1.0
        self._active: list[Bracket] = []  # not complete, in creation order (the first is the primary)
        self._pending: dict[int, tuple[Bracket, int]] = {}  # trial -> (bracket, slot) it is running for
        self._failed: set[int] = set()
        self._no_new_trials = False  # the caller said no new trial may start
        self._configs_exhausted = False  # the searcher has nothing left
        self._opened = 0
        self._completed = 0
        self._dropped = 0
        self._starts = 0
        self._resumes = 0

    # Contract ------------------------------------------------------------------------------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        if new_trial_id is None:
            self._no_new_trials = True
        active = self._active
        position = 0
        while True:
            if position < len(active):
                bracket = active[position]
            elif self._can_open_bracket():
                bracket = self._open_bracket()
            else:
                return None
            suggestion = self._job_in(bracket, new_trial_id)
            if suggestion is not None:
                return suggestion
            if position < len(active) and active[position] is bracket:
                position += 1  # else the bracket completed (or was dropped) and left the list

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        entry = self._pending.get(trial_id)
        if entry is None:
            return STOP
        bracket, slot = entry
        level = bracket.levels[bracket.rung]
        if epoch < level:
            return Decision(Action.CONTINUE, level)
        decision = self._decision(bracket)
        self._result(trial_id, bracket, slot, metrics[self.metric])
        return decision

    def _on_complete(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        entry = self._pending.get(trial_id)
        if entry is not None:
            self._result(trial_id, entry[0], entry[1], metrics[self.metric])

    def _on_stop(self, trial_id: int) -> None:
        self._on_error(trial_id, 0)

    def _on_error(self, trial_id: int, epoch: int) -> None:
        self._failed.add(trial_id)
        entry = self._pending.pop(trial_id, None)
        if entry is not None:
            self._trial_failed(trial_id, entry[0])
            self._record(entry[0], entry[1], WORST)

    # Schedule ------------------------------------------------------------------------------------
    def schedule_description(self) -> str:
        name = type(self).__name__
        ratio = self.reduction_factor if self.reduction_factor is not None else 3
        lines = [
            f"{name}: synchronous, max_t={self.max_t}, reduction_factor={ratio}, {self.brackets} bracket(s) "
            f"cycled 0..{self.brackets - 1}",
            f"  rung levels: {self.levels} (trials complete at {self.max_t})",
            "  follows Syne Tune 0.13's SynchronousHyperbandScheduler (rung sizes of the Hyperband paper, rounded up)",
            "  bracket | slots@level per rung",
        ]
        for s, (levels, sizes) in enumerate(zip(self.bracket_levels, self.bracket_sizes)):
            pairs = "  ".join(f"{n}@{r}" for n, r in zip(sizes, levels))
            lines.append(f"  {s:>7} | {pairs}")
        return "\n".join(lines)

    def state_summary(self) -> dict[str, Any]:
        return {
            "brackets_opened": self._opened,
            "brackets_completed": self._completed,
            "brackets_cut_short": self._dropped,
            "active_brackets": [bracket.describe() for bracket in self._active],
            "trials_started": self._starts,
            "trials_resumed": self._resumes,
            "trials_failed": len(self._failed),
        }

    # Hooks (DEHB overrides these) ----------------------------------------------------------------
    def _new_config(self, bracket: Bracket, slot: int, trial_id: int) -> Config | None:
        """Configuration of a new trial for a free slot of ``bracket``'s current rung (None: none left)."""
        config = self.searcher.suggest(trial_id)
        if config is None:
            self._configs_exhausted = True
        return config

    def _next_rung_trials(self, bracket: Bracket, size: int) -> list[int | None]:
        """Trials of the next rung when the current one is complete: the best ``size`` ones."""
        return bracket.top_trials(size)

    def _can_open_bracket(self) -> bool:
        return not (self._no_new_trials or self._configs_exhausted)

    def _decision(self, bracket: Bracket) -> Decision:
        """Answer to a trial reaching its rung level in ``bracket``."""
        return PAUSE

    def _trial_result(self, trial_id: int, bracket: Bracket, key: float) -> None:
        """``trial_id`` reached the level of ``bracket``'s current rung with sort key ``key``."""

    def _trial_failed(self, trial_id: int, bracket: Bracket) -> None:
        """``trial_id``, running for ``bracket``'s current rung, failed."""

    def _trial_resumed(self, trial_id: int, bracket: Bracket) -> None:
        """``trial_id`` is resumed towards the level of ``bracket``'s current rung."""

    # Brackets ------------------------------------------------------------------------------------
    def _open_bracket(self) -> Bracket:
        offset = self._opened % self.brackets
        bracket = Bracket(self._opened, offset, self.bracket_levels[offset], list(self.bracket_sizes[offset]))
        self._opened += 1
        self._active.append(bracket)
        return bracket

    def _job_in(self, bracket: Bracket, new_trial_id: int | None) -> Suggestion | None:
        """Hand out the next free slot of ``bracket``'s current rung, if any."""
        while bracket.has_free_slot():
            slot = bracket.next_free
            trial = bracket.trials[slot]
            if trial is not None:  # promoted: resume from its checkpoint
                bracket.next_free += 1
                if trial in self._failed:
                    self._record(bracket, slot, WORST)
                    continue
                self._pending[trial] = (bracket, slot)
                self._resumes += 1
                self._trial_resumed(trial, bracket)
                return Suggestion.resume(trial, report_at=bracket.level)
            config = None if self._no_new_trials else self._new_config(bracket, slot, new_trial_id)
            if config is None:
                self._cut_rung(bracket)
                continue
            bracket.next_free += 1
            bracket.trials[slot] = new_trial_id
            self._pending[new_trial_id] = (bracket, slot)
            self._starts += 1
            return Suggestion.start(config, report_at=bracket.level)
        return None

    def _result(self, trial_id: int, bracket: Bracket, slot: int, value: float) -> None:
        del self._pending[trial_id]
        key = self._sign * value
        if key != key:  # NaN: ranked last
            key = WORST
        self._trial_result(trial_id, bracket, key)
        self._record(bracket, slot, key)

    def _record(self, bracket: Bracket, slot: int, key: float) -> None:
        bracket.keys[slot] = key
        bracket.filled += 1
        if bracket.filled == bracket.sizes[bracket.rung]:
            self._advance(bracket)

    def _advance(self, bracket: Bracket) -> None:
        """The current rung of ``bracket`` is complete: fill the next rung, or retire the bracket."""
        following = bracket.rung + 1
        bracket.cache = None
        if following == len(bracket.levels):
            bracket.rung = following
            self._retire(bracket)
            self._completed += 1
            return
        size = bracket.sizes[following]
        promoted = self._next_rung_trials(bracket, size)
        kept = set(promoted)
        for trial in bracket.trials:
            if trial is not None and trial not in kept:
                self._give_up(trial)
        bracket.trials = promoted
        bracket.rung = following
        bracket.keys = [None] * size
        bracket.next_free = 0
        bracket.filled = 0

    def _retire(self, bracket: Bracket) -> None:
        self._active.remove(bracket)

    def _cut_rung(self, bracket: Bracket) -> None:
        """No new trial can start: the current rung keeps only the slots handed out so far."""
        kept = bracket.next_free
        if kept == 0:
            bracket.rung = len(bracket.levels)
            self._retire(bracket)
            self._dropped += 1
            return
        rung, sizes = bracket.rung, bracket.sizes
        original = sizes[rung]
        sizes[rung] = kept
        del bracket.trials[kept:]
        del bracket.keys[kept:]
        for later in range(rung + 1, len(sizes)):
            sizes[later] = min(sizes[later - 1], max(1, math.ceil(sizes[later] * kept / original)))
        self._dropped += 1
        if bracket.filled == kept:
            self._advance(bracket)


class SyncSuccessiveHalving(SyncHyperband):
    """Synchronous successive halving: ``SyncHyperband`` with one bracket, the most aggressive one (its
    first rung is ``grace_period``; NASBench-201 with the defaults: 243, 81, 27, 9, 3, 1 slots)."""

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
        rung_levels: Sequence[int] | None = None,
        rung_increment: int | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        super().__init__(
            space,
            metric=metric,
            mode=mode,
            max_t=max_t,
            seed=seed,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            brackets=1,
            rung_levels=rung_levels,
            rung_increment=rung_increment,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
            searcher=searcher,
        )

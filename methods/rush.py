"""RUSH: ASHA that starts with the best configurations of other tasks and lets no trial past a rung where it is
worse than the best of them.

Zappella, Salinas & Archambeau, "A resource-efficient method for repeated HPO and NAS problems" (AutoML workshop
at ICML 2021), as Syne Tune 0.13's ``RUSHScheduler`` documents it ("The best hyperparameter configuration of each
individual task provided is evaluated. The one among them which performs best on the current task will serve as
a hurdle and is used to prune other candidates ... only the top-performing fraction is promoted to the next rung
level. However, these candidates need to be at least as good as the hurdle configuration"). Precisely:

- Threshold configurations: ``custom_rush_points`` (completed with the midpoint where partial), then the
  ``num_hyperparameters_per_task`` (docs default 1) best configurations (by final loss) of each transfer task,
  duplicates removed; with ``restrict_configurations`` only those among the restricted configurations. They start
  first, in that order; then the searcher proposes as usual (its own points to evaluate, by default the midpoint
  of the space, come next: Syne Tune 0.13 evaluates none then, unless given).
- Hurdle: at each rung level ``r``, the best loss that a threshold trial (a trial started with a threshold
  configuration) has reported at ``r`` so far (none until one has).
- ``rule="stopping"`` (Syne Tune's ``rush_stopping``, the default): a threshold trial is judged by ASHA's
  stopping rule alone (its value also sets the hurdle). Any other trial reaching rung ``r`` continues iff ASHA's
  rule keeps it and, once a hurdle exists at ``r``, its loss is at most the hurdle; a trial judged before the
  hurdle existed is not reconsidered.
- ``rule="promotion"`` (``rush_promotion``): a paused trial is promoted from rung ``r`` iff ASHA's promotion rule
  allows it and it is a threshold trial or its loss is at most the hurdle at ``r``; of the paused trials that
  qualify, the best is promoted.

Everything else is ASHA (``methods.asha``; a subclass: ASHA itself is unchanged), including brackets > 1.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from methods.asha import ASHA
from methods.base import STOP, Action, Decision, Suggestion, check_positive_int
from methods.rungs import Rung
from methods.searchers import complete_config
from methods.transfer import TransferTask, check_task_configs, check_transfer_evaluations, config_key
from searchspace import Config, SearchSpace

logger = logging.getLogger(__name__)

NAME = "RUSH"
RULES = ("stopping", "promotion")


class RushRung(Rung):
    """A rung of the promotion rule that also asks a paused trial to clear the hurdle at its level (unless it is a
    threshold trial). ``hurdles`` (level -> loss) and ``leaders`` (the threshold trials) are shared with RUSH."""

    __slots__ = ("hurdles", "leaders")

    def __init__(self, level: int, quantile: float, mode: str, hurdles: dict[int, float], leaders: set[int]) -> None:
        super().__init__(level, quantile, mode)
        self.hurdles = hurdles
        self.leaders = leaders

    def _clears(self, loss: float, trial_id: int) -> bool:
        hurdle = self.hurdles.get(self.level)
        return hurdle is None or loss <= hurdle or trial_id in self.leaders

    def pop_promotable(self) -> int | None:
        if not self._paused or len(self._sorted) < 2:
            return None
        loss, _, trial_id = self._paused[0]
        if loss > self._cutoff:
            return None
        if self._clears(loss, trial_id):
            heapq.heappop(self._paused)
            return trial_id
        for entry in sorted(self._paused)[1:]:  # the best paused trial is blocked: a threshold trial may still go
            if entry[0] > self._cutoff:
                return None
            if self._clears(entry[0], entry[2]):
                self._paused.remove(entry)
                heapq.heapify(self._paused)
                return entry[2]
        return None


class RUSH(ASHA):
    """ASHA with RUSH's threshold configurations and hurdles (see the module docstring).

    Args:
        space: search space (shared by the transfer tasks).
        transfer_evaluations: the other tasks' evaluations (required).
        num_hyperparameters_per_task: best configurations of each task started first (default 1).
        custom_rush_points: more threshold configurations, started before those of the tasks.
        rule: "stopping" (default) or "promotion".
        **kwargs: every other argument of ``ASHA`` (metric, mode, max_t, seed, grace_period, ...).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        transfer_evaluations: Sequence[TransferTask] | None = None,
        num_hyperparameters_per_task: int = 1,
        custom_rush_points: Sequence[Mapping[str, Any]] | None = None,
        rule: Literal["stopping", "promotion"] = "stopping",
        **kwargs: Any,
    ) -> None:
        tasks = check_transfer_evaluations(NAME, transfer_evaluations)
        check_positive_int("num_hyperparameters_per_task", num_hyperparameters_per_task)
        if rule not in RULES:
            raise ValueError(f"{NAME}'s `rule` must be one of {RULES}, got {rule!r}")
        super().__init__(space, rule=rule, **kwargs)
        points = [complete_config(space, point) for point in custom_rush_points or ()]
        for task in tasks:
            configs = task.best_configs(num_hyperparameters_per_task)
            check_task_configs(NAME, space, task, configs)
            points += [{name: config[name] for name in space.names} for config in configs]
        self.rush_points = self._usable(points)
        self._queue = self.rush_points[::-1]  # popped from the end
        self._leaders: set[int] = set()  # trials started with a threshold configuration
        self._hurdles: dict[int, float] = {}  # rung level -> best loss of a threshold trial there
        self._sign = 1.0 if self.mode == "min" else -1.0
        self.num_hurdle_stops = 0
        num_systems = self.brackets if self.rung_system_per_bracket else 1
        self._systems = [
            {
                level: RushRung(level, q, self.mode, self._hurdles, self._leaders)
                for level, q in zip(self.levels[s:], self.quantiles[s:])
            }
            for s in range(num_systems)
        ]

    def _usable(self, points: list[Config]) -> list[Config]:
        """``points`` without repeats and, with restricted configurations, only those among them."""
        names = self.space.names
        distinct: dict[tuple, Config] = {}
        for point in points:
            distinct.setdefault(config_key(names, point), point)
        restricted = self.searcher.restricted_to
        if restricted is None:
            return list(distinct.values())
        allowed = {config_key(names, config) for config in restricted}
        usable = [point for key, point in distinct.items() if key in allowed]
        if len(usable) < len(distinct):
            logger.warning(
                "%s: %d of %d threshold configurations are not among restrict_configurations; skipped",
                NAME,
                len(distinct) - len(usable),
                len(distinct),
            )
        return usable

    # Contract ------------------------------------------------------------------------------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        if new_trial_id is None or not self._queue:
            return super()._suggest(new_trial_id)
        bracket = self._draw_bracket()
        if self.pauses_trials:
            promoted = self._promote(self._system(bracket))
            if promoted is not None:
                return promoted
        config = self._queue.pop()
        mark_seen = getattr(self.searcher, "mark_seen", None)
        if mark_seen is not None:  # a random searcher never proposes it again (model searchers hear on_pending)
            mark_seen(config)
        self._leaders.add(new_trial_id)
        self._trial_bracket[new_trial_id] = bracket
        return Suggestion.start(dict(config), report_at=self._next_milestone(bracket, 0))

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        decision = super()._on_report(trial_id, epoch, metrics)
        bracket = self._trial_bracket[trial_id]
        if epoch not in self._system(bracket) or epoch < self._first_milestone[bracket]:
            return decision  # not at a rung of this trial
        loss = self._sign * metrics[self.metric]
        hurdle = self._hurdles.get(epoch)
        if trial_id in self._leaders:
            if hurdle is None or loss < hurdle:
                self._hurdles[epoch] = loss
        elif self.rule == "stopping" and decision.action is Action.CONTINUE and hurdle is not None and loss > hurdle:
            self.num_hurdle_stops += 1
            return STOP
        return decision

    # Description ---------------------------------------------------------------------------------
    def schedule_description(self) -> str:
        return "\n".join(
            [
                super().schedule_description(),
                f"  RUSH (Syne Tune 0.13's rush_{self.rule}): {len(self.rush_points)} threshold configurations "
                "start first; a trial worse than the best threshold trial at a rung does not go on",
            ]
        )

    def state_summary(self) -> dict[str, Any]:
        return {
            "threshold_configurations": len(self.rush_points),
            "hurdles": {str(level): self._sign * loss for level, loss in sorted(self._hurdles.items())},
            "hurdle_stops": self.num_hurdle_stops,
        }

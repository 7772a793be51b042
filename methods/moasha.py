"""MOASHA: asynchronous successive halving where a rung compares vectors of objectives.

Salinas, Perrone, Archambeau and Cruchant, "A multi-objective perspective on jointly tuning hardware and
hyperparameters" (NAS workshop, ICLR 2021), with the options and defaults of the seed documentation (Syne Tune
0.13's ``MOASHA``: grace period 1, reduction factor 3, one bracket, non-dominated sorting as priority).

The schedule is ASHA's (``methods.asha``, ``rule="stopping"``): the same rung levels, brackets and searcher; only
the test at a rung differs. A trial reaching a rung is compared with every trial recorded there so far (itself
included) under the multi-objective priority (``methods.mo_priority``), which orders the loss vectors (every
objective as a loss: smaller is better): its *rank* is the number of recorded trials strictly ahead of it
(identical vectors share a rank).

- ``stopping_rule="rank"`` (default; the rule the documentation describes for MOASHA): the trial continues iff
  ``rank / n <= 1 / reduction_factor`` (``n`` values recorded at the rung, its own included), i.e. iff it is in the
  top ``1 / eta`` of the rung; the first trial at a rung always continues. The same arithmetic as ASHA's
  ``stopping_rule="rank"``.
- ``stopping_rule="quantile"``: ASHA's 0.13 rule on the priority: continue iff ``rank <= (n - 1) * q_j`` (the
  ``q_j`` quantile, numpy "linear", of the positions ``0 .. n - 1``), and always with fewer than two values.

Priorities (``multiobjective_priority``): "nondominated" (default: fronts of non-dominated sorting, an epsilon-net
order within a front seeded by the lowest first objective) or "linear" (``weights`` times the losses, default 1
each). With the linear priority, or with a single objective (where the non-dominated order is the order of the
loss), a rung is ASHA's own ``Rung`` holding the scalar (the weighted sum or the loss): MOASHA then makes ASHA's
decisions with the same ``stopping_rule`` on that scalar. A report whose objectives are not all finite stops the
trial at a rung and is not recorded there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from methods.asha import ASHA
from methods.base import STOP, Action, Decision
from methods.mo_priority import LinearScalarizationPriority, Priority, make_priority
from methods.rungs import Rung
from searchspace import SearchSpace


class ParetoRung:
    """Loss vectors recorded at one rung level; tests a newcomer's rank under a ``Priority``."""

    __slots__ = ("level", "quantile", "priority", "_points", "_count")

    def __init__(self, level: int, quantile: float, priority: Priority, num_objectives: int) -> None:
        self.level = level
        self.quantile = quantile
        self.priority = priority
        self._points = np.empty((16, num_objectives))
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def points(self) -> np.ndarray:
        """The recorded loss vectors, in arrival order."""
        return self._points[: self._count]

    def _record(self, losses: np.ndarray) -> int:
        """Record ``losses``; returns its rank among every vector recorded (its own included)."""
        if self._count == len(self._points):
            self._points = np.vstack([self._points, np.empty_like(self._points)])
        self._points[self._count] = losses
        self._count += 1
        return self.priority.rank_of_last(self.points) if self._count > 1 else 0

    def admits(self, losses: np.ndarray) -> bool:
        """Record ``losses``; the quantile rule on the rank (always True with fewer than two values)."""
        rank = self._record(losses)
        return self._count < 2 or rank <= (self._count - 1) * self.quantile

    def admits_by_rank(self, losses: np.ndarray, fraction: float) -> bool:
        """Record ``losses``; True iff at most ``fraction`` of the rung is strictly ahead of it."""
        rank = self._record(losses)
        return rank / self._count <= fraction


class MOASHA(ASHA):
    """Multi-objective ASHA (see the module docstring).

    Args:
        space, metric, mode, max_t, seed: as for every scheduler; ``metric`` names the objectives (one or more),
            ``mode`` is one mode for all or one per objective.
        multiobjective_priority: "nondominated" (default) or "linear".
        weights: with "linear", one positive weight per objective (default 1 each).
        stopping_rule: "rank" (default, MOASHA's rule) or "quantile" (ASHA 0.13's rule on the priority).
        asha_options: ASHA's schedule and searcher options (``grace_period`` 1, ``reduction_factor`` 3, ``brackets``
            1, ``rung_levels``, ``searcher``, ``restrict_configurations``, ``points_to_evaluate``, ...); the rule is
            always "stopping".
    """

    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str | Sequence[str],
        mode: str | Sequence[str] = "min",
        max_t: int,
        seed: int = 0,
        multiobjective_priority: Literal["nondominated", "linear"] = "nondominated",
        weights: Sequence[float] | None = None,
        stopping_rule: Literal["quantile", "rank"] = "rank",
        **asha_options: Any,
    ) -> None:
        rule = asha_options.pop("rule", "stopping")
        if rule != "stopping":
            raise ValueError(f"MOASHA stops trials at rungs (rule='stopping'); it cannot use rule={rule!r}")
        super().__init__(
            space, metric=metric, mode=mode, max_t=max_t, seed=seed, stopping_rule=stopping_rule, **asha_options
        )
        count = self.objectives.count
        self.priority = make_priority(multiobjective_priority, weights, count)
        self._scalar = isinstance(self.priority, LinearScalarizationPriority) or count == 1
        self._weights = self.priority.weights if isinstance(self.priority, LinearScalarizationPriority) else None
        # ASHA's rung systems (levels, quantiles, brackets) with rungs that test the priority
        self._systems = [
            {level: self._make_rung(level, rung.quantile) for level, rung in system.items()} for system in self._systems
        ]

    def _make_rung(self, level: int, quantile: float) -> Rung | ParetoRung:
        if self._scalar:
            return Rung(level, quantile, "min")
        return ParetoRung(level, quantile, self.priority, self.objectives.count)

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        bracket = self._trial_bracket[trial_id]
        rung = self._system(bracket).get(epoch)
        if rung is not None and epoch >= self._first_milestone[bracket]:
            losses = self.losses(metrics)
            if not np.all(np.isfinite(losses)):
                return STOP
            value = losses if not self._scalar else self._scalarize(losses)
            fraction = self._rank_fraction
            if not (rung.admits(value) if fraction is None else rung.admits_by_rank(value, fraction)):
                return STOP
        return Decision(Action.CONTINUE, self._next_milestone(bracket, epoch))

    def _scalarize(self, losses: np.ndarray) -> float:
        """The loss (one objective) or the weighted sum of the losses (linear priority)."""
        return float(losses[0]) if self._weights is None else float(losses @ self._weights)

    def schedule_description(self) -> str:
        lines = super().schedule_description().splitlines()
        lines[0] = f"MOASHA (stopping rule) over {list(self.metrics)}, modes {list(self.modes)}, max_t={self.max_t}"
        if self.stopping_rule == "rank":
            eta = self.reduction_factor
            lines[2] = f"  stop iff the fraction of the rung strictly ahead under the priority > 1/{eta:g}"
        else:
            lines[2] = "  stop iff the rank under the priority > (n - 1) x the promotion quantile: " + ", ".join(
                f"{q:.4g}" for q in self.quantiles
            )
        lines[3] = f"  priority: {self.priority.describe()}; follows Syne Tune 0.13's MOASHA"
        return "\n".join(lines)

    def state_summary(self) -> dict[str, Any]:
        return {"recorded_per_rung": {str(level): len(rung) for level, rung in self._systems[0].items()}}

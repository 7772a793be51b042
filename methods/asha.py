"""Asynchronous successive halving (ASHA) and asynchronous Hyperband.

Li et al., "A System for Massively Parallel Hyperparameter Tuning" (MLSys 2020), with the rules and
defaults of the seed documentation (Syne Tune's HyperbandScheduler): rung levels
``grace_period * reduction_factor**k`` below ``max_t``; at rung ``r_j`` the promotion quantile is
``q_j = r_j / r_{j+1}`` (``r_{J} = max_t``), i.e. ``1 / reduction_factor`` on a geometric schedule.

- ``rule="stopping"``: a trial reaching a rung is compared with every value recorded there so far
  (its own included); it continues iff its value is at least as good as the ``q_j`` quantile
  (numpy "linear" quantile), else it is stopped. With fewer than two values it continues.
- ``rule="promotion"``: a trial reaching a rung pauses there. A free worker scans rungs from the
  highest down and resumes the best paused trial of the first rung where that trial is at least as
  good as the rung's ``q_j`` quantile (rungs with fewer than two values promote nobody); if none
  qualifies, a new trial starts.
- ``rule="cost_promotion"``: the promotion rule with Syne Tune's cost-aware promotion condition
  (``CostPromotionRungSystem``, see ``methods.rungs.CostRung``): a paused trial of rank ``k`` (by metric,
  best first) at a rung may be promoted iff the summed costs of the trials ranked ``1..k`` are at most
  ``q_j`` times the summed costs of all trials that reached the rung. The cost is read from the reported
  metrics under ``cost_attr`` (default ``elapsed_time``) and must be the total cost of reaching the rung
  (the tables' ``elapsed_time`` is).
- ``brackets > 1`` (asynchronous Hyperband): each new trial draws a bracket ``s`` with probability
  proportional to the first-rung size of bracket ``s`` in synchronous Hyperband (or as its searcher says, if
  the searcher adapts brackets: Hyper-Tune); its first rung is
  then the ``s``-th level (bracket ``len(levels)`` runs straight to ``max_t``). Trials of all brackets
  share one rung system unless ``rung_system_per_bracket=True``. The probabilities are the documented
  ones (tutorial: "this distribution is proportional to the rung sizes in synchronous Hyperband ...
  P(r_min) = [1:243/415, 3:98/415, 9:41/415, 27:18/415, 81:9/415, 200:6/415]"), i.e. the rounded-up
  sizes ``ceil((s_max + 1) / (s_max - s + 1) * eta**(s_max - s))``, with ``s_max`` the number of rung levels
  below ``max_t``. Syne Tune 0.13's source (``DefaultHyperbandBracketDistribution``) uses the unrounded
  ``S / ((S - s) * r_s)`` over its rung levels with ``max_t`` appended (``r_0 .. r_{S-1}``, ``S = s_max + 1``):
  the same brackets and, for max_t = 200, P = [.5855, .2342, .0976, .0434, .0217, .0176] against our
  [.5855, .2361, .0988, .0434, .0217, .0145]: within 0.31 percentage points.

Which rule (Syne Tune 0.13, the version the seed documentation describes, unless an option says otherwise):
the stopping rule above is 0.13's quantile rule; Syne Tune 0.16 replaced it by a rank rule, offered here as
``stopping_rule="rank"``: a trial reaching a rung continues iff the fraction of the values recorded there
(its own included) that are strictly better than its own is at most ``1 / reduction_factor`` at every rung
(with 3 values and eta = 3 the two best continue, where the quantile rule keeps one). 0.16 also keeps one rung
system per bracket (``rung_system_per_bracket=True`` here) and draws brackets with probabilities proportional to
``exp(number of rungs)``, which is not offered. Promotion and cost-aware promotion follow 0.13 (0.16 has neither).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from methods.base import (
    PAUSE,
    STOP,
    Action,
    Decision,
    Scheduler,
    Suggestion,
)
from methods.rungs import (
    CostRung,
    Rung,
    bracket_count,
    bracket_probabilities,
    hyperband_bracket_sizes,
    promotion_quantiles,
)
from methods.rungs import rung_levels as compute_rung_levels
from methods.searchers import Searcher, searcher_or_random
from searchspace import Config, SearchSpace

RULES = ("stopping", "promotion", "cost_promotion")
STOPPING_RULES = ("quantile", "rank")


class ASHA(Scheduler):
    """Asynchronous successive halving; asynchronous Hyperband with ``brackets > 1``.

    Args:
        space: search space.
        metric: metric to optimise.
        mode: "min" or "max".
        max_t: largest epoch (trials complete there).
        seed: seed for the searcher and the bracket draws.
        grace_period: ``r_min``, the first rung level (default 1).
        reduction_factor: ``eta`` (default 3, >= 2); None for linear spacing with ``rung_increment``.
        rung_increment: spacing of linear rung levels (only with ``reduction_factor=None``).
        rung_levels: explicit rung levels; overrides the three above.
        rule: "stopping" (default), "promotion" or "cost_promotion".
        brackets: number of Hyperband brackets (default 1: successive halving; None: the maximum,
            one more than the number of rung levels).
        rung_system_per_bracket: trials compete only within their own bracket.
        restrict_configurations: if given, new trials are drawn only from these configurations.
        points_to_evaluate: configurations to start first (default: the midpoint of the space).
        searcher: proposes new configurations (default: uniform random, no duplicates).
        cost_attr: with ``rule="cost_promotion"``, the reported metric holding the total cost of a trial
            so far (default "elapsed_time").
        stopping_rule: with ``rule="stopping"``, "quantile" (Syne Tune 0.13, default) or "rank" (Syne Tune 0.16;
            needs a ``reduction_factor``); see the module docstring.
        clip_brackets: use at most as many brackets as the rung levels allow instead of refusing more (for a
            registered method that names a number of brackets, e.g. HYPERTUNE4-INDEP, on a short schedule).
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
        rule: Literal["stopping", "promotion", "cost_promotion"] = "stopping",
        brackets: int | None = 1,
        rung_system_per_bracket: bool = False,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        searcher: Searcher | None = None,
        cost_attr: str = "elapsed_time",
        stopping_rule: Literal["quantile", "rank"] = "quantile",
        clip_brackets: bool = False,
    ) -> None:
        if rule not in RULES:
            raise ValueError(f"The value of `rule` is {rule!r}, but must be one of {RULES}")
        if stopping_rule not in STOPPING_RULES:
            raise ValueError(f"The value of `stopping_rule` is {stopping_rule!r}, but must be one of {STOPPING_RULES}")
        if stopping_rule == "rank" and (rule != "stopping" or reduction_factor is None):
            raise ValueError(
                "stopping_rule='rank' (Syne Tune 0.16) applies to rule='stopping' with a reduction_factor, but got "
                f"rule={rule!r}, reduction_factor={reduction_factor!r}"
            )
        self._set_problem(space, metric, mode, max_t, seed, min_max_t=2)
        self.grace_period = grace_period
        self.reduction_factor = reduction_factor
        self.rung_increment = rung_increment
        self.rule = rule
        self.stopping_rule = stopping_rule
        self._rank_fraction = 1 / reduction_factor if stopping_rule == "rank" else None
        self.cost_attr = cost_attr
        self.rung_system_per_bracket = rung_system_per_bracket
        self.levels = compute_rung_levels(
            max_t,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            rung_increment=rung_increment,
            levels=rung_levels,
        )
        if clip_brackets and brackets is not None:
            brackets = min(brackets, len(self.levels) + 1)
        self.brackets = brackets = bracket_count(self.levels, brackets, max_t)
        self.quantiles = promotion_quantiles(self.levels, max_t)
        self.searcher = searcher_or_random(
            space,
            searcher,
            seed=seed,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
        self.pauses_trials = rule != "stopping"
        ratio = reduction_factor if reduction_factor is not None else 3
        self.bracket_probabilities = bracket_probabilities(self.levels, ratio, brackets) if brackets > 1 else [1.0]
        self._cumulative = list(itertools.accumulate(self.bracket_probabilities))
        self._rng = np.random.default_rng([seed, 1])
        self._uniforms: list[float] = []
        num_systems = brackets if rung_system_per_bracket else 1
        rung_type = CostRung if rule == "cost_promotion" else Rung
        # One rung system = dict level -> Rung, for the levels from that system's first bracket on.
        self._systems = [
            {level: rung_type(level, q, self.mode) for level, q in zip(self.levels[s:], self.quantiles[s:])}
            for s in range(num_systems)
        ]
        self._first_milestone = [*self.levels, max_t]
        self._trial_bracket: dict[int, int] = {}

    # Contract ------------------------------------------------------------------------------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        bracket = self._draw_bracket()
        if self.pauses_trials:
            promoted = self._promote(self._system(bracket))
            if promoted is not None:
                return promoted
        if new_trial_id is None:
            return None
        config = self.searcher.suggest(new_trial_id)
        if config is None:
            return None
        self._trial_bracket[new_trial_id] = bracket
        return Suggestion.start(config, report_at=self._next_milestone(bracket, 0))

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        bracket = self._trial_bracket[trial_id]
        rung = self._system(bracket).get(epoch)
        if rung is None or epoch < self._first_milestone[bracket]:
            return Decision(Action.CONTINUE, self._next_milestone(bracket, epoch))
        value = metrics[self.metric]
        if self.rule == "promotion":
            rung.pause(trial_id, value)
            return PAUSE
        if self.rule == "cost_promotion":
            cost = metrics.get(self.cost_attr)
            if cost is None:
                raise ValueError(
                    f"{type(self).__name__} with rule='cost_promotion' reads the cost of a trial from the reported "
                    f"metric {self.cost_attr!r}, but trial {trial_id} reported only {sorted(metrics)} at epoch "
                    f"{epoch}; pass the name of a reported cost as `cost_attr`"
                )
            rung.pause(trial_id, value, cost)
            return PAUSE
        fraction = self._rank_fraction
        if rung.admits(value) if fraction is None else rung.admits_by_rank(value, fraction):
            return Decision(Action.CONTINUE, self._next_milestone(bracket, epoch))
        return STOP

    # Schedule ------------------------------------------------------------------------------------
    def schedule_description(self) -> str:
        rule = f"{self.rule} rule, cost {self.cost_attr!r}" if self.rule == "cost_promotion" else f"{self.rule} rule"
        if self.rule == "stopping" and self.stopping_rule == "rank":
            thresholds = f"  stop iff the fraction of strictly better values at the rung > 1/{self.reduction_factor:g}"
            version = "Syne Tune 0.16's rank rule (0.13's quantile rule: stopping_rule='quantile')"
        else:
            thresholds = "  promotion quantiles: " + ", ".join(f"{q:.4g}" for q in self.quantiles)
            version = "Syne Tune 0.13's rule" + (
                " (0.16's rank rule: stopping_rule='rank')" if self.rule == "stopping" else " (0.16 has no promotion)"
            )
        lines = [
            f"{type(self).__name__} ({rule}), max_t={self.max_t}",
            f"  rung levels: {self.levels} (trials complete at {self.max_t})",
            thresholds,
            f"  follows {version}",
        ]
        if self.brackets > 1:
            ratio = self.reduction_factor if self.reduction_factor is not None else 3
            sizes = hyperband_bracket_sizes(self.levels, ratio, self.brackets)
            system = "one rung system per bracket" if self.rung_system_per_bracket else "shared rung system"
            lines.append(
                f"  brackets: {self.brackets} ({system}); P(bracket) proportional to sync Hyperband sizes (Syne Tune "
                "0.13; 0.16 uses exp(number of rungs) and one rung system per bracket)"
            )
            all_levels = self.levels + [self.max_t]
            for s, (p, rung_sizes) in enumerate(zip(self.bracket_probabilities, sizes)):
                pairs = ", ".join(f"{n}@{r}" for n, r in zip(rung_sizes, all_levels[s:]))
                lines.append(f"    bracket {s}: r_min={all_levels[s]}, P={p:.4f}, sync sizes {pairs}")
        return "\n".join(lines)

    # Helpers -------------------------------------------------------------------------------------
    def _next_milestone(self, bracket: int, epoch: int) -> int:
        """First rung level of the trial's bracket above ``epoch``, else ``max_t``."""
        position = max(bisect.bisect_right(self.levels, epoch), bracket)
        return self.levels[position] if position < len(self.levels) else self.max_t

    def _draw_bracket(self) -> int:
        if self.brackets == 1:
            return 0
        if not self._uniforms:
            self._uniforms = self._rng.random(256).tolist()
            self._uniforms.reverse()
        u = self._uniforms.pop()
        cumulative = self._cumulative
        if self.searcher.adapts_brackets:
            first_levels = [*self.levels, self.max_t][: self.brackets]
            probabilities = self.searcher.bracket_distribution(self.bracket_probabilities, first_levels)
            cumulative = list(itertools.accumulate(probabilities))
        return min(bisect.bisect_right(cumulative, u), self.brackets - 1)

    def _system(self, bracket: int) -> dict[int, Rung]:
        return self._systems[bracket if self.rung_system_per_bracket else 0]

    def _promote(self, system: dict[int, Rung]) -> Suggestion | None:
        """Resume the best qualifying paused trial of the highest rung that has one."""
        for level in reversed(system):
            trial_id = system[level].pop_promotable()
            if trial_id is not None:
                bracket = self._trial_bracket[trial_id]
                return Suggestion.resume(trial_id, report_at=self._next_milestone(bracket, level))
        return None


class Hyperband(ASHA):
    """Asynchronous Hyperband: ASHA with, by default, the promotion rule and the maximum number of
    brackets (one per rung level plus the bracket that runs straight to ``max_t``); a new trial's bracket
    is drawn from the documented distribution (see the module docstring), all brackets share one rung
    system unless ``rung_system_per_bracket=True``. Every other argument is ASHA's.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        rule: Literal["stopping", "promotion", "cost_promotion"] = "promotion",
        brackets: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(space, rule=rule, brackets=brackets, **kwargs)

"""DyHPO (Wistuba, Kadra & Grabocka, "Supervising the Multi-Fidelity Race of Hyperparameter Configurations",
NeurIPS 2022) as the seed documentation defines it (Syne Tune 0.13's ``DyHPO``, a hybrid with successive halving).

- Rung levels are linearly spaced: ``grace_period + k · rung_increment`` below ``max_t`` (defaults 1 and 2:
  1, 3, 5, ...); a trial pauses at every rung level.
- When a worker is free, a coin lands 1 with probability ``probability_sh`` (default 0.25): then the
  asynchronous successive-halving promotion rule is tried first, with promotion quantiles ``r_k / r_{k+1}``
  adjusted to the linear spacing; the best qualifying paused trial of the highest rung is resumed.
- Otherwise, or if nobody qualifies, the model decides (``GPSearcher.choose_resume_or_new``): every paused
  trial is scored by expected improvement at the level it would reach next, and ``max(num_init_candidates,
  #paused)`` new configurations by EI at the first level (incumbent: the best result at the level, else the
  best overall); the best score is resumed, or started as a new trial.

The searcher is MOBSTER's GP searcher with the joint model (DyHPO must extrapolate to levels without data, so
the independent model is refused) and ``opt_skip_period=3`` (the documented DyHPO default). The published method
has ``probability_sh = 0`` and a deep-kernel GP; the differences are the documentation's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from methods.base import PAUSE, Action, Decision, Scheduler, Suggestion
from methods.bayesopt import GPSearcher
from methods.rungs import Rung, promotion_quantiles
from methods.rungs import rung_levels as compute_rung_levels
from methods.searcher import Searcher
from searchspace import Config, SearchSpace

DEFAULT_PROBABILITY_SH = 0.25


class DyHPO(Scheduler):
    """DyHPO: model-based resume-or-start decisions mixed with the successive-halving promotion rule.

    Args:
        space, metric, mode, max_t, seed: as for every scheduler.
        grace_period: the first rung level (default 1).
        rung_increment: spacing of the rung levels (default 2).
        probability_sh: probability of trying the successive-halving promotion rule first (default 0.25).
        searcher: a searcher with ``choose_resume_or_new`` (default: the GP searcher, joint model,
            ``opt_skip_period=3``).
        restrict_configurations, points_to_evaluate, n_workers: passed to the default searcher.
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
        rung_increment: int = 2,
        probability_sh: float = DEFAULT_PROBABILITY_SH,
        searcher: Searcher | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        n_workers: int | None = None,
    ) -> None:
        if not 0.0 <= probability_sh <= 1.0:
            raise ValueError(f"`probability_sh` must lie in [0, 1], got {probability_sh!r}")
        self._set_problem(space, metric, mode, max_t, seed, min_max_t=2)
        self.grace_period = grace_period
        self.rung_increment = rung_increment
        self.probability_sh = probability_sh
        self.levels = compute_rung_levels(
            max_t, grace_period=grace_period, reduction_factor=None, rung_increment=rung_increment
        )
        self.quantiles = promotion_quantiles(self.levels, max_t)
        if searcher is None:
            searcher = GPSearcher(
                space,
                seed=seed,
                model="joint",
                opt_skip_period=3,
                n_workers=n_workers,
                restrict_configurations=restrict_configurations,
                points_to_evaluate=points_to_evaluate,
            )
        elif restrict_configurations is not None or points_to_evaluate is not None:
            raise ValueError("with a given `searcher`, pass restrict_configurations/points_to_evaluate to the searcher")
        if not hasattr(searcher, "choose_resume_or_new"):
            raise ValueError(
                f"DyHPO decides with a model: its searcher must score paused trials against new configurations "
                f"(e.g. the 'gp' searcher), not {type(searcher).__name__}"
            )
        if getattr(searcher, "model", "joint") != "joint":
            raise ValueError(
                "DyHPO extrapolates to levels without data, which the independent model cannot: use model='joint'"
            )
        self.searcher = searcher
        self._rungs = {level: Rung(level, q, self.mode) for level, q in zip(self.levels, self.quantiles)}
        self._paused_at: dict[int, int] = {}  # trial -> the rung level it is paused at
        self._coins = np.random.default_rng([seed, 3])

    def _next_level(self, epoch: int) -> int:
        for level in self.levels:
            if level > epoch:
                return level
        return self.max_t

    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        if self._paused_at and self._coins.random() < self.probability_sh:
            for level in reversed(self._rungs):
                trial_id = self._rungs[level].pop_promotable()
                if trial_id is not None:
                    del self._paused_at[trial_id]
                    return Suggestion.resume(trial_id, report_at=self._next_level(level))
        paused = [(trial_id, self._next_level(level)) for trial_id, level in self._paused_at.items()]
        decision = self.searcher.choose_resume_or_new(paused, new_trial_id, self.levels[0])  # type: ignore[union-attr]
        if decision is None:
            return None
        kind, value = decision
        if kind == "resume":
            level = self._paused_at.pop(value)
            self._rungs[level].withdraw(value)
            return Suggestion.resume(value, report_at=self._next_level(level))
        return Suggestion.start(value, report_at=self.levels[0])

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        rung = self._rungs.get(epoch)
        if rung is None:
            return Decision(Action.CONTINUE, self._next_level(epoch))
        rung.pause(trial_id, metrics[self.metric])
        self._paused_at[trial_id] = epoch
        return PAUSE

    def _on_stop(self, trial_id: int) -> None:
        level = self._paused_at.pop(trial_id, None)
        if level is not None:
            self._rungs[level].withdraw(trial_id)

    def schedule_description(self) -> str:
        return "\n".join(
            [
                f"DyHPO, max_t={self.max_t}",
                f"  rung levels: {self.levels} (linear: grace_period {self.grace_period} + k * {self.rung_increment})",
                f"  with probability {self.probability_sh:g}: successive-halving promotion first (quantiles "
                + ", ".join(f"{q:.3g}" for q in self.quantiles)
                + "); otherwise, or if none qualifies: resume or start by EI of the GP",
                "  follows Syne Tune 0.13's DyHPO (a hybrid with successive halving; not compared with 0.16)",
            ]
        )

"""FIFO scheduling: every trial its searcher proposes runs to ``max_t``; random search is FIFO + random."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from methods.base import Action, Decision, Scheduler, Suggestion
from methods.searchers import Searcher, searcher_or_random
from searchspace import Config, SearchSpace


class FIFOScheduler(Scheduler):
    """Starts the configurations its searcher proposes, in order, and runs each to ``max_t`` (never stops one).

    Args:
        space, metric, mode, max_t, seed: as for every scheduler.
        searcher: proposes configurations (default: ``RandomSearcher`` with the three options below).
        allow_duplicates, restrict_configurations, points_to_evaluate: options of the default searcher
            (only these configurations, e.g. those a table has data for; the midpoint first by default).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: str = "min",
        max_t: int,
        seed: int = 0,
        searcher: Searcher | None = None,
        allow_duplicates: bool = False,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self._set_problem(space, metric, mode, max_t, seed)
        self.allow_duplicates = allow_duplicates
        self.searcher = searcher_or_random(
            space,
            searcher,
            seed=seed,
            allow_duplicates=allow_duplicates,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
        self._to_end = Decision(Action.CONTINUE, max_t)

    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        if new_trial_id is None:
            return None
        config = self.searcher.suggest(new_trial_id)
        if config is None:
            return None
        return Suggestion.start(config, report_at=self.max_t)

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        return self._to_end

    def schedule_description(self) -> str:
        return (
            f"{type(self).__name__}: every trial runs to max_t={self.max_t} (Syne Tune 0.13's FIFOScheduler); "
            f"searcher: {self.searcher.describe()}"
        )

    def state_summary(self) -> dict[str, Any]:
        return self.searcher.state_summary()


class RandomSearch(FIFOScheduler):
    """Random search: FIFO scheduling of configurations drawn uniformly at random (``RandomSearcher``,
    no duplicates by default, the midpoint of the space first)."""

"""Random search: every trial is a fresh random configuration trained to ``max_t``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from methods.base import Action, Decision, Scheduler, Suggestion
from methods.searchers import RandomSearcher, Searcher
from searchspace import Config, SearchSpace


class RandomSearch(Scheduler):
    """Runs configurations drawn by a searcher (default: uniform random) to ``max_t``, never stopping.

    ``allow_duplicates`` and ``restrict_configurations`` (only these configurations, e.g. those a
    table has data for) and ``points_to_evaluate`` (default: the midpoint first) are passed to the
    default ``RandomSearcher``.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: str = "min",
        max_t: int,
        seed: int = 0,
        allow_duplicates: bool = False,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        self._set_problem(space, metric, mode, max_t, seed)
        self.allow_duplicates = allow_duplicates
        self.searcher = searcher or RandomSearcher(
            space,
            seed=seed,
            allow_duplicates=allow_duplicates,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
        self._to_end = Decision(Action.CONTINUE, max_t)

    def suggest(self, new_trial_id: int) -> Suggestion | None:
        config = self.searcher.suggest()
        if config is None:
            return None
        return Suggestion.start(config, report_at=self.max_t)

    def on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        return self._to_end

"""MOREA: regularized evolution with a multi-objective priority (Syne Tune 0.13's
``MultiObjectiveRegularizedEvolution``; registered as ``MOREA``, FIFO scheduling with the ``morea`` searcher).

Everything is regularized evolution's (``methods.rea``: population 100, tournament sample 10 drawn with
replacement, the first ``population_size`` trials random, one hyperparameter mutated, the oldest member leaves,
no configuration proposed twice by default) except what makes a member better than another: the documentation's
"elements in the populations are scored via a multi-objective priority that is set to non-dominated sort by
default. Parents are sampled from the population based on this score". Every result that joins the population
(its loss vector, every objective as a loss) rescores the whole population under the priority
(``methods.mo_priority``): "nondominated" (default; a member's score is its position in the order of non-dominated
fronts, an epsilon-net order within a front) or "linear" (the weighted sum of the losses, ``weights`` default 1
each); the tournament's winner is the member of lowest score. A result with a non-finite objective never joins.
With a single objective the scores order the members as their losses do, so MOREA makes REA's choices.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from methods.mo_priority import make_priority
from methods.objectives import Objectives
from methods.pareto import pareto_front
from methods.rea import RegularizedEvolution
from searchspace import Config, SearchSpace


class MultiObjectiveRegularizedEvolution(RegularizedEvolution):
    """Regularized evolution whose tournaments compare members under a multi-objective priority.

    Args:
        space, seed, population_size, sample_size, points_to_evaluate, restrict_configurations, allow_duplicates:
            as for ``RegularizedEvolution`` (defaults 100 and 10).
        multiobjective_priority: "nondominated" (default) or "linear".
        weights: with "linear", one positive weight per objective (default 1 each).
    """

    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        population_size: int = 100,
        sample_size: int = 10,
        multiobjective_priority: Literal["nondominated", "linear"] = "nondominated",
        weights: Sequence[float] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        allow_duplicates: bool = False,
    ) -> None:
        super().__init__(
            space,
            seed=seed,
            population_size=population_size,
            sample_size=sample_size,
            points_to_evaluate=points_to_evaluate,
            restrict_configurations=restrict_configurations,
            allow_duplicates=allow_duplicates,
        )
        self.multiobjective_priority = multiobjective_priority
        self.weights = weights
        count = self.objectives.count if weights is None else len(weights)  # checked again by ``set_objectives``
        self.priority = make_priority(multiobjective_priority, weights, count)
        #: the members' loss vectors, oldest first (``population`` holds their scores and configurations)
        self.members: deque[np.ndarray] = deque()

    def set_objectives(self, objectives: Objectives) -> None:
        super().set_objectives(objectives)
        self.priority = make_priority(self.multiobjective_priority, self.weights, objectives.count)

    def on_report(self, trial_id: int, config: Config, epoch: int, metrics: Mapping[str, float]) -> None:
        """The result joins the population, the oldest member leaves when it is too large, and every member is
        scored again."""
        losses = self.objectives.losses(metrics)
        if not np.all(np.isfinite(losses)):
            return
        configs = [member_config for _, member_config in self.population]
        self.members.append(losses)
        configs.append(config)
        if len(self.members) > self.population_size:
            self.members.popleft()
            configs.pop(0)
        scores = self.priority.scores(np.vstack(self.members))
        self.population = deque(zip(scores.tolist(), configs))

    def describe(self) -> str:
        return super().describe().replace("regularized evolution", "multi-objective regularized evolution", 1) + (
            f"; tournaments under the priority: {self.priority.describe()}"
        )

    def state_summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"population": len(self.population)}
        if self.members:
            summary["pareto_front_size"] = len(pareto_front(np.vstack(self.members)))
        return summary

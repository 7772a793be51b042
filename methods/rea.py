"""Regularized evolution (REA): Real, Aggarwal, Huang and Le, "Regularized Evolution for Image Classifier
Architecture Search", AAAI 2019 (Algorithm 1), as described for Syne Tune's ``RegularizedEvolution``.

- The first ``population_size`` trials are random configurations (``points_to_evaluate`` first).
- Afterwards a new trial's configuration is a mutation of the parent chosen by a tournament: ``sample_size``
  members are drawn uniformly *with replacement* from the population (the paper's Algorithm 1: "the
  element stays in the population"; Syne Tune draws the same way) and the best of them is the parent.
- A mutation changes exactly one hyperparameter, chosen uniformly among those the parent can change (active,
  with more than one value), to a *different* value: for a numeric domain a new value drawn from the domain
  (uniform in its encoded space, i.e. log-uniform on a log scale; the docs: "for integer and float
  parameters we sample a new value uniformly at random"), for a finite domain another of its values,
  uniformly. A conditional child that becomes active gets a random value, one that becomes inactive None.
- ``REA`` is FIFO scheduling (``methods.random_search.FIFOScheduler``: trials run to ``max_t``, one report at
  the end) with the ``RegularizedEvolution`` searcher. Every result the searcher receives joins the population
  (as in Syne Tune, whose FIFO scheduler updates its searcher with final results only): under FIFO, each
  completed trial with its final metric; a failed trial never joins. Under a multi-fidelity scheduler
  (``ASHA+rea``) every rung result joins. When the population exceeds ``population_size`` its *oldest* member is
  removed (ageing, not the worst).

Asynchronous workers: while the population is still empty after the random phase (workers started more
trials than have finished), new trials are random as well.

Duplicates (the workbench's rule; the paper and Syne Tune sample with replacement): by default
(``allow_duplicates=False``) no configuration is proposed twice, as for every other searcher here. A mutation
that gives a configuration already proposed is drawn again (a new tournament and mutation) up to
``MAX_MUTATION_TRIES`` times, then a random configuration not proposed yet is taken; when a finite space (or the
candidate list) has none left, the searcher returns None and the run ends with "no more work". With
``allow_duplicates=True`` mutations may repeat configurations (the paper's sampling with replacement) and, on a
finite space, the run ends only by its budget.

``restrict_configurations`` (not supported by Syne Tune's REA; the workbench's own rule): initial trials are
drawn from the candidates, and a mutation picks a hyperparameter uniformly among those for which some
candidate differs from the parent in that hyperparameter alone, then uniformly one such candidate; if no
candidate differs in exactly one hyperparameter, the nearest other candidate (``CandidateSet`` distance).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from methods.base import check_positive_int
from methods.grid_search import CandidateSet, settle_conditions
from methods.random_search import FIFOScheduler
from methods.searcher import Searcher
from methods.searchers import RandomSearcher
from searchspace import Config, Float, Integer, SearchSpace
from searchspace.conditions import topological_order

_MAX_REDRAWS = 1000
#: mutations tried for a configuration not proposed yet before a random one is taken
MAX_MUTATION_TRIES = 100


def mutable_names(space: SearchSpace, config: Mapping[str, Any]) -> list[str]:
    """Hyperparameters a mutation may change: active in ``config`` and with more than one value."""
    names = []
    for name, domain in space.items():
        if config[name] is None:
            continue
        if isinstance(domain, Float):
            if domain.low < domain.high:
                names.append(name)
        elif domain.size > 1:
            names.append(name)
    return names


def mutate_value(domain: Any, value: Any, rng: np.random.Generator) -> Any:
    """A value of ``domain`` different from ``value``: a fresh draw from a numeric domain (redrawn until it
    differs), another value uniformly for a finite domain."""
    if isinstance(domain, (Float, Integer)):
        for _ in range(_MAX_REDRAWS):
            new = domain.sample(rng, 1)[0]
            if new != value:
                return new
        if isinstance(domain, Float):
            return new
        others = [v for v in domain.values() if v != value]
        return others[int(rng.integers(len(others)))]
    values = domain.values()
    position = int(rng.integers(len(values) - 1))
    if position >= domain.index(value):
        position += 1
    return values[position]


class RegularizedEvolution(Searcher):
    """The searcher of regularized evolution; see the module docstring.

    Args:
        space: the search space.
        seed: seed of the initial random configurations, the tournaments and the mutations.
        population_size: number of members kept (default 100, as in the docs).
        sample_size: tournament size (default 10, as in the docs).
        points_to_evaluate: configurations evaluated first, counted in the random phase (default: the
            midpoint of the space, none with ``restrict_configurations``).
        restrict_configurations: only these configurations are ever proposed (see the module docstring).
        allow_duplicates: whether a configuration may be proposed again (default False; see the module docstring).
    """

    supports_restrict_configurations = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        population_size: int = 100,
        sample_size: int = 10,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        allow_duplicates: bool = False,
    ) -> None:
        self.space = space
        self.allow_duplicates = allow_duplicates
        self.population_size = check_positive_int("population_size", population_size)
        self.sample_size = check_positive_int("sample_size", sample_size)
        self._random = RandomSearcher(
            space, seed=seed, restrict_configurations=restrict_configurations, points_to_evaluate=points_to_evaluate
        )
        self._candidates = None if restrict_configurations is None else CandidateSet(space, restrict_configurations)
        self.restricted_to = None if self._candidates is None else self._candidates.configs
        num_points = len(points_to_evaluate) if points_to_evaluate is not None else int(restrict_configurations is None)
        self.num_random = max(self.population_size, num_points)
        self._rng = np.random.default_rng([seed, 2])
        self._order = topological_order(space.names, space.conditions)
        #: (loss, config), oldest first (lower is better)
        self.population: deque[tuple[float, Config]] = deque()
        self._num_started = 0
        self._names = space.names
        self._proposed: set[tuple] = set()  # every configuration proposed so far
        self._size = len(self._candidates) if self._candidates is not None else space.size  # None: infinite

    def suggest(self, trial_id: int) -> Config | None:
        """A random configuration in the random phase, else a mutation of a tournament's winner (see the module
        docstring for duplicates); None when nothing new is left."""
        config = None
        if self._num_started < self.num_random or not self.population:
            config = self._new_random(trial_id)
        if config is None:
            if not self.population:
                return None
            config = self._new_mutation(trial_id)
            if config is None:
                return None
        self._num_started = max(self._num_started, trial_id + 1)
        self._proposed.add(self._key(config))
        return config

    def _key(self, config: Mapping[str, Any]) -> tuple:
        return tuple(config[name] for name in self._names)

    def _new_random(self, trial_id: int) -> Config | None:
        """The random searcher's next configuration that no mutation has proposed yet."""
        while (config := self._random.suggest(trial_id)) is not None:
            if self.allow_duplicates or self._key(config) not in self._proposed:
                return config
        return None

    def _new_mutation(self, trial_id: int) -> Config | None:
        if self.allow_duplicates:
            return self.mutate(self.tournament())
        if self._size is not None and len(self._proposed) >= self._size:
            return None
        for _ in range(MAX_MUTATION_TRIES):
            child = self.mutate(self.tournament())
            if self._key(child) not in self._proposed:
                return child
        return self._new_random(trial_id)

    def describe(self) -> str:
        repeats = "may repeat configurations" if self.allow_duplicates else "never repeats a configuration"
        return (
            f"regularized evolution (Real et al. 2019): population {self.population_size}, tournament sample "
            f"{self.sample_size}, one hyperparameter mutated; the first {self.num_random} trials are random; "
            f"{repeats} (Syne Tune samples with replacement)"
        )

    def state_summary(self) -> dict[str, Any]:
        best = min((loss for loss, _ in self.population), default=None)
        return {"population": len(self.population), "best_loss_in_population": best}

    def on_result(self, trial_id: int, config: Config, epoch: int, loss: float) -> None:
        """The result joins the population; the oldest member leaves when it is too large."""
        if not math.isfinite(loss):
            return
        self.population.append((loss, config))
        if len(self.population) > self.population_size:
            self.population.popleft()

    # Evolution ----------------------------------------------------------------------------------
    def tournament(self) -> Config:
        """The best of ``sample_size`` members drawn uniformly with replacement (first one on ties)."""
        population = self.population
        picks = self._rng.integers(len(population), size=self.sample_size).tolist()
        best = min(picks, key=lambda i: population[i][0])
        return population[best][1]

    def mutate(self, parent: Mapping[str, Any]) -> Config:
        """``parent`` with exactly one hyperparameter changed (see the module docstring)."""
        if self._candidates is not None:
            return self._mutate_candidate(parent)
        child = dict(parent)
        names = mutable_names(self.space, parent)
        if not names:  # a space with a single configuration
            return child
        name = names[int(self._rng.integers(len(names)))]
        child[name] = mutate_value(self.space[name], parent[name], self._rng)
        if self.space.conditions:
            settle_conditions(self.space, child, self._rng, self._order)
        return child

    def _mutate_candidate(self, parent: Mapping[str, Any]) -> Config:
        candidates = self._candidates
        differs = candidates.codes != candidates.codes_of(parent)
        neighbours = np.flatnonzero(differs.sum(axis=1) == 1)
        if neighbours.size:
            columns = differs[neighbours].argmax(axis=1)
            choices = np.unique(columns)
            column = choices[int(self._rng.integers(len(choices)))]
            same = neighbours[columns == column]
            return dict(candidates.configs[int(same[int(self._rng.integers(len(same)))])])
        excluded = np.zeros(len(candidates), dtype=bool)
        position = candidates.index.get(candidates.key(parent))
        if position is not None:
            excluded[position] = True
        nearest = candidates.nearest(parent, excluded)
        return dict(candidates.configs[nearest if nearest is not None else 0])



class REA(FIFOScheduler):
    """Regularized evolution: FIFO scheduling (every trial to ``max_t``) with the ``RegularizedEvolution``
    searcher; ``searcher_options`` are the searcher's (``population_size``, ``sample_size``,
    ``points_to_evaluate``, ``restrict_configurations``). The registry's ``REA`` is the same composition.
    """

    def __init__(
        self, space: SearchSpace, *, metric: str, mode: str = "min", max_t: int, seed: int = 0, **searcher_options: Any
    ) -> None:
        searcher = RegularizedEvolution(space, seed=seed, **searcher_options)
        super().__init__(space, metric=metric, mode=mode, max_t=max_t, seed=seed, searcher=searcher)

"""NSGA-II (Deb, Pratap, Agarwal and Meyarivan, "A fast and elitist multiobjective genetic algorithm: NSGA-II",
IEEE TEC 2002) as an asynchronous searcher; registered as ``NSGA2`` (FIFO scheduling with the ``nsga2`` searcher).

The seed documentation (Syne Tune 0.13's ``NSGA2``) fixes the population size (20) and wraps pymoo's NSGA-II;
where it is silent, pymoo's defaults for real variables are taken. Here, written from the paper:

- Genotypes are points of ``[0, 1]^d``, one coordinate per hyperparameter (``SearchSpace.encode``: log scale where
  the domain has one, finite domains by position); a genotype is decoded with ``SearchSpace.decode`` (rounding for
  integers and finite domains). An inactive conditional hyperparameter keeps a coordinate of its own (uniform in
  a random configuration, inherited in a child), so a child that activates it gets a value.
- The first ``population_size`` trials (at least all ``points_to_evaluate``, by default the midpoint of the
  space) are random configurations: the initial population.
- Offspring are made ``population_size`` at a time from the current parents: binary tournaments (two members
  drawn without replacement; the lower non-dominated rank wins, then the larger crowding distance, then the
  first drawn), simulated binary crossover (SBX, Deb and Agrawal 1995, bounded form) of each pair with probability
  ``crossover_probability`` (0.9), each coordinate with probability 0.5, distribution index ``crossover_eta``
  (15), and polynomial mutation (bounded form) of each coordinate with probability ``mutation_probability``
  (1 / d), distribution index ``mutation_eta`` (20); pymoo's defaults for SBX and PM.
- Elitist (mu + lambda) survival: the parents of a batch are the best ``population_size`` of the previous parents
  and every result that arrived since, by whole non-dominated fronts and, for the front that does not fit, by
  crowding distance, largest first (ties: the earlier individual; ``survival_selection``).

Asynchronous workers: suggestions never wait for a generation to finish. When the current batch of offspring
is all handed out, the next batch is made at once from the results in so far (survival then variation); trials
still running join the population when their results arrive, at the next batch. While no result is in yet
(more workers than the initial population), suggestions are random. Only results at ``max_t`` (complete
evaluations) join the population; under a multi-fidelity scheduler a trial stopped early is not an individual.
No configuration is proposed twice unless ``allow_duplicates``: a child that decodes to a configuration proposed
before is skipped (up to ``MAX_CHILD_TRIES`` children, making new batches as needed), then a random new one is
taken. With ``restrict_configurations`` a child is the candidate nearest to its decoded genotype
(``CandidateSet``) among those not proposed yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from methods.base import check_positive_int
from methods.grid_search import CandidateSet
from methods.pareto import crowding_distance, nondominated_ranks
from methods.searcher import Searcher
from methods.searchers import RandomSearcher
from methods.trial_status import TrialStatus
from searchspace import Config, SearchSpace

#: children tried for a configuration not proposed yet before a random one is taken
MAX_CHILD_TRIES = 100
_SALT = 23


def survival_selection(losses: np.ndarray, size: int) -> np.ndarray:
    """Indices (ascending) of the ``size`` rows of ``losses`` NSGA-II keeps: whole non-dominated fronts in order,
    then the members of the first front that does not fit with the largest crowding distance (computed within
    that front; ties: the lower index)."""
    n = len(losses)
    if n <= size:
        return np.arange(n)
    ranks = nondominated_ranks(losses)
    chosen: list[int] = []
    for front in range(int(ranks.max()) + 1):
        members = np.flatnonzero(ranks == front)
        room = size - len(chosen)
        if len(members) <= room:
            chosen.extend(members.tolist())
        else:
            crowding = crowding_distance(losses[members])
            chosen.extend(members[np.argsort(-crowding, kind="stable")[:room]].tolist())
        if len(chosen) == size:
            break
    return np.sort(np.array(chosen, dtype=np.int64))


def rank_and_crowding(losses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The non-dominated rank of every row and its crowding distance within its front."""
    ranks = nondominated_ranks(losses)
    crowding = np.empty(len(losses))
    for front in np.unique(ranks):
        members = np.flatnonzero(ranks == front)
        crowding[members] = crowding_distance(losses[members])
    return ranks, crowding


def simulated_binary_crossover(
    a: np.ndarray, b: np.ndarray, rng: np.random.Generator, eta: float, coordinate_probability: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Two children of parents ``a``, ``b`` in ``[0, 1]^d`` (bounded SBX; a coordinate takes part with
    ``coordinate_probability`` and where the parents differ; the children's values are swapped with probability
    0.5)."""
    first, second = a.copy(), b.copy()
    take = rng.random(len(a)) < coordinate_probability
    u = rng.random(len(a))
    swap = rng.random(len(a)) < 0.5
    for i in np.flatnonzero(take & (np.abs(a - b) > 1e-14)).tolist():
        low, high = min(a[i], b[i]), max(a[i], b[i])
        gap = high - low
        child_low = 0.5 * (low + high - _spread(u[i], 1.0 + 2.0 * low / gap, eta) * gap)
        child_high = 0.5 * (low + high + _spread(u[i], 1.0 + 2.0 * (1.0 - high) / gap, eta) * gap)
        child_low, child_high = min(max(child_low, 0.0), 1.0), min(max(child_high, 0.0), 1.0)
        if swap[i]:
            child_low, child_high = child_high, child_low
        first[i], second[i] = child_low, child_high
    return first, second


def _spread(u: float, beta: float, eta: float) -> float:
    """SBX's spread factor for the uniform draw ``u``, bounded so that the child stays in the domain."""
    alpha = 2.0 - beta ** -(eta + 1.0)
    if u <= 1.0 / alpha:
        return (u * alpha) ** (1.0 / (eta + 1.0))
    return (1.0 / (2.0 - u * alpha)) ** (1.0 / (eta + 1.0))


def polynomial_mutation(x: np.ndarray, rng: np.random.Generator, eta: float, probability: float) -> np.ndarray:
    """``x`` in ``[0, 1]^d`` with each coordinate mutated with ``probability`` (bounded polynomial mutation)."""
    x = x.copy()
    mutate = rng.random(len(x)) < probability
    u = rng.random(len(x))
    power = 1.0 / (eta + 1.0)
    for i in np.flatnonzero(mutate).tolist():
        if u[i] <= 0.5:
            value = 2.0 * u[i] + (1.0 - 2.0 * u[i]) * (1.0 - x[i]) ** (eta + 1.0)
            delta = value**power - 1.0
        else:
            value = 2.0 * (1.0 - u[i]) + 2.0 * (u[i] - 0.5) * x[i] ** (eta + 1.0)
            delta = 1.0 - value**power
        x[i] = min(max(x[i] + delta, 0.0), 1.0)
    return x


class NSGA2Searcher(Searcher):
    """NSGA-II, asynchronous (see the module docstring).

    Args:
        space: the search space.
        seed: seed of the initial population, the tournaments and the variation operators.
        population_size: parents kept and offspring per batch (default 20, as documented).
        crossover_probability, crossover_eta, mutation_eta, mutation_probability: SBX and polynomial mutation
            (defaults 0.9, 15, 20 and 1 / number of hyperparameters).
        points_to_evaluate, restrict_configurations, allow_duplicates: as for the random searcher.
    """

    supports_restrict_configurations = True
    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        population_size: int = 20,
        crossover_probability: float = 0.9,
        crossover_eta: float = 15.0,
        mutation_eta: float = 20.0,
        mutation_probability: float | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        allow_duplicates: bool = False,
    ) -> None:
        self.space = space
        self.population_size = check_positive_int("population_size", population_size)
        if mutation_probability is None:
            mutation_probability = 1.0 / max(len(space), 1)
        for name, value in (
            ("crossover_probability", crossover_probability),
            ("mutation_probability", mutation_probability),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must lie in [0, 1], got {value!r}")
        for name, value in (("crossover_eta", crossover_eta), ("mutation_eta", mutation_eta)):
            if not value >= 0.0:
                raise ValueError(f"`{name}` (a distribution index) must be >= 0, got {value!r}")
        self.crossover_probability = crossover_probability
        self.crossover_eta = crossover_eta
        self.mutation_eta = mutation_eta
        self.mutation_probability = mutation_probability
        self.allow_duplicates = allow_duplicates
        self._random = RandomSearcher(
            space,
            seed=seed,
            allow_duplicates=allow_duplicates,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
        self._rng = np.random.default_rng([seed, _SALT])
        self._names = space.names
        self._candidates: CandidateSet | None = None
        if restrict_configurations is not None:
            self._candidates = CandidateSet(space, self._random.restricted_to)
            self.restricted_to = self._candidates.configs
            self._candidate_keys = [self._key(config) for config in self._candidates.configs]
        self.num_random = max(self.population_size, self._random.points_left)
        self._num_suggested = 0
        self._max_t: int | None = None
        self._genotypes: dict[int, np.ndarray] = {}  # trials not ended: the genotype each was proposed as
        #: the parents of the current batch: (genotype, losses)
        self.population: list[tuple[np.ndarray, np.ndarray]] = []
        self._arrived: list[tuple[np.ndarray, np.ndarray]] = []  # results in since the last batch was made
        self._children: list[np.ndarray] = []  # the current batch still to hand out (last first)
        self.num_batches = 0

    # Contract ------------------------------------------------------------------------------------
    def configure(self, *, max_t: int, rung_levels: Sequence[int]) -> None:
        self._max_t = max_t

    def suggest(self, trial_id: int) -> Config | None:
        config = genotype = None
        if self._num_suggested >= self.num_random and (self.population or self._arrived):
            config, genotype = self._offspring()
        if config is None:
            config = self._random.suggest(trial_id)
            if config is None:
                return None
            genotype = self._genotype_of(config)
        else:
            self._random.mark_seen(config)
        self._num_suggested += 1
        self._genotypes[trial_id] = genotype
        return config

    def on_report(self, trial_id: int, config: Config, epoch: int, metrics: Mapping[str, float]) -> None:
        """A complete evaluation (at ``max_t``) with finite objectives joins the next survival."""
        if self._max_t is not None and epoch != self._max_t:
            return
        losses = self.objectives.losses(metrics)
        if not np.all(np.isfinite(losses)):
            return
        genotype = self._genotypes.get(trial_id)
        if genotype is None:  # proposed by someone else
            genotype = self._genotype_of(config)
        self._arrived.append((genotype, losses))

    def on_end(self, trial_id: int, status: TrialStatus) -> None:
        self._genotypes.pop(trial_id, None)

    def describe(self) -> str:
        return (
            f"NSGA-II (Deb et al. 2002), asynchronous: population {self.population_size}, the first "
            f"{self.num_random} trials random; binary tournaments on (rank, crowding distance), SBX (p = "
            f"{self.crossover_probability:g}, eta = {self.crossover_eta:g}) and polynomial mutation (p = "
            f"{self.mutation_probability:.3g}, eta = {self.mutation_eta:g}) on [0, 1]-encoded configurations; "
            "(mu + lambda) survival by rank and crowding distance"
        )

    def state_summary(self) -> dict[str, Any]:
        return {"batches": self.num_batches, "population": len(self.population)}

    # Evolution -----------------------------------------------------------------------------------
    def _offspring(self) -> tuple[Config | None, np.ndarray | None]:
        """The next child not proposed before (making batches as needed), or (None, None)."""
        for _ in range(MAX_CHILD_TRIES):
            if not self._children:
                self._next_batch()
            config, genotype = self._decode(self._children.pop())
            if config is None:
                return None, None
            if self.allow_duplicates or self._key(config) not in self._random.seen:
                return config, genotype
        return None, None

    def _next_batch(self) -> None:
        """Survival of the parents and the results in since, then ``population_size`` children."""
        pool = self.population + self._arrived
        self._arrived = []
        keep = survival_selection(np.vstack([losses for _, losses in pool]), self.population_size)
        self.population = [pool[i] for i in keep.tolist()]
        genotypes = np.vstack([genotype for genotype, _ in self.population])
        ranks, crowding = rank_and_crowding(np.vstack([losses for _, losses in self.population]))
        children: list[np.ndarray] = []
        while len(children) < self.population_size:
            a, b = genotypes[self._tournament(ranks, crowding)], genotypes[self._tournament(ranks, crowding)]
            if self._rng.random() < self.crossover_probability:
                a, b = simulated_binary_crossover(a, b, self._rng, self.crossover_eta)
            for child in (a, b):
                children.append(polynomial_mutation(child, self._rng, self.mutation_eta, self.mutation_probability))
        children = children[: self.population_size]
        children.reverse()
        self._children = children
        self.num_batches += 1

    def _tournament(self, ranks: np.ndarray, crowding: np.ndarray) -> int:
        """The better of two members drawn without replacement (rank, then crowding distance, then the first)."""
        if len(ranks) == 1:
            return 0
        i, j = self._rng.choice(len(ranks), size=2, replace=False).tolist()
        if ranks[j] < ranks[i] or (ranks[j] == ranks[i] and crowding[j] > crowding[i]):
            return j
        return i

    # Genotypes -----------------------------------------------------------------------------------
    def _key(self, config: Mapping[str, Any]) -> tuple:
        return tuple(config[name] for name in self._names)

    def _genotype_of(self, config: Mapping[str, Any], fill: np.ndarray | None = None) -> np.ndarray:
        """``config`` encoded; inactive hyperparameters take their coordinate from ``fill`` (default: uniform)."""
        genotype = self.space.encode(config)
        inactive = np.array([config[name] is None for name in self._names])
        if inactive.any():
            genotype[inactive] = fill[inactive] if fill is not None else self._rng.random(int(inactive.sum()))
        return genotype

    def _decode(self, child: np.ndarray) -> tuple[Config | None, np.ndarray | None]:
        """The configuration of a child genotype (the nearest candidate not proposed yet, if restricted)."""
        config = self.space.decode(child)
        if self._candidates is None:
            return config, child
        seen = self._random.seen
        excluded = None
        if not self.allow_duplicates:
            keys = self._candidate_keys
            excluded = np.fromiter((key in seen for key in keys), dtype=bool, count=len(keys))
        index = self._candidates.nearest(config, excluded)
        if index is None:
            return None, None
        candidate = dict(self._candidates.configs[index])
        return candidate, self._genotype_of(candidate, fill=child)

"""Differential evolution Hyperband (DEHB).

Awad, Mallik & Hutter, "DEHB: Evolutionary Hyperband for Scalable, Robust and Efficient Hyperparameter
Optimization" (IJCAI 2021), on the bracket machinery of ``SyncHyperband`` (same brackets, slots, rung sizes,
synchronisation points and assignment of free workers), as the seed documentation describes Syne Tune's
``DifferentialEvolutionHyperbandScheduler``.

What follows the paper (and its reference implementation):

- One DE subpopulation per rung level (``max_t`` included), of size the largest number of slots any bracket
  has at that level. Configurations are vectors of the encoded cube ``[0, 1]^d`` (``space.encode``/``decode``).
- The very first bracket is plain synchronous successive halving: its first rung gets configurations from the
  searcher (``points_to_evaluate`` first, then uniform random), its later rungs the best trials of the rung
  below, resumed from their checkpoints. Its results seed the subpopulations.
- Every other slot gets a new trial (trained from scratch to the slot's level; never resumed) whose
  configuration is evolved: the target is the next member of the level's subpopulation (a counter cycling
  through the members); the parent pool is the best ``n`` members of the subpopulation one level below,
  ``n`` the number of slots of the rung (the ones synchronous Hyperband would promote: this is how
  information flows up the levels in the paper), or, for the first rung of a bracket, the best ``n`` of the
  level's own subpopulation. If the pool has fewer than 3 members, the global population (every evaluated
  member of every subpopulation) is added to it.
- rand/1 mutation ``v = x_r1 + F (x_r2 - x_r3)`` with three distinct parents drawn uniformly from the pool;
  coordinates outside ``[0, 1]`` are resampled uniformly (the paper's default boundary repair, not
  clipping); binomial crossover with the target: each coordinate comes from the mutant with probability
  ``crossover_prob``, and one uniformly chosen coordinate always does (Storn & Price).
- Selection: when the offspring reports at its level, it replaces the target member if its value is at least
  as good (``<=`` for mode "min", ``>=`` for "max"; ties go to the offspring, as in the reference code, where
  Syne Tune keeps the target); an empty member (never evaluated) always takes it, a failed offspring never
  does.

Details the paper leaves open, decided here: a decoded offspring equal to a configuration already proposed at
that level is redrawn (new parents, new crossover) up to ``max_redraws`` times, then replaced by a uniformly
random configuration not proposed at that level yet; when a finite space has none left at that level, DEHB opens
no further bracket and the run ends with "no more work" once the open brackets finish. If even
the global population has fewer than 3 members the slot gets a uniformly random configuration, and an empty
target member is a uniform random vector (the paper's random initialisation of a subpopulation). Only bracket
0 promotes (as in Syne Tune; the reference code promotes in the whole first Hyperband iteration). Rung sizes
are ``hyperband_bracket_sizes``, as in ``SyncHyperband`` (the reference code rounds down instead of up;
Syne Tune's DEHB gives every bracket the first bracket's sizes at its levels).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from methods.base import PAUSE, STOP, Decision
from methods.searchers import Searcher
from methods.sync_hyperband import WORST, Bracket, SyncHyperband
from searchspace import Config, SearchSpace

_UNIFORM_BATCH = 1024
_MAX_RANDOM_DRAWS = 100
_MAX_ENUMERATION = 1_000_000  # finite spaces up to this size are enumerated to find an unseen configuration


class _Subpopulation:
    """The members of one level: encoded vector, sort key (smaller is better; inf: empty) and trial."""

    __slots__ = ("vectors", "configs", "keys", "trials")

    def __init__(self, size: int) -> None:
        self.vectors: list[np.ndarray | None] = [None] * size
        self.configs: list[tuple | None] = [None] * size  # configuration values in the space's order
        self.keys: list[float] = [WORST] * size
        self.trials: list[int | None] = [None] * size

    def __len__(self) -> int:
        return len(self.keys)

    def evaluated(self) -> list[int]:
        return [i for i, vector in enumerate(self.vectors) if vector is not None]

    def best(self, count: int) -> list[int]:
        """Indices of the ``count`` best evaluated members (ties: lower index)."""
        keys = self.keys
        return sorted(self.evaluated(), key=lambda i: (keys[i], i))[:count]


class DEHB(SyncHyperband):
    """Differential evolution inside synchronous Hyperband brackets (see the module docstring).

    Every trial (evolved ones too) is reported to ``searcher`` as with any scheduler.

    Args:
        space, metric, mode, max_t, seed, grace_period, reduction_factor, brackets, rung_levels,
        rung_increment, points_to_evaluate: as for ``SyncHyperband`` (default: the maximum number of
            brackets; ``points_to_evaluate`` and ``searcher`` only feed the first rung of the first bracket).
        mutation_factor: ``F`` of rand/1 mutation, in (0, 1] (default 0.5, the paper's).
        crossover_prob: probability that a coordinate comes from the mutant, in [0, 1] (default 0.5).
        max_redraws: how often a duplicate offspring is evolved again before random vectors are tried.
        restrict_configurations: not supported (evolved vectors decode to arbitrary configurations);
            giving it raises ``ValueError``, as in Syne Tune.
    """

    supports_restrict_configurations = False

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
        mutation_factor: float = 0.5,
        crossover_prob: float = 0.5,
        max_redraws: int = 10,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        if restrict_configurations is not None:
            raise ValueError(
                "DEHB does not support restrict_configurations: differential evolution creates configurations "
                "outside any fixed list; use a benchmark with a surrogate (or the full search space) instead"
            )
        if not 0 < mutation_factor <= 1:
            raise ValueError(f"The value of `mutation_factor` is {mutation_factor}, but must be in (0, 1]")
        if not 0 <= crossover_prob <= 1:
            raise ValueError(f"The value of `crossover_prob` is {crossover_prob}, but must be in [0, 1]")
        if isinstance(max_redraws, bool) or not isinstance(max_redraws, int) or max_redraws < 0:
            raise ValueError(f"The value of `max_redraws` is {max_redraws!r}, but must be an integer >= 0")
        super().__init__(
            space,
            metric=metric,
            mode=mode,
            max_t=max_t,
            seed=seed,
            grace_period=grace_period,
            reduction_factor=reduction_factor,
            brackets=brackets,
            rung_levels=rung_levels,
            rung_increment=rung_increment,
            points_to_evaluate=points_to_evaluate,
            searcher=searcher,
        )
        self.mutation_factor = float(mutation_factor)
        self.crossover_prob = float(crossover_prob)
        self.max_redraws = max_redraws
        self._names = space.names
        self._dim = len(space)
        self._space_size = space.size
        self._rng = np.random.default_rng([seed, 2])
        self._uniforms: list[float] = []
        sizes: dict[int, int] = {}
        for levels, rung_sizes in zip(self.bracket_levels, self.bracket_sizes):
            for level, size in zip(levels, rung_sizes):
                sizes[level] = max(sizes.get(level, 0), size)
        self.population_sizes = dict(sorted(sizes.items()))
        self._populations = {level: _Subpopulation(size) for level, size in self.population_sizes.items()}
        self._counters = dict.fromkeys(self.population_sizes, 0)
        self._seen: dict[int, set[tuple]] = {level: set() for level in self.population_sizes}
        # trial -> (encoded vector, config key, level, member index) while it may still report
        self._trials: dict[int, tuple[np.ndarray, tuple, int, int]] = {}
        self._offspring_won = 0
        self._target_kept = 0
        self._redraws = 0
        self._random_configs = 0
        self._space_exhausted = False  # a finite space has no configuration left to propose at some level

    # Inspection ----------------------------------------------------------------------------------
    def population(self, level: int) -> list[tuple[Config | None, float | None, int | None]]:
        """The subpopulation at ``level``: ``(configuration, metric value, trial id)`` per member
        (``(None, None, None)`` for a member not evaluated yet)."""
        population = self._populations[level]
        members = []
        for values, key, trial in zip(population.configs, population.keys, population.trials):
            if values is None:
                members.append((None, None, None))
            else:
                members.append((dict(zip(self._names, values)), self._sign * key, trial))
        return members

    def schedule_description(self) -> str:
        sizes = ", ".join(f"{n}@{level}" for level, n in self.population_sizes.items())
        return "\n".join(
            [
                super().schedule_description(),
                f"  DE subpopulations (members@level): {sizes}",
                f"  rand/1/bin: mutation_factor={self.mutation_factor}, crossover_prob={self.crossover_prob}; "
                "bracket 0 promotes (checkpoints), later slots are evolved new trials",
                "  follows the DEHB paper (Awad et al. 2021) on Syne Tune 0.13's synchronous brackets",
            ]
        )

    def state_summary(self) -> dict[str, Any]:
        summary = super().state_summary()
        summary.update(
            {
                "population_filled": {
                    str(level): len(population.evaluated()) for level, population in self._populations.items()
                },
                "offspring_won": self._offspring_won,
                "target_kept": self._target_kept,
                "duplicate_redraws": self._redraws,
                "random_configs": self._random_configs,
            }
        )
        return summary

    # Hooks ---------------------------------------------------------------------------------------
    def _new_config(self, bracket: Bracket, slot: int, trial_id: int) -> Config | None:
        level = bracket.level
        if bracket.index == 0:  # the first rung of the first bracket: the searcher's configurations
            config = self.searcher.suggest(trial_id)
            if config is None:
                return None
            vector = self.space.encode(config)
        else:
            evolved = self._evolve(bracket)
            if evolved is None:  # every configuration of the space has been proposed at this level
                self._space_exhausted = True
                return None
            config, vector = evolved
        self._register(trial_id, vector, self._key(config), level)
        return config

    def _next_rung_trials(self, bracket: Bracket, size: int) -> list[int | None]:
        if bracket.index == 0:
            return bracket.top_trials(size)
        return [None] * size

    def _can_open_bracket(self) -> bool:
        return not (self._no_new_trials or self._space_exhausted)

    def _decision(self, bracket: Bracket) -> Decision:
        return PAUSE if bracket.index == 0 else STOP

    def _trial_resumed(self, trial_id: int, bracket: Bracket) -> None:
        vector, key, _, _ = self._trials[trial_id]
        self._register(trial_id, vector, key, bracket.level)

    def _trial_result(self, trial_id: int, bracket: Bracket, key: float) -> None:
        info = self._trials.get(trial_id) if bracket.index == 0 else self._trials.pop(trial_id, None)
        if info is None:
            return
        vector, values, level, member = info
        population = self._populations[level]
        if key < WORST and key <= population.keys[member]:
            population.vectors[member] = vector
            population.configs[member] = values
            population.keys[member] = key
            population.trials[member] = trial_id
            self._offspring_won += 1
        else:
            self._target_kept += 1

    def _trial_failed(self, trial_id: int, bracket: Bracket) -> None:
        self._trials.pop(trial_id, None)

    # Differential evolution ----------------------------------------------------------------------
    def _register(self, trial_id: int, vector: np.ndarray, key: tuple, level: int) -> None:
        """``trial_id`` runs ``vector`` to ``level``; its target is the level's next member."""
        member = self._counters[level]
        self._counters[level] = (member + 1) % len(self._populations[level])
        self._trials[trial_id] = (vector, key, level, member)
        self._seen[level].add(key)

    def _key(self, config: Config) -> tuple:
        return tuple(config[name] for name in self._names)

    def _evolve(self, bracket: Bracket) -> tuple[Config, np.ndarray] | None:
        """An offspring for the next free slot of ``bracket``: mutation, crossover, duplicate check (None: every
        configuration of a finite space was proposed at this level)."""
        level = bracket.level
        seen = self._seen[level]
        population = self._populations[level]
        target = population.vectors[self._counters[level]]
        if target is None:
            target = self._random_vector()
        pool = self._parent_pool(bracket)
        if len(pool) >= 3:
            for attempt in range(self.max_redraws + 1):
                vector = self.crossover(self.mutate(pool), target)
                config = self.space.decode(vector)
                if self._key(config) not in seen:
                    return config, vector
                if attempt < self.max_redraws:
                    self._redraws += 1
        self._random_configs += 1
        return self._unseen_random(seen)

    def _unseen_random(self, seen: set[tuple]) -> tuple[Config, np.ndarray] | None:
        """A uniformly random configuration not in ``seen``: random vectors first; in a nearly exhausted
        finite space, a uniform pick among the unseen ones; None if a finite space has none left (a space too
        large to enumerate gives a duplicate after ``_MAX_RANDOM_DRAWS`` failed draws)."""
        exhausted = self._space_size is not None and len(seen) >= self._space_size
        for _ in range(1 if exhausted else _MAX_RANDOM_DRAWS):
            vector = self._random_vector()
            config = self.space.decode(vector)
            if self._key(config) not in seen:
                return config, vector
        if exhausted:
            return None
        if self._space_size is None or self._space_size > _MAX_ENUMERATION:
            return config, vector
        space = self.space
        keys: Iterable[tuple] = itertools.product(*(space[name].values() for name in self._names))
        if space.conditions:  # inactive values are None: many products are one configuration
            keys = dict.fromkeys(self._key(self._with_none(key)) for key in keys)
        unseen = [key for key in keys if key not in seen]
        if not unseen:
            return None
        config = dict(zip(self._names, unseen[int(self._uniform() * len(unseen))]))
        return config, space.encode(config)

    def _with_none(self, key: tuple) -> Config:
        config = dict(zip(self._names, key))
        return {name: value if self.space.is_active(name, config) else None for name, value in config.items()}

    def _parent_pool(self, bracket: Bracket) -> list[np.ndarray]:
        """Parents for the current rung of ``bracket`` (cached per rung once it has 3 members)."""
        if bracket.cache is not None:
            return bracket.cache
        rung = bracket.rung
        source = self._populations[bracket.levels[rung - 1] if rung > 0 else bracket.levels[0]]
        members = source.best(bracket.sizes[rung])
        pool = [source.vectors[i] for i in members]
        if len(pool) < 3:  # the paper's fallback: the global population
            chosen = {id(vector) for vector in pool}
            for population in self._populations.values():
                pool.extend(v for v in population.vectors if v is not None and id(v) not in chosen)
        if len(pool) >= 3:
            bracket.cache = pool
        return pool

    def mutate(self, pool: Sequence[np.ndarray]) -> np.ndarray:
        """rand/1: ``x_r1 + F (x_r2 - x_r3)`` for three distinct members of ``pool``; coordinates outside
        [0, 1] are resampled uniformly."""
        n = len(pool)
        first = int(self._uniform() * n)
        second = first
        while second == first:
            second = int(self._uniform() * n)
        third = first
        while third in (first, second):
            third = int(self._uniform() * n)
        mutant = pool[first] + self.mutation_factor * (pool[second] - pool[third])
        outside = (mutant < 0.0) | (mutant > 1.0)
        if outside.any():
            mutant[outside] = self._rng.random(int(outside.sum()))
        return mutant

    def crossover(self, mutant: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Binomial crossover: each coordinate from the mutant with probability ``crossover_prob``, at least
        one (uniformly chosen) always."""
        take = self._rng.random(self._dim) < self.crossover_prob
        take[min(int(self._uniform() * self._dim), self._dim - 1)] = True
        return np.where(take, mutant, target)

    def _random_vector(self) -> np.ndarray:
        return self._rng.random(self._dim)

    def _uniform(self) -> float:
        if not self._uniforms:
            self._uniforms = self._rng.random(_UNIFORM_BATCH).tolist()
        return self._uniforms.pop()


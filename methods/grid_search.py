"""Grid search: the product of per-hyperparameter grids, visited once each in a seeded random order.

Rules (seed documentation, Syne Tune's ``GridSearcher``): "we place a grid on each hyperparameter range,
which is uniformly or log-uniformly spaced. The product of these grids determines the sequence, which can
be traversed in regular and random ordering"; ``points_to_evaluate`` are evaluated first, then the
remaining grid points, without replacement; ``num_samples`` is the number of grid values of a float
hyperparameter (default ``DEFAULT_NUM_SAMPLES`` = 5), of an integer one capped at its range (then every
integer is a grid value), and is ignored for finite domains, which contribute all their values.

Details the docs leave open, following Syne Tune's implementation: the ``n`` values of a numeric domain
are the centres of ``n`` equal cells of its encoded range ``[0, 1]`` (linear or log scale), i.e. encoded
positions ``(i + 0.5) / n``, so an odd ``n`` puts the midpoint on the grid; integer values are rounded
(the domain's own decoding) and de-duplicated. ``points_to_evaluate=None`` means the midpoint of the space
first (the default of every searcher in the docs); with an odd grid size it is a grid point and is not
visited twice.

This module also holds two helpers shared with REA and PBT: ``CandidateSet`` (a fixed list of allowed
configurations with nearest-candidate look-ups) and ``settle_conditions``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from methods.base import check_positive_int
from methods.random_search import RandomSearch
from methods.searchers import Searcher, checked_candidates, complete_config
from searchspace import INACTIVE_COORDINATE, Categorical, Config, Float, Integer, SearchSpace
from searchspace.conditions import topological_order

DEFAULT_NUM_SAMPLES = 5
#: up to this many grid points the visiting order is a stored permutation; beyond, points are drawn
#: uniformly without replacement on demand (a run never visits more than a small part of such a grid)
MAX_STORED_GRID = 4_000_000


# Shared helpers -----------------------------------------------------------------------------------
def settle_conditions(space: SearchSpace, config: Config, rng: np.random.Generator, order: Sequence[str]) -> Config:
    """Make ``config`` valid after some values changed (in place): parents first (``order``), an inactive
    hyperparameter becomes None and one that became active gets a value drawn from its domain."""
    for name in order:
        conditions = space.conditions_of(name)
        if not conditions:
            continue
        if all(condition.holds(config[condition.parent]) for condition in conditions):
            if config[name] is None:
                config[name] = space[name].sample(rng, 1)[0]
        else:
            config[name] = None
    return config


class CandidateSet:
    """A fixed list of allowed configurations (e.g. a table's), with look-ups used to stay inside it.

    Distance between a configuration and a candidate: squared differences of encoded coordinates for
    numeric and ordered domains plus 1 per differing value of a categorical (unordered) domain.
    """

    def __init__(self, space: SearchSpace, configs: Sequence[Mapping[str, Any]]) -> None:
        self.space = space
        self.names = space.names
        self.configs = checked_candidates(space, configs)
        self.index = {self.key(config): i for i, config in enumerate(self.configs)}
        columns = [[config[name] for config in self.configs] for name in self.names]
        self._codes_of: list[dict[Any, int]] = []
        codes = np.empty((len(self.configs), len(self.names)), dtype=np.int32)
        for j, values in enumerate(columns):
            lookup: dict[Any, int] = {None: -1}
            for value in values:
                lookup.setdefault(value, len(lookup) - 1)
            self._codes_of.append(lookup)
            codes[:, j] = [lookup[value] for value in values]
        self.codes = codes
        self._categorical = [j for j, name in enumerate(self.names) if isinstance(space[name], Categorical)]
        self._numeric = [j for j in range(len(self.names)) if j not in self._categorical]
        points = np.empty((len(self.configs), len(self._numeric)))
        for k, j in enumerate(self._numeric):
            points[:, k] = [self._coordinate(self.names[j], value) for value in columns[j]]
        self._points = points

    def __len__(self) -> int:
        return len(self.configs)

    def key(self, config: Mapping[str, Any]) -> tuple:
        return tuple(config[name] for name in self.names)

    def _coordinate(self, name: str, value: Any) -> float:
        return INACTIVE_COORDINATE if value is None else self.space[name].encode(value)

    def distances(self, config: Mapping[str, Any]) -> np.ndarray:
        """Distance of every candidate to ``config`` (which need not be a candidate)."""
        total = np.zeros(len(self.configs))
        if self._numeric:
            point = np.array([self._coordinate(self.names[j], config[self.names[j]]) for j in self._numeric])
            total += ((self._points - point) ** 2).sum(axis=1)
        for j in self._categorical:
            code = self._codes_of[j].get(config[self.names[j]], -2)  # -2: a value no candidate has
            total += self.codes[:, j] != code
        return total

    def nearest(self, config: Mapping[str, Any], excluded: np.ndarray | None = None) -> int | None:
        """Index of the candidate nearest to ``config`` (first on ties), skipping ``excluded`` (a mask)."""
        position = self.index.get(self.key(config))
        if position is not None and (excluded is None or not excluded[position]):
            return position
        distances = self.distances(config)
        if excluded is not None:
            distances[excluded] = np.inf
        best = int(np.argmin(distances))
        return None if distances[best] == np.inf else best

    def codes_of(self, config: Mapping[str, Any]) -> np.ndarray:
        """Integer codes of ``config``'s values (-2 for a value no candidate has)."""
        return np.array([self._codes_of[j].get(config[name], -2) for j, name in enumerate(self.names)])


# Grid ---------------------------------------------------------------------------------------------
def grid_values(space: SearchSpace, num_samples: int | Mapping[str, int] = DEFAULT_NUM_SAMPLES) -> dict[str, tuple]:
    """The grid values of every hyperparameter (see the module docstring)."""
    if isinstance(num_samples, Mapping):
        unknown = sorted(set(num_samples) - set(space.names))
        if unknown:
            raise ValueError(f"num_samples names unknown hyperparameter(s) {unknown}; space: {space.names}")
        sizes = {name: num_samples.get(name, DEFAULT_NUM_SAMPLES) for name in space.names}
    else:
        sizes = dict.fromkeys(space.names, num_samples)
    for name, size in sizes.items():
        check_positive_int(f"num_samples[{name!r}]" if isinstance(num_samples, Mapping) else "num_samples", size)
    values: dict[str, tuple] = {}
    for name, domain in space.items():
        if not isinstance(domain, (Float, Integer)):
            values[name] = tuple(domain.values())
            continue
        n = sizes[name]
        if isinstance(domain, Integer) and n >= domain.size:
            values[name] = domain.values()
            continue
        centres = (2 * np.arange(n) + 1) / (2 * n)
        values[name] = tuple(dict.fromkeys(domain.decode(float(u)) for u in centres))
    return values


class GridSearcher(Searcher):
    """Proposes each point of the grid once (``points_to_evaluate`` first), in a seeded random order.

    Args:
        space: the search space.
        seed: seed of the visiting order.
        num_samples: grid size per numeric hyperparameter, one for all or a mapping name -> size
            (missing names: 5); ignored for finite domains (all their values are used).
        points_to_evaluate: proposed first; a partial one is completed with the midpoint. Default (None):
            the midpoint first (none with ``restrict_configurations``); ``[]``: none.
        restrict_configurations: only these configurations are proposed: each grid point, in the
            shuffled order, is replaced by the nearest candidate not proposed yet (``CandidateSet``
            distance); the search ends when the grid or the candidates are exhausted. (Syne Tune does
            not support this option for grid search; this is the workbench's own rule.)
        shuffle: False visits the grid in product order (the last hyperparameter varies fastest).

    With conditions, inactive hyperparameters are None and configurations that differ only in inactive
    hyperparameters are one grid point. ``suggest`` returns None once every point was proposed.
    """

    supports_restrict_configurations = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        num_samples: int | Mapping[str, int] = DEFAULT_NUM_SAMPLES,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        shuffle: bool = True,
    ) -> None:
        self.space = space
        self.names = space.names
        self.values = grid_values(space, num_samples)
        self._rng = np.random.default_rng(seed)
        self._candidates = None if restrict_configurations is None else CandidateSet(space, restrict_configurations)
        self.restricted_to = None if self._candidates is None else self._candidates.configs
        self._taken = None if self._candidates is None else np.zeros(len(self._candidates), dtype=bool)
        if points_to_evaluate is None:
            points_to_evaluate = [] if self._candidates is not None else [space.midpoint()]
        self._points = [complete_config(space, point) for point in points_to_evaluate]
        if self._candidates is not None:
            for point in self._points:
                if self._candidates.key(point) not in self._candidates.index:
                    raise ValueError(f"point to evaluate {point} is not one of the restricted configurations")
        self._points.reverse()
        self._seen: set[tuple] = set()  # keys proposed
        self._drawn: set[tuple] = set()  # grid keys drawn on demand (very large grids only)
        self._keys: list[tuple] | None = None  # conditional spaces: the distinct grid points
        if space.conditions:
            self._keys = self._conditional_grid()
            self.size = len(self._keys)
        else:
            self._radices = [len(self.values[name]) for name in self.names]
            self.size = math.prod(self._radices)
        self._stored = self.size <= MAX_STORED_GRID
        if self._stored:
            self._order: list[int] = (self._rng.permutation(self.size) if shuffle else np.arange(self.size)).tolist()
            self._order.reverse()
        elif not shuffle:
            raise ValueError(f"the grid has {self.size:,} points; product order is supported up to {MAX_STORED_GRID:,}")
        self.visited = 0  # grid points walked so far

    def _conditional_grid(self) -> list[tuple]:
        """Distinct grid points of a conditional space: parents first, children only where active."""
        order = topological_order(self.names, self.space.conditions)
        partial: list[dict[str, Any]] = [{}]
        for name in order:
            conditions = self.space.conditions_of(name)
            expanded: list[dict[str, Any]] = []
            for config in partial:
                if all(condition.holds(config[condition.parent]) for condition in conditions):
                    expanded.extend({**config, name: value} for value in self.values[name])
                else:
                    expanded.append({**config, name: None})
            if len(expanded) > MAX_STORED_GRID:
                raise ValueError(
                    f"the grid of this conditional space has more than {MAX_STORED_GRID:,} points; reduce num_samples"
                )
            partial = expanded
        return [tuple(config[name] for name in self.names) for config in partial]

    def _grid_key(self, index: int) -> tuple:
        if self._keys is not None:
            return self._keys[index]
        digits = []
        for radix in reversed(self._radices):
            index, digit = divmod(index, radix)
            digits.append(digit)
        digits.reverse()
        return tuple(self.values[name][digit] for name, digit in zip(self.names, digits))

    def _next_grid_key(self) -> tuple | None:
        if self._stored:
            return self._grid_key(self._order.pop()) if self._order else None
        if self.visited >= self.size:
            return None
        while True:  # uniform without replacement; the grid is far larger than any run's trials
            key = tuple(self.values[name][int(self._rng.integers(len(self.values[name])))] for name in self.names)
            if key not in self._drawn:
                self._drawn.add(key)
                return key

    def describe(self) -> str:
        sizes = ", ".join(f"{name}: {len(values)}" for name, values in self.values.items())
        return f"grid of {self.size:,} points ({sizes}) in a seeded random order (Syne Tune 0.13's GridSearcher)"

    def state_summary(self) -> dict[str, Any]:
        return {"grid_size": self.size, "grid_points_visited": self.visited}

    def suggest(self, trial_id: int) -> Config | None:
        while self._points:
            point = self._points.pop()
            key = tuple(point[name] for name in self.names)
            if key not in self._seen:
                self._seen.add(key)
                if self._candidates is not None:
                    self._taken[self._candidates.index[key]] = True
                return point
        while (key := self._next_grid_key()) is not None:
            self.visited += 1
            if self._candidates is not None:
                position = self._candidates.nearest(dict(zip(self.names, key)), self._taken)
                if position is None:
                    return None
                self._taken[position] = True
                return dict(self._candidates.configs[position])
            if key not in self._seen:
                self._seen.add(key)
                return dict(zip(self.names, key))
        return None


class GridSearch(RandomSearch):
    """Runs the configurations of a ``GridSearcher`` to ``max_t``, never stopping a trial; once the grid is
    exhausted it has nothing more to run (``suggest`` returns None).

    ``num_samples``, ``points_to_evaluate``, ``restrict_configurations`` and ``shuffle`` are passed to the
    searcher (see ``GridSearcher``).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: str = "min",
        max_t: int,
        seed: int = 0,
        num_samples: int | Mapping[str, int] = DEFAULT_NUM_SAMPLES,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        shuffle: bool = True,
    ) -> None:
        grid = GridSearcher(
            space,
            seed=seed,
            num_samples=num_samples,
            points_to_evaluate=points_to_evaluate,
            restrict_configurations=restrict_configurations,
            shuffle=shuffle,
        )
        super().__init__(space, metric=metric, mode=mode, max_t=max_t, seed=seed, searcher=grid)


__all__ = ["DEFAULT_NUM_SAMPLES", "CandidateSet", "GridSearch", "GridSearcher", "grid_values", "settle_conditions"]

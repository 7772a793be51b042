"""Model-free searchers: uniform random sampling (``RandomSearcher``) and the helpers of every searcher that
takes ``points_to_evaluate`` or ``restrict_configurations``. The contract is ``methods.searcher.Searcher``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np

from methods.searcher import Searcher
from searchspace import Config, SearchSpace

__all__ = ["RandomSearcher", "Searcher", "complete_config", "searcher_or_random"]


class RandomSearcher(Searcher):
    """Draws configurations uniformly at random (per domain) from the space, or uniformly from a
    given list of candidate configurations (``restrict_configurations``).

    Args:
        space: the search space.
        seed: seed of the searcher's own generator.
        allow_duplicates: if False (default), a configuration is never proposed twice; in a finite
            space (or list of candidates) the searcher returns None once every one has been proposed.
        batch_size: configurations are drawn this many at a time (a speed detail; the sequence of
            configurations depends on it, so it is fixed, not tuned per run).
        restrict_configurations: if given, only these configurations are proposed (e.g. the
            configurations a tabulated benchmark has data for); each must lie in ``space``.
        points_to_evaluate: configurations proposed first, in order; a partial one is completed with
            the midpoint of the space (``complete_config``). Default (None): the midpoint of the space
            first, as a sensible default is often near it; ``[]``: none. With
            ``restrict_configurations`` the default is none and given points must be candidates.
    """

    supports_restrict_configurations = True
    _MAX_REJECTIONS = 1000

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        allow_duplicates: bool = False,
        batch_size: int = 256,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.space = space
        self.allow_duplicates = allow_duplicates
        self.batch_size = batch_size
        self._rng = np.random.default_rng(seed)
        self._batch: list[Config] = []
        self._names = space.names
        self._seen: set[tuple] = set()
        self._space_size = space.size
        self._candidates: list[Config] | None = None
        if restrict_configurations is not None:
            self._candidates = checked_candidates(space, restrict_configurations)
            self.restricted_to = self._candidates
            self._order: list[int] = []
            self._next = 0
        self.starts_at_midpoint = points_to_evaluate is None and self._candidates is None
        if points_to_evaluate is None:
            points_to_evaluate = [] if self._candidates is not None else [space.midpoint()]
        self._points = [complete_config(space, point) for point in points_to_evaluate]
        if self._candidates is not None:
            keys = {self._key(candidate) for candidate in self._candidates}
            for point in self._points:
                if self._key(point) not in keys:
                    raise ValueError(f"point to evaluate {point} is not one of the restricted configurations")
        self._points.reverse()

    def _key(self, config: Mapping[str, Any]) -> tuple:
        return tuple(config[name] for name in self._names)

    @property
    def seen(self) -> AbstractSet[tuple]:
        """Keys (values in the space's order) of the configurations proposed or marked so far."""
        return self._seen

    @property
    def points_left(self) -> int:
        """How many of the points to evaluate are still to be proposed (they come before any other)."""
        return len(self._points)

    def mark_seen(self, config: Mapping[str, Any]) -> None:
        """``config`` was proposed by someone else (e.g. a model-based searcher using this one for its random
        suggestions): never propose it again unless duplicates are allowed."""
        self._seen.add(self._key(config))

    def describe(self) -> str:
        kind = "uniformly from the given configurations" if self._candidates is not None else "uniformly at random"
        repeats = "with repeats" if self.allow_duplicates else "no configuration twice"
        first = (
            f"; first the midpoint of the space {self.space.midpoint()} (Syne Tune's default; pass "
            "points_to_evaluate=[], or --start_at_random on the command line, to start at random)"
            if self.starts_at_midpoint
            else ""
        )
        return f"random search, {kind}, {repeats}{first}"

    def suggest(self, trial_id: int) -> Config | None:
        while self._points:
            point = self._points.pop()
            key = self._key(point)
            if self.allow_duplicates or key not in self._seen:
                self._seen.add(key)
                return dict(point)
        if self._candidates is not None:
            return self._suggest_candidate()
        if self.allow_duplicates:
            return self._draw()
        if self._space_size is not None and len(self._seen) >= self._space_size:
            return None
        for _ in range(self._MAX_REJECTIONS):
            config = self._draw()
            key = tuple(config[name] for name in self._names)
            if key not in self._seen:
                self._seen.add(key)
                return config
        return self._first_unseen()

    def _with_inactive_none(self, key: tuple) -> tuple:
        config = dict(zip(self._names, key))
        return tuple(value if self.space.is_active(name, config) else None for name, value in config.items())

    def _suggest_candidate(self) -> Config | None:
        """Uniform with replacement, or a seeded permutation walked in order (without replacement)."""
        candidates = self._candidates
        if self.allow_duplicates:
            if not self._order:
                self._order = self._rng.integers(len(candidates), size=self.batch_size).tolist()
                self._order.reverse()
            return dict(candidates[self._order.pop()])
        if self._next == 0 and not self._order:
            self._order = self._rng.permutation(len(candidates)).tolist()
        while self._next < len(candidates):
            candidate = candidates[self._order[self._next]]
            self._next += 1
            key = self._key(candidate)
            if key not in self._seen:  # not already proposed as a point to evaluate
                self._seen.add(key)
                return dict(candidate)
        return None

    def _draw(self) -> Config:
        if not self._batch:
            self._batch = self.space.sample_many(self._rng, self.batch_size)
            self._batch.reverse()
        return self._batch.pop()

    def _first_unseen(self) -> Config | None:
        """Rejection sampling failed in a nearly exhausted finite space: pick among the rest."""
        if self._space_size is None:
            return None
        domains = [self.space[name].values() for name in self._names]
        keys: Iterable[tuple] = itertools.product(*domains)
        if self.space.conditions:  # inactive values are None: many products are one configuration
            keys = dict.fromkeys(self._with_inactive_none(key) for key in keys)
        unseen = [key for key in keys if key not in self._seen]
        if not unseen:
            return None
        key = unseen[int(self._rng.integers(len(unseen)))]
        self._seen.add(key)
        return dict(zip(self._names, key))


def complete_config(space: SearchSpace, point: Mapping[str, Any]) -> Config:
    """``point`` with every missing hyperparameter set to the space's midpoint value; validated."""
    unknown = [name for name in point if name not in space]
    if unknown:
        raise ValueError(f"point to evaluate names unknown hyperparameter(s) {unknown}; space: {space.names}")
    midpoint = space.midpoint()
    config = {name: point[name] if name in point else midpoint[name] for name in space.names}
    if space.conditions:  # a completed point may activate or deactivate conditional hyperparameters
        config = {name: value if space.is_active(name, config) else None for name, value in config.items()}
        config = {
            name: space[name].decode(0.5) if value is None and space.is_active(name, config) else value
            for name, value in config.items()
        }
    space.validate(config)
    return config


def checked_candidates(space: SearchSpace, configs: Sequence[Config]) -> list[Config]:
    """Distinct candidate configurations (first occurrence kept), each validated against ``space``."""
    names = space.names
    distinct: dict[tuple, Config] = {}
    for config in configs:
        key = tuple(config[name] for name in names) if all(name in config for name in names) else None
        if key is None or key not in distinct:
            space.validate(config)
            distinct[key] = {name: config[name] for name in names}
    if not distinct:
        raise ValueError("restrict_configurations is empty: give at least one configuration")
    return list(distinct.values())


def searcher_or_random(
    space: SearchSpace,
    searcher: Searcher | None,
    *,
    seed: int,
    restrict_configurations: Sequence[Config] | None = None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    allow_duplicates: bool = False,
) -> Searcher:
    """``searcher``, or a ``RandomSearcher`` with the given options when it is None (a scheduler's default).

    Options that only the default searcher takes cannot be combined with a given searcher: pass them to it."""
    if searcher is None:
        return RandomSearcher(
            space,
            seed=seed,
            allow_duplicates=allow_duplicates,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
    if not isinstance(searcher, Searcher):
        raise TypeError(f"`searcher` must be a methods.Searcher, got {type(searcher).__name__}")
    given = [
        name
        for name, value in (
            ("restrict_configurations", restrict_configurations),
            ("points_to_evaluate", points_to_evaluate),
            ("allow_duplicates", allow_duplicates or None),
        )
        if value is not None
    ]
    if given:
        raise ValueError(f"with a given `searcher`, pass {', '.join(given)} to the searcher, not to the scheduler")
    return searcher

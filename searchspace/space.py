"""A search space: an ordered mapping from hyperparameter names to domains."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from searchspace.domains import Domain, domain_from_json
from searchspace.errors import SearchSpaceError

Config = dict[str, Any]


class SearchSpace(Mapping[str, Domain]):
    """Named hyperparameter domains, in a fixed order (the order of encoded coordinates).

    Example:
        >>> from searchspace import Float, Categorical, SearchSpace
        >>> space = SearchSpace({"lr": Float(1e-4, 1e-1, log=True), "act": Categorical(("relu", "tanh"))})
        >>> config = space.sample(np.random.default_rng(0))
        >>> space.validate(config)
    """

    __slots__ = ("_domains",)

    def __init__(self, domains: Mapping[str, Domain]) -> None:
        if not domains:
            raise SearchSpaceError("a search space needs at least one hyperparameter")
        for name, domain in domains.items():
            if not isinstance(name, str) or not name:
                raise SearchSpaceError(f"hyperparameter names must be non-empty strings, got {name!r}")
            if not hasattr(domain, "encode"):
                raise SearchSpaceError(
                    f"hyperparameter {name!r} has no domain (got {domain!r}); use Float, Integer, "
                    "Categorical, Ordinal or Grid from `searchspace`"
                )
        self._domains: dict[str, Domain] = dict(domains)

    # Mapping interface ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Domain:
        try:
            return self._domains[name]
        except KeyError:
            raise SearchSpaceError(
                f"unknown hyperparameter {name!r}; available: {', '.join(self._domains)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._domains)

    def __len__(self) -> int:
        return len(self._domains)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and list(self.items()) == list(other.items())

    def __hash__(self) -> int:
        return hash(tuple(self._domains.items()))

    def __repr__(self) -> str:
        return f"SearchSpace({self._domains!r})"

    @property
    def names(self) -> list[str]:
        return list(self._domains)

    @property
    def size(self) -> int | None:
        """Number of distinct configurations, or None if some domain is continuous."""
        total = 1
        for domain in self._domains.values():
            if domain.size is None:
                return None
            total *= domain.size
        return total

    # Sampling ------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Config:
        """One configuration drawn uniformly (per domain) with ``rng``."""
        return self.sample_many(rng, 1)[0]

    def sample_many(self, rng: np.random.Generator, n: int) -> list[Config]:
        """``n`` configurations; hyperparameters are drawn column by column in the space's order."""
        columns = [domain.sample(rng, n) for domain in self._domains.values()]
        names = self.names
        return [dict(zip(names, values)) for values in zip(*columns)]

    # Encoding ------------------------------------------------------------------------------------
    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """The configuration as a point of [0, 1]^d (d = number of hyperparameters)."""
        self.validate(config)
        return np.array([domain.encode(config[name]) for name, domain in self._domains.items()])

    def decode(self, point: np.ndarray) -> Config:
        """Inverse of ``encode`` (up to rounding for integer and finite domains)."""
        point = np.asarray(point, dtype=float)
        if point.shape != (len(self),):
            raise SearchSpaceError(f"expected a point of shape ({len(self)},), got {point.shape}")
        return {name: domain.decode(float(u)) for (name, domain), u in zip(self._domains.items(), point)}

    def midpoint(self) -> Config:
        """The configuration at the centre of the encoded cube."""
        return self.decode(np.full(len(self), 0.5))

    # Validation ----------------------------------------------------------------------------------
    def validate(self, config: Mapping[str, Any]) -> None:
        """Raise ``SearchSpaceError`` naming the first unknown, missing or out-of-domain value."""
        unknown = [name for name in config if name not in self._domains]
        if unknown:
            raise SearchSpaceError(
                f"unknown hyperparameter {unknown[0]!r}; available: {', '.join(self._domains)}"
            )
        for name, domain in self._domains.items():
            if name not in config:
                raise SearchSpaceError(f"configuration is missing hyperparameter {name!r}")
            if not domain.contains(config[name]):
                raise SearchSpaceError(
                    f"value {config[name]!r} of hyperparameter {name!r} is outside its domain {domain}"
                )

    # Serialisation -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {name: domain.to_json() for name, domain in self._domains.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> SearchSpace:
        if isinstance(data, str):
            data = json.loads(data)
        return cls({name: domain_from_json(spec) for name, spec in data.items()})

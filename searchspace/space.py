"""A search space: an ordered mapping from hyperparameter names to domains, optionally with conditions.

Conditions (``searchspace.conditions.Condition``) make hyperparameters active only for some values of a
parent. An inactive hyperparameter has the value ``None``: ``sample``/``sample_many``/``decode`` set it,
``validate`` requires it, and ``encode`` maps it to the coordinate ``INACTIVE_COORDINATE`` (0.0). A space
without conditions behaves exactly as it did before conditions existed (same samples for the same
generator, same encoding, same JSON).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from searchspace.conditions import Condition, active_masks, topological_order
from searchspace.domains import Domain, domain_from_json
from searchspace.errors import SearchSpaceError

Config = dict[str, Any]

#: encoded coordinate of an inactive hyperparameter
INACTIVE_COORDINATE = 0.0


class SearchSpace(Mapping[str, Domain]):
    """Named hyperparameter domains, in a fixed order (the order of encoded coordinates).

    Example:
        >>> from searchspace import Float, Categorical, SearchSpace
        >>> space = SearchSpace({"lr": Float(1e-4, 1e-1, log=True), "act": Categorical(("relu", "tanh"))})
        >>> config = space.sample(np.random.default_rng(0))
        >>> space.validate(config)

    With ``conditions``, e.g. ``[Condition("rate_drop", "booster", ("dart",))]``, a child is active only
    while its parent is active and takes one of the listed values; several conditions on one child must
    all hold.
    """

    __slots__ = ("_domains", "_conditions", "_by_child", "_order", "_size")

    def __init__(self, domains: Mapping[str, Domain], conditions: Iterable[Condition] = ()) -> None:
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
        self._conditions: tuple[Condition, ...] = tuple(conditions)
        self._by_child: dict[str, tuple[Condition, ...]] = {}
        for condition in self._conditions:
            self._check_condition(condition)
            self._by_child[condition.child] = self._by_child.get(condition.child, ()) + (condition,)
        self._order: list[str] = topological_order(self.names, self._conditions)
        self._size: int | None | bool = False  # False: not computed yet

    def _check_condition(self, condition: Condition) -> None:
        if not isinstance(condition, Condition):
            raise SearchSpaceError(f"conditions must be `searchspace.Condition` objects, got {condition!r}")
        for role, name in (("child", condition.child), ("parent", condition.parent)):
            if name not in self._domains:
                raise SearchSpaceError(
                    f"the condition {condition.child} | {condition.describe()} names an unknown {role} {name!r}; "
                    f"available: {', '.join(self._domains)}"
                )
        parent = self._domains[condition.parent]
        bad = [value for value in condition.values if not parent.contains(value)]
        if bad:
            raise SearchSpaceError(
                f"the condition on {condition.child!r} uses value(s) {bad} outside the domain {parent} of "
                f"{condition.parent!r}"
            )

    # Mapping interface ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Domain:
        try:
            return self._domains[name]
        except KeyError:
            raise SearchSpaceError(
                f"unknown hyperparameter {name!r}; available: {', '.join(self._domains)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._domains

    def get(self, name: str, default: Domain | None = None) -> Domain | None:
        return self._domains.get(name, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._domains)

    def __len__(self) -> int:
        return len(self._domains)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, SearchSpace)
            and list(self.items()) == list(other.items())
            and set(self._conditions) == set(other._conditions)
        )

    def __hash__(self) -> int:
        if not self._conditions:
            return hash(tuple(self._domains.items()))
        return hash((tuple(self._domains.items()), frozenset(self._conditions)))

    def __repr__(self) -> str:
        if not self._conditions:
            return f"SearchSpace({self._domains!r})"
        return f"SearchSpace({self._domains!r}, conditions={list(self._conditions)!r})"

    @property
    def names(self) -> list[str]:
        return list(self._domains)

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The conditions, in the order given."""
        return self._conditions

    def conditions_of(self, name: str) -> tuple[Condition, ...]:
        """The conditions on ``name`` (empty if it is always active)."""
        self[name]
        return self._by_child.get(name, ())

    @property
    def size(self) -> int | None:
        """Number of distinct configurations, or None if some domain is continuous.

        With conditions, configurations that differ only in inactive hyperparameters are the same one
        (they all hold None there), so the count is exact, not the product of the domain sizes.
        """
        if not self._conditions:
            total = 1
            for domain in self._domains.values():
                if domain.size is None:
                    return None
                total *= domain.size
            return total
        if self._size is False:
            self._size = self._conditional_size()
        return self._size  # type: ignore[return-value]

    def _conditional_size(self) -> int | None:
        if any(domain.size is None for domain in self._domains.values()):
            return None
        # hyperparameters linked by conditions form groups; groups are independent, so sizes multiply
        group = {name: name for name in self._domains}

        def root(name: str) -> str:
            while group[name] != name:
                name = group[name]
            return name

        for condition in self._conditions:
            group[root(condition.child)] = root(condition.parent)
        members: dict[str, list[str]] = {}
        for name in self._order:
            members.setdefault(root(name), []).append(name)
        return math.prod(self._group_size(names) for names in members.values())

    def _group_size(self, names: list[str]) -> int:
        """Distinct configurations of one group: enumerate its parents (in order), multiply active leaves."""
        parent_names = {condition.parent for condition in self._conditions}
        parents = [name for name in names if name in parent_names]
        leaves = [name for name in names if name not in parent_names]
        config: Config = {}

        def count(i: int) -> int:
            if i == len(parents):
                return math.prod(self._domains[name].size for name in leaves if self._active(name, config))
            name = parents[i]
            if not self._active(name, config):
                config[name] = None
                return count(i + 1)
            total = 0
            for value in self._domains[name].values():
                config[name] = value
                total += count(i + 1)
            return total

        return count(0)

    def _active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Activity of ``name`` given parents that are already None where inactive."""
        return all(condition.holds(config.get(condition.parent)) for condition in self._by_child.get(name, ()))

    def _deactivate(self, config: Config) -> Config:
        """Set every inactive hyperparameter of ``config`` to None (parents first), in place."""
        for name in self._order:
            if name in self._by_child and not self._active(name, config):
                config[name] = None
        return config

    def is_active(self, name: str, config: Mapping[str, Any]) -> bool:
        """Whether ``name`` is active in ``config``: every condition on it holds and its parents are active."""
        self[name]
        for condition in self._by_child.get(name, ()):
            if not (self.is_active(condition.parent, config) and condition.holds(config.get(condition.parent))):
                return False
        return True

    def active_mask(self, columns: Mapping[str, Sequence[Any]], n: int | None = None) -> dict[str, np.ndarray]:
        """Row-wise activity of every hyperparameter for columns of values (e.g. a data frame's columns).

        ``columns`` maps names to equally long sequences; empty cells (None or NaN) and absent columns never
        satisfy a condition. Returns one boolean array per hyperparameter (all True without conditions).
        """
        if n is None:
            n = len(next(iter(columns.values()))) if columns else 0
        return active_masks(self._order, self._by_child, columns, n)

    # Sampling ------------------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator) -> Config:
        """One configuration drawn uniformly (per domain) with ``rng``."""
        return self.sample_many(rng, 1)[0]

    def sample_many(self, rng: np.random.Generator, n: int) -> list[Config]:
        """``n`` configurations; hyperparameters are drawn column by column in the space's order."""
        columns = [domain.sample(rng, n) for domain in self._domains.values()]
        names = self.names
        configs = [dict(zip(names, values)) for values in zip(*columns)]
        if self._conditions:  # every column is drawn as without conditions, then inactive values are dropped
            for config in configs:
                self._deactivate(config)
        return configs

    # Encoding ------------------------------------------------------------------------------------
    def encode(self, config: Mapping[str, Any]) -> np.ndarray:
        """The configuration as a point of [0, 1]^d (d = number of hyperparameters).

        An inactive hyperparameter (value None) maps to ``INACTIVE_COORDINATE`` (0.0).
        """
        self.validate(config)
        return np.array(
            [
                INACTIVE_COORDINATE if config[name] is None else domain.encode(config[name])
                for name, domain in self._domains.items()
            ]
        )

    def decode(self, point: np.ndarray) -> Config:
        """Inverse of ``encode`` (up to rounding for integer and finite domains); inactive ones become None."""
        point = np.asarray(point, dtype=float)
        if point.shape != (len(self),):
            raise SearchSpaceError(f"expected a point of shape ({len(self)},), got {point.shape}")
        config = {name: domain.decode(float(u)) for (name, domain), u in zip(self._domains.items(), point)}
        return self._deactivate(config) if self._conditions else config

    def midpoint(self) -> Config:
        """The configuration at the centre of the encoded cube (inactive hyperparameters are None)."""
        return self.decode(np.full(len(self), 0.5))

    # Validation ----------------------------------------------------------------------------------
    def validate(self, config: Mapping[str, Any]) -> None:
        """Raise ``SearchSpaceError`` naming the first unknown, missing or out-of-domain value."""
        unknown = [name for name in config if name not in self._domains]
        if unknown:
            raise SearchSpaceError(
                f"unknown hyperparameter {unknown[0]!r}; available: {', '.join(self._domains)}"
            )
        for name in self._order:
            domain = self._domains[name]
            if name not in config:
                raise SearchSpaceError(f"configuration is missing hyperparameter {name!r}")
            value = config[name]
            if name in self._by_child:
                failed = next((c for c in self._by_child[name] if not c.holds(config[c.parent])), None)
                if failed is not None:
                    if value is not None:
                        raise SearchSpaceError(
                            f"hyperparameter {name!r} is inactive ({failed.describe()} does not hold, "
                            f"{failed.parent}={config[failed.parent]!r}), so its value must be None, got {value!r}"
                        )
                    continue
                if value is None:
                    raise SearchSpaceError(
                        f"hyperparameter {name!r} is active ("
                        + ", ".join(f"{c.parent}={config[c.parent]!r}" for c in self._by_child[name])
                        + f") and needs a value in {domain}, got None"
                    )
            if not domain.contains(value):
                raise SearchSpaceError(f"value {value!r} of hyperparameter {name!r} is outside its domain {domain}")

    # Serialisation -------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """``{name: domain}``; with conditions ``{"hyperparameters": {name: domain}, "conditions": [...]}``."""
        domains = {name: domain.to_json() for name, domain in self._domains.items()}
        if not self._conditions:
            return domains
        return {"hyperparameters": domains, "conditions": [c.to_json() for c in self._conditions]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> SearchSpace:
        """Inverse of ``to_json``; reads both the plain and the conditional form."""
        if isinstance(data, str):
            data = json.loads(data)
        if set(data) == {"hyperparameters", "conditions"} and isinstance(data["conditions"], list):
            conditions = [Condition.from_json(spec) for spec in data["conditions"]]
            return cls({name: domain_from_json(spec) for name, spec in data["hyperparameters"].items()}, conditions)
        return cls({name: domain_from_json(spec) for name, spec in data.items()})

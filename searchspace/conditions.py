"""Conditional hyperparameters: a child is active only while its parent takes one of some values.

A ``Condition(child, parent, values)`` says "``child`` is active iff ``parent`` is active and its value
is one of ``values``". Several conditions on the same child must all hold (a conjunction, like
ConfigSpace's ``AndConjunction``). An inactive hyperparameter has the value ``None`` in a configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from searchspace.errors import SearchSpaceError


@dataclass(frozen=True, slots=True)
class Condition:
    """``child`` is active iff ``parent`` is active and ``config[parent]`` is one of ``values``."""

    child: str
    parent: str
    values: tuple

    def __post_init__(self) -> None:
        values = tuple(self.values) if isinstance(self.values, (list, tuple)) else (self.values,)
        object.__setattr__(self, "values", values)
        if not values:
            raise SearchSpaceError(f"the condition on {self.child!r} needs at least one value of {self.parent!r}")
        if self.child == self.parent:
            raise SearchSpaceError(f"hyperparameter {self.child!r} cannot be conditioned on itself")

    def holds(self, parent_value: Any) -> bool:
        """Whether the parent value enables the child (``None``, an inactive parent, never does)."""
        return parent_value is not None and parent_value in self.values

    def describe(self) -> str:
        if len(self.values) == 1:
            return f"{self.parent} == {self.values[0]!r}"
        return f"{self.parent} in {list(self.values)}"

    def to_json(self) -> dict[str, Any]:
        return {"child": self.child, "parent": self.parent, "values": list(self.values)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Condition:
        return cls(data["child"], data["parent"], tuple(data["values"]))


def topological_order(names: Sequence[str], conditions: Iterable[Condition]) -> list[str]:
    """``names`` reordered so that parents come before their children (stable: ``names`` order otherwise).

    Raises ``SearchSpaceError`` on a cycle.
    """
    parents: dict[str, set[str]] = {name: set() for name in names}
    for condition in conditions:
        parents[condition.child].add(condition.parent)
    order: list[str] = []
    placed: set[str] = set()
    remaining = list(names)
    while remaining:
        ready = [name for name in remaining if parents[name] <= placed]
        if not ready:
            raise SearchSpaceError(f"the conditions form a cycle among {sorted(remaining)}")
        order.extend(ready)
        placed.update(ready)
        remaining = [name for name in remaining if name not in placed]
    return order


def active_masks(
    order: Sequence[str], by_child: Mapping[str, Sequence[Condition]], columns: Mapping[str, Sequence[Any]], n: int
) -> dict[str, np.ndarray]:
    """Row-wise activity of every hyperparameter in ``order`` for ``n`` rows of column values.

    A column that is absent counts as empty; empty cells (None or NaN) never satisfy a condition.
    """
    masks: dict[str, np.ndarray] = {}
    for name in order:
        mask = np.ones(n, dtype=bool)
        for condition in by_child.get(name, ()):
            mask &= masks[condition.parent]
            values = columns.get(condition.parent)
            if values is None:
                mask[:] = False
                continue
            column = np.asarray(values, dtype=object)
            hit = np.zeros(n, dtype=bool)
            for value in condition.values:
                hit |= np.broadcast_to(np.asarray(column == value, dtype=bool), (n,))
            mask &= hit
        masks[name] = mask
    return masks

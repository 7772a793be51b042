"""ConfigSpace JSON (``config_space.json`` of a YAHPO scenario) to our ``SearchSpace`` with conditions.

Supported: ``uniform_float``/``uniform_int`` (with ``log``), ``categorical``, ``ordinal`` and ``constant``
hyperparameters; ``EQ``/``IN`` conditions and ``AND`` conjunctions of them (several conditions on one
child must all hold, which is how ``SearchSpace`` combines them). ``OR`` conjunctions and forbidden
clauses do not occur in yahpo_data v1.0.2 and are refused with a clear error.

Float bounds carry the round-off of the log transform that wrote them (``lcbench``'s learning rate is
documented as [1e-4, 0.1] but stored as ``[0.00010000000000000009, 0.10000000000000002]``, which refuses
1e-4). A bound within a relative ``BOUND_TOLERANCE`` of a decimal with at most ``BOUND_DIGITS`` significant
digits is moved to that decimal when this widens the range (never narrows it): every value accepted before
is still accepted, and the documented bounds are too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from blackbox_repository.errors import BlackboxError
from searchspace import Categorical, Condition, Domain, Float, Integer, Ordinal, SearchSpace

#: how far (relative) a stored float bound may be from the decimal it stands for
BOUND_TOLERANCE = 1e-12
#: most significant digits of a documented bound
BOUND_DIGITS = 10


def documented_bound(value: float, side: Literal["lower", "upper"]) -> float:
    """The shortest decimal (``BOUND_DIGITS`` significant digits at most) within ``BOUND_TOLERANCE`` of ``value``
    if it lies outside the range (below a lower bound, above an upper one), else ``value`` itself."""
    for digits in range(1, BOUND_DIGITS + 1):
        candidate = float(f"{value:.{digits}g}")
        if abs(candidate - value) <= BOUND_TOLERANCE * abs(value):
            widens = candidate <= value if side == "lower" else candidate >= value
            return candidate if widens else value
    return value


def read_config_space(path: Path | str) -> SearchSpace:
    """The full space of a ``config_space.json`` (instance and fidelity parameters included)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise BlackboxError(f"cannot read the ConfigSpace JSON {path}: {error}") from None
    return parse_config_space(data, source=str(path))


def parse_config_space(data: Mapping[str, Any], source: str = "config space") -> SearchSpace:
    """A ``SearchSpace`` from ConfigSpace's JSON format (``hyperparameters`` and ``conditions``)."""
    if data.get("forbiddens"):
        raise BlackboxError(f"{source}: forbidden clauses are not supported")
    domains = {spec["name"]: _domain(spec, source) for spec in data.get("hyperparameters", [])}
    conditions = [condition for spec in data.get("conditions", []) for condition in _conditions(spec, source)]
    return SearchSpace(domains, conditions)


def _domain(spec: Mapping[str, Any], source: str) -> Domain:
    kind = spec.get("type")
    if kind == "uniform_float":
        low, high = documented_bound(float(spec["lower"]), "lower"), documented_bound(float(spec["upper"]), "upper")
        return Float(low, high, log=bool(spec.get("log", False)))
    if kind == "uniform_int":
        return Integer(int(spec["lower"]), int(spec["upper"]), log=bool(spec.get("log", False)))
    if kind == "categorical":
        return Categorical(tuple(spec["choices"]))
    if kind == "ordinal":
        return Ordinal(tuple(spec["sequence"]))
    if kind == "constant":
        return Categorical((spec["value"],))
    raise BlackboxError(f"{source}: hyperparameter {spec.get('name')!r} has the unsupported type {kind!r}")


def _conditions(spec: Mapping[str, Any], source: str) -> list[Condition]:
    kind = spec.get("type")
    if kind == "EQ":
        return [Condition(spec["child"], spec["parent"], (spec["value"],))]
    if kind == "IN":
        return [Condition(spec["child"], spec["parent"], tuple(spec["values"]))]
    if kind == "AND":
        return [condition for part in spec["conditions"] for condition in _conditions(part, source)]
    raise BlackboxError(f"{source}: the condition type {kind!r} on {spec.get('child')!r} is not supported")

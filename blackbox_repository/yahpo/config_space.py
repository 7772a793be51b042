"""ConfigSpace JSON (``config_space.json`` of a YAHPO scenario) to our ``SearchSpace`` with conditions.

Supported: ``uniform_float``/``uniform_int`` (with ``log``), ``categorical``, ``ordinal`` and ``constant``
hyperparameters; ``EQ``/``IN`` conditions and ``AND`` conjunctions of them (several conditions on one
child must all hold, which is how ``SearchSpace`` combines them). ``OR`` conjunctions and forbidden
clauses do not occur in yahpo_data v1.0.2 and are refused with a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blackbox_repository.errors import BlackboxError
from searchspace import Categorical, Condition, Domain, Float, Integer, Ordinal, SearchSpace


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
        return Float(float(spec["lower"]), float(spec["upper"]), log=bool(spec.get("log", False)))
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

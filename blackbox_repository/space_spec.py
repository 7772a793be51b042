"""Declared search spaces for ``import_table``: a JSON/TOML file or ``NAME:TYPE:...`` flags.

A declaration file maps each hyperparameter to its domain, in the format ``SearchSpace.to_json`` writes
(``.json``) or the same tables in TOML (``.toml``)::

    {"learning_rate": {"type": "float", "low": 1e-4, "high": 0.1, "log": true},
     "num_layers": {"type": "int", "low": 1, "high": 5},
     "activation": {"type": "categorical", "choices": ["relu", "tanh"]},
     "batch_size": {"type": "ordinal", "choices": [16, 32, 64]}}

A flag declares one hyperparameter: ``NAME:float:LOW:HIGH[:log]``, ``NAME:int:LOW:HIGH[:log]``,
``NAME:categorical:A,B,C`` or ``NAME:ordinal:A,B,C`` (choices in order; numbers are read as numbers).
A bare ``NAME`` declares nothing: that column's domain is inferred from the table.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from blackbox_repository.errors import BlackboxError
from searchspace import Categorical, Domain, Float, Integer, Ordinal, SearchSpace, SearchSpaceError

FLAG_FORMS = (
    "NAME, NAME:float:LOW:HIGH[:log], NAME:int:LOW:HIGH[:log], NAME:categorical:A,B,... or NAME:ordinal:A,B,..."
)


def read_space_file(path: Path | str) -> SearchSpace:
    """The space declared in a ``.json`` or ``.toml`` file (``SearchSpace.to_json`` format)."""
    path = Path(path)
    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise BlackboxError(f"space file {path} does not exist; check the path") from None
    except (OSError, ValueError) as error:
        raise BlackboxError(f"cannot read the space file {path}: {' '.join(str(error).split())}") from None
    try:
        return SearchSpace.from_json(data)
    except (SearchSpaceError, KeyError, TypeError, AttributeError) as error:
        raise BlackboxError(
            f"space file {path}: {error!s}; declare each hyperparameter as e.g. "
            '{"lr": {"type": "float", "low": 1e-4, "high": 0.1, "log": true}}'
        ) from None


def parse_hyperparameter_flags(flags: Sequence[str]) -> tuple[list[str], dict[str, Domain]]:
    """Column names in order, and the domains declared by the ``NAME:TYPE:...`` flags among them."""
    names, domains = [], {}
    for flag in flags:
        name, _, rest = flag.partition(":")
        if not name:
            raise BlackboxError(f"bad hyperparameter {flag!r}; use {FLAG_FORMS}")
        if name in names:
            raise BlackboxError(f"hyperparameter {name!r} is given twice; give each once")
        names.append(name)
        if rest:
            domains[name] = _parse_domain(flag, rest)
    return names, domains


def _parse_domain(flag: str, rest: str) -> Domain:
    kind, _, arguments = rest.partition(":")
    parts = arguments.split(":") if arguments else []
    try:
        if kind in ("float", "int") and len(parts) in (2, 3) and parts[2:] in ([], ["log"]):
            low, high = (_number(part) for part in parts[:2])
            if kind == "float":
                return Float(float(low), float(high), log=len(parts) == 3)
            if not (float(low).is_integer() and float(high).is_integer()):
                raise SearchSpaceError(f"int bounds must be integers, got {parts[0]} and {parts[1]}")
            return Integer(int(low), int(high), log=len(parts) == 3)
        if kind in ("categorical", "ordinal") and arguments:
            choices = tuple(_choice(choice) for choice in arguments.split(","))
            return Categorical(choices) if kind == "categorical" else Ordinal(choices)
    except (SearchSpaceError, ValueError) as error:
        raise BlackboxError(f"bad hyperparameter {flag!r}: {error}") from None
    raise BlackboxError(f"bad hyperparameter {flag!r}; use {FLAG_FORMS}")


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"bounds must be finite numbers, got {text!r}")
    return value


def _choice(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def domain_flag(name: str, domain: Domain) -> str | None:
    """The ``--hyperparameter`` flag value declaring ``domain`` (None if no flag can: e.g. a grid, or a comma
    inside a choice)."""
    if isinstance(domain, (Float, Integer)):
        kind = "float" if isinstance(domain, Float) else "int"
        return f"{name}:{kind}:{domain.low!r}:{domain.high!r}" + (":log" if domain.log else "")
    if isinstance(domain, (Categorical, Ordinal)):
        texts = [str(choice) for choice in domain.choices]
        if any("," in text or _choice(text) != choice for text, choice in zip(texts, domain.choices)):
            return None
        return f"{name}:{domain.kind}:{','.join(texts)}"
    return None

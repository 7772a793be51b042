"""Hyperparameter domains: frozen values that validate themselves, sample and encode to [0, 1].

Every domain maps a value to one coordinate in [0, 1] (``encode``) and back (``decode``), and draws
values from a ``numpy.random.Generator`` (``sample``, vectorised: it returns a list of ``n`` plain
Python values). Finite domains encode index ``i`` of ``n`` as the bin centre ``(i + 0.5) / n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from searchspace.errors import SearchSpaceError


def _check_finite_number(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SearchSpaceError(f"`{name}` must be a finite number, but got {value!r}")


@dataclass(frozen=True, slots=True)
class Float:
    """A real-valued hyperparameter in ``[low, high]``, uniform on a linear or log scale."""

    low: float
    high: float
    log: bool = False
    kind: ClassVar[str] = "float"

    def __post_init__(self) -> None:
        _check_finite_number("low", self.low)
        _check_finite_number("high", self.high)
        if self.low > self.high:
            raise SearchSpaceError(
                f"`low <= high` must hold, but got (low={self.low}, high={self.high})"
            )
        if self.log and self.low <= 0:
            raise SearchSpaceError(
                f"a log-scale domain needs `low > 0`, but got low={self.low}; "
                "use log=False or a positive lower bound"
            )

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            return False
        return self.low <= value <= self.high

    def sample(self, rng: np.random.Generator, n: int) -> list[float]:
        if self.log:
            u = rng.uniform(math.log(self.low), math.log(self.high), size=n)
            return np.clip(np.exp(u), self.low, self.high).tolist()
        return rng.uniform(self.low, self.high, size=n).tolist()

    def encode(self, value: float) -> float:
        if self.low == self.high:
            return 0.5
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            return (math.log(value) - lo) / (hi - lo)
        return (value - self.low) / (self.high - self.low)

    def decode(self, u: float) -> float:
        u = min(max(u, 0.0), 1.0)
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            value = math.exp(lo + u * (hi - lo))
        else:
            value = self.low + u * (self.high - self.low)
        return min(max(value, self.low), self.high)

    @property
    def size(self) -> int | None:
        return None

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True, slots=True)
class Integer:
    """An integer hyperparameter in ``[low, high]`` (both included), linear or log scale.

    On the linear scale each integer owns an equal slice of [0, 1]; on the log scale the value is
    the rounded exponential of a uniform draw on ``[log(low - 0.5), log(high + 0.5)]``.
    """

    low: int
    high: int
    log: bool = False
    kind: ClassVar[str] = "int"

    def __post_init__(self) -> None:
        for name in ("low", "high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise SearchSpaceError(f"`{name}` of an Integer domain must be an int, got {value!r}")
        if self.low > self.high:
            raise SearchSpaceError(
                f"`low <= high` must hold, but got (low={self.low}, high={self.high})"
            )
        if self.log and self.low <= 0:
            raise SearchSpaceError(
                f"a log-scale domain needs `low > 0`, but got low={self.low}; "
                "use log=False or a positive lower bound"
            )

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            return False
        return self.low <= value <= self.high

    def _log_bounds(self) -> tuple[float, float]:
        return math.log(self.low - 0.5) if self.low > 0.5 else math.log(0.5), math.log(self.high + 0.5)

    def sample(self, rng: np.random.Generator, n: int) -> list[int]:
        if self.log:
            lo, hi = self._log_bounds()
            values = np.rint(np.exp(rng.uniform(lo, hi, size=n)))
            return np.clip(values, self.low, self.high).astype(np.int64).tolist()
        return rng.integers(self.low, self.high + 1, size=n).tolist()

    def encode(self, value: int) -> float:
        if self.log:
            lo, hi = self._log_bounds()
            return (math.log(value) - lo) / (hi - lo)
        return (value - self.low + 0.5) / (self.high - self.low + 1)

    def decode(self, u: float) -> int:
        u = min(max(u, 0.0), 1.0)
        if self.log:
            lo, hi = self._log_bounds()
            value = round(math.exp(lo + u * (hi - lo)))
        else:
            value = self.low + math.floor(u * (self.high - self.low + 1))
        return int(min(max(value, self.low), self.high))

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def values(self) -> tuple[int, ...]:
        """Every value of the domain, in increasing order."""
        return tuple(range(self.low, self.high + 1))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "low": int(self.low), "high": int(self.high), "log": self.log}


@dataclass(frozen=True, slots=True)
class _Finite:
    """Shared behaviour of domains with a finite list of values, encoded by position."""

    choices: tuple
    _lookup: dict = field(default=None, init=False, repr=False, compare=False, hash=False)
    kind: ClassVar[str] = "finite"

    def __post_init__(self) -> None:
        choices = tuple(self.choices)
        object.__setattr__(self, "choices", choices)
        if not choices:
            raise SearchSpaceError(f"a {type(self).__name__} domain needs at least one choice, got none")
        if len(set(choices)) != len(choices):
            raise SearchSpaceError(f"choices of a {type(self).__name__} domain must be distinct: {choices}")
        object.__setattr__(self, "_lookup", {value: i for i, value in enumerate(choices)})

    def contains(self, value: Any) -> bool:
        try:
            return value in self._lookup
        except TypeError:
            return False

    def index(self, value: Any) -> int:
        try:
            return self._lookup[value]
        except (KeyError, TypeError):
            raise SearchSpaceError(f"{value!r} is not one of {list(self.choices)}") from None

    def sample(self, rng: np.random.Generator, n: int) -> list:
        picks = rng.integers(0, len(self.choices), size=n)
        return [self.choices[i] for i in picks.tolist()]

    def encode(self, value: Any) -> float:
        return (self.index(value) + 0.5) / len(self.choices)

    def decode(self, u: float) -> Any:
        i = math.floor(min(max(u, 0.0), 1.0) * len(self.choices))
        return self.choices[min(i, len(self.choices) - 1)]

    @property
    def size(self) -> int:
        return len(self.choices)

    def values(self) -> tuple:
        """Every value of the domain, in the domain's order."""
        return self.choices

    def to_json(self) -> dict[str, Any]:
        return {"type": self.kind, "choices": list(self.choices)}


@dataclass(frozen=True, slots=True)
class Categorical(_Finite):
    """Unordered choices (strings, numbers or booleans)."""

    kind: ClassVar[str] = "categorical"


@dataclass(frozen=True, slots=True)
class Ordinal(_Finite):
    """Ordered choices; the order given is the order used for encoding."""

    kind: ClassVar[str] = "ordinal"


@dataclass(frozen=True, slots=True)
class Grid(_Finite):
    """A finite grid of numbers, kept in increasing order (e.g. a tabulated learning-rate grid)."""

    kind: ClassVar[str] = "grid"

    def __post_init__(self) -> None:
        _Finite.__post_init__(self)
        for value in self.choices:
            _check_finite_number("grid value", value)
        if list(self.choices) != sorted(self.choices):
            raise SearchSpaceError(f"grid values must be increasing, got {list(self.choices)}")

    @classmethod
    def linspace(cls, low: float, high: float, num: int, *, log: bool = False) -> Grid:
        """``num`` points from ``low`` to ``high``, evenly spaced on a linear or log scale."""
        Float(low, high, log=log)  # same bound checks as a continuous domain
        points = np.geomspace(low, high, num) if log else np.linspace(low, high, num)
        return cls(tuple(points.tolist()))


Domain = Float | Integer | Categorical | Ordinal | Grid

_KINDS: dict[str, type] = {cls.kind: cls for cls in (Float, Integer, Categorical, Ordinal, Grid)}


def domain_from_json(data: dict[str, Any]) -> Domain:
    """Inverse of ``Domain.to_json``."""
    kind = data.get("type")
    if kind not in _KINDS:
        raise SearchSpaceError(f"unknown domain type {kind!r}; expected one of {sorted(_KINDS)}")
    if kind in ("float", "int"):
        return _KINDS[kind](data["low"], data["high"], log=bool(data.get("log", False)))
    return _KINDS[kind](tuple(data["choices"]))

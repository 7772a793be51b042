"""Configurations as model inputs: numbers in [0, 1] (log-scaled where the domain is), categoricals one-hot.

Floats and integers use their domain's encoding (``Float.encode``: linear or log scale to [0, 1]); ordinal and
grid choices their position in [0, 1]; a categorical with k choices k columns, one of them 1. An inactive
conditional hyperparameter has all its columns 0: a number sits at its lower edge, a one-hot block of zeros
matches no choice, so configurations that differ only in inactive values encode alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from searchspace import SearchSpace
from searchspace.domains import Categorical


class ConfigEncoder:
    """Maps configurations of ``space`` to rows of a float matrix with ``dimension`` columns."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space
        self._columns: list[tuple[str, Any, int, int]] = []  # (name, domain, first column, width)
        column = 0
        for name in space.names:
            domain = space[name]
            width = len(domain.choices) if isinstance(domain, Categorical) else 1
            self._columns.append((name, domain, column, width))
            column += width
        self.dimension = column

    def encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """One row per configuration."""
        matrix = np.zeros((len(configs), self.dimension))
        for name, domain, first, width in self._columns:
            if width > 1 or isinstance(domain, Categorical):
                index = {value: i for i, value in enumerate(domain.choices)}
                for row, config in enumerate(configs):
                    value = config.get(name)
                    if value is not None:
                        matrix[row, first + index[value]] = 1.0
            else:
                encode = domain.encode
                matrix[:, first] = [0.0 if config.get(name) is None else encode(config[name]) for config in configs]
        return matrix

    def encode_one(self, config: Mapping[str, Any]) -> np.ndarray:
        return self.encode([config])[0]

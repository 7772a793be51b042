"""Inputs of a YAHPO surrogate, as yahpo-gym 1.0.2 builds them, from a data frame or one configuration.

- categorical features: the int32 code of the value in ``encoding.json``, in ``cat_names`` order; an
  inactive (or absent) value is fed as the code of ``"#na#"``;
- continuous features (fidelity parameters included): the raw value as float32, in ``cont_names`` order;
  an inactive value is fed as 0. There is no log transform and no scaling on this side: the ONNX graph
  holds the surrogate's own input transforms, and its output is used as it is.

``encode_frame`` validates a whole batch with vectorised checks (missing columns, unknown categories,
values outside their range, non-integers for integer parameters, values for inactive hyperparameters and
empty cells of active ones) and raises a one-line ``BlackboxError`` naming the first offending row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.errors import BlackboxError
from blackbox_repository.yahpo.scenarios import ScenarioFacts
from searchspace import Categorical, Integer, Ordinal, SearchSpace

NA = "#na#"


class FeatureEncoder:
    """Builds the two ONNX inputs of one scenario.

    Args:
        facts: the scenario's facts (feature orders).
        space: the scenario's full space (instance and fidelity parameters included), with conditions.
        codes: ``encoding.json``: per categorical feature, value -> integer code (``"#na#"`` included).
    """

    def __init__(self, facts: ScenarioFacts, space: SearchSpace, codes: Mapping[str, Mapping[str, int]]) -> None:
        self.facts = facts
        self.space = space
        for name in facts.cat_names:
            domain = space[name]
            missing = [value for value in domain.values() if value not in codes.get(name, {})]
            if missing or NA not in codes.get(name, {}):
                raise BlackboxError(
                    f"YAHPO {facts.name}: encoding.json has no code for {(missing or [NA])[:3]} of {name!r}; "
                    "config_space.json and encoding.json are from different releases"
                )
        self.codes = {name: dict(codes[name]) for name in facts.cat_names}
        self.na_codes = {name: self.codes[name][NA] for name in facts.cat_names}

    # One configuration (no validation: the caller validates against its space) ----------------------
    def encode_config(self, config: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """One row of each input from a complete mapping of every feature (None: inactive)."""
        cat = [self.na_codes[name] if config[name] is None else self.codes[name][config[name]]
               for name in self.facts.cat_names]
        cont = [0.0 if config[name] is None else float(config[name]) for name in self.facts.cont_names]
        return np.array(cat, dtype=np.int32), np.array(cont, dtype=np.float64).astype(np.float32)

    # A batch ---------------------------------------------------------------------------------------
    def encode_frame(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Validated inputs ``(x_cat, x_cont)`` for every row of ``frame`` (one column per feature)."""
        n = len(frame)
        required = [name for name in self.space.names if not self.space.conditions_of(name)]
        missing = [name for name in required if name not in frame.columns]
        if missing:
            raise BlackboxError(f"YAHPO {self.facts.name}: the input lacks column(s) {missing}")
        index = frame.index
        columns: dict[str, np.ndarray] = {}
        for name in self.facts.cat_names:
            columns[name] = self._categories(name, frame[name] if name in frame.columns else None, n, index)
        for name in self.facts.cont_names:
            columns[name] = self._numbers(name, frame[name] if name in frame.columns else None, n, index)
        active = self.space.active_mask(columns, n)
        for name in self.space.names:
            empty = _empty(columns[name])
            self._check_activity(name, active[name], empty, columns, index)
        x_cat = np.empty((n, len(self.facts.cat_names)), dtype=np.int32)
        for j, name in enumerate(self.facts.cat_names):
            codes = self.codes[name]
            na = self.na_codes[name]
            x_cat[:, j] = [na if value is None else codes[value] for value in columns[name]]
        x_cont = np.empty((n, len(self.facts.cont_names)), dtype=np.float32)
        for j, name in enumerate(self.facts.cont_names):
            x_cont[:, j] = np.nan_to_num(columns[name], nan=0.0)
        return x_cat, x_cont

    def _categories(self, name: str, series: pd.Series | None, n: int, index: pd.Index) -> np.ndarray:
        """The column as an object array of canonical strings (None where empty); unknown values refused."""
        out = np.full(n, None, dtype=object)
        if series is None:
            return out
        domain = self.space[name]
        choices = set(domain.values())
        empty = series.isna().to_numpy()
        values = series.to_numpy(dtype=object)
        canonical = {value: category_text(value, choices) for value in pd.unique(values[~empty])}
        present = np.flatnonzero(~empty)
        bad = [value for value, text in canonical.items() if text not in choices]
        if bad:
            row = index[next(i for i in present if canonical[values[i]] not in choices)]
            shown = ", ".join(str(choice) for choice in list(domain.values())[:8])
            more = f", ... ({len(choices)} in all)" if len(choices) > 8 else ""
            what = "instance" if name == self.facts.instance_name else "value"
            raise BlackboxError(
                f"YAHPO {self.facts.name}: unknown {what} {name}={bad[0]!r} in row {row}; valid: {shown}{more}"
            )
        out[present] = [canonical[value] for value in values[present]]
        return out

    def _numbers(self, name: str, series: pd.Series | None, n: int, index: pd.Index) -> np.ndarray:
        """The column as float64 (NaN where empty); non-numbers, out-of-range values and non-integers refused."""
        if series is None:
            return np.full(n, np.nan)
        domain = self.space[name]
        if isinstance(domain, (Categorical, Ordinal)):  # a constant or ordinal among continuous features
            raise BlackboxError(f"YAHPO {self.facts.name}: {name!r} is not numeric in config_space.json")
        if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
            numbers = pd.to_numeric(series, errors="coerce") if not pd.api.types.is_bool_dtype(series) else None
            bad = series.notna() if numbers is None else numbers.isna() & series.notna()
            if bad.any():
                pos = int(np.flatnonzero(bad.to_numpy())[0])
                raise BlackboxError(
                    f"YAHPO {self.facts.name}: {name}={series.iloc[pos]!r} in row {index[pos]} is not a number"
                )
            series = numbers
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        present = ~np.isnan(values)
        outside = present & ((values < domain.low) | (values > domain.high))
        if isinstance(domain, Integer):
            outside |= present & (values != np.floor(values))
        if outside.any():
            row = index[np.flatnonzero(outside)[0]]
            value = float(values[np.flatnonzero(outside)[0]])
            value = int(value) if value.is_integer() else value
            kind = "an integer" if isinstance(domain, Integer) else "a number"
            raise BlackboxError(
                f"YAHPO {self.facts.name}: {name}={value!r} in row {row} is outside its range: {kind} in "
                f"[{domain.low}, {domain.high}]"
            )
        return values

    def _check_activity(
        self, name: str, active: np.ndarray, empty: np.ndarray, columns: Mapping[str, np.ndarray], index: pd.Index
    ) -> None:
        conditions = self.space.conditions_of(name)
        missing = active & empty
        if missing.any():
            i = np.flatnonzero(missing)[0]
            reason = f" ({_parents(conditions, columns, i)})" if conditions else ""
            raise BlackboxError(f"YAHPO {self.facts.name}: {name} is active{reason} but empty in row {index[i]}")
        extra = ~active & ~empty
        if extra.any():
            i = np.flatnonzero(extra)[0]
            raise BlackboxError(
                f"YAHPO {self.facts.name}: {name} is inactive ({_parents(conditions, columns, i)}) in row {index[i]} "
                "and must be left empty"
            )


def _empty(column: np.ndarray) -> np.ndarray:
    if column.dtype == object:
        return np.array([value is None for value in column], dtype=bool)
    return np.isnan(column)


def _parents(conditions: tuple, columns: Mapping[str, np.ndarray], i: int) -> str:
    return ", ".join(f"{c.parent}={columns[c.parent][i]!r}" for c in conditions)


def category_text(value: Any, choices: set) -> Any:
    """A cell as the string the encoding uses: task ids read as numbers, R's TRUE/FALSE read as booleans."""
    if isinstance(value, (bool, np.bool_)):
        text = "TRUE" if value else "FALSE"
        return text if text in choices else str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)

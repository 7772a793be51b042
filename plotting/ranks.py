"""Average ranks of methods over benchmarks and seeds, per time point."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["average_ranks"]

_REQUIRED = ("benchmark", "method", "seed")


def _signs(benchmarks: pd.Index, mode: str | Mapping[str, str]) -> np.ndarray:
    """Per benchmark +1 where lower is better, -1 where higher is better."""
    sign_of = {"min": 1.0, "max": -1.0}
    modes = [mode] * len(benchmarks) if isinstance(mode, str) else None
    if modes is None:
        missing = [b for b in benchmarks if b not in mode]
        if missing:
            raise ValueError(f"no mode given for benchmark(s) {missing}")
        modes = [mode[b] for b in benchmarks]
    unknown = sorted({str(m) for m in modes if m not in sign_of})
    if unknown:
        raise ValueError(f"modes must be 'min' or 'max', got {unknown}")
    return np.array([sign_of[m] for m in modes], dtype=float)


def average_ranks(values: pd.DataFrame, mode: str | Mapping[str, str], *, value: str = "value") -> pd.DataFrame:
    """Rank methods within each (benchmark, seed, time) and average the ranks over seeds and benchmarks.

    ``values`` is long: columns benchmark, method, seed, ``value`` and optionally ``time`` (all methods on a common
    time grid, e.g. best-so-far resampled onto fixed times; without a ``time`` column there is one ranking per
    (benchmark, seed)).  ``mode`` is "min"/"max" or a mapping benchmark -> mode.

    Within a cell, rank 1 is the best method and ties get the average of the ranks they span.  A method without a
    row or with a NaN value in a cell is left out of that cell (the other methods are ranked among themselves), and
    is counted in ``n_missing``.  The mean rank first averages over the seeds of each benchmark, then over
    benchmarks (each benchmark weighs the same; equal to the plain mean over cells when every method has every
    seed).  Columns: [time,] method, mean_rank, n (cells where the method was ranked), n_missing (cells at that
    time where other methods were ranked but this one was not); rows by time, then methods in order of first
    appearance in ``values``.
    """
    missing_columns = [c for c in (*_REQUIRED, value) if c not in values.columns]
    if missing_columns:
        raise ValueError(f"values lacks column(s) {missing_columns}")
    has_time = "time" in values.columns
    cell = ["benchmark", "seed", "time"] if has_time else ["benchmark", "seed"]
    # grouping on integer codes is much faster than on (string) names
    bench_codes, bench_names = pd.factorize(values["benchmark"])
    method_codes, method_names = pd.factorize(values["method"])
    if (bench_codes < 0).any() or (method_codes < 0).any():
        raise ValueError("values has missing benchmark or method names")
    frame = pd.DataFrame({"benchmark": bench_codes, "seed": values["seed"].to_numpy(), "method": method_codes})
    if has_time:
        frame["time"] = values["time"].to_numpy()
    if frame.duplicated([*cell, "method"]).any():
        raise ValueError(f"values has several rows for the same ({', '.join(cell)}, method)")
    frame["_key"] = values[value].to_numpy(dtype=float, na_value=np.nan) * _signs(bench_names, mode)[bench_codes]
    frame = frame[~np.isnan(frame["_key"].to_numpy())]
    frame["_rank"] = frame.groupby(cell, sort=False)["_key"].rank(method="average")
    frame = frame[frame["_rank"].notna()]  # rows with a missing seed/time belong to no cell

    per_time = ["time"] if has_time else []
    per_benchmark = frame.groupby(["benchmark", *per_time, "method"], sort=False)["_rank"].agg(["mean", "size"])
    result = (
        per_benchmark.groupby([*per_time, "method"]).agg(mean_rank=("mean", "mean"), n=("size", "sum")).reset_index()
    )
    if has_time:
        cells = frame[cell].drop_duplicates().groupby("time").size().rename("_cells")
        result = result.join(cells, on="time")
    else:
        result["_cells"] = len(frame[cell].drop_duplicates())
    result["n_missing"] = result["_cells"] - result["n"]
    result = result.drop(columns="_cells")
    result["n"] = result["n"].astype(np.int64)
    result["n_missing"] = result["n_missing"].astype(np.int64)
    result = result.sort_values([*per_time, "method"], kind="stable").reset_index(drop=True)
    result["method"] = method_names.take(result["method"].to_numpy())
    return result

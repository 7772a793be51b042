"""The tables of one stored run, for figures of single runs (learning curves, hyperparameter importance).

``read_run_data(path)`` reads ``metadata.json`` and the wanted columns of ``results.parquet`` and ``trials.parquet``
of a complete run, local or behind an fsspec URL, after checking both tables against the SHA-256 in the metadata
(``experiments.store_format``). Helpers name the columns a figure needs: ``fidelity_column`` (the epoch column),
``hyperparameter_columns`` (of trials.parquet), ``rung_levels`` and ``max_t`` of the run.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments import store_format
from plotting.errors import LoadError

#: columns of trials.parquet that are not hyperparameters
TRIAL_COLUMNS = ("trial_id", "seed", "status", "last_epoch", "checkpoint_from")
#: columns of results.parquet that are neither hyperparameters, the fidelity nor objectives
RESULT_COLUMNS = ("trial_id", "seed", "time", "worker", "decision", "best_so_far")


@dataclass
class RunData:
    """One run: its metadata, the columns of results.parquet and trials.parquet that were read, where it is."""

    path: str
    metadata: dict[str, Any]
    results: pd.DataFrame
    trials: pd.DataFrame

    @property
    def label(self) -> str:
        """``method on benchmark, seed n`` (for titles)."""
        meta = self.metadata
        return f"{meta.get('method', '?')} on {meta.get('benchmark', '?')}, seed {meta.get('seed', '?')}"


def read_run_data(
    path: str | Path,
    *,
    results_columns: Sequence[str] | None = None,
    trials_columns: Sequence[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> RunData:
    """Read the complete run in ``path`` (a run directory or URL): ``LoadError`` (one line) if it is not complete
    or a table does not match its SHA-256. Columns not in a table are left out (None: all columns)."""
    text = str(path)
    if "://" in text and not text.startswith("file://"):
        return _read_remote(text.rstrip("/"), results_columns, trials_columns, storage_options)
    local = Path(text.removeprefix("file://"))
    metadata = store_format.read_complete_metadata(local)
    if metadata is None:
        raise LoadError(f"{local} holds no complete run (no valid {store_format.METADATA_FILE})")
    try:
        store_format.verify_run(local, metadata)
    except store_format.CorruptRunError as error:
        raise LoadError(str(error)) from None
    results = _read(local / store_format.RESULTS_FILE, results_columns)
    trials = _read(local / store_format.TRIALS_FILE, trials_columns)
    return RunData(str(local), metadata, results, trials)


def _read(source: Any, columns: Sequence[str] | None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    file = pq.ParquetFile(source)
    names = file.schema_arrow.names
    wanted = None if columns is None else [c for c in dict.fromkeys(columns) if c in names]
    return file.read(columns=wanted, use_threads=False).to_pandas()


def _read_remote(
    url: str,
    results_columns: Sequence[str] | None,
    trials_columns: Sequence[str] | None,
    storage_options: Mapping[str, Any] | None,
) -> RunData:
    try:
        import fsspec

        fs, root = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        metadata = json.loads(fs.cat_file(f"{root}/{store_format.METADATA_FILE}"))
        tables = {name: fs.cat_file(f"{root}/{name}") for name in store_format.DATA_FILES}
    except (ImportError, OSError, ValueError) as error:
        raise LoadError(f"cannot read the run {url}: {' '.join(str(error).split())}") from None
    sizes = {name: len(data) for name, data in tables.items()}
    if not store_format.metadata_complete(metadata, sizes):
        raise LoadError(f"{url} holds no complete run (no valid {store_format.METADATA_FILE})")
    try:
        for name, data in tables.items():
            store_format.verify_bytes(url, name, data, metadata)
    except store_format.CorruptRunError as error:
        raise LoadError(str(error)) from None
    results = _read(io.BytesIO(tables[store_format.RESULTS_FILE]), results_columns)
    trials = _read(io.BytesIO(tables[store_format.TRIALS_FILE]), trials_columns)
    return RunData(url, metadata, results, trials)


def read_columns(path: str | Path, storage_options: Mapping[str, Any] | None = None) -> dict[str, list[str]]:
    """The column names of both tables of a stored run (schema only), by file name."""
    import pyarrow.parquet as pq

    text = str(path)
    out = {}
    for name in store_format.DATA_FILES:
        if "://" in text and not text.startswith("file://"):
            import fsspec

            fs, source = fsspec.core.url_to_fs(f"{text.rstrip('/')}/{name}", **dict(storage_options or {}))
            out[name] = pq.read_schema(source, filesystem=fs).names
        else:
            out[name] = pq.read_schema(Path(text.removeprefix("file://")) / name).names
    return out


def fidelity_column(columns: Sequence[str], metadata: Mapping[str, Any] | None = None) -> str:
    """The fidelity (epoch) column of results.parquet: ``fidelity_name`` in the metadata if recorded, else
    ``epoch`` if present, else the column just before ``time`` (where ``experiments`` writes it)."""
    metadata = metadata or {}
    for name in (metadata.get("fidelity_name"), (metadata.get("settings") or {}).get("fidelity_name")):
        if isinstance(name, str) and name in columns:
            return name
    if "epoch" in columns:
        return "epoch"
    columns = list(columns)
    if "time" in columns and columns.index("time") > 0:
        return columns[columns.index("time") - 1]
    raise LoadError(f"cannot tell the fidelity column of results.parquet (columns: {', '.join(columns)})")


def hyperparameter_columns(trials_columns: Sequence[str]) -> list[str]:
    """The hyperparameter columns of trials.parquet: every column but ``TRIAL_COLUMNS``, in their order."""
    return [c for c in trials_columns if c not in TRIAL_COLUMNS]


def rung_levels(metadata: Mapping[str, Any]) -> list[int] | None:
    """The run's rung levels (``rung_levels`` in metadata.json; [] for a method without rungs), or None for runs
    stored before they were recorded."""
    levels = metadata.get("rung_levels")
    if levels is None:
        levels = (metadata.get("settings") or {}).get("rung_levels")
    if levels is None:
        return None
    flat = [v for level in levels for v in (level if isinstance(level, list | tuple) else [level])]
    return sorted({int(level) for level in flat})


def max_t(metadata: Mapping[str, Any]) -> int | None:
    """The last epoch of a trial in the run (``settings.max_t``, else the benchmark definition's), or None."""
    settings = metadata.get("settings") or {}
    for value in (settings.get("max_t"), (metadata.get("benchmark_definition") or {}).get("max_t")):
        if value is not None:
            return int(value)
    return None

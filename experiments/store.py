"""The results store's writer: one directory per run, written atomically (the format: ``store_format``).

``write_run`` stores a finished simulation; ``read_complete_metadata(verify=True)`` also checks the
recorded SHA-256 of both tables. The layout, the file names and the readers (``load_results``,
``read_run``, ``run_dir``, ...) live in ``experiments.store_format`` and are re-exported here.
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from blackbox_repository.atomic import sha256_file, write_bytes_atomic, write_text_atomic
from experiments import store_format
from experiments.store_format import (
    DATA_FILES,
    DEFAULT_RESULTS_DIR,
    FORMAT_VERSION,
    LISTING_COLUMNS,
    METADATA_FILE,
    RESULTS_FILE,
    SEED_PREFIX,
    TRIALS_FILE,
    Run,
    check_name,
    load_results,
    metadata_complete,
    read_run,
    run_dir,
    seed_of,
)
from simulator import SimulationResult

__all__ = [
    "DATA_FILES",
    "DEFAULT_RESULTS_DIR",
    "FORMAT_VERSION",
    "LISTING_COLUMNS",
    "METADATA_FILE",
    "RESULTS_FILE",
    "SEED_PREFIX",
    "TRIALS_FILE",
    "Run",
    "check_name",
    "load_results",
    "metadata_complete",
    "read_complete_metadata",
    "read_run",
    "run_dir",
    "seed_of",
    "to_json",
    "write_run",
]

logger = logging.getLogger(__name__)


def read_complete_metadata(path: Path | str, *, verify: bool = False) -> dict[str, Any] | None:
    """The metadata of a complete run in ``path``, else None (missing, unreadable or incomplete).

    Both tables must exist with the sizes recorded in the metadata; with ``verify`` also with the
    recorded SHA-256 (this reads them).
    """
    metadata = store_format.read_complete_metadata(path)
    if metadata is None or not verify:
        return metadata
    for name, facts in metadata["files"].items():
        file = Path(path) / name
        if sha256_file(file) != facts.get("sha256"):
            logger.warning("%s does not match the checksum in %s; the run will be redone", file, METADATA_FILE)
            return None
    return metadata


def write_run(path: Path | str, result: SimulationResult, metric: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Store a finished run: both tables, then ``metadata.json`` (completed) last; returns the metadata."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    # a stale metadata.json must not vouch for the new tables while they are being written
    (path / METADATA_FILE).unlink(missing_ok=True)
    results = result.results_frame()
    results["best_so_far"] = result.best_so_far(metric)
    files = {}
    for name, frame in ((RESULTS_FILE, results), (TRIALS_FILE, result.trials_frame())):
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        write_bytes_atomic(path / name, buffer.getvalue())
        files[name] = {"size": (path / name).stat().st_size, "sha256": sha256_file(path / name)}
    complete = {**metadata, "format_version": FORMAT_VERSION, "completed": True, "files": files}
    write_text_atomic(path / METADATA_FILE, json.dumps(to_json(complete), indent=1, allow_nan=False))
    logger.debug("stored run in %s", path)
    return complete


def to_json(value: Any) -> Any:
    """``value`` with numpy scalars/arrays and paths made JSON-able and non-finite floats as None."""
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value

"""The results store: one directory per run, written atomically, read by ``plotting``.

Layout (``results_dir`` defaults to ``./results``)::

    <results_dir>/<experiment_tag>/<benchmark>/<method>/seed-<seed>/
        results.parquet   one row per result (trial and epoch), in simulated-time order:
                          trial_id, one column per hyperparameter, seed (the *benchmark* seed the trial
                          replays), epoch, time (simulated seconds at the end of the epoch), worker,
                          decision ("", continue, pause, stop, complete, failed), one column per
                          objective, best_so_far (running best of the optimised metric)
        trials.parquet    one row per trial: trial_id, hyperparameters, seed (benchmark seed),
                          status, last_epoch
        metadata.json     written last; its presence with "completed": true marks the run complete

``<seed>`` is the experiment seed (0, 1, ...); the run seed derived from it is in the metadata. Every
file is written to a temporary file and renamed into place, and ``metadata.json`` is written after the
two tables and records their sizes and SHA-256. A run directory without a complete ``metadata.json`` (an
interrupted run) is not listed and is computed again by ``experiments.run``.

``metadata.json`` holds: ``format_version``, ``completed``, ``tag``, ``benchmark``, ``method``, ``seed``,
``settings`` (everything that determines the results: benchmark, metric, mode, max_t, n_workers, stop
criteria, decision overhead, the seeds, the benchmark files' SHA-256), ``benchmark_definition``,
``arguments`` (of the experiment; ``command_line`` if started from the CLI), ``master_random_seed``,
``run_seed``, ``simulator_seed``, ``method_seed``, ``schedule_description``, ``method_state``,
``simulated_time_seconds`` (simulated clock), ``decision_time_seconds`` (real seconds spent in the
method), ``num_decisions``, ``num_results``, ``num_trials``, ``stop_reason``, ``metric``, ``mode``,
``final_best``, ``versions``, ``git_revision``, ``git_dirty``, ``started_at``, ``finished_at``,
``real_time_seconds``, ``files`` (name -> ``{"size", "sha256"}``).

Readers: ``load_results`` lists completed runs, ``read_run`` reads one run directory.
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.atomic import sha256_file, write_bytes_atomic, write_text_atomic
from experiments.errors import ExperimentError
from simulator import SimulationResult

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
DEFAULT_RESULTS_DIR = Path("results")
RESULTS_FILE = "results.parquet"
TRIALS_FILE = "trials.parquet"
METADATA_FILE = "metadata.json"
DATA_FILES = (RESULTS_FILE, TRIALS_FILE)
SEED_PREFIX = "seed-"

#: columns of the frame returned by ``load_results``
LISTING_COLUMNS = [
    "tag",
    "benchmark",
    "method",
    "seed",
    "run_seed",
    "metric",
    "mode",
    "final_best",
    "simulated_time_seconds",
    "decision_time_seconds",
    "num_results",
    "num_trials",
    "stop_reason",
    "path",
]


def check_name(kind: str, value: str) -> str:
    """``value`` as one path component (tag, benchmark or method name), or an ``ExperimentError``."""
    if not isinstance(value, str) or not value or value.startswith(".") or "/" in value or "\\" in value:
        raise ExperimentError(f"{kind} must be a non-empty name without '/', '\\' or a leading '.', got {value!r}")
    return value


def run_dir(results_dir: Path | str, tag: str, benchmark: str, method: str, seed: int) -> Path:
    """Directory of one run: ``<results_dir>/<tag>/<benchmark>/<method>/seed-<seed>``."""
    return (
        Path(results_dir)
        / check_name("experiment tag", tag)
        / check_name("benchmark name", benchmark)
        / check_name("method name", method)
        / f"{SEED_PREFIX}{int(seed)}"
    )


def read_complete_metadata(path: Path | str, *, verify: bool = False) -> dict[str, Any] | None:
    """The metadata of a complete run in ``path``, else None (missing, unreadable or incomplete).

    Both tables must exist with the sizes recorded in the metadata; with ``verify`` also with the
    recorded SHA-256 (this reads them).
    """
    path = Path(path)
    try:
        metadata = json.loads((path / METADATA_FILE).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(metadata, dict) or metadata.get("format_version") != FORMAT_VERSION:
        return None
    if metadata.get("completed") is not True:
        return None
    files = metadata.get("files")
    if not isinstance(files, dict) or set(files) != set(DATA_FILES):
        return None
    for name, facts in files.items():
        file = path / name
        if not isinstance(facts, dict) or not file.is_file() or file.stat().st_size != facts.get("size"):
            return None
        if verify and sha256_file(file) != facts.get("sha256"):
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


@dataclass
class Run:
    """One stored run: its metadata and both tables."""

    path: Path
    metadata: dict[str, Any]
    results: pd.DataFrame
    trials: pd.DataFrame


def read_run(path: Path | str) -> Run:
    """Read the complete run stored in ``path`` (a directory from ``run_dir`` or ``load_results``)."""
    path = Path(path)
    metadata = read_complete_metadata(path)
    if metadata is None:
        raise ExperimentError(f"{path} holds no complete run (no valid {METADATA_FILE})")
    return Run(
        path=path,
        metadata=metadata,
        results=pd.read_parquet(path / RESULTS_FILE),
        trials=pd.read_parquet(path / TRIALS_FILE),
    )


def load_results(
    results_dir: Path | str = DEFAULT_RESULTS_DIR,
    tag: str | None = None,
    *,
    benchmark: str | None = None,
    method: str | None = None,
) -> pd.DataFrame:
    """Completed runs under ``results_dir`` (None: any tag/benchmark/method), one row each.

    Columns: ``LISTING_COLUMNS``; ``seed`` is the experiment seed, ``path`` the run directory (pass it
    to ``read_run`` for the tables). Sorted by tag, benchmark, method, seed.
    """
    pattern = "/".join([tag or "*", benchmark or "*", method or "*", f"{SEED_PREFIX}*"])
    rows = []
    for path in Path(results_dir).glob(pattern):
        metadata = read_complete_metadata(path)
        if metadata is None:
            continue
        row = {name: metadata.get(name) for name in LISTING_COLUMNS}
        row.update(tag=path.parents[2].name, benchmark=path.parents[1].name, method=path.parent.name, path=path)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=LISTING_COLUMNS)
    if frame.empty:
        return frame
    frame["final_best"] = frame["final_best"].astype(float)
    return frame.sort_values(["tag", "benchmark", "method", "seed"], ignore_index=True)


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

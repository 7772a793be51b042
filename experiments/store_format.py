"""The results store's format and its readers; imports only the standard library, numpy and pandas.

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

Readers: ``load_results`` lists completed runs, ``read_run`` reads one run directory. The writer is
``experiments.store`` (it needs the simulator); ``plotting`` reads through this module only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.errors import ExperimentError

FORMAT_VERSION = 1
DEFAULT_RESULTS_DIR = Path("results")
RESULTS_FILE = "results.parquet"
TRIALS_FILE = "trials.parquet"
METADATA_FILE = "metadata.json"
DATA_FILES = (RESULTS_FILE, TRIALS_FILE)
SEED_PREFIX = "seed-"
_SEED_DIR = re.compile(re.escape(SEED_PREFIX) + r"(\d+)")

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


def seed_of(directory_name: str) -> int | None:
    """The experiment seed of a run directory named ``seed-<n>``, else None."""
    match = _SEED_DIR.fullmatch(directory_name)
    return int(match[1]) if match else None


def metadata_complete(metadata: Any, sizes: Mapping[str, int]) -> bool:
    """True if ``metadata`` (parsed ``metadata.json``) marks a complete run whose data files have ``sizes``.

    ``sizes`` maps the names of the data files present to their sizes in bytes (from ``os.stat`` or a remote
    listing); both tables must be present with the sizes the metadata records.
    """
    if not isinstance(metadata, dict) or metadata.get("format_version") != FORMAT_VERSION:
        return False
    if metadata.get("completed") is not True:
        return False
    files = metadata.get("files")
    if not isinstance(files, dict) or set(files) != set(DATA_FILES):
        return False
    return all(
        isinstance(facts, dict) and name in sizes and sizes[name] == facts.get("size") for name, facts in files.items()
    )


def read_complete_metadata(path: Path | str) -> dict[str, Any] | None:
    """The metadata of a complete run in ``path``, else None (missing, unreadable or incomplete).

    Both tables must exist with the sizes recorded in the metadata (``metadata_complete``); checksums are
    not read (``experiments.store.read_complete_metadata(verify=True)`` checks them too).
    """
    path = Path(path)
    try:
        metadata = json.loads((path / METADATA_FILE).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    sizes = {name: (path / name).stat().st_size for name in DATA_FILES if (path / name).is_file()}
    return metadata if metadata_complete(metadata, sizes) else None


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

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
``run_seed``, ``simulator_seed``, ``method_seed``, ``schedule_description``, ``method_state``, ``searcher_state``
(e.g. a GP searcher's fitted hyperparameters, Hyper-Tune's level weights),
``simulated_time_seconds`` (simulated clock), ``decision_cpu_seconds`` (CPU seconds the method spent
deciding, ``time.thread_time``; runs stored before it have ``decision_time_seconds``, real seconds, which the
readers return under the new name), ``num_decisions``, ``num_results``, ``num_trials``, ``stop_reason``,
``metric``, ``mode``,
``final_best``, ``versions``, ``git_revision``, ``git_dirty``, ``started_at``, ``finished_at``,
``real_time_seconds``, ``files`` (name -> ``{"size", "sha256"}``).

Integrity: ``verify_run`` checks both tables against the SHA-256 in ``metadata.json`` and remembers a
success in ``.verified.json`` beside them (size, modification time and hash of each file), so a file is
hashed again only when its size or modification time changed. A mismatch is a ``CorruptRunError`` naming
the file and the command that recomputes the run. Next to the runs of a method, ``.settings.json`` holds the
settings shared by all its seeds (``experiments.run`` refuses other settings under the same tag), and each
run directory has a ``.lock`` file that ``experiments.run`` locks while it computes the run.

Readers: ``load_results`` lists completed runs, ``read_run`` reads one run directory. The writer is
``experiments.store`` (it needs the simulator); ``plotting`` reads through this module only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shlex
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
VERIFIED_FILE = ".verified.json"
LOCK_FILE = ".lock"
SETTINGS_FILE = ".settings.json"
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
    "decision_cpu_seconds",
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


def decision_cpu_seconds(metadata: Mapping[str, Any]) -> float | None:
    """The method's decision time of a stored run: ``decision_cpu_seconds``, or for runs stored before the
    clock was CPU time, their ``decision_time_seconds`` (real seconds)."""
    value = metadata.get("decision_cpu_seconds")
    return metadata.get("decision_time_seconds") if value is None else value


class CorruptRunError(ExperimentError):
    """A stored run's table does not match the SHA-256 its ``metadata.json`` records."""


def recompute_advice(path: Path | str, metadata: Mapping[str, Any]) -> str:
    """How to recompute the run in ``path``: delete it, then the command that stored it."""
    command = metadata.get("command_line")
    if not command:
        arguments = metadata.get("arguments") or {}
        command = ["python", "-m", "experiments.run", "--benchmark", str(metadata.get("benchmark")), "--method",
                   str(metadata.get("method")), "--experiment_tag", str(metadata.get("tag")), "--start_seed",
                   str(metadata.get("seed")), "--num_seeds", "1"]
        if arguments.get("results_dir") is not None:
            command += ["--results_dir", str(arguments["results_dir"])]
    return f"delete {path} and run `{shlex.join(str(part) for part in command)}` again"


def verify_run(path: Path | str, metadata: Mapping[str, Any]) -> None:
    """Check both tables of the complete run in ``path`` against the SHA-256 in its metadata.

    Cheap when nothing changed: a success is stamped in ``.verified.json`` (size, mtime and hash per file)
    and a file whose size and mtime match its stamp is not hashed again. Raises ``CorruptRunError`` naming
    the file and the command that recomputes the run.
    """
    path = Path(path)
    stamp = _read_stamp(path)
    verified: dict[str, list] = {}
    for name, facts in metadata["files"].items():
        file = path / name
        stat = file.stat()
        signature = [stat.st_size, stat.st_mtime_ns, facts.get("sha256")]
        if stamp.get(name) != signature:
            verify_bytes(str(path), name, file.read_bytes(), metadata)
        verified[name] = signature
    if verified != stamp:
        write_stamp(path, verified)


def verify_bytes(path: str, name: str, data: bytes, metadata: Mapping[str, Any]) -> None:
    """Check the content ``data`` of the table ``name`` of the run in ``path`` (e.g. read from a remote store)
    against the SHA-256 in its metadata; a ``CorruptRunError`` as ``verify_run`` gives."""
    if hashlib.sha256(data).hexdigest() != metadata["files"][name].get("sha256"):
        raise CorruptRunError(
            f"{path}/{name} does not match the SHA-256 recorded in its {METADATA_FILE} (corrupt or modified): "
            + recompute_advice(path, metadata)
        )


def stamp_signatures(path: Path | str, hashes: Mapping[str, str]) -> dict[str, list]:
    """The ``.verified.json`` entries of files in ``path`` whose SHA-256 are ``hashes`` (name -> hash)."""
    signatures = {}
    for name, sha in hashes.items():
        stat = os.stat(Path(path) / name)
        signatures[name] = [stat.st_size, stat.st_mtime_ns, sha]
    return signatures


def write_stamp(path: Path | str, verified: Mapping[str, list]) -> None:
    """Write ``.verified.json`` (a cache: not synced; a read-only store simply verifies again next time)."""
    target = Path(path) / VERIFIED_FILE
    tmp = target.with_name(f"{VERIFIED_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(verified))
        os.replace(tmp, target)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _read_stamp(path: Path) -> dict[str, list]:
    try:
        stamp = json.loads((path / VERIFIED_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


@dataclass
class Run:
    """One stored run: its metadata and both tables."""

    path: Path
    metadata: dict[str, Any]
    results: pd.DataFrame
    trials: pd.DataFrame


def read_run(path: Path | str) -> Run:
    """Read the complete run stored in ``path`` (a directory from ``run_dir`` or ``load_results``); its tables
    are checked against their SHA-256 (``verify_run``)."""
    path = Path(path)
    metadata = read_complete_metadata(path)
    if metadata is None:
        raise ExperimentError(f"{path} holds no complete run (no valid {METADATA_FILE})")
    verify_run(path, metadata)
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
        row["decision_cpu_seconds"] = decision_cpu_seconds(metadata)
        row.update(tag=path.parents[2].name, benchmark=path.parents[1].name, method=path.parent.name, path=path)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=LISTING_COLUMNS)
    if frame.empty:
        return frame
    frame["final_best"] = frame["final_best"].astype(float)
    return frame.sort_values(["tag", "benchmark", "method", "seed"], ignore_index=True)

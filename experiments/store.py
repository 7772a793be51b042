"""The results store's writer: one directory per run, written atomically (the format: ``store_format``).

``write_run`` stores a finished simulation; ``read_complete_metadata(verify=True)`` also checks the
recorded SHA-256 of both tables. The layout, the file names and the readers (``load_results``,
``read_run``, ``run_dir``, ...) live in ``experiments.store_format`` and are re-exported here.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from experiments import store_format
from experiments.errors import ExperimentError
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
from simulator.result import OUTCOMES

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
    "RunLock",
    "check_name",
    "check_same_settings",
    "claim_settings",
    "complete_metadata",
    "encode_tables",
    "load_results",
    "lock_run",
    "metadata_bytes",
    "metadata_complete",
    "read_complete_metadata",
    "read_run",
    "run_dir",
    "seed_of",
    "sync_directories",
    "to_json",
    "write_run",
]

try:
    import fcntl
except ImportError:  # Windows: runs are not locked
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)


def read_complete_metadata(path: Path | str, *, verify: bool = False) -> dict[str, Any] | None:
    """The metadata of a complete run in ``path``, else None (missing, unreadable or incomplete).

    Both tables must exist with the sizes recorded in the metadata; with ``verify`` also with the
    recorded SHA-256 (``store_format.verify_run``: hashed again only if a file changed since its last check).
    """
    metadata = store_format.read_complete_metadata(path)
    if metadata is None or not verify:
        return metadata
    try:
        store_format.verify_run(path, metadata)
    except store_format.CorruptRunError as error:
        logger.warning("%s", error)
        return None
    return metadata


def write_run(path: Path | str, result: SimulationResult, metric: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Store a finished run: both tables, then ``metadata.json`` (completed) last; returns the metadata.

    Durable and atomic: any old ``metadata.json`` is removed first; the tables are written and synced (together);
    only then is ``metadata.json`` (with their sizes and SHA-256) written to a temporary file, synced and renamed
    into place. A crash leaves at worst a run without ``metadata.json``, which counts as not done. The caller
    makes the new names durable with ``sync_directories`` (once for all its runs). An ``OSError`` (disk full,
    no permission) becomes a one-line ``ExperimentError``.
    """
    path = Path(path)
    try:
        return _write_run(path, result, metric, metadata)
    except OSError as error:
        raise _store_error(path, error) from None


def _write_run(path: Path, result: SimulationResult, metric: str, metadata: Mapping[str, Any]) -> dict[str, Any]:
    path.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    tables = encode_tables(result, metric)
    descriptors = []
    try:
        for name, data in tables.items():
            descriptors.append(os.open(path / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666))
            _write_all(descriptors[-1], data)
        _datasync_together(descriptors)
    finally:
        for fd in descriptors:
            os.close(fd)
    complete = complete_metadata(metadata, tables)
    _commit_metadata(path, metadata_bytes(complete))
    hashes = {name: facts["sha256"] for name, facts in complete["files"].items()}
    store_format.write_stamp(path, store_format.stamp_signatures(path, hashes))
    logger.debug("stored run in %s", path)
    return complete


def encode_tables(result: SimulationResult, metric: str) -> dict[str, pa.Buffer]:
    """The bytes of both tables of a run (``results.parquet``, ``trials.parquet``), as every store writes them."""
    tables = {RESULTS_FILE: results_table(result, metric), TRIALS_FILE: trials_table(result)}
    encoded = {}
    for name, table in tables.items():
        buffer = pa.BufferOutputStream()
        pq.write_table(table, buffer, **_parquet_options(table))
        encoded[name] = buffer.getvalue()
    return encoded


def complete_metadata(metadata: Mapping[str, Any], tables: Mapping[str, pa.Buffer | bytes]) -> dict[str, Any]:
    """``metadata`` marked complete, with the size and SHA-256 of each table."""
    files = {
        name: {"size": len(memoryview(data)), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in tables.items()
    }
    return {**metadata, "format_version": FORMAT_VERSION, "completed": True, "files": files}


def metadata_bytes(complete: Mapping[str, Any]) -> bytes:
    """``metadata.json`` as stored."""
    return json.dumps(to_json(complete), indent=1, allow_nan=False).encode()


def _parquet_options(table: pa.Table) -> dict[str, Any]:
    """Dictionary encoding only where it pays (strings: hyperparameter values, decisions, statuses) and no
    column statistics (nobody filters on them): about half the time of pyarrow's defaults, smaller files."""
    strings = [
        field.name for field in table.schema if pa.types.is_string(field.type) or pa.types.is_dictionary(field.type)
    ]
    return {"use_dictionary": strings, "write_statistics": False}


def _remove_stale(path: Path) -> None:
    """Before writing a run: its old ``metadata.json`` goes first (durably: it must not vouch for the new tables
    should the machine crash while they are written), then temporary files of an interrupted write."""
    try:
        (path / METADATA_FILE).unlink()
    except FileNotFoundError:
        pass
    else:
        sync_directories([path])
    for stale in path.glob(f".{METADATA_FILE}.*.tmp"):
        stale.unlink(missing_ok=True)


def _write_all(fd: int, data: bytes | pa.Buffer) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _datasync_together(descriptors: Sequence[int]) -> None:
    """``fdatasync`` the files at once (on a journaling file system one commit serves them all)."""
    _in_threads(getattr(os, "fdatasync", os.fsync), descriptors)


def _in_threads(function: Callable[[Any], None], items: Sequence[Any]) -> None:
    """``function(item)`` for every item at once, one thread each but the first; re-raises the first error."""
    errors: list[BaseException] = []

    def run(item: Any) -> None:
        try:
            function(item)
        except OSError as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(item,)) for item in items[1:]]
    for thread in threads:
        thread.start()
    if items:
        run(items[0])
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _commit_metadata(path: Path, data: bytes) -> None:
    """Write ``metadata.json`` to a temporary file, sync it and rename it into place: the run is complete."""
    tmp = path / f".{METADATA_FILE}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            _write_all(fd, data)
            _datasync_together([fd])
        finally:
            os.close(fd)
        os.replace(tmp, path / METADATA_FILE)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def sync_directories(paths: Iterable[Path | str]) -> None:
    """Make the file names created in ``paths`` durable (``fsync`` of each directory, all at once; a no-op where
    directories cannot be opened). Once per command for all its runs: a run whose ``metadata.json`` name is lost
    in a crash before this merely counts as not done."""
    descriptors = []
    try:
        for directory in paths:
            with contextlib.suppress(OSError):
                descriptors.append(os.open(directory, os.O_RDONLY))
        with contextlib.suppress(OSError):
            _in_threads(os.fsync, descriptors[:64])  # one commit serves them all; the rest is then cheap
            for fd in descriptors[64:]:
                os.fsync(fd)
    finally:
        for fd in descriptors:
            os.close(fd)


def results_table(result: SimulationResult, metric: str) -> pa.Table:
    """``results.parquet`` as an arrow table (the columns of ``result.results_frame()`` plus ``best_so_far``),
    built from the result's arrays without pandas."""
    bb = result.blackbox
    rows = pa.array(result.trial_id)
    columns: dict[str, pa.Array] = {"trial_id": pa.array(result.trial_id)}
    for name, values in _config_columns(result).items():
        columns[name] = values.take(rows)
    columns["seed"] = pa.array(np.asarray(bb.seeds)[result.trial_seed_indices[result.trial_id]])
    columns[bb.fidelity_name] = pa.array(result.epoch)
    columns["time"] = pa.array(result.time)
    columns["worker"] = pa.array(result.worker)
    columns["decision"] = pa.DictionaryArray.from_arrays(
        pa.array(result.outcome.astype(np.int8)), pa.array(list(OUTCOMES))
    )
    for i, name in enumerate(bb.objective_names):
        columns[name] = pa.array(result.objectives[:, i])
    columns["best_so_far"] = pa.array(result.best_so_far(metric))
    return pa.table(columns)


def trials_table(result: SimulationResult) -> pa.Table:
    """``trials.parquet`` as an arrow table (the columns of ``result.trials_frame()``)."""
    bb = result.blackbox
    sources = result.trial_checkpoint_from
    columns: dict[str, pa.Array] = {"trial_id": pa.array(np.arange(result.num_trials))}
    columns.update(_config_columns(result))
    columns["seed"] = pa.array(np.asarray(bb.seeds)[result.trial_seed_indices])
    columns["status"] = pa.array(list(result.trial_status), pa.string())
    columns["last_epoch"] = pa.array(result.trial_epochs)
    columns["checkpoint_from"] = pa.array(
        sources if sources is not None else np.full(result.num_trials, -1, dtype=np.int64)
    )
    return pa.table(columns)


def _config_columns(result: SimulationResult) -> dict[str, pa.Array]:
    """One arrow array per hyperparameter, one entry per trial."""
    configs = result.trial_configs
    return {name: pa.array(configs[name].to_numpy().tolist()) for name in result.blackbox.space.names}


class RunLock:
    """An exclusive lock on one run directory: ``fcntl.flock`` on ``<run dir>/.lock``, released by ``release``
    or when the process ends (also by ``kill -9``). Where ``fcntl`` is missing (Windows) it locks nothing."""

    def __init__(self, fd: int | None) -> None:
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


def lock_run(path: Path | str, *, block: bool) -> RunLock | None:
    """Lock the run directory ``path`` (created if missing); None if another process holds it and not ``block``."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd = os.open(path / store_format.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as error:
        raise _store_error(path, error) from None
    if fcntl is None:
        return RunLock(fd)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if block else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return RunLock(fd)


def claim_settings(method_dir: Path | str, settings: Mapping[str, Any]) -> None:
    """Record the settings shared by every seed of a method under a tag in ``<method dir>/.settings.json``, or
    check them against the recorded ones: an ``ExperimentError`` names the differences (before any seed runs).

    The file is created atomically (a complete temporary file hard-linked into place), so of two commands
    started together exactly one records its settings and the other compares with them.
    """
    method_dir = Path(method_dir)
    target = method_dir / store_format.SETTINGS_FILE
    text = json.dumps(to_json(settings), indent=1, sort_keys=True, allow_nan=False)
    try:
        method_dir.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            tmp = method_dir / f".settings.{os.getpid()}.tmp"
            tmp.write_text(text)
            try:
                os.link(tmp, target)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        stored = json.loads(target.read_text())
    except (OSError, ValueError) as error:
        if isinstance(error, OSError):
            raise _store_error(method_dir, error) from None
        raise ExperimentError(f"{target} is unreadable; delete it and run again") from None
    check_same_settings(method_dir, "runs", stored, json.loads(text))


def check_same_settings(path: Path | str, holds: str, stored: Mapping[str, Any], fresh: Mapping[str, Any]) -> None:
    """An ``ExperimentError`` naming every setting that differs between ``stored`` (of the ``holds`` in ``path``)
    and ``fresh``, and the way out."""
    differing = sorted(key for key in set(fresh) | set(stored) if fresh.get(key) != stored.get(key))
    if differing:
        details = ", ".join(f"{key}: stored {stored.get(key)!r}, now {fresh.get(key)!r}" for key in differing)
        raise ExperimentError(
            f"{path} holds {holds} with other settings ({details}); use another --experiment_tag or delete "
            "that directory"
        )


def _store_error(path: Path, error: OSError) -> ExperimentError:
    """A one-line error for an ``OSError`` while writing the store (results dir a file, no permission, disk full)."""
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        advice = "free disk space"
    elif error.errno in (errno.ENOTDIR, errno.EEXIST):
        advice = "a file is in the way: choose another --results_dir or move that file"
    else:
        advice = "choose another --results_dir or fix its permissions"
    return ExperimentError(
        f"cannot write the results store at {path}: {reason}; {advice}, then run the same command again "
        "(completed runs are kept)"
    )


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

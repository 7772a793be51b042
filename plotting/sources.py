"""Where stored runs are read from: a local results directory or an fsspec URL (``s3://bucket/prefix``).

A source lists the run directories of a tag (``RunCandidate``) and reads one run (``LoadedRun``): its
``metadata.json``, checked as ``experiments.store_format.metadata_complete`` says (locally also the SHA-256 of
both tables, ``store_format.verify_run``: a corrupt table is a ``LoadError`` naming it and the command that
recomputes it), and of ``results.parquet``
only the columns ``time`` and ``best_so_far``, kept where the best-so-far changes; an indicator other than the
best-so-far (``plotting.indicators``) reads the columns it names instead (objectives, constraint, trial ids),
and ``plotting.load`` turns them into step functions once every run is read. ``read_all`` reads many runs in
threads.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from experiments import store_format
from plotting.errors import LoadError
from plotting.indicators import IndicatorOptions, RunColumns, change_points, columns_to_read, run_columns

S3_INSTALL_HINT = "pip install 'hpo-workbench[s3]'"
_COLUMNS = ("time", "best_so_far")


@dataclass(frozen=True)
class RunCandidate:
    """A run directory found in a listing; not read yet."""

    root: str  # the results directory (URL) it was found in
    tag: str
    benchmark: str
    method: str
    seed: int
    path: str
    sizes: dict[str, int] | None = None  # file sizes from the listing (remote) or None (local: read by ``read``)


@dataclass
class LoadedRun:
    """A run read from its source: ``metadata`` is None for a partial run (``reason`` says why)."""

    candidate: RunCandidate
    metadata: dict[str, Any] | None
    times: np.ndarray | None = None
    best: np.ndarray | None = None
    first_time: float = math.nan
    reason: str = ""
    columns: RunColumns | None = None  # what an indicator other than the best-so-far needs of the run


class LocalSource:
    """A results directory on the local file system."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).expanduser()
        self.url = str(root)

    def exists(self) -> bool:
        return self.root.is_dir()

    def tags(self) -> list[str]:
        return sorted(entry.name for entry in os.scandir(self.root) if entry.is_dir()) if self.exists() else []

    def list(self, tag: str) -> list[RunCandidate]:
        base = self.root / tag
        if not base.is_dir():
            return []
        found = []
        for benchmark in _subdirs(base):
            for method in _subdirs(benchmark):
                for seed_dir in _subdirs(method):
                    seed = store_format.seed_of(seed_dir.name)
                    if seed is not None:
                        found.append(RunCandidate(self.url, tag, benchmark.name, method.name, seed, seed_dir.path))
        return found

    def read(self, candidate: RunCandidate, indicator: IndicatorOptions | None = None) -> LoadedRun:
        try:
            with open(os.path.join(candidate.path, store_format.METADATA_FILE), "rb") as file:
                metadata = json.loads(file.read())
        except FileNotFoundError:
            return LoadedRun(candidate, None, reason="no metadata.json")
        except (OSError, ValueError):
            return LoadedRun(candidate, None, reason="metadata.json unreadable")
        sizes = {}
        for name in store_format.DATA_FILES:
            try:
                sizes[name] = os.stat(os.path.join(candidate.path, name)).st_size
            except OSError:
                pass
        if not store_format.metadata_complete(metadata, sizes):
            return LoadedRun(candidate, None, reason="metadata.json not complete or data files differ from it")
        try:
            store_format.verify_run(candidate.path, metadata)  # cheap unless a file changed since its last check
        except store_format.CorruptRunError as error:
            raise LoadError(str(error)) from None
        try:
            with open(os.path.join(candidate.path, store_format.RESULTS_FILE), "rb") as file:
                data = file.read()
        except OSError as error:
            return LoadedRun(candidate, None, reason=f"{store_format.RESULTS_FILE} unreadable: {one_line(error)}")
        return _read_table(candidate, metadata, data, indicator)


class RemoteSource:
    """A results directory behind an fsspec URL (``s3://bucket/prefix``); s3fs is imported lazily."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None) -> None:
        self.url = url.rstrip("/")
        try:
            import fsspec

            if url.startswith(("s3://", "s3a://")):
                import s3fs  # noqa: F401 - fsspec's own error would not name the extra
        except ImportError:
            raise LoadError(f"reading {url} needs s3fs: {S3_INSTALL_HINT}") from None
        try:
            # a fresh instance: credentials and endpoints set since the last load take effect, no stale listings
            options = {"skip_instance_cache": True, **dict(storage_options or {})}
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **options)
        except ImportError:
            raise LoadError(f"reading {url} needs s3fs: {S3_INSTALL_HINT}") from None
        except ValueError as error:
            raise LoadError(f"cannot open results directory {url}: {error}") from None
        self.root = self.root.rstrip("/")

    def exists(self) -> bool:
        try:
            return bool(self.fs.isdir(self.root))
        except Exception as error:  # credentials, network: say which URL and why, in one line
            raise LoadError(f"cannot read results directory {self.url}: {one_line(error)}") from None

    def tags(self) -> list[str]:
        try:
            return sorted(Path(p).name for p in self.fs.ls(self.root, detail=False) if self.fs.isdir(p))
        except FileNotFoundError:
            return []

    def list(self, tag: str) -> list[RunCandidate]:
        base = f"{self.root}/{tag}"
        try:
            files = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return []
        except Exception as error:
            raise LoadError(f"cannot list {self.url}/{tag}: {one_line(error)}") from None
        runs: dict[tuple[str, str, str, int], dict[str, int]] = defaultdict(dict)
        for path, info in files.items():
            parts = path[len(base) + 1 :].split("/")
            seed = store_format.seed_of(parts[2]) if len(parts) == 4 else None
            if seed is not None:
                runs[parts[0], parts[1], parts[2], seed][parts[3]] = int(info.get("size") or 0)
        return [
            RunCandidate(self.url, tag, b, m, seed, f"{base}/{b}/{m}/{s}", sizes)
            for (b, m, s, seed), sizes in sorted(runs.items())
        ]

    def read(self, candidate: RunCandidate, indicator: IndicatorOptions | None = None) -> LoadedRun:
        sizes = candidate.sizes or {}
        if store_format.METADATA_FILE not in sizes:
            return LoadedRun(candidate, None, reason="no metadata.json")
        try:
            metadata = json.loads(self.fs.cat_file(f"{candidate.path}/{store_format.METADATA_FILE}"))
        except (OSError, ValueError):
            return LoadedRun(candidate, None, reason="metadata.json unreadable")
        if not store_format.metadata_complete(metadata, sizes):
            return LoadedRun(candidate, None, reason="metadata.json not complete or data files differ from it")
        try:
            data = self.fs.cat_file(f"{candidate.path}/{store_format.RESULTS_FILE}")
        except OSError as error:
            return LoadedRun(candidate, None, reason=f"{store_format.RESULTS_FILE} unreadable: {one_line(error)}")
        try:
            store_format.verify_bytes(candidate.path, store_format.RESULTS_FILE, data, metadata)
        except store_format.CorruptRunError as error:
            raise LoadError(str(error)) from None
        return _read_table(candidate, metadata, data, indicator)


def _read_table(
    candidate: RunCandidate, metadata: dict[str, Any], data: bytes, indicator: IndicatorOptions | None = None
) -> LoadedRun:
    """The best-so-far step function from the bytes of ``results.parquet`` (only two columns are decoded), and the
    columns ``indicator`` needs (``LoadError`` naming the run if one is missing)."""
    extra = columns_to_read(metadata, indicator) if indicator is not None and indicator.reads_columns else None
    try:
        file = pq.ParquetFile(pa.BufferReader(data))
        names = set(file.schema_arrow.names)
        missing = [name for name in extra or () if name not in names]
        if missing:
            raise LoadError(
                f"{candidate.path}/{store_format.RESULTS_FILE} has no column {missing[0]!r}, which the "
                f"{indicator.name if indicator else ''} indicator needs (columns: {', '.join(sorted(names))})"
            )
        best = None
        if indicator is not None and indicator.name != "best":
            table = file.read(columns=list(dict.fromkeys(["time", *(extra or ())])), use_threads=False)
        elif "best_so_far" in names:
            table = file.read(columns=list(dict.fromkeys([*_COLUMNS, *(extra or ())])), use_threads=False)
            best = table.column("best_so_far").to_numpy()
        else:  # older or foreign tables: the running best of the metric
            metric = metadata.get("metric")
            if metric not in names or "time" not in names:
                reason = f"{store_format.RESULTS_FILE} has neither best_so_far nor {metric!r}"
                return LoadedRun(candidate, None, reason=reason)
            table = file.read(columns=list(dict.fromkeys(["time", metric, *(extra or ())])), use_threads=False)
            values = table.column(metric).to_numpy().astype(float)
            accumulate = np.fmax.accumulate if metadata.get("mode") == "max" else np.fmin.accumulate
            best = accumulate(values) if len(values) else values
        times = table.column("time").to_numpy()
        columns = run_columns(table, metadata, indicator) if extra is not None else None
    except LoadError:
        raise
    except (OSError, ValueError, KeyError) as error:  # ArrowInvalid is a ValueError
        return LoadedRun(candidate, None, reason=f"{store_format.RESULTS_FILE} unreadable: {one_line(error)}")
    times = np.asarray(times, dtype=float)
    first_time = float(times[0]) if len(times) else math.nan
    if best is None:  # the indicator's step function is made once every run is read
        return LoadedRun(candidate, metadata, None, None, first_time, columns=columns)
    step_times, step_values = change_points(times, best)
    return LoadedRun(candidate, metadata, step_times, step_values, first_time, columns=columns)


def _subdirs(path: Path | str) -> list[os.DirEntry]:
    try:
        return sorted((entry for entry in os.scandir(path) if entry.is_dir()), key=lambda entry: entry.name)
    except OSError:
        return []


def one_line(error: BaseException) -> str:
    """The message of ``error`` on one line (its type name if it has none)."""
    return " ".join(str(error).split()) or type(error).__name__


def open_source(results_dir: str | Path, storage_options: Mapping[str, Any] | None) -> LocalSource | RemoteSource:
    """The source of ``results_dir``: a URL other than ``file://`` is remote, anything else a local path."""
    text = str(results_dir)
    if is_remote(text):
        return RemoteSource(text, storage_options)
    return LocalSource(text.removeprefix("file://"))


def is_remote(url: str) -> bool:
    """True for a URL of a remote file system (any scheme but ``file://``)."""
    return "://" in url and not url.startswith("file://")


def read_all(
    candidates: list[tuple[LocalSource | RemoteSource, RunCandidate]],
    threads: int | None,
    progress: bool | None,
    indicator: IndicatorOptions | None = None,
) -> list[LoadedRun]:
    """Read every candidate from its source, in order (in threads unless there are few; a progress bar); with
    ``indicator``, also the columns it needs."""
    if not candidates:
        return []
    if threads is None:  # local reads are CPU-bound (GIL): 2 threads; remote reads wait on the network: 16
        remote = any(isinstance(source, RemoteSource) for source, _ in candidates)
        threads = 16 if remote else min(2, os.cpu_count() or 1)
    workers = threads
    bar = tqdm(
        total=len(candidates), desc="reading runs", unit="run", disable=None if progress is None else not progress
    )
    try:
        if workers <= 1 or len(candidates) < 8:
            out = []
            for source, candidate in candidates:
                out.append(source.read(candidate, indicator))
                bar.update()
            return out
        with ThreadPoolExecutor(max_workers=workers) as pool:
            out = []
            for item in pool.map(lambda pair: pair[0].read(pair[1], indicator), candidates, chunksize=1):
                out.append(item)
                bar.update()
            return out
    finally:
        bar.close()

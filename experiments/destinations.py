"""Where runs are stored: a local results directory or a remote one (``s3://bucket/prefix``, through s3fs).

Both hold the same files with the same bytes (``experiments.store`` encodes them; ``experiments.store_format``
documents the layout). ``open_destination(results)`` picks one:

- ``LocalDestination``: the durable local writer of ``experiments.store`` (tables synced, ``metadata.json``
  renamed into place last), a lock per run directory, and SHA-256 verification stamped in ``.verified.json``.
- ``RemoteDestination``: both tables are uploaded first and ``metadata.json`` last. An object store replaces an
  object atomically, so a run is complete exactly when its ``metadata.json`` is there and both tables have the
  sizes it records; a crash mid-run leaves at worst tables without metadata, which count as not done. A run
  found complete is verified by downloading its tables and comparing their SHA-256 with the metadata. Object
  stores have no locks: two studies started at once on one prefix may compute the same run twice (each writes
  the same tables).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from experiments import store, store_format
from experiments.errors import ExperimentError
from simulator import SimulationResult

logger = logging.getLogger(__name__)

S3_INSTALL_HINT = "pip install 'hpo-workbench[s3]'"
REMOTE_SCHEMES = ("s3://", "s3a://", "gs://", "gcs://", "az://", "abfs://", "memory://")


def is_remote(results: str | Path) -> bool:
    """Whether ``results`` is a URL of an object store rather than a local directory."""
    return isinstance(results, str) and results.startswith(REMOTE_SCHEMES)


class LocalDestination:
    """A local results directory (``experiments.store``)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def run_path(self, tag: str, benchmark: str, method: str, seed: int) -> Path:
        return store.run_dir(self.root, tag, benchmark, method, seed)

    def lock(self, path: Path | str, *, block: bool) -> store.RunLock | None:
        return store.lock_run(path, block=block)

    def complete_metadata(self, path: Path | str, *, verify: bool) -> dict[str, Any] | None:
        """The metadata of a complete run (with ``verify``: its tables match their SHA-256; a corrupt run is a
        ``CorruptRunError`` naming the command that recomputes it), else None."""
        metadata = store.read_complete_metadata(path)
        if metadata is not None and verify:
            store_format.verify_run(path, metadata)
        return metadata

    def write_run(self, path: Path | str, result: SimulationResult, metric: str, metadata: Mapping[str, Any]) -> dict:
        return store.write_run(path, result, metric, metadata)

    def discard(self, path: Path | str) -> None:
        """Mark a run incomplete (its ``metadata.json`` goes), e.g. a corrupt one that is to be computed again."""
        (Path(path) / store_format.METADATA_FILE).unlink(missing_ok=True)

    def claim_settings(self, method_dir: Path | str, settings: Mapping[str, Any]) -> None:
        store.claim_settings(method_dir, settings)

    def method_dir(self, tag: str, benchmark: str, method: str) -> Path:
        return self.run_path(tag, benchmark, method, 0).parent

    def sync(self, paths: list[Path | str]) -> None:
        store.sync_directories(Path(path) for path in paths)


class _NoLock:
    def release(self) -> None:
        pass


class RemoteDestination:
    """A results directory behind an fsspec URL (``s3://bucket/prefix``); s3fs is imported lazily."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None = None) -> None:
        self.url = url.rstrip("/")
        self.storage_options = dict(storage_options or {})
        self._fs: Any = None
        self._root = ""

    def __getstate__(self) -> dict[str, Any]:  # shipped to worker processes: they open their own connection
        return {"url": self.url, "storage_options": self.storage_options, "_fs": None, "_root": ""}

    @property
    def fs(self) -> Any:
        if self._fs is None:
            try:
                import fsspec

                if self.url.startswith(("s3://", "s3a://")):
                    import s3fs  # noqa: F401 - fsspec's own error would not name the extra
                self._fs, root = fsspec.core.url_to_fs(self.url, **self.storage_options)
            except ImportError:
                raise ExperimentError(f"writing results to {self.url} needs s3fs: {S3_INSTALL_HINT}") from None
            except ValueError as error:
                raise ExperimentError(f"cannot open results location {self.url}: {error}") from None
            self._root = root.rstrip("/")
        return self._fs

    def run_path(self, tag: str, benchmark: str, method: str, seed: int) -> str:
        relative = store.run_dir("", tag, benchmark, method, seed).as_posix()
        return f"{self.url}/{relative}"

    def _key(self, path: Path | str) -> str:
        path = str(path)
        self.fs  # noqa: B018 - opens the file system and sets the root
        return self._root + path[len(self.url) :] if path.startswith(self.url) else path

    def lock(self, path: Path | str, *, block: bool) -> _NoLock:
        return _NoLock()

    def complete_metadata(self, path: Path | str, *, verify: bool) -> dict[str, Any] | None:
        key = self._key(path)
        try:
            metadata = json.loads(self.fs.cat_file(f"{key}/{store_format.METADATA_FILE}"))
            sizes = {}
            for name in store_format.DATA_FILES:
                info = self.fs.info(f"{key}/{name}")
                sizes[name] = int(info.get("size") or 0)
        except FileNotFoundError:
            return None
        except ValueError:
            return None
        except OSError as error:
            raise self._error("read", path, error) from None
        if not store_format.metadata_complete(metadata, sizes):
            return None
        if verify:
            for name in store_format.DATA_FILES:
                store_format.verify_bytes(str(path), name, self.fs.cat_file(f"{key}/{name}"), metadata)
        return metadata

    def write_run(self, path: Path | str, result: SimulationResult, metric: str, metadata: Mapping[str, Any]) -> dict:
        """Upload both tables, then ``metadata.json`` (an old one is removed first): complete only at the end."""
        key = self._key(path)
        tables = store.encode_tables(result, metric)
        complete = store.complete_metadata(metadata, tables)
        try:
            self.fs.rm_file(f"{key}/{store_format.METADATA_FILE}")
        except FileNotFoundError:
            pass
        except OSError as error:
            raise self._error("write", path, error) from None
        try:
            for name, data in tables.items():
                self.fs.pipe_file(f"{key}/{name}", bytes(memoryview(data)))
            self.fs.pipe_file(f"{key}/{store_format.METADATA_FILE}", store.metadata_bytes(complete))
        except OSError as error:
            raise self._error("write", path, error) from None
        logger.debug("stored run in %s", path)
        return complete

    def discard(self, path: Path | str) -> None:
        """Mark a run incomplete (its ``metadata.json`` goes), e.g. a corrupt one that is to be computed again."""
        try:
            self.fs.rm_file(f"{self._key(path)}/{store_format.METADATA_FILE}")
        except FileNotFoundError:
            pass
        except OSError as error:
            raise self._error("write", path, error) from None

    def claim_settings(self, method_dir: Path | str, settings: Mapping[str, Any]) -> None:
        """Record the settings shared by a method's seeds (or compare with the recorded ones). Not atomic on an
        object store: two studies starting at once on one prefix may both record theirs (the last one wins)."""
        key = f"{self._key(method_dir)}/{store_format.SETTINGS_FILE}"
        text = json.dumps(store.to_json(settings), indent=1, sort_keys=True, allow_nan=False)
        try:
            try:
                stored = json.loads(self.fs.cat_file(key))
            except FileNotFoundError:
                self.fs.pipe_file(key, text.encode())
                stored = json.loads(text)
        except ValueError:
            raise ExperimentError(f"{method_dir}/{store_format.SETTINGS_FILE} is unreadable; delete it") from None
        except OSError as error:
            raise self._error("write", method_dir, error) from None
        store.check_same_settings(method_dir, "runs", stored, json.loads(text))

    def method_dir(self, tag: str, benchmark: str, method: str) -> str:
        return self.run_path(tag, benchmark, method, 0).rsplit("/", 1)[0]

    def sync(self, paths: list[Path | str]) -> None:
        pass

    def _error(self, action: str, path: Path | str, error: OSError) -> ExperimentError:
        reason = " ".join(str(error).split()) or type(error).__name__
        return ExperimentError(
            f"cannot {action} the results store at {path}: {reason}; check the URL, the credentials and "
            "storage_options, then run the same command again (completed runs are kept)"
        )


def open_destination(
    results: Path | str, storage_options: Mapping[str, Any] | None = None
) -> LocalDestination | RemoteDestination:
    """The destination of ``results``: a URL of an object store or a local directory."""
    if is_remote(results):
        return RemoteDestination(str(results), storage_options)
    return LocalDestination(results)

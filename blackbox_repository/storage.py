"""The on-disk format of a blackbox: one directory holding

- ``hyperparameters.parquet``: one row per configuration;
- ``objectives.npy``: array (configs, seeds, fidelities, objectives), loaded memory-mapped;
- ``metadata.json``: search space, fidelities, seeds, objectives (mode, unit, best value), default
  metric, free-form facts, and the SHA-256 of both data files.

Checksums are verified on load. Hashing a large table costs time, so a successful verification is
remembered in ``.verified.json`` (size and modification time of each file); a file that changes
afterwards is hashed again.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.atomic import sha256_file, write_directory_atomic, write_text_atomic
from blackbox_repository.blackbox import Blackbox, Objective
from blackbox_repository.errors import BlackboxError, ChecksumError
from searchspace import SearchSpace

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
HYPERPARAMETERS_FILE = "hyperparameters.parquet"
OBJECTIVES_FILE = "objectives.npy"
METADATA_FILE = "metadata.json"
VERIFIED_FILE = ".verified.json"
DATA_FILES = (HYPERPARAMETERS_FILE, OBJECTIVES_FILE)

#: ``advice(directory, metadata)``: how to recover the corrupt benchmark at ``directory``
Advice = Callable[[Path, "dict[str, Any] | None"], str]


def write_blackbox(directory: Path | str, blackbox: Blackbox) -> Path:
    """Write ``blackbox`` to ``directory`` atomically (the directory appears complete or not at all)."""
    directory = Path(directory)

    def fill(tmp: Path) -> None:
        blackbox.configs.reset_index(drop=True).to_parquet(tmp / HYPERPARAMETERS_FILE, index=False)
        np.save(tmp / OBJECTIVES_FILE, np.ascontiguousarray(blackbox.objectives))
        metadata = _metadata_json(blackbox)
        metadata["files"] = {name: sha256_file(tmp / name) for name in DATA_FILES}
        (tmp / METADATA_FILE).write_text(json.dumps(metadata, indent=1, default=_json_default))
        write_verified_stamp(tmp, metadata["files"])

    write_directory_atomic(directory, fill)
    logger.info("wrote benchmark %r to %s", blackbox.name, directory)
    return directory


def read_blackbox(directory: Path | str, *, verify: bool = True, advice: Advice | None = None) -> Blackbox:
    """Load a blackbox written by ``write_blackbox``; objectives are memory-mapped read-only.

    ``advice(directory, metadata)`` says how to recover a corrupt benchmark (default: ``default_advice``).
    """
    directory = Path(directory)
    _advice = advice or default_advice
    metadata_path = directory / METADATA_FILE
    if not metadata_path.is_file():
        raise BlackboxError(f"no benchmark at {directory}: {METADATA_FILE} is missing")
    try:
        metadata = json.loads(metadata_path.read_text())
    except json.JSONDecodeError as error:
        raise ChecksumError(
            f"{metadata_path} is not valid JSON ({error}); the benchmark is corrupt: {_advice(directory, None)}"
        ) from None
    if metadata.get("format_version") != FORMAT_VERSION:
        raise BlackboxError(
            f"{directory} has format version {metadata.get('format_version')}, this code reads "
            f"version {FORMAT_VERSION}: {_advice(directory, metadata.get('metadata'))}"
        )
    if verify:
        verify_checksums(directory, metadata["files"], metadata.get("metadata"), advice=_advice)
    objectives = np.load(directory / OBJECTIVES_FILE, mmap_mode="r")
    configs = pd.read_parquet(directory / HYPERPARAMETERS_FILE)
    return Blackbox(
        name=metadata["name"],
        space=SearchSpace.from_json(metadata["space"]),
        configs=configs,
        fidelities=np.asarray(metadata["fidelity"]["values"]),
        seeds=np.asarray(metadata["seeds"]),
        objectives=objectives,
        objective_info=[Objective(**spec) for spec in metadata["objectives"]],
        metric=metadata["metric"],
        runtime_objective=metadata["runtime_objective"],
        elapsed_objective=metadata["elapsed_objective"],
        fidelity_name=metadata["fidelity"]["name"],
        metadata=metadata.get("metadata", {}),
        checksum=metadata["files"][OBJECTIVES_FILE],
    )


def read_metadata(directory: Path | str) -> dict[str, Any]:
    return json.loads((Path(directory) / METADATA_FILE).read_text())


def verify_checksums(
    directory: Path, expected: dict[str, str], facts: dict[str, Any] | None = None, *, advice: Advice | None = None
) -> None:
    """Raise ``ChecksumError`` if a data file differs from its recorded SHA-256.

    ``facts`` (the free-form metadata) and ``advice`` make the recovery advice of the error.
    """
    _advice = advice or default_advice
    stamp = _read_stamp(directory)
    verified: dict[str, list] = {}
    for name, sha in expected.items():
        path = directory / name
        if not path.is_file():
            raise ChecksumError(f"benchmark file {path} is missing: {_advice(directory, facts)}")
        stat = path.stat()
        signature = [stat.st_size, stat.st_mtime_ns, sha]
        if stamp.get(name) == signature:
            verified[name] = signature
            continue
        actual = sha256_file(path)
        if actual != sha:
            raise ChecksumError(
                f"benchmark file {path} is corrupt or was modified (sha256 {actual[:12]}…, expected "
                f"{sha[:12]}…): {_advice(directory, facts)}"
            )
        verified[name] = signature
    if verified != stamp:
        try:
            write_text_atomic(directory / VERIFIED_FILE, json.dumps(verified))
        except OSError:  # a read-only install: verification simply happens again next time
            pass


def default_advice(directory: Path, facts: dict[str, Any] | None = None) -> str:
    """Recovery advice that knows nothing of where the benchmark came from (the repository passes a better one)."""
    return (
        f"recreate {directory.name!r} the way it was made (deleting {directory} alone loses it unless it is a "
        "converted benchmark, which python -m blackbox_repository.convert NAME builds again)"
    )


def _read_stamp(directory: Path) -> dict[str, list]:
    try:
        return json.loads((directory / VERIFIED_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def write_verified_stamp(directory: Path, files: dict[str, str]) -> None:
    """Record that the files of ``directory`` match ``files`` (name → SHA-256) as of now."""
    stamp = {}
    for name, sha in files.items():
        stat = (directory / name).stat()
        stamp[name] = [stat.st_size, stat.st_mtime_ns, sha]
    (directory / VERIFIED_FILE).write_text(json.dumps(stamp))


def _metadata_json(blackbox: Blackbox) -> dict[str, Any]:
    best = {}
    for objective in blackbox.objective_info:
        if objective.mode is not None:
            best[objective.name] = blackbox.best_value(objective.name)
    return {
        "format_version": FORMAT_VERSION,
        "name": blackbox.name,
        "space": blackbox.space.to_json(),
        "fidelity": {"name": blackbox.fidelity_name, "values": np.asarray(blackbox.fidelities).tolist()},
        "seeds": np.asarray(blackbox.seeds).tolist(),
        "objectives": [objective.to_json() for objective in blackbox.objective_info],
        "metric": blackbox.metric,
        "mode": blackbox.mode,
        "runtime_objective": blackbox.runtime_objective,
        "elapsed_objective": blackbox.elapsed_objective,
        "best_values": best,
        "shape": list(blackbox.objectives.shape),
        "dtype": str(blackbox.objectives.dtype),
        "metadata": blackbox.metadata,
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot store {type(value).__name__} in benchmark metadata")

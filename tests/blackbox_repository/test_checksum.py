"""A stored benchmark whose data changed after it was written is refused on load."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxRepository, ChecksumError, locations, recovery
from blackbox_repository.import_table import import_table
from blackbox_repository.recovery import recovery_advice
from blackbox_repository.repository import GENERATORS


def small_benchmark(repository: BlackboxRepository) -> Path:
    epochs, seeds, xs = np.arange(1, 4), [0, 1], [0.5, 1.5]
    frame = pd.DataFrame(
        [(x, seed, epoch, x / epoch + seed) for x in xs for seed in seeds for epoch in epochs],
        columns=["x", "seed", "epoch", "loss"],
    )
    import_table(frame, name="small", fidelity_column="epoch", seed_column="seed", objectives=["loss:min"],
                 repository=repository)
    return repository.cache_dir / "small"


def test_modified_objectives_raise_checksum_error(isolated_cache: Path) -> None:
    repository = BlackboxRepository()
    directory = small_benchmark(repository)
    assert directory.parent == isolated_cache
    repository.load("small")  # verified once: the stamp now remembers size and mtime

    path = directory / "objectives.npy"
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # one byte of the last value; same size
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))  # even on coarse clocks
    with pytest.raises(ChecksumError, match="corrupt or was modified"):
        repository.load("small")


def corrupt(directory: Path) -> None:
    (directory / "objectives.npy").write_bytes(b"not the data")


def test_a_corrupt_converted_benchmark_says_delete_and_convert(monkeypatch: pytest.MonkeyPatch) -> None:
    repository = BlackboxRepository()
    directory = small_benchmark(repository)
    monkeypatch.setitem(GENERATORS, "small", lambda source_path, **options: iter([]))  # as if a converter built it
    corrupt(directory)
    with pytest.raises(ChecksumError) as error:
        repository.load("small")
    assert str(error.value).endswith(
        f"'small' is converted from its original file: delete {directory} and convert it again with "
        "python -m blackbox_repository.convert small (add --source_path FILE for a local copy)"
    )


def test_a_corrupt_embedded_benchmark_says_reinstall_restore_or_regenerate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    embedded = tmp_path / "data"
    shutil.copytree(locations.EMBEDDED_DIR / "sklearn-mlp-digits", embedded / "sklearn-mlp-digits")
    monkeypatch.setattr(locations, "EMBEDDED_DIR", embedded)
    monkeypatch.setattr(recovery, "EMBEDDED_DIR", embedded)
    corrupt(embedded / "sklearn-mlp-digits")
    with pytest.raises(ChecksumError) as error:
        BlackboxRepository().load("sklearn-mlp-digits")
    message = str(error.value)
    assert "delete" not in message and "\n" not in message
    assert message.endswith(
        "'sklearn-mlp-digits' is embedded in the package: reinstall it (pip install --force-reinstall --no-deps "
        "hpo-workbench), or in a clone restore it with git checkout -- blackbox_repository/data/sklearn-mlp-digits, "
        "or regenerate it with python -m blackbox_repository.embedded.sklearn_mlp_digits"
    )


def test_advice_for_tabulated_and_unknown_benchmarks(tmp_path: Path) -> None:
    tabulated = recovery_advice(tmp_path / "mine", {"tabulated_at": "2026-01-01"})
    assert "run tabulate again" in tabulated and "delete" not in tabulated
    unknown = recovery_advice(tmp_path / "mine", None)
    assert unknown.startswith("recreate 'mine' the way it was made (deleting")


def test_an_unreadable_metadata_file_gets_the_advice_too(monkeypatch: pytest.MonkeyPatch) -> None:
    repository = BlackboxRepository()
    directory = small_benchmark(repository)
    monkeypatch.setitem(GENERATORS, "small", lambda source_path, **options: iter([]))
    (directory / "metadata.json").write_text("{")
    with pytest.raises(ChecksumError, match=r"is not valid JSON .*python -m blackbox_repository.convert small"):
        repository.load("small")



def test_a_corrupt_benchmark_imported_from_a_dataframe_says_import_it_again() -> None:
    repository = BlackboxRepository()
    directory = small_benchmark(repository)  # imported from a DataFrame: no command line to record
    corrupt(directory)
    with pytest.raises(ChecksumError) as error:
        repository.load("small")
    assert str(error.value).endswith(
        "'small' was imported from a DataFrame and exists nowhere else: re-import it: call "
        "import_table(frame, name='small', ..., repository=...) on that table again"
    )

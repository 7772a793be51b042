"""A stored benchmark whose data changed after it was written is refused on load."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxRepository, ChecksumError
from blackbox_repository.import_table import import_table


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

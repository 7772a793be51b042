"""FCNet converter on small synthetic HDF5 files in the original layout (see source_builders)."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
import pytest

from blackbox_repository import BlackboxError, BlackboxRepository, ChecksumError
from blackbox_repository.converters import fcnet
from blackbox_repository.converters.fcnet import SPACE, convert_fcnet
from blackbox_repository.download import DownloadError
from searchspace import Categorical, Grid
from tests.blackbox_repository.optional import import_or_skip
from tests.blackbox_repository.source_builders import (
    FCNET_CONFIGS,
    FCNET_FILES,
    fcnet_expected,
    truncate,
    write_fcnet_archive,
    write_fcnet_dir,
    write_fcnet_file,
)

import_or_skip("h5py", "the FCNet converter needs h5py: pip install 'hpo-workbench[fcnet]'")

ARCHIVE = "fcnet_tabular_benchmarks.tar.gz"
#: grid order of FCNET_CONFIGS: tanh/8/... first, then relu/tanh/64, then relu/relu/16
GRID_ORDER = (1, 0, 2)


def convert(path: Path | None, tmp_path: Path, **kwargs) -> dict:
    return {bb.name: bb for bb in convert_fcnet(path, cache_dir=tmp_path / "cache", progress=False, **kwargs)}


def expected_cells(group: int, dataset_index: int) -> np.ndarray:
    values = fcnet_expected(group, dataset_index)
    total = values["runtime"][:, None]
    epochs = np.arange(1, 101)
    columns = [values["valid_loss"], values["train_loss"], values["valid_mse"], values["train_mse"],
               np.broadcast_to(total / 100, (4, 100)), total * epochs / 100,
               np.broadcast_to(values["final_test_error"][:, None], (4, 100)),
               np.broadcast_to(values["n_params"][:, None], (4, 100))]
    return np.stack(columns, axis=-1).astype(np.float32)


def test_every_cell_from_the_archive(tmp_path: Path) -> None:
    archive = write_fcnet_archive(tmp_path / ARCHIVE)
    blackboxes = convert(archive, tmp_path)
    assert sorted(blackboxes) == ["fcnet-naval", "fcnet-protein"]
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    for dataset_index, (dataset, filename) in enumerate(FCNET_FILES.items()):
        bb = blackboxes[fcnet.NAMES[dataset]]
        assert bb.objectives.dtype == np.float32 and bb.objectives.shape == (3, 4, 100, 8)
        assert bb.objective_names == ["valid_loss", "train_loss", "valid_mse", "train_mse", "runtime", "elapsed_time",
                                      "final_test_error", "n_params"]
        assert (bb.metric, bb.mode) == ("valid_loss", "min")
        np.testing.assert_array_equal(bb.fidelities, np.arange(1, 101))
        np.testing.assert_array_equal(bb.seeds, [0, 1, 2, 3])
        for row, group in enumerate(GRID_ORDER):
            assert bb.config(row) == FCNET_CONFIGS[group]
            assert bb.index_of(FCNET_CONFIGS[group]) == row
            np.testing.assert_array_equal(bb.objectives[row], expected_cells(group, dataset_index))
        assert bb.metadata["source_sha256"] == sha256
        member = tmp_path / f"{ARCHIVE}.contents" / "fcnet_tabular_benchmarks" / filename
        assert bb.metadata["source_member_sha256"] == hashlib.sha256(member.read_bytes()).hexdigest()
        assert bb.metadata["source_member"] == f"fcnet_tabular_benchmarks/{filename}"
        assert bb.metadata["missing_data"] == {
            "nan_values": dict.fromkeys(bb.objective_names, 0), "missing_grid_points": 62208 - 3}
        assert "linear" in bb.metadata["runtime_note"] and bb.metadata["converter"] == fcnet.__name__


def test_the_space_is_the_full_grid() -> None:
    assert SPACE.size == 62208
    assert isinstance(SPACE["activation_fn_1"], Categorical) and isinstance(SPACE["lr_schedule"], Categorical)
    assert SPACE["init_lr"] == Grid((0.0005, 0.001, 0.005, 0.01, 0.05, 0.1))
    assert SPACE["batch_size"] == Grid((8, 16, 32, 64)) and SPACE["dropout_1"] == Grid((0.0, 0.3, 0.6))
    first = list(itertools.islice(fcnet.all_grid_configs(), 2))
    assert first[0]["batch_size"] == 8 and first[1]["n_units_2"] == 32
    for config in FCNET_CONFIGS:
        SPACE.validate(config)


def test_directory_and_single_file_sources_agree(tmp_path: Path) -> None:
    reference = convert(write_fcnet_archive(tmp_path / ARCHIVE), tmp_path)
    directory = write_fcnet_dir(tmp_path / "extracted")
    for source in (directory, directory / "fcnet_tabular_benchmarks"):
        for name, bb in convert(source, tmp_path).items():
            np.testing.assert_array_equal(bb.objectives, reference[name].objectives)
    single = directory / "fcnet_tabular_benchmarks" / FCNET_FILES["naval_propulsion"]
    only = convert(single, tmp_path)
    assert list(only) == ["fcnet-naval"]
    np.testing.assert_array_equal(only["fcnet-naval"].objectives, reference["fcnet-naval"].objectives)
    assert only["fcnet-naval"].metadata["source_sha256"] == hashlib.sha256(single.read_bytes()).hexdigest()


def test_stored_and_reloaded_benchmarks_match(tmp_path: Path) -> None:
    archive = write_fcnet_archive(tmp_path / ARCHIVE)
    repository = BlackboxRepository(tmp_path / "repo")
    assert repository.generate("fcnet-naval", archive) == ["fcnet-protein", "fcnet-naval"]
    fresh = convert(archive, tmp_path)
    for name, bb in fresh.items():
        loaded = repository.load(name)
        np.testing.assert_array_equal(np.asarray(loaded.objectives), bb.objectives)
        assert loaded.space == SPACE and loaded.config(0) == bb.config(0)
        assert loaded.metadata["source_member_sha256"] == bb.metadata["source_member_sha256"]


def test_download_and_missing_download(tmp_path: Path) -> None:
    archive = write_fcnet_archive(tmp_path / ARCHIVE)
    assert sorted(convert(None, tmp_path, urls=[archive.as_uri()])) == ["fcnet-naval", "fcnet-protein"]
    assert (tmp_path / "cache" / "sources" / ARCHIVE).is_file()
    url = (tmp_path / "gone" / ARCHIVE).as_uri()
    with pytest.raises(DownloadError) as info:
        convert(None, tmp_path / "other", urls=[url])
    assert url in str(info.value) and "--source-path" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("fraction", [0.3, 0.97, 0.9999])
def test_truncated_archive(tmp_path: Path, fraction: float) -> None:
    archive = truncate(write_fcnet_archive(tmp_path / ARCHIVE), fraction)
    with pytest.raises(ChecksumError) as info:
        convert(archive, tmp_path)
    assert "FCNet archive" in str(info.value) and "truncated or corrupt" in str(info.value)
    assert "--source-path" in str(info.value) and "\n" not in str(info.value)


def test_truncated_and_corrupt_hdf5_files(tmp_path: Path) -> None:
    path = write_fcnet_file(tmp_path / FCNET_FILES["protein_structure"], 0)
    truncate(path)
    with pytest.raises(ChecksumError, match="FCNet HDF5 file .* is truncated or corrupt .*--source-path"):
        convert(path, tmp_path)
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(ChecksumError, match="truncated or corrupt"):
        convert(path, tmp_path)
    garbage = tmp_path / "fcnet_tabular_benchmarks.tar.gz.html"
    garbage.write_bytes(b"<html>not found</html>")
    with pytest.raises(ChecksumError, match="neither a tar archive nor an HDF5 file"):
        convert(garbage, tmp_path)


def test_malformed_groups_are_refused(tmp_path: Path) -> None:
    bad_value = dict(FCNET_CONFIGS[0], init_lr=0.2)
    path = write_fcnet_file(tmp_path / FCNET_FILES["protein_structure"], 0, configs=(bad_value,))
    with pytest.raises(BlackboxError, match="init_lr=0.2 is not one of"):
        convert(path, tmp_path)
    twice = write_fcnet_file(tmp_path / "b" / FCNET_FILES["protein_structure"], 0,
                             configs=(FCNET_CONFIGS[0], dict(FCNET_CONFIGS[0], batch_size=64.0)))
    with pytest.raises(BlackboxError, match="more than one group"):
        convert(twice, tmp_path)
    renamed = tmp_path / "c.hdf5"
    write_fcnet_file(renamed, 0)
    with pytest.raises(BlackboxError, match="keep the original file name"):
        convert(renamed, tmp_path)

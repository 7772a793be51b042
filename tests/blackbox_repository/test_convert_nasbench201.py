"""NASBench-201 converter on a small synthetic file in the NATS-Bench layout (see source_builders)."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest

from blackbox_repository import BlackboxError, BlackboxRepository, ChecksumError
from blackbox_repository.converters import nasbench201
from blackbox_repository.converters.nasbench201 import OPS, convert_nasbench201, parse_arch_str
from blackbox_repository.download import DownloadError
from searchspace import Categorical
from tests.blackbox_repository.source_builders import (
    NATS_ARCHS,
    NATS_DATASETS,
    NATS_INCOMPLETE,
    NATS_MISSING,
    NATS_SEEDS,
    arch_str,
    nats_data,
    nats_expected,
    truncate,
    write_nats,
)

FILENAME = "NATS-tss-v1_0-3ffb9.pickle.pbz2"


@pytest.fixture
def nats_file(tmp_path: Path) -> Path:
    return write_nats(tmp_path / FILENAME)


def convert(path: Path | None, tmp_path: Path, **kwargs) -> dict:
    return {bb.name: bb for bb in convert_nasbench201(path, cache_dir=tmp_path / "cache", progress=False, **kwargs)}


def expected_run(arch: int, dataset: str, seed: int) -> np.ndarray:
    values = nats_expected(arch, dataset, seed)
    runtime = values["train_time"] + values["eval_time"]
    columns = [
        1 - values["eval_acc"] / 100,
        1 - values["train_acc"] / 100,
        runtime,
        np.cumsum(runtime),
        np.full(200, values["latency"]),
        np.full(200, values["flop"]),
        np.full(200, values["params"]),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


def test_every_cell_of_the_three_benchmarks(nats_file: Path, tmp_path: Path) -> None:
    blackboxes = convert(nats_file, tmp_path)
    assert list(blackboxes) == ["nas201-cifar10", "nas201-cifar100", "nas201-ImageNet16-120"]
    sha256 = hashlib.sha256(nats_file.read_bytes()).hexdigest()
    for dataset in NATS_DATASETS:
        bb = blackboxes[f"nas201-{dataset}"]
        assert bb.space.names == [f"hp_x{k}" for k in range(6)]
        assert all(bb.space[name] == Categorical(OPS) for name in bb.space.names)
        assert OPS == ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
        assert [tuple(bb.config(i).values()) for i in range(bb.num_configs)] == list(NATS_ARCHS)
        np.testing.assert_array_equal(bb.fidelities, np.arange(1, 201))
        np.testing.assert_array_equal(bb.seeds, NATS_SEEDS)
        assert bb.objectives.dtype == np.float32 and bb.objectives.shape == (4, 3, 200, 7)
        assert bb.objective_names == ["valid_error", "train_error", "runtime", "elapsed_time", "latency", "flops",
                                      "params"]
        assert (bb.metric, bb.mode, bb.runtime_objective, bb.elapsed_objective) == (
            "valid_error", "min", "runtime", "elapsed_time")
        for arch in range(len(NATS_ARCHS)):
            for s, seed in enumerate(NATS_SEEDS):
                cell = bb.objectives[arch, s]
                if (arch, dataset, seed) in NATS_MISSING | NATS_INCOMPLETE:
                    assert np.isnan(cell).all(), (arch, dataset, seed)  # never imputed
                else:
                    np.testing.assert_array_equal(cell, expected_run(arch, dataset, seed))
        missing = bb.metadata["missing_data"]
        assert missing["missing_runs"] == sum(1 for _, d, _ in NATS_MISSING if d == dataset)
        assert missing["incomplete_runs"] == sum(1 for _, d, _ in NATS_INCOMPLETE if d == dataset)
        assert "not imputed" in missing["policy"]
        assert bb.metadata["source_sha256"] == sha256
        assert bb.metadata["ignored_dataset_keys"] == ["cifar10-valid"]
        assert bb.metadata["converter_version"] == nasbench201.CONVERTER_VERSION
        assert bb.metadata["source_urls"] and bb.metadata["downloaded_from"] is None
        assert "NaN" in bb.metadata["description"]
    cifar100 = blackboxes["nas201-cifar100"]
    assert cifar100.metadata["missing_data"]["missing_runs_per_seed"] == {"777": 0, "888": 1, "999": 1}
    np.testing.assert_array_equal(cifar100.seed_indices(cifar100.config(2)), [0, 1])
    np.testing.assert_array_equal(cifar100.seed_indices(cifar100.config(3)), [0, 2])
    np.testing.assert_array_equal(cifar100.seed_indices(cifar100.config(0)), [0, 1, 2])


def test_stored_and_reloaded_benchmarks_match(nats_file: Path, tmp_path: Path) -> None:
    repository = BlackboxRepository(tmp_path / "repo")
    written = repository.generate("nas201-cifar100", nats_file)
    assert written == ["nas201-cifar10", "nas201-cifar100", "nas201-ImageNet16-120"]
    fresh = convert(nats_file, tmp_path)
    for name in written:
        loaded = repository.load(name)
        assert loaded.objectives.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(loaded.objectives), fresh[name].objectives)
        assert loaded.space == fresh[name].space
        assert loaded.configs.astype(object).equals(fresh[name].configs.astype(object))
        assert loaded.metadata["missing_data"] == fresh[name].metadata["missing_data"]
        assert loaded.metadata["source_sha256"] == fresh[name].metadata["source_sha256"]


def test_directory_uncompressed_and_multistream_sources(nats_file: Path, tmp_path: Path) -> None:
    reference = convert(nats_file, tmp_path)["nas201-cifar10"].objectives
    from_dir = convert(nats_file.parent, tmp_path)["nas201-cifar10"].objectives
    plain = tmp_path / "plain" / "NATS-tss-v1_0-3ffb9.pickle"
    plain.parent.mkdir()
    plain.write_bytes(pickle.dumps(nats_data(), protocol=4))
    from_plain = convert(plain, tmp_path)["nas201-cifar10"].objectives
    multi = write_nats(tmp_path / "multi.pickle.pbz2", streams=3)  # as written by pbzip2
    from_multi = convert(multi, tmp_path)["nas201-cifar10"].objectives
    for other in (from_dir, from_plain, from_multi):
        np.testing.assert_array_equal(other, reference)


def test_stream_boundaries_at_any_read_size(
    nats_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tiny reads and outputs: bz2 stream headers cut between reads, output drained in pieces."""
    reference = convert(nats_file, tmp_path)["nas201-cifar100"].objectives
    multi = write_nats(tmp_path / "multi.pickle.pbz2", streams=4)
    multi.write_bytes(multi.read_bytes() + b"\x00" * 7)  # trailing padding is ignored, with a warning
    monkeypatch.setattr(nasbench201, "_CHUNK", 3)
    monkeypatch.setattr(nasbench201, "_OUT_CHUNK", 4096)
    np.testing.assert_array_equal(convert(multi, tmp_path)["nas201-cifar100"].objectives, reference)
    truncate(multi, 0.5)
    with pytest.raises(ChecksumError, match="truncated or corrupt"):
        convert(multi, tmp_path)


def test_download_from_a_url_into_the_sources_folder(nats_file: Path, tmp_path: Path) -> None:
    blackboxes = convert(None, tmp_path, urls=[nats_file.as_uri()])
    stored = tmp_path / "cache" / "sources" / FILENAME
    assert stored.read_bytes() == nats_file.read_bytes()
    assert blackboxes["nas201-cifar10"].metadata["downloaded_from"] == nats_file.as_uri()


def test_missing_source_without_network_names_the_url_and_the_option(tmp_path: Path) -> None:
    url = (tmp_path / "nowhere" / FILENAME).as_uri()
    with pytest.raises(DownloadError) as info:
        convert(None, tmp_path, urls=[url])
    message = str(info.value)
    assert url in message and "--source-path" in message and "python -m blackbox_repository.convert nas201" in message
    assert "\n" not in message
    with pytest.raises(BlackboxError, match="does not exist.*--source-path"):
        convert(tmp_path / "absent.pbz2", tmp_path)


@pytest.mark.parametrize("fraction", [0.5, 0.999])
def test_truncated_file_is_reported_before_unpickling(nats_file: Path, tmp_path: Path, fraction: float) -> None:
    truncate(nats_file, fraction)
    with pytest.raises(ChecksumError) as info:
        convert(nats_file, tmp_path)
    message = str(info.value)
    assert "truncated or corrupt" in message and "--source-path" in message and str(nats_file) in message
    assert "\n" not in message
    assert nats_file.exists()  # a user's own copy is never deleted


def test_truncated_download_is_deleted(nats_file: Path, tmp_path: Path) -> None:
    truncate(nats_file)
    with pytest.raises(ChecksumError, match="it was deleted, run again"):
        convert(None, tmp_path, urls=[nats_file.as_uri()])
    assert not (tmp_path / "cache" / "sources" / FILENAME).exists()


def test_corrupt_and_foreign_files(tmp_path: Path) -> None:
    page = tmp_path / "page.pbz2"
    page.write_bytes(b"<!DOCTYPE html><html>Google Drive - virus scan warning</html>")
    with pytest.raises(ChecksumError, match="web page"):
        convert(page, tmp_path)
    flipped = write_nats(tmp_path / "flipped.pbz2")
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF
    flipped.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="truncated or corrupt"):
        convert(flipped, tmp_path)
    plain = tmp_path / "cut.pickle"
    plain.write_bytes(pickle.dumps(nats_data(), protocol=4)[:-100])
    with pytest.raises(ChecksumError, match="STOP opcode"):
        convert(plain, tmp_path)


def test_only_plain_data_is_unpickled(tmp_path: Path) -> None:
    data = nats_data()
    data["extra"] = Path("/etc")  # any object that is not plain data
    with pytest.raises(BlackboxError, match="only plain data"):
        convert(write_nats(tmp_path / "objects.pbz2", data), tmp_path)


def test_inconsistent_layouts_are_refused(tmp_path: Path) -> None:
    data = nats_data()
    data["total_archs"] = 15625
    with pytest.raises(BlackboxError, match="total_archs is 15625 but arch2infos holds 4"):
        convert(write_nats(tmp_path / "a.pbz2", data), tmp_path)
    with pytest.raises(BlackboxError, match="not a NATS-Bench topology file"):
        convert(write_nats(tmp_path / "b.pbz2", {"something": 1}), tmp_path)
    data = nats_data()
    data["arch2infos"][1]["200"]["arch_str"] = arch_str(NATS_ARCHS[0])
    with pytest.raises(BlackboxError, match="same architecture string"):
        convert(write_nats(tmp_path / "c.pbz2", data), tmp_path)


def test_parse_arch_str() -> None:
    text = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    assert parse_arch_str(text) == (
        "nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect")
    for bad in ("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", "|none~0|+|none~1|none~0|+|none~0|none~1|none~2|",
                "|none~0|+|none~0|none~1|"):
        with pytest.raises(BlackboxError, match="bad architecture string"):
            parse_arch_str(bad)

"""LCBench converter on a small synthetic JSON (and zip) in the original layout (see source_builders)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from blackbox_repository import BlackboxError, BlackboxRepository, ChecksumError
from blackbox_repository.converters import lcbench
from blackbox_repository.converters.lcbench import SPACE, convert_lcbench
from blackbox_repository.download import DownloadError
from searchspace import Float, Integer
from tests.blackbox_repository.source_builders import (
    LCBENCH_CONFIGS,
    LCBENCH_DATASETS,
    LCBENCH_FIXED,
    LCBENCH_TAGS,
    lcbench_curves,
    lcbench_data,
    truncate,
    write_lcbench_json,
    write_lcbench_zip,
)


def convert(path: Path | None, tmp_path: Path, **kwargs) -> dict:
    return {bb.name: bb for bb in convert_lcbench(path, cache_dir=tmp_path / "cache", progress=False, **kwargs)}


def expected_cells(dataset_index: int, config: int) -> np.ndarray:
    curves = lcbench_curves(dataset_index, config)
    time = curves["time"]
    columns = [curves[tag][1:51] for tag in LCBENCH_TAGS]
    columns += [time[1:51] - time[0:50], time[1:51] - time[0]]
    return np.stack(columns, axis=-1).astype(np.float32)


@pytest.mark.parametrize("kind", ["json", "zip"])
def test_every_cell(tmp_path: Path, kind: str) -> None:
    path = (write_lcbench_json(tmp_path / "data_2k_lw.json") if kind == "json"
            else write_lcbench_zip(tmp_path / "data_2k_lw.zip"))
    blackboxes = convert(path, tmp_path)
    assert list(blackboxes) == ["lcbench-Fashion-MNIST", "lcbench-credit-g"]
    for d, dataset in enumerate(LCBENCH_DATASETS):
        bb = blackboxes[f"lcbench-{dataset}"]
        assert bb.objective_names == ["val_accuracy", "val_balanced_accuracy", "val_cross_entropy", "test_accuracy",
                                      "test_balanced_accuracy", "test_cross_entropy", "runtime", "elapsed_time"]
        assert (bb.metric, bb.mode) == ("val_accuracy", "max")
        assert bb.objective("val_accuracy").unit == "percent"
        assert bb.objective("val_balanced_accuracy").unit == "fraction"
        assert bb.objectives.dtype == np.float32 and bb.objectives.shape == (3, 1, 50, 8)
        np.testing.assert_array_equal(bb.fidelities, np.arange(1, 51))
        np.testing.assert_array_equal(bb.seeds, [0])
        for name in ("batch_size", "num_layers", "max_units"):
            assert bb.configs[name].dtype == np.int64
        for c, config in enumerate(LCBENCH_CONFIGS):
            expected = dict(config, num_layers=1 if config["num_layers"] is True else config["num_layers"])
            assert bb.config(c) == expected
            assert bb.configs["num_layers"].tolist()[c] == expected["num_layers"]
            np.testing.assert_array_equal(bb.objectives[c, 0], expected_cells(d, c))
        meta = bb.metadata
        assert meta["num_layers_true_read_as_1"] == 1
        assert meta["fixed_settings"] == dict(sorted(LCBENCH_FIXED.items()))
        assert meta["dataset_facts"]["OpenML_task_id"] == 189908 + d
        assert meta["source_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert meta["missing_data"]["curves_without_52_entries"] == dict.fromkeys([*LCBENCH_TAGS, "time"], 0)
        assert meta["converter_version"] == lcbench.CONVERTER_VERSION
        assert meta.get("source_md5_matches_quoted") is (False if kind == "zip" else None)


def test_search_space_bounds() -> None:
    assert SPACE["batch_size"] == Integer(16, 512, log=True)
    assert SPACE["learning_rate"] == Float(1e-4, 1e-1, log=True)
    assert SPACE["momentum"] == Float(0.1, 0.99) and SPACE["weight_decay"] == Float(1e-5, 0.1)
    assert SPACE["num_layers"] == Integer(1, 5) and SPACE["max_units"] == Integer(64, 1024, log=True)
    assert SPACE["max_dropout"] == Float(0.0, 1.0)
    assert len(lcbench.NAMES) == 35 and "lcbench-Fashion-MNIST" in lcbench.NAMES


def test_stored_and_reloaded_benchmarks_match(tmp_path: Path) -> None:
    path = write_lcbench_zip(tmp_path / "data_2k_lw.zip")
    repository = BlackboxRepository(tmp_path / "repo")
    assert repository.generate("lcbench-credit-g", path) == ["lcbench-Fashion-MNIST", "lcbench-credit-g"]
    fresh = convert(path, tmp_path)
    for name, bb in fresh.items():
        loaded = repository.load(name)
        np.testing.assert_array_equal(np.asarray(loaded.objectives), bb.objectives)
        assert loaded.space == SPACE
        assert [loaded.config(i) for i in range(3)] == [bb.config(i) for i in range(3)]
        assert loaded.metadata["num_layers_true_read_as_1"] == 1


def test_directory_source_and_download(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    write_lcbench_zip(folder / "data_2k_lw.zip")
    assert list(convert(folder, tmp_path)) == ["lcbench-Fashion-MNIST", "lcbench-credit-g"]
    converted = convert(None, tmp_path, urls=[(folder / "data_2k_lw.zip").as_uri()])
    assert converted["lcbench-credit-g"].metadata["downloaded_from"].startswith("file://")
    url = (tmp_path / "missing" / "data_2k_lw.zip").as_uri()
    with pytest.raises(DownloadError) as info:
        convert(None, tmp_path / "elsewhere", urls=[url])
    assert url in str(info.value) and "--source-path" in str(info.value)


@pytest.mark.parametrize("fraction", [0.4, 0.999])
def test_truncated_json_fails_before_any_benchmark(tmp_path: Path, fraction: float) -> None:
    path = truncate(write_lcbench_json(tmp_path / "data_2k_lw.json"), fraction)
    converter = convert_lcbench(path, cache_dir=tmp_path, progress=False)
    with pytest.raises(ChecksumError) as info:
        next(converter)  # not even the first (complete) dataset is produced
    assert "LCBench JSON" in str(info.value) and "truncated or corrupt" in str(info.value)
    assert "--source-path" in str(info.value) and "\n" not in str(info.value)


def test_truncated_and_corrupt_zip(tmp_path: Path) -> None:
    path = truncate(write_lcbench_zip(tmp_path / "data_2k_lw.zip"), 0.6)
    with pytest.raises(ChecksumError, match="LCBench zip .* is truncated or corrupt"):
        convert(path, tmp_path)
    stored = tmp_path / "stored.zip"  # uncompressed member: flipping a byte changes the CRC only
    with zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("data_2k_lw.json", json.dumps(lcbench_data()))
    data = bytearray(stored.read_bytes())
    position = data.index(b"50.5")
    data[position : position + 4] = b"50.6"
    stored.write_bytes(bytes(data))
    with pytest.raises(ChecksumError, match="CRC"):
        convert(stored, tmp_path)


def test_bad_values_are_refused(tmp_path: Path) -> None:
    data = lcbench_data()
    data["credit-g"]["1"]["config"]["num_layers"] = 7
    with pytest.raises(BlackboxError, match=r"num_layers=7 is outside \[1, 5\]"):
        convert(write_lcbench_json(tmp_path / "a.json", data), tmp_path)
    data = lcbench_data()
    data["credit-g"]["2"]["log"]["Train/val_accuracy"] = [1.0] * 51
    blackboxes = convert(write_lcbench_json(tmp_path / "b.json", data), tmp_path)
    bb = blackboxes["lcbench-credit-g"]
    assert np.isnan(bb.objectives[2, 0, :, 0]).all() and not np.isnan(bb.objectives[2, 0, :, 1]).any()
    assert bb.metadata["missing_data"]["curves_without_52_entries"]["Train/val_accuracy"] == 1
    data = lcbench_data()
    data["credit-g"]["0"]["config"]["learning_rate"] = 0.1 * (1 + 1e-12)  # rounding past the bound
    bb = convert(write_lcbench_json(tmp_path / "c.json", data), tmp_path)["lcbench-credit-g"]
    assert bb.config(0)["learning_rate"] == 0.1 and bb.metadata["values_clamped_to_bounds"] == 1


def test_strings_with_brackets_and_escapes_do_not_confuse_the_scanner(tmp_path: Path) -> None:
    data = lcbench_data()
    data["credit-g"]["0"]["config"]["note"] = 'a "quoted" {brace} [bracket] \\ back'
    data = {"we{ird}\"name": data["credit-g"], **data}
    blackboxes = convert(write_lcbench_json(tmp_path / "d.json", data), tmp_path)
    assert list(blackboxes) == ['lcbench-we{ird}"name', "lcbench-Fashion-MNIST", "lcbench-credit-g"]
    weird, credit = blackboxes['lcbench-we{ird}"name'], blackboxes["lcbench-credit-g"]
    np.testing.assert_array_equal(weird.objectives, credit.objectives)
    assert weird.metadata["varying_config_keys_ignored"] == ["note"]

"""Small source files in the layouts of the original benchmarks (NATS-Bench, FCNet, LCBench).

SYNTHETIC, FOR TESTS ONLY: every value follows a formula of its indices, so that a test knows the
expected value of every cell. Nothing here is data of the real benchmarks.
"""

from __future__ import annotations

import bz2
import io
import json
import pickle
import tarfile
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

# NATS-Bench topology file -------------------------------------------------------------------------

NATS_DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NATS_SEEDS = (777, 888, 999)
NATS_EPOCHS = 200
NATS_ARCHS = (
    ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect"),
    ("none", "none", "none", "none", "none", "none"),
    ("avg_pool_3x3", "skip_connect", "nor_conv_1x1", "none", "nor_conv_3x3", "avg_pool_3x3"),
    ("skip_connect", "nor_conv_1x1", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_1x1"),
)
#: (architecture, dataset, seed) runs that are absent from the test file.
NATS_MISSING = frozenset(
    {(2, dataset, 999) for dataset in NATS_DATASETS} | {(3, "cifar100", 888)}
)
#: Runs present but lacking the last epoch's evaluation: the converter stores them as missing.
NATS_INCOMPLETE = frozenset({(1, "ImageNet16-120", 777)})


def arch_str(ops: tuple[str, ...]) -> str:
    return f"|{ops[0]}~0|+|{ops[1]}~0|{ops[2]}~1|+|{ops[3]}~0|{ops[4]}~1|{ops[5]}~2|"


def nats_expected(arch: int, dataset: str, seed: int) -> dict[str, np.ndarray | float]:
    """Source values of one run: accuracies in percent, times in seconds (float64)."""
    d, s = NATS_DATASETS.index(dataset), NATS_SEEDS.index(seed)
    epochs = np.arange(NATS_EPOCHS, dtype=np.float64)
    return {
        "eval_acc": 10 + 5 * arch + 2 * d + 0.5 * s + 0.25 * epochs,
        "train_acc": 20 + 4 * arch + d + 0.3 * s + 0.3 * epochs,
        "train_time": 1 + 0.1 * arch + 0.01 * s + 0.001 * epochs,
        "eval_time": 0.5 + 0.01 * d + 0.0 * epochs,
        "latency": 0.001 * (arch + 1) + 0.0001 * d,
        "flop": 10.0 + arch,
        "params": 0.1 * (arch + 1),
    }


def _nats_entry(arch: int, dataset: str, seed: int) -> dict[str, Any]:
    values = nats_expected(arch, dataset, seed)
    eval_acc = {f"ori-test@{e}": float(values["eval_acc"][e]) for e in range(NATS_EPOCHS)}
    eval_acc.update({f"x-valid@{e}": 1.0 for e in range(NATS_EPOCHS)})
    entry = {
        "name": "infer.tiny",
        "dataset": dataset,
        "seed": seed,
        "epochs": NATS_EPOCHS,
        "eval_acc1es": eval_acc,
        "eval_losses": {key: 0.5 for key in eval_acc},
        "eval_times": {f"ori-test@{e}": float(values["eval_time"][e]) for e in range(NATS_EPOCHS)},
        "train_acc1es": {e: float(values["train_acc"][e]) for e in range(NATS_EPOCHS)},
        "train_losses": {e: 1.0 for e in range(NATS_EPOCHS)},
        "train_times": OrderedDict((e, float(values["train_time"][e])) for e in range(NATS_EPOCHS)),
        "latency": [values["latency"], values["latency"] * 2],
        "flop": values["flop"],
        "params": values["params"],
    }
    if (arch, dataset, seed) in NATS_INCOMPLETE:
        del entry["eval_acc1es"][f"ori-test@{NATS_EPOCHS - 1}"]
    return entry


def nats_data(archs: tuple[tuple[str, ...], ...] = NATS_ARCHS) -> dict[str, Any]:
    """The dict of a NATS-Bench topology file with ``archs`` (the missing and incomplete runs above)."""
    arch2infos = {}
    for i, ops in enumerate(archs):
        results = {
            (dataset, seed): _nats_entry(i, dataset, seed)
            for dataset in NATS_DATASETS
            for seed in NATS_SEEDS
            if (i, dataset, seed) not in NATS_MISSING
        }
        results[("cifar10-valid", 777)] = {"eval_acc1es": {"x-valid@0": 1.0}}  # ignored by the converter
        arch2infos[i] = {
            "12": {"arch_str": arch_str(ops), "all_results": {("cifar10", 111): {}}},
            "200": {"arch_str": arch_str(ops), "all_results": results, "dataset_seed": {}},
        }
    return {
        "meta_archs": [arch_str(ops) for ops in archs],
        "total_archs": len(archs),
        "arch2infos": arch2infos,
        "evaluated_indexes": list(range(len(archs))),
    }


def write_nats(path: Path, data: dict[str, Any] | None = None, *, streams: int = 1) -> Path:
    """Pickle and bz2-compress ``data`` (default: ``nats_data()``) into ``path``; several bz2 streams if asked."""
    raw = pickle.dumps(nats_data() if data is None else data, protocol=4)
    step = -(-len(raw) // streams)
    path.write_bytes(b"".join(bz2.compress(raw[i : i + step]) for i in range(0, len(raw), step)))
    return path


# FCNet HDF5 files --------------------------------------------------------------------------------

FCNET_FILES = {
    "protein_structure": "fcnet_protein_structure_data.hdf5",
    "naval_propulsion": "fcnet_naval_propulsion_data.hdf5",
}
FCNET_CONFIGS = (
    {"activation_fn_1": "relu", "activation_fn_2": "tanh", "batch_size": 64, "dropout_1": 0.6, "dropout_2": 0.0,
     "init_lr": 0.1, "lr_schedule": "const", "n_units_1": 512, "n_units_2": 16},
    {"activation_fn_1": "tanh", "activation_fn_2": "tanh", "batch_size": 8, "dropout_1": 0.0, "dropout_2": 0.0,
     "init_lr": 0.0005, "lr_schedule": "cosine", "n_units_1": 16, "n_units_2": 16},
    {"activation_fn_1": "relu", "activation_fn_2": "relu", "batch_size": 16, "dropout_1": 0.3, "dropout_2": 0.6,
     "init_lr": 0.005, "lr_schedule": "cosine", "n_units_1": 128, "n_units_2": 64},
)
FCNET_SEEDS, FCNET_EPOCHS = 4, 100


def fcnet_expected(group: int, dataset_index: int) -> dict[str, np.ndarray]:
    """Source values of group ``group`` (position in ``FCNET_CONFIGS``) of one file."""
    s = np.arange(FCNET_SEEDS, dtype=np.float64)[:, None]
    e = np.arange(FCNET_EPOCHS, dtype=np.float64)[None, :]
    valid = 0.1 * group + 0.01 * s + 1.0 / (e + 1) + 0.001 * dataset_index
    return {
        "valid_loss": valid,
        "train_loss": valid + 0.5,
        "valid_mse": valid + 0.25,
        "train_mse": valid + 0.75,
        "runtime": 100.0 + 10 * group + s[:, 0] + dataset_index,
        "final_test_error": 0.2 + 0.01 * group + 0.001 * s[:, 0],
        "n_params": np.full(FCNET_SEEDS, 1000.0 + group),
    }


def write_fcnet_file(path: Path, dataset_index: int, configs: tuple[dict, ...] = FCNET_CONFIGS) -> Path:
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as handle:
        for g, config in enumerate(configs):
            group = handle.create_group(str(config))
            for name, values in fcnet_expected(g, dataset_index).items():
                group.create_dataset(name, data=values)
    return path


def write_fcnet_dir(directory: Path) -> Path:
    """``directory/fcnet_tabular_benchmarks/`` with the two test HDF5 files."""
    folder = directory / "fcnet_tabular_benchmarks"
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(FCNET_FILES.values()):
        write_fcnet_file(folder / name, index)
    return directory


def write_fcnet_archive(path: Path) -> Path:
    """``fcnet_tabular_benchmarks.tar.gz`` layout with the two test files (and a README)."""
    work = path.parent / (path.name + ".contents")
    write_fcnet_dir(work)
    with tarfile.open(path, "w:gz") as tar:
        tar.add(work / "fcnet_tabular_benchmarks", arcname="fcnet_tabular_benchmarks")
        readme = b"test archive\n"
        info = tarfile.TarInfo("fcnet_tabular_benchmarks/README.txt")
        info.size = len(readme)
        tar.addfile(info, io.BytesIO(readme))
    return path


# LCBench JSON ------------------------------------------------------------------------------------

LCBENCH_DATASETS = ("Fashion-MNIST", "credit-g")
LCBENCH_CONFIGS = (
    {"batch_size": 124, "learning_rate": 0.07113964491331314, "momentum": 0.46269226264944247,
     "weight_decay": 0.0018436505744833952, "num_layers": 3, "max_units": 106, "max_dropout": 0.00910225473215609},
    {"batch_size": 16, "learning_rate": 0.0001, "momentum": 0.99, "weight_decay": 0.1, "num_layers": True,
     "max_units": 1024, "max_dropout": 1.0},
    {"batch_size": 511, "learning_rate": 0.003, "momentum": 0.1, "weight_decay": 1e-05, "num_layers": 4,
     "max_units": 64, "max_dropout": 0.0},
)
LCBENCH_FIXED = {"optimizer": "sgd", "network": "shapedmlpnet", "cosine_annealing_T_max": 50}
LCBENCH_TAGS = ("Train/val_accuracy", "Train/val_balanced_accuracy", "Train/val_cross_entropy",
                "Train/test_result", "Train/test_balanced_accuracy", "Train/test_cross_entropy")


def lcbench_curves(dataset_index: int, config: int) -> dict[str, np.ndarray]:
    """The 52-entry source curves of one run (float64)."""
    i = np.arange(52, dtype=np.float64)
    base = 0.01 * dataset_index + 0.1 * config
    return {
        "Train/val_accuracy": 50 + 0.5 * i + base,
        "Train/val_balanced_accuracy": 0.4 + 0.01 * i + base / 10,
        "Train/val_cross_entropy": 2.0 - 0.02 * i + base,
        "Train/test_result": 49 + 0.5 * i + base,
        "Train/test_balanced_accuracy": 0.39 + 0.01 * i + base / 10,
        "Train/test_cross_entropy": 2.1 - 0.02 * i + base,
        "time": 3.0 + (config + 1) * i * (i + 1) / 2 + dataset_index,
        "epoch": i,
    }


def lcbench_data() -> dict[str, Any]:
    data: dict[str, Any] = {}
    for d, dataset in enumerate(LCBENCH_DATASETS):
        runs = {}
        for c, config in enumerate(LCBENCH_CONFIGS):
            curves = lcbench_curves(d, c)
            runs[str(c)] = {
                "config": {**config, **LCBENCH_FIXED},
                "log": {tag: values.tolist() for tag, values in curves.items()}
                | {"Train/lr": [0.1] * 52},
                "results": {"OpenML_task_id": 189908 + d, "instances": 1000, "classes": 10, "features": 7,
                            "final_val_accuracy": 1.0},
            }
        data[dataset] = runs
    return data


def write_lcbench_json(path: Path, data: dict[str, Any] | None = None) -> Path:
    path.write_text(json.dumps(lcbench_data() if data is None else data))
    return path


def write_lcbench_zip(path: Path, data: dict[str, Any] | None = None) -> Path:
    text = json.dumps(lcbench_data() if data is None else data)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data_2k_lw.json", text)
    return path


def truncate(path: Path, fraction: float = 0.5) -> Path:
    """Cut ``path`` to ``fraction`` of its size, as an interrupted download would."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path

"""FCNet (tabular benchmarks for joint architecture and hyperparameter optimization, Klein & Hutter 2019).

Source: ``fcnet_tabular_benchmarks.tar.gz`` (or its extracted directory, or one of its HDF5 files)
holding ``fcnet_{protein_structure,naval_propulsion,parkinsons_telemonitoring,slice_localization}_data.hdf5``.
Each file becomes one benchmark: ``fcnet-protein``, ``fcnet-naval``, ``fcnet-parkinsons``, ``fcnet-slice``.

Every HDF5 group is one configuration (its name is the configuration as a Python dict literal) with
four repetitions ("seeds", numbered 0..3: the file has no seed values) of 100 epochs. The space is a
full grid of 62,208 points, so every hyperparameter has a finite domain holding exactly the grid
values (``Grid`` for numbers, ``Categorical`` for strings) and rows are in grid order (the product
order of the space). Objectives, float32:

- ``valid_loss`` (the metric, min), ``train_loss``, ``valid_mse``, ``train_mse``: per epoch;
- ``runtime``: the file stores only the total training seconds of the 100 epochs (per seed); we
  assume every epoch takes the same time, so runtime = total/100 per epoch and ``elapsed_time`` =
  total * epoch/100 (the linear interpolation of the FCNet benchmark code and of Syne Tune);
- ``final_test_error`` and ``n_params``: one value per seed, repeated over the epochs.

An archive is read to its very end (so gzip checks its CRC and length) while its HDF5 files are
extracted to a temporary folder in ``<cache>/sources`` (disk space: the size of the files); each
HDF5 file is checked for its signature and opened by h5py, which refuses a truncated file, before
any value is read. Converting a full-size file takes about 30 s and 1.2 GB of memory (measured on a
synthetic file of the same layout).
"""

from __future__ import annotations

import ast
import contextlib
import itertools
import logging
import tarfile
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.blackbox import Blackbox, Objective
from blackbox_repository.converters.sources import (
    Source,
    SourceSpec,
    copy_hashed,
    hash_file,
    resolve_source,
    source_metadata,
    sources_dir,
    warn_unexpected_count,
)
from blackbox_repository.errors import BlackboxError
from blackbox_repository.progress import tqdm
from searchspace import Categorical, Grid, SearchSpace

logger = logging.getLogger(__name__)

CONVERTER_VERSION = "1"
SPEC = SourceSpec(
    family="fcnet",
    filename="fcnet_tabular_benchmarks.tar.gz",
    # The published URL, then the university mirror it redirects to. No SHA-256 is published.
    urls=(
        "http://ml4aad.org/wp-content/uploads/2019/01/fcnet_tabular_benchmarks.tar.gz",
        "https://ml.informatik.uni-freiburg.de/wp-content/uploads/2019/01/fcnet_tabular_benchmarks.tar.gz",
    ),
    page="https://github.com/automl/nas_benchmarks",
    sha256=None,
)

NAMES = {
    "protein_structure": "fcnet-protein",
    "naval_propulsion": "fcnet-naval",
    "parkinsons_telemonitoring": "fcnet-parkinsons",
    "slice_localization": "fcnet-slice",
}
FILES = {f"fcnet_{dataset}_data.hdf5": dataset for dataset in NAMES}
ACTIVATIONS = ("tanh", "relu")
DROPOUTS = (0.0, 0.3, 0.6)
UNITS = (16, 32, 64, 128, 256, 512)
SPACE = SearchSpace(
    {
        "activation_fn_1": Categorical(ACTIVATIONS),
        "activation_fn_2": Categorical(ACTIVATIONS),
        "batch_size": Grid((8, 16, 32, 64)),
        "dropout_1": Grid(DROPOUTS),
        "dropout_2": Grid(DROPOUTS),
        "init_lr": Grid((5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1)),
        "lr_schedule": Categorical(("cosine", "const")),
        "n_units_1": Grid(UNITS),
        "n_units_2": Grid(UNITS),
    }
)
PUBLISHED_CONFIGS = 62208
PUBLISHED_SEEDS = 4
PUBLISHED_EPOCHS = 100
CURVES = ("valid_loss", "train_loss", "valid_mse", "train_mse")
PER_SEED = ("runtime", "final_test_error", "n_params")
OBJECTIVES = (
    Objective("valid_loss", "min", "MSE"),
    Objective("train_loss", "min", "MSE"),
    Objective("valid_mse", "min", "MSE"),
    Objective("train_mse", "min", "MSE"),
    Objective("runtime", None, "s"),
    Objective("elapsed_time", None, "s"),
    Objective("final_test_error", "min", "MSE"),
    Objective("n_params", None, "count"),
)
RUNTIME_NOTE = (
    "The source stores only the total training seconds of all epochs per seed; runtime assumes every "
    "epoch takes the same time (runtime = total/epochs, elapsed_time = total*epoch/epochs), the linear "
    "interpolation of the FCNet benchmark code."
)
CITATION = (
    "Klein, A. and Hutter, F. Tabular benchmarks for joint architecture and hyperparameter optimization. "
    "arXiv:1905.04970, 2019."
)
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def convert_fcnet(
    source_path: Path | None = None,
    *,
    cache_dir: Path | str | None = None,
    urls: Sequence[str] | None = None,
    progress: bool = True,
) -> Iterator[Blackbox]:
    """Yield one FCNet benchmark per HDF5 file of the source.

    Args:
        source_path: ``fcnet_tabular_benchmarks.tar.gz``, its extracted directory, or one HDF5 file;
            None downloads the archive into ``<cache_dir>/sources``.
        cache_dir: benchmark cache (default: the repository's default cache).
        urls: download URLs to use instead of the published ones.
        progress: show progress bars.
    """
    h5py = _import_h5py()
    source = resolve_source(SPEC, source_path, cache_dir=cache_dir, urls=urls, progress=progress)
    with contextlib.ExitStack() as stack:
        for dataset, path, blame, facts in _hdf5_files(source, sources_dir(cache_dir), stack, progress):
            blackbox = _convert_file(h5py, dataset, path, blame, facts, progress)
            yield blackbox
            del blackbox


def _import_h5py() -> Any:
    try:
        import h5py
    except ImportError:
        raise BlackboxError(
            "converting FCNet needs h5py; install it with: pip install 'hpo-workbench[fcnet]'"
        ) from None
    return h5py


# Locating the HDF5 files -------------------------------------------------------------------------


def _hdf5_files(
    source: Source, work_dir: Path, stack: contextlib.ExitStack, progress: bool
) -> Iterator[tuple[str, Path, Source, dict[str, Any]]]:
    """(dataset, HDF5 path, source to name in errors, metadata facts) for each file of the source."""
    path = source.path
    if path.is_dir():
        found = {}
        for folder in (path, path / "fcnet_tabular_benchmarks"):
            for name, dataset in FILES.items():
                if dataset not in found and (folder / name).is_file():
                    found[dataset] = folder / name
        if not found:
            raise BlackboxError(
                f"{path} holds none of the FCNet files {', '.join(FILES)}; pass the archive "
                f"{SPEC.filename}, its extracted directory or one of these files with --source-path"
            )
        _warn_missing(found, path)
        for dataset, file in found.items():
            sha256 = hash_file(file)["sha256"]
            yield dataset, file, Source(file, None, SPEC), _file_facts(Source(file, None, SPEC), sha256)
        return
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head.startswith(HDF5_SIGNATURE):
        if path.name not in FILES:
            raise BlackboxError(
                f"{path} is an HDF5 file but not one of the FCNet files {', '.join(FILES)}; keep the original "
                "file name so that the dataset is known"
            )
        yield FILES[path.name], path, source, _file_facts(source, hash_file(path)["sha256"])
        return
    if not (head.startswith((b"\x1f\x8b", b"BZh")) or head[257:262] == b"ustar"):
        raise source.corrupt(
            "FCNet source",
            f"it is neither a tar archive nor an HDF5 file: it starts with {head[:16]!r}",
        )
    archive_sha256 = hash_file(path)["sha256"]
    work_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=".fcnet-", dir=work_dir)))
    members = _extract(source, tmp, progress)
    for dataset in [dataset for dataset in NAMES if dataset in members]:  # in the order of NAMES
        file, member, member_sha256 = members[dataset]
        facts = _file_facts(source, archive_sha256, source_member=member, source_member_sha256=member_sha256)
        yield dataset, file, source, facts


def _extract(source: Source, tmp: Path, progress: bool) -> dict[str, tuple[Path, str, str]]:
    """Extract the FCNet files of the archive into ``tmp``, reading the archive to its very end.

    Reading to the end makes gzip check its CRC and length, so a truncated archive is always detected.
    """
    extracted: dict[str, tuple[Path, str, str]] = {}
    names = []
    try:
        with (
            tarfile.open(source.path, "r:*") as tar,
            tqdm(desc=f"extracting {source.path.name}", unit="file", disable=not progress, leave=False) as bar,
        ):
            for member in tar:
                names.append(member.name)
                base = Path(member.name).name
                if member.isfile() and base in FILES:
                    stream = tar.extractfile(member)
                    assert stream is not None
                    sha256 = copy_hashed(stream, tmp / base)
                    if (tmp / base).stat().st_size != member.size:
                        raise EOFError(f"member {member.name} is shorter than its header says")
                    extracted[FILES[base]] = (tmp / base, member.name, sha256)
                    bar.update()
            fileobj = tar.fileobj
            while fileobj.read(1 << 22):
                pass
    except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
        raise source.corrupt("FCNet archive", f"{type(error).__name__}: {error}") from None
    if not extracted:
        raise BlackboxError(
            f"{source.path} holds none of the FCNet files {', '.join(FILES)} (it holds {', '.join(names[:5])}"
            f"{' …' if len(names) > 5 else ''}); is it {SPEC.filename}?"
        )
    _warn_missing(extracted, source.path)
    return extracted


def _warn_missing(found: dict[str, Any], where: Path) -> None:
    absent = [name for name, dataset in FILES.items() if dataset not in found]
    if absent:
        logger.warning("%s lacks %s; converting the other FCNet datasets", where, ", ".join(absent))


def _file_facts(source: Source, sha256: str, **extra: Any) -> dict[str, Any]:
    return source_metadata(source, sha256, converter=__name__, version=CONVERTER_VERSION, **extra)


# Converting one file -----------------------------------------------------------------------------


def _convert_file(
    h5py: Any, dataset: str, path: Path, blame: Source, facts: dict[str, Any], progress: bool
) -> Blackbox:
    label = "FCNet archive" if blame.path != path else "FCNet HDF5 file"
    where = f"{blame.path}" + (f" ({path.name})" if blame.path != path else "")
    with open(path, "rb") as handle:
        signature = handle.read(len(HDF5_SIGNATURE))
    if signature != HDF5_SIGNATURE and not h5py.is_hdf5(path):
        raise blame.corrupt(label, f"{path.name} is not an HDF5 file")
    try:
        with h5py.File(path, "r") as handle:
            configs, objectives, nan_counts = _read_groups(h5py, handle, where, progress, NAMES[dataset])
    except BlackboxError:
        raise
    except (OSError, RuntimeError, KeyError, ValueError, TypeError) as error:
        raise blame.corrupt(label, f"{path.name}: h5py: {error}") from None
    num_configs, num_seeds, num_epochs, _ = objectives.shape
    warn_unexpected_count("configurations", num_configs, PUBLISHED_CONFIGS, Path(where))
    if (num_seeds, num_epochs) != (PUBLISHED_SEEDS, PUBLISHED_EPOCHS):
        logger.warning("%s has %d seeds x %d epochs; the published files have 4 x 100", where, num_seeds, num_epochs)
    metadata = dict(facts)
    metadata.update(
        description=(
            f"FCNet {dataset}: a 2-layer fully connected network trained on the UCI regression dataset "
            f"{dataset} for {num_epochs} epochs, {num_seeds} repetitions (numbered 0..{num_seeds - 1}), over the "
            f"full grid of {PUBLISHED_CONFIGS} configurations; rows in grid order. Losses are MSE. "
            + RUNTIME_NOTE
        ),
        dataset=dataset,
        num_configs=num_configs,
        published_num_configs=PUBLISHED_CONFIGS,
        runtime_note=RUNTIME_NOTE,
        seeds_note="the source has no seed values; the repetitions are numbered 0..3",
        missing_data={"nan_values": nan_counts, "missing_grid_points": PUBLISHED_CONFIGS - num_configs},
        citation=CITATION,
    )
    return Blackbox(
        name=NAMES[dataset],
        space=SPACE,
        configs=configs,
        fidelities=np.arange(1, num_epochs + 1),
        seeds=np.arange(num_seeds),
        objectives=objectives,
        objective_info=OBJECTIVES,
        metric="valid_loss",
        metadata=metadata,
    )


def _read_groups(
    h5py: Any, handle: Any, where: str, progress: bool, name: str
) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
    keys = list(handle.keys())
    if not keys:
        raise BlackboxError(f"{where} holds no configuration groups; is it an FCNet file?")
    codes = np.array([_grid_code(key, where) for key in keys], dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    duplicates = np.flatnonzero(np.diff(sorted_codes) == 0)
    if len(duplicates):
        first = keys[order[duplicates[0]]]
        raise BlackboxError(f"{where}: configuration {first} appears in more than one group")
    read = _Reader(h5py, handle, where)
    num_seeds, num_epochs = read.shape(keys[0], "valid_loss")
    epochs = np.arange(1, num_epochs + 1, dtype=np.float64)
    out = np.empty((len(keys), num_seeds, num_epochs, len(OBJECTIVES)), dtype=np.float32)
    for row, position in enumerate(tqdm(order, desc=f"converting {name}", unit="config", disable=not progress,
                                        leave=False)):
        key = keys[position]
        record = out[row]
        for k, curve in enumerate(CURVES):
            record[:, :, k] = read(key, curve, (num_seeds, num_epochs))
        total = read(key, "runtime", (num_seeds,))
        record[:, :, 4] = (total / num_epochs)[:, None]
        record[:, :, 5] = total[:, None] * epochs / num_epochs
        record[:, :, 6] = read(key, "final_test_error", (num_seeds,))[:, None]
        record[:, :, 7] = read(key, "n_params", (num_seeds,))[:, None]
    configs = _configs_from_codes(sorted_codes)
    nan_counts = {objective.name: int(np.isnan(out[..., k]).sum()) for k, objective in enumerate(OBJECTIVES)}
    return configs, out, nan_counts


class _Reader:
    """Reads small datasets through h5py's low-level API (about 4x faster than ``group[name][()]``)."""

    def __init__(self, h5py: Any, handle: Any, where: str) -> None:
        self._open, self._all, self._file, self._where = h5py.h5d.open, h5py.h5s.ALL, handle.id, where

    def _dataset(self, key: str, name: str) -> Any:
        try:
            return self._open(self._file, f"{key}/{name}".encode())
        except KeyError:
            raise BlackboxError(f"{self._where}: group {key} has no {name!r} dataset; is it an FCNet file?") from None

    def shape(self, key: str, name: str) -> tuple[int, ...]:
        shape = self._dataset(key, name).shape
        if len(shape) != 2:
            raise BlackboxError(f"{self._where}: group {key}: {name!r} has shape {shape}, expected (seeds, epochs)")
        return shape

    def __call__(self, key: str, name: str, shape: tuple[int, ...]) -> np.ndarray:
        dataset = self._dataset(key, name)
        found = dataset.shape
        out = np.empty(found, dtype=np.float64)
        dataset.read(self._all, self._all, out)
        if found != shape:
            if out.size != 1:
                raise BlackboxError(f"{self._where}: group {key}: {name!r} has shape {found}, expected {shape}")
            out = np.full(shape, out.item())
        return out


def _grid_code(key: str, where: str) -> int:
    """Position of the group's configuration in the product order of ``SPACE``."""
    try:
        config = ast.literal_eval(key)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        config = None
    if not isinstance(config, dict) or set(config) != set(SPACE.names):
        raise BlackboxError(
            f"{where}: group name {key[:200]!r} is not a configuration dict with keys {', '.join(SPACE.names)}"
        )
    code = 0
    for name in SPACE.names:
        domain = SPACE[name]
        value = config[name]
        if isinstance(value, bool) or not domain.contains(value):
            raise BlackboxError(f"{where}: group {key}: {name}={value!r} is not one of {list(domain.choices)}")
        code = code * domain.size + domain.index(value)
    return code


def _configs_from_codes(codes: np.ndarray) -> pd.DataFrame:
    columns = {}
    remaining = codes.copy()
    for name in reversed(SPACE.names):
        domain = SPACE[name]
        columns[name] = [domain.choices[i] for i in (remaining % domain.size).tolist()]
        remaining //= domain.size
    return pd.DataFrame({name: columns[name] for name in SPACE.names})


def all_grid_configs() -> Iterator[dict[str, Any]]:
    """Every configuration of the FCNet grid, in row order of a complete file."""
    names = SPACE.names
    for values in itertools.product(*(SPACE[name].choices for name in names)):
        yield dict(zip(names, values))

"""NASBench-201 from the NATS-Bench topology file ``NATS-tss-v1_0-3ffb9.pickle.pbz2``.

One source file yields three benchmarks: ``nas201-cifar10``, ``nas201-cifar100`` and
``nas201-ImageNet16-120``. Row ``i`` of each is NATS-Bench architecture index ``i``; its six
hyperparameters ``hp_x0 .. hp_x5`` are the operations of the cell's edges, read left to right from
the architecture string. Fidelity: epoch 1..200; seeds 777, 888, 999; objectives stored as float32:

- ``valid_error`` = 1 - accuracy/100 on the ``"ori-test"`` evaluation after the epoch (the metric, min);
- ``train_error`` = 1 - training accuracy/100;
- ``runtime`` = training + evaluation seconds of the epoch; ``elapsed_time`` = its cumulative sum;
- ``latency`` (s), ``flops`` (MFLOPs) and ``params`` (millions), as stored for the run.

Missing runs: not every architecture was trained with every seed. A missing (architecture, seed)
run is stored as NaN in *every* objective and is not imputed (Syne Tune's conversion imputes the
mean of the other seeds; another library silently substitutes seed 888). ``Blackbox.seed_indices``
returns only the seeds with data, so the simulator replays only measured runs. The number of
missing runs per dataset is recorded in the metadata. A run whose entry lacks an epoch is treated
the same way and counted separately.

Dataset keys: the file also holds ``"cifar10-valid"`` results (trained on the CIFAR-10 training split
only); as in the usual conversion we read ``"cifar10"`` (trained on train+valid, evaluated on the
test set), ``"cifar100"`` and ``"ImageNet16-120"``, and ignore every other key.

Reading: the bz2 data is decompressed on a thread, with its CRCs checked, while the main thread
unpickles it (with an unpickler that accepts plain data only). The unpickler never sees the end of
the data before the whole file has been decompressed and found complete, so a truncated or corrupt
file gives a one-line ``ChecksumError``, never an unpickling error; no temporary file is written.

Memory: the whole pickle is loaded at once (the format allows nothing else): reportedly about 1.8 GB
of Python objects for the published file; a full-size synthetic file holding every field we read,
with a distinct key string per value, took 9.7 GB (``benchmarks/nas201_conversion.py``, peak 10.2 GB
for the whole conversion); the decompressed bytes are never all in memory at once. The benchmarks are then
built one dataset at a time into preallocated float32 arrays (262 MB each), and each dataset's
results are removed from the loaded dict as they are read.
"""

from __future__ import annotations

import bz2
import contextlib
import gc
import hashlib
import io
import logging
import operator
import pickle
import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.blackbox import Blackbox, Objective
from blackbox_repository.converters.sources import (
    Source,
    SourceSpec,
    hash_file,
    resolve_source,
    source_metadata,
    warn_unexpected_count,
)
from blackbox_repository.errors import BlackboxError
from blackbox_repository.progress import tqdm
from searchspace import Categorical, SearchSpace

logger = logging.getLogger(__name__)

CONVERTER_VERSION = "1"
FILE_ID = "1vzyK0UVH2D3fTpa1_dSWnp1gvGpAxRul"
SPEC = SourceSpec(
    family="nas201",
    filename="NATS-tss-v1_0-3ffb9.pickle.pbz2",
    # Google Drive; large files need the confirmation parameter, and the answer may still be a web
    # page (then the structural check below says so). No SHA-256 is published for this file.
    urls=(f"https://drive.usercontent.google.com/download?id={FILE_ID}&export=download&confirm=t",),
    page=f"https://drive.google.com/file/d/{FILE_ID}/view",
    sha256=None,
)

DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
NAMES = {dataset: f"nas201-{dataset}" for dataset in DATASETS}
OPS = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
NUM_EDGES = 6
HYPERPARAMETERS = tuple(f"hp_x{k}" for k in range(NUM_EDGES))
SEEDS = (777, 888, 999)
EPOCHS = 200
HP_KEY = "200"
PUBLISHED_ARCHITECTURES = 15625
EVAL_KEY = "ori-test"
OBJECTIVES = (
    Objective("valid_error", "min", "fraction"),
    Objective("train_error", "min", "fraction"),
    Objective("runtime", None, "s"),
    Objective("elapsed_time", None, "s"),
    Objective("latency", "min", "s"),
    Objective("flops", "min", "MFLOPs"),
    Objective("params", "min", "millions"),
)
MISSING_POLICY = (
    "A missing (architecture, seed) run is stored as NaN in every objective; it is not imputed. "
    "Blackbox.seed_indices returns only seeds with data, so the simulator replays measured runs only."
)
CITATION = (
    "Dong, X. and Yang, Y. NAS-Bench-201: Extending the scope of reproducible neural architecture search. "
    "ICLR 2020; Dong, X. et al. NATS-Bench: Benchmarking NAS algorithms for architecture topology and size. "
    "IEEE TPAMI 2021."
)
_CHUNK = 1 << 22
_OUT_CHUNK = 1 << 24


def convert_nasbench201(
    source_path: Path | None = None,
    *,
    cache_dir: Path | str | None = None,
    urls: Sequence[str] | None = None,
    progress: bool = True,
) -> Iterator[Blackbox]:
    """Yield ``nas201-cifar10``, ``nas201-cifar100`` and ``nas201-ImageNet16-120`` from the NATS file.

    Args:
        source_path: ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` (or its uncompressed pickle, or a directory
            holding it); None downloads it into ``<cache_dir>/sources``.
        cache_dir: benchmark cache (default: the repository's default cache).
        urls: download URLs to use instead of the published one.
        progress: show progress bars.
    """
    source = resolve_source(SPEC, source_path, cache_dir=cache_dir, urls=urls, progress=progress)
    source = Source(_pickle_file(source), source.url, SPEC)
    path = source.path
    data, sha256 = load_nats_file(path, source, progress=progress)
    infos, ops, ignored = _architectures(data, path)
    del data
    warn_unexpected_count("architectures", len(ops), PUBLISHED_ARCHITECTURES, path)
    configs = pd.DataFrame({name: [arch[k] for arch in ops] for k, name in enumerate(HYPERPARAMETERS)})
    space = SearchSpace({name: Categorical(OPS) for name in HYPERPARAMETERS})
    for dataset in DATASETS:
        objectives, missing = _convert_dataset(infos, dataset, path, progress)
        metadata = source_metadata(
            source,
            sha256,
            converter=__name__,
            version=CONVERTER_VERSION,
            description=_description(dataset),
            dataset=dataset,
            dataset_key=dataset,
            ignored_dataset_keys=ignored,
            num_architectures=len(ops),
            row_order="row i is NATS-Bench architecture index i",
            missing_data=missing,
            citation=CITATION,
        )
        yield Blackbox(
            name=NAMES[dataset],
            space=space,
            configs=configs,
            fidelities=np.arange(1, EPOCHS + 1),
            seeds=np.asarray(SEEDS),
            objectives=objectives,
            objective_info=OBJECTIVES,
            metric="valid_error",
            metadata=metadata,
        )
        del objectives


def parse_arch_str(arch_str: str) -> tuple[str, ...]:
    """The six edge operations of an architecture string, left to right.

    ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: nodes are separated by ``+``; node ``j`` lists one
    ``op~input`` per input node ``0 .. j-1``, in that order.
    """
    if not isinstance(arch_str, str):
        raise BlackboxError(f"architecture string must be a string, got {arch_str!r}")
    ops = []
    for node, text in enumerate(arch_str.split("+"), start=1):
        edges = [edge for edge in text.split("|") if edge]
        if len(edges) != node:
            raise BlackboxError(f"bad architecture string {arch_str!r}: node {node} should have {node} input(s)")
        for source_node, edge in enumerate(edges):
            op, _, index = edge.partition("~")
            if op not in OPS or index != str(source_node):
                raise BlackboxError(
                    f"bad architecture string {arch_str!r}: edge {edge!r} is not 'op~{source_node}' with op one of "
                    f"{', '.join(OPS)}"
                )
            ops.append(op)
    if len(ops) != NUM_EDGES:
        raise BlackboxError(f"bad architecture string {arch_str!r}: expected {NUM_EDGES} edges, found {len(ops)}")
    return tuple(ops)


# Reading the file --------------------------------------------------------------------------------


class _ForbiddenGlobal(pickle.UnpicklingError):
    """The pickle refers to a class or function that plain data does not need."""


_SAFE_GLOBALS = {
    ("collections", "OrderedDict"),
    ("collections", "defaultdict"),
    ("_codecs", "encode"),
    *(("builtins", name) for name in ("set", "frozenset", "complex", "bytearray", "list", "dict", "int", "float")),
    *(
        (module, name)
        for module in ("numpy.core.multiarray", "numpy._core.multiarray")
        for name in ("_reconstruct", "scalar")
    ),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _PlainDataUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, numbers, strings and numpy arrays; refuses any other global (safety)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        raise _ForbiddenGlobal(f"{module}.{name}")


def load_nats_file(path: Path, source: Source, *, progress: bool = True) -> tuple[Any, str]:
    """Check, decompress and unpickle a NATS file; returns (the dict, SHA-256 of the file).

    The bz2 stream is decompressed on a thread (with its CRCs checked) while the main thread
    unpickles. The unpickler never sees the end of the data before the whole file has been
    decompressed and found complete: a truncated or corrupt file raises ``ChecksumError`` saying so,
    never an error of the unpickler.
    """
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"BZh"):
        with _Bz2Pipe(path, progress) as pipe:
            reader = io.BufferedReader(pipe, buffer_size=1 << 20)
            try:
                data = _unpickle(reader, path, source)
                while reader.read(_CHUNK):  # data after the pickle's end, if any: still checked
                    pass
            except _SourceDamaged as damage:
                raise source.corrupt("NATS-Bench file", str(damage)) from None
            return data, pipe.sha256
    if head.startswith(b"\x80"):  # an uncompressed pickle (protocol 2 or later)
        _check_pickle_end(path, source)
        with open(path, "rb") as handle:
            return _unpickle(handle, path, source), hash_file(path)["sha256"]
    raise source.corrupt(
        "NATS-Bench file",
        f"it is not a bz2-compressed pickle: it starts with {head!r}"
        + ("; the download returned a web page instead of the file" if head.lstrip()[:1] == b"<" else ""),
    )


def _pickle_file(source: Source) -> Path:
    path = source.path
    if not path.is_dir():
        return path
    candidates = [path / SPEC.filename] if (path / SPEC.filename).is_file() else sorted(path.glob("*.pickle.pbz2"))
    if len(candidates) != 1:
        raise BlackboxError(
            f"{path} is a directory but holds {'no' if not candidates else 'several'} *.pickle.pbz2 file(s); "
            f"pass the path of {SPEC.filename} itself with --source-path"
        )
    return candidates[0]


class _SourceDamaged(Exception):
    """The bz2 data is truncated or corrupt (raised by the pipe to its reader)."""


class _Bz2Pipe(io.RawIOBase):
    """A readable stream of the decompressed contents of a bz2 file, decompressed on a thread.

    Every bz2 stream of the file is decompressed (a multi-stream file, as pbzip2 writes, is fine).
    Reading raises ``_SourceDamaged`` instead of returning the end of the data if the file is
    truncated or corrupt. ``sha256`` is the file's SHA-256 once the end has been read.
    """

    def __init__(self, path: Path, progress: bool) -> None:
        super().__init__()
        self.path, self.sha256 = path, ""
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._pending = memoryview(b"")
        self._finished = False
        self._bar = tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=f"reading {path.name}",
                         disable=not progress, leave=False)
        self._thread = threading.Thread(target=self._produce, name="bz2-decompress", daemon=True)
        self._thread.start()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            if self._finished:
                return 0
            item = self._queue.get()
            if isinstance(item, bytes):
                self._pending = memoryview(item)
            elif isinstance(item, str):  # the SHA-256: the whole file was decompressed and is complete
                self.sha256, self._finished = item, True
            else:
                self._finished = True
                raise _SourceDamaged(str(item))
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self) -> None:
        if not self.closed:
            self._stop.set()
            while self._thread.is_alive():  # unblock a producer waiting for room in the queue
                with contextlib.suppress(queue.Empty):
                    self._queue.get(timeout=0.05)
            self._bar.close()
        super().close()

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        try:
            self._put(self._decompress())
        except (OSError, EOFError, ValueError) as error:
            self._put(_SourceDamaged(f"bz2: {error}"))
        except _SourceDamaged as error:
            self._put(error)
        except BaseException as error:  # reported to the reader, never lost on the thread
            self._put(_SourceDamaged(f"reading failed: {type(error).__name__}: {error}"))

    def _decompress(self) -> str:
        digest = hashlib.sha256()
        decompressor = bz2.BZ2Decompressor()
        fed = False  # the current bz2 stream has received input
        trailing = False  # past the last bz2 stream: only hashing
        carry = b""  # the start of a next stream's header, cut by a chunk boundary
        with open(self.path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                self._bar.update(len(chunk))
                if trailing:
                    continue
                data, carry = carry + chunk, b""
                while True:
                    if not fed:  # where a bz2 stream starts, or the compressed data ends
                        if len(data) < 3 and b"BZh".startswith(data):
                            carry = data
                            break
                        if not data.startswith(b"BZh"):
                            logger.warning("%s: ignoring data after the end of the bz2 streams", self.path)
                            trailing = True
                            break
                    out = decompressor.decompress(data, max_length=_OUT_CHUNK)
                    fed, data = True, b""
                    if out and not self._put(out):
                        return ""
                    if decompressor.eof:  # a next bz2 stream may follow (multi-stream files)
                        data, decompressor, fed = decompressor.unused_data, bz2.BZ2Decompressor(), False
                    elif decompressor.needs_input:
                        break
        if fed or carry:
            raise _SourceDamaged("bz2: the compressed data ends before the end-of-stream marker")
        return digest.hexdigest()


def _check_pickle_end(path: Path, source: Source) -> None:
    with open(path, "rb") as handle:
        handle.seek(-1, 2)
        if handle.read(1) != b".":  # every pickle ends with the STOP opcode
            raise source.corrupt("NATS-Bench file", "the pickle does not end with its STOP opcode")


def _unpickle(stream: Any, path: Path, source: Source) -> Any:
    logger.info("loading %s (this takes a few GB of memory)", path)
    collecting = gc.isenabled()
    gc.disable()  # millions of new containers would trigger many useless collections
    try:
        return _PlainDataUnpickler(stream).load()
    except _SourceDamaged:
        raise
    except _ForbiddenGlobal as error:
        raise BlackboxError(
            f"{path} holds an object of type {error} that this converter does not load (only plain data is "
            f"unpickled, for safety); is it {SPEC.filename} from NATS-Bench?"
        ) from None
    except MemoryError:
        raise BlackboxError(
            f"not enough memory to load {path}: its Python objects take several GB; free memory and run again"
        ) from None
    except Exception as error:  # any other unpickling failure means a corrupt file
        raise source.corrupt("NATS-Bench file", f"unpickling failed: {type(error).__name__}: {error}") from None
    finally:
        if collecting:
            gc.enable()


# Converting --------------------------------------------------------------------------------------


def _architectures(data: Any, path: Path) -> tuple[Any, list[tuple[str, ...]], list[str]]:
    """Validate the layout; returns (arch2infos, ops per architecture, ignored dataset keys).

    Entries the benchmarks do not use (the 12-epoch results, other dataset keys) are removed from
    the loaded dict right away, to free memory.
    """
    if not isinstance(data, dict) or "arch2infos" not in data or "total_archs" not in data:
        found = sorted(map(str, data))[:10] if isinstance(data, dict) else type(data).__name__
        raise BlackboxError(
            f"{path} is not a NATS-Bench topology file: expected a dict with 'total_archs' and 'arch2infos', "
            f"found {found}"
        )
    infos, total = data["arch2infos"], data["total_archs"]
    indices = list(range(len(infos))) if isinstance(infos, list) else sorted(infos, key=_sort_key)
    if not isinstance(total, int) or indices != list(range(total)):
        raise BlackboxError(
            f"{path} is inconsistent: total_archs is {total!r} but arch2infos holds {len(infos)} architectures "
            f"(they must be numbered 0 .. total_archs-1)"
        )
    wanted = {(dataset, seed) for dataset in DATASETS for seed in SEEDS}
    ignored: set[str] = set()
    ops: list[tuple[str, ...]] = []
    for index in range(total):
        info = infos[index]
        hp = info.get(HP_KEY) if isinstance(info, dict) else None
        if not isinstance(hp, dict) or "arch_str" not in hp or not isinstance(hp.get("all_results"), dict):
            raise BlackboxError(
                f"{path}: architecture {index} has no 200-epoch results (key {HP_KEY!r} with 'arch_str' and "
                "'all_results'); is this the NATS-Bench topology file?"
            )
        for key in [key for key in info if key != HP_KEY]:
            del info[key]
        try:
            ops.append(parse_arch_str(hp["arch_str"]))
        except BlackboxError as error:
            raise BlackboxError(f"{path}: architecture {index}: {error}") from None
        results = hp["all_results"]
        for key in [key for key in results if key not in wanted]:
            ignored.add(str(key[0]) if isinstance(key, tuple) and key else str(key))
            del results[key]
    if len(set(ops)) != len(ops):
        raise BlackboxError(f"{path}: several architectures have the same architecture string")
    if ignored:
        logger.info("ignoring results under dataset keys %s", ", ".join(sorted(ignored)))
    return infos, ops, sorted(ignored)


def _sort_key(key: Any) -> tuple[int, Any]:
    return (0, key) if isinstance(key, int) else (1, str(key))


def _convert_dataset(infos: Any, dataset: str, path: Path, progress: bool) -> tuple[np.ndarray, dict[str, Any]]:
    """Objectives (archs, seeds, epochs, objectives) of one dataset; removes its results from ``infos``."""
    num_archs = len(infos)
    out = np.full((num_archs, len(SEEDS), EPOCHS, len(OBJECTIVES)), np.nan, dtype=np.float32)
    eval_values = operator.itemgetter(*[f"{EVAL_KEY}@{epoch}" for epoch in range(EPOCHS)])
    epoch_values = operator.itemgetter(*range(EPOCHS))
    missing = np.zeros(len(SEEDS), dtype=np.int64)
    incomplete = np.zeros(len(SEEDS), dtype=np.int64)
    block = np.empty((EPOCHS, len(OBJECTIVES)))
    for index in tqdm(range(num_archs), desc=f"converting {NAMES[dataset]}", unit="arch", disable=not progress,
                      leave=False):
        results = infos[index][HP_KEY]["all_results"]
        for s, seed in enumerate(SEEDS):
            entry = results.pop((dataset, seed), None)
            if entry is None:
                missing[s] += 1
                continue
            try:
                accuracy = np.asarray(eval_values(entry["eval_acc1es"]), dtype=np.float64)
                train_accuracy = np.asarray(epoch_values(entry["train_acc1es"]), dtype=np.float64)
                runtime = np.asarray(epoch_values(entry["train_times"]), dtype=np.float64)
                runtime += np.asarray(eval_values(entry["eval_times"]), dtype=np.float64)
                block[:, 0] = 1.0 - accuracy / 100.0
                block[:, 1] = 1.0 - train_accuracy / 100.0
                block[:, 2] = runtime
                block[:, 3] = np.cumsum(runtime)
                block[:, 4] = _first(entry.get("latency"))
                block[:, 5] = _number(entry.get("flop"))
                block[:, 6] = _number(entry.get("params"))
            except (KeyError, IndexError, TypeError, ValueError) as error:
                incomplete[s] += 1
                logger.debug("%s: architecture %d, %s seed %d is incomplete (%r)", path, index, dataset, seed, error)
                continue
            out[index, s] = block
    runs = num_archs * len(SEEDS)
    if missing.sum() + incomplete.sum() == runs:
        raise BlackboxError(f"{path} has no results for dataset {dataset!r} (key ({dataset!r}, seed))")
    no_data = int(np.isnan(out[:, :, 0, 0]).all(axis=1).sum())
    if incomplete.any():
        logger.warning("%s: %d %s runs lack some epochs; they are stored as missing", path, incomplete.sum(), dataset)
    if no_data:
        logger.warning("%s: %d architectures have no run at all on %s", path, no_data, dataset)
    logger.info("%s: %d of %d (architecture, seed) runs missing", NAMES[dataset], missing.sum(), runs)
    facts = {
        "missing_runs": int(missing.sum()),
        "missing_runs_per_seed": {str(seed): int(n) for seed, n in zip(SEEDS, missing)},
        "incomplete_runs": int(incomplete.sum()),
        "incomplete_runs_per_seed": {str(seed): int(n) for seed, n in zip(SEEDS, incomplete)},
        "architectures_without_runs": no_data,
        "runs_total": runs,
        "policy": MISSING_POLICY + " A run lacking some epochs (incomplete) is stored as missing too.",
    }
    return out, facts


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _first(value: Any) -> float:
    if isinstance(value, (list, tuple)):
        return float(value[0]) if value else float("nan")
    return _number(value)


def _description(dataset: str) -> str:
    return (
        f"NAS-Bench-201 on {dataset}, from the NATS-Bench topology file {SPEC.filename}: cell architectures "
        "with 6 edges, each one of 5 operations (hp_x0..hp_x5, read left to right from the architecture "
        f"string), trained for {EPOCHS} epochs with seeds 777, 888 and 999. valid_error = 1 - accuracy/100 "
        f"on the '{EVAL_KEY}' evaluation after each epoch, train_error = 1 - training accuracy/100, runtime = "
        "training + evaluation seconds of the epoch, elapsed_time = cumulative runtime; latency (s), flops "
        "(MFLOPs) and params (millions) as stored for the run. "
        + (
            "The 'cifar10' results are of networks trained on the CIFAR-10 train+valid split and evaluated on "
            "its test set (NATS-Bench convention; 'cifar10-valid' results are ignored), as in the usual "
            "conversion. "
            if dataset == "cifar10"
            else ""
        )
        + MISSING_POLICY
    )

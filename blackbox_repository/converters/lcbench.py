"""LCBench (Zimmer, Lindauer & Hutter 2021) from ``data_2k_lw.zip`` or the ``data_2k_lw.json`` inside it.

One benchmark per dataset of the file (35 OpenML datasets, 2000 configurations each), named
``lcbench-<dataset name as in the JSON>``, e.g. ``lcbench-Fashion-MNIST``. Rows follow the
configuration ids (0, 1, ...); one run per configuration (seed axis of length 1).

Fidelity: epoch 1..50. Each logged curve has 52 entries: the first is logged before training and
the last repeats the end of training, so entries 1..50 are epochs 1..50 and the first and last are
dropped. ``elapsed_time`` = time[e] - time[0]; ``runtime`` = time[e] - time[e-1].

Objectives (float32), in the units of the source, which are also those of YAHPO Gym's ``lcbench``
surrogate and of Syne Tune, so that values compare directly: accuracies in percent (0..100),
balanced accuracies as fractions (0..1), cross-entropies in nats.

- ``val_accuracy`` (the metric, max) from ``Train/val_accuracy``;
- ``val_balanced_accuracy``, ``val_cross_entropy``;
- ``test_accuracy`` from ``Train/test_result``, ``test_balanced_accuracy``, ``test_cross_entropy``;
- ``runtime``, ``elapsed_time`` (s).

Search space (bounds of the LCBench paper and README, identical to YAHPO Gym's config space):
batch_size Integer[16, 512] log, learning_rate Float[1e-4, 1e-1] log, momentum Float[0.1, 0.99],
weight_decay Float[1e-5, 0.1], num_layers Integer[1, 5], max_units Integer[64, 1024] log,
max_dropout Float[0, 1]. ``num_layers`` is stored inconsistently: besides integers the file holds
the JSON value ``true``. The sampled range is 1..5 and ``true`` equals 1 in Python (the integers
found are 2..4 and no 1), so ``true`` is read as 1; the count is recorded in the metadata. The
configurations are random samples of this continuous space: the benchmark is a table of them.

Memory: the JSON is about 1 GB. It is read as a stream twice: a first pass checks the whole
document's structure (and, in a zip, the CRC) and finds where each dataset's object starts and
ends; the second pass parses one dataset at a time (tens of MB), so the peak memory is that of one
dataset, not of the whole file. Measured on a synthetic 1.1 GB JSON of the same layout (35 x 2000
runs): 50 s and 330 MB peak RSS from the JSON, 57 s and 390 MB from its zip.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

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
from blackbox_repository.errors import BlackboxError, ChecksumError
from blackbox_repository.progress import tqdm
from searchspace import Float, Integer, SearchSpace

logger = logging.getLogger(__name__)

CONVERTER_VERSION = "1"
SPEC = SourceSpec(
    family="lcbench",
    filename="data_2k_lw.zip",
    urls=("https://ndownloader.figshare.com/files/21188598",),
    page="https://figshare.com/articles/dataset/data_2k_lw_zip/11662422",
    sha256=None,  # no SHA-256 is published
)
#: MD5 of data_2k_lw.zip as quoted (for ``md5sum -c``) by a third-party preprocessing README; figshare
#: lists MD5s. Not authoritative, so a mismatch is logged and recorded, not an error.
QUOTED_MD5 = "26c8493006358a15ce12041c0bfc12a2"
JSON_NAME = "data_2k_lw.json"
PREFIX = "lcbench-"
PUBLISHED_DATASETS = 35
PUBLISHED_CONFIGS = 2000
CURVE_LENGTH = 52
EPOCHS = 50
#: Datasets of the published file (names as in the JSON).
DATASET_NAMES = (
    "APSFailure", "Amazon_employee_access", "Australian", "Fashion-MNIST", "KDDCup09_appetency", "MiniBooNE",
    "adult", "airlines", "albert", "bank-marketing", "blood-transfusion-service-center", "car", "christine",
    "cnae-9", "connect-4", "covertype", "credit-g", "dionis", "fabert", "helena", "higgs", "jannis", "jasmine",
    "jungle_chess_2pcs_raw_endgame_complete", "kc1", "kr-vs-kp", "mfeat-factors", "nomao", "numerai28.6",
    "phoneme", "segment", "shuttle", "sylvine", "vehicle", "volkert",
)
NAMES = tuple(PREFIX + name for name in DATASET_NAMES)
SPACE = SearchSpace(
    {
        "batch_size": Integer(16, 512, log=True),
        "learning_rate": Float(1e-4, 1e-1, log=True),
        "momentum": Float(0.1, 0.99),
        "weight_decay": Float(1e-5, 1e-1),
        "num_layers": Integer(1, 5),
        "max_units": Integer(64, 1024, log=True),
        "max_dropout": Float(0.0, 1.0),
    }
)
#: (objective, log tag) for the curves read from the log.
CURVES = (
    (Objective("val_accuracy", "max", "percent"), "Train/val_accuracy"),
    (Objective("val_balanced_accuracy", "max", "fraction"), "Train/val_balanced_accuracy"),
    (Objective("val_cross_entropy", "min", "nats"), "Train/val_cross_entropy"),
    (Objective("test_accuracy", "max", "percent"), "Train/test_result"),
    (Objective("test_balanced_accuracy", "max", "fraction"), "Train/test_balanced_accuracy"),
    (Objective("test_cross_entropy", "min", "nats"), "Train/test_cross_entropy"),
)
TIME_TAG = "time"
OBJECTIVES = (*(objective for objective, _ in CURVES), Objective("runtime", None, "s"),
              Objective("elapsed_time", None, "s"))
#: A sampled float may lie outside a bound by rounding (ConfigSpace samples log domains in log space).
BOUND_TOLERANCE = 1e-9
DATASET_FACTS = ("OpenML_task_id", "instances", "classes", "features")
CITATION = (
    "Zimmer, L., Lindauer, M. and Hutter, F. Auto-PyTorch Tabular: Multi-Fidelity MetaLearning for Efficient "
    "and Robust AutoDL. IEEE TPAMI 43(9), 2021; data: Zimmer, L. (2020). data_2k_lw.zip. figshare. "
    "https://doi.org/10.6084/m9.figshare.11662422.v1"
)
_CHUNK = 1 << 22
# A complete JSON string (group 1 is its closing quote, None if the buffer ends inside it), or a bracket.
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(")?|[{}\[\]]', re.DOTALL)
_OPEN = frozenset(b"{[")


def convert_lcbench(
    source_path: Path | None = None,
    *,
    cache_dir: Path | str | None = None,
    urls: Sequence[str] | None = None,
    progress: bool = True,
) -> Iterator[Blackbox]:
    """Yield one LCBench benchmark per dataset of ``data_2k_lw.json``.

    Args:
        source_path: ``data_2k_lw.zip``, ``data_2k_lw.json`` or a directory holding either; None
            downloads the zip into ``<cache_dir>/sources``.
        cache_dir: benchmark cache (default: the repository's default cache).
        urls: download URLs to use instead of the published one.
        progress: show progress bars.
    """
    source = resolve_source(SPEC, source_path, cache_dir=cache_dir, urls=urls, progress=progress)
    source = Source(_source_file(source.path), source.url, SPEC)
    digests = hash_file(source.path, md5=True)
    with contextlib.ExitStack() as stack:
        opener, size, label = _opener(source, stack)
        spans = _scan(opener, size, source, label, progress)
        checks = _md5_check(source, digests["md5"], label)
        warn_unexpected_count("datasets", len(spans), PUBLISHED_DATASETS, source.path)
        for dataset, runs in _datasets(opener, spans, source, label):
            facts = source_metadata(
                source, digests["sha256"], converter=__name__, version=CONVERTER_VERSION, **checks
            )
            blackbox = _convert_dataset(dataset, runs, facts, source.path)
            del runs
            yield blackbox
            del blackbox


# Reading the source ------------------------------------------------------------------------------


def _source_file(path: Path) -> Path:
    if not path.is_dir():
        return path
    for name in (JSON_NAME, SPEC.filename):
        if (path / name).is_file():
            return path / name
    raise BlackboxError(
        f"{path} holds neither {JSON_NAME} nor {SPEC.filename}; pass one of them with --source-path"
    )


def _opener(source: Source, stack: contextlib.ExitStack) -> tuple[Callable[[], IO[bytes]], int, str]:
    """A function opening the JSON as a binary stream, the JSON's size, and a label for errors."""
    path = source.path
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(b"PK"):
        try:
            archive = stack.enter_context(zipfile.ZipFile(path))
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise source.corrupt("LCBench zip", f"{error}; a cut download lacks the zip directory") from None
        members = [info for info in archive.infolist() if info.filename.endswith(".json")]
        named = [info for info in members if Path(info.filename).name == JSON_NAME]
        chosen = named or members
        if len(chosen) != 1:
            raise BlackboxError(
                f"{path} should hold {JSON_NAME}; it holds {', '.join(i.filename for i in archive.infolist()[:5])}"
            )
        info = chosen[0]
        return (lambda: archive.open(info)), info.file_size, "LCBench zip"
    if head.lstrip()[:1] == b"{":
        return (lambda: open(path, "rb")), path.stat().st_size, "LCBench JSON"
    raise source.corrupt("LCBench source", f"it is neither a zip nor a JSON object: it starts with {head[:16]!r}")


def _md5_check(source: Source, md5: str, label: str) -> dict[str, Any]:
    if label != "LCBench zip":
        return {"source_md5": md5}
    matches = md5 == QUOTED_MD5
    if not matches:
        logger.warning(
            "%s has MD5 %s, not the MD5 quoted for the published %s (%s); fine for a test or re-packed file",
            source.path, md5, SPEC.filename, QUOTED_MD5,
        )
    return {"source_md5": md5, "source_md5_matches_quoted": matches}


def _scan(
    opener: Callable[[], IO[bytes]], size: int, source: Source, label: str, progress: bool
) -> list[tuple[str, int, int]]:
    """Check the whole document's structure; (dataset, start, end) byte span of each dataset's object.

    Reading a zip member to its end also checks its CRC.
    """
    spans: list[tuple[str, int, int]] = []
    depth, offset, carry = 0, 0, b""
    started = False
    key: bytes | None = None
    value_start = 0

    def bad(detail: str) -> ChecksumError:
        return source.corrupt(label, detail)

    try:
        with (
            opener() as stream,
            tqdm(total=size, unit="B", unit_scale=True, desc="checking LCBench JSON", disable=not progress,
                 leave=False) as bar,
        ):
            while True:
                chunk = stream.read(_CHUNK)
                bar.update(len(chunk))
                buf = carry + chunk if carry else chunk
                if not buf:
                    break
                consumed = len(buf)
                for match in _TOKEN.finditer(buf):
                    char = buf[match.start()]
                    if char == 0x22:  # a string
                        if match.group(1) is None:
                            if not chunk:
                                raise bad("the JSON ends inside a string")
                            consumed = match.start()
                            break
                        if depth == 1:
                            if key is not None:
                                raise bad(f"the value of {key[:80]!r} is not an object")
                            key = match.group()
                        continue
                    if char in _OPEN:
                        if depth == 0:
                            if started or char != 0x7B:
                                raise bad("the JSON is not one object of datasets")
                            started = True
                        elif depth == 1:
                            if char != 0x7B or key is None:
                                raise bad("a dataset's value is not an object")
                            value_start = offset + match.start()
                        depth += 1
                        continue
                    depth -= 1
                    if depth < 0:
                        raise bad("unbalanced closing bracket")
                    if depth == 1:
                        spans.append((json.loads(key), value_start, offset + match.end()))
                        key = None
                carry = buf[consumed:]
                offset += consumed
                if not chunk:
                    break
    except ChecksumError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
        raise bad(f"{type(error).__name__}: {error}") from None
    if not started or depth != 0:
        raise bad(f"the JSON ends before its closing brace (after {offset} bytes, {len(spans)} datasets complete)")
    if not spans:
        raise BlackboxError(f"{source.path} holds no datasets")
    return spans


def _datasets(
    opener: Callable[[], IO[bytes]], spans: list[tuple[str, int, int]], source: Source, label: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Parse one dataset's object at a time."""
    with opener() as stream:
        for dataset, start, end in spans:
            try:
                stream.seek(start)
                text = stream.read(end - start)
                runs = json.loads(text)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as error:
                raise source.corrupt(label, f"dataset {dataset!r}: {type(error).__name__}: {error}") from None
            del text
            yield dataset, runs


# Converting one dataset --------------------------------------------------------------------------


def _convert_dataset(dataset: str, runs: Any, facts: dict[str, Any], path: Path) -> Blackbox:
    name = PREFIX + dataset
    if not dataset or "/" in dataset or "\\" in dataset or dataset.startswith("."):
        raise BlackboxError(f"{path}: dataset name {dataset!r} cannot be a benchmark name")
    where = f"{path}: dataset {dataset!r}"
    if not isinstance(runs, dict) or not runs:
        raise BlackboxError(f"{where} holds no configurations")
    try:
        ids = sorted(runs, key=int)
    except ValueError:
        raise BlackboxError(f"{where}: configuration ids must be integers, found {sorted(runs)[:3]}") from None
    warn_unexpected_count(f"configurations of {dataset}", len(ids), PUBLISHED_CONFIGS, path)
    out = np.full((len(ids), 1, EPOCHS, len(OBJECTIVES)), np.nan, dtype=np.float32)
    columns: dict[str, list] = {hp: [] for hp in SPACE.names}
    others: dict[str, set] = {}
    incomplete = dict.fromkeys([tag for _, tag in CURVES] + [TIME_TAG], 0)
    counts = {"num_layers_true": 0, "clamped_to_bounds": 0}
    space_names = set(SPACE.names)
    for row, config_id in enumerate(ids):
        run = runs[config_id]
        if not isinstance(run, dict) or not isinstance(run.get("config"), dict) or not isinstance(run.get("log"), dict):
            raise BlackboxError(f"{where}: configuration {config_id} lacks its 'config' or 'log'")
        for hp, value in _config(run["config"], f"{where}, configuration {config_id}", counts).items():
            columns[hp].append(value)
        for key, value in run["config"].items():
            if key not in space_names:
                others.setdefault(key, set()).add(json.dumps(value, sort_keys=True))
        log = run["log"]
        for k, (_, tag) in enumerate(CURVES):
            curve = _curve(log.get(tag))
            if curve is None:
                incomplete[tag] += 1
            else:
                out[row, 0, :, k] = curve[1 : EPOCHS + 1]
        time = _curve(log.get(TIME_TAG))
        if time is None:
            incomplete[TIME_TAG] += 1
        else:
            out[row, 0, :, -2] = np.diff(time[: EPOCHS + 1])
            out[row, 0, :, -1] = time[1 : EPOCHS + 1] - time[0]
    configs = pd.DataFrame(columns)
    duplicates = int(configs.duplicated().sum())
    if duplicates:
        logger.warning("%s: %d configurations repeat an earlier one; lookups return the last", where, duplicates)
    if any(incomplete.values()):
        logger.warning("%s: curves without %d entries are stored as NaN: %s", where, CURVE_LENGTH,
                       {tag: n for tag, n in incomplete.items() if n})
    present = {key: sum(key in runs[i]["config"] for i in ids) for key in others}
    constant = sorted(key for key, values in others.items() if len(values) == 1 and present[key] == len(ids))
    fixed = {key: json.loads(next(iter(others[key]))) for key in constant}
    varying = sorted(set(others) - set(constant))
    if varying:
        logger.warning("%s: config keys outside the search space vary: %s (ignored)", where, ", ".join(varying))
    first = runs[ids[0]].get("results")
    dataset_facts = {key: first[key] for key in DATASET_FACTS if isinstance(first, dict) and key in first}
    metadata = dict(facts)
    metadata.update(
        description=(
            f"LCBench on the OpenML dataset {dataset}: funnel-shaped MLPs trained with SGD and cosine annealing "
            f"for {EPOCHS} epochs, {len(ids)} configurations sampled at random from the search space (one run "
            "each). Entries 1..50 of each 52-entry curve are epochs 1..50 (the first, before training, and the "
            "last, a repeat of the end, are dropped); elapsed_time = time[e] - time[0], runtime = time[e] - "
            "time[e-1]. Accuracies in percent, balanced accuracies as fractions, as in the source. The "
            "configurations are random samples of a continuous space: searchers must be restricted to them or "
            "use a surrogate. num_layers true in the source is read as 1."
        ),
        dataset=dataset,
        dataset_facts=dataset_facts,
        row_order="row i is configuration id i of the source (ids in increasing order)",
        num_configs=len(ids),
        published_num_configs=PUBLISHED_CONFIGS,
        num_layers_true_read_as_1=counts["num_layers_true"],
        values_clamped_to_bounds=counts["clamped_to_bounds"],
        duplicate_configs=duplicates,
        fixed_settings=fixed,
        varying_config_keys_ignored=varying,
        missing_data={
            "curves_without_52_entries": incomplete,
            "policy": "a curve that is absent or does not have 52 entries is stored as NaN",
        },
        citation=CITATION,
    )
    return Blackbox(
        name=name,
        space=SPACE,
        configs=configs,
        fidelities=np.arange(1, EPOCHS + 1),
        seeds=np.array([0]),
        objectives=out,
        objective_info=OBJECTIVES,
        metric="val_accuracy",
        metadata=metadata,
    )


def _curve(values: Any) -> np.ndarray | None:
    if not isinstance(values, list) or len(values) != CURVE_LENGTH:
        return None
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def _config(config: dict[str, Any], where: str, counts: dict[str, int]) -> dict[str, Any]:
    """The configuration's values in the search space (``num_layers`` true read as 1)."""
    values = {}
    for hp in SPACE.names:
        if hp not in config:
            raise BlackboxError(f"{where}: the configuration lacks {hp!r}")
        value, domain = config[hp], SPACE[hp]
        if hp == "num_layers" and value is True:
            counts["num_layers_true"] += 1
            value = 1
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise BlackboxError(f"{where}: {hp}={value!r} is not a number")
        if isinstance(domain, Integer):
            if value != round(value):
                raise BlackboxError(f"{where}: {hp}={value!r} should be an integer")
            value = int(value)
        else:
            value = float(value)
        if not domain.contains(value):
            tolerance = BOUND_TOLERANCE * max(abs(domain.low), abs(domain.high))
            if isinstance(domain, Float) and domain.low - tolerance <= value <= domain.high + tolerance:
                counts["clamped_to_bounds"] += 1
                value = min(max(value, domain.low), domain.high)
            else:
                raise BlackboxError(f"{where}: {hp}={value!r} is outside [{domain.low}, {domain.high}]")
        values[hp] = value
    return values

"""Conversion cost of NASBench-201 on a FULL-SIZE SYNTHETIC file in the NATS-Bench layout.

THE SOURCE FILE IS SYNTHETIC, FOR TIMING ONLY: 15,625 architectures x 3 datasets x 3 seeds x 200
epochs of random numbers in the layout of ``NATS-tss-v1_0-3ffb9.pickle.pbz2`` (only the fields the
converter reads: eval_acc1es/eval_times under "ori-test@e", train_acc1es/train_times, latency, flop,
params), with about half of the architectures lacking seed 999. It is never registered or presented
as the real benchmark, and its numbers mean nothing.

The file is written by streaming one architecture at a time through a memo-less pickler (so the
builder needs little memory and every dict key is its own string object, as when the real file was
pickled) and compressed with bz2 in independent streams on two threads (a multi-stream file, as
pbzip2 writes; the converter reads both kinds at the same speed).

Measured: wall time and peak RSS of ``python -m blackbox_repository.convert nas201 --source-path``
in a child process (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``; the conversion is this
script's only child), then the time to load each converted benchmark from the cache (target < 1 s),
with and without the remembered checksum verification, and its size on disk.

Run: python benchmarks/nas201_conversion.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import bz2
import io
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

NUM_ARCHS, NUM_EPOCHS = 15625, 200
DATASETS = ("cifar10", "cifar100", "ImageNet16-120")
SEEDS = (777, 888, 999)
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
CHUNK_BYTES = 64 << 20
FILENAME = "NATS-tss-v1_0-3ffb9.pickle.pbz2"


def _piece(obj: object) -> bytes:
    """Pickle opcodes of ``obj`` without the protocol header and STOP, memo-less (self-contained)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=2)
    pickler.fast = True  # no memo: pieces can be concatenated
    pickler.dump(obj)
    data = buffer.getvalue()
    assert data[:2] == b"\x80\x02" and data[-1:] == b"."
    return data[2:-1]


def _arch_str(codes: np.ndarray) -> str:
    o = [OPS[c] for c in codes]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def _arch_info(index: int, rng: np.random.Generator, lacks_999: bool) -> dict:
    codes = np.array(np.unravel_index(index, (5,) * 6))
    epochs = np.arange(NUM_EPOCHS)
    results = {}
    for d, dataset in enumerate(DATASETS):
        final = rng.uniform(40, 95)
        for seed in SEEDS:
            if seed == 999 and lacks_999:
                continue
            accuracy = final - (final - 10) * np.exp(-epochs / rng.uniform(5, 40)) + rng.normal(0, 0.5, NUM_EPOCHS)
            train = np.minimum(accuracy + rng.uniform(0, 10), 100)
            train_time = rng.uniform(5, 30) * rng.uniform(0.95, 1.05, NUM_EPOCHS)
            eval_time = rng.uniform(0.5, 2) * rng.uniform(0.95, 1.05, NUM_EPOCHS)
            results[(dataset, seed)] = {
                "name": "synthetic",
                "dataset": dataset,
                "seed": seed,
                "epochs": NUM_EPOCHS,
                "eval_acc1es": {f"ori-test@{e}": v for e, v in enumerate(accuracy.tolist())},
                "eval_times": {f"ori-test@{e}": v for e, v in enumerate(eval_time.tolist())},
                "train_acc1es": dict(enumerate(train.tolist())),
                "train_times": dict(enumerate(train_time.tolist())),
                "latency": [float(rng.uniform(0.005, 0.03))],
                "flop": float(rng.uniform(10, 200)) + d,
                "params": float(rng.uniform(0.1, 1.5)),
            }
    return {"200": {"arch_str": _arch_str(codes), "all_results": results}}


def _pickle_stream(seed: int = 0):
    """Yields the bytes of the whole pickle, architecture by architecture."""
    rng = np.random.default_rng(seed)
    lacks_999 = rng.random(NUM_ARCHS) < 0.5
    yield b"\x80\x02}(" + _piece("total_archs") + _piece(NUM_ARCHS) + _piece("arch2infos") + b"}("
    for index in range(NUM_ARCHS):
        yield _piece(index) + _piece(_arch_info(index, rng, bool(lacks_999[index])))
        if index % 1000 == 999:
            yield b"u("  # SETITEMS, then a new MARK
    yield b"uu."  # arch2infos items, the outer dict's items, STOP


def build_source(path: Path) -> dict[str, float]:
    """Write the synthetic file; returns its size and the missing-run count."""
    started = time.perf_counter()
    raw = 0
    pending: deque = deque()
    buffer: list[bytes] = []
    size = 0
    with open(path, "wb") as out, ThreadPoolExecutor(max_workers=2) as pool:
        for piece in _pickle_stream():
            buffer.append(piece)
            size += len(piece)
            if size >= CHUNK_BYTES:
                pending.append(pool.submit(bz2.compress, b"".join(buffer), 9))
                raw += size
                buffer, size = [], 0
                while len(pending) > 2:
                    out.write(pending.popleft().result())
        pending.append(pool.submit(bz2.compress, b"".join(buffer), 9))
        raw += size
        while pending:
            out.write(pending.popleft().result())
    lacks = int((np.random.default_rng(0).random(NUM_ARCHS) < 0.5).sum())
    return {"seconds": time.perf_counter() - started, "pickle_bytes": raw, "file_bytes": path.stat().st_size,
            "archs_lacking_999": lacks}


def convert_in_child(source: Path, cache: Path) -> dict[str, float]:
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "blackbox_repository.convert", "nas201", "--source-path", str(source),
         "--cache-dir", str(cache), "--no-progress"],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"conversion failed ({process.returncode}): {stderr.decode()}")
    sys.stdout.write(stdout.decode())
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    return {"seconds": seconds, "peak_rss_gb": peak_kb / 1e6}


def measure_loads(cache: Path) -> None:
    from blackbox_repository import BlackboxRepository

    repository = BlackboxRepository(cache)
    for dataset in DATASETS:
        name = f"nas201-{dataset}"
        directory = cache / name
        size = sum(f.stat().st_size for f in directory.iterdir() if f.is_file())
        started = time.perf_counter()
        bb = repository.load(name)
        warm = time.perf_counter() - started
        (directory / ".verified.json").unlink(missing_ok=True)
        started = time.perf_counter()
        repository.load(name)
        verifying = time.perf_counter() - started
        missing = bb.metadata["missing_data"]["missing_runs"]
        print(f"  {name}: load {warm:.3f} s (checksums remembered), {verifying:.2f} s (checksums verified); "
              f"{size / 1e6:.0f} MB on disk; {missing} missing runs recorded")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the synthetic source and the cache in this directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nas201-conversion-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        source, cache = work / FILENAME, work / "cache"
        print("SYNTHETIC NATS-layout source, for timing only (random numbers, not the real benchmark)")
        built = build_source(source)
        print(f"built in {built['seconds']:.0f} s: pickle {built['pickle_bytes'] / 1e9:.2f} GB, bz2 file "
              f"{built['file_bytes'] / 1e9:.2f} GB, {built['archs_lacking_999']} architectures lack seed 999")
        converted = convert_in_child(source, cache)
        print(f"conversion (child process): {converted['seconds']:.1f} s wall, peak RSS "
              f"{converted['peak_rss_gb']:.2f} GB")
        measure_loads(cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How long ``python -m plotting.figure`` takes on a large results store (SYNTHETIC results).

Writes SYNTHETIC runs — random best-so-far curves, not produced by any HPO method or benchmark — in the exact
layout of ``experiments.store`` (``results.parquet`` with time/worker/decision/metric/best_so_far,
``trials.parquet``, ``metadata.json`` written last with ``completed: true`` and the files' sizes and SHA-256)
into a temporary directory: 20 benchmarks × 10 methods × 30 seeds (6,000 runs, ~200 results each; half the
benchmarks minimise, half maximise). Then it runs ``python -m plotting.figure`` on a spec that produces every
figure and table, and prints the phases (load, aggregation, plotting) and the total wall time. Target: < 30 s
on 2 cores.

    python benchmarks/plotting_speed.py [--benchmarks 20 --methods 10 --seeds 30 --results 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from experiments import store  # noqa: E402

TAG = "synthetic"
METHODS = ["RandomSearch", "ASHA", "ASHA-STOP", "ASHA-PROM", "ASHA-HB", "ASHA-HB-PROM"]
DECISIONS = ["", "continue", "pause", "stop", "complete", "failed"]


def synthetic_run(rng: np.random.Generator, num_results: int, budget: float, mode: str, skill: float) -> pd.DataFrame:
    """SYNTHETIC results of one run: random epochs on 4 workers with a noisy decaying metric."""
    times = np.sort(rng.uniform(0.002 * budget, budget, size=num_results))
    trial = np.cumsum(rng.random(num_results) < 0.3)
    progress = times / budget
    error = 0.05 + 0.9 * np.exp(-skill * 6 * progress) * rng.uniform(0.3, 1.0, size=num_results)
    metric = error if mode == "min" else 1.0 - error
    best = np.fmin.accumulate(metric) if mode == "min" else np.fmax.accumulate(metric)
    decision = pd.Categorical.from_codes(
        rng.choice([0, 1, 3, 4], size=num_results, p=[0.6, 0.2, 0.15, 0.05]), DECISIONS
    )
    return pd.DataFrame(
        {
            "trial_id": trial,
            "epoch": rng.integers(1, 30, size=num_results),
            "time": times,
            "worker": rng.integers(0, 4, size=num_results),
            "decision": decision,
            "synthetic_metric": metric,
            "best_so_far": best,
        }
    )


def write_synthetic_run(path: Path, results: pd.DataFrame, meta: dict) -> None:
    """Store one SYNTHETIC run in the layout of ``experiments.store`` (metadata.json last)."""
    path.mkdir(parents=True, exist_ok=True)
    trial_ids, index = np.unique(results["trial_id"].to_numpy(), return_inverse=True)
    last_epoch = np.zeros(len(trial_ids), dtype=np.int64)
    np.maximum.at(last_epoch, index, results["epoch"].to_numpy())
    trials = pd.DataFrame({"trial_id": trial_ids, "status": "completed", "last_epoch": last_epoch})
    files = {}
    for name, frame in ((store.RESULTS_FILE, results), (store.TRIALS_FILE, trials)):
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        data = buffer.getvalue()
        (path / name).write_bytes(data)
        files[name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    metadata = {**meta, "format_version": store.FORMAT_VERSION, "completed": True, "files": files}
    (path / store.METADATA_FILE).write_text(json.dumps(store.to_json(metadata), indent=1))


def write_store(root: Path, num_benchmarks: int, num_methods: int, num_seeds: int, num_results: int) -> int:
    methods = (METHODS + [f"synthetic-method-{i}" for i in range(num_methods)])[:num_methods]
    jobs = []
    for b in range(num_benchmarks):
        benchmark = f"synthetic-benchmark-{b:02d}"
        mode = "min" if b % 2 == 0 else "max"
        budget = float(10 ** (1 + b % 4))
        for m, method in enumerate(methods):
            for seed in range(num_seeds):
                jobs.append((benchmark, mode, budget, m, method, seed))

    def one(job: tuple) -> None:
        benchmark, mode, budget, m, method, seed = job
        rng = np.random.default_rng([zlib.crc32(benchmark.encode()), m, seed])
        results = synthetic_run(rng, num_results, budget, mode, skill=0.5 + 0.1 * m)
        meta = {
            "tag": TAG,
            "benchmark": benchmark,
            "method": method,
            "seed": seed,
            "synthetic": "SYNTHETIC results written by benchmarks/plotting_speed.py, not a real experiment",
            "metric": "synthetic_metric",
            "mode": mode,
            "run_seed": seed,
            "final_best": float(results["best_so_far"].iloc[-1]),
            "simulated_time_seconds": budget,
            "decision_time_seconds": 0.0,
            "num_results": len(results),
            "num_trials": int(results["trial_id"].nunique()),
            "stop_reason": "max_wallclock_time",
            "arguments": {"max_wallclock_time": budget},
        }
        write_synthetic_run(store.run_dir(root, TAG, benchmark, method, seed), results, meta)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(one, jobs))
    return len(jobs)


SPEC = """\
# SYNTHETIC results (benchmarks/plotting_speed.py): every figure and table
[results]
dirs = ["{root}"]
tags = ["{tag}"]

[aggregation]
statistic = "iqm"
confidence = 0.95
reps = 2000
seed = 0

[grid]
points = 200
spacing = "log"

[layout]
columns = 5
width = 7.0
row_height = 1.6

[figures]
curves = true
ranks = true
final = true
improvement = true
timeline = {{ benchmark = "synthetic-benchmark-00", method = "ASHA", seed = 0 }}

[tables]
final = true
pairwise = true

[output]
dir = "{out}"
formats = ["pdf", "png"]
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmarks", type=int, default=20)
    parser.add_argument("--methods", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--results", type=int, default=200, help="results per run")
    parser.add_argument("--keep", type=Path, help="write into this directory and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plotting-speed-") as tmp:
        root = args.keep or Path(tmp)
        results = root / "results"
        started = time.perf_counter()
        if (results / TAG).is_dir():
            runs = sum(1 for _ in (results / TAG).glob("*/*/seed-*"))
            print(f"reusing {runs} SYNTHETIC runs in {results}")
        else:
            runs = write_store(results, args.benchmarks, args.methods, args.seeds, args.results)
            print(f"wrote {runs} SYNTHETIC runs ({args.results} results each) in {time.perf_counter() - started:.1f} s")
        spec = root / "speed.toml"
        spec.write_text(SPEC.format(root=results.as_posix(), tag=TAG, out=(root / "figures").as_posix()))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        }
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, "-m", "plotting.figure", str(spec), "--timings"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        total = time.perf_counter() - started
        print(completed.stdout.rstrip())
        if completed.returncode != 0:
            print(completed.stderr.rstrip(), file=sys.stderr)
            return completed.returncode
        print(f"total (python -m plotting.figure, including start-up): {total:.1f} s on {os.cpu_count()} CPU(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

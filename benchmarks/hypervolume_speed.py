"""How long hypervolume-over-time curves take to load and aggregate on a large results store (SYNTHETIC results).

Writes SYNTHETIC multi-objective runs — random learning curves, not produced by any HPO method or benchmark — in
the layout of ``experiments.store`` (``results.parquet`` with trial_id/epoch/time/worker/decision, one column per
objective and best_so_far; ``trials.parquet``; ``metadata.json`` last, with ``objectives``/``modes``) into a
temporary directory: 5 benchmarks x 10 methods x 30 seeds (1,500 runs, 200-2,000 results each, drawn per run).
Objectives: ``error`` (min) and ``elapsed_time`` (min), and with ``--objectives 3`` also ``n_params`` (min).
Then ``plotting.figure.produce`` runs a spec with ``indicator = "hypervolume"`` (reference point by the rule,
pooled over every run of a benchmark): curves, ranks, final-regret intervals, the Pareto-front figure and the final
table. Printed: the store's size, the phases (load = reading + hypervolume traces, aggregation = bootstrap bands,
ranks, intervals, fronts, tables; plotting) in wall-clock seconds, and the process CPU seconds.
Target: load + aggregation < 30 s on 2 cores (shared).

    python benchmarks/hypervolume_speed.py [--objectives 2] [--benchmarks 5 --methods 10 --seeds 30]
                                           [--min_results 200 --max_results 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
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

from plotting_speed import write_synthetic_run  # noqa: E402  (benchmarks/, the directory of this script)

from experiments import store  # noqa: E402
from plotting.figure import produce  # noqa: E402
from plotting.spec import parse_spec  # noqa: E402

TAG = "synthetic-mo"
METHODS = ["RandomSearch", "ASHA", "MOBSTER", "BOHB", "REA", "Hyperband", "DEHB", "BORE", "KDE", "PASHA"]


def synthetic_run(rng: np.random.Generator, num_results: int, budget: float, objectives: int, skill: float) -> dict:
    """SYNTHETIC results of one multi-fidelity run: trials of several epochs on 4 workers; the error falls with the
    epoch and with time (the method "learns"), elapsed time grows with the epoch."""
    times = np.sort(rng.uniform(0.002 * budget, budget, size=num_results))
    trial = np.cumsum(rng.random(num_results) < 0.25)
    trial -= trial[0]
    epoch = np.ones(num_results, dtype=np.int64)
    same = np.flatnonzero(trial[1:] == trial[:-1]) + 1
    for index in same:  # epochs count up within a trial (consecutive rows)
        epoch[index] = epoch[index - 1] + 1
    quality = rng.uniform(0.05, 1.0, trial[-1] + 1)[trial] * (0.4 + 0.6 * np.exp(-skill * 4 * times / budget))
    error = 0.05 + quality * (0.3 + 0.7 * np.exp(-epoch / 5)) + rng.normal(0, 0.01, num_results)
    cost = rng.uniform(0.5, 5.0, trial[-1] + 1)[trial]
    columns = {
        "trial_id": trial,
        "epoch": epoch,
        "time": times,
        "worker": rng.integers(0, 4, size=num_results),
        "decision": np.where(rng.random(num_results) < 0.2, "stop", "continue"),
        "error": error,
        "elapsed_time": cost * epoch,
    }
    if objectives == 3:
        columns["n_params"] = rng.lognormal(10, 1, trial[-1] + 1)[trial]
    columns["best_so_far"] = np.fmin.accumulate(error)
    return columns


def write_store(root: Path, args: argparse.Namespace) -> int:
    """The SYNTHETIC store; returns the number of results written."""
    names = ["error", "elapsed_time", "n_params"][: args.objectives]
    methods = (METHODS + [f"synthetic-method-{i}" for i in range(args.methods)])[: args.methods]
    jobs = [
        (f"synthetic-mo-{b:02d}", m, method, seed)
        for b in range(args.benchmarks)
        for m, method in enumerate(methods)
        for seed in range(args.seeds)
    ]

    def one(job: tuple[str, int, str, int]) -> int:
        benchmark, m, method, seed = job
        rng = np.random.default_rng([zlib.crc32(benchmark.encode()), m, seed])
        budget = 3600.0
        size = int(rng.integers(args.min_results, args.max_results + 1))
        results = pd.DataFrame(synthetic_run(rng, size, budget, args.objectives, skill=0.3 + 0.1 * m))
        meta = {
            "tag": TAG,
            "benchmark": benchmark,
            "method": method,
            "seed": seed,
            "synthetic": "SYNTHETIC results written by benchmarks/hypervolume_speed.py, not a real experiment",
            "metric": "error",
            "mode": "min",
            "objectives": names,
            "modes": ["min"] * len(names),
            "final_best": float(results["best_so_far"].iloc[-1]),
            "simulated_time_seconds": budget,
            "num_results": size,
            "num_trials": int(results["trial_id"].nunique()),
            "stop_reason": "max_wallclock_time",
        }
        write_synthetic_run(store.run_dir(root, TAG, benchmark, method, seed), results, meta)
        return size

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        return sum(pool.map(one, jobs))


def spec_data(root: Path) -> dict:
    return {
        "description": "SYNTHETIC results (benchmarks/hypervolume_speed.py): hypervolume over time",
        "results": {"dirs": [str(root)], "tags": [TAG]},
        "aggregation": {"statistic": "iqm", "reps": 2000, "indicator": "hypervolume"},
        "layout": {"columns": 5, "row_height": 1.6},
        "figures": {"curves": True, "ranks": True, "final": True, "improvement": False, "pareto": True},
        "tables": {"final": True, "pairwise": False, "formats": ["csv", "md"]},
        "output": {"formats": ["png"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objectives", type=int, choices=(2, 3), default=2)
    parser.add_argument("--benchmarks", type=int, default=5)
    parser.add_argument("--methods", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--min_results", type=int, default=200)
    parser.add_argument("--max_results", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="write the store here and keep it (default: a temporary dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hv-speed-") as scratch:
        root = args.keep or Path(scratch) / "results"
        started = time.perf_counter()
        results = write_store(root, args)
        runs = args.benchmarks * args.methods * args.seeds
        print(
            f"SYNTHETIC store: {runs} runs, {results} results ({results / runs:.0f} per run), {args.objectives} "
            f"objectives, written in {time.perf_counter() - started:.1f} s"
        )
        spec = parse_spec(spec_data(root), Path(scratch) / "hypervolume_speed.toml")
        cpu = time.process_time()
        produced = produce(spec, Path(scratch) / "figures", progress=False)
        cpu = time.process_time() - cpu
        timings = produced.timings
        print(produced.format_timings())
        loaded = timings["load"] + timings["aggregation"]
        print(f"load + aggregation: {loaded:.1f} s wall (target < 30 s); process CPU for everything: {cpu:.1f} s")


if __name__ == "__main__":
    main()

"""Check against the field: every method on the embedded benchmark and on YAHPO lcbench instances.

Runs all registered methods (or those named) with 30 paired seeds through ``experiments.run`` (results
under ``--results_dir``, tag ``field-check``; completed runs are reused), then prints per benchmark the
IQM of the final best metric over seeds with a 95% stratified-bootstrap interval (``plotting.stats``),
and the probability that each method beats RandomSearch (paired seeds, rliable's definition).

    python benchmarks/field_check.py [--methods ...] [--num_seeds 30] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from experiments import load_results
from experiments.run import run_experiment
from methods import model_free_methods
from plotting.paired import poi_interval
from plotting.stats import interval_table

BENCHMARKS = {
    "sklearn-mlp-digits": None,  # registered budget (10 s)
    "yahpo-lcbench-3945": None,  # 7,200 s, LCBench's published budget
    "yahpo-lcbench-189908": None,
    "yahpo-lcbench-167168": None,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=model_free_methods())
    parser.add_argument("--benchmarks", nargs="+", default=list(BENCHMARKS))
    parser.add_argument("--num_seeds", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--results_dir", type=Path, default=Path("results"))
    args = parser.parse_args()
    for benchmark in args.benchmarks:
        run_experiment(
            benchmark, args.methods, num_seeds=args.num_seeds, experiment_tag="field-check",
            results_dir=args.results_dir, jobs=args.jobs, progress=True,
        )  # fmt: skip
    listing = load_results(args.results_dir, tag="field-check")
    rows = []
    for benchmark, frame in listing.groupby("benchmark"):
        if benchmark not in args.benchmarks:
            continue
        mode = frame["mode"].iloc[0]
        scores = {
            method: [group.sort_values("seed")["final_best"].to_numpy(dtype=float)]
            for method, group in frame.groupby("method")
            if method in args.methods
        }
        table = interval_table(scores, "iqm", reps=2000, confidence=0.95, seed=0)
        baseline = scores.get("RandomSearch")
        for row in table.itertuples(index=False):
            poi = poi_interval(scores[row.method], baseline, mode, seed=0) if baseline is not None else None
            rows.append({
                "benchmark": benchmark, "metric": frame["metric"].iloc[0], "mode": mode, "method": row.method,
                "seeds": row.n_runs, "iqm": row.point, "low": row.low, "high": row.high,
                "poi_vs_rs": np.nan if poi is None else poi.point,
            })  # fmt: skip
    out = pd.DataFrame(rows)
    for benchmark, frame in out.groupby("benchmark"):
        ascending = frame["mode"].iloc[0] == "min"
        frame = frame.sort_values("iqm", ascending=ascending)
        print(f"\n### {benchmark} ({frame['metric'].iloc[0]}, {frame['mode'].iloc[0]}; IQM over seeds, 95% CI)\n")
        print("| method | seeds | IQM | 95% CI | P(beats RandomSearch) |\n|---|---|---|---|---|")
        for row in frame.itertuples(index=False):
            print(
                f"| {row.method} | {row.seeds} | {row.iqm:.4g} | [{row.low:.4g}, {row.high:.4g}] | "
                f"{row.poi_vs_rs:.2f} |"
            )


if __name__ == "__main__":
    main()

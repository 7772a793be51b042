"""Check against the field for the model-based methods (issue 12): Bayesian optimisation against random search at a
single fidelity, and MOBSTER, Hyper-Tune, SyncMOBSTER and DyHPO against ASHA and synchronous Hyperband on YAHPO
LCBench, with best-so-far over the whole budget (the documentation's claim: MOBSTER breaks away from ASHA late).

Runs go through ``experiments.run`` (results under ``--results_dir``, completed runs reused), then per benchmark:
the IQM of the final best value over seeds with a 95% stratified-bootstrap interval, P(beats RandomSearch) and
P(beats ASHA-PROM) (paired seeds, rliable's probability of improvement with its interval), and for the
multi-fidelity benchmark the IQM of best-so-far at fractions of the budget and P(MOBSTER-JOINT beats ASHA-PROM)
there. A figure of the best-so-far curves is written next to the results.

    python benchmarks/field_check_models.py [--num_seeds 30] [--mf_seeds 10] [--jobs 2] [--report_only]

YAHPO needs its surrogate files: set HPO_YAHPO_DATA (e.g. to ../shared/yahpo_data).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from scipy.stats import trim_mean

from experiments.run import run_experiment
from plotting.figures import plot_curves
from plotting.load import load
from plotting.paired import poi_interval
from plotting.stats import interval_table

SINGLE_FIDELITY = {  # benchmark -> max_trials (None: the registered budget)
    "sklearn-mlp-digits": None,
    "yahpo-iaml_glmnet-1489": 100,
    "yahpo-rbv2_xgboost-1040": 100,
}
SINGLE_FIDELITY_METHODS = ["BayesianOptimization", "RandomSearch"]
MULTI_FIDELITY = ["yahpo-lcbench-3945"]
MULTI_FIDELITY_METHODS = [
    "MOBSTER-JOINT", "ASHA-PROM", "ASHA", "SyncHyperband", "RandomSearch", "MOBSTER-INDEP", "HYPERTUNE-INDEP",
    "HYPERTUNE4-INDEP", "HYPERTUNE-JOINT", "SYNCMOBSTER", "DyHPO",
]  # fmt: skip
FRACTIONS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0)


def run_all(args: argparse.Namespace) -> None:
    for benchmark, max_trials in SINGLE_FIDELITY.items():
        run_experiment(
            benchmark, SINGLE_FIDELITY_METHODS, num_seeds=args.num_seeds, max_trials=max_trials,
            experiment_tag="f12-sf", results_dir=args.results_dir, jobs=args.jobs, progress=True,
        )  # fmt: skip
    for benchmark in MULTI_FIDELITY:
        run_experiment(
            benchmark, MULTI_FIDELITY_METHODS, num_seeds=args.mf_seeds, experiment_tag="f12-mf",
            results_dir=args.results_dir, jobs=args.jobs, progress=True,
        )  # fmt: skip


def final_table(curves, benchmark: str, baselines: tuple[str, ...]) -> None:
    mode = curves.modes[benchmark]
    methods = curves.methods_on(benchmark)
    finals = {method: [curves.values[benchmark, method][:, -1]] for method in methods}
    table = interval_table(finals, "iqm", reps=2000, confidence=0.95, seed=0)
    print(f"\n### {benchmark} ({curves.metrics[benchmark]}, {mode}): final best, IQM over seeds, 95% CI\n")
    header = "| method | seeds | IQM | 95% CI | " + " | ".join(f"P(beats {b})" for b in baselines) + " | CPU s/run |"
    print(header + "\n|" + "---|" * (5 + len(baselines)))
    cpu = curves.runs.groupby(["benchmark", "label"])["decision_cpu_seconds"].median()
    order = table.sort_values("point", ascending=mode == "min")
    for row in order.itertuples(index=False):
        cells = []
        for baseline in baselines:
            if baseline == row.method or baseline not in finals:
                cells.append("–")
                continue
            poi = poi_interval(finals[row.method], finals[baseline], mode, seed=0)
            cells.append(f"{poi.point:.2f} [{poi.low:.2f}, {poi.high:.2f}]")
        seconds = cpu.get((benchmark, row.method), float("nan"))
        print(
            f"| {row.method} | {row.n_runs} | {row.point:.5g} | [{row.low:.5g}, {row.high:.5g}] | "
            + " | ".join(cells)
            + f" | {seconds:.1f} |"
        )


def over_time(curves, benchmark: str, reference: str, challenger: str) -> None:
    grid = curves.grids[benchmark]
    mode = curves.modes[benchmark]
    budget = curves.budgets[benchmark]
    columns = [int(np.searchsorted(grid, fraction * budget, side="right")) - 1 for fraction in FRACTIONS]
    print(f"\n### {benchmark}: best-so-far IQM at fractions of the budget ({budget:g} s)\n")
    print("| method | " + " | ".join(f"{f:g}" for f in FRACTIONS) + " |\n|---|" + "---|" * len(FRACTIONS))
    for method in curves.methods_on(benchmark):
        values = curves.values[benchmark, method]
        cells = []
        for column in columns:
            column_values = values[:, column]
            cells.append(f"{trim_mean(column_values[~np.isnan(column_values)], 0.25):.5g}")
        print(f"| {method} | " + " | ".join(cells) + " |")
    if (benchmark, reference) in curves.values and (benchmark, challenger) in curves.values:
        print(f"\nP({challenger} beats {reference}) over time (95% CI):")
        for fraction, column in zip(FRACTIONS, columns):
            x = [curves.values[benchmark, challenger][:, column]]
            y = [curves.values[benchmark, reference][:, column]]
            poi = poi_interval(x, y, mode, seed=0)
            print(f"  {fraction:>5g} of the budget: {poi.point:.2f} [{poi.low:.2f}, {poi.high:.2f}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_seeds", type=int, default=30, help="seeds of the single-fidelity comparisons")
    parser.add_argument("--mf_seeds", type=int, default=30, help="seeds of the multi-fidelity comparison")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--results_dir", type=Path, default=Path("results"))
    parser.add_argument("--report_only", action="store_true", help="only report the runs already stored")
    args = parser.parse_args()
    if not args.report_only:
        run_all(args)
    single = load(args.results_dir, "f12-sf", spacing="linear", progress=False, log=False)
    for benchmark in single.benchmarks:
        final_table(single, benchmark, ("RandomSearch",))
    multi = load(args.results_dir, "f12-mf", spacing="linear", progress=False, log=False)
    for benchmark in multi.benchmarks:
        final_table(multi, benchmark, ("RandomSearch", "ASHA-PROM", "ASHA"))
        over_time(multi, benchmark, "ASHA-PROM", "MOBSTER-JOINT")
    figure = plot_curves(multi)
    path = Path(args.results_dir) / "f12-mf-best-so-far.png"
    figure.savefig(path, dpi=120)
    print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()

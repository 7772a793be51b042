"""Check against the field for the model-based methods (issues 12 and 13), 30 paired seeds.

Single fidelity (tag ``f12-sf``): Bayesian optimisation against random search. Multi-fidelity: every model-based
method of both issues with its model-free bases on YAHPO LCBench 3945 and 189908 (tag ``f12-mf``, 2 simulated
hours, 4 workers) and on the embedded benchmark sklearn-mlp-digits (tag ``f13-digits``, 10 simulated seconds,
every method restricted to the 1,280 tabulated configurations).

Runs go through ``experiments.run`` (results under ``--results_dir``, completed runs reused), then per benchmark:
the IQM of the final best value over seeds with a 95% stratified-bootstrap interval, P(beats RandomSearch) and
P(beats ASHA) (paired seeds, rliable's probability of improvement with its interval), the median decision CPU per
run; the IQM of best-so-far at fractions of the budget; and the pairs the issues name (``PAIRS``: BOHB against
Hyperband and SyncBOHB, BORE against BayesianOptimization and RandomSearch, CQR against BORE, ASHA-BORE and
ASHA-CQR against ASHA, MOBSTER against ASHA-PROM, ...) as P(first beats second) over time. One figure per
benchmark (best-so-far over simulated time, IQM with 95% bands) next to the results.

    python benchmarks/field_check_models.py [--num_seeds 30] [--jobs 2] [--report_only]

YAHPO needs its surrogate files: set HPO_YAHPO_DATA (e.g. to ../shared/yahpo_data).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr, trim_mean

from blackbox_repository import BlackboxRepository
from experiments.run import load_benchmark, run_experiment
from plotting.figures import Layout, plot_curves
from plotting.load import load
from plotting.paired import poi_interval
from plotting.stats import interval_table

SINGLE_FIDELITY = {  # benchmark -> max_trials (None: the registered budget)
    "sklearn-mlp-digits": None,
    "yahpo-iaml_glmnet-1489": 100,
    "yahpo-rbv2_xgboost-1040": 100,
}
SINGLE_FIDELITY_METHODS = ["BayesianOptimization", "RandomSearch"]
MODEL_FREE = ["RandomSearch", "ASHA", "ASHA-PROM", "Hyperband", "SyncHyperband"]
MODEL_BASED = [
    "BayesianOptimization", "MOBSTER-JOINT", "MOBSTER-INDEP", "HYPERTUNE-INDEP", "HYPERTUNE4-INDEP",
    "HYPERTUNE-JOINT", "SYNCMOBSTER", "DyHPO",  # issue 12
    "KDE", "BOHB", "SyncBOHB", "BORE", "ASHA-BORE", "CQR", "ASHA-CQR",  # issue 13
]  # fmt: skip
MULTI_FIDELITY = {  # tag -> benchmarks
    "f12-mf": ["yahpo-lcbench-3945", "yahpo-lcbench-189908"],
    "f13-digits": ["sklearn-mlp-digits"],
}
BASELINES = ("RandomSearch", "ASHA")
PAIRS = [
    ("BOHB", "Hyperband"), ("BOHB", "SyncBOHB"), ("SyncBOHB", "SyncHyperband"), ("KDE", "RandomSearch"),
    ("BORE", "BayesianOptimization"), ("BORE", "RandomSearch"), ("CQR", "BORE"), ("CQR", "RandomSearch"),
    ("ASHA-BORE", "ASHA"), ("ASHA-CQR", "ASHA"), ("MOBSTER-JOINT", "ASHA-PROM"),
]  # fmt: skip
FRACTIONS = (0.05, 0.1, 0.25, 0.5, 0.75, 1.0)


def run_all(args: argparse.Namespace) -> None:
    for benchmark, max_trials in SINGLE_FIDELITY.items():
        run_experiment(
            benchmark, SINGLE_FIDELITY_METHODS, num_seeds=args.num_seeds, max_trials=max_trials,
            experiment_tag="f12-sf", results_dir=args.results_dir, jobs=args.jobs, progress=True,
        )  # fmt: skip
    for tag, benchmarks in MULTI_FIDELITY.items():
        for benchmark in benchmarks:
            run_experiment(
                benchmark, MODEL_FREE + MODEL_BASED, num_seeds=args.num_seeds, experiment_tag=tag,
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


def over_time(curves, benchmark: str) -> None:
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
    pairs = [(a, b) for a, b in PAIRS if (benchmark, a) in curves.values and (benchmark, b) in curves.values]
    if not pairs:
        return
    print(f"\n### {benchmark}: P(first beats second) at fractions of the budget, 95% CI\n")
    print("| pair | " + " | ".join(f"{f:g}" for f in FRACTIONS) + " |\n|---|" + "---|" * len(FRACTIONS))
    for challenger, reference in pairs:
        cells = []
        for column in columns:
            x = [curves.values[benchmark, challenger][:, column]]
            y = [curves.values[benchmark, reference][:, column]]
            poi = poi_interval(x, y, mode, seed=0)
            cells.append(f"{poi.point:.2f} [{poi.low:.2f}, {poi.high:.2f}]")
        print(f"| {challenger} vs {reference} | " + " | ".join(cells) + " |")


def curve_crossing(
    benchmark: str, metric: str, mode: str, levels: tuple[int, ...] = (1, 3, 9, 27), samples: int = 300
) -> None:
    """How well early values rank the final ones on ``benchmark`` (random configurations, seed 0 of the table):
    Spearman's rho between the value at an epoch and at the last one, and the share of the best 10% final values
    that are in the best third at that epoch (what ASHA keeps at a rung). Where these are low, ASHA's first rungs
    stop the eventual best and searchers that learn from low levels are misled."""
    _, blackbox = load_benchmark(benchmark, BlackboxRepository())
    index = blackbox.objective_index(metric)
    sign = 1.0 if mode == "max" else -1.0
    configs = blackbox.space.sample_many(np.random.default_rng(0), samples)
    curves = np.array([np.atleast_2d(blackbox.curve(config, 0).T).T[:, index] for config in configs]) * sign
    final = curves[:, -1]
    best = final >= np.quantile(final, 0.9)
    cells = []
    for level in (level for level in levels if level < curves.shape[1]):
        early = curves[:, level - 1]
        kept = early >= np.quantile(early, 2 / 3)
        cells.append(f"epoch {level}: rho {spearmanr(early, final).statistic:.2f}, kept {kept[best].mean():.2f}")
    print(f"\n{benchmark}: early values against the final one ({samples} random configurations): " + "; ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num_seeds", type=int, default=30, help="paired seeds per method and benchmark")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--results_dir", type=Path, default=Path("results"))
    parser.add_argument("--report_only", action="store_true", help="only report the runs already stored")
    args = parser.parse_args()
    if not args.report_only:
        run_all(args)
    single = load(args.results_dir, "f12-sf", spacing="linear", progress=False, log=False)
    for benchmark in single.benchmarks:
        final_table(single, benchmark, ("RandomSearch",))
    for tag, benchmarks in MULTI_FIDELITY.items():
        for benchmark in benchmarks:
            curves = load(args.results_dir, tag, benchmarks=[benchmark], spacing="linear", progress=False, log=False)
            final_table(curves, benchmark, BASELINES)
            over_time(curves, benchmark)
            curve_crossing(benchmark, curves.metrics[benchmark], curves.modes[benchmark])
            path = Path(args.results_dir) / f"{tag}-{benchmark}-best-so-far.png"
            figure = plot_curves(curves, layout=Layout(columns=1, width=8.0, row_height=4.5), ylim_from=0.2)
            figure.savefig(path, dpi=120)
            print(f"\nfigure: {path}")


if __name__ == "__main__":
    main()

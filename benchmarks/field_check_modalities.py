"""Field checks of issue 15 from stored studies: each method against its baseline, per benchmark, at several
fractions of the budget (paired seeds).

Run the three studies first (``studies/multi-objective.toml``, ``constrained.toml``, ``transfer.toml``), then::

    python benchmarks/field_check_modalities.py --results results

For each (benchmark, method, baseline) and time it prints the median indicator of both over the seeds, the
wins/ties/losses of the method over paired seeds and the two-sided Wilcoxon signed-rank p-value (ties dropped):
hypervolume for the multi-objective study, best feasible value for the constrained one, best value for transfer.
"""

from __future__ import annotations

import argparse
import logging

import numpy as np
from scipy.stats import wilcoxon

from plotting.indicators import IndicatorOptions
from plotting.load import load

CHECKS = {
    "multi-objective": ("hypervolume", [("MOASHA", "RS"), ("MOREA", "RS"), ("NSGA2", "RS"), ("MOBO", "RS"),
                                        ("LSBO", "RS")]),
    "constrained": ("best_feasible", [("CBO", "BO"), ("CBO", "RS"), ("BO", "RS")]),
    "transfer": ("best", [("ZeroShotTransfer", "RS"), ("BoundingBox", "RS"), ("QuantileBasedSurrogateSearcher", "RS"),
                          ("QuantileBasedSurrogateSearcher", "BO"), ("RUSH", "ASHA"), ("ASHA-CTS", "ASHA")]),
}  # fmt: skip
FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)


def compare(tag: str, results: str) -> None:
    indicator, pairs = CHECKS[tag]
    curves = load(results, tag, indicator=IndicatorOptions(indicator), log=False, progress=False)
    print(f"\n## {tag}: {indicator} (the method's median vs the baseline's; wins/ties/losses over paired seeds)\n")
    print("| benchmark | method vs baseline | " + " | ".join(f"{f:g} of budget" for f in FRACTIONS) + " |")
    print("|---|---|" + "---|" * len(FRACTIONS))
    for benchmark in curves.benchmarks:
        sign = 1.0 if curves.modes[benchmark] == "max" else -1.0
        times = np.array(FRACTIONS) * curves.budgets[benchmark]
        for method, baseline in pairs:
            if method not in curves.methods_on(benchmark) or baseline not in curves.methods_on(benchmark):
                continue
            a, b = curves.evaluate(benchmark, method, times), curves.evaluate(benchmark, baseline, times)
            cells = [cell(a[:, j], b[:, j], sign) for j in range(len(times))]
            print(f"| {benchmark} | {method} vs {baseline} | " + " | ".join(cells) + " |")


def cell(a: np.ndarray, b: np.ndarray, sign: float) -> str:
    both = ~np.isnan(a) & ~np.isnan(b)
    if not both.any():
        return "n/a"
    diff = sign * (a[both] - b[both])
    wins, ties, losses = int((diff > 0).sum()), int((diff == 0).sum()), int((diff < 0).sum())
    p = wilcoxon(diff[diff != 0]).pvalue if wins + losses >= 6 else float("nan")
    return f"{np.median(a[both]):.4g} vs {np.median(b[both]):.4g}, {wins}/{ties}/{losses}, p={p:.2g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="the studies' results directory")
    parser.add_argument("--tags", nargs="+", default=list(CHECKS), choices=list(CHECKS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for tag in args.tags:
        compare(tag, args.results)


if __name__ == "__main__":
    main()

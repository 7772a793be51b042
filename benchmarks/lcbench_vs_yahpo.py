"""How far YAHPO Gym's ``lcbench`` surrogate disagrees with the LCBench table, per dataset.

Needs the LCBench table (``python -m blackbox_repository.convert lcbench-Fashion-MNIST --source-path
data_2k_lw.zip`` converts all 35 datasets) and the YAHPO data (``$HPO_YAHPO_DATA``). For each dataset it
prints the figures of ``blackbox_repository.compare`` with the aligned epochs (surrogate epoch = table
epoch + 1, as the surrogate was fitted on the raw log entries) and the mean absolute difference under
the naive alignment, and checks which YAHPO instance matches the table best.

    python benchmarks/lcbench_vs_yahpo.py [--datasets Fashion-MNIST airlines ...] [--output figures.csv]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from blackbox_repository import BlackboxError, BlackboxRepository
from blackbox_repository.compare import LCBENCH_OPENML_TASKS, compare_table_with_surrogate
from blackbox_repository.yahpo import load_yahpo, yahpo_instances


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=sorted(LCBENCH_OPENML_TASKS))
    parser.add_argument("--output", type=Path, help="also write the figures as CSV")
    args = parser.parse_args()

    repository = BlackboxRepository()
    instances = set(yahpo_instances("lcbench"))
    others = [load_yahpo(f"yahpo-lcbench-{instance}") for instance in sorted(instances)]
    rows = []
    for dataset in tqdm(args.datasets, desc="datasets"):
        task = str(LCBENCH_OPENML_TASKS.get(dataset))
        if task not in instances:
            print(f"{dataset}: YAHPO lcbench has no instance for OpenML task {task}; skipped", file=sys.stderr)
            continue
        try:
            table = repository.load(f"lcbench-{dataset}")
        except BlackboxError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        surrogate = load_yahpo(f"yahpo-lcbench-{task}")
        rivals = [other for other in others if other.name != surrogate.name]
        aligned = compare_table_with_surrogate(
            table, surrogate, surrogate_elapsed="surrogate_time", other_instances=rivals
        )
        naive = compare_table_with_surrogate(table, surrogate, epoch_offset=0)
        rows.append({"dataset": dataset, "task": task, **aligned, "mae_all_naive": naive["mae_all"]})
    if not rows:
        return 1
    frame = pd.DataFrame(rows)
    columns = [
        "dataset", "task", "mae_all", "mae_all_naive", "mae_final", "max_abs_final", "spearman_final",
        "regret_of_surrogate_best", "elapsed_ratio_median", "best_matching_instance", "spearman_best_instance",
    ]  # fmt: skip
    print(frame[columns].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(
        f"\nval_accuracy (percent points): mean |YAHPO - table| over all epochs {frame['mae_all'].mean():.2f} "
        f"(naive alignment {frame['mae_all_naive'].mean():.2f}); at the last epoch {frame['mae_final'].mean():.2f}; "
        f"median Spearman of final accuracy {frame['spearman_final'].median():.3f}; mean regret of YAHPO's best "
        f"configuration on the table {frame['regret_of_surrogate_best'].mean():.2f}"
    )
    if args.output:
        frame.to_csv(args.output, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

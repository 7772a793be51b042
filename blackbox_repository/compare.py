"""How far a surrogate disagrees with the table it describes (YAHPO ``lcbench`` vs LCBench).

YAHPO Gym's ``lcbench`` surrogate was fitted on LCBench's raw logs: 52 entries per curve, of which the
first is logged before training and the last repeats the end. Our LCBench table keeps entries 1..50 as
epochs 1..50 and measures time from entry 0. So table epoch ``e`` is surrogate epoch ``e + 1`` and table
elapsed time ``t(e)`` compares with ``time(e + 1) - time(1)`` of the surrogate (``epoch_offset=1``).
With ``epoch_offset=0`` the naive alignment is measured too, to show what the shift does.

``compare_table_with_surrogate`` returns one row of figures per benchmark:

- ``mae_all`` / ``mae_final``: mean absolute difference of the metric over every (configuration,
  epoch) / at the last epoch; ``max_abs_final``: the largest difference at the last epoch;
- ``spearman_final``: rank correlation of the final metric over the tabulated configurations (does the
  surrogate order configurations as the table does?);
- ``regret_of_surrogate_best``: how much worse, on the table, the configuration the surrogate ranks best
  is than the table's best (in metric units);
- ``elapsed_ratio_median``: median over configurations of surrogate / table elapsed time at the last epoch;
- ``best_matching_instance`` / ``spearman_best_instance``: the surrogate instance whose final metric
  correlates best with the table: a check of the dataset-to-task mapping.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.blackbox import Blackbox, BlackboxBase
from blackbox_repository.errors import BlackboxError

#: OpenML task ids of the LCBench datasets (the instances of YAHPO Gym's ``lcbench`` scenario).
LCBENCH_OPENML_TASKS: dict[str, int] = {
    "KDDCup09_appetency": 3945, "covertype": 7593, "Amazon_employee_access": 34539, "adult": 126025,
    "nomao": 126026, "bank-marketing": 126029, "shuttle": 146212, "numerai28.6": 167083, "Australian": 167104,
    "kr-vs-kp": 167149, "mfeat-factors": 167152, "credit-g": 167161, "vehicle": 167168, "kc1": 167181,
    "blood-transfusion-service-center": 167184, "cnae-9": 167185, "phoneme": 167190, "higgs": 167200,
    "connect-4": 167201, "helena": 168329, "jannis": 168330, "volkert": 168331, "MiniBooNE": 168335,
    "APSFailure": 168868, "christine": 168908, "fabert": 168910, "airlines": 189354, "jasmine": 189862,
    "sylvine": 189865, "albert": 189866, "dionis": 189873, "car": 189905, "segment": 189906,
    "Fashion-MNIST": 189908, "jungle_chess_2pcs_raw_endgame_complete": 189909,
}  # fmt: skip


def compare_table_with_surrogate(
    table: Blackbox,
    surrogate: BlackboxBase,
    *,
    metric: str | None = None,
    epoch_offset: int = 1,
    surrogate_elapsed: str | None = None,
    other_instances: Sequence[BlackboxBase] = (),
) -> dict[str, Any]:
    """Figures of disagreement between ``table`` and ``surrogate`` on the tabulated configurations.

    Args:
        table: the tabulated benchmark (its first seed is compared).
        surrogate: a benchmark that can evaluate any configuration at any fidelity (``evaluate``).
        metric: objective compared (default: the table's metric; the surrogate must have it too).
        epoch_offset: table epoch ``e`` is surrogate fidelity ``e + epoch_offset``.
        surrogate_elapsed: surrogate objective holding cumulative time (None: elapsed time not compared).
        other_instances: further surrogate instances to test the mapping against (final metric only).
    """
    metric = metric or table.metric
    missing = [name for name in table.space.names if name not in surrogate.space.names]
    if missing:
        raise BlackboxError(f"the surrogate {surrogate.name!r} lacks the table's hyperparameters {missing}")
    configs = table.configs
    epochs = np.asarray(table.fidelities)
    num_configs, num_epochs = len(configs), len(epochs)
    rows = configs.loc[configs.index.repeat(num_epochs)].reset_index(drop=True)
    fidelity = np.tile(epochs + epoch_offset, num_configs)
    predicted = surrogate.evaluate(rows, fidelity)
    mode = table.objective(metric).mode
    table_values = np.asarray(table.objectives[:, 0, :, table.objective_index(metric)], dtype=np.float64)
    surrogate_values = predicted[:, surrogate.objective_index(metric)].reshape(num_configs, num_epochs)
    difference = np.abs(surrogate_values - table_values)
    final_table, final_surrogate = table_values[:, -1], surrogate_values[:, -1]
    pick = np.nanargmax(final_surrogate) if mode == "max" else np.nanargmin(final_surrogate)
    best = np.nanmax(final_table) if mode == "max" else np.nanmin(final_table)
    figures: dict[str, Any] = {
        "table": table.name,
        "surrogate": surrogate.name,
        "metric": metric,
        "epoch_offset": epoch_offset,
        "configs": num_configs,
        "mae_all": float(np.nanmean(difference)),
        "mae_final": float(np.nanmean(difference[:, -1])),
        "max_abs_final": float(np.nanmax(difference[:, -1])),
        "spearman_final": spearman(final_table, final_surrogate),
        "regret_of_surrogate_best": float(abs(best - final_table[pick])),
    }
    if surrogate_elapsed is not None and table.elapsed_objective is not None:
        start = surrogate.evaluate(configs, np.full(num_configs, 1 if epoch_offset else epochs[0]))
        elapsed_index = surrogate.objective_index(surrogate_elapsed)
        surrogate_time = predicted[:, elapsed_index].reshape(num_configs, num_epochs)[:, -1]
        if epoch_offset:
            surrogate_time = surrogate_time - start[:, elapsed_index]
        table_time = np.asarray(table.objectives[:, 0, -1, table.objective_index(table.elapsed_objective)])
        with np.errstate(divide="ignore", invalid="ignore"):
            figures["elapsed_ratio_median"] = float(np.nanmedian(surrogate_time / table_time))
    if other_instances:
        last = np.full(num_configs, epochs[-1] + epoch_offset)
        scores = {surrogate.name: figures["spearman_final"]}
        for other in other_instances:
            values = other.evaluate(configs, last)[:, other.objective_index(metric)]
            scores[other.name] = spearman(final_table, values)
        best_name = max(scores, key=lambda name: -np.inf if np.isnan(scores[name]) else scores[name])
        figures["best_matching_instance"] = best_name
        figures["spearman_best_instance"] = scores[best_name]
    return figures


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (average ranks for ties) over the pairs where both are finite."""
    keep = np.isfinite(a) & np.isfinite(b)
    if keep.sum() < 3:
        return float("nan")
    ranks_a = pd.Series(a[keep]).rank().to_numpy()
    ranks_b = pd.Series(b[keep]).rank().to_numpy()
    if ranks_a.std() == 0 or ranks_b.std() == 0:
        return float("nan")
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])

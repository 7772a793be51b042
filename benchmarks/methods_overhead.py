"""Real time each registered method spends deciding, per reported result, at 4 workers.

A synthetic NASBench-201-sized table (15,625 configurations of 6 categorical hyperparameters, 1 seed,
200 epochs of decaying curves; random numbers, for timing only) is replayed for every method in
``methods.model_free_methods()`` (or those named) for 5 simulated hours per seed. Printed per method: results,
decisions, the method's real time per result (target < 20 µs) and per decision.

    python benchmarks/methods_overhead.py [--methods ASHA PBT ...] [--seeds 3]
"""

from __future__ import annotations

import argparse
import itertools

import numpy as np
import pandas as pd

from blackbox_repository import Blackbox, Objective
from methods import make_method, model_free_methods
from searchspace import Categorical, SearchSpace
from simulator import StopCriteria, simulate

OPS = ("avg_pool_3x3", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none")
EPOCHS = 200


def synthetic_nb201_table(seed: int = 0) -> Blackbox:
    """15,625 x 1 x 200 decaying curves with per-configuration epoch runtimes of 5-40 s (synthetic)."""
    rng = np.random.default_rng(seed)
    space = SearchSpace({f"hp_x{i}": Categorical(OPS) for i in range(6)})
    configs = pd.DataFrame(list(itertools.product(OPS, repeat=6)), columns=space.names)
    n = len(configs)
    epochs = np.arange(1, EPOCHS + 1, dtype=np.float32)
    final = rng.uniform(0.05, 0.9, size=(n, 1, 1)).astype(np.float32)
    speed = rng.uniform(0.01, 0.2, size=(n, 1, 1)).astype(np.float32)
    error = final + (1 - final) * np.exp(-speed * epochs)
    error += rng.normal(0, 0.01, size=error.shape).astype(np.float32)
    runtime = np.broadcast_to(rng.uniform(5, 40, size=(n, 1, 1)).astype(np.float32), error.shape)
    objectives = np.stack([error, runtime, np.cumsum(runtime, axis=2)], axis=-1)
    return Blackbox(
        name="synthetic-nb201-timing",
        space=space,
        configs=configs,
        fidelities=np.arange(1, EPOCHS + 1),
        seeds=np.array([0]),
        objectives=objectives,
        objective_info=[Objective("valid_error", "min"), Objective("runtime"), Objective("elapsed_time")],
        metric="valid_error",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=model_free_methods())
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    blackbox = synthetic_nb201_table()
    stop = StopCriteria(max_wallclock_time=5 * 3600)
    print(f"{'method':22s} {'results':>9s} {'decisions':>10s} {'us/result':>10s} {'us/decision':>12s}")
    for method in args.methods:
        results = decisions = 0
        seconds = 0.0
        for seed in range(args.seeds):
            scheduler = make_method(
                method, space=blackbox.space, metric="valid_error", mode="min", max_t=EPOCHS, seed=seed
            )
            outcome = simulate(blackbox, scheduler, n_workers=4, seed=seed, stop=stop)
            results += outcome.num_results
            decisions += outcome.num_decisions
            seconds += outcome.decision_seconds
        print(
            f"{method:22s} {results:9,d} {decisions:10,d} {1e6 * seconds / max(results, 1):10.2f} "
            f"{1e6 * seconds / max(decisions, 1):12.2f}"
        )


if __name__ == "__main__":
    main()

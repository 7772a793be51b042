"""Every registered method runs end to end on the embedded benchmark and keeps every worker busy: on its
constrained variant for the methods that take a constraint, its multi-objective variant for multi-objective
methods. Transfer methods need a family of tasks, which the embedded benchmark has not: they run end to end on
YAHPO LCBench in ``tests/experiments/test_transfer.py``."""

from __future__ import annotations

import numpy as np
import pytest

from experiments import read_run, run_dir
from experiments.run import run_experiment
from methods import REGISTRY, resolve_method

BUDGET = 4.0  # simulated seconds: far from exhausting the 1,280-configuration grid


def benchmark_for(method: str) -> str:
    spec = resolve_method(method)
    if spec.takes("constraint_attr"):
        return "sklearn-mlp-digits-constrained"
    return "sklearn-mlp-digits-mo" if spec.multi_objective else "sklearn-mlp-digits"


@pytest.mark.parametrize(
    "method", sorted(name for name in REGISTRY if not resolve_method(name).takes("transfer_evaluations"))
)
def test_method_runs_and_never_leaves_a_worker_idle(method, tmp_path, monkeypatch):
    monkeypatch.delenv("HPO_BLACKBOX_CACHE", raising=False)  # the embedded benchmark needs no cache
    benchmark = benchmark_for(method)
    run_experiment(benchmark, [method], num_seeds=2, results_dir=tmp_path, max_wallclock_time=BUDGET)
    frames = []
    for seed in range(2):
        run = read_run(run_dir(tmp_path, "default", benchmark, method, seed))
        assert run.metadata["stop_reason"] == "max_wallclock_time", run.metadata["stop_reason"]
        results = run.results
        assert len(results) > 50 and results["valid_error"].notna().all()
        for worker, rows in results.groupby("worker"):
            rows = rows.sort_values(["time", "epoch"])
            starts = (rows["time"] - rows["runtime"]).to_numpy()
            ends = np.concatenate([[0.0], rows["time"].to_numpy()[:-1]])
            # each epoch starts when the worker's previous epoch ended (the first at time 0): no idle gap
            np.testing.assert_allclose(starts, ends, atol=1e-9, err_msg=f"{method}: worker {worker} idled")
        assert sorted(results["worker"].unique()) == [0, 1, 2, 3]
        frames.append(results)
    assert not frames[0].equals(frames[1])  # seeds differ
    again = tmp_path / "again"
    run_experiment(benchmark, [method], num_seeds=1, results_dir=again, max_wallclock_time=BUDGET)
    same = read_run(run_dir(again, "default", benchmark, method, 0)).results
    assert same.equals(frames[0])  # same seed, same results

"""Throughput of the YAHPO surrogates: batch evaluation (configs/s) and per-call latency of ``curve``.

Measured for each scenario that has a surrogate in the data directory (``$HPO_YAHPO_DATA``, default
``../shared/yahpo_data`` beside the repository when it exists):

- batch: ``YahpoBlackbox.evaluate`` on N random configurations at random fidelities (validation, encoding
  and the ONNX calls; target >= 10,000 configs/s on 2 cores), and the raw ``YahpoScenario.predict`` on
  the same rows with instance and fidelity columns;
- curve: the latency of one ``curve`` call (all fidelity steps, one ONNX call), which the simulator pays
  once per new trial.

Run: python benchmarks/yahpo_throughput.py [--rows 20000] [--curves 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from blackbox_repository.yahpo import YAHPO_SCENARIOS, YahpoScenario, load_yahpo, yahpo_data_dir

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "yahpo_data"


def random_frame(blackbox, rows: int, rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    configs = pd.DataFrame(blackbox.space.sample_many(rng, rows))
    low, high = blackbox.fidelity_values[0], blackbox.fidelity_values[-1]
    if blackbox.fidelity_name == "epoch":
        fidelity = rng.integers(int(low), int(high) + 1, size=rows).astype(float)
    else:
        fidelity = rng.uniform(low, high, size=rows)
    return configs, fidelity


def measure(name: str, rows: int, curves: int, repeats: int = 3) -> dict[str, float]:
    blackbox = load_yahpo(name)
    rng = np.random.default_rng(0)
    configs, fidelity = random_frame(blackbox, rows, rng)
    blackbox.evaluate(configs.head(64), fidelity[:64])  # warm up the session
    batch = min(_timed(lambda: blackbox.evaluate(configs, fidelity)) for _ in range(repeats))
    frame = blackbox.input_frame(configs, fidelity)
    raw = min(_timed(lambda: blackbox.scenario.predict(frame)) for _ in range(repeats))
    samples = blackbox.space.sample_many(rng, curves)
    latencies = [_timed(lambda config=config: blackbox.curve(config, 0)) for config in samples]
    return {
        "evaluate_per_s": rows / batch,
        "predict_per_s": rows / raw,
        "curve_ms_median": 1e3 * statistics.median(latencies),
        "curve_ms_p95": 1e3 * float(np.quantile(latencies, 0.95)),
        "steps": len(blackbox.fidelities),
    }


def _timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="configurations per batch")
    parser.add_argument("--curves", type=int, default=300, help="curve calls timed per scenario")
    args = parser.parse_args()
    if not os.environ.get("HPO_YAHPO_DATA") and SHARED_DATA.is_dir():
        os.environ["HPO_YAHPO_DATA"] = str(SHARED_DATA)
    data_dir = yahpo_data_dir()
    print(f"data: {data_dir}  cores: {os.cpu_count()}  rows per batch: {args.rows}")
    print(f"{'benchmark':<28}{'evaluate/s':>12}{'predict/s':>12}{'steps':>7}{'curve ms':>10}{'p95 ms':>9}")
    for scenario in YAHPO_SCENARIOS:
        if not (data_dir / scenario / "model.onnx").is_file():
            continue
        name = f"yahpo-{scenario}-{YahpoScenario.load(scenario).instances[0]}"
        result = measure(name, args.rows, args.curves)
        print(
            f"{name:<28}{result['evaluate_per_s']:>12,.0f}{result['predict_per_s']:>12,.0f}{result['steps']:>7}"
            f"{result['curve_ms_median']:>10.2f}{result['curve_ms_p95']:>9.2f}"
        )


if __name__ == "__main__":
    main()

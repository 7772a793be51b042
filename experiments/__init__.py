"""Drive the simulator: benchmark definitions, paired seeds, the results store and the command line.

``python -m experiments.run`` runs methods on a benchmark for several seeds; ``run_experiment`` does the
same from Python. ``experiments.store`` documents the on-disk layout that ``plotting`` reads.
"""

from experiments.benchmarks import BENCHMARKS, BenchmarkDefinition, available_benchmarks, get_benchmark
from experiments.errors import ExperimentError
from experiments.seeds import RunSeeds, derive_seeds, run_seed
from experiments.store import load_results, read_run, run_dir

__all__ = [
    "BENCHMARKS",
    "BenchmarkDefinition",
    "ExperimentError",
    "RunSeeds",
    "available_benchmarks",
    "derive_seeds",
    "get_benchmark",
    "load_results",
    "read_run",
    "run_dir",
    "run_seed",
]

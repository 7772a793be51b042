"""Drive the simulator: benchmark definitions, paired seeds, the results store and the command line.

``python -m experiments.run`` runs methods on a benchmark for several seeds; ``run_experiment`` does the
same from Python. ``python -m experiments.study`` (``run_study``) runs a whole study spec on local processes or
Ray; ``Tuner`` and ``AskTell`` run methods on real training. ``experiments.store_format`` documents the on-disk
layout that ``plotting`` reads.

Importing the package loads only the light modules (errors, seeds, the store format): the benchmark
registry (which needs ``blackbox_repository``) is imported on first access of one of its names, so that
readers of the results store (``plotting``) do not load the benchmark and simulation stack.
"""

from __future__ import annotations

import importlib
from typing import Any

from experiments.errors import ExperimentError
from experiments.seeds import RunSeeds, derive_seeds, run_seed
from experiments.store_format import load_results, read_run, run_dir

#: names served lazily: name -> module that defines it
_LAZY = {
    "BENCHMARKS": "experiments.benchmarks",
    "BenchmarkDefinition": "experiments.benchmarks",
    "available_benchmarks": "experiments.benchmarks",
    "get_benchmark": "experiments.benchmarks",
    "AskTell": "experiments.ask_tell",
    "Tuner": "experiments.tuner",
    "run_study": "experiments.study",
}

__all__ = [
    "AskTell",
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
    "run_study",
    "Tuner",
]


def __getattr__(name: str) -> Any:
    """Import a lazily served name on first access (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

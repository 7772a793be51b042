"""The ``python -m experiments.run`` commands that would produce missing results.

``run_command`` builds one command; ``gap_commands`` one per benchmark with gaps in a ``LoadReport``
(repeating the settings of a run already stored for that benchmark); ``nothing_found_message`` is the
error when no run is found at all.
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from experiments import store_format
from plotting.report import LoadReport
from plotting.sources import LoadedRun, is_remote

_RUN_FLAGS = (
    ("max_wallclock_time", "--max_wallclock_time"),
    ("n_workers", "--n_workers"),
    ("max_results", "--max_results"),
    ("max_trials", "--max_trials"),
    ("target_metric_value", "--target_metric_value"),
    ("decision_overhead", "--decision_overhead"),
    ("master_random_seed", "--master_random_seed"),
)


def run_command(
    benchmark: str,
    methods: Sequence[str],
    num_seeds: int,
    tag: str,
    results_dir: str | Path | None = None,
    *,
    arguments: Mapping[str, Any] | None = None,
    start_seed: int = 0,
) -> str:
    """The ``python -m experiments.run`` command that produces (or completes) these results.

    ``arguments`` (the ``arguments`` of an existing run's metadata) adds the flags that run was started with,
    so that the new runs have the same settings.
    """
    parts = ["python", "-m", "experiments.run", "--benchmark", benchmark, "--method", *methods]
    parts += ["--num_seeds", str(num_seeds)]
    if start_seed:
        parts += ["--start_seed", str(start_seed)]
    parts += ["--experiment_tag", tag]
    for key, flag in _RUN_FLAGS:
        value = (arguments or {}).get(key)
        default = {"decision_overhead": 0.0, "master_random_seed": 0}.get(key)
        if value is not None and value != default:
            parts += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    if results_dir is not None and str(results_dir) != str(store_format.DEFAULT_RESULTS_DIR):
        parts += ["--results_dir", str(results_dir)]
    return shlex.join(parts)


def _command_for(
    benchmark: str, methods: Sequence[str], num_seeds: int, tag: str, results_dir: str, arguments: Mapping | None
) -> str:
    if is_remote(results_dir):
        command = run_command(benchmark, methods, num_seeds, tag, None, arguments=arguments)
        return f"{command}  # then copy results/{tag}/{benchmark} to {results_dir}/{tag}/{benchmark}"
    return run_command(benchmark, methods, num_seeds, tag, results_dir, arguments=arguments)


def gap_commands(
    report: LoadReport,
    first_runs: Mapping[str, LoadedRun],
    seeds: Mapping[str, np.ndarray],
    methods: Sequence[str],
    described: Sequence[str],
    num_seeds: int | None,
    label: str,
) -> list[str]:
    """One command per benchmark with gaps; it repeats the settings of a run already stored for that benchmark."""
    gaps: dict[str, set[str]] = defaultdict(set)
    max_seed: dict[str, int] = defaultdict(lambda: -1)
    for benchmark, method, seed in report.missing:
        gaps[benchmark].add(method)
        max_seed[benchmark] = max(max_seed[benchmark], seed)
    for run in report.partial:
        gaps[run.benchmark].add(run.method)
        max_seed[run.benchmark] = max(max_seed[run.benchmark], run.seed)
    for benchmark, absent in report.missing_methods.items():
        gaps[benchmark].update(absent)
    commands = []
    for benchmark in sorted(gaps):
        names = [m for m in methods if m in gaps[benchmark]] or sorted(gaps[benchmark])
        if label == "tag/method":
            names = [name.rpartition("/")[2] for name in names]
        first = first_runs.get(benchmark)
        if first is not None:
            tag, results_dir = first.candidate.tag, first.candidate.root
            arguments = (first.metadata or {}).get("arguments")
            known = seeds.get(benchmark)
            count = max(max_seed[benchmark], int(known.max()) if known is not None and len(known) else -1) + 1
        else:
            results_dir, _, tag = (
                described[0].rpartition("/") if described else (str(store_format.DEFAULT_RESULTS_DIR), "", "default")
            )
            arguments = None
            count = max(max_seed[benchmark], *(int(known.max()) for known in seeds.values() if len(known))) + 1
        count = max(count, num_seeds or 0, 1)
        commands.append(_command_for(benchmark, list(dict.fromkeys(names)), count, tag, results_dir, arguments))
    return commands


def nothing_found_message(
    described: Sequence[str],
    absent: Sequence[str],
    benchmarks: Sequence[str] | None,
    methods: Sequence[str] | None,
    num_seeds: int | None,
    report: LoadReport,
) -> str:
    """The error when no complete run is found under ``described``: why, and the commands that produce runs."""
    where = ", ".join(described) or "the results directories"
    notes = []
    if absent:
        notes.append(f"{', '.join(absent)} does not exist")
    if report.partial:
        notes.append(f"{len(report.partial)} partial run(s) without complete metadata.json")
    message = f"no complete runs under {where}" + (f" ({'; '.join(notes)})" if notes else "")
    source, _, tag = described[0].rpartition("/") if described else (str(store_format.DEFAULT_RESULTS_DIR), "", "TAG")
    names = [m.rpartition("/")[2] for m in methods] if methods else ["METHOD", "..."]
    commands = [_command_for(b, names, num_seeds or 30, tag, source, None) for b in (benchmarks or ["BENCHMARK"])]
    return message + "; produce them with: " + " && ".join(commands)

"""Run HPO methods on a benchmark for several paired seeds and store the results.

Command line (``python -m experiments.run --help``)::

    python -m experiments.run --benchmark sklearn-mlp-digits --method ASHA RandomSearch --num_seeds 30 --jobs 2

Every (method, seed) pair is one simulated run, stored by ``experiments.store``. Re-running a command
skips the runs that are already complete, so an interrupted experiment resumes where it stopped.
Seeds are paired across methods (``experiments.seeds``). Two clocks are reported separately:
simulated time (the replayed experiment) and decision time (CPU seconds spent inside the method,
``time.thread_time``, so machine load does not inflate it). From Python, call ``run_experiment``.

Safe to run concurrently: the settings shared by a method's seeds are recorded under the tag before any
seed runs (other settings under the same tag are refused), each run is computed under a lock on its
directory (a run in progress elsewhere is skipped and waited for at the end, never computed twice), and a
run skipped as complete is verified against the SHA-256 in its metadata. SIGTERM (what SLURM sends) is
handled like Ctrl-C: the completed runs are kept, the workers of ``--jobs`` stop with the parent (also when
the parent is killed), exit code 143 (130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import logging
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from blackbox_repository import BlackboxBase, BlackboxError, BlackboxRepository
from experiments import store, store_format, workers
from experiments.benchmarks import BenchmarkDefinition
from experiments.cli import Parser, UsageError, configure_logging, fail, underscored
from experiments.errors import ExperimentError, check_int
from experiments.run_task import (
    RunContext,
    RunTask,
    benchmark_files,
    build_method,
    check_same_settings,
    environment,
    load_benchmark,
    run_and_store,
    run_settings,
    shared_settings,
)
from experiments.run_task import float_or_nan as _float
from experiments.seeds import derive_seeds
from methods import REGISTRY, is_method, method_listing, resolve_method
from searchspace import SearchSpaceError
from simulator import SimulationError, StopCriteria

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_BENCHMARK = "sklearn-mlp-digits"
DEFAULT_METHODS = ("ASHA",)
DEFAULT_NUM_SEEDS = 10
DEFAULT_MASTER_RANDOM_SEED = 0
DEFAULT_EXPERIMENT_TAG = "default"


# Results of an experiment ------------------------------------------------------------------------
@dataclass
class RunRecord:
    """One (method, seed) run of an experiment; ``skipped`` if it was already complete in the store."""

    method: str
    seed: int
    path: Path
    skipped: bool
    metadata: dict[str, Any]


@dataclass
class ExperimentSummary:
    """What ``run_experiment`` did: one record per (method, seed), in method then seed order."""

    benchmark: str
    definition: BenchmarkDefinition
    tag: str
    results_dir: Path
    records: list[RunRecord]

    @property
    def num_skipped(self) -> int:
        return sum(record.skipped for record in self.records)

    @property
    def num_run(self) -> int:
        return len(self.records) - self.num_skipped

    def table(self) -> pd.DataFrame:
        """Per method: seeds, final best metric (median, 25% and 75% quantiles), mean clocks per run
        (``decision_cpu_mean``: CPU seconds the method spent deciding)."""
        import pandas as pd  # not at the top: the command line does not need pandas

        rows = []
        for method in dict.fromkeys(record.method for record in self.records):
            records = [record.metadata for record in self.records if record.method == method]
            best = np.array([_float(m.get("final_best")) for m in records])
            finite = best[~np.isnan(best)]
            q25, median, q75 = np.quantile(finite, [0.25, 0.5, 0.75]) if finite.size else (math.nan,) * 3
            rows.append(
                {
                    "method": method,
                    "seeds": len(records),
                    "best_median": float(median),
                    "best_q25": float(q25),
                    "best_q75": float(q75),
                    "simulated_time_mean": float(np.mean([m["simulated_time_seconds"] for m in records])),
                    "decision_cpu_mean": float(
                        np.mean([_float(store_format.decision_cpu_seconds(m)) for m in records])
                    ),
                }
            )
        return pd.DataFrame(rows)

    def format(self) -> str:
        """The summary printed by the command line."""
        d = self.definition
        problem = ", ".join(f"{name} ({mode})" for name, mode in zip(d.objectives, d.modes))
        if d.constraint is not None:
            problem += f" subject to {d.constraint.metric} <= {d.constraint.threshold:.6g}"
        lines = [
            f"benchmark {self.benchmark}: {'objectives' if d.is_multi_objective else 'metric'} {problem}, "
            f"tag {self.tag!r}, results in {self.results_dir / self.tag / self.benchmark}",
            f"{len(self.records)} runs: {self.num_run} run now, {self.num_skipped} skipped (already complete)",
        ]
        header = [
            "method",
            "seeds",
            f"final best {d.metric}: median [25%, 75%]",
            "simulated time per run (s, mean)",
            "decision CPU time per run (s, mean)",
        ]
        body = [
            [
                row.method,
                str(row.seeds),
                f"{row.best_median:.4g} [{row.best_q25:.4g}, {row.best_q75:.4g}]",
                f"{row.simulated_time_mean:.4g}",
                f"{row.decision_cpu_mean:.3g}",
            ]
            for row in self.table().itertuples()
        ]
        widths = [max(len(cells[i]) for cells in [header, *body]) for i in range(len(header))]
        for cells in [header, *body]:
            padded = [cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths))]
            lines.append("  ".join(padded))
        return "\n".join(lines)


# Running -----------------------------------------------------------------------------------------
def run_experiment(
    benchmark: str = DEFAULT_BENCHMARK,
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    num_seeds: int = DEFAULT_NUM_SEEDS,
    start_seed: int = 0,
    master_random_seed: int = DEFAULT_MASTER_RANDOM_SEED,
    n_workers: int | None = None,
    max_wallclock_time: float | None = None,
    max_results: int | None = None,
    max_trials: int | None = None,
    target_metric_value: float | None = None,
    decision_overhead: float = 0.0,
    experiment_tag: str = DEFAULT_EXPERIMENT_TAG,
    results_dir: Path | str = store.DEFAULT_RESULTS_DIR,
    jobs: int = 1,
    cache_dir: Path | str | None = None,
    progress: bool | None = False,
    command_line: Sequence[str] | None = None,
    restrict_configurations: bool = False,
    start_at_random: bool = False,
) -> ExperimentSummary:
    """Run every method for seeds ``start_seed .. start_seed + num_seeds - 1``; skip complete runs.

    ``n_workers`` and ``max_wallclock_time`` default to the benchmark definition's; the other stop
    criteria are off unless given. ``jobs`` runs that many (method, seed) pairs in parallel processes.
    ``cache_dir`` is the blackbox cache (default: ``$HPO_BLACKBOX_CACHE`` or the user cache);
    ``progress`` shows a progress bar (None: only on a terminal). ``restrict_configurations`` restricts every
    method to the benchmark's tabulated configurations (part of the settings). ``start_at_random``: no method
    evaluates the midpoint of the space first (the default of every searcher, as in Syne Tune; on NASBench-201 the
    all-``nor_conv_1x1`` cell, which flatters early curves); part of the settings. Argument errors name the CLI flag.
    """
    arguments = {name: value for name, value in locals().items() if name != "command_line"}
    methods = _check_methods(methods)
    _check_arguments(arguments)

    repository = BlackboxRepository(cache_dir)
    definition, blackbox = load_benchmark(benchmark, repository, restrict_configurations=restrict_configurations)
    store.check_name("benchmark name", benchmark)
    stop = StopCriteria(
        max_wallclock_time=max_wallclock_time if max_wallclock_time is not None else definition.max_wallclock_time,
        max_results=max_results,
        max_trials=max_trials,
        target_metric_value=target_metric_value,
    )
    if all(value is None for value in dataclasses.astuple(stop)):
        raise ExperimentError(
            f"benchmark {benchmark!r} has no default time budget; give --max_wallclock_time (simulated "
            "seconds) or another stop criterion (--max_results, --max_trials, --target_metric_value)"
        )
    for method in methods:  # constructor errors surface before any run starts
        build_method(method, blackbox, definition, seed=0, start_at_random=start_at_random)

    context = RunContext(
        benchmark=benchmark,
        definition=definition,
        cache_dir=repository.cache_dir,
        n_workers=n_workers if n_workers is not None else definition.n_workers,
        stop=stop,
        decision_overhead=float(decision_overhead),
        tag=experiment_tag,
        master_random_seed=master_random_seed,
        benchmark_files=benchmark_files(repository, definition.blackbox),
        arguments=store.to_json({**arguments, "methods": list(methods)}),
        environment={**environment(), "command_line": list(command_line) if command_line is not None else None},
        start_at_random=start_at_random,
    )
    results_dir = Path(results_dir)
    seeds = range(start_seed, start_seed + num_seeds)
    for method in methods:  # before any seed runs: one set of settings per method and tag
        method_dir = store.run_dir(results_dir, experiment_tag, benchmark, method, start_seed).parent
        store.claim_settings(method_dir, shared_settings(context, method))
    records, tasks = _plan(context, results_dir, methods, seeds)
    for task, metadata, skipped in _execute(context, tasks, blackbox, jobs, progress):
        records[task.method, task.seed] = RunRecord(task.method, task.seed, task.path, skipped, metadata)
    ordered = [records[m, s] for m in methods for s in seeds]
    return ExperimentSummary(benchmark, definition, experiment_tag, results_dir, ordered)


def _check_arguments(arguments: Mapping[str, Any]) -> None:
    """One-line errors, naming the command-line flag, for the numeric and name arguments of ``run_experiment``."""
    for name, minimum in (("num_seeds", 1), ("start_seed", 0), ("master_random_seed", 0), ("jobs", 1)):
        check_int(f"--{name}", arguments[name], minimum)
    for name in ("n_workers", "max_results", "max_trials"):
        if arguments[name] is not None:
            check_int(f"--{name}", arguments[name], 1)
    if arguments["max_wallclock_time"] is not None:
        _check_float("--max_wallclock_time", arguments["max_wallclock_time"], positive=True)
    if arguments["target_metric_value"] is not None:
        _check_float("--target_metric_value", arguments["target_metric_value"])
    _check_float("--decision_overhead", arguments["decision_overhead"], positive=False)
    store.check_name("--experiment_tag", arguments["experiment_tag"])


def _plan(
    context: RunContext, results_dir: Path, methods: Sequence[str], seeds: range
) -> tuple[dict[tuple[str, int], RunRecord], list[RunTask]]:
    """The runs already complete in the store (as records; their settings must match) and the tasks to run."""
    records: dict[tuple[str, int], RunRecord] = {}
    tasks: list[RunTask] = []
    for method in methods:
        for seed in seeds:
            task = RunTask(
                method,
                seed,
                derive_seeds(context.master_random_seed, seed),
                store.run_dir(results_dir, context.tag, context.benchmark, method, seed),
            )
            metadata = store.read_complete_metadata(task.path)
            if metadata is None:
                tasks.append(task)
                continue
            check_same_settings(task, metadata, run_settings(context, task))
            store_format.verify_run(task.path, metadata)  # a corrupt table is an error naming its command
            records[method, seed] = RunRecord(method, seed, task.path, True, metadata)
    if records:
        logger.info(
            "skipping %d of %d runs: already complete in %s",
            len(records),
            len(records) + len(tasks),
            results_dir / context.tag / context.benchmark,
        )
    return records, tasks


def show_schedule(
    benchmark: str = DEFAULT_BENCHMARK,
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    cache_dir: Path | str | None = None,
) -> str:
    """Each method's ``schedule_description()`` for the benchmark's max_t (nothing is run)."""
    methods = _check_methods(methods)
    definition, blackbox = load_benchmark(benchmark, BlackboxRepository(cache_dir))
    parts = []
    for method in methods:
        scheduler = build_method(method, blackbox, definition, seed=0)
        spec = resolve_method(method)
        alias = f"alias of {spec.alias_of}, identical results; " if spec.alias_of else ""
        description = scheduler.schedule_description()
        searcher = scheduler.searcher
        if searcher is not None and searcher.describe() not in description:
            description += f"\n  searcher: {searcher.describe()}"
        parts.append(f"{method} on {benchmark} (max_t={definition.max_t}; {alias}{spec.describe()}):\n{description}")
    return "\n\n".join(parts)


def _execute(
    context: RunContext, tasks: list[RunTask], blackbox: BlackboxBase, jobs: int, progress: bool | None
) -> list[tuple[RunTask, dict[str, Any], bool]]:
    """Run ``tasks`` (in this process if ``jobs == 1``); returns (task, metadata, skipped) in task order.

    A run locked by another process is put off and waited for once the others are done (``skipped`` if that
    process completed it meanwhile).
    """
    done: dict[int, tuple[dict[str, Any], bool]] = {}
    bar = workers.progress_bar(len(tasks), progress)
    try:
        if jobs == 1 or len(tasks) <= 1:
            busy = []
            for i, task in enumerate(tasks):
                outcome = run_and_store(context, task, blackbox, block=False)
                if outcome is None:
                    busy.append(i)
                    continue
                done[i] = outcome
                bar.update()
            for i in busy:
                done[i] = run_and_store(context, tasks[i], blackbox, block=True)  # type: ignore[assignment]
                bar.update()
        else:
            workers.execute_in_pool(run_and_store, context, tasks, jobs, done, bar)
    finally:
        bar.close()
        store.sync_directories(task.path for task in tasks)  # the runs' file names, durable once per command
    return [(task, *done[i]) for i, task in enumerate(tasks)]


# Argument checks ---------------------------------------------------------------------------------
def _check_float(flag: str, value: Any, positive: bool | None = None) -> None:
    """A finite number; ``positive``: True for > 0, False for >= 0, None for any sign."""
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive is True:
        ok = value > 0
    elif ok and positive is False:
        ok = value >= 0
    if not ok:
        allowed = {True: "a finite number > 0", False: "a finite number >= 0", None: "a finite number"}[positive]
        raise ExperimentError(f"{flag} must be {allowed}, got {value!r}")


def _check_methods(methods: Sequence[str] | str) -> list[str]:
    methods = [methods] if isinstance(methods, str) else list(methods)
    if not methods:
        raise ExperimentError(f"give at least one --method; available: {method_listing()}")
    for name in methods:
        if not is_method(name):
            hint = _did_you_mean(name, REGISTRY)
            raise ExperimentError(
                f"unknown method {name!r}; available: {method_listing()}, or SCHEDULER+SEARCHER{hint}"
            )
    duplicates = sorted({name for name in methods if methods.count(name) > 1})
    if duplicates:
        raise ExperimentError(f"--method lists {', '.join(map(repr, duplicates))} more than once")
    for name in methods:
        target = resolve_method(name).alias_of
        if target in methods:
            logger.warning("%s is an alias of %s: both give identical results", name, target)
    return methods


def _did_you_mean(name: str, choices: Sequence[str] | Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# Command line ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m experiments.run",
        allow_abbrev=False,
        description="Simulate HPO methods on a tabulated benchmark for paired seeds; results go to "
        "<results_dir>/<experiment_tag>/<benchmark>/<method>/seed-<n>/. Completed runs are skipped. Every "
        "multi-word flag also accepts dashes (--num-seeds for --num_seeds).",
    )
    parser.add_argument("--benchmark", default=DEFAULT_BENCHMARK, help=f"benchmark name (default: {DEFAULT_BENCHMARK})")
    parser.add_argument(
        "--method",
        nargs="+",
        default=list(DEFAULT_METHODS),
        metavar="NAME",
        help=f"one or several methods: {method_listing()}; any other scheduler and searcher as NAME+SEARCHER, "
        "e.g. ASHA+rea (default: ASHA)",
    )
    parser.add_argument(
        "--num_seeds",
        type=int,
        default=DEFAULT_NUM_SEEDS,
        help=f"number of seeds per method (default: {DEFAULT_NUM_SEEDS})",
    )
    parser.add_argument("--start_seed", type=int, default=0, help="first seed (default: 0)")
    parser.add_argument(
        "--master_random_seed",
        type=int,
        default=DEFAULT_MASTER_RANDOM_SEED,
        help="run seed = (master_random_seed + seed) mod (2^31 - 1), the same for every method "
        f"(default: {DEFAULT_MASTER_RANDOM_SEED})",
    )
    parser.add_argument("--n_workers", type=int, help="simulated parallel workers (default: the benchmark's)")
    parser.add_argument(
        "--max_wallclock_time",
        type=float,
        metavar="SECONDS",
        help="simulated seconds per run (default: the benchmark's)",
    )
    parser.add_argument("--max_results", type=int, help="stop after this many results (trial epochs)")
    parser.add_argument("--max_trials", type=int, help="start at most this many trials")
    parser.add_argument("--target_metric_value", type=float, help="stop at the first result at least this good")
    parser.add_argument(
        "--decision_overhead",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="simulated seconds charged to every trial start or resume (default: 0)",
    )
    parser.add_argument(
        "--experiment_tag",
        default=DEFAULT_EXPERIMENT_TAG,
        help=f"name of the experiment in the results store (default: {DEFAULT_EXPERIMENT_TAG})",
    )
    parser.add_argument(
        "--results_dir",
        type=Path,
        default=store.DEFAULT_RESULTS_DIR,
        help=f"root of the results store (default: ./{store.DEFAULT_RESULTS_DIR})",
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel processes (default: 1)")
    parser.add_argument(
        "--restrict_configurations",
        action="store_true",
        help="methods propose only the benchmark's tabulated configurations (the table is replayed without a "
        "surrogate); part of the run's settings",
    )
    parser.add_argument(
        "--start_at_random",
        action="store_true",
        help="methods do not evaluate the midpoint of the space first (their default, as in Syne Tune); part of "
        "the run's settings",
    )
    parser.add_argument(
        "--show_schedule",
        action="store_true",
        help="print each method's rung levels/brackets for the benchmark and exit",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (2 for user errors, printed as one ``error:`` line)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(underscored(argv))
    except UsageError as error:
        return fail(f"{error} (see --help)")
    configure_logging(args.verbose)
    previous = workers.handle_sigterm()
    try:
        if args.show_schedule:
            print(show_schedule(args.benchmark, args.method))
            return 0
        summary = run_experiment(
            args.benchmark,
            args.method,
            num_seeds=args.num_seeds,
            start_seed=args.start_seed,
            master_random_seed=args.master_random_seed,
            n_workers=args.n_workers,
            max_wallclock_time=args.max_wallclock_time,
            max_results=args.max_results,
            max_trials=args.max_trials,
            target_metric_value=args.target_metric_value,
            decision_overhead=args.decision_overhead,
            experiment_tag=args.experiment_tag,
            results_dir=args.results_dir,
            jobs=args.jobs,
            progress=None,
            command_line=["python", "-m", "experiments.run", *argv],
            restrict_configurations=args.restrict_configurations,
            start_at_random=args.start_at_random,
        )
    except (ExperimentError, BlackboxError, SimulationError, SearchSpaceError, ValueError, OSError) as error:
        return fail(str(error))
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, workers.Terminated)
        what = "terminated (SIGTERM)" if terminated else "interrupted"
        print(f"{what}; completed runs are stored, run the same command again to resume", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        workers.restore_sigterm(previous)
    try:
        print(summary.format(), flush=True)
    except BrokenPipeError:  # e.g. piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 1
    return 0


if __name__ == "__main__":
    # run the imported module's ``main`` so that logger names and pickled worker functions refer to
    # ``experiments.run``, not ``__main__``
    from experiments.run import main as _main

    sys.exit(_main())

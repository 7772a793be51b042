"""Run a whole study from one spec: every benchmark × method × seed, on local processes or Ray, then its figures.

Command line (``python -m experiments.study --help``)::

    python -m experiments.study studies/basics.toml                       # local worker processes
    python -m experiments.study studies/basics.toml --backend ray --address auto

The spec (``experiments.study_spec``) expands into runs; runs already complete in the store are verified
(SHA-256 of both tables) and skipped; the rest execute on the backend (``experiments.backends``) and are
stored as they finish, locally or in an object store (``s3://``). A run that fails is listed with the command
that reruns it, and the others go on; rerunning the study computes only what is missing. At the end the study
prints a summary table and makes its figures with ``python -m plotting.figure`` on a plotting spec it writes
next to them (so the figures can be remade alone). Runs are the same as ``experiments.run``'s: the same
seeds, the same code, the same files (``experiments.run_task``).

A benchmark that cannot be had (e.g. its original file cannot be downloaded) is replaced by its ``fallback``
benchmarks when the spec names some; the summary and every figure say so.
"""

from __future__ import annotations

import argparse
import dataclasses
import fnmatch
import logging
import math
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from blackbox_repository import BlackboxBase, BlackboxError, BlackboxRepository
from experiments import store, store_format, workers
from experiments.backends import Outcome, close_backend, make_backend
from experiments.benchmarks import BenchmarkDefinition
from experiments.cli import Parser, UsageError, configure_logging, fail, underscored
from experiments.destinations import LocalDestination, RemoteDestination, open_destination
from experiments.errors import ExperimentError
from experiments.run_task import (
    RunContext,
    RunTask,
    benchmark_files,
    build_method,
    check_same_settings,
    environment,
    load_benchmark,
    run_settings,
    shared_settings,
)
from experiments.seeds import derive_seeds
from experiments.study_spec import BenchmarkEntry, StudySpec, StudySpecError, load_study
from experiments.study_toml import plotting_spec_text
from searchspace import SearchSpaceError
from simulator import SimulationError, StopCriteria

logger = logging.getLogger(__name__)


@dataclass
class StudyRun:
    """One run of the study: ``status`` is "run" (computed now), "skipped" (already complete) or "failed"."""

    benchmark: str
    method: str
    seed: int
    path: Path | str
    status: str
    metadata: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class StudySummary:
    spec: StudySpec
    runs: list[StudyRun]
    substitutes: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    figures_error: str | None = None
    seconds: float = 0.0
    command: tuple[str, ...] = ()

    @property
    def failed(self) -> list[StudyRun]:
        return [run for run in self.runs if run.status == "failed"]

    def count(self, status: str) -> int:
        return sum(run.status == status for run in self.runs)

    def format(self) -> str:
        """The summary printed at the end: substitutions, one row per benchmark and method, failures."""
        lines = [
            f"study {self.spec.tag}: {len(self.runs)} runs, {self.count('run')} run now, {self.count('skipped')} "
            f"already complete, {self.count('failed')} failed ({self.seconds:.1f} s)"
        ]
        for original, (names, reason) in self.substitutes.items():
            lines.append(f"{original} unavailable ({reason}); ran {', '.join(names)} instead")
        rows = [["benchmark", "method", "runs", "failed", "final best: median [25%, 75%]", "decision CPU s/run"]]
        groups: dict[tuple[str, str], list[StudyRun]] = {}
        for run in self.runs:
            groups.setdefault((run.benchmark, run.method), []).append(run)
        for (benchmark, method), runs in groups.items():
            stored = [run.metadata for run in runs if run.metadata is not None]
            best = np.array([_float(m.get("final_best")) for m in stored])
            best = best[~np.isnan(best)]
            quartiles = (
                "{1:.4g} [{0:.4g}, {2:.4g}]".format(*np.quantile(best, [0.25, 0.5, 0.75])) if best.size else "-"
            )
            cpu = [_float(store_format.decision_cpu_seconds(m)) for m in stored]
            rows.append(
                [
                    benchmark,
                    method,
                    str(len(stored)),
                    str(sum(run.status == "failed" for run in runs)),
                    quartiles,
                    f"{np.nanmean(cpu):.3g}" if cpu else "-",
                ]
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
                  for row in rows]
        if self.failed:
            lines.append(f"{len(self.failed)} failed run(s); rerun one with its command, or the whole study:")
            for run in self.failed:
                command = shlex.join([*self.command, "--only", f"{run.benchmark}/{run.method}/{run.seed}"])
                lines.append(f"  {run.benchmark} {run.method} seed {run.seed}: {run.error}\n    {command}")
        if self.figures_error:
            lines.append(f"figures not made: {self.figures_error}")
        elif self.figures:
            lines.append(f"figures: {len(self.figures)} files in {Path(self.figures[0]).parent}")
        return "\n".join(lines)


def run_study(
    spec: StudySpec | Path | str,
    *,
    backend: str | None = None,
    jobs: int | None = None,
    address: str | None = None,
    results: str | None = None,
    num_seeds: int | None = None,
    only: Sequence[str] = (),
    figures: bool = True,
    progress: bool | None = False,
    cache_dir: Path | str | None = None,
    command_line: Sequence[str] | None = None,
) -> StudySummary:
    """Run every missing run of the study and make its figures; keyword arguments override the spec."""
    started = time.perf_counter()
    if not isinstance(spec, StudySpec):
        spec = load_study(spec)
    overrides = {"results": results, "num_seeds": num_seeds, "backend": backend, "jobs": jobs}
    spec = dataclasses.replace(spec, **{key: value for key, value in overrides.items() if value is not None})
    if address is not None:
        spec = dataclasses.replace(spec, ray_address=address)
    command = tuple(command_line or ("python", "-m", "experiments.study", str(spec.path)))
    destination = open_destination(spec.results, spec.storage_options)
    repository = BlackboxRepository(cache_dir)
    contexts, substitutes = _contexts(spec, destination, repository, command)
    runs, items = _plan(spec, contexts, destination, only)
    _execute(spec, items, runs, progress)
    summary = StudySummary(spec, runs, substitutes, command=command)
    if figures and spec.plots and any(run.metadata is not None for run in runs):
        summary.figures, summary.figures_error = _make_figures(spec, list(contexts), substitutes)
    summary.seconds = time.perf_counter() - started
    return summary


def _contexts(
    spec: StudySpec,
    destination: LocalDestination | RemoteDestination,
    repository: BlackboxRepository,
    command: tuple[str, ...],
) -> tuple[dict[str, RunContext], dict[str, tuple[list[str], str]]]:
    """One run context per benchmark actually run (fallbacks in place of missing ones), methods checked."""
    contexts: dict[str, RunContext] = {}
    substitutes: dict[str, tuple[list[str], str]] = {}
    shared = {**environment(), "command_line": None}
    for entry in spec.benchmarks:
        for name, budget, loaded in _available(spec, entry, repository, substitutes):
            if name in contexts:
                continue
            definition, blackbox = loaded
            if budget.get("restrict_configurations"):  # loaded again, restricted to its tabulated configurations
                definition, blackbox = load_benchmark(name, repository, restrict_configurations=True)
            stop = _stop(name, definition.max_wallclock_time, budget)
            context = RunContext(
                benchmark=name,
                definition=definition,
                cache_dir=repository.cache_dir,
                n_workers=int(budget.get("n_workers", definition.n_workers)),
                stop=stop,
                decision_overhead=float(budget.get("decision_overhead", 0.0)),
                tag=spec.tag,
                master_random_seed=spec.master_random_seed,
                benchmark_files=benchmark_files(repository, definition.blackbox),
                arguments=store.to_json({"study": str(spec.path), "results_dir": spec.results, "budget": budget}),
                environment=shared,
                start_at_random=bool(budget.get("start_at_random", False)),
                destination=destination,
                method_choices=dict(spec.methods),
                rerun_command=command,
            )
            for label, choice in spec.methods.items():
                try:  # constructor errors surface before any run starts
                    build_method(choice.name, blackbox, definition, seed=0, start_at_random=context.start_at_random,
                                 n_workers=context.n_workers, options=choice.options)
                except (ExperimentError, ValueError, TypeError) as error:
                    raise StudySpecError(f"{spec.path}: [methods] {label} on {name}: {error}") from None
                method_dir = destination.method_dir(spec.tag, name, label)
                destination.claim_settings(method_dir, shared_settings(context, label))
            contexts[name] = context
    return contexts, substitutes


def _available(
    spec: StudySpec, entry: BenchmarkEntry, repository: BlackboxRepository, substitutes: dict
) -> list[tuple[str, dict[str, Any], tuple[BenchmarkDefinition, BlackboxBase]]]:
    """The benchmark of ``entry`` with its budget and as loaded, or those of its fallbacks that can be had (each with
    the study's defaults and its own keys) if it cannot."""
    try:
        loaded = load_benchmark(entry.name, repository)
    except (BlackboxError, ExperimentError, OSError) as error:
        reason = entry.note or _reason(error)
        if not entry.fallback:
            raise ExperimentError(f"{spec.path}: benchmark {entry.name} cannot be loaded: {reason}") from None
        available = []
        for fallback in entry.fallback:
            try:
                other_loaded = load_benchmark(fallback.name, repository)
            except (BlackboxError, ExperimentError, OSError) as other:
                logger.warning("fallback %s of %s cannot be loaded either: %s", fallback.name, entry.name,
                               _reason(other))
                continue
            available.append((fallback.name, spec.budget(fallback), other_loaded))
        if not available:
            raise ExperimentError(
                f"{spec.path}: benchmark {entry.name} cannot be loaded ({reason}) and none of its fallbacks "
                f"({', '.join(f.name for f in entry.fallback)}) can; run with -v to see why"
            ) from None
        logger.warning("%s unavailable (%s); running %s instead", entry.name, reason,
                       ", ".join(name for name, _, _ in available))
        substitutes[entry.name] = ([name for name, _, _ in available], reason)
        return available
    return [(entry.name, spec.budget(entry), loaded)]


def _reason(error: BaseException) -> str:
    """Why a benchmark cannot be had, in a few words for the summary and the figures."""
    if type(error).__name__ == "DownloadError":
        return "its original file could not be downloaded"
    message = " ".join(str(error).split())
    return re.sub(r"https?://\S+", "<url>", message.split(";")[0])[:160]


def _stop(name: str, default_budget: float | None, budget: dict[str, Any]) -> StopCriteria:
    stop = StopCriteria(
        max_wallclock_time=budget.get("max_wallclock_time", default_budget),
        max_results=budget.get("max_results"),
        max_trials=budget.get("max_trials"),
        target_metric_value=budget.get("target_metric_value"),
    )
    if all(value is None for value in dataclasses.astuple(stop)):
        raise ExperimentError(f"benchmark {name!r} has no default time budget; set max_wallclock_time in the study")
    return stop


def _plan(
    spec: StudySpec,
    contexts: dict[str, RunContext],
    destination: LocalDestination | RemoteDestination,
    only: Sequence[str],
) -> tuple[list[StudyRun], list[tuple[RunContext, RunTask, int]]]:
    """Every run of the study (complete ones verified and marked skipped) and the (context, task) pairs to run."""
    runs: list[StudyRun] = []
    items = []
    for name, context in contexts.items():
        for label in spec.methods:
            for seed in spec.seeds:
                if only and not any(fnmatch.fnmatchcase(f"{name}/{label}/{seed}", pattern) for pattern in only):
                    continue
                task = RunTask(label, seed, derive_seeds(spec.master_random_seed, seed),
                               destination.run_path(spec.tag, name, label, seed))
                try:
                    metadata = destination.complete_metadata(task.path, verify=True)
                except store_format.CorruptRunError as error:
                    logger.warning("%s; computing it again", str(error).split(": delete")[0])
                    destination.discard(task.path)
                    metadata = None
                if metadata is not None:
                    check_same_settings(task, metadata, run_settings(context, task))
                    runs.append(StudyRun(name, label, seed, task.path, "skipped", metadata))
                else:
                    runs.append(StudyRun(name, label, seed, task.path, "pending"))
                    items.append((context, task, len(runs) - 1))
    if only and not runs:
        raise ExperimentError(f"--only {' '.join(only)} matches no run of the study (pattern: BENCHMARK/METHOD/SEED)")
    logger.info("%d runs: %d complete, %d to run", len(runs), len(runs) - len(items), len(items))
    return runs, items


def _execute(spec: StudySpec, items: list, runs: list[StudyRun], progress: bool | None) -> None:
    if not items:
        return
    backend = make_backend(spec.backend, jobs=spec.jobs, address=spec.ray_address)
    bar = workers.progress_bar(len(items), progress)
    try:
        outcome: Outcome
        for outcome in backend.run([(context, task) for context, task, _ in items]):
            run = runs[items[outcome.index][2]]
            if outcome.metadata is None:
                run.status, run.error = "failed", outcome.error
                logger.error("%s %s seed %d failed: %s\n%s", run.benchmark, run.method, run.seed, outcome.error,
                             outcome.details)
            else:
                run.status, run.metadata = ("skipped" if outcome.skipped else "run"), outcome.metadata
            bar.update()
    finally:
        bar.close()
        close_backend(backend)
        destination = items[0][0].destination
        if destination is not None:
            destination.sync([task.path for _, task, _ in items])


def _make_figures(
    spec: StudySpec, benchmarks: list[str], substitutes: dict[str, tuple[list[str], str]]
) -> tuple[list[str], str | None]:
    """For each figure set of the study, write its plotting spec next to the figures and run
    ``python -m plotting.figure`` on it (a separate process: ``experiments`` does not import ``plotting``)."""
    paths: list[str] = []
    for i, plot in enumerate(spec.plots):
        text, output_dir = plotting_spec_text(spec, plot, benchmarks, substitutes)
        output_dir.mkdir(parents=True, exist_ok=True)
        prefix = plot.get("output", {}).get("prefix", "")
        spec_path = output_dir / f"{prefix or ('' if len(spec.plots) == 1 else f'set{i + 1}-')}plotting-spec.toml"
        spec_path.write_text(text)
        completed = subprocess.run(
            [sys.executable, "-m", "plotting.figure", str(spec_path)], capture_output=True, text=True, check=False
        )
        if completed.returncode != 0:
            return paths, (completed.stderr.strip().splitlines() or ["plotting failed"])[-1]
        paths += completed.stdout.split()
    return paths, None


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


# Command line ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m experiments.study",
        allow_abbrev=False,
        description="Run every benchmark × method × seed of a study spec (TOML; format in experiments/study_spec.py,"
        " examples in studies/) that is not complete yet, then make its figures. The flags override the spec; "
        "multi-word flags also accept dashes (--num-seeds).",
    )
    parser.add_argument("spec", type=Path, help="the study spec")
    parser.add_argument("--backend", choices=("local", "ray"), help="local processes (default) or Ray")
    parser.add_argument("--address", help="Ray cluster address (auto, ray://host:port); default: a local Ray")
    parser.add_argument("--jobs", type=int, help="local worker processes (default: the spec's, else all CPUs)")
    parser.add_argument("--results", help="results directory or s3://bucket/prefix (default: the spec's)")
    parser.add_argument("--num_seeds", type=int, help="seeds per method")
    parser.add_argument("--only", nargs="+", default=(), metavar="PATTERN",
                        help="only the runs matching BENCHMARK/METHOD/SEED (shell wildcards, e.g. '*/ASHA/*')")
    parser.add_argument("--no_figures", dest="figures", action="store_false", help="skip figures")
    parser.add_argument("--dry_run", action="store_true",
                        help="print how many runs are complete and to run, then exit")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: 0 if every run is stored, 1 if some failed, 2 for a bad spec or flag (one line)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(underscored(argv))
    except UsageError as error:
        return fail(f"{error} (see --help)")
    configure_logging(args.verbose)
    for name, value in (("--jobs", args.jobs), ("--num_seeds", args.num_seeds)):
        if value is not None and value < 1:
            return fail(f"{name} must be an integer >= 1, got {value}")
    previous = workers.handle_sigterm()
    try:
        if args.dry_run:
            print(dry_run(args.spec, results=args.results, num_seeds=args.num_seeds, only=args.only))
            return 0
        summary = run_study(
            args.spec,
            backend=args.backend,
            jobs=args.jobs,
            address=args.address,
            results=args.results,
            num_seeds=args.num_seeds,
            only=args.only,
            figures=args.figures,
            progress=None,
            command_line=["python", "-m", "experiments.study", *_without_only(argv)],
        )
    except (ExperimentError, BlackboxError, SimulationError, SearchSpaceError, ValueError, OSError) as error:
        return fail(str(error))
    except KeyboardInterrupt as interrupt:
        what = "terminated (SIGTERM)" if isinstance(interrupt, workers.Terminated) else "interrupted"
        print(f"{what}; completed runs are stored, run the same command again to resume", file=sys.stderr)
        return 143 if isinstance(interrupt, workers.Terminated) else 130
    finally:
        workers.restore_sigterm(previous)
    print(summary.format(), flush=True)
    return 1 if summary.failed else 0


def dry_run(spec_path: Path, *, results: str | None, num_seeds: int | None, only: Sequence[str]) -> str:
    """How many runs of the study are complete (verified) and how many would run."""
    spec = load_study(spec_path)
    spec = dataclasses.replace(spec, **{k: v for k, v in (("results", results), ("num_seeds", num_seeds)) if v})
    destination = open_destination(spec.results, spec.storage_options)
    contexts, substitutes = _contexts(spec, destination, BlackboxRepository(), ())
    runs, items = _plan(spec, contexts, destination, only)
    lines = [f"{len(runs)} runs: {len(runs) - len(items)} complete, {len(items)} to run"]
    lines += [f"{name} unavailable ({reason}); would run {', '.join(n)}" for name, (n, reason) in substitutes.items()]
    return "\n".join(lines)


def _without_only(argv: Sequence[str]) -> list[str]:
    """``argv`` without ``--only`` and its patterns (the failure commands add their own)."""
    out, skipping = [], False
    for arg in argv:
        if arg == "--only":
            skipping = True
            continue
        if skipping and not arg.startswith("-"):
            continue
        skipping = False
        out.append(arg)
    return out



if __name__ == "__main__":
    from experiments.study import main as _main

    sys.exit(_main())

"""Read stored experiment results into best-so-far curves on a common time grid.

``load`` reads one or several experiment tags from one or several results directories (local paths or
``s3://bucket/prefix``; the layout is ``experiments.store_format``'s) and returns ``Curves``:

- per run only the columns ``time`` and ``best_so_far`` of ``results.parquet`` are read (in parallel
  threads), and only the points where the best-so-far changes are kept: the step function is exact and small;
- per benchmark a time grid runs from the first result of any run to the budget, the largest
  ``simulated_time_seconds`` of the benchmark's runs (``points`` points, log- or linearly spaced);
- the value of a run at grid time ``t`` is the best-so-far of its last result with ``time <= t``; NaN before
  its first result. After a run ends its best is carried forward to the budget (a best-so-far cannot change
  once the run has stopped); runs that ended before the budget are listed in the report with their
  ``stop_reason``;
- the optimisation mode (min/max) and the metric come from each run's ``metadata.json``;
- ``indicator`` (``plotting.indicators``) replaces the best-so-far by another step function per run: the
  hypervolume of the run's results so far (mode max; objectives from the metadata, one reference point per
  benchmark, ``Curves.indicator.references``) or the best feasible value of a constrained run; it can also keep
  each run's non-dominated set (``Curves.indicator.fronts``) and fraction of infeasible trials.

Nothing is dropped silently: ``Curves.report`` (a ``LoadReport``) lists missing seeds (a seed that another
method of the benchmark has, or one below ``num_seeds``), partial runs (a run directory without a complete
``metadata.json``: interrupted or still running), methods missing on some benchmarks and runs that ended
early, with the ``python -m experiments.run`` commands that would fill the gaps. The report is logged as
warnings.

The parts: ``plotting.sources`` (listing and reading runs, local or remote), ``plotting.curves`` (``Steps``,
``Curves``, ``time_grid``), ``plotting.report`` (``LoadReport``), ``plotting.commands`` (``run_command``);
this module joins them and re-exports their public names.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments import store_format
from plotting.colors import method_order
from plotting.commands import gap_commands, nothing_found_message, run_command
from plotting.curves import SPACINGS, Curves, Steps, time_grid
from plotting.errors import LoadError
from plotting.indicators import IndicatorData, IndicatorOptions, apply_indicator, indicator_metric
from plotting.report import EarlyEnd, LoadReport, PartialRun
from plotting.sources import S3_INSTALL_HINT, LoadedRun, LocalSource, RemoteSource, RunCandidate, open_source, read_all

__all__ = [
    "FULL_BUDGET_REASON",
    "LABELS",
    "S3_INSTALL_HINT",
    "SPACINGS",
    "Curves",
    "EarlyEnd",
    "IndicatorOptions",
    "LoadError",
    "LoadReport",
    "PartialRun",
    "Steps",
    "load",
    "run_command",
    "time_grid",
]

logger = logging.getLogger(__name__)

LABELS = ("method", "tag/method")
#: the stop reason of a run that used its whole time budget
FULL_BUDGET_REASON = "max_wallclock_time"

#: (benchmark, label, seed) of one loaded run
RunKey = tuple[str, str, int]


def load(
    results_dirs: str | Path | Sequence[str | Path],
    tags: str | Sequence[str] | None = None,
    *,
    benchmarks: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    points: int = 200,
    spacing: str = "log",
    label: str = "method",
    num_seeds: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    threads: int | None = None,
    progress: bool | None = None,
    log: bool = True,
    indicator: IndicatorOptions | None = None,
) -> Curves:
    """Load complete runs of ``tags`` (None: every tag) from ``results_dirs`` into ``Curves``.

    Args:
        results_dirs: one or several results directories (local paths or ``s3://bucket/prefix``).
        tags: experiment tags to read (None: all tags found).
        benchmarks, methods: keep only these (None: all found); their order is the order of figures and
            tables. A requested benchmark or method without runs is reported (or, if nothing is left, an error).
        points, spacing: time grid per benchmark (``"log"`` or ``"linear"``).
        label: ``"method"`` (methods of several tags are merged; the same run twice is an error) or
            ``"tag/method"`` (methods of different tags are kept apart).
        num_seeds: expected seeds 0..num_seeds-1 per (benchmark, method); any absent one is reported.
        storage_options: passed to fsspec for remote URLs (e.g. ``{"anon": True}``).
        threads: reader threads (default: 2 for local directories, 16 for remote ones).
        progress: show a progress bar (None: only on a terminal).
        log: log the report (``LoadReport.log``) before returning.
        indicator: the step function of each run (None: the best-so-far, read from ``best_so_far``), see
            ``plotting.indicators``.

    Raises ``LoadError`` (one line) if nothing can be loaded, a run is found twice or modes disagree.
    """
    if spacing not in SPACINGS:
        raise LoadError(f"time grid spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    if label not in LABELS:
        raise LoadError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    dirs = [results_dirs] if isinstance(results_dirs, str | Path) else list(results_dirs)
    if not dirs:
        raise LoadError("no results directory given")
    tag_list = [tags] if isinstance(tags, str) else (None if tags is None else list(tags))
    found = _find_runs([open_source(d, storage_options) for d in dirs], tag_list, benchmarks, methods, label)
    report = LoadReport(sources=found.described)
    complete = _complete_runs(read_all(found.candidates, threads, progress, indicator), label, report)
    if not complete:
        raise LoadError(nothing_found_message(found.described, found.absent, benchmarks, methods, num_seeds, report))
    runs = _index_runs(complete, label)
    indicator_data = _apply_indicator(runs, indicator)
    found_benchmarks = sorted({key[0] for key in runs.by_key})
    bench_order = [b for b in benchmarks if b in found_benchmarks] if benchmarks is not None else found_benchmarks
    method_list = _method_list(methods, {key[1] for key in runs.by_key}, label)
    report.missing_benchmarks = [b for b in (benchmarks or []) if b not in found_benchmarks]
    steps = _step_functions(runs.by_key, report)
    grids = {
        b: time_grid(steps.starts.get(b, steps.budgets[b]), steps.budgets[b], points, spacing) for b in bench_order
    }
    seeds, values = _matrices(bench_order, method_list, runs.by_key, steps, grids, num_seeds, report)
    _settle_report(report, method_list)
    first_runs = _first_runs(runs.by_key)
    report.commands = gap_commands(report, first_runs, seeds, method_list, found.described, num_seeds, label)
    curves = Curves(
        benchmarks=bench_order,
        methods=method_list,
        modes={b: runs.modes[b] for b in bench_order},
        metrics={b: runs.metrics[b] for b in bench_order},
        budgets={b: steps.budgets[b] for b in bench_order},
        grids=grids,
        seeds=seeds,
        values=values,
        steps={key: value for key, value in steps.steps.items() if key[0] in grids},
        runs=_runs_frame(steps.rows, bench_order),
        report=report,
        spacing=spacing,
        indicator=indicator_data,
    )
    if log:
        report.log()
    return curves


# Finding and reading runs ------------------------------------------------------------------------
@dataclass
class _Found:
    """Run directories to read, the ``<dir>/<tag>`` places searched, and results directories that do not exist."""

    candidates: list[tuple[LocalSource | RemoteSource, RunCandidate]] = field(default_factory=list)
    described: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)


def _find_runs(
    sources: Sequence[LocalSource | RemoteSource],
    tag_list: list[str] | None,
    benchmarks: Sequence[str] | None,
    methods: Sequence[str] | None,
    label: str,
) -> _Found:
    """The run directories of the tags (all tags if None) in every source, of the wanted benchmarks and methods."""
    wanted_benchmarks = None if benchmarks is None else set(benchmarks)
    wanted_methods = None if methods is None else set(methods)
    found = _Found()
    for source in sources:
        if not source.exists():
            logger.info("results directory %s does not exist", source.url)
            found.absent.append(source.url)
            found.described += [f"{source.url}/{tag}" for tag in tag_list or []]
            continue
        for tag in tag_list if tag_list is not None else source.tags():
            store_format.check_name("experiment tag", tag)
            found.described.append(f"{source.url}/{tag}")
            for candidate in source.list(tag):
                if wanted_benchmarks is not None and candidate.benchmark not in wanted_benchmarks:
                    continue
                name = _label(candidate, label)
                if wanted_methods is not None and candidate.method not in wanted_methods and name not in wanted_methods:
                    continue
                found.candidates.append((source, candidate))
    return found


def _complete_runs(loaded: Iterable[LoadedRun], label: str, report: LoadReport) -> list[LoadedRun]:
    """The runs read with complete metadata; the others go to ``report.partial``. Sets ``report.num_runs``."""
    complete: list[LoadedRun] = []
    for item in loaded:
        c = item.candidate
        if item.metadata is None:
            report.partial.append(PartialRun(c.tag, c.benchmark, _label(c, label), c.seed, c.path, item.reason))
        else:
            complete.append(item)
    report.num_runs = len(complete)
    return complete


@dataclass
class _Indexed:
    """Complete runs by (benchmark, label, seed), and the metric and mode of each benchmark."""

    by_key: dict[RunKey, LoadedRun] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)


def _index_runs(complete: Iterable[LoadedRun], label: str) -> _Indexed:
    """One run per (benchmark, label, seed); ``LoadError`` for a duplicate or disagreeing metric or mode."""
    index = _Indexed()
    modes, metrics = index.modes, index.metrics
    for item in complete:
        c, meta = item.candidate, item.metadata or {}
        key = (c.benchmark, _label(c, label), c.seed)
        if key in index.by_key:
            other = index.by_key[key].candidate.path
            raise LoadError(
                f"{key[1]} seed {c.seed} on {c.benchmark} is stored twice ({other} and {c.path}); load one tag "
                'or set label = "tag/method"'
            )
        index.by_key[key] = item
        mode, metric = meta.get("mode"), meta.get("metric")
        if mode not in ("min", "max"):
            raise LoadError(f"{c.path}/{store_format.METADATA_FILE} has no valid mode (got {mode!r})")
        if modes.setdefault(c.benchmark, mode) != mode or metrics.setdefault(c.benchmark, metric) != metric:
            raise LoadError(
                f"runs of benchmark {c.benchmark} disagree on the metric or mode ({metrics[c.benchmark]} "
                f"{modes[c.benchmark]} vs {metric} {mode} in {c.path}); load one tag at a time"
            )
    return index


def _apply_indicator(runs: _Indexed, indicator: IndicatorOptions | None) -> IndicatorData:
    """The indicator's step function of every run (unless it is the best-so-far) and what it keeps; the metric
    and mode of each benchmark become the indicator's."""
    if indicator is None or not indicator.reads_columns:
        return IndicatorData()
    inputs = {key: (item.metadata or {}, item.candidate.path, item.columns) for key, item in runs.by_key.items()}
    steps, data = apply_indicator(inputs, indicator)  # type: ignore[arg-type]
    for key, item in runs.by_key.items():
        item.columns = None  # only the step functions are kept
        if key in steps:
            item.times, item.best = steps[key]
    if indicator.name != "best":
        for benchmark in runs.metrics:
            runs.metrics[benchmark] = indicator_metric(indicator.name, runs.metrics[benchmark])
            if indicator.name == "hypervolume":
                runs.modes[benchmark] = "max"
    return data


def _label(candidate: RunCandidate, label: str) -> str:
    return f"{candidate.tag}/{candidate.method}" if label == "tag/method" else candidate.method


def _method_list(methods: Sequence[str] | None, found: set[str], label: str) -> list[str]:
    """The methods in figure order: as requested, or (None) every one found in ``method_order``.

    With ``tag/method`` labels a requested bare method name stands for all its tags.
    """
    if methods is None:
        return method_order(found)
    out: list[str] = []
    for method in methods:
        if label == "tag/method" and "/" not in method:
            matches = method_order(name for name in found if name.rpartition("/")[2] == method)
            out.extend(matches or [method])
        else:
            out.append(method)
    return list(dict.fromkeys(out))


# Step functions, grids and matrices --------------------------------------------------------------
@dataclass
class _StepFunctions:
    """Per run its step function and listing row; per benchmark its budget and first result time."""

    budgets: dict[str, float] = field(default_factory=dict)
    starts: dict[str, float] = field(default_factory=dict)
    steps: dict[RunKey, Steps] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)


def _step_functions(by_key: dict[RunKey, LoadedRun], report: LoadReport) -> _StepFunctions:
    """Step functions of the runs; a benchmark's budget is its longest simulated clock (or last result time)."""
    out = _StepFunctions()
    budgets, starts = out.budgets, out.starts
    for (benchmark, name, seed), item in by_key.items():
        meta = item.metadata or {}
        end = _float(meta.get("simulated_time_seconds"))
        first_time = item.first_time
        budgets[benchmark] = max(budgets.get(benchmark, 0.0), end if math.isfinite(end) else 0.0)
        if item.times is not None and len(item.times):
            budgets[benchmark] = max(budgets[benchmark], float(item.times[-1]))
        if math.isfinite(first_time):
            starts[benchmark] = min(starts.get(benchmark, math.inf), first_time)
        out.steps[benchmark, name, seed] = Steps(item.times, item.best, end)  # type: ignore[arg-type]
        row = {column: meta.get(column) for column in store_format.LISTING_COLUMNS}
        row.update(
            tag=item.candidate.tag,
            benchmark=benchmark,
            method=item.candidate.method,
            seed=seed,
            path=item.candidate.path,
            label=name,
            first_time=first_time,
            num_improvements=len(item.times) if item.times is not None else 0,
            clock=meta.get("clock", "simulated"),
        )
        out.rows.append(row)
        if first_time != first_time:  # NaN: no results at all
            report.empty_runs.append((benchmark, name, seed))
    return out


def _matrices(
    bench_order: Sequence[str],
    method_list: Sequence[str],
    by_key: dict[RunKey, LoadedRun],
    steps: _StepFunctions,
    grids: dict[str, np.ndarray],
    num_seeds: int | None,
    report: LoadReport,
) -> tuple[dict[str, np.ndarray], dict[tuple[str, str], np.ndarray]]:
    """Per benchmark its seeds (union over methods and ``range(num_seeds)``), per (benchmark, method) the matrix
    seeds × grid; records missing methods and seeds, early ends and single seeds in ``report``."""
    seeds: dict[str, np.ndarray] = {}
    values: dict[tuple[str, str], np.ndarray] = {}
    for benchmark in bench_order:
        on_benchmark = {(name, seed) for (b, name, seed) in by_key if b == benchmark}
        union = {seed for _, seed in on_benchmark} | set(range(num_seeds or 0))
        seeds[benchmark] = np.array(sorted(union), dtype=np.int64)
        present_methods = [m for m in method_list if any(name == m for name, _ in on_benchmark)]
        lacking = [m for m in method_list if m not in present_methods]
        if lacking:
            report.missing_methods[benchmark] = lacking
        for method in present_methods:
            values[benchmark, method] = _matrix(
                benchmark, method, seeds[benchmark], grids[benchmark], by_key, steps, report
            )
    return seeds, values


def _matrix(
    benchmark: str,
    method: str,
    seeds: np.ndarray,
    grid: np.ndarray,
    by_key: dict[RunKey, LoadedRun],
    steps: _StepFunctions,
    report: LoadReport,
) -> np.ndarray:
    """Seeds × grid best-so-far of ``method`` on ``benchmark`` (NaN rows: missing seeds, reported)."""
    matrix = np.full((len(seeds), len(grid)), np.nan)
    count = 0
    budget = steps.budgets[benchmark]
    for i, seed in enumerate(seeds):
        run = steps.steps.get((benchmark, method, int(seed)))
        if run is None:
            report.missing.append((benchmark, method, int(seed)))
            continue
        matrix[i] = run.at(grid)
        count += 1
        reason = str((by_key[benchmark, method, int(seed)].metadata or {}).get("stop_reason"))
        if run.end < budget * (1 - 1e-9) or reason != FULL_BUDGET_REASON:
            report.ended_early.append(EarlyEnd(benchmark, method, int(seed), reason, run.end, budget))
    if count == 1:
        report.single_seed.append((benchmark, method))
    return matrix


def _settle_report(report: LoadReport, method_list: Sequence[str]) -> None:
    """Every method counts as missing on a missing benchmark; a partial run is not also a missing seed."""
    report.missing_methods.update({b: list(method_list) for b in report.missing_benchmarks})
    partial_keys = {(run.benchmark, run.method, run.seed) for run in report.partial}
    report.missing = [key for key in report.missing if key not in partial_keys]


def _first_runs(by_key: dict[RunKey, LoadedRun]) -> dict[str, LoadedRun]:
    """Per benchmark the run of the smallest (label, seed): its settings are repeated by the gap commands."""
    first_runs: dict[str, LoadedRun] = {}
    for (benchmark, _, _), item in sorted(by_key.items()):
        first_runs.setdefault(benchmark, item)
    return first_runs


def _runs_frame(rows: list[dict[str, Any]], bench_order: Sequence[str]) -> pd.DataFrame:
    """One row per loaded run of the benchmarks in ``bench_order``, sorted by benchmark, label and seed."""
    runs = pd.DataFrame(rows)
    runs["final_best"] = runs["final_best"].astype(float)
    runs = runs.sort_values(["benchmark", "label", "seed"], ignore_index=True)
    return runs[runs["benchmark"].isin(bench_order)].reset_index(drop=True)


def _float(value: Any) -> float:
    try:
        return math.nan if value is None else float(value)
    except (TypeError, ValueError):
        return math.nan

"""Read stored experiment results into best-so-far curves on a common time grid.

``load`` reads one or several experiment tags from one or several results directories (local paths or
``s3://bucket/prefix``; the layout is ``experiments.store``'s) and returns ``Curves``:

- per run only the columns ``time`` and ``best_so_far`` of ``results.parquet`` are read (in parallel
  threads), and only the points where the best-so-far changes are kept: the step function is exact and small;
- per benchmark a time grid runs from the first result of any run to the budget, the largest
  ``simulated_time_seconds`` of the benchmark's runs (``points`` points, log- or linearly spaced);
- the value of a run at grid time ``t`` is the best-so-far of its last result with ``time <= t``; NaN before
  its first result. After a run ends its best is carried forward to the budget (a best-so-far cannot change
  once the run has stopped); runs that ended before the budget are listed in the report with their
  ``stop_reason``;
- the optimisation mode (min/max) and the metric come from each run's ``metadata.json``.

Nothing is dropped silently: ``Curves.report`` (a ``LoadReport``) lists missing seeds (a seed that another
method of the benchmark has, or one below ``num_seeds``), partial runs (a run directory without a complete
``metadata.json``: interrupted or still running), methods missing on some benchmarks and runs that ended
early, with the ``python -m experiments.run`` commands that would fill the gaps. The report is logged as
warnings.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shlex
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from experiments import store

logger = logging.getLogger(__name__)

SPACINGS = ("log", "linear")
LABELS = ("method", "tag/method")
S3_INSTALL_HINT = "pip install 'hpo-workbench[s3]'"
#: the stop reason of a run that used its whole time budget
FULL_BUDGET_REASON = "max_wallclock_time"
_SEED_DIR = re.compile(re.escape(store.SEED_PREFIX) + r"(\d+)")
_COLUMNS = ("time", "best_so_far")


class LoadError(ValueError):
    """Stored results cannot be read as asked (one line, meant for the user)."""


# Report ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PartialRun:
    """A run directory without a complete ``metadata.json`` (interrupted, still running or damaged)."""

    tag: str
    benchmark: str
    method: str
    seed: int
    path: str
    reason: str


@dataclass(frozen=True)
class EarlyEnd:
    """A run whose simulated clock stopped before the benchmark's budget (its best is carried forward)."""

    benchmark: str
    method: str
    seed: int
    stop_reason: str
    end: float
    budget: float


@dataclass
class LoadReport:
    """What ``load`` found missing or unusual. ``missing`` holds (benchmark, method, seed) not loaded."""

    sources: list[str] = field(default_factory=list)
    num_runs: int = 0
    missing: list[tuple[str, str, int]] = field(default_factory=list)
    partial: list[PartialRun] = field(default_factory=list)
    missing_methods: dict[str, list[str]] = field(default_factory=dict)
    missing_benchmarks: list[str] = field(default_factory=list)
    ended_early: list[EarlyEnd] = field(default_factory=list)
    empty_runs: list[tuple[str, str, int]] = field(default_factory=list)
    single_seed: list[tuple[str, str]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True if no run, seed, method or benchmark is missing or partial."""
        return not (self.missing or self.partial or self.missing_methods or self.missing_benchmarks)

    def lines(self) -> list[str]:
        """One line per finding (seeds compressed into ranges), then the commands that fill the gaps."""
        lines = []
        for benchmark in self.missing_benchmarks:
            lines.append(f"benchmark {benchmark}: no complete runs found")
        for benchmark, methods in self.missing_methods.items():
            lines.append(f"benchmark {benchmark}: no runs of {', '.join(methods)}")
        missing: dict[tuple[str, str], list[int]] = defaultdict(list)
        for benchmark, method, seed in self.missing:
            missing[benchmark, method].append(seed)
        partial: dict[tuple[str, str], list[int]] = defaultdict(list)
        for run in self.partial:
            partial[run.benchmark, run.method].append(run.seed)
        for (benchmark, method), seeds in missing.items():
            lines.append(f"{method} on {benchmark}: missing {_seeds_text(seeds)}")
        for (benchmark, method), seeds in partial.items():
            lines.append(
                f"{method} on {benchmark}: partial run(s) without complete metadata.json: {_seeds_text(seeds)}"
            )
        early: dict[tuple[str, str, str], list[EarlyEnd]] = defaultdict(list)
        for run in self.ended_early:
            early[run.benchmark, run.method, run.stop_reason].append(run)
        for (benchmark, method, reason), runs in early.items():
            first = min(runs, key=lambda run: run.end)
            lines.append(
                f"{method} on {benchmark}: {len(runs)} run(s) ended before the budget ({reason}; "
                f"{_seeds_text([run.seed for run in runs])}; earliest at {first.end:.4g} of {first.budget:.4g} "
                "simulated s); their best is carried forward to the budget"
            )
        for benchmark, method, seed in self.empty_runs:
            lines.append(f"{method} on {benchmark}: seed {seed} has no results (NaN throughout)")
        for benchmark, method in self.single_seed:
            lines.append(f"{method} on {benchmark}: single run: no interval")
        if self.commands:
            lines.append("to complete the results, run (complete runs are skipped):")
            lines.extend(f"  {command}" for command in self.commands)
        return lines

    def format(self) -> str:
        """The report as text: a summary line, then ``lines()``."""
        head = f"loaded {self.num_runs} run(s) from {', '.join(self.sources) or 'nothing'}"
        return "\n".join([head, *self.lines()])

    def log(self) -> None:
        """Log every finding as a warning (single-seed notes and early ends as info)."""
        for line in self.lines():
            quiet = line.endswith("single run: no interval") or "carried forward" in line
            logger.log(logging.INFO if quiet else logging.WARNING, "%s", line)


def _seeds_text(seeds: Iterable[int]) -> str:
    """``seeds 0-3, 7`` for [0, 1, 2, 3, 7]."""
    values = sorted(set(seeds))
    parts = []
    start = prev = None
    for seed in [*values, None]:
        if seed is not None and prev is not None and seed == prev + 1:
            prev = seed
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = seed
    return ("seed " if len(values) == 1 else "seeds ") + ", ".join(parts)


# Loaded curves -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Steps:
    """The best-so-far step function of one run: the value changes to ``values[i]`` at ``times[i]``."""

    times: np.ndarray
    values: np.ndarray
    end: float

    def at(self, times: np.ndarray) -> np.ndarray:
        """Best-so-far at ``times`` (NaN before the first result; carried forward after the end)."""
        index = np.searchsorted(self.times, times, side="right") - 1
        out = np.full(len(times), np.nan)
        seen = index >= 0
        out[seen] = self.values[index[seen]]
        return out


@dataclass
class Curves:
    """Best-so-far curves of the loaded runs on a per-benchmark time grid.

    ``values[benchmark, method]`` has one row per seed of ``seeds[benchmark]`` (the union over the methods
    of that benchmark, so rows of different methods are aligned by seed; NaN rows are missing seeds) and one
    column per point of ``grids[benchmark]``. ``runs`` has one row per loaded run (``store.LISTING_COLUMNS``
    plus ``label``, ``first_time`` and ``num_improvements``).
    """

    benchmarks: list[str]
    methods: list[str]
    modes: dict[str, str]
    metrics: dict[str, str]
    budgets: dict[str, float]
    grids: dict[str, np.ndarray]
    seeds: dict[str, np.ndarray]
    values: dict[tuple[str, str], np.ndarray]
    steps: dict[tuple[str, str, int], Steps]
    runs: pd.DataFrame
    report: LoadReport
    spacing: str = "log"

    def methods_on(self, benchmark: str) -> list[str]:
        """Methods with at least one run on ``benchmark`` (in ``methods`` order)."""
        return [method for method in self.methods if (benchmark, method) in self.values]

    def common_benchmarks(self, methods: Sequence[str] | None = None) -> list[str]:
        """Benchmarks on which every one of ``methods`` (default: all) has runs."""
        methods = list(self.methods if methods is None else methods)
        return [b for b in self.benchmarks if all((b, m) in self.values for m in methods)]

    def frame(self) -> pd.DataFrame:
        """Tidy frame: tag, benchmark, method, seed, time, value (rows of loaded runs only)."""
        tags = {(row.benchmark, row.label, row.seed): row.tag for row in self.runs.itertuples()}
        parts = []
        for (benchmark, method), matrix in self.values.items():
            seeds = self.seeds[benchmark]
            present = [i for i, seed in enumerate(seeds) if (benchmark, method, int(seed)) in self.steps]
            grid = self.grids[benchmark]
            parts.append(
                pd.DataFrame(
                    {
                        "tag": np.repeat([tags[benchmark, method, int(seeds[i])] for i in present], len(grid)),
                        "benchmark": benchmark,
                        "method": method,
                        "seed": np.repeat(seeds[present], len(grid)),
                        "time": np.tile(grid, len(present)),
                        "value": matrix[present].ravel(),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(columns=["tag", "benchmark", "method", "seed", "time", "value"])
        frame = pd.concat(parts, ignore_index=True)
        for column in ("tag", "benchmark", "method"):
            frame[column] = frame[column].astype("category")
        return frame

    def evaluate(self, benchmark: str, method: str, times: np.ndarray) -> np.ndarray:
        """Matrix seeds × ``times`` of ``method`` on ``benchmark`` (rows: ``seeds[benchmark]``, NaN if missing)."""
        times = np.asarray(times, dtype=float)
        seeds = self.seeds[benchmark]
        out = np.full((len(seeds), len(times)), np.nan)
        for i, seed in enumerate(seeds):
            steps = self.steps.get((benchmark, method, int(seed)))
            if steps is not None:
                out[i] = steps.at(times)
        return out

    def fraction_grid(self, points: int | None = None) -> np.ndarray:
        """A grid of fractions of the budget shared by all benchmarks (same spacing and points as the grids)."""
        points = points or max(len(grid) for grid in self.grids.values())
        first = min(grid[0] / self.budgets[b] for b, grid in self.grids.items())
        first = min(max(first, 1e-9), 1.0)
        return time_grid(first, 1.0, points, self.spacing)

    def fraction_frame(self, points: int | None = None) -> pd.DataFrame:
        """Tidy frame benchmark, method, seed, time, value with ``time`` = fraction of each benchmark's budget."""
        fractions = self.fraction_grid(points)
        parts = []
        for benchmark in self.benchmarks:
            seeds = self.seeds[benchmark]
            for method in self.methods_on(benchmark):
                present = np.array([(benchmark, method, int(seed)) in self.steps for seed in seeds])
                matrix = self.evaluate(benchmark, method, fractions * self.budgets[benchmark])[present]
                parts.append(
                    pd.DataFrame(
                        {
                            "benchmark": benchmark,
                            "method": method,
                            "seed": np.repeat(seeds[present], len(fractions)),
                            "time": np.tile(fractions, int(present.sum())),
                            "value": matrix.ravel(),
                        }
                    )
                )
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(_TIDY))

    def final(self) -> pd.DataFrame:
        """Best-so-far at the budget: benchmark, method, seed, value (one row per loaded run)."""
        rows = [
            (benchmark, method, seed, float(steps.values[-1]) if len(steps.values) else math.nan)
            for (benchmark, method, seed), steps in self.steps.items()
        ]
        frame = pd.DataFrame(rows, columns=["benchmark", "method", "seed", "value"])
        order = {m: i for i, m in enumerate(self.methods)}
        border = {b: i for i, b in enumerate(self.benchmarks)}
        key = frame["benchmark"].map(border) * (len(order) + 1) + frame["method"].map(order)
        return frame.assign(_key=key).sort_values(["_key", "seed"]).drop(columns="_key").reset_index(drop=True)

    def final_normalized(self) -> pd.DataFrame:
        """``final()`` plus ``normalized``: regret at the budget, 0 = best final value on that benchmark (any
        method, any seed), 1 = worst final value (``plotting.normalize.normalize_frame``)."""
        from plotting.normalize import normalize_frame

        final = self.final()
        if final.empty:
            return final.assign(normalized=np.empty(0))
        return normalize_frame(final, self.modes)

    def scores(
        self,
        methods: Sequence[str] | None = None,
        benchmarks: Sequence[str] | None = None,
        *,
        column: str = "normalized",
        final: pd.DataFrame | None = None,
    ) -> dict[str, list[np.ndarray]]:
        """Per method, per benchmark the final ``column`` over ``seeds[benchmark]`` (aligned by seed; NaN = missing
        seed), as ``plotting.stats``/``plotting.paired`` take them. Default: all methods, the benchmarks on which
        all of them have runs, normalized regret."""
        methods = list(self.methods if methods is None else methods)
        benchmarks = list(self.common_benchmarks(methods) if benchmarks is None else benchmarks)
        if final is None:
            final = self.final_normalized() if column == "normalized" else self.final()
        lookup = dict(zip(zip(final["benchmark"], final["method"], final["seed"].astype(int)), final[column]))
        return {
            method: [
                np.array([lookup.get((benchmark, method, int(seed)), math.nan) for seed in self.seeds[benchmark]])
                for benchmark in benchmarks
            ]
            for method in methods
        }


_TIDY = ("benchmark", "method", "seed", "time", "value")


def time_grid(start: float, budget: float, points: int, spacing: str) -> np.ndarray:
    """``points`` times from ``start`` to ``budget``, log- or linearly spaced (the last one is ``budget``)."""
    if spacing not in SPACINGS:
        raise LoadError(f"time grid spacing must be one of {', '.join(SPACINGS)}, got {spacing!r}")
    if points < 2:
        raise LoadError(f"a time grid needs at least 2 points, got {points}")
    if not budget > 0:
        return np.zeros(points)
    start = min(start, budget)
    if spacing == "log":
        start = start if start > 0 else budget * 1e-6
        grid = np.geomspace(start, budget, points)
    else:
        grid = np.linspace(max(start, 0.0), budget, points)
    grid[-1] = budget
    return grid


# Sources -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Candidate:
    root: str  # the results directory (URL) it was found in
    tag: str
    benchmark: str
    method: str
    seed: int
    path: str
    sizes: dict[str, int] | None  # file sizes from the listing (remote) or None (local: checked by store)


@dataclass
class _Loaded:
    candidate: _Candidate
    metadata: dict[str, Any] | None
    times: np.ndarray | None = None
    best: np.ndarray | None = None
    first_time: float = math.nan
    reason: str = ""


class _LocalSource:
    """A results directory on the local file system."""

    def __init__(self, root: str) -> None:
        self.root = Path(root).expanduser()
        self.url = str(root)

    def exists(self) -> bool:
        return self.root.is_dir()

    def tags(self) -> list[str]:
        return sorted(entry.name for entry in os.scandir(self.root) if entry.is_dir()) if self.exists() else []

    def list(self, tag: str) -> list[_Candidate]:
        base = self.root / tag
        if not base.is_dir():
            return []
        found = []
        for benchmark in _subdirs(base):
            for method in _subdirs(benchmark):
                for seed_dir in _subdirs(method):
                    match = _SEED_DIR.fullmatch(seed_dir.name)
                    if match:
                        found.append(
                            _Candidate(self.url, tag, benchmark.name, method.name, int(match[1]), seed_dir.path, None)
                        )
        return found

    def read(self, candidate: _Candidate) -> _Loaded:
        try:
            with open(os.path.join(candidate.path, store.METADATA_FILE), "rb") as file:
                metadata = json.loads(file.read())
        except FileNotFoundError:
            return _Loaded(candidate, None, reason="no metadata.json")
        except (OSError, ValueError):
            return _Loaded(candidate, None, reason="metadata.json unreadable")
        sizes = {}
        for name in store.DATA_FILES:
            try:
                sizes[name] = os.stat(os.path.join(candidate.path, name)).st_size
            except OSError:
                pass
        if not _metadata_complete(metadata, sizes):
            return _Loaded(candidate, None, reason="metadata.json not complete or data files differ from it")
        try:
            with open(os.path.join(candidate.path, store.RESULTS_FILE), "rb") as file:
                data = file.read()
        except OSError as error:
            return _Loaded(candidate, None, reason=f"{store.RESULTS_FILE} unreadable: {_one_line(error)}")
        return _read_table(candidate, metadata, data)


class _RemoteSource:
    """A results directory behind an fsspec URL (``s3://bucket/prefix``); s3fs is imported lazily."""

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None) -> None:
        self.url = url.rstrip("/")
        try:
            import fsspec

            if url.startswith(("s3://", "s3a://")):
                import s3fs  # noqa: F401 - fsspec's own error would not name the extra
        except ImportError:
            raise LoadError(f"reading {url} needs s3fs: {S3_INSTALL_HINT}") from None
        try:
            # a fresh instance: credentials and endpoints set since the last load take effect, no stale listings
            options = {"skip_instance_cache": True, **dict(storage_options or {})}
            self.fs, self.root = fsspec.core.url_to_fs(self.url, **options)
        except ImportError:
            raise LoadError(f"reading {url} needs s3fs: {S3_INSTALL_HINT}") from None
        except ValueError as error:
            raise LoadError(f"cannot open results directory {url}: {error}") from None
        self.root = self.root.rstrip("/")

    def exists(self) -> bool:
        try:
            return bool(self.fs.isdir(self.root))
        except Exception as error:  # credentials, network: say which URL and why, in one line
            raise LoadError(f"cannot read results directory {self.url}: {_one_line(error)}") from None

    def tags(self) -> list[str]:
        try:
            return sorted(Path(p).name for p in self.fs.ls(self.root, detail=False) if self.fs.isdir(p))
        except FileNotFoundError:
            return []

    def list(self, tag: str) -> list[_Candidate]:
        base = f"{self.root}/{tag}"
        try:
            files = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return []
        except Exception as error:
            raise LoadError(f"cannot list {self.url}/{tag}: {_one_line(error)}") from None
        runs: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
        for path, info in files.items():
            parts = path[len(base) + 1 :].split("/")
            if len(parts) == 4 and _SEED_DIR.fullmatch(parts[2]):
                runs[parts[0], parts[1], parts[2]][parts[3]] = int(info.get("size") or 0)
        return [
            _Candidate(self.url, tag, b, m, int(s[len(store.SEED_PREFIX) :]), f"{base}/{b}/{m}/{s}", sizes)
            for (b, m, s), sizes in sorted(runs.items())
        ]

    def read(self, candidate: _Candidate) -> _Loaded:
        sizes = candidate.sizes or {}
        if store.METADATA_FILE not in sizes:
            return _Loaded(candidate, None, reason="no metadata.json")
        try:
            metadata = json.loads(self.fs.cat_file(f"{candidate.path}/{store.METADATA_FILE}"))
        except (OSError, ValueError):
            return _Loaded(candidate, None, reason="metadata.json unreadable")
        if not _metadata_complete(metadata, sizes):
            return _Loaded(candidate, None, reason="metadata.json not complete or data files differ from it")
        try:
            data = self.fs.cat_file(f"{candidate.path}/{store.RESULTS_FILE}")
        except OSError as error:
            return _Loaded(candidate, None, reason=f"{store.RESULTS_FILE} unreadable: {_one_line(error)}")
        return _read_table(candidate, metadata, data)


def _metadata_complete(metadata: Any, sizes: Mapping[str, int]) -> bool:
    """The rules of ``store.read_complete_metadata`` on a listing of file sizes."""
    if not isinstance(metadata, dict) or metadata.get("format_version") != store.FORMAT_VERSION:
        return False
    if metadata.get("completed") is not True:
        return False
    files = metadata.get("files")
    if not isinstance(files, dict) or set(files) != set(store.DATA_FILES):
        return False
    return all(isinstance(facts, dict) and sizes.get(name) == facts.get("size") for name, facts in files.items())


def _read_table(candidate: _Candidate, metadata: dict[str, Any], data: bytes) -> _Loaded:
    """The best-so-far step function from the bytes of ``results.parquet`` (only two columns are decoded)."""
    try:
        file = pq.ParquetFile(pa.BufferReader(data))
        names = set(file.schema_arrow.names)
        if "best_so_far" in names:
            table = file.read(columns=list(_COLUMNS), use_threads=False)
            best = table.column("best_so_far").to_numpy()
        else:  # older or foreign tables: the running best of the metric
            metric = metadata.get("metric")
            if metric not in names or "time" not in names:
                return _Loaded(candidate, None, reason=f"{store.RESULTS_FILE} has neither best_so_far nor {metric!r}")
            table = file.read(columns=["time", metric], use_threads=False)
            values = table.column(metric).to_numpy().astype(float)
            accumulate = np.fmax.accumulate if metadata.get("mode") == "max" else np.fmin.accumulate
            best = accumulate(values) if len(values) else values
        times = table.column("time").to_numpy()
    except (OSError, ValueError, KeyError) as error:  # ArrowInvalid is a ValueError
        return _Loaded(candidate, None, reason=f"{store.RESULTS_FILE} unreadable: {_one_line(error)}")
    times = np.asarray(times, dtype=float)
    best = np.asarray(best, dtype=float)
    first_time = float(times[0]) if len(times) else math.nan
    keep = np.isfinite(best)
    if len(best) > 1:
        keep[1:] &= best[1:] != best[:-1]
    # several results at one time: ``Steps.at`` takes the last one, which holds the best at that time
    return _Loaded(candidate, metadata, times[keep], best[keep], first_time)


def _subdirs(path: Path | str) -> list[os.DirEntry]:
    try:
        return sorted((entry for entry in os.scandir(path) if entry.is_dir()), key=lambda entry: entry.name)
    except OSError:
        return []


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _source(results_dir: str | Path, storage_options: Mapping[str, Any] | None) -> _LocalSource | _RemoteSource:
    text = str(results_dir)
    if "://" in text and not text.startswith("file://"):
        return _RemoteSource(text, storage_options)
    return _LocalSource(text.removeprefix("file://"))


# Loading -----------------------------------------------------------------------------------------
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
    sources = [_source(d, storage_options) for d in dirs]
    wanted_benchmarks = None if benchmarks is None else set(benchmarks)
    wanted_methods = None if methods is None else set(methods)

    candidates: list[tuple[Any, _Candidate]] = []
    described = []
    absent = []
    for source in sources:
        if not source.exists():
            logger.info("results directory %s does not exist", source.url)
            absent.append(source.url)
            described += [f"{source.url}/{tag}" for tag in tag_list or []]
            continue
        for tag in tag_list if tag_list is not None else source.tags():
            store.check_name("experiment tag", tag)
            described.append(f"{source.url}/{tag}")
            for candidate in source.list(tag):
                if wanted_benchmarks is not None and candidate.benchmark not in wanted_benchmarks:
                    continue
                name = _label(candidate, label)
                if wanted_methods is not None and candidate.method not in wanted_methods and name not in wanted_methods:
                    continue
                candidates.append((source, candidate))

    loaded = _read_all(candidates, threads, progress)
    report = LoadReport(sources=described)
    complete: list[_Loaded] = []
    for item in loaded:
        c = item.candidate
        if item.metadata is None:
            report.partial.append(PartialRun(c.tag, c.benchmark, _label(c, label), c.seed, c.path, item.reason))
        else:
            complete.append(item)
    report.num_runs = len(complete)
    if not complete:
        raise LoadError(_nothing_found(described, absent, benchmarks, methods, num_seeds, report))

    # one run per (benchmark, label, seed); consistent metric and mode per benchmark
    seen: dict[tuple[str, str, int], _Loaded] = {}
    modes: dict[str, str] = {}
    metrics: dict[str, str] = {}
    for item in complete:
        c, meta = item.candidate, item.metadata or {}
        key = (c.benchmark, _label(c, label), c.seed)
        if key in seen:
            other = seen[key].candidate.path
            raise LoadError(
                f"{key[1]} seed {c.seed} on {c.benchmark} is stored twice ({other} and {c.path}); load one tag "
                'or set label = "tag/method"'
            )
        seen[key] = item
        mode, metric = meta.get("mode"), meta.get("metric")
        if mode not in ("min", "max"):
            raise LoadError(f"{c.path}/{store.METADATA_FILE} has no valid mode (got {mode!r})")
        if modes.setdefault(c.benchmark, mode) != mode or metrics.setdefault(c.benchmark, metric) != metric:
            raise LoadError(
                f"runs of benchmark {c.benchmark} disagree on the metric or mode ({metrics[c.benchmark]} "
                f"{modes[c.benchmark]} vs {metric} {mode} in {c.path}); load one tag at a time"
            )

    found_benchmarks = sorted({key[0] for key in seen})
    found_methods = {key[1] for key in seen}
    bench_order = [b for b in benchmarks if b in found_benchmarks] if benchmarks is not None else found_benchmarks
    if methods is not None:
        method_order_list = [m for m in _expand_methods(methods, found_methods, label)]
    else:
        from plotting.colors import method_order

        method_order_list = method_order(found_methods)
    report.missing_benchmarks = [b for b in (benchmarks or []) if b not in found_benchmarks]

    # grids and step functions
    budgets: dict[str, float] = {}
    starts: dict[str, float] = {}
    steps: dict[tuple[str, str, int], Steps] = {}
    rows = []
    for (benchmark, name, seed), item in seen.items():
        meta = item.metadata or {}
        end = _float(meta.get("simulated_time_seconds"))
        first_time = item.first_time
        budgets[benchmark] = max(budgets.get(benchmark, 0.0), end if math.isfinite(end) else 0.0)
        if item.times is not None and len(item.times):
            budgets[benchmark] = max(budgets[benchmark], float(item.times[-1]))
        if math.isfinite(first_time):
            starts[benchmark] = min(starts.get(benchmark, math.inf), first_time)
        steps[benchmark, name, seed] = Steps(item.times, item.best, end)  # type: ignore[arg-type]
        row = {column: meta.get(column) for column in store.LISTING_COLUMNS}
        row.update(
            tag=item.candidate.tag,
            benchmark=benchmark,
            method=item.candidate.method,
            seed=seed,
            path=item.candidate.path,
            label=name,
            first_time=first_time,
            num_improvements=len(item.times) if item.times is not None else 0,
        )
        rows.append(row)
        if first_time != first_time:  # NaN: no results at all
            report.empty_runs.append((benchmark, name, seed))
    grids = {b: time_grid(starts.get(b, budgets[b]), budgets[b], points, spacing) for b in bench_order}

    seeds: dict[str, np.ndarray] = {}
    values: dict[tuple[str, str], np.ndarray] = {}
    for benchmark in bench_order:
        on_benchmark = {(name, seed) for (b, name, seed) in seen if b == benchmark}
        union = {seed for _, seed in on_benchmark} | set(range(num_seeds or 0))
        seeds[benchmark] = np.array(sorted(union), dtype=np.int64)
        present_methods = [m for m in method_order_list if any(name == m for name, _ in on_benchmark)]
        lacking = [m for m in method_order_list if m not in present_methods]
        if lacking:
            report.missing_methods[benchmark] = lacking
        for method in present_methods:
            matrix = np.full((len(seeds[benchmark]), len(grids[benchmark])), np.nan)
            count = 0
            for i, seed in enumerate(seeds[benchmark]):
                run = steps.get((benchmark, method, int(seed)))
                if run is None:
                    report.missing.append((benchmark, method, int(seed)))
                    continue
                matrix[i] = run.at(grids[benchmark])
                count += 1
                end, budget = run.end, budgets[benchmark]
                reason = str(seen[benchmark, method, int(seed)].metadata.get("stop_reason"))  # type: ignore[union-attr]
                if end < budget * (1 - 1e-9) or reason != FULL_BUDGET_REASON:
                    report.ended_early.append(EarlyEnd(benchmark, method, int(seed), reason, end, budget))
            if count == 1:
                report.single_seed.append((benchmark, method))
            values[benchmark, method] = matrix
    report.missing_methods.update({b: list(method_order_list) for b in report.missing_benchmarks})
    # a partial run is reported as partial, not also as missing
    partial_keys = {(run.benchmark, run.method, run.seed) for run in report.partial}
    report.missing = [key for key in report.missing if key not in partial_keys]
    runs = pd.DataFrame(rows)
    runs["final_best"] = runs["final_best"].astype(float)
    runs = runs.sort_values(["benchmark", "label", "seed"], ignore_index=True)
    first_runs = {}
    for (benchmark, _, _), item in sorted(seen.items()):
        first_runs.setdefault(benchmark, item)
    report.commands = _commands(report, first_runs, seeds, method_order_list, described, num_seeds, label)
    curves = Curves(
        benchmarks=bench_order,
        methods=method_order_list,
        modes={b: modes[b] for b in bench_order},
        metrics={b: metrics[b] for b in bench_order},
        budgets={b: budgets[b] for b in bench_order},
        grids=grids,
        seeds=seeds,
        values=values,
        steps={key: value for key, value in steps.items() if key[0] in grids},
        runs=runs[runs["benchmark"].isin(bench_order)].reset_index(drop=True),
        report=report,
        spacing=spacing,
    )
    if log:
        report.log()
    return curves


def _label(candidate: _Candidate, label: str) -> str:
    return f"{candidate.tag}/{candidate.method}" if label == "tag/method" else candidate.method


def _expand_methods(methods: Sequence[str], found: set[str], label: str) -> list[str]:
    """Requested methods in their order; with ``tag/method`` labels a bare method name stands for all its tags."""
    out: list[str] = []
    for method in methods:
        if label == "tag/method" and "/" not in method:
            from plotting.colors import method_order

            matches = method_order(name for name in found if name.rpartition("/")[2] == method)
            out.extend(matches or [method])
        else:
            out.append(method)
    return list(dict.fromkeys(out))


def _read_all(candidates: list[tuple[Any, _Candidate]], threads: int | None, progress: bool | None) -> list[_Loaded]:
    if not candidates:
        return []
    if threads is None:  # local reads are CPU-bound (GIL): 2 threads; remote reads wait on the network: 16
        remote = any(isinstance(source, _RemoteSource) for source, _ in candidates)
        threads = 16 if remote else min(2, os.cpu_count() or 1)
    workers = threads
    bar = tqdm(
        total=len(candidates), desc="reading runs", unit="run", disable=None if progress is None else not progress
    )
    try:
        if workers <= 1 or len(candidates) < 8:
            out = []
            for source, candidate in candidates:
                out.append(source.read(candidate))
                bar.update()
            return out
        with ThreadPoolExecutor(max_workers=workers) as pool:
            out = []
            for item in pool.map(lambda pair: pair[0].read(pair[1]), candidates, chunksize=1):
                out.append(item)
                bar.update()
            return out
    finally:
        bar.close()


def _float(value: Any) -> float:
    try:
        return math.nan if value is None else float(value)
    except (TypeError, ValueError):
        return math.nan


# Commands that would produce missing results ----------------------------------------------------
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
    if results_dir is not None and str(results_dir) != str(store.DEFAULT_RESULTS_DIR):
        parts += ["--results_dir", str(results_dir)]
    return shlex.join(parts)


def _is_remote(url: str) -> bool:
    return "://" in url and not url.startswith("file://")


def _command_for(
    benchmark: str, methods: Sequence[str], num_seeds: int, tag: str, results_dir: str, arguments: Mapping | None
) -> str:
    if _is_remote(results_dir):
        command = run_command(benchmark, methods, num_seeds, tag, None, arguments=arguments)
        return f"{command}  # then copy results/{tag}/{benchmark} to {results_dir}/{tag}/{benchmark}"
    return run_command(benchmark, methods, num_seeds, tag, results_dir, arguments=arguments)


def _commands(
    report: LoadReport,
    first_runs: Mapping[str, _Loaded],
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
                described[0].rpartition("/") if described else (str(store.DEFAULT_RESULTS_DIR), "", "default")
            )
            arguments = None
            count = max(max_seed[benchmark], *(int(known.max()) for known in seeds.values() if len(known))) + 1
        count = max(count, num_seeds or 0, 1)
        commands.append(_command_for(benchmark, list(dict.fromkeys(names)), count, tag, results_dir, arguments))
    return commands


def _nothing_found(
    described: Sequence[str],
    absent: Sequence[str],
    benchmarks: Sequence[str] | None,
    methods: Sequence[str] | None,
    num_seeds: int | None,
    report: LoadReport,
) -> str:
    where = ", ".join(described) or "the results directories"
    notes = []
    if absent:
        notes.append(f"{', '.join(absent)} does not exist")
    if report.partial:
        notes.append(f"{len(report.partial)} partial run(s) without complete metadata.json")
    message = f"no complete runs under {where}" + (f" ({'; '.join(notes)})" if notes else "")
    source, _, tag = described[0].rpartition("/") if described else (str(store.DEFAULT_RESULTS_DIR), "", "TAG")
    names = [m.rpartition("/")[2] for m in methods] if methods else ["METHOD", "..."]
    commands = [_command_for(b, names, num_seeds or 30, tag, source, None) for b in (benchmarks or ["BENCHMARK"])]
    return message + "; produce them with: " + " && ".join(commands)

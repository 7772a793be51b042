"""What ``plotting.load`` found missing or unusual in the results store, and how to say it.

``LoadReport`` lists missing seeds, partial runs (no complete ``metadata.json``), methods missing on a
benchmark, runs that ended before the budget, runs without results and single-seed cells, with the
``python -m experiments.run`` commands that would fill the gaps (``plotting.commands``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

# the report is part of loading: it logs under the name users configure for ``plotting.load``
logger = logging.getLogger("plotting.load")


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
            lines.append(f"{method} on {benchmark}: missing {seeds_text(seeds)}")
        for (benchmark, method), seeds in partial.items():
            lines.append(
                f"{method} on {benchmark}: partial run(s) without complete metadata.json: {seeds_text(seeds)}"
            )
        early: dict[tuple[str, str, str], list[EarlyEnd]] = defaultdict(list)
        for run in self.ended_early:
            early[run.benchmark, run.method, run.stop_reason].append(run)
        for (benchmark, method, reason), runs in early.items():
            first = min(runs, key=lambda run: run.end)
            lines.append(
                f"{method} on {benchmark}: {len(runs)} run(s) ended before the budget ({reason}; "
                f"{seeds_text([run.seed for run in runs])}; earliest at {first.end:.4g} of {first.budget:.4g} "
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


def seeds_text(seeds: Iterable[int]) -> str:
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

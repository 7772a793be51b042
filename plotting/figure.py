"""Produce the figures and tables of a spec: ``python -m plotting.figure SPEC.toml [--output_dir D]``.

The spec format is documented in ``plotting.spec``; the project's own specs are in ``plotting/specs/`` (each names
the ``python -m experiments.run`` command that produces its results). Problems with the spec or missing results end
with one ``error:`` line and exit code 2; a spec naming results that do not exist prints the command that would
produce them; runs without any result, and an output directory that is a file or cannot be written, end the same
way. Multi-word flags are spelled with an underscore (``--output_dir``, as ``experiments.run``); the dash spelling
(``--output-dir``) is accepted as an alias. Gaps that do not prevent the figures (a missing seed, a partial run, a
method missing on one benchmark, a single seed without interval) are printed as warnings.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from plotting.errors import OutputError
from plotting.indicators import IndicatorOptions
from plotting.load import Curves, LoadError, LoadReport, load, run_command
from plotting.spec import Spec, SpecError, load_spec

logger = logging.getLogger(__name__)


@dataclass
class Produced:
    """What ``produce`` wrote, the load report, and seconds per phase (load, aggregation, plotting, total)."""

    paths: list[Path]
    curves: Curves
    timings: dict[str, float] = field(default_factory=dict)
    steps: dict[str, tuple[float, float]] = field(default_factory=dict)

    def format_timings(self) -> str:
        """Seconds per phase, then per figure/table (aggregation + plotting or writing)."""
        line = "timings: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.timings.items())
        parts = [f"{name} {a:.2f} + {p:.2f} s" for name, (a, p) in self.steps.items()]
        return line + ("\n  per item (aggregation + plotting): " + ", ".join(parts) if parts else "")


def load_curves(spec: Spec, *, progress: bool | None = None) -> Curves:
    """Load the spec's results; ``SpecError`` with the producing command if requested results do not exist."""
    r = spec.results
    try:
        curves = load(
            list(r.dirs),
            list(r.tags),
            benchmarks=r.benchmarks,
            methods=r.methods,
            points=spec.grid.points,
            spacing=spec.grid.spacing,
            label=r.label,
            num_seeds=r.num_seeds,
            storage_options=r.storage_options,
            progress=progress,
            log=False,
            indicator=indicator_options(spec),
        )
    except LoadError as error:
        raise SpecError(f"{spec.path}: {error}") from None
    report = curves.report
    absent_methods = [m for m in curves.methods if not any((b, m) in curves.values for b in curves.benchmarks)]
    problems = []
    if report.missing_benchmarks:
        problems.append(f"no results for benchmark(s) {', '.join(report.missing_benchmarks)}")
    if absent_methods:
        problems.append(f"no results for method(s) {', '.join(absent_methods)}")
    if not problems and r.require_complete and not report.complete:
        problems.append("results are incomplete (require_complete = true): " + "; ".join(_gaps(report)))
    if problems:
        where = ", ".join(report.sources)
        commands = report.commands or [
            run_command(b, list(r.methods or ["ASHA"]), r.num_seeds or 30, r.tags[0], r.dirs[0])
            for b in report.missing_benchmarks
        ]
        raise SpecError(f"{spec.path}: {'; '.join(problems)} under {where}; produce them with: {' && '.join(commands)}")
    if not any(len(steps.values) for steps in curves.steps.values()):
        where = ", ".join(report.sources)
        raise SpecError(
            f"{spec.path}: the {len(curves.steps)} run(s) found under {where} have no results: nothing to plot"
        )
    report.log()
    return curves


def indicator_options(spec: Spec) -> IndicatorOptions:
    """What ``load`` computes per run for the spec: its indicator, and fronts or infeasible fractions if a figure or
    table needs them."""
    return IndicatorOptions(
        name=spec.aggregation.indicator,
        one_result_per_trial=spec.hypervolume.one_result_per_trial,
        reference_points=dict(spec.hypervolume.reference_points),
        fronts=spec.figures.pareto is not None,
        feasibility=spec.figures.infeasible is not None or spec.tables.infeasible,
    )


def prepare_output_dir(out: Path) -> None:
    """Create ``out`` (and parents); ``OutputError`` (one line) if it is a file or cannot be created or written."""
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"output directory {out} is an existing file; name a directory (--output_dir or [output] dir)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create output directory {out}: {error.strerror or error}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise OutputError(f"output directory {out} is not writable")


def _gaps(report: LoadReport) -> list[str]:
    return [line for line in report.lines() if not line.startswith(("to complete", "  python"))][:3]


def produce(spec: Spec, output_dir: Path | str | None = None, *, progress: bool | None = None) -> Produced:
    """Write every figure and table the spec asks for; returns the paths and timings."""
    from plotting.steps import spec_steps  # not at the top: matplotlib is not needed for --help or spec errors

    started = time.perf_counter()
    out = Path(output_dir) if output_dir is not None else Path(spec.output.dir)
    prepare_output_dir(out)
    curves = load_curves(spec, progress=progress)
    timings = {"load": time.perf_counter() - started}
    paths: list[Path] = []
    per_step: dict[str, tuple[float, float]] = {}
    bar = tqdm(
        spec_steps(spec, curves, out),
        desc="figures and tables",
        unit="item",
        disable=None if progress is None else not progress,
    )
    for step in bar:
        bar.set_postfix_str(step.name)
        t0 = time.perf_counter()
        data = step.compute()
        t1 = time.perf_counter()
        paths += step.draw(data)
        per_step[step.name] = (t1 - t0, time.perf_counter() - t1)
        logger.info("%s: aggregation %.2f s, plotting/writing %.2f s", step.name, *per_step[step.name])
    bar.close()
    timings["aggregation"] = sum(a for a, _ in per_step.values())
    timings["plotting"] = sum(p for _, p in per_step.values())
    timings["total"] = time.perf_counter() - started
    return Produced(paths, curves, timings, per_step)


# Command line ------------------------------------------------------------------------------------
class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m plotting.figure",
        allow_abbrev=False,
        description="Produce the figures and tables of a TOML spec from stored experiment results "
        "(format: see plotting/spec.py; examples: plotting/specs/).",
    )
    parser.add_argument("spec", type=Path, help="the spec file (TOML)")
    parser.add_argument(
        "--output_dir",
        "--output-dir",
        dest="output_dir",
        type=Path,
        help="write here instead of the spec's [output] dir (alias: --output-dir)",
    )
    parser.add_argument("--timings", action="store_true", help="print seconds per phase")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (2 for spec errors and missing results, as one ``error:`` line)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as error:
        return _fail(f"{error} (see --help)")
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    # our own handler on the package logger (not basicConfig): works the same when called from Python
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    package = logging.getLogger("plotting")
    saved = (package.level, package.propagate)
    package.addHandler(handler)
    package.setLevel(level)
    package.propagate = False
    try:
        spec = load_spec(args.spec)
        produced = produce(spec, args.output_dir, progress=None)
    except SpecError as error:
        return _fail(str(error))
    except (LoadError, ValueError) as error:
        return _fail(f"{args.spec}: {error}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        package.removeHandler(handler)
        package.setLevel(saved[0])
        package.propagate = saved[1]
    try:
        for path in produced.paths:
            print(path)
        if args.timings:
            print(produced.format_timings())
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


def _fail(message: str) -> int:
    print("error: " + " ".join(message.split()), file=sys.stderr)
    return 2


if __name__ == "__main__":
    from plotting.figure import main as _main

    sys.exit(_main())

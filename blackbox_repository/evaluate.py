"""Batch evaluation of a benchmark on a CSV of configurations.

Usage::

    python -m blackbox_repository.evaluate --benchmark NAME [--instance I] --input configs.csv \\
        --output out.csv [--seed_index 0]
    python -m blackbox_repository.evaluate --benchmark NAME --describe    # the input columns, and the outputs

- YAHPO surrogates: NAME is ``yahpo-<scenario>`` (the instance of each row comes from the instance column,
  e.g. ``OpenML_task_id`` or ``task_id``, or from ``--instance``) or ``yahpo-<scenario>-<instance>``. The
  input has one column per parameter of the scenario's ``config_space.json`` (hyperparameters and
  fidelities such as ``epoch``, ``trainsize`` and ``repl``, any value in range), inactive hyperparameters
  left empty; the output has one ``y:<name>`` column per surrogate output (``y_names``, as in the
  reference CSVs of yahpo-gym).
- Any other NAME is loaded with ``BlackboxRepository().load(NAME)``; the input has one column per
  hyperparameter and the fidelity column (the benchmark's ``fidelity_name``, e.g. ``epoch``); the output
  has one ``y:<objective>`` column per objective.

The output is the input (as written, text for text) followed by the ``y:`` columns, written atomically.
Bad input prints one line ``error: ...`` on stderr and exits with code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from blackbox_repository.atomic import atomic_path
from blackbox_repository.cli import EXIT_BAD_INPUT, OneLineErrorParser
from blackbox_repository.errors import BlackboxError
from blackbox_repository.repository import BlackboxRepository
from blackbox_repository.yahpo.blackbox import is_yahpo_name, parse_yahpo_name
from blackbox_repository.yahpo.encoding import category_text
from blackbox_repository.yahpo.scenario import YahpoScenario
from searchspace import SearchSpaceError

logger = logging.getLogger(__name__)





def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m blackbox_repository.evaluate",
        description="Evaluate a benchmark on every row of a CSV of configurations.",
    )
    parser.add_argument("--benchmark", required=True, help="e.g. yahpo-lcbench, yahpo-lcbench-3945, nas201-cifar10")
    parser.add_argument("--instance", help="YAHPO instance (task id) for every row")
    parser.add_argument("--input", type=Path, help="CSV with one row per configuration (required unless --describe)")
    parser.add_argument("--output", type=Path, help="CSV to write: the input plus y:<objective>")
    parser.add_argument("--seed_index", type=int, default=0, help="benchmark seed index (default 0)")
    parser.add_argument(
        "--describe", action="store_true",
        help="print the input columns (hyperparameters with their domains, fidelity, instance) and the outputs",
    )
    return parser


def describe(name: str) -> str:
    """The input columns of benchmark ``name`` (hyperparameters with domains, fidelity) and its outputs, as text."""
    if is_yahpo_name(name):
        scenario_name, instance = parse_yahpo_name(name)
        scenario = YahpoScenario.load(scenario_name)
        facts = scenario.facts
        lines = [f"{name}: YAHPO Gym {scenario_name} surrogate; input columns:"]
        lines += [f"  {key}: {domain}" for key, domain in scenario.space.items()]
        lines += [f"  {key}: {scenario.full_space[key]} (fidelity)" for key in facts.fidelity_params]
        if facts.instance_name is not None:
            fixed = f"fixed to {instance} by the name" if instance is not None else "or pass --instance"
            lines.append(f"  {facts.instance_name}: one of {len(scenario.instances)} instances (instance; {fixed})")
        lines += [f"  {c.child} is active only if {c.describe()}" for c in scenario.space.conditions]
        lines.append(f"outputs: {', '.join('y:' + y for y in facts.y_names)}")
        return "\n".join(lines)
    blackbox = BlackboxRepository().load(name)
    fidelities = np.asarray(blackbox.fidelities)
    lines = [f"{name}: input columns:"]
    lines += [f"  {key}: {domain}" for key, domain in blackbox.space.items()]
    lines.append(
        f"  {blackbox.fidelity_name}: integer {fidelities[0]}..{fidelities[-1]} ({len(fidelities)} values, fidelity)"
    )
    lines.append(f"outputs: {', '.join('y:' + objective for objective in blackbox.objective_names)} "
                 f"(seed indices 0..{len(blackbox.seeds) - 1})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0, or 2 for bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.describe and (args.input is None or args.output is None):
        parser.error("--input and --output are required (or pass --describe to see the input columns)")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.describe:
            print(describe(args.benchmark))
            return 0
        text = _read_csv(args.input, dtype=str, keep_default_na=False)
        if is_yahpo_name(args.benchmark):
            values = evaluate_yahpo(args.benchmark, args.input, instance=args.instance, seed_index=args.seed_index)
        else:
            if args.instance is not None:
                raise BlackboxError(f"--instance applies to YAHPO benchmarks only, not {args.benchmark!r}")
            values = evaluate_blackbox(args.benchmark, args.input, seed_index=args.seed_index)
        output = text.copy()
        for column in values.columns:
            output[column] = values[column].to_numpy()
        with atomic_path(args.output) as tmp:
            output.to_csv(tmp, index=False)
    except (BlackboxError, SearchSpaceError, OSError, ValueError, KeyError) as error:
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"error: {message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    logger.info("wrote %d rows to %s", len(output), args.output)
    return 0


def evaluate_yahpo(name: str, path: Path, *, instance: str | None = None, seed_index: int = 0) -> pd.DataFrame:
    """``y:<name>`` columns for a YAHPO scenario (``yahpo-<scenario>[-<instance>]``) on the CSV at ``path``."""
    scenario_name, named_instance = parse_yahpo_name(name)
    if instance is not None and named_instance is not None and str(instance) != named_instance:
        raise BlackboxError(f"--instance {instance} contradicts the benchmark name {name!r}")
    instance = instance if instance is not None else named_instance
    if seed_index != 0:
        raise BlackboxError(f"YAHPO surrogates are deterministic and have one seed (index 0), got {seed_index}")
    scenario = YahpoScenario.load(scenario_name)
    facts = scenario.facts
    frame = _read_csv(path, dtype={column: str for column in facts.cat_names})
    column = facts.instance_name
    if instance is not None:
        instance = scenario.check_instance(instance)
        if column is not None:
            if column in frame.columns:
                given = frame[column].dropna().map(lambda v: category_text(v, set()))
                if (given != instance).any():
                    raise BlackboxError(
                        f"column {column} holds {given[given != instance].iloc[0]!r}, but the instance is {instance}"
                    )
            frame[column] = instance
    elif column is not None and column not in frame.columns:
        raise BlackboxError(
            f"the input lacks the instance column {column!r}; add it, pass --instance, or name the benchmark "
            f"yahpo-{scenario_name}-<instance>"
        )
    values = scenario.predict(frame)
    return values.add_prefix("y:")


def evaluate_blackbox(name: str, path: Path, *, seed_index: int = 0) -> pd.DataFrame:
    """``y:<objective>`` columns for a repository benchmark on the CSV at ``path``."""
    blackbox = BlackboxRepository().load(name)
    frame = _read_csv(path)
    needed = blackbox.space.names + [blackbox.fidelity_name]
    missing = [column for column in needed if column not in frame.columns]
    if missing:
        raise BlackboxError(f"benchmark {name!r}: the input lacks column(s) {missing}")
    if not 0 <= seed_index < len(blackbox.seeds):
        raise BlackboxError(f"benchmark {name!r} has seed indices 0..{len(blackbox.seeds) - 1}, got {seed_index}")
    values = blackbox.evaluate(frame[blackbox.space.names], frame[blackbox.fidelity_name].to_numpy(), seed_index)
    return pd.DataFrame(np.asarray(values), columns=[f"y:{n}" for n in blackbox.objective_names], index=frame.index)


def _read_csv(path: Path, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise BlackboxError(f"input file {path} does not exist") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise BlackboxError(f"cannot read {path} as CSV: {error}") from None


if __name__ == "__main__":
    sys.exit(main())

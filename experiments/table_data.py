"""Export a benchmark's data as one flat table: ``python -m experiments.table_data BENCHMARK --output FILE.parquet``.

One row per (configuration, benchmark seed): a ``config_id`` (row of the table, or index of the sample), one
column per hyperparameter (inactive ones empty), ``seed`` (the benchmark seed) and the metric at one fidelity
(default ``max_t`` of the benchmark's definition; ``--fidelity N`` another step, ``--metric M`` another
objective). A tabulated benchmark contributes every tabulated configuration (a definition that wraps the table
in a surrogate, e.g. ``lcbench-<dataset>``, still exports the measured table); a benchmark without a table (a
YAHPO surrogate) is evaluated on ``--num_configs`` configurations (default 2,000) drawn uniformly from its search
space with ``--sample_seed`` (default 0). Cells without data (a missing seed of a table) are dropped and counted.

The parquet schema metadata holds, under the key ``METADATA_KEY`` (``hpo_workbench.table_data``), a JSON object:
``benchmark``, ``blackbox``, ``metric``, ``mode``, ``fidelity_name``, ``fidelity`` (the step), ``max_t``,
``hyperparameters`` (the hyperparameter columns, in search-space order), ``source`` (``"table"`` or
``"sample"``), ``num_configs``, ``seeds``, ``sample_seed`` (None for a table), ``dropped`` (cells without data).
``plotting.importance`` reads these files (``[figures.importance] table = "FILE.parquet"``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.cli import Parser, UsageError, configure_logging, fail, underscored

if TYPE_CHECKING:
    from blackbox_repository import BlackboxBase

logger = logging.getLogger(__name__)

METADATA_KEY = "hpo_workbench.table_data"
DEFAULT_NUM_CONFIGS = 2000
#: configurations per call of a surrogate (one progress-bar step)
CHUNK = 500
#: columns every file has besides the hyperparameters and the metric
ID_COLUMN, SEED_COLUMN = "config_id", "seed"


@dataclass(frozen=True)
class TableInfo:
    """What the exported table holds (stored as JSON in the parquet schema metadata)."""

    benchmark: str
    blackbox: str
    metric: str
    mode: str
    fidelity_name: str
    fidelity: int
    max_t: int
    hyperparameters: list[str]
    source: str
    num_configs: int
    seeds: list[Any]
    sample_seed: int | None
    dropped: int


def export_blackbox(
    blackbox: BlackboxBase,
    *,
    benchmark: str,
    metric: str,
    mode: str,
    fidelity: int,
    max_t: int,
    num_configs: int = DEFAULT_NUM_CONFIGS,
    sample_seed: int = 0,
    progress: bool | None = None,
) -> tuple[pd.DataFrame, TableInfo]:
    """The rows of ``blackbox`` (one per configuration and seed) with ``metric`` at fidelity step ``fidelity``."""
    from tqdm.auto import tqdm

    names = list(blackbox.space.names)
    clash = [name for name in names if name in (ID_COLUMN, SEED_COLUMN, metric)]
    if clash:
        raise ValueError(f"hyperparameter {clash[0]!r} has the name of a column of the export; cannot export")
    if not 1 <= fidelity <= blackbox.max_fidelity:
        raise ValueError(f"--fidelity must be between 1 and {blackbox.max_fidelity}, got {fidelity}")
    column = blackbox.objective_index(metric)
    configs = blackbox.tabulated_configs
    source = "table"
    if configs is None:
        source = "sample"
        configs = pd.DataFrame(
            blackbox.space.sample_many(np.random.default_rng(sample_seed), num_configs), columns=names
        )
    configs = configs[names].reset_index(drop=True)
    value = _fidelity_value(blackbox, fidelity)
    chunks = [(start, min(start + CHUNK, len(configs))) for start in range(0, len(configs), CHUNK)]
    seed_indices = range(len(blackbox.seeds))
    parts = []
    with tqdm(
        total=len(chunks) * len(seed_indices),
        desc=f"{benchmark}: evaluating",
        unit="chunk",
        disable=None if progress is None else not progress,
    ) as bar:
        for seed_index in seed_indices:
            values = np.empty(len(configs))
            for start, stop in chunks:
                block = configs.iloc[start:stop]
                values[start:stop] = blackbox.evaluate(block, np.full(len(block), value), seed_index)[:, column]
                bar.update()
            part = configs.copy()
            part.insert(0, ID_COLUMN, np.arange(len(configs)))
            part[SEED_COLUMN] = np.asarray(blackbox.seeds)[seed_index]
            part[metric] = values
            parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    missing = frame[metric].isna().to_numpy()
    frame = frame[~missing].reset_index(drop=True)
    info = TableInfo(
        benchmark=benchmark,
        blackbox=blackbox.name,
        metric=metric,
        mode=mode,
        fidelity_name=blackbox.fidelity_name,
        fidelity=int(fidelity),
        max_t=int(max_t),
        hyperparameters=names,
        source=source,
        num_configs=len(configs),
        seeds=[_plain(seed) for seed in blackbox.seeds],
        sample_seed=sample_seed if source == "sample" else None,
        dropped=int(missing.sum()),
    )
    return frame, info


def _fidelity_value(blackbox: BlackboxBase, step: int) -> Any:
    """What ``evaluate`` takes for fidelity step ``step``: the step itself for a table; a YAHPO surrogate takes
    the value of its fidelity parameter (``metadata["fidelity_values"]``, e.g. trainsize fractions)."""
    values = (blackbox.metadata or {}).get("fidelity_values")
    if blackbox.tabulated_configs is None and values is not None:
        return values[int(np.searchsorted(blackbox.fidelities, step))]
    return step


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def export_table(
    benchmark: str,
    output: Path | str,
    *,
    fidelity: int | None = None,
    metric: str | None = None,
    num_configs: int = DEFAULT_NUM_CONFIGS,
    sample_seed: int = 0,
    cache_dir: Path | str | None = None,
    progress: bool | None = None,
) -> TableInfo:
    """Write ``benchmark``'s table (see the module docstring) to ``output`` (parquet, written atomically)."""
    from blackbox_repository import BlackboxRepository
    from experiments.benchmarks import get_benchmark

    if num_configs < 1:
        raise ValueError(f"--num_configs must be at least 1, got {num_configs}")
    repository = BlackboxRepository(cache_dir) if cache_dir is not None else BlackboxRepository()
    definition = get_benchmark(benchmark, repository)
    blackbox = repository.load(definition.blackbox)  # the measured table, not a surrogate around it
    definition = definition.resolve(blackbox)
    metric = metric or definition.metric
    mode = blackbox.objective(metric).mode
    if mode is None:
        raise ValueError(f"objective {metric!r} of {benchmark} has no mode (it is not a metric to optimise)")
    assert definition.max_t is not None
    frame, info = export_blackbox(
        blackbox,
        benchmark=benchmark,
        metric=metric,
        mode=mode,
        fidelity=definition.max_t if fidelity is None else fidelity,
        max_t=definition.max_t,
        num_configs=num_configs,
        sample_seed=sample_seed,
        progress=progress,
    )
    write_table(frame, info, output)
    return info


def write_table(frame: pd.DataFrame, info: TableInfo, output: Path | str) -> None:
    """``frame`` as parquet with ``info`` in the schema metadata; a temporary file renamed into place."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    output = Path(output)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = {**(table.schema.metadata or {}), METADATA_KEY.encode(): json.dumps(asdict(info)).encode()}
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table.replace_schema_metadata(metadata), tmp)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def read_info(path: Path | str) -> TableInfo:
    """The ``TableInfo`` of an exported file (``ValueError`` if it has none)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(path).metadata or {}).get(METADATA_KEY.encode())
    if raw is None:
        raise ValueError(f"{path} was not written by python -m experiments.table_data (no {METADATA_KEY})")
    return TableInfo(**json.loads(raw))


# Command line ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m experiments.table_data",
        allow_abbrev=False,
        description="Write a benchmark's data as one row per (configuration, seed) with the metric at one fidelity "
        "(for hyperparameter importance: [figures.importance] table = FILE). Multi-word flags also accept dashes.",
    )
    parser.add_argument("benchmark", help="benchmark name, e.g. sklearn-mlp-digits or yahpo-lcbench-3945")
    parser.add_argument("--output", required=True, type=Path, help="the parquet file to write")
    parser.add_argument("--fidelity", type=int, help="fidelity step (epoch) of the metric (default: max_t)")
    parser.add_argument("--metric", help="objective to export (default: the benchmark's metric)")
    parser.add_argument(
        "--num_configs",
        type=int,
        default=DEFAULT_NUM_CONFIGS,
        help=f"configurations drawn for a benchmark without a table (default: {DEFAULT_NUM_CONFIGS})",
    )
    parser.add_argument("--sample_seed", type=int, default=0, help="seed of that draw (default: 0)")
    parser.add_argument("--cache_dir", type=Path, help="blackbox cache (default: $HPO_BLACKBOX_CACHE or ~/.cache)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (2 for user errors, printed as one ``error:`` line)."""
    from blackbox_repository import BlackboxError
    from experiments.errors import ExperimentError
    from searchspace import SearchSpaceError

    argv = list(sys.argv[1:] if argv is None else argv)
    argv = underscored(argv)
    try:
        args = build_parser().parse_args(argv)
    except UsageError as error:
        return fail(f"{error} (see --help)")
    configure_logging(args.verbose)
    try:
        info = export_table(
            args.benchmark,
            args.output,
            fidelity=args.fidelity,
            metric=args.metric,
            num_configs=args.num_configs,
            sample_seed=args.sample_seed,
            cache_dir=args.cache_dir,
        )
    except (ExperimentError, BlackboxError, SearchSpaceError, ValueError, OSError) as error:
        return fail(str(error))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    rows = info.num_configs * len(info.seeds) - info.dropped
    what = (
        "tabulated configurations" if info.source == "table" else f"configurations sampled with seed {info.sample_seed}"
    )
    dropped = f" ({info.dropped} cells without data dropped)" if info.dropped else ""
    print(
        f"{args.output}: {rows} rows = {info.num_configs} {what} x {len(info.seeds)} seed(s){dropped}; "
        f"{info.metric} ({info.mode}) at {info.fidelity_name} {info.fidelity} of {info.max_t}"
    )
    return 0


if __name__ == "__main__":
    from experiments.table_data import main as _main

    sys.exit(_main())

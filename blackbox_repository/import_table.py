"""Import your own tabulated benchmark from a long table (parquet or CSV).

The table has one row per (configuration, seed, fidelity): hyperparameter columns, a seed column, a
fidelity column (positive integers, e.g. epochs) and objective columns. Every configuration needs a
row for every seed and every fidelity; a missing or duplicated cell is an error naming it.

The search space is declared (``space=``; on the command line ``--space FILE`` and/or
``--hyperparameter NAME:TYPE:...``, see ``space_spec``) or inferred from the values in the table:

- a declared hyperparameter keeps its declared domain (``Float``/``Integer`` with range and log scale,
  ``Categorical``, ``Ordinal``); every row must lie in it (the first row outside is named);
- otherwise string, boolean, object and categorical columns become ``Categorical`` of the sorted distinct
  values, and numeric columns ``Grid`` of the sorted distinct values (every tabulated value, nothing in
  between), so searchers only propose tabulated values.

Declare the space of a table of sampled configurations (e.g. a log-uniform learning rate): surrogates
and methods then see its real geometry. If the table is not a full grid (fewer configurations than a
finite space holds), a warning is logged: searchers sampling from the space may propose untabulated
configurations.

NaN objective values (including in the metric, e.g. a diverged run) are allowed and stored as NaN;
±inf and negative runtimes or elapsed times are refused (the first offending cell is named). If a
runtime objective is named but no elapsed objective, ``elapsed_time`` is derived as the cumulative sum
of the runtime over fidelities.

Names the repository resolves itself (embedded and converted benchmarks, ``nas201-*``, ``fcnet-*``,
``lcbench-*``, ``yahpo-*``) are refused. The command that re-imports the table is recorded in the
metadata (``import_command``): a corrupt imported benchmark exists nowhere else.

Command line::

    python -m blackbox_repository.import_table FILE --name NAME --fidelity_column epoch \
        --seed_column seed --objective valid_error:min --objective runtime --runtime_objective runtime \
        --hyperparameter learning_rate:float:1e-4:1e-1:log --hyperparameter activation:categorical:relu,tanh
"""

from __future__ import annotations

import datetime as dt
import logging
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.blackbox import MODES, Blackbox, Objective
from blackbox_repository.cli import OneLineErrorParser
from blackbox_repository.errors import BlackboxError
from blackbox_repository.recovery import IMPORT_COMMAND_KEY
from blackbox_repository.repository import BlackboxRepository, reserved_name_problem
from blackbox_repository.space_spec import domain_flag, parse_hyperparameter_flags, read_space_file
from searchspace import Categorical, Domain, Grid, Integer, SearchSpace, SearchSpaceError

logger = logging.getLogger(__name__)

DERIVED_ELAPSED = "elapsed_time"
READERS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".csv.gz": "csv"}


def import_table(
    path_or_frame: str | Path | pd.DataFrame,
    *,
    name: str,
    fidelity_column: str,
    seed_column: str,
    objectives: Sequence[str],
    hyperparameter_columns: Sequence[str] | None = None,
    metric: str | None = None,
    runtime_objective: str | None = None,
    elapsed_objective: str | None = None,
    repository: BlackboxRepository | None = None,
    space: SearchSpace | Mapping[str, Domain] | None = None,
) -> Blackbox:
    """Build a ``Blackbox`` from a long table; if ``repository`` is given, also store it in its cache.

    Args:
        path_or_frame: a ``.parquet``/``.pq``/``.csv``/``.csv.gz`` file or a DataFrame.
        name: benchmark name (a directory name in the cache).
        fidelity_column: column of positive integer fidelities (epochs); it names the fidelity axis.
        seed_column: column of integer seeds.
        objectives: objective specs ``"name"``, ``"name:min"`` or ``"name:max"``.
        hyperparameter_columns: configuration columns (default: every other column).
        metric: default metric (default: the first objective with a mode).
        runtime_objective: objective holding the seconds of each fidelity step, if any.
        elapsed_objective: objective holding cumulative seconds; derived from the runtime if omitted.
        repository: where to store the benchmark (nothing is stored if None).
        space: declared domains of (some of) the hyperparameters (see the module docstring); declared names are
            hyperparameter columns; with ``hyperparameter_columns`` None, only they are.
    """
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise BlackboxError(f"benchmark name {name!r} is not a valid directory name; use e.g. 'my-benchmark'")
    reserved = reserved_name_problem(name)
    if reserved is not None:
        raise BlackboxError(f"cannot import under the name {name!r}: {reserved}; choose another, e.g. 'my-{name}'")
    declared = _declared(space)
    frame, source = _read(path_or_frame)
    specs = _objective_specs(objectives)
    objective_names = [objective.name for objective in specs]
    inferred = hyperparameter_columns is None and not declared
    if hyperparameter_columns is None:
        used = {fidelity_column, seed_column, *objective_names}
        hyperparameter_columns = list(declared) or [column for column in frame.columns if column not in used]
    hyperparameter_columns = list(dict.fromkeys([*hyperparameter_columns, *declared]))
    _check_columns(frame, [fidelity_column, seed_column, *objective_names, *hyperparameter_columns])
    _check_roles(fidelity_column, seed_column, objective_names, hyperparameter_columns)
    metric, runtime_objective, elapsed_objective, derive_elapsed = _check_names(
        specs, metric, runtime_objective, elapsed_objective
    )

    fidelity_codes, fidelities = _integer_axis(frame[fidelity_column], fidelity_column, positive=True)
    seed_codes, seeds = _integer_axis(frame[seed_column], seed_column, positive=False)
    config_codes, configs, space = _configurations(frame, hyperparameter_columns, declared)
    shape = (len(configs), len(seeds), len(fidelities))
    cell = (config_codes * shape[1] + seed_codes) * shape[2] + fidelity_codes
    problem = _cell_problem(np.bincount(cell, minlength=int(np.prod(shape))), shape)
    if problem is not None:
        kind, (c, s, f), count, cells = problem
        where = f"configuration {_row(configs, c)}, seed {seeds[s]}, {fidelity_column} {fidelities[f]}"
        raise BlackboxError(_cell_message(kind, where, count, cells, fidelity_column, hyperparameter_columns, inferred))
    seconds = [runtime_objective] + ([] if derive_elapsed else [elapsed_objective])
    _check_values(frame, [o.name for o in specs], [o for o in seconds if o], hyperparameter_columns,
                  (seed_column, fidelity_column))
    table, info = _objective_table(frame, cell, shape, specs, runtime_objective if derive_elapsed else None)
    space_size = space.size
    if space_size is not None and space_size != shape[0]:
        logger.warning(
            "%r tabulates %d configurations but the inferred space holds %d; searchers sampling from the "
            "space may propose untabulated configurations",
            name, shape[0], space_size,
        )
    blackbox = Blackbox(
        name=name,
        space=space,
        configs=configs,
        fidelities=fidelities,
        seeds=seeds,
        objectives=table,
        objective_info=info,
        metric=metric,
        runtime_objective=runtime_objective,
        elapsed_objective=elapsed_objective,
        fidelity_name=fidelity_column,
        metadata={
            "description": f"imported from {source} by blackbox_repository.import_table",
            "source": source,
            "rows": len(frame),
            "imported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "space_declared": sorted(declared),
            IMPORT_COMMAND_KEY: _import_command(
                path_or_frame, name, (fidelity_column, seed_column), objectives, hyperparameter_columns, declared,
                (metric, runtime_objective, None if derive_elapsed else elapsed_objective),
            ),
        },
    )
    if repository is not None:
        repository.store(blackbox)
    return blackbox


def _declared(space: SearchSpace | Mapping[str, Domain] | None) -> dict[str, Domain]:
    """The declared domains by name; a space with conditions is refused (imported tables have no inactive values)."""
    if space is None:
        return {}
    if isinstance(space, SearchSpace) and space.conditions:
        raise BlackboxError("a declared space with conditions cannot be imported; declare unconditional domains")
    return dict(space.items())


def _check_values(
    frame: pd.DataFrame,
    objectives: list[str],
    seconds: list[str],
    hyperparameters: list[str],
    axes: tuple[str, str],
) -> None:
    """Refuse ±inf objectives and negative seconds, naming the first offending cell (NaN is allowed)."""
    for objective in objectives:
        values = _numeric(frame[objective], objective)
        bad = np.isinf(values) | ((values < 0) if objective in seconds else False)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            where = {column: _python(frame[column].iloc[row]) for column in hyperparameters}
            seed, fidelity = (_python(frame[column].iloc[row]) for column in axes)
            rule = (
                "seconds must be finite and >= 0 (NaN if unknown)"
                if objective in seconds
                else "objectives must be finite (NaN if missing)"
            )
            raise BlackboxError(
                f"row {row} (configuration {where}, {axes[0]} {seed}, {axes[1]} {fidelity}): column "
                f"{objective!r} is {values[row]}; {rule}: fix the table ({int(bad.sum())} such cells)"
            )


def _import_command(
    path_or_frame: str | Path | pd.DataFrame,
    name: str,
    axes: tuple[str, str],
    objectives: Sequence[str],
    hyperparameters: list[str],
    declared: Mapping[str, Domain],
    roles: tuple[str | None, str | None, str | None],
) -> str | None:
    """The command line that imports this table again (None for a DataFrame: it has no file)."""
    if isinstance(path_or_frame, pd.DataFrame):
        return None
    words = ["python", "-m", "blackbox_repository.import_table", str(Path(path_or_frame).resolve()), "--name", name,
             "--fidelity_column", axes[0], "--seed_column", axes[1]]
    words += [word for objective in objectives for word in ("--objective", objective)]
    flags = [domain_flag(column, declared[column]) if column in declared else column for column in hyperparameters]
    if None in flags:
        words += ["--space", "SPACE.json"]  # written from this benchmark's metadata.json "space"
        flags = [column for column in hyperparameters if column not in declared]
    words += [word for flag in flags for word in ("--hyperparameter", flag)]
    for option, value in zip(("--metric", "--runtime_objective", "--elapsed_objective"), roles):
        if value is not None:
            words += [option, value]
    return shlex.join(words)


def _objective_specs(objectives: Sequence[str]) -> list[Objective]:
    """The parsed objective specs; an error if there are none or one is listed twice."""
    specs = [_parse_objective(spec) for spec in objectives]
    names = [objective.name for objective in specs]
    if not specs:
        raise BlackboxError("no objective given; pass at least one, e.g. --objective valid_error:min")
    if len(set(names)) != len(names):
        raise BlackboxError(f"objectives are listed twice: {names}; list each once")
    return specs


def _cell_problem(
    counts: np.ndarray, shape: tuple[int, int, int]
) -> tuple[str, tuple[int, int, int], int, int] | None:
    """The first (configuration, seed, fidelity) cell with several rows, else the first with none, else None.

    Returns (kind, cell index, rows in that cell, number of such cells), kind "duplicate rows" or "missing value".
    """
    for bad, kind in ((counts > 1, "duplicate rows"), (counts == 0, "missing value")):
        first = np.flatnonzero(bad)
        if len(first):
            c, s, f = np.unravel_index(first[0], shape)
            return kind, (int(c), int(s), int(f)), int(counts[first[0]]), len(first)
    return None


def _cell_message(
    kind: str, where: str, count: int, cells: int, fidelity_column: str, hyperparameters: list[str], inferred: bool
) -> str:
    """The error about a duplicated or missing cell ``where`` (with a hint if the hyperparameters were inferred)."""
    if kind == "duplicate rows":
        return (
            f"duplicate rows: {where} has {count} rows ({cells} cells are duplicated); "
            "keep one row per configuration, seed and fidelity"
        )
    hint = (
        f"; the hyperparameter columns were taken to be {', '.join(hyperparameters)}: name them "
        "explicitly if some are not hyperparameters"
        if inferred
        else ""
    )
    return (
        f"missing value: {where} has no row (every configuration needs every seed and "
        f"{fidelity_column}; {cells} cells are missing){hint}"
    )


def _objective_table(
    frame: pd.DataFrame,
    cell: np.ndarray,
    shape: tuple[int, int, int],
    specs: list[Objective],
    derive_from: str | None,
) -> tuple[np.ndarray, list[Objective]]:
    """The objectives array (configs, seeds, fidelities, objectives) and its objectives.

    With ``derive_from`` (the runtime objective) a last objective ``elapsed_time`` is its cumulative sum.
    """
    names = [objective.name for objective in specs]
    num_objectives = len(specs) + int(derive_from is not None)
    table = np.empty((int(np.prod(shape)), num_objectives), dtype=np.float64)
    for k, objective in enumerate(names):
        table[cell, k] = _numeric(frame[objective], objective)
    table = table.reshape(*shape, num_objectives)
    info = list(specs)
    if derive_from is not None:
        runtime_index = names.index(derive_from)
        table[..., -1] = np.cumsum(table[..., runtime_index], axis=2)
        info.append(Objective(DERIVED_ELAPSED, None, info[runtime_index].unit))
    return table, info


# Reading and checking ----------------------------------------------------------------------------


def _read(path_or_frame: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if isinstance(path_or_frame, pd.DataFrame):
        return path_or_frame, "a DataFrame"
    path = Path(path_or_frame)
    suffix = next((suffix for suffix in READERS if path.name.lower().endswith(suffix)), None)
    if suffix is None:
        raise BlackboxError(
            f"cannot read {path}: unsupported extension; use one of {', '.join(READERS)} (long format)"
        )
    if not path.is_file():
        raise BlackboxError(f"file {path} does not exist; check the path")
    try:
        if READERS[suffix] == "parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise BlackboxError(f"cannot read {path}: {error}; is it a valid {READERS[suffix]} file?") from None
    return frame, str(path)


def _parse_objective(spec: str) -> Objective:
    name, _, mode = spec.partition(":")
    if not name or (mode and mode not in MODES) or (":" in spec and not mode):
        raise BlackboxError(f"bad objective spec {spec!r}; use NAME, NAME:min or NAME:max")
    return Objective(name, mode or None)


def _check_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    unknown = [column for column in dict.fromkeys(columns) if column not in frame.columns]
    if unknown:
        raise BlackboxError(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; available "
            f"columns: {', '.join(map(str, frame.columns))}"
        )


def _check_roles(fidelity: str, seed: str, objectives: list[str], hyperparameters: list[str]) -> None:
    roles: dict[str, str] = {}
    for role, columns in (
        ("fidelity", [fidelity]),
        ("seed", [seed]),
        ("objective", objectives),
        ("hyperparameter", hyperparameters),
    ):
        for column in columns:
            if column in roles:
                raise BlackboxError(
                    f"column {column!r} is used both as {roles[column]} and {role}; give each column one role"
                )
            roles[column] = role
    if not hyperparameters:
        raise BlackboxError("no hyperparameter column left; pass the configuration columns with --hyperparameter")


def _check_names(
    specs: list[Objective], metric: str | None, runtime: str | None, elapsed: str | None
) -> tuple[str, str | None, str | None, bool]:
    names = [objective.name for objective in specs]
    for role, value in (("metric", metric), ("runtime objective", runtime), ("elapsed objective", elapsed)):
        if value is not None and value not in names:
            raise BlackboxError(f"{role} {value!r} is not one of the objectives {names}; add it with --objective")
    if metric is None:
        metric = next((objective.name for objective in specs if objective.mode is not None), None)
        if metric is None:
            raise BlackboxError("no objective has a mode; mark the metric as NAME:min or NAME:max")
    elif next(objective for objective in specs if objective.name == metric).mode is None:
        raise BlackboxError(f"metric {metric!r} has no mode; write it as {metric}:min or {metric}:max")
    derive = runtime is not None and elapsed is None
    if derive:
        if DERIVED_ELAPSED in names:
            raise BlackboxError(
                f"an objective is already called {DERIVED_ELAPSED!r}; pass --elapsed-objective {DERIVED_ELAPSED}"
            )
        elapsed = DERIVED_ELAPSED
    if runtime is not None:
        specs[names.index(runtime)] = Objective(runtime, specs[names.index(runtime)].mode, "s")
    if elapsed is not None and not derive:
        specs[names.index(elapsed)] = Objective(elapsed, specs[names.index(elapsed)].mode, "s")
    return metric, runtime, elapsed, derive


def _integer_axis(column: pd.Series, name: str, *, positive: bool) -> tuple[np.ndarray, np.ndarray]:
    """Codes (position of each row's value among the sorted distinct values) and those values."""
    kind = "positive integers" if positive else "integers"
    if not (pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)):
        raise BlackboxError(f"column {name!r} must hold {kind}, but it has dtype {column.dtype}")
    codes, uniques = pd.factorize(column, sort=True)
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise BlackboxError(f"column {name!r} has a missing value in row {row}; it must hold {kind}")
    values = np.asarray(uniques, dtype=np.float64)
    if not np.all(np.isfinite(values) & (values == np.round(values))) or (positive and values[0] <= 0):
        bad = next(v for v in values if not (np.isfinite(v) and v == round(v) and (v > 0 or not positive)))
        raise BlackboxError(f"column {name!r} must hold {kind}, found {bad}")
    return codes.astype(np.int64), values.astype(np.int64)


def _configurations(
    frame: pd.DataFrame, columns: list[str], declared: Mapping[str, Domain]
) -> tuple[np.ndarray, pd.DataFrame, SearchSpace]:
    """Configuration code of every row, the distinct configurations (sorted) and the space (declared or inferred)."""
    codes, domains, uniques = [], {}, []
    for column in columns:
        series = frame[column]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(series.cat.categories.dtype)
        if isinstance(declared.get(column), Integer) and pd.api.types.is_float_dtype(series):
            whole = series.dropna()
            if (whole == np.round(whole)).all():
                series = series.astype("Int64" if series.isna().any() else np.int64)
        try:
            column_codes, values = pd.factorize(series, sort=True)
        except TypeError:  # mixed types in an object column: order by text
            column_codes, values = pd.factorize(series.astype(str), sort=True)
        if (column_codes < 0).any():
            row = int(np.flatnonzero(column_codes < 0)[0])
            raise BlackboxError(
                f"hyperparameter column {column!r} has a missing value in row {row}; fill it or drop the row"
            )
        choices = tuple(_python(value) for value in np.asarray(values).tolist())
        if column in declared:
            _check_declared(column, declared[column], choices, column_codes)
            domains[column] = declared[column]
        else:
            numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
            try:
                domains[column] = Grid(choices) if numeric else Categorical(choices)
            except SearchSpaceError as error:
                raise BlackboxError(f"hyperparameter column {column!r}: {error}") from None
        codes.append(column_codes.astype(np.int64))
        uniques.append(values)

    sizes = [len(values) for values in uniques]
    if float(np.prod(sizes, dtype=np.float64)) < 2**62:  # one mixed-radix integer per row, in sorted order
        key = np.zeros(len(frame), dtype=np.int64)
        for column_codes, size in zip(codes, sizes):
            key = key * size + column_codes
        config_codes, distinct = pd.factorize(key, sort=True)
        digits = []
        for size in reversed(sizes):
            digits.append(distinct % size)
            distinct = distinct // size
        digits.reverse()
    else:  # astronomically large product of sizes: let pandas group the code columns
        code_frame = pd.DataFrame(dict(enumerate(codes)))
        config_codes = code_frame.groupby(list(code_frame.columns), sort=True).ngroup().to_numpy()
        firsts = np.unique(config_codes, return_index=True)[1]
        digits = [column_codes[firsts] for column_codes in codes]
    configs = pd.DataFrame(
        {column: _take(values, digit) for column, values, digit in zip(columns, uniques, digits)}
    )
    return np.asarray(config_codes, dtype=np.int64), configs, SearchSpace(domains)


def _check_declared(column: str, domain: Domain, values: tuple, codes: np.ndarray) -> None:
    """Every distinct value of ``column`` lies in its declared domain; else an error naming the first row outside."""
    outside = [code for code, value in enumerate(values) if not domain.contains(value)]
    if outside:
        row = int(np.flatnonzero(np.isin(codes, outside))[0])
        value = values[int(codes[row])]
        raise BlackboxError(
            f"row {row}: {column}={value!r} is outside its declared domain {domain}; fix the row or widen the "
            f"declaration ({len(outside)} distinct values are outside)"
        )


def _take(values: Any, positions: np.ndarray) -> pd.Index:
    return pd.Index(values).take(positions)


def _numeric(column: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        raise BlackboxError(f"objective column {name!r} is not numeric (dtype {column.dtype}); objectives are numbers")
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _row(configs: pd.DataFrame, row: int) -> dict[str, Any]:
    return {key: _python(value) for key, value in configs.iloc[int(row)].items()}


def _python(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# Command line ------------------------------------------------------------------------------------



def main(argv: Sequence[str] | None = None) -> int:
    """Command line: import FILE into the benchmark cache and print a one-line summary."""
    parser = OneLineErrorParser(
        prog="python -m blackbox_repository.import_table",
        description="Import a long table (one row per configuration, seed and fidelity) as a benchmark.",
        allow_abbrev=False,
    )
    parser.add_argument("file", type=Path, help="a .parquet or .csv file in long format")
    parser.add_argument("--name", required=True, help="benchmark name (not a name the repository resolves itself)")
    parser.add_argument("--fidelity_column", required=True, help="column of positive integer fidelities (epochs)")
    parser.add_argument("--seed_column", required=True, help="column of integer seeds")
    parser.add_argument(
        "--objective", action="append", required=True, dest="objectives",
        help="objective column as NAME, NAME:min or NAME:max (repeat for several)",
    )
    parser.add_argument(
        "--hyperparameter", action="append", dest="hyperparameters", default=[], metavar="SPEC",
        help="hyperparameter column (repeat; default: every other column, or the declared ones): NAME infers its "
        "domain from the values in the table; NAME:float:LOW:HIGH[:log], NAME:int:LOW:HIGH[:log], "
        "NAME:categorical:A,B,... or NAME:ordinal:A,B,... declares it (every row is checked against it)",
    )
    parser.add_argument(
        "--space", type=Path, metavar="FILE",
        help='.json or .toml declaring hyperparameters, e.g. {"lr": {"type": "float", "low": 1e-4, "high": 0.1, '
        '"log": true}, "act": {"type": "categorical", "choices": ["relu", "tanh"]}} (types float, int, '
        "categorical, ordinal, grid); --hyperparameter declarations take precedence",
    )
    parser.add_argument("--metric", help="default metric (default: the first objective with a mode)")
    parser.add_argument("--runtime_objective", help="objective with the seconds of each fidelity step")
    parser.add_argument("--elapsed_objective", help="objective with cumulative seconds (default: derived)")
    parser.add_argument("--cache_dir", type=Path, help="benchmark cache (default: $HPO_BLACKBOX_CACHE or ~/.cache)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
    repository = BlackboxRepository(args.cache_dir)
    try:
        columns, declared = parse_hyperparameter_flags(args.hyperparameters)
        if args.space is not None:
            declared = {**_declared(read_space_file(args.space)), **declared}
        blackbox = import_table(
            args.file,
            name=args.name,
            fidelity_column=args.fidelity_column,
            seed_column=args.seed_column,
            objectives=args.objectives,
            hyperparameter_columns=columns or None,
            metric=args.metric,
            runtime_objective=args.runtime_objective,
            elapsed_objective=args.elapsed_objective,
            repository=repository,
            space=declared or None,
        )
    except (BlackboxError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"stored {blackbox.name!r} in {repository.cache_dir / blackbox.name}: {blackbox.num_configs} configurations "
        f"x {len(blackbox.seeds)} seeds x {len(blackbox.fidelities)} {blackbox.fidelity_name}s, objectives "
        f"{', '.join(blackbox.objective_names)}, metric {blackbox.metric} ({blackbox.mode})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""import_table: a user's long table becomes a benchmark, cell by cell, with clear errors."""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blackbox_repository import BlackboxError, BlackboxRepository
from blackbox_repository.import_table import import_table
from searchspace import Categorical, Float, Grid, Integer

REPO = Path(__file__).resolve().parents[2]
LEARNING_RATES = (0.1, 0.003, 1e-4)
ACTIVATIONS = ("tanh", "relu")
LAYERS = (1, 2)
SEEDS = (11, 3)
EPOCHS = 5


def long_table() -> pd.DataFrame:
    """Every (configuration, seed, epoch) once, rows shuffled; columns in a user's order."""
    rows = []
    for act in ACTIVATIONS:
        for lr in LEARNING_RATES:
            for layers in LAYERS:
                for seed in SEEDS:
                    for epoch in range(1, EPOCHS + 1):
                        error = lr * 10 + layers / 10 + (act == "relu") / 100 + seed / 1000 + 1 / (10 * epoch)
                        runtime = 0.5 * layers + 0.01 * epoch
                        rows.append((act, lr, layers, seed, epoch, error, runtime, error / 2))
    frame = pd.DataFrame(
        rows, columns=["act", "lr", "layers", "seed", "epoch", "valid_error", "runtime", "test_error"]
    )
    return frame.sample(frac=1.0, random_state=0).reset_index(drop=True)


def import_frame(source, **kwargs):
    options = dict(
        name="my-bench",
        fidelity_column="epoch",
        seed_column="seed",
        objectives=["valid_error:min", "runtime", "test_error:min"],
        runtime_objective="runtime",
    )
    options.update(kwargs)
    return import_table(source, **options)


def check_cells(bb, frame: pd.DataFrame) -> None:
    seeds = list(bb.seeds)
    names = ["valid_error", "runtime", "test_error"]
    indices = [bb.objective_index(name) for name in names]
    for row in frame.itertuples(index=False):
        config = {"act": row.act, "lr": row.lr, "layers": row.layers}
        cell = bb.objectives[bb.index_of(config), seeds.index(row.seed), row.epoch - 1]
        np.testing.assert_allclose(cell[indices], [getattr(row, name) for name in names], rtol=1e-12)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_round_trip_cell_by_cell(tmp_path: Path, suffix: str) -> None:
    frame = long_table()
    path = tmp_path / f"table{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    bb = import_frame(path)
    assert bb.num_configs == len(ACTIVATIONS) * len(LEARNING_RATES) * len(LAYERS)
    assert bb.objectives.shape == (12, 2, EPOCHS, 4)
    assert list(bb.seeds) == sorted(SEEDS) and list(bb.fidelities) == list(range(1, EPOCHS + 1))
    assert bb.space["act"] == Categorical(("relu", "tanh"))
    assert bb.space["lr"] == Grid(tuple(sorted(LEARNING_RATES)))
    assert bb.space["layers"] == Grid(LAYERS)
    assert bb.space.size == bb.num_configs
    assert (bb.metric, bb.mode, bb.fidelity_name) == ("valid_error", "min", "epoch")
    assert (bb.runtime_objective, bb.elapsed_objective) == ("runtime", "elapsed_time")
    check_cells(bb, frame)
    runtime = bb.objectives[..., bb.objective_index("runtime")]
    np.testing.assert_allclose(bb.objectives[..., bb.objective_index("elapsed_time")], np.cumsum(runtime, axis=2))
    for config in bb.space.sample_many(np.random.default_rng(0), 20):  # searchers' samples are tabulated
        bb.index_of(config)


def test_without_runtime_the_time_objectives_are_none() -> None:
    bb = import_frame(long_table(), objectives=["valid_error:max", "runtime", "test_error"], runtime_objective=None)
    assert bb.runtime_objective is None and bb.elapsed_objective is None
    assert bb.objective_names == ["valid_error", "runtime", "test_error"] and bb.mode == "max"


def test_an_unlisted_objective_taken_for_a_hyperparameter_is_hinted_at() -> None:
    with pytest.raises(BlackboxError, match="hyperparameter columns were taken to be act, lr, layers, test_error"):
        import_frame(long_table(), objectives=["valid_error:min", "runtime"])


def test_missing_cell_error_names_the_first_missing_cell() -> None:
    frame = long_table()
    late = (frame.act == "tanh") & (frame.lr == 0.1) & (frame.layers == 2) & (frame.seed == 11) & (frame.epoch == 4)
    early = (frame.act == "relu") & (frame.lr == 0.003) & (frame.layers == 1) & (frame.seed == 3) & (frame.epoch == 2)
    drop = late | early  # the table's order does not matter: "first" is in sorted (config, seed, epoch) order
    with pytest.raises(BlackboxError) as error:
        import_frame(frame[~drop])
    message = str(error.value)
    assert message.startswith(
        "missing value: configuration {'act': 'relu', 'lr': 0.003, 'layers': 1}, seed 3, epoch 2 has no row "
        "(every configuration needs every seed and epoch"
    )
    assert "\n" not in message


def test_duplicate_rows_are_refused() -> None:
    frame = long_table()
    with pytest.raises(BlackboxError, match=r"duplicate rows: configuration \{.*\}, seed \d+, epoch \d has 2 rows"):
        import_frame(pd.concat([frame, frame.iloc[[7]]]))


def test_nan_objective_values_are_kept() -> None:
    frame = long_table()
    frame.loc[3, "valid_error"] = np.nan
    bb = import_frame(frame)
    row = frame.loc[3]
    config = {"act": row.act, "lr": row.lr, "layers": row.layers}
    value = bb.objectives[bb.index_of(config), list(bb.seeds).index(row.seed), row.epoch - 1, 0]
    assert np.isnan(value)
    assert np.isfinite(bb.best_value())


def test_partial_grid_warns_that_the_space_is_larger(caplog: pytest.LogCaptureFixture) -> None:
    frame = long_table()
    frame = frame[~((frame.act == "relu") & (frame.lr == 0.1) & (frame.layers == 1))]
    with caplog.at_level(logging.WARNING, logger="blackbox_repository.import_table"):
        bb = import_frame(frame)
    assert bb.num_configs == 11
    assert "tabulates 11 configurations but the inferred space holds 12" in caplog.text


def test_explicit_hyperparameters_and_metric() -> None:
    frame = long_table().drop(columns=["layers"])
    frame = frame.drop_duplicates(["act", "lr", "seed", "epoch"])
    bb = import_frame(frame, hyperparameter_columns=["lr", "act"], metric="test_error")
    assert bb.space.names == ["lr", "act"] and bb.metric == "test_error"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objectives": ["valid_error:best"]}, "bad objective spec 'valid_error:best'; use NAME, NAME:min or NAME:max"),
        ({"objectives": ["valid_error:min", "nope"]}, "unknown column 'nope'; available columns: act, lr, layers"),
        ({"seed_column": "rng"}, "unknown column 'rng'"),
        ({"objectives": ["valid_error", "runtime"]}, "no objective has a mode"),
        ({"metric": "runtime"}, "metric 'runtime' has no mode"),
        ({"hyperparameter_columns": ["lr", "epoch"]}, "column 'epoch' is used both as fidelity and hyperparameter"),
        ({"name": "../escape"}, "not a valid directory name"),
    ],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(BlackboxError) as error:
        import_frame(long_table(), **kwargs)
    assert message in str(error.value)


def test_bad_files_and_fidelities(tmp_path: Path) -> None:
    with pytest.raises(BlackboxError, match="does not exist"):
        import_frame(tmp_path / "absent.parquet")
    (tmp_path / "table.xlsx").write_text("x")
    with pytest.raises(BlackboxError, match="unsupported extension"):
        import_frame(tmp_path / "table.xlsx")
    frame = long_table()
    frame["epoch"] -= 1
    with pytest.raises(BlackboxError, match="column 'epoch' must hold positive integers, found 0"):
        import_frame(frame)


def test_storing_in_a_repository(tmp_path: Path) -> None:
    repository = BlackboxRepository(tmp_path / "repo")
    bb = import_frame(long_table(), repository=repository)
    loaded = repository.load("my-bench")
    np.testing.assert_array_equal(loaded.objectives, bb.objectives)
    check_cells(loaded, long_table())


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HPO_BLACKBOX_CACHE=str(cache))
    return subprocess.run(
        [sys.executable, "-m", "blackbox_repository.import_table", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def test_cli_end_to_end(tmp_path: Path) -> None:
    frame = long_table()
    frame.to_parquet(tmp_path / "table.parquet")
    cache = tmp_path / "cli-cache"
    result = run_cli(
        str(tmp_path / "table.parquet"), "--name", "cli-bench", "--fidelity-column", "epoch", "--seed-column", "seed",
        "--objective", "valid_error:min", "--objective", "runtime", "--objective", "test_error:min",
        "--hyperparameter", "act", "--hyperparameter", "lr", "--hyperparameter", "layers",
        "--runtime-objective", "runtime", "--cache-dir", str(cache),
        cache=cache,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 and result.stdout.startswith("stored 'cli-bench'")
    bb = BlackboxRepository(cache).load("cli-bench")
    assert bb.objective_names == ["valid_error", "runtime", "test_error", "elapsed_time"]
    check_cells(bb, frame)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["absent.parquet"], "error: file absent.parquet does not exist"),
        (["TABLE", "--objective", "nope:min"], "error: unknown column 'nope'"),
        (["TABLE", "--objective", "valid_error:up"], "error: bad objective spec"),
        (["TABLE", "--no-such-flag"], "error: unrecognized arguments: --no-such-flag"),
    ],
)
def test_cli_errors_are_one_line_with_exit_code_2(tmp_path: Path, args: list[str], message: str) -> None:
    table = tmp_path / "table.csv"
    long_table().to_csv(table, index=False)
    args = [str(table) if arg == "TABLE" else arg for arg in args]
    if "--objective" not in args:
        args += ["--objective", "valid_error:min"]
    common = ["--name", "x", "--fidelity-column", "epoch", "--seed-column", "seed"]
    result = run_cli(*args, *common, cache=tmp_path / "cli-cache")
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "cli-cache" / "x").exists()


# Bad values, reserved names, recovery advice (issue 11, items 5 and 6) -----------------------------------


def first_row(frame: pd.DataFrame, **where) -> int:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in where.items():
        mask &= frame[column].to_numpy() == value
    return int(np.flatnonzero(mask)[0])


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("valid_error", np.inf, "objectives must be finite"),
        ("test_error", -np.inf, "objectives must be finite"),
        ("runtime", -0.25, "seconds must be finite and >= 0"),
        ("runtime", np.inf, "seconds must be finite and >= 0"),
    ],
)
def test_infinite_objectives_and_negative_runtimes_are_refused_naming_the_cell(column, value, rule) -> None:
    frame = long_table()
    row = first_row(frame, act="relu", lr=0.003, layers=2, seed=3, epoch=4)
    frame.loc[row, column] = value
    with pytest.raises(BlackboxError) as error:
        import_frame(frame)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(
        f"row {row} (configuration {{'act': 'relu', 'lr': 0.003, 'layers': 2}}, seed 3, epoch 4): column {column!r} "
        f"is {value}; {rule}"
    ), message


def test_a_given_elapsed_objective_must_not_be_negative() -> None:
    frame = long_table()
    frame["elapsed"] = frame["runtime"] * frame["epoch"]
    frame.loc[0, "elapsed"] = -1.0
    with pytest.raises(BlackboxError, match="row 0 .*column 'elapsed' is -1.0; seconds must be"):
        import_frame(frame, objectives=["valid_error:min", "runtime", "test_error", "elapsed"],
                     elapsed_objective="elapsed")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("nas201-cifar10", "'nas201-cifar10' is the name of a converted benchmark"),
        ("fcnet-mine", "names starting with 'fcnet-' are reserved for the repository's own benchmarks"),
        ("lcbench-anything", "names starting with 'lcbench-' are reserved for the repository's own benchmarks"),
        ("yahpo-lcbench-3945", "names starting with 'yahpo-' are reserved for the repository's own benchmarks"),
        ("sklearn-mlp-digits", "'sklearn-mlp-digits' is the name of an embedded benchmark"),
    ],
)
def test_reserved_names_are_refused_up_front(tmp_path: Path, name: str, why: str) -> None:
    with pytest.raises(BlackboxError) as error:
        import_frame(tmp_path / "not-even-read.csv", name=name)  # refused before the file is read
    assert str(error.value) == f"cannot import under the name {name!r}: {why}; choose another, e.g. 'my-{name}'"


def test_a_corrupt_imported_benchmark_says_how_to_import_it_again(tmp_path: Path) -> None:
    table = tmp_path / "runs.csv"
    long_table().to_csv(table, index=False)
    repository = BlackboxRepository(tmp_path / "repo")
    import_frame(table, repository=repository)
    (tmp_path / "repo" / "my-bench" / "objectives.npy").write_bytes(b"corrupt")
    with pytest.raises(BlackboxError) as error:
        repository.load("my-bench")
    message = str(error.value)
    assert "generated again" not in message and "\n" not in message
    assert "was imported from a table and exists nowhere else: re-import it from the original table with python -m " \
        f"blackbox_repository.import_table {table.resolve()} --name my-bench --fidelity_column epoch" in message
    assert "--runtime_objective runtime" in message


def test_the_recorded_import_command_imports_the_same_benchmark(tmp_path: Path) -> None:
    table = tmp_path / "runs.csv"
    long_table().to_csv(table, index=False)
    first = import_frame(table, space={"lr": Float(1e-4, 0.1, log=True)}, hyperparameter_columns=["act", "layers"])
    command = shlex.split(first.metadata["import_command"])
    assert command[:3] == ["python", "-m", "blackbox_repository.import_table"]
    cache = tmp_path / "again"
    result = run_cli(*command[3:], cache=cache)
    assert result.returncode == 0, result.stderr
    again = BlackboxRepository(cache).load("my-bench")
    assert again.space == first.space and again.space["lr"] == Float(1e-4, 0.1, log=True)
    np.testing.assert_array_equal(again.objectives, first.objectives)


# A declared search space ---------------------------------------------------------------------------------


def test_a_declared_space_is_kept_checked_and_stored(tmp_path: Path) -> None:
    declared = {"lr": Float(1e-5, 1.0, log=True), "layers": Integer(1, 4), "act": Categorical(("relu", "tanh", "elu"))}
    repository = BlackboxRepository(tmp_path / "repo")
    bb = import_frame(long_table(), space=declared, repository=repository)
    assert dict(bb.space.items()) == {**declared}  # only the declared columns are hyperparameters
    stored = repository.load("my-bench")
    assert stored.space == bb.space and stored.metadata["space_declared"] == ["act", "layers", "lr"]
    assert stored.space["lr"].encode(1e-4) == pytest.approx(0.2)  # the log scale reaches the surrogates
    check_cells(stored, long_table())


def test_without_a_declared_space_the_old_inference_is_kept() -> None:
    bb = import_frame(long_table())
    assert bb.space["lr"] == Grid(tuple(sorted(LEARNING_RATES))) and bb.space["act"] == Categorical(("relu", "tanh"))


@pytest.mark.parametrize(
    ("domain", "column", "value"),
    [
        (Float(1e-3, 1.0, log=True), "lr", 1e-4),
        (Integer(2, 4), "layers", 1),
        (Categorical(("relu", "elu")), "act", "tanh"),
    ],
)
def test_a_row_outside_the_declared_space_is_named(domain, column: str, value) -> None:
    frame = long_table()
    with pytest.raises(BlackboxError) as error:
        import_frame(frame, space={column: domain}, hyperparameter_columns=["act", "lr", "layers"])
    row = first_row(frame, **{column: value})
    assert str(error.value).startswith(f"row {row}: {column}={value!r} is outside its declared domain {domain}")


def test_an_integer_declared_column_stored_as_floats_is_read_as_integers() -> None:
    frame = long_table()
    frame["layers"] = frame["layers"].astype(float)
    bb = import_frame(frame, space={"layers": Integer(1, 2)}, hyperparameter_columns=["act", "lr"])
    assert bb.configs["layers"].dtype.kind == "i"
    bb.space.validate(dict(bb.configs.iloc[0]))


def test_cli_declares_the_space_by_flags_and_by_file(tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    long_table().to_csv(table, index=False)
    space_file = tmp_path / "space.toml"
    space_file.write_text('[lr]\ntype = "float"\nlow = 1e-5\nhigh = 1.0\nlog = true\n'
                          '[act]\ntype = "categorical"\nchoices = ["relu", "tanh"]\n')
    cache = tmp_path / "cli-cache"
    result = run_cli(
        str(table), "--name", "declared", "--fidelity_column", "epoch", "--seed_column", "seed",
        "--objective", "valid_error:min", "--space", str(space_file), "--hyperparameter", "layers:int:1:8:log",
        cache=cache,
    )
    assert result.returncode == 0, result.stderr
    space = BlackboxRepository(cache).load("declared").space
    assert dict(space.items()) == {"lr": Float(1e-5, 1.0, log=True), "act": Categorical(("relu", "tanh")),
                                   "layers": Integer(1, 8, log=True)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hyperparameter", "lr:float:1e-3:1:log"], "error: row "),
        (["--hyperparameter", "lr:float:1e-3"], "error: bad hyperparameter 'lr:float:1e-3'; use NAME, NAME:float:"),
        (["--hyperparameter", "layers:int:1.5:3"], "error: bad hyperparameter 'layers:int:1.5:3': int bounds must"),
        (["--space", "SPACE"], "error: space file"),
        (["--name", "nas201-cifar100"], "error: cannot import under the name 'nas201-cifar100'"),
    ],
)
def test_cli_space_and_name_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    table = tmp_path / "table.csv"
    long_table().to_csv(table, index=False)
    (tmp_path / "space.json").write_text('{"lr": {"type": "float", "low": 1}}')
    args = [str(tmp_path / "space.json") if arg == "SPACE" else arg for arg in args]
    name = [] if "--name" in args else ["--name", "x"]
    result = run_cli(str(table), *name, "--fidelity_column", "epoch", "--seed_column", "seed", "--objective",
                     "valid_error:min", *args, cache=tmp_path / "cli-cache")
    assert result.returncode == 2 and result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr

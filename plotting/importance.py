"""Hyperparameter importance: permutation importance of a random forest fitted on hyperparameters -> metric.

``table_importance(frame, hyperparameters, target)`` fits ``sklearn.ensemble.RandomForestRegressor`` (fixed seed,
``n_jobs=1``) on a held-out split and reports, per *original* hyperparameter, ``sklearn.inspection.
permutation_importance`` on the held-out rows: how much the forest's R² drops when that column is shuffled (mean
and standard deviation over ``repeats`` shuffles). String, categorical and boolean hyperparameters are encoded
inside a ``Pipeline`` (ordinal or one-hot), so a one-hot encoded hyperparameter is still shuffled as one column.
Empty cells (inactive hyperparameters) are a category of their own, or NaN for numbers (the forest handles NaN).
The split is by configuration (``GroupShuffleSplit``): rows of one configuration with different seeds stay on one
side, so the held-out R² measures how well the forest predicts *new* configurations. With an R² below ``MIN_R2``
the forest does not predict the metric and its importances mean nothing; the figure says so. The same inputs and
``seed`` give the same numbers.

Data: ``run_importance_frame`` builds the frame from stored runs (one row per trial: its hyperparameters and the
metric at ``level``: ``"max_t"``, an epoch, or ``"last"``, the trial's last result, with the epoch it reached as an
extra feature), pooled over the runs given; ``read_table_data`` reads a file of ``python -m
experiments.table_data`` (one row per configuration and seed). Note that a run's trials are what the method chose
to evaluate (ASHA keeps the good ones longest), not a uniform sample of the space.

sklearn is imported when computing, matplotlib when drawing (``plot_importance``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from plotting import run_data

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from plotting.figures import Layout

#: held-out R² below which the importances are reported as not meaningful
MIN_R2 = 0.1
#: rows (with a finite metric) needed to fit and hold out anything
MIN_ROWS = 20
ENCODINGS = ("ordinal", "onehot")
#: the schema-metadata key of ``experiments.table_data`` files (the same string as ``METADATA_KEY`` there)
TABLE_METADATA_KEY = "hpo_workbench.table_data"
LEVELS = ("max_t", "last")


@dataclass
class Importance:
    """Permutation importances and the forest's held-out fit.

    ``table``: one row per feature (``feature``, ``mean``, ``std``, ``kind``: "hyperparameter", or "fidelity" for
    the epoch reached at level "last"), most important first; ``repeats_values``: the importance of each shuffle
    (features × repeats, in ``table`` order).
    """

    table: pd.DataFrame
    repeats_values: np.ndarray
    r2: float
    target: str
    n_train: int
    n_test: int
    repeats: int
    trees: int
    seed: int
    encoding: str
    description: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def meaningful(self) -> bool:
        """Whether the forest predicts held-out rows well enough (R² >= ``MIN_R2``) for importances to matter."""
        return bool(np.isfinite(self.r2) and self.r2 >= MIN_R2)

    def ranking(self) -> list[str]:
        """The features, most important first."""
        return list(self.table["feature"])


def table_importance(
    frame: pd.DataFrame,
    hyperparameters: Sequence[str],
    target: str,
    *,
    fidelity_features: Sequence[str] = (),
    repeats: int = 10,
    trees: int = 100,
    test_fraction: float = 0.25,
    seed: int = 0,
    encoding: str = "ordinal",
    description: str = "",
) -> Importance:
    """Permutation importance of ``hyperparameters`` (and ``fidelity_features``) for ``target`` in ``frame``.

    Rows with a non-finite target are left out (counted in ``notes``). ``ValueError`` if fewer than ``MIN_ROWS``
    remain, a column is missing, or an option is out of range.
    """
    from sklearn.inspection import permutation_importance
    from sklearn.model_selection import GroupShuffleSplit

    features = list(dict.fromkeys([*hyperparameters, *fidelity_features]))
    _check_inputs(frame, features, target, repeats, trees, test_fraction, encoding)
    y_all = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(y_all)
    notes = [f"{int((~keep).sum())} rows without a finite {target} left out"] if not keep.all() else []
    if keep.sum() < MIN_ROWS:
        raise ValueError(f"importance needs at least {MIN_ROWS} rows with a finite {target}, got {int(keep.sum())}")
    x = _prepared(frame.loc[keep, features])
    y = y_all[keep]
    groups = pd.util.hash_pandas_object(x[list(hyperparameters)], index=False).to_numpy()
    if len(np.unique(groups)) < 2:
        raise ValueError("importance needs at least two different configurations")
    splitter = GroupShuffleSplit(n_splits=1, test_size=test_fraction, random_state=seed)
    train, test = next(splitter.split(x, y, groups))
    model = _pipeline(x, encoding, trees, seed)
    model.fit(x.iloc[train], y[train])
    r2 = float(model.score(x.iloc[test], y[test]))
    result = permutation_importance(
        model, x.iloc[test], y[test], n_repeats=repeats, random_state=seed, n_jobs=1, scoring="r2"
    )
    order = np.argsort(-result.importances_mean, kind="stable")
    fidelity_set = set(fidelity_features)
    table = pd.DataFrame(
        {
            "feature": [features[i] for i in order],
            "mean": result.importances_mean[order],
            "std": result.importances_std[order],
            "kind": ["fidelity" if features[i] in fidelity_set else "hyperparameter" for i in order],
        }
    )
    constant = [c for c in hyperparameters if x[c].nunique(dropna=False) < 2]
    if constant:
        notes.append(f"constant in the data (importance 0): {', '.join(constant)}")
    return Importance(
        table=table,
        repeats_values=result.importances[order],
        r2=r2,
        target=target,
        n_train=len(train),
        n_test=len(test),
        repeats=repeats,
        trees=trees,
        seed=seed,
        encoding=encoding,
        description=description,
        notes=notes,
    )


def _check_inputs(
    frame: pd.DataFrame,
    features: list[str],
    target: str,
    repeats: int,
    trees: int,
    test_fraction: float,
    encoding: str,
) -> None:
    missing = [c for c in [*features, target] if c not in frame.columns]
    if missing:
        raise ValueError(f"the data lack column(s) {', '.join(missing)}; columns: {', '.join(map(str, frame.columns))}")
    if not features:
        raise ValueError("no hyperparameters given")
    if target in features:
        raise ValueError(f"the target {target!r} is also a feature")
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
    if repeats < 1 or trees < 1:
        raise ValueError(f"repeats and trees must be at least 1, got {repeats} and {trees}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")


def _is_categorical(column: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _prepared(x: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as strings (an empty cell is the category "None"), numbers as floats (NaN if empty)."""
    out = {}
    for name in x.columns:
        column = x[name]
        if _is_categorical(column):
            out[name] = np.array(["None" if _empty(v) else str(v) for v in column.tolist()], dtype=object)
        else:
            out[name] = column.to_numpy(dtype=float)
    return pd.DataFrame(out, index=x.index)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _pipeline(x: pd.DataFrame, encoding: str, trees: int, seed: int) -> Any:
    """Encoder of the categorical columns (others pass through) and the forest, as one estimator."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    categorical = [name for name in x.columns if not pd.api.types.is_numeric_dtype(x[name])]
    if encoding == "onehot":
        encoder: Any = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    else:
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    columns = ColumnTransformer([("categorical", encoder, categorical)], remainder="passthrough")
    forest = RandomForestRegressor(n_estimators=trees, random_state=seed, n_jobs=1)
    return Pipeline([("encode", columns), ("forest", forest)])


# Data from runs and tables -----------------------------------------------------------------------
@dataclass
class ImportanceData:
    """Rows to fit on: ``frame`` with the ``hyperparameters``, any ``fidelity_features`` and the ``target``."""

    frame: pd.DataFrame
    hyperparameters: list[str]
    target: str
    fidelity_features: list[str] = field(default_factory=list)
    mode: str = "min"
    description: str = ""


def run_importance_frame(
    runs: Sequence[run_data.RunData], *, level: str | int = "max_t", metric: str | None = None
) -> ImportanceData:
    """One row per trial of ``runs`` (pooled): its hyperparameters and the metric at ``level``.

    ``level``: "max_t" (the trials that reached the run's max_t), an epoch (the trials that reached it), or "last"
    (every trial's last result; the epoch it reached becomes a feature, so a trial stopped early is not mistaken
    for a bad configuration). ``metric``: default the runs' metric.
    """
    if not runs:
        raise ValueError("no runs given")
    if not (level in LEVELS or (isinstance(level, int) and not isinstance(level, bool) and level >= 1)):
        raise ValueError(f"level must be 'max_t', 'last' or an epoch >= 1, got {level!r}")
    first = runs[0].metadata
    metric = metric or first.get("metric")
    frames = []
    hyperparameters: list[str] = []
    fidelity = "epoch"
    for run in runs:
        hyperparameters = hyperparameters or run_data.hyperparameter_columns(list(run.trials.columns))
        fidelity = run_data.fidelity_column(list(run.results.columns), run.metadata)
        frames.append(_run_rows(run, level, str(metric), fidelity, hyperparameters))
    frame = pd.concat(frames, ignore_index=True)
    if level == "last":
        at = "at each trial's last result"
    elif level == "max_t":
        top = run_data.max_t(first)
        at = f"at {fidelity} {top} (max_t)" if top is not None else "at max_t"
    else:
        at = f"at {fidelity} {level}"
    where = runs[0].label if len(runs) == 1 else _pooled_label(runs)
    return ImportanceData(
        frame=frame,
        hyperparameters=hyperparameters,
        target=str(metric),
        fidelity_features=[fidelity] if level == "last" else [],
        mode=str(first.get("mode", "min")),
        description=f"{where}: {len(frame)} trials, {metric} {at}",
    )


def _run_rows(run: run_data.RunData, level: str | int, metric: str, fidelity: str, hps: list[str]) -> pd.DataFrame:
    results, trials = run.results, run.trials
    missing = [c for c in ("trial_id", fidelity, metric) if c not in results.columns]
    missing += [c for c in ["trial_id", *hps] if c not in trials.columns]
    if missing:
        raise ValueError(f"{run.path}: the run's tables lack column(s) {', '.join(dict.fromkeys(missing))}")
    rows = results[["trial_id", fidelity, metric]]
    if level == "last":
        rows = rows.sort_values([fidelity], kind="stable").groupby("trial_id", sort=True).tail(1)
    else:
        epoch = run_data.max_t(run.metadata) if level == "max_t" else int(level)
        if epoch is None:
            epoch = int(results[fidelity].max()) if len(results) else 0
        rows = rows[rows[fidelity] == epoch].groupby("trial_id", sort=True).tail(1)
    rows = rows.drop_duplicates("trial_id", keep="last")
    merged = trials[["trial_id", *hps]].merge(rows, on="trial_id", how="inner")
    return merged.drop(columns="trial_id")


def _pooled_label(runs: Sequence[run_data.RunData]) -> str:
    methods = sorted({str(run.metadata.get("method")) for run in runs})
    benchmarks = sorted({str(run.metadata.get("benchmark")) for run in runs})
    return f"{len(runs)} runs of {', '.join(methods)} on {', '.join(benchmarks)} (pooled)"


def read_table_data(path: Path | str, *, metric: str | None = None) -> ImportanceData:
    """The rows of a file written by ``python -m experiments.table_data`` (``ValueError`` for another file)."""
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read {path}: {' '.join(str(error).split())}") from None
    raw = (table.schema.metadata or {}).get(TABLE_METADATA_KEY.encode())
    if raw is None:
        raise ValueError(f"{path} was not written by python -m experiments.table_data (no {TABLE_METADATA_KEY})")
    info = json.loads(raw)
    frame = table.to_pandas()
    target = metric or info["metric"]
    if target not in frame.columns:
        raise ValueError(f"{path} has no column {target!r}; it holds {info['metric']}")
    source = "tabulated configurations" if info.get("source") == "table" else "sampled configurations"
    seeds = len(info.get("seeds") or [])
    description = (
        f"{info['benchmark']}: {info['num_configs']} {source} x {seeds} seed{'s' * (seeds != 1)}, "
        f"{target} at {info['fidelity_name']} {info['fidelity']}"
    )
    return ImportanceData(
        frame=frame,
        hyperparameters=list(info["hyperparameters"]),
        target=target,
        mode=str(info.get("mode", "min")),
        description=description,
    )


def importance_of(data: ImportanceData, **options: Any) -> Importance:
    """``table_importance`` of ``data`` (options: repeats, trees, test_fraction, seed, encoding)."""
    return table_importance(
        data.frame,
        data.hyperparameters,
        data.target,
        fidelity_features=data.fidelity_features,
        description=data.description,
        **options,
    )


# Drawing -----------------------------------------------------------------------------------------
HYPERPARAMETER_COLOR = "#0072B2"
FIDELITY_COLOR = "#999999"
WARNING_COLOR = "#CC0000"


def plot_importance(result: Importance, *, layout: Layout | None = None, title: str | None = None) -> Figure:
    """Horizontal bars of permutation importance (mean ± s.d.), most important on top, with the held-out R²."""
    from plotting import figures as fig

    layout = layout or fig.Layout()
    table = result.table
    labels = [f"{f} reached" if k == "fidelity" else f for f, k in zip(table["feature"], table["kind"])]
    colors = [FIDELITY_COLOR if k == "fidelity" else HYPERPARAMETER_COLOR for k in table["kind"]]
    width = min(layout.width, 4.5)
    font = max(layout.font_size, 8.0)
    with fig._apply_rc(layout):
        figure = fig._figure(layout, width, 1.5 + 0.24 * max(len(table), 1))
        ax = figure.subplots()
        y = np.arange(len(table))
        ax.barh(
            y, table["mean"], xerr=table["std"], color=colors, height=0.65, error_kw={"capsize": 2, "elinewidth": 0.8}
        )
        ax.axvline(0.0, color="0.3", linewidth=0.8)
        ax.set_yticks(y, labels)
        ax.set_ylim(len(table) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(
            fig._title(
                f"permutation importance: drop in held-out R² when the column is shuffled "
                f"(mean ± s.d. over {result.repeats} shuffles)",
                width,
                font,
            )
        )
        heading = title if title is not None else result.description
        r2 = f"{result.r2:.2f}".replace("-", "\N{MINUS SIGN}")
        rows = result.n_train + result.n_test
        fit = f"random forest ({result.trees} trees): held-out R² = {r2} ({result.n_test} of {rows} rows)"
        lines = [fig._title(heading, 0.95 * width, font)] if heading else []
        ax.set_title("\n".join([*lines, fit]))
        if not result.meaningful:
            _warning(figure, result, width, font)
    return figure


def _warning(figure: Any, result: Importance, width: float, font: float) -> None:
    """A red line under the axes: the forest does not predict the metric, so its importances mean nothing."""
    from matplotlib.lines import Line2D

    from plotting import figures as fig

    text = (
        f"held-out R² below {MIN_R2:g}: the forest does not predict {result.target}, "
        "so these importances are not meaningful"
    )
    figure.legend(
        handles=[Line2D([], [], linestyle="")],
        labels=[fig._title(text, 0.95 * width, font)],
        loc="outside lower center",
        frameon=False,
        handlelength=0,
        handletextpad=0,
        labelcolor=WARNING_COLOR,
    )

"""Surrogates fitted on a table, so that any configuration of its space can be evaluated.

``SurrogateBlackbox(table, "knn")`` answers for a configuration the table never evaluated:

- ``knn`` (default, ``n_neighbors=1``): the curves of the nearest tabulated configurations, averaged
  per seed. With one neighbour the answer is a real measured curve, with all its seeds; this is the
  usual choice for LCBench-like tables of random samples.
- ``random_forest``, ``xgboost``, ``mlp``: a regression model of the objectives given the
  configuration and the fidelity, fitted on (configuration, seed, fidelity) rows, so it predicts the
  mean over seeds; such a surrogate has a single seed. Predicted per-epoch runtimes are clipped at 0
  and the elapsed time is their cumulative sum (or, without a runtime objective, the running maximum
  of the predicted elapsed time), so that simulated time never runs backwards.

Features: numeric hyperparameters at their encoded position in [0, 1] (log scale respected),
categorical ones one-hot; the fidelity scaled to [0, 1]. Targets: every objective except one the
surrogate recomputes (the elapsed time, when a runtime objective gives it as a cumulative sum), so no
model effort goes to a discarded output. Every model is seeded.

``threads`` (default 1) is the number of threads of a fit (``n_jobs`` of ``random_forest`` and
``xgboost``, the BLAS threads of ``mlp``): one thread per process is right inside ``experiments.run
--jobs N`` workers, where more threads only compete for the same cores; a lone fit on an idle machine
may use more. For the forest and xgboost threads change speed, not results (the forest predicts with
one thread; xgboost's ``hist`` fit is independent of the thread count); the MLP's BLAS sums may differ
in the last bits, so its thread count is part of its cache key.

The ``mlp`` (scikit-learn ``MLPRegressor``, two layers of 128) sees inputs in [0, 1] and standardised
targets (only the kept objectives: the discarded elapsed time, whose early-stopping score used to keep
it training, is not one), and its cost is bounded: at most ``MLP_MAX_ITER`` epochs of 512-row batches,
early stopping after 5 epochs without improvement of the validation score (10% of the rows) of its own
targets. On the embedded ``sklearn-mlp-digits`` (115,200 rows) it fits in ~27 s of CPU (before: 35 s of CPU
with 4,216 of its 18,048 weights subnormal, and 43-140 s of wall-clock time with BLAS threads on 2 busy cores).

Fitted models are cached on disk (``<cache>/surrogates/``), keyed by the table's checksum, the model,
its arguments, the library versions and ``CODE_DIGEST`` (the SHA-256 of this file's source: any change
to this module refits instead of reusing a stale model), so a model is fitted once; the
1-nearest-neighbour lookup is rebuilt instead (it is faster to build than to load).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from blackbox_repository.atomic import write_bytes_atomic
from blackbox_repository.blackbox import Blackbox, BlackboxBase
from blackbox_repository.errors import BlackboxError
from searchspace import Categorical, SearchSpace

logger = logging.getLogger(__name__)

SURROGATES = ("knn", "random_forest", "xgboost", "mlp")
#: Rows used to fit a regression model; larger tables are subsampled (seeded).
MAX_TRAINING_ROWS = 200_000
#: Epochs of the MLP surrogate at most (early stopping usually ends it before).
MLP_MAX_ITER = 100
#: Part of the on-disk cache key: the source of this module, so a code change never reuses a stale model.
CODE_DIGEST = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


class SurrogateBlackbox(BlackboxBase):
    """A table wrapped by a surrogate model; see the module docstring.

    Args:
        table: the tabulated benchmark.
        model: one of ``SURROGATES``.
        seed: seed of the model (and of the training-row subsample).
        cache_dir: where fitted models are kept (None: not cached on disk).
        threads: threads of a fit (default 1; see the module docstring).
        **model_kwargs: arguments of the model, e.g. ``n_neighbors=3`` or ``n_estimators=50``.
    """

    def __init__(
        self,
        table: Blackbox,
        model: str = "knn",
        *,
        seed: int = 0,
        cache_dir: Path | str | None = None,
        threads: int = 1,
        **model_kwargs: Any,
    ) -> None:
        if model not in SURROGATES:
            raise BlackboxError(f"unknown surrogate {model!r}; choose one of {', '.join(SURROGATES)}")
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise BlackboxError(f"surrogate threads must be a positive integer, got {threads!r}")
        self.threads = threads
        self.table = table
        self.model_name = model
        self.model_kwargs = dict(model_kwargs)
        self.seed = seed
        self.name = f"{table.name}+{model}"
        self.space = table.space
        self.fidelities = table.fidelities
        self.objective_info = table.objective_info
        self.metric = table.metric
        self.runtime_objective = table.runtime_objective
        self.elapsed_objective = table.elapsed_objective
        self.fidelity_name = table.fidelity_name
        self.metadata = {**table.metadata, "surrogate": {"model": model, "seed": seed, "kwargs": self.model_kwargs}}
        self._features = _FeatureMap(table.space)
        if model == "knn":
            self.seeds = table.seeds
            self._neighbours = _fit_knn(self._features.transform(table.configs), **self.model_kwargs)
        else:
            self.seeds = np.array([0])
            self._regressor = _load_or_fit(self, Path(cache_dir) if cache_dir is not None else None)

    # BlackboxBase --------------------------------------------------------------------------------
    def curve(self, config: Mapping[str, Any], seed_index: int) -> np.ndarray:
        self._check_seed_index(seed_index)
        self.space.validate(config)
        frame = pd.DataFrame([config], columns=self.space.names)
        if self.model_name == "knn":
            rows = self._nearest_rows(frame)[0]
            values = np.asarray(self.table.objectives[rows, seed_index], dtype=np.float64)  # (k, F, O)
            return _nanmean(values, axis=0)
        return self._predict_curves(frame)[0]

    def seed_indices(self, config: Mapping[str, Any]) -> np.ndarray:
        self.space.validate(config)
        if self.model_name != "knn":
            return np.array([0])
        rows = self._nearest_rows(pd.DataFrame([config], columns=self.space.names))[0]
        return np.unique(np.concatenate([self.table.row_seed_indices(int(row)) for row in rows]))

    def evaluate(self, configs: pd.DataFrame, fidelity: np.ndarray, seed_index: int = 0) -> np.ndarray:
        self._check_seed_index(seed_index)
        steps = self.fidelity_steps(fidelity)
        self.check_columns(configs)
        configs = configs[self.space.names]
        for config in configs.drop_duplicates().to_dict("records"):
            self.space.validate(config)
        if self.model_name == "knn":
            rows = self._nearest_rows(configs)  # (n, k)
            values = np.asarray(self.table.objectives[rows, seed_index, steps[:, None]], dtype=np.float64)
            return _nanmean(values, axis=1)  # (n, k, O) -> (n, O)
        return self._predict_curves(configs)[np.arange(len(configs)), steps]

    def _check_seed_index(self, seed_index: int) -> None:
        if isinstance(seed_index, bool) or not isinstance(seed_index, (int, np.integer)) or not (
            0 <= seed_index < len(self.seeds)
        ):
            last = len(self.seeds) - 1
            kind = f"has seed indices 0..{last}" if last else "has one seed (index 0)"
            why = "" if self.model_name == "knn" else ": a regression surrogate predicts the mean over seeds"
            raise BlackboxError(f"surrogate {self.name!r} {kind}, got seed index {seed_index!r}{why}")

    # Models --------------------------------------------------------------------------------------
    def nearest_configs(self, configs: pd.DataFrame) -> pd.DataFrame:
        """The tabulated configuration nearest to each row of ``configs`` (the first of k neighbours)."""
        rows = self._nearest_rows(configs[self.space.names])[:, 0]
        return self.table.configs.iloc[rows].reset_index(drop=True)

    def _nearest_rows(self, configs: pd.DataFrame) -> np.ndarray:
        return self._neighbours.kneighbors(self._features.transform(configs), return_distance=False)

    def _predict_curves(self, configs: pd.DataFrame) -> np.ndarray:
        """Predicted curves, shape (configs, fidelities, objectives), made physically consistent."""
        n, num_fidelities = len(configs), len(self.fidelities)
        features = np.repeat(self._features.transform(configs), num_fidelities, axis=0)
        fidelity = np.tile(_scaled_fidelity(self.fidelities), n)[:, None]
        predicted = np.asarray(self._regressor.predict(np.hstack([features, fidelity])), dtype=np.float64)
        curves = np.zeros((n * num_fidelities, len(self.objective_info)), dtype=np.float64)
        curves[:, _target_indices(self)] = predicted.reshape(n * num_fidelities, -1)
        curves = curves.reshape(n, num_fidelities, -1)
        if self.runtime_objective is not None:
            runtime = self.objective_index(self.runtime_objective)
            curves[:, :, runtime] = np.clip(curves[:, :, runtime], 0.0, None)
            if self.elapsed_objective is not None:
                curves[:, :, self.objective_index(self.elapsed_objective)] = np.cumsum(curves[:, :, runtime], axis=1)
        elif self.elapsed_objective is not None:
            elapsed = self.objective_index(self.elapsed_objective)
            curves[:, :, elapsed] = np.maximum.accumulate(np.clip(curves[:, :, elapsed], 0.0, None), axis=1)
        return curves

    def __repr__(self) -> str:
        return f"SurrogateBlackbox({self.table.name!r}, {self.model_name!r}, seed={self.seed}, {self.model_kwargs})"


class _FeatureMap:
    """Configurations → model features (encoded numeric values, one-hot categorical values)."""

    def __init__(self, space: SearchSpace) -> None:
        self.space = space

    def transform(self, configs: pd.DataFrame) -> np.ndarray:
        columns = []
        for name, domain in self.space.items():
            values = configs[name]
            if isinstance(domain, Categorical):
                columns.extend((values == choice).to_numpy(dtype=np.float64) for choice in domain.choices)
            else:
                codes = {value: domain.encode(value) for value in pd.unique(values)}
                columns.append(values.map(codes).to_numpy(dtype=np.float64))
        return np.column_stack(columns)


def _fit_knn(features: np.ndarray, *, n_neighbors: int = 1) -> Any:
    from sklearn.neighbors import NearestNeighbors

    if not isinstance(n_neighbors, int) or n_neighbors < 1:
        raise BlackboxError(f"knn surrogate: n_neighbors must be a positive integer, got {n_neighbors!r}")
    return NearestNeighbors(n_neighbors=min(n_neighbors, len(features))).fit(features)


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean over the neighbour axis ignoring missing runs; NaN where no neighbour has data."""
    if values.shape[axis] == 1:
        return np.take(values, 0, axis=axis)
    count = np.sum(~np.isnan(values), axis=axis)
    total = np.nansum(values, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _scaled_fidelity(fidelities: np.ndarray) -> np.ndarray:
    fidelities = np.asarray(fidelities, dtype=np.float64)
    span = fidelities[-1] - fidelities[0]
    return (fidelities - fidelities[0]) / span if span > 0 else np.zeros_like(fidelities)


def _make_regressor(model: str, seed: int, kwargs: dict[str, Any], threads: int = 1) -> Any:
    if model == "random_forest":
        from sklearn.ensemble import RandomForestRegressor

        return RandomForestRegressor(**{"n_estimators": 100, "min_samples_leaf": 2, "n_jobs": threads, **kwargs},
                                     random_state=seed)
    if model == "mlp":
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.neural_network import MLPRegressor
        from sklearn.preprocessing import StandardScaler

        defaults = {"hidden_layer_sizes": (128, 128), "max_iter": MLP_MAX_ITER, "early_stopping": True,
                    "n_iter_no_change": 5, "batch_size": 512}
        network = MLPRegressor(**{**defaults, **kwargs}, random_state=seed)
        return TransformedTargetRegressor(regressor=network, transformer=StandardScaler())
    try:
        import xgboost
    except ImportError:
        raise BlackboxError(
            "the xgboost surrogate needs xgboost: pip install 'hpo-workbench[xgboost]'"
        ) from None
    return xgboost.XGBRegressor(
        **{"n_estimators": 200, "max_depth": 8, "learning_rate": 0.1, "tree_method": "hist", "n_jobs": threads,
           **kwargs},
        random_state=seed,
    )


def _target_indices(blackbox: SurrogateBlackbox) -> list[int]:
    """The objectives a regression model is fitted on: all but the elapsed time when it is the runtime's sum."""
    table = blackbox.table
    skip = table.elapsed_objective if table.runtime_objective is not None else None
    return [k for k, name in enumerate(table.objective_names) if name != skip]


def _training_data(blackbox: SurrogateBlackbox) -> tuple[np.ndarray, np.ndarray]:
    """(configuration, seed, fidelity) rows with a metric value, and their ``_target_indices`` objectives;
    subsampled to MAX_TRAINING_ROWS."""
    table = blackbox.table
    values = np.asarray(table.objectives)  # (C, S, F, O)
    num_configs, num_seeds, num_fidelities, num_objectives = values.shape
    config_index, _, fidelity_index = np.nonzero(~np.isnan(values[..., table.objective_index(table.metric)]))
    keep = np.flatnonzero(~np.isnan(values[..., table.objective_index(table.metric)]).ravel())
    if len(keep) > MAX_TRAINING_ROWS:
        chosen = np.sort(np.random.default_rng(blackbox.seed).choice(len(keep), MAX_TRAINING_ROWS, replace=False))
        keep, config_index, fidelity_index = keep[chosen], config_index[chosen], fidelity_index[chosen]
    targets = values.reshape(-1, num_objectives)[keep][:, _target_indices(blackbox)]
    targets = np.where(np.isnan(targets), np.nanmean(targets, axis=0), targets)  # rare gaps in other objectives
    features = blackbox._features.transform(table.configs)[config_index]
    fidelity = _scaled_fidelity(table.fidelities)[fidelity_index][:, None]
    return np.hstack([features, fidelity]), targets


def _cache_key(blackbox: SurrogateBlackbox) -> str:
    table = blackbox.table
    libraries = {}
    for package in ("scikit-learn", "xgboost", "xgboost-cpu", "numpy"):
        try:
            libraries[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    facts = {
        "table": table.name,
        "checksum": table.checksum or _array_digest(np.asarray(table.objectives)),
        "model": blackbox.model_name,
        "kwargs": blackbox.model_kwargs,
        "seed": blackbox.seed,
        "max_rows": MAX_TRAINING_ROWS,
        "code": CODE_DIGEST,
        "threads": blackbox.threads if blackbox.model_name == "mlp" else None,
        "libraries": libraries,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _array_digest(values: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def _load_or_fit(blackbox: SurrogateBlackbox, cache_dir: Path | None) -> Any:
    path = None
    if cache_dir is not None:
        path = cache_dir / "surrogates" / blackbox.table.name / f"{blackbox.model_name}-{_cache_key(blackbox)}.pkl"
        if path.is_file():
            try:
                with open(path, "rb") as handle:
                    return pickle.load(handle)
            except Exception as error:  # a damaged cache entry is refitted, not fatal
                logger.warning("cannot read cached surrogate %s (%s); fitting it again", path, error)
    features, targets = _training_data(blackbox)
    logger.info("fitting %s surrogate of %r on %d rows", blackbox.model_name, blackbox.table.name, len(features))
    regressor = _make_regressor(blackbox.model_name, blackbox.seed, blackbox.model_kwargs, blackbox.threads)
    try:
        with threadpool_limits(limits=blackbox.threads):  # the MLP's BLAS threads; the others use n_jobs
            regressor.fit(features, targets)
    except TypeError as error:
        raise BlackboxError(f"{blackbox.model_name} surrogate: invalid model arguments ({error})") from None
    if hasattr(regressor, "n_jobs") and blackbox.model_name == "random_forest":
        # a forest predicts by summing trees in whatever order threads finish: bits would vary
        regressor.n_jobs = 1
    if path is not None:
        write_bytes_atomic(path, pickle.dumps(regressor, protocol=pickle.HIGHEST_PROTOCOL))
    return regressor

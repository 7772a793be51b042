"""Conformalized quantile regression (Romano, Patterson & Candès, NeurIPS 2019) with gradient-boosted trees: the
model of the CQR searcher.

``m`` (odd) quantile levels ``α_k = k / (m + 1)`` are predicted by gradient-boosted quantile regression. With
more than ``min_samples_to_conformalize`` points, a random ``calibration_fraction`` of them is held out and each
symmetric pair ``(α_k, 1 − α_k)`` is calibrated by split conformal prediction: with the scores
``E_i = max(q_lo(x_i) − y_i, y_i − q_hi(x_i))`` on the held-out points, the interval
``[q_lo − Q, q_hi + Q]`` with ``Q`` the ``⌈(1 − β)(n_cal + 1)⌉``-th smallest score covers a new point with
probability at least ``1 − β = 1 − 2 α_k`` (exchangeable data). Syne Tune takes the ``(1 − β) / (1 + 1 / n)``
empirical quantile of the scores instead, which is slightly below the nominal rate; we follow the paper.
The median is not corrected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from methods.model_searcher import import_xgboost

REGRESSORS = ("xgboost", "sklearn")


def quantile_levels(num_quantiles: int) -> np.ndarray:
    """``k / (m + 1)`` for ``k = 1..m``."""
    return np.arange(1, num_quantiles + 1) / (num_quantiles + 1)


def conformal_rank(miscoverage: float, num_calibration: int) -> int:
    """The rank (1-based) of the score that bounds the interval: ``⌈(1 − β)(n + 1)⌉``, at most ``n``."""
    return min(num_calibration, max(1, math.ceil((1.0 - miscoverage) * (num_calibration + 1) - 1e-9)))


class ConformalQuantileRegressor:
    """Quantile regression of ``levels`` (symmetric around 0.5) with split-conformal calibration of each pair.

    ``regressor``: "xgboost" (one model for all quantiles, ``reg:quantileerror``) or "sklearn" (one
    ``GradientBoostingRegressor(loss="quantile")`` per level, the model of the paper's code). Both default to
    scikit-learn's gradient boosting settings: 100 trees of depth 3, learning rate 0.1; ``regressor_kwargs``
    override them. Single-threaded and seeded."""

    def __init__(
        self,
        levels: np.ndarray,
        *,
        seed: int,
        regressor: str = "xgboost",
        regressor_kwargs: Mapping[str, Any] | None = None,
        calibration_fraction: float = 0.1,
        min_samples_to_conformalize: int = 32,
    ) -> None:
        self.levels = np.asarray(levels, dtype=float)
        if not np.allclose(self.levels + self.levels[::-1], 1.0):
            raise ValueError(f"quantile levels must be symmetric around 0.5, got {self.levels.tolist()}")
        if regressor not in REGRESSORS:
            raise ValueError(f"`regressor` is {regressor!r}, but must be one of {REGRESSORS}")
        if regressor == "xgboost":
            import_xgboost("CQR's default regressor", "regressor='sklearn'")  # a missing library fails now
        self.seed = seed
        self.regressor = regressor
        self.regressor_kwargs = {"n_estimators": 100, "max_depth": 3, "learning_rate": 0.1, **(regressor_kwargs or {})}
        self.calibration_fraction = calibration_fraction
        self.min_samples_to_conformalize = min_samples_to_conformalize
        self.corrections = np.zeros(len(self.levels))  # subtracted below the median, added above
        self._models: list[Any] = []

    def fit(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> ConformalQuantileRegressor:
        n = len(y)
        self.corrections = np.zeros(len(self.levels))
        if n > self.min_samples_to_conformalize:
            order = rng.permutation(n)
            n_cal = math.ceil(self.calibration_fraction * n)
            calibration, training = order[:n_cal], order[n_cal:]
            self._fit_regressors(X[training], y[training])
            self._calibrate(X[calibration], y[calibration])
        else:
            self._fit_regressors(X, y)
        return self

    def _fit_regressors(self, X: np.ndarray, y: np.ndarray) -> None:
        if self.regressor == "xgboost":
            xgboost = import_xgboost("CQR's default regressor", "regressor='sklearn'")
            options = {"n_jobs": 1, "random_state": self.seed, "verbosity": 0, **self.regressor_kwargs}
            model = xgboost.XGBRegressor(objective="reg:quantileerror", quantile_alpha=self.levels, **options)
            self._models = [model.fit(X, y.astype(np.float32))]  # its label type: no conversion on every fit
        else:
            from sklearn.ensemble import GradientBoostingRegressor

            self._models = [
                GradientBoostingRegressor(
                    loss="quantile", alpha=level, random_state=self.seed, **self.regressor_kwargs
                ).fit(X, y)
                for level in self.levels
            ]

    def predict_uncorrected(self, X: np.ndarray) -> np.ndarray:
        """The regressors' quantiles, one column per level."""
        if self.regressor == "xgboost":
            return np.asarray(self._models[0].predict(X), dtype=float).reshape(len(X), len(self.levels))
        return np.column_stack([model.predict(X) for model in self._models])

    def _calibrate(self, X: np.ndarray, y: np.ndarray) -> None:
        predicted = self.predict_uncorrected(X)
        m = len(self.levels)
        for k in range(m // 2):
            lower, upper = predicted[:, k], predicted[:, m - 1 - k]
            scores = np.sort(np.maximum(lower - y, y - upper))
            rank = conformal_rank(2.0 * self.levels[k], len(scores))
            self.corrections[k] = self.corrections[m - 1 - k] = scores[rank - 1]

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Conformalized quantiles, one column per level (lower levels moved down, upper ones up by the
        correction of their pair)."""
        predicted = self.predict_uncorrected(X)
        sign = np.sign(self.levels - 0.5)
        return predicted + sign[None, :] * self.corrections[None, :]

"""Copula Thompson sampling (CTS): a quantile-based surrogate learned from other tasks (the searcher of
``QuantileBasedSurrogateSearcher`` and ``ASHA-CTS``).

Salinas, Shen & Perrone, "A quantile-based approach for hyperparameter transfer learning" (ICML 2020), as Syne
Tune 0.13's ``QuantileBasedSurrogateSearcher`` documents it ("a surrogate is fitted on the transfer learning data
to predict mean/variance of configuration performance given a hyperparameter. The surrogate is then sampled from
and the best configurations are returned"):

1. Copula transform (``normalization="gaussian"``, the default): per task, each loss ``y`` becomes
   ``z = Φ^{-1}(F(y))``, with ``F`` the task's empirical CDF (the fraction of its losses ``<= y``) truncated to
   ``[δ, 1 - δ]``, ``δ = 1 / (4 n^{1/4} sqrt(π log n))`` for ``n`` losses (the paper's truncation; the docs:
   "the truncated empirical CDF"). Tasks on different scales thus share one scale, small z = good.
   ``"standard"``: z = (y − mean) / std per task (the docs: "can perform significantly worse").
   The loss of a configuration is its final one (``TransferTask.losses``); NaN losses are left out.
2. Surrogate: one regressor over all tasks' (configuration → z), at most ``max_fit_samples`` (docs default
   100,000) drawn at random: xgboost's ``XGBRegressor`` with its defaults (Syne Tune's model) if xgboost is
   installed, else scikit-learn's ``HistGradientBoostingRegressor`` (``regressor="auto"``; say "xgboost" or
   "sklearn" to choose). It is fitted on a random 90% of the data; its spread ``σ`` is the standard deviation
   of its residuals on the other 10% (1, the spread of the quantiles, with fewer than 2 held-out points). The
   paper's CTS instead fits an MLP that predicts a mean and a standard deviation per configuration; a gradient
   boosting model predicts only a mean, so σ is one number here.
3. Thompson sampling: ``num_candidates`` (2,000; the docs give no number; as CQR here, where 10,000 cost ~85 ms
   of CPU per suggestion, mostly in drawing and encoding them) random configurations never proposed before (with
   ``restrict_configurations``: every remaining candidate), each scored by one draw
   ``μ(x) + σ ε``; the smallest draw wins.

The target task's own results are not used (as in Syne Tune 0.13's searcher, the paper's CTS; its CGP variant,
which adds a Gaussian process on the target's observations, is not offered), so the searcher ignores fidelities
and works unchanged under ASHA (``ASHA-CTS``, Syne Tune's ``ASHACTS``). The points to evaluate come first
(default: the midpoint of the space, as for every searcher here and in Syne Tune); no configuration is proposed
twice unless ``allow_duplicates``. The model is fitted at the first suggestion that needs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from scipy.special import ndtri

from methods.model_searcher import ModelSearcher, check_integer
from methods.transfer import TransferTask, check_task_configs, check_transfer_evaluations, make_regressor
from searchspace import Config, SearchSpace

NAME = "QuantileBasedSurrogateSearcher"
NORMALIZATIONS = ("gaussian", "standard")
VALIDATION_FRACTION = 0.1


def truncation(n: int) -> float:
    """The paper's ``δ_n = 1 / (4 n^{1/4} sqrt(π log n))`` (n >= 2), capped below 1/2."""
    return min(0.5, 1.0 / (4.0 * n**0.25 * math.sqrt(math.pi * math.log(n))))


def gaussian_copula(losses: np.ndarray) -> np.ndarray:
    """``Φ^{-1}`` of the truncated empirical CDF of ``losses`` (finite values of one task); zeros for fewer than 2."""
    losses = np.asarray(losses, dtype=float)
    n = len(losses)
    if n < 2:
        return np.zeros(n)
    cdf = np.searchsorted(np.sort(losses), losses, side="right") / n  # fraction of values <= y
    delta = truncation(n)
    return ndtri(np.clip(cdf, delta, 1.0 - delta))


def standardized(losses: np.ndarray) -> np.ndarray:
    """``(y - mean) / std`` of one task's losses (zeros where the spread is 0)."""
    losses = np.asarray(losses, dtype=float)
    spread = losses.std()
    return (losses - losses.mean()) / spread if spread > 0 else np.zeros(len(losses))


class QuantileBasedSurrogateSearcher(ModelSearcher):
    """Copula Thompson sampling from a surrogate fitted on other tasks (see the module docstring).

    Args:
        space: the search space (shared by the transfer tasks).
        seed: seed of the candidates, the draws, the data split and the regressor.
        transfer_evaluations: the other tasks' evaluations (required).
        max_fit_samples: at most this many (configuration, task) rows fit the surrogate (100,000).
        normalization: "gaussian" (the copula transform, default) or "standard".
        num_candidates: random configurations scored per suggestion (2,000).
        regressor: "auto" (xgboost if installed, else scikit-learn), "xgboost" or "sklearn".
        regressor_kwargs: passed to the regressor's constructor.
        allow_duplicates, restrict_configurations, points_to_evaluate: as for every model-based searcher.
    """

    seed_salt = 53

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        transfer_evaluations: Sequence[TransferTask] | None = None,
        max_fit_samples: int = 100_000,
        normalization: Literal["gaussian", "standard"] = "gaussian",
        num_candidates: int = 2000,
        regressor: str = "auto",
        regressor_kwargs: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        self.tasks = check_transfer_evaluations(NAME, transfer_evaluations)
        for task in self.tasks:
            check_task_configs(NAME, space, task, task.configs)
        check_integer("max_fit_samples", max_fit_samples, 2)
        check_integer("num_candidates", num_candidates, 1)
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"`normalization` is {normalization!r}, but must be one of {NORMALIZATIONS}")
        super().__init__(space, seed=seed, **options)  # allow_duplicates, restrict_configurations, points_to_evaluate
        self.max_fit_samples = max_fit_samples
        self.normalization = normalization
        self.num_candidates = num_candidates
        self.model, self.regressor = make_regressor(regressor, self.library_seed, regressor_kwargs)
        self.sigma: float | None = None  # set by the fit

    # Contract ------------------------------------------------------------------------------------
    def suggest(self, trial_id: int) -> Config | None:
        config = self._suggest_by_model() if self._random.points_left == 0 else None
        if config is not None:
            self.num_model_suggestions += 1
        else:  # a point to evaluate, or no candidate left: the random searcher (which skips proposed ones)
            config = self._random.suggest(trial_id)
        if config is not None:
            self._remember(trial_id, config)
        return config

    def _suggest_by_model(self) -> Config | None:
        if self.sigma is None:
            self.fit()
        configs, inputs = self.candidate_pool(self.num_candidates)
        if not configs:
            return None
        draws = self.model.predict(inputs) + self.sigma * self._rng.standard_normal(len(configs))
        return dict(configs[int(np.argmin(draws))])

    # Model ---------------------------------------------------------------------------------------
    def training_data(self) -> tuple[np.ndarray, np.ndarray]:
        """Model inputs and normalised losses of every finite transfer evaluation (at most ``max_fit_samples``)."""
        transform = gaussian_copula if self.normalization == "gaussian" else standardized
        inputs, targets = [], []
        for task in self.tasks:
            losses = task.losses()
            finite = np.isfinite(losses)
            if finite.any():
                inputs.append(self._encode([config for config, ok in zip(task.configs, finite) if ok]))
                targets.append(transform(losses[finite]))
        if not inputs:
            raise ValueError(f"{NAME}: the transfer tasks have no finite value of the metric to learn from")
        x, z = np.vstack(inputs), np.concatenate(targets)
        if len(z) > self.max_fit_samples:
            keep = np.sort(self._rng.choice(len(z), size=self.max_fit_samples, replace=False))
            x, z = x[keep], z[keep]
        return x, z

    def fit(self) -> None:
        """Fit the surrogate on a random 90% of the transfer data and set σ from the other 10%."""
        x, z = self.training_data()
        order = self._rng.permutation(len(z))
        held_out = int(len(z) * VALIDATION_FRACTION)
        train, valid = order[held_out:], order[:held_out]
        self.model.fit(x[train], z[train])
        if held_out >= 2:
            self.sigma = float(np.std(z[valid] - self.model.predict(x[valid])))
        else:
            self.sigma = 1.0

    def describe(self) -> str:
        scored = "every remaining candidate" if self._candidates is not None else f"{self.num_candidates} random"
        return (
            f"CTS (copula Thompson sampling, Salinas et al. 2020): {self.regressor} surrogate of the "
            f"{self.normalization}-normalised losses of {len(self.tasks)} transfer tasks, one draw per "
            f"configuration over {scored} configurations; the target's results are not used; "
            f"first {self._random.describe()}"
        )

    def state_summary(self) -> dict[str, Any]:
        return {**super().state_summary(), "sigma": self.sigma, "regressor": self.regressor}

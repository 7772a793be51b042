"""A GP on a second target over the inputs of a searcher's main model: a constraint metric (constrained BO) or
a log cost (cost-aware BO); also each objective's GP of multi-objective BO (``methods.mo_bayesopt``).

``SecondTargetModel`` keeps the GP's hyperparameters between suggestions: it refits them (empirical Bayes, as
``methods.gp.regression.fit_hyperparameters``) whenever the main model refits, on the same rows, warm-started
from its previous optimum unless the main fit runs from every start; otherwise it only conditions on the new
data. Rows whose target is missing (NaN) are left out. Targets are standardised (mean 0, variance 1);
``TargetPosterior`` predicts in the target's own units.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from methods.gp.priors import GPPrior
from methods.gp.regression import Posterior, fit_hyperparameters


@dataclass
class TargetPosterior:
    """The posterior of the latent target (noise-free) in its own units: ``shift + scale · f`` of a GP ``f``
    fitted to the standardised values."""

    posterior: Posterior
    shift: float
    scale: float

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Means and variances, one each per row of ``X``."""
        means, variances = self.posterior.predict(X)
        return self.shift + self.scale * means[:, 0], self.scale**2 * variances

    def predict_mean(self, X: np.ndarray) -> np.ndarray:
        """Means, one per row of ``X``."""
        return self.shift + self.scale * self.posterior.predict_mean(X)[:, 0]

    def predict_bounded(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """Means, upper bounds of the variances, and a function: row indices -> their exact variances (see
        ``Posterior.predict_given``)."""
        means, bounds, variances_of = self.posterior.predict_given(X, self.posterior.cross_covariance(X))
        scale2 = self.scale**2

        def exact(rows: np.ndarray) -> np.ndarray:
            return scale2 * variances_of(rows)

        return self.shift + self.scale * means[:, 0], scale2 * bounds, exact


@dataclass
class SecondTargetModel:
    """The hyperparameters of the second GP (None until its first fit) and how often they were fitted."""

    prior: GPPrior
    params: np.ndarray | None = None
    num_fits: int = 0

    def posterior(
        self,
        X: np.ndarray,
        values: np.ndarray,
        rng: np.random.Generator,
        *,
        fit_rows: np.ndarray | None,
        full: bool,
        starts: int,
        maxiter: int,
    ) -> TargetPosterior | None:
        """The posterior given ``values`` (one per row of ``X``, NaN: missing), or None if none is known.

        ``fit_rows`` (row indices) are the rows the main model's hyperparameters were just fitted to (None: the
        main model was not refitted, nor is this one unless it never was); ``full``: whether that fit ran from
        every start (then so does this one)."""
        known = np.isfinite(values)
        if not known.any():
            return None
        X, values = X[known], values[known]
        shift = float(values.mean())
        scale = float(values.std())
        scale = scale if scale > 0 else 1.0
        y = (values - shift) / scale
        if fit_rows is not None or self.params is None:
            chosen = np.zeros(len(known), dtype=bool)
            chosen[np.arange(len(known)) if fit_rows is None else fit_rows] = True
            rows = chosen[known]
            if not rows.any():
                rows[:] = True
            full = full or self.params is None
            self.params = fit_hyperparameters(
                self.prior,
                X[rows],
                y[rows],
                rng,
                starts=starts if full else 1,
                maxiter=maxiter,
                first=None if full else self.params,
            )
            self.num_fits += 1
        return TargetPosterior(Posterior.fit(self.prior, self.params, X, y), shift, scale)

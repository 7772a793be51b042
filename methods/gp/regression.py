"""GP regression: the log marginal likelihood with its analytic gradient, empirical-Bayes fitting of the
prior's parameters and the noise variance (L-BFGS-B with restarts), and posteriors that predict, sample jointly
and take fantasies for pending evaluations.

The noise variance is optimised as its logarithm in [1e-9, 1e6], starting at 1e-3, with a Gamma(mean 0.1,
alpha 0.1) prior, as in the seed documentation's GP. A Cholesky factorisation that fails adds jitter
(``robust_cholesky``), so duplicated inputs do not break a fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.linalg import LinAlgError, cho_solve, cholesky, lapack, solve_triangular
from scipy.optimize import minimize

from methods.gp.priors import GPPrior

NOISE_BOUNDS = (math.log(1e-9), math.log(1e6))
INITIAL_LOG_NOISE = math.log(1e-3)
NOISE_PRIOR_MEAN, NOISE_PRIOR_ALPHA = 0.1, 0.1
MIN_VARIANCE = 1e-12
LBFGS_TOLERANCE = 1e-5  # scipy's `tol` (ftol and gtol), as Syne Tune 0.13 passes it
RESTART_RADIUS = 2.0  # random restarts: uniform within ± this (in log space) around the documented start
_LOG_2PI = math.log(2.0 * math.pi)


def robust_cholesky(K: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of ``K``; on failure retry with jitter 1e-9, 1e-8, ... (relative to the mean
    diagonal) up to 1e-2, then raise ``LinAlgError``."""
    try:
        return cholesky(K, lower=True, check_finite=False)
    except LinAlgError:
        pass
    scale = max(float(np.mean(np.diag(K))), 1e-12)
    for exponent in range(-9, -1):
        try:
            return cholesky(K + (scale * 10.0**exponent) * np.eye(len(K)), lower=True, check_finite=False)
        except LinAlgError:
            continue
    raise LinAlgError("covariance matrix is not positive definite even with jitter")


def _noise_log_prior(log_noise: float) -> tuple[float, float]:
    """Gamma(mean, alpha) on the noise variance: ``(alpha − 1) log s − (alpha / mean) s``, and its derivative
    in ``log s``."""
    rate = NOISE_PRIOR_ALPHA / NOISE_PRIOR_MEAN
    noise = math.exp(log_noise)
    return (NOISE_PRIOR_ALPHA - 1.0) * log_noise - rate * noise, (NOISE_PRIOR_ALPHA - 1.0) - rate * noise


def log_marginal_likelihood(
    prior: GPPrior, params: np.ndarray, X: np.ndarray, y: np.ndarray, *, gradient: bool = True
) -> tuple[float, np.ndarray | None]:
    """``log p(y | X, params)`` (``params`` = the prior's theta, then the log noise variance) and its gradient."""
    theta, noise = params[:-1], math.exp(params[-1])
    K, mean, backprop = prior.evaluate(theta, X)
    K[np.diag_indices_from(K)] += noise
    L = robust_cholesky(K)
    residual = y - mean
    alpha = cho_solve((L, True), residual, check_finite=False)
    value = -0.5 * residual @ alpha - np.log(np.diag(L)).sum() - 0.5 * len(y) * _LOG_2PI
    if not gradient:
        return float(value), None
    inverse, info = lapack.dpotri(L, lower=1, overwrite_c=1)
    if info != 0:
        raise LinAlgError("could not invert the covariance matrix")
    # dK = (alpha alpha^T - K^-1) / 2, symmetric; dpotri overwrote the lower triangle of L (its upper is 0)
    dK = inverse + inverse.T
    dK[np.diag_indices_from(dK)] *= 0.5
    dK -= np.outer(alpha, alpha)
    dK *= -0.5
    grad = np.empty_like(params)
    grad[:-1] = backprop(dK, alpha)
    grad[-1] = noise * np.trace(dK)
    return float(value), grad


def negative_log_posterior(
    prior: GPPrior, params: np.ndarray, X: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray]:
    """What empirical Bayes minimises: −(log marginal likelihood + log prior densities), with its gradient."""
    try:
        value, grad = log_marginal_likelihood(prior, params, X, y)
    except LinAlgError:
        return 1e20, np.zeros_like(params)
    prior_value, prior_grad = prior.log_prior(params[:-1])
    noise_value, noise_grad = _noise_log_prior(params[-1])
    total = np.empty_like(params)
    total[:-1] = grad[:-1] + prior_grad
    total[-1] = grad[-1] + noise_grad
    return -(value + prior_value + noise_value), -total


def initial_params(prior: GPPrior) -> np.ndarray:
    return np.concatenate([prior.initial(), [INITIAL_LOG_NOISE]])


def params_bounds(prior: GPPrior) -> list[tuple[float, float]]:
    return [*prior.bounds, NOISE_BOUNDS]


def fit_hyperparameters(
    prior: GPPrior,
    X: np.ndarray,
    y: np.ndarray,
    rng: np.random.Generator,
    *,
    starts: int = 2,
    maxiter: int = 50,
    first: np.ndarray | None = None,
) -> np.ndarray:
    """Empirical Bayes: L-BFGS-B from the documented start (or ``first``) and ``starts − 1`` random ones; the
    best optimum found."""
    bounds = params_bounds(prior)
    lower = np.array([b[0] for b in bounds])
    upper = np.array([b[1] for b in bounds])
    start = initial_params(prior) if first is None else np.clip(first, lower, upper)
    candidates = [start]
    for _ in range(starts - 1):
        centre = initial_params(prior)
        draw = centre + rng.uniform(-RESTART_RADIUS, RESTART_RADIUS, size=len(centre))
        candidates.append(np.clip(draw, lower, upper))
    best, best_value = start, math.inf
    for x0 in candidates:
        result = minimize(
            lambda params: negative_log_posterior(prior, params, X, y),
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            tol=LBFGS_TOLERANCE,
            options={"maxiter": maxiter},
        )
        if np.isfinite(result.fun) and result.fun < best_value:
            best, best_value = result.x, float(result.fun)
    return np.asarray(best, dtype=float)


@dataclass
class Posterior:
    """The GP posterior given data ``(X, Y)``; ``Y`` has one column per fantasy sample (one column if none)."""

    prior: GPPrior
    params: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    L: np.ndarray
    alpha: np.ndarray
    #: the posterior these fantasies were added to (None: this one has none)
    before_fantasies: Posterior | None = None

    @classmethod
    def fit(cls, prior: GPPrior, params: np.ndarray, X: np.ndarray, Y: np.ndarray) -> Posterior:
        Y = Y.reshape(len(X), -1)
        theta = params[:-1]
        K = prior.covariance(theta, X, X)
        K[np.diag_indices_from(K)] += math.exp(params[-1])
        L = robust_cholesky(K)
        alpha = cho_solve((L, True), Y - prior.mean(theta, X)[:, None], check_finite=False)
        return cls(prior, params, X, Y, L, alpha)

    @property
    def noise_variance(self) -> float:
        return math.exp(self.params[-1])

    @property
    def num_fantasies(self) -> int:
        return self.Y.shape[1]

    def predict(self, Xs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior means of f at ``Xs`` (rows × fantasies) and variances (rows; the same for every fantasy)."""
        Ks = self.cross_covariance(Xs)
        means, prior_variances = self._means_and_prior_variances(Xs, Ks)
        return means, self._variances(Ks, prior_variances)

    def predict_mean(self, Xs: np.ndarray) -> np.ndarray:
        """Posterior means of f at ``Xs`` (rows × fantasies), without the cost of the variances."""
        return self.prior.mean(self.params[:-1], Xs)[:, None] + self.cross_covariance(Xs) @ self.alpha

    def _means_and_prior_variances(self, Xs: np.ndarray, Ks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        theta = self.params[:-1]
        return self.prior.mean(theta, Xs)[:, None] + Ks @ self.alpha, self.prior.variance(theta, Xs)

    def _variances(self, Ks: np.ndarray, prior_variances: np.ndarray) -> np.ndarray:
        """Posterior variances of the rows whose cross-covariances are ``Ks``."""
        V = solve_triangular(self.L, Ks.T, lower=True, check_finite=False)
        return np.maximum(prior_variances - np.einsum("ij,ij->j", V, V), MIN_VARIANCE)

    def cross_covariance(self, Xs: np.ndarray) -> np.ndarray:
        """Prior covariances between the rows of ``Xs`` and the data."""
        return self.prior.covariance(self.params[:-1], Xs, self.X)

    def predict_given(self, Xs: np.ndarray, Ks: np.ndarray) -> tuple[np.ndarray, np.ndarray, Callable]:
        """Means (rows × fantasies) at ``Xs`` given ``Ks = cross_covariance(Xs)``, upper bounds of the posterior
        variances, and a function: row indices -> their posterior variances (``predict`` in parts, for bounded
        searches). The bound is the variance given the single most informative data row: conditioning on more
        data never increases a GP's variance, so ``k(x, x) − max_i k(x, x_i)² / (k(x_i, x_i) + noise)`` bounds it
        at the cost of one pass over ``Ks``."""
        means, prior_variances = self._means_and_prior_variances(Xs, Ks)
        data_variances = self.prior.variance(self.params[:-1], self.X) + self.noise_variance
        explained = (Ks * Ks / data_variances).max(axis=1) if len(self.X) else 0.0
        bounds = np.maximum(prior_variances - explained, MIN_VARIANCE)

        def variances_of(rows: np.ndarray) -> np.ndarray:
            return self._variances(Ks[rows], prior_variances[rows])

        return means, bounds, variances_of

    def sample_joint(self, Xs: np.ndarray, rng: np.random.Generator, num_samples: int, *, noise: bool) -> np.ndarray:
        """Joint samples of f (or of noisy targets, ``noise=True``) at ``Xs``: rows × (fantasies · num_samples)."""
        theta = self.params[:-1]
        Ks = self.prior.covariance(theta, Xs, self.X)
        V = solve_triangular(self.L, Ks.T, lower=True, check_finite=False)
        covariance = self.prior.covariance(theta, Xs, Xs) - V.T @ V
        if noise:
            covariance[np.diag_indices_from(covariance)] += self.noise_variance
        factor = robust_cholesky(0.5 * (covariance + covariance.T))
        means = self.prior.mean(theta, Xs)[:, None] + Ks @ self.alpha  # rows × fantasies
        z = rng.standard_normal((len(Xs), num_samples))
        draws = factor @ z  # rows × samples
        return (means[:, :, None] + draws[:, None, :]).reshape(len(Xs), -1)

    def with_fantasies(self, Xp: np.ndarray, rng: np.random.Generator, num_samples: int) -> Posterior:
        """Condition also on ``num_samples`` joint draws of the noisy targets at the pending inputs ``Xp``."""
        if self.num_fantasies != 1:
            raise ValueError("fantasies are drawn from a posterior without fantasies")
        fantasies = self.sample_joint(Xp, rng, num_samples, noise=True)
        Y = np.vstack([np.repeat(self.Y, num_samples, axis=1), fantasies])
        posterior = Posterior.fit(self.prior, self.params, np.vstack([self.X, Xp]), Y)
        posterior.before_fantasies = self
        return posterior

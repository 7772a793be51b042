"""GP priors (mean and covariance functions) with their parameters in an unconstrained-ish vector ``theta``.

Positive parameters are optimised as logarithms, within the bounds and with the prior densities of the seed
documentation's GP (Syne Tune 0.13): covariance scale in [1e-3, 1e3] with a LogNormal(0, 1) prior, inverse
bandwidths of the ARD Matérn 5/2 kernel in [1e-4, 100] (flat), constant mean starting at 0 (flat). Each prior
gives its covariance, mean, log prior density and the gradient of the log marginal likelihood with respect to
``theta`` from the adjoints ``dK = ∂L/∂K`` and ``dm = ∂L/∂m`` (so a gradient costs O(n² d), not one n×n
matrix per parameter).

- ``Matern52Prior``: constant mean + ``c · Matérn52(x, x')`` with ARD inverse bandwidths ``w``:
  ``d² = Σ_j w_j² (x_j − x'_j)²``, ``k = c (1 + √5 d + 5 d²/3) exp(−√5 d)``.
- ``ExpDecaySumPrior``: over (x, r), the "exp-decay-sum" model of Tiao et al. (2020), MOBSTER's default:
  ``k((x, r), (x', r')) = k_x(x, x') + γ² [κ(r + r') − κ(r) κ(r')]`` and mean ``μ + γ κ(r)``, with
  ``κ(u) = (β / (u + β))^α``, ``β = α / λ`` (exponentially decaying learning curves integrated over a Gamma
  distribution of decay rates with mean λ); ``α ∈ [1e-6, 250]`` (starts at 1), ``λ ∈ [1e-4, 50]`` (0.5),
  ``γ ∈ [1e-4, 1]`` (0.5), no priors. The resource enters as ``r / max_t``.
- ``IndependentLevelsPrior``: one GP per rung level ``l`` with mean ``μ_l`` and covariance ``c_l k(x, x')``,
  sharing the ARD Matérn kernel ``k`` (no scale of its own); data at different levels are independent.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable

import numpy as np

SQRT5 = math.sqrt(5.0)
LOG = math.log
COVARIANCE_SCALE_BOUNDS = (LOG(1e-3), LOG(1e3))
INVERSE_BANDWIDTH_BOUNDS = (LOG(1e-4), LOG(100.0))
MEAN_BOUNDS = (-20.0, 20.0)  # targets are standardised: far beyond any sensible mean
ALPHA_BOUNDS = (LOG(1e-6), LOG(250.0))
MEAN_LAMBDA_BOUNDS = (LOG(1e-4), LOG(50.0))
GAMMA_BOUNDS = (LOG(1e-4), LOG(1.0))

#: ``(dK, dm) -> ∂L/∂theta`` given the adjoints of the covariance matrix and the mean vector
Backprop = Callable[[np.ndarray, np.ndarray], np.ndarray]


def scaled_squared_distances(X1: np.ndarray, X2: np.ndarray, inverse_bandwidths: np.ndarray) -> np.ndarray:
    """``Σ_j w_j² (x1_j − x2_j)²`` for every pair of rows."""
    A = X1 * inverse_bandwidths
    B = X2 * inverse_bandwidths
    d2 = np.einsum("ij,ij->i", A, A)[:, None] + np.einsum("ij,ij->i", B, B)[None, :] - 2.0 * (A @ B.T)
    np.maximum(d2, 0.0, out=d2)
    return d2


def matern52(d2: np.ndarray) -> np.ndarray:
    s = np.sqrt(5.0 * d2)
    return (1.0 + s + s * s / 3.0) * np.exp(-s)


def lognormal_log_density(log_value: float) -> tuple[float, float]:
    """log density (up to a constant) of LogNormal(0, 1) at ``exp(log_value)`` and its derivative in log_value."""
    return -log_value - 0.5 * log_value * log_value, -1.0 - log_value


def ard_gradient(G: np.ndarray, X: np.ndarray, inverse_bandwidths: np.ndarray) -> np.ndarray:
    """``Σ_ab G_ab ∂d²_ab/∂log w_j`` for symmetric ``G``: the chain rule through the ARD distances."""
    g = G.sum(axis=1)
    quadratic = np.einsum("ij,ij->j", X, G @ X)
    return 4.0 * inverse_bandwidths**2 * ((X * X).T @ g - quadratic)


class GPPrior(abc.ABC):
    """Mean and covariance function of a GP, parameterised by a vector ``theta`` (see the module docstring)."""

    #: parameter names, in ``theta`` order
    names: list[str]
    bounds: list[tuple[float, float]]

    @abc.abstractmethod
    def initial(self) -> np.ndarray:
        """The documented starting values of ``theta``."""

    @abc.abstractmethod
    def covariance(self, theta: np.ndarray, X1: np.ndarray, X2: np.ndarray) -> np.ndarray: ...

    @abc.abstractmethod
    def variance(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """The diagonal of ``covariance(theta, X, X)``."""

    @abc.abstractmethod
    def mean(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray: ...

    def log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Log prior density of ``theta`` (up to a constant) and its gradient; flat by default."""
        return 0.0, np.zeros_like(theta)

    @abc.abstractmethod
    def evaluate(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, Backprop]:
        """``covariance(theta, X, X)``, ``mean(theta, X)`` and a function ``(dK, dm) -> gradient``:
        ``Σ ∂L/∂K ∂K/∂theta + Σ ∂L/∂m ∂m/∂theta`` for symmetric ``dK``, reusing what was computed for ``K`` and
        ``m`` (the fitting loop calls this once per evaluation)."""


class _Matern:
    """The Matérn 5/2 correlation of the rows of ``X`` and what its derivatives need, computed once."""

    __slots__ = ("w", "d2", "exp", "one_plus_s")

    def __init__(self, X: np.ndarray, w: np.ndarray) -> None:
        self.w = w
        self.d2 = scaled_squared_distances(X, X, w)
        s = np.sqrt(5.0 * self.d2)
        self.exp = np.exp(-s)
        self.one_plus_s = s
        self.one_plus_s += 1.0

    def correlation(self) -> np.ndarray:
        """``(1 + s + s²/3) e^{-s}`` with ``s² = 5 d²``: ``(1 + s) e^{-s} + (5/3) d² e^{-s}``."""
        result = self.one_plus_s * self.exp
        result += (5.0 / 3.0) * self.d2 * self.exp
        return result

    def derivative(self) -> np.ndarray:
        """∂ correlation / ∂ d² = −(5/6) (1 + s) e^{-s}."""
        result = self.one_plus_s * self.exp
        result *= -5.0 / 6.0
        return result


class Matern52Prior(GPPrior):
    """Constant mean and ``c · Matérn 5/2`` with ARD over ``dimension`` inputs."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.names = ["mean", "log_covariance_scale", *(f"log_inverse_bandwidth_{j}" for j in range(dimension))]
        self.bounds = [MEAN_BOUNDS, COVARIANCE_SCALE_BOUNDS, *[INVERSE_BANDWIDTH_BOUNDS] * dimension]

    def initial(self) -> np.ndarray:
        return np.zeros(2 + self.dimension)  # mean 0, scale 1, inverse bandwidths 1

    def covariance(self, theta: np.ndarray, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        return math.exp(theta[1]) * matern52(scaled_squared_distances(X1, X2, np.exp(theta[2:])))

    def variance(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), math.exp(theta[1]))

    def mean(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        return np.full(len(X), theta[0])

    def log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, derivative = lognormal_log_density(theta[1])
        grad = np.zeros_like(theta)
        grad[1] = derivative
        return value, grad

    def evaluate(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, Backprop]:
        scale = math.exp(theta[1])
        matern = _Matern(X, np.exp(theta[2:]))
        correlation = matern.correlation()
        K = scale * correlation

        def backprop(dK: np.ndarray, dm: np.ndarray) -> np.ndarray:
            grad = np.empty_like(theta)
            grad[0] = dm.sum()
            grad[1] = scale * np.einsum("ij,ij->", dK, correlation)
            G = matern.derivative()
            G *= dK
            G *= scale
            grad[2:] = ard_gradient(G, X, matern.w)
            return grad

        return K, np.full(len(X), theta[0]), backprop


class ExpDecaySumPrior(GPPrior):
    """The "exp-decay-sum" joint model over (x, r); the last input column is the resource (``r / max_t``)."""

    def __init__(self, dimension: int) -> None:
        self.base = Matern52Prior(dimension)
        self.dimension = dimension
        self.names = [*self.base.names, "log_alpha", "log_mean_lambda", "log_gamma"]
        self.bounds = [*self.base.bounds, ALPHA_BOUNDS, MEAN_LAMBDA_BOUNDS, GAMMA_BOUNDS]

    def initial(self) -> np.ndarray:
        return np.concatenate([self.base.initial(), [0.0, LOG(0.5), LOG(0.5)]])

    @staticmethod
    def _kappa(u: np.ndarray, log_alpha: float, log_mean_lambda: float) -> np.ndarray:
        alpha = math.exp(log_alpha)
        beta = math.exp(log_alpha - log_mean_lambda)
        return np.power(beta / (u + beta), alpha)

    def _split(self, theta: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        return theta[: 2 + self.dimension], theta[-3], theta[-2], math.exp(theta[-1])

    def covariance(self, theta: np.ndarray, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        base, la, ll, gamma = self._split(theta)
        r1, r2 = X1[:, -1], X2[:, -1]
        resource = self._kappa(r1[:, None] + r2[None, :], la, ll) - np.outer(
            self._kappa(r1, la, ll), self._kappa(r2, la, ll)
        )
        return self.base.covariance(base, X1[:, :-1], X2[:, :-1]) + gamma * gamma * resource

    def variance(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        base, la, ll, gamma = self._split(theta)
        r = X[:, -1]
        kappa = self._kappa(r, la, ll)
        return self.base.variance(base, X[:, :-1]) + gamma * gamma * (self._kappa(2.0 * r, la, ll) - kappa * kappa)

    def mean(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        base, la, ll, gamma = self._split(theta)
        return self.base.mean(base, X[:, :-1]) + gamma * self._kappa(X[:, -1], la, ll)

    def _kappa_and_derivatives(self, u: np.ndarray, la: float, ll: float) -> tuple[np.ndarray, ...]:
        """κ(u) and its derivatives in log α and log λ: ``κ (log κ + α u/(u+β))`` and ``−κ α u/(u+β)``."""
        alpha = math.exp(la)
        beta = math.exp(la - ll)
        kappa = self._kappa(u, la, ll)
        ratio = alpha * u / (u + beta)
        return kappa, kappa * (np.log(kappa) + ratio), -kappa * ratio

    def log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = self.base.log_prior(theta[: 2 + self.dimension])
        return value, np.concatenate([grad, np.zeros(3)])

    def evaluate(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, Backprop]:
        base, la, ll, gamma = self._split(theta)
        K, mean, base_backprop = self.base.evaluate(base, X[:, :-1])
        r = X[:, -1]
        levels, inverse = np.unique(r, return_inverse=True)  # few distinct resources: work on levels × levels
        k12, k12_a, k12_l = self._kappa_and_derivatives(levels[:, None] + levels[None, :], la, ll)
        k1, k1_a, k1_l = self._kappa_and_derivatives(levels, la, ll)
        g2 = gamma * gamma
        resource = k12 - np.outer(k1, k1)
        K += g2 * resource[inverse][:, inverse]
        mean = mean + gamma * k1[inverse]

        def backprop(dK: np.ndarray, dm: np.ndarray) -> np.ndarray:
            grad = np.empty_like(theta)
            grad[: len(base)] = base_backprop(dK, dm)
            # sum dK over the blocks of equal (r, r'): then every term is levels × levels
            onehot = np.zeros((len(levels), len(r)))
            onehot[inverse, np.arange(len(r))] = 1.0
            blocks = onehot @ dK @ onehot.T
            dm_levels = onehot @ dm
            row = blocks @ k1
            grad[-3] = g2 * (np.sum(blocks * k12_a) - 2.0 * k1_a @ row) + gamma * (dm_levels @ k1_a)
            grad[-2] = g2 * (np.sum(blocks * k12_l) - 2.0 * k1_l @ row) + gamma * (dm_levels @ k1_l)
            grad[-1] = 2.0 * g2 * np.sum(blocks * resource) + gamma * (dm_levels @ k1)
            return grad

        return K, mean, backprop


class IndependentLevelsPrior(GPPrior):
    """One GP per level (the last input column is the level's index), sharing the ARD Matérn kernel."""

    def __init__(self, dimension: int, num_levels: int) -> None:
        self.dimension = dimension
        self.num_levels = num_levels
        self.names = [
            *(f"log_inverse_bandwidth_{j}" for j in range(dimension)),
            *(f"mean_{level}" for level in range(num_levels)),
            *(f"log_covariance_scale_{level}" for level in range(num_levels)),
        ]
        self.bounds = [
            *[INVERSE_BANDWIDTH_BOUNDS] * dimension,
            *[MEAN_BOUNDS] * num_levels,
            *[COVARIANCE_SCALE_BOUNDS] * num_levels,
        ]

    def initial(self) -> np.ndarray:
        return np.zeros(self.dimension + 2 * self.num_levels)

    def _parts(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d, n = self.dimension, self.num_levels
        return np.exp(theta[:d]), theta[d : d + n], np.exp(theta[d + n :])

    def covariance(self, theta: np.ndarray, X1: np.ndarray, X2: np.ndarray) -> np.ndarray:
        w, _, scales = self._parts(theta)
        l1, l2 = X1[:, -1].astype(int), X2[:, -1].astype(int)
        same = l1[:, None] == l2[None, :]
        return np.where(same, scales[l1][:, None], 0.0) * matern52(scaled_squared_distances(X1[:, :-1], X2[:, :-1], w))

    def variance(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        _, _, scales = self._parts(theta)
        return scales[X[:, -1].astype(int)]

    def mean(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        _, means, _ = self._parts(theta)
        return means[X[:, -1].astype(int)]

    def evaluate(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, Backprop]:
        w, means, scales = self._parts(theta)
        d, n = self.dimension, self.num_levels
        levels = X[:, -1].astype(int)
        x = X[:, :-1]
        matern = _Matern(x, w)
        scale_matrix = np.where(levels[:, None] == levels[None, :], scales[levels][:, None], 0.0)
        correlation = matern.correlation()
        K = scale_matrix * correlation

        def backprop(dK: np.ndarray, dm: np.ndarray) -> np.ndarray:
            grad = np.empty_like(theta)
            weighted = dK * scale_matrix
            G = matern.derivative()
            G *= weighted
            grad[:d] = ard_gradient(G, x, w)
            grad[d : d + n] = np.bincount(levels, weights=dm, minlength=n)
            grad[d + n :] = np.bincount(levels, weights=(weighted * correlation).sum(axis=1), minlength=n)
            return grad

        return K, means[levels], backprop

    def log_prior(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        d, n = self.dimension, self.num_levels
        grad = np.zeros_like(theta)
        value = 0.0
        for i in range(d + n, d + 2 * n):
            v, g = lognormal_log_density(theta[i])
            value += v
            grad[i] = g
        return value, grad

"""The GP model of the model-based searchers (``methods.gp``) against independent computations: scikit-learn's
GP regression, finite differences, the kernel formulas of the priors' docstring, closed-form and Monte Carlo
expected improvement, empirical moments of joint samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import LinAlgError
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from methods.gp.acquisition import argmax_expected_improvement, expected_improvement, expected_improvement_rows
from methods.gp.blas import blas_single_thread
from methods.gp.encoding import ConfigEncoder
from methods.gp.priors import ExpDecaySumPrior, IndependentLevelsPrior, Matern52Prior
from methods.gp.regression import (
    NOISE_BOUNDS,
    Posterior,
    fit_hyperparameters,
    initial_params,
    log_marginal_likelihood,
    negative_log_posterior,
    params_bounds,
    robust_cholesky,
)
from searchspace import Categorical, Condition, Float, Integer, SearchSpace

SQRT5 = math.sqrt(5.0)


@pytest.fixture(autouse=True)
def one_blas_thread():
    """As the searchers run it (``methods.gp.blas``); several BLAS threads make small fits slow here."""
    with blas_single_thread():
        yield


def matern52_reference(X1, X2, scale, inverse_bandwidths):
    """``c (1 + √5 d + 5 d²/3) exp(−√5 d)``, ``d² = Σ w_j² (x_j − x'_j)²``, pair by pair."""
    K = np.empty((len(X1), len(X2)))
    for i, a in enumerate(X1):
        for j, b in enumerate(X2):
            d = math.sqrt(float(np.sum((inverse_bandwidths * (a - b)) ** 2)))
            K[i, j] = scale * (1.0 + SQRT5 * d + 5.0 * d * d / 3.0) * math.exp(-SQRT5 * d)
    return K


def smooth_targets(X):
    return np.sin(3.0 * X[:, 0]) + X[:, 1:].sum(axis=1) ** 2 - 0.5


# 1. Posterior and marginal likelihood against scikit-learn ---------------------------------------------------
@pytest.mark.parametrize("dimension, n, seed", [(3, 25, 0), (5, 35, 1)])
def test_posterior_and_marginal_likelihood_equal_sklearn(dimension, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(size=(n, dimension))
    y = smooth_targets(X) + 0.05 * rng.standard_normal(n)
    Xs = rng.uniform(size=(15, dimension))
    mean, scale, noise = 0.3, 1.7, 0.02
    w = rng.uniform(0.5, 3.0, size=dimension)
    prior = Matern52Prior(dimension)
    params = np.concatenate([[mean, math.log(scale)], np.log(w), [math.log(noise)]])

    posterior = Posterior.fit(prior, params, X, y)
    means, variances = posterior.predict(Xs)
    lml, _ = log_marginal_likelihood(prior, params, X, y, gradient=False)
    lml_with_gradient, _ = log_marginal_likelihood(prior, params, X, y)

    kernel = ConstantKernel(scale, constant_value_bounds="fixed") * Matern(
        length_scale=1.0 / w, length_scale_bounds="fixed", nu=2.5
    ) + WhiteKernel(noise, noise_level_bounds="fixed")
    gpr = GaussianProcessRegressor(kernel=kernel, alpha=0.0, optimizer=None, normalize_y=False)
    gpr.fit(X, y - mean)
    sk_mean, sk_std = gpr.predict(Xs, return_std=True)
    sk_latent_variance = sk_std**2 - noise  # WhiteKernel adds the noise to the predictive variance

    assert means.shape == (15, 1)
    np.testing.assert_allclose(means[:, 0], sk_mean + mean, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(variances, sk_latent_variance, rtol=1e-8, atol=1e-10)
    assert lml == pytest.approx(gpr.log_marginal_likelihood_value_, rel=1e-8, abs=1e-8)
    assert lml_with_gradient == pytest.approx(lml, rel=1e-12)
    # and the prior's own covariance is the kernel (without the white noise)
    np.testing.assert_allclose(
        prior.covariance(params[:-1], Xs, X), matern52_reference(Xs, X, scale, w), rtol=1e-10, atol=1e-12
    )


# 2. Analytic gradients ----------------------------------------------------------------------------------------
def random_problem(kind, rng):
    """(prior, params inside the bounds, X, y) for one of the three priors."""
    n, d = 18, 3
    x = rng.uniform(size=(n, d))
    if kind == "matern":
        prior = Matern52Prior(d)
        X = x
        theta = np.concatenate([[rng.uniform(-1, 1), rng.uniform(-1, 1)], rng.uniform(-1.0, 1.5, size=d)])
    elif kind == "expdecay":
        prior = ExpDecaySumPrior(d)
        r = rng.choice([1 / 9, 3 / 9, 1.0], size=n)
        X = np.hstack([x, r[:, None]])
        theta = np.concatenate(
            [
                [rng.uniform(-1, 1), rng.uniform(-1, 1)],
                rng.uniform(-1.0, 1.5, size=d),
                [rng.uniform(-1, 1), rng.uniform(-2, 1), rng.uniform(-2, 0)],
            ]
        )
    else:
        levels = 3
        prior = IndependentLevelsPrior(d, levels)
        X = np.hstack([x, rng.integers(0, levels, size=n)[:, None].astype(float)])
        theta = np.concatenate(
            [rng.uniform(-1.0, 1.5, size=d), rng.uniform(-1, 1, size=levels), rng.uniform(-1, 1, size=levels)]
        )
    params = np.concatenate([theta, [rng.uniform(-4, -1)]])
    lower, upper = np.array(params_bounds(prior)).T
    assert np.all(lower < params) and np.all(params < upper)
    y = smooth_targets(x) + 0.1 * rng.standard_normal(n)
    return prior, params, X, y


def central_differences(f, x, h=1e-6):
    grad = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (f(x + e) - f(x - e)) / (2 * h)
    return grad


@pytest.mark.parametrize("kind", ["matern", "expdecay", "independent"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_negative_log_posterior_gradient_matches_finite_differences(kind, seed):
    rng = np.random.default_rng(seed)
    prior, params, X, y = random_problem(kind, rng)
    value, grad = negative_log_posterior(prior, params, X, y)
    assert np.isfinite(value) and value < 1e19
    numeric = central_differences(lambda p: negative_log_posterior(prior, p, X, y)[0], params)
    assert np.linalg.norm(grad - numeric) / np.linalg.norm(numeric) < 1e-5, (grad, numeric)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6 * np.abs(numeric).max())


@pytest.mark.parametrize("kind", ["matern", "expdecay", "independent"])
def test_prior_backprop_matches_finite_differences(kind):
    """``evaluate``'s backprop is the derivative of ⟨dK, K⟩ + ⟨dm, m⟩, and its K and m are the prior's."""
    rng = np.random.default_rng(5)
    prior, params, X, _ = random_problem(kind, rng)
    theta = params[:-1]
    A = rng.standard_normal((len(X), len(X)))
    dK = A + A.T
    dm = rng.standard_normal(len(X))

    def objective(t):
        return float(np.sum(dK * prior.covariance(t, X, X)) + dm @ prior.mean(t, X))

    numeric = central_differences(objective, theta)
    K, m, backprop = prior.evaluate(theta, X)
    analytic = backprop(dK, dm)
    assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) < 1e-6
    np.testing.assert_allclose(K, prior.covariance(theta, X, X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(m, prior.mean(theta, X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(prior.variance(theta, X), np.diag(K), rtol=1e-12, atol=1e-14)


# 3. The multi-fidelity kernels --------------------------------------------------------------------------------
def test_exp_decay_sum_covariance_follows_the_documented_formula():
    rng = np.random.default_rng(3)
    d = 2
    prior = ExpDecaySumPrior(d)
    mean, scale, w = -0.4, 0.8, np.array([1.5, 0.7])
    alpha, lam, gamma = 2.5, 0.3, 0.6
    theta = np.concatenate([[mean, math.log(scale)], np.log(w), [math.log(alpha), math.log(lam), math.log(gamma)]])
    X1 = np.hstack([rng.uniform(size=(6, d)), rng.choice([0.1, 0.3, 1.0], size=(6, 1))])
    X2 = np.hstack([rng.uniform(size=(4, d)), rng.choice([0.1, 0.5, 1.0], size=(4, 1))])
    beta = alpha / lam

    def kappa(u):
        return (beta / (u + beta)) ** alpha

    expected = matern52_reference(X1[:, :-1], X2[:, :-1], scale, w)
    for i in range(len(X1)):
        for j in range(len(X2)):
            r, s = X1[i, -1], X2[j, -1]
            expected[i, j] += gamma**2 * (kappa(r + s) - kappa(r) * kappa(s))
    np.testing.assert_allclose(prior.covariance(theta, X1, X2), expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(prior.mean(theta, X1), mean + gamma * kappa(X1[:, -1]), rtol=1e-12)
    np.testing.assert_allclose(
        prior.variance(theta, X1), scale + gamma**2 * (kappa(2 * X1[:, -1]) - kappa(X1[:, -1]) ** 2), rtol=1e-12
    )
    # the resource part is a covariance too: the joint matrix is positive semi-definite
    X = np.vstack([X1, X2])
    assert np.linalg.eigvalsh(prior.covariance(theta, X, X)).min() > -1e-10


def test_independent_levels_have_zero_covariance_across_levels():
    rng = np.random.default_rng(4)
    d, levels = 2, 3
    prior = IndependentLevelsPrior(d, levels)
    w = np.array([2.0, 0.5])
    means = np.array([0.1, -0.2, 0.3])
    scales = np.array([0.5, 1.0, 2.0])
    theta = np.concatenate([np.log(w), means, np.log(scales)])
    x = rng.uniform(size=(9, d))
    level = np.array([0, 1, 2] * 3)
    X = np.hstack([x, level[:, None].astype(float)])
    K = prior.covariance(theta, X, X)
    reference = matern52_reference(x, x, 1.0, w)
    for i in range(9):
        for j in range(9):
            if level[i] != level[j]:
                assert K[i, j] == 0.0
            else:
                assert K[i, j] == pytest.approx(scales[level[i]] * reference[i, j], rel=1e-10)
    np.testing.assert_allclose(prior.mean(theta, X), means[level])
    np.testing.assert_allclose(prior.variance(theta, X), scales[level])
    # data at one level says nothing about another: the posterior at level 2 is the prior there
    at0 = level == 0
    posterior = Posterior.fit(prior, np.concatenate([theta, [math.log(1e-3)]]), X[at0], rng.standard_normal(3))
    query = np.hstack([x[at0], np.full((3, 1), 2.0)])
    m, v = posterior.predict(query)
    np.testing.assert_allclose(m[:, 0], means[2], atol=1e-12)
    np.testing.assert_allclose(v, scales[2], rtol=1e-12)


# 4. Expected improvement --------------------------------------------------------------------------------------
def closed_form_ei(mu, sigma, best):
    z = (best - mu) / sigma
    return (best - mu) * norm.cdf(z) + sigma * norm.pdf(z)


def test_expected_improvement_equals_the_closed_form_averaged_over_fantasies():
    rng = np.random.default_rng(6)
    rows, samples = 12, 4
    means = rng.normal(size=(rows, samples))
    variances = rng.uniform(0.01, 2.0, size=rows)
    best = rng.normal(size=samples)
    expected = np.zeros(rows)
    for i in range(rows):
        expected[i] = np.mean([closed_form_ei(means[i, s], math.sqrt(variances[i]), best[s]) for s in range(samples)])
    np.testing.assert_allclose(expected_improvement(means, variances, best), expected, rtol=1e-10, atol=1e-14)

    row_best = rng.normal(size=rows)
    expected_rows = np.array(
        [
            np.mean([closed_form_ei(means[i, s], math.sqrt(variances[i]), row_best[i]) for s in range(samples)])
            for i in range(rows)
        ]
    )
    np.testing.assert_allclose(expected_improvement_rows(means, variances, row_best), expected_rows, rtol=1e-10)


def test_expected_improvement_matches_monte_carlo():
    rng = np.random.default_rng(7)
    mu, variance, best = 0.2, 0.5, 0.0
    draws = rng.normal(mu, math.sqrt(variance), size=400_000)
    monte_carlo = np.maximum(best - draws, 0.0).mean()
    ei = expected_improvement(np.array([[mu]]), np.array([variance]), np.array([best]))[0]
    assert ei == pytest.approx(monte_carlo, rel=0.02)
    # larger mean (minimisation): less improvement; larger variance: more
    assert expected_improvement(np.array([[mu + 0.5]]), np.array([variance]), np.array([best]))[0] < ei
    assert expected_improvement(np.array([[mu]]), np.array([2 * variance]), np.array([best]))[0] > ei


# 5. Duplicated inputs -----------------------------------------------------------------------------------------
def test_duplicated_inputs_with_tiny_noise_are_handled():
    rng = np.random.default_rng(8)
    d = 3
    prior = Matern52Prior(d)
    x = rng.uniform(size=(1, d))
    X = np.vstack([np.repeat(x, 5, axis=0), rng.uniform(size=(6, d))])
    y = np.concatenate([[0.3, 0.31, 0.29, 0.3, 0.3], rng.normal(size=6)])

    # a singular matrix (5 identical rows, no noise): plain Cholesky fails, the jitter makes it work
    K = prior.covariance(prior.initial(), X, X)
    with pytest.raises(LinAlgError):
        np.linalg.cholesky(K)
    L = robust_cholesky(K)
    assert np.all(np.isfinite(L)) and np.allclose(L, np.tril(L))
    np.testing.assert_allclose(L @ L.T, K, atol=1e-2 * np.mean(np.diag(K)))
    with pytest.raises(LinAlgError):
        robust_cholesky(-np.eye(3))

    params = initial_params(prior)
    params[-1] = NOISE_BOUNDS[0]  # noise variance 1e-9
    value, grad = log_marginal_likelihood(prior, params, X, y)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    posterior = Posterior.fit(prior, params, X, y)
    means, variances = posterior.predict(np.vstack([x, rng.uniform(size=(4, d))]))
    assert np.all(np.isfinite(means)) and np.all(np.isfinite(variances)) and np.all(variances > 0)
    assert means[0, 0] == pytest.approx(0.3, abs=0.05)
    fitted = fit_hyperparameters(prior, X, y, np.random.default_rng(0), first=params)
    lower, upper = np.array(params_bounds(prior)).T
    assert np.all(np.isfinite(fitted)) and np.all(lower <= fitted) and np.all(fitted <= upper)
    assert np.isfinite(negative_log_posterior(prior, fitted, X, y)[0])
    fantasized = Posterior.fit(prior, fitted, X, y).with_fantasies(x, np.random.default_rng(1), 5)
    assert np.all(np.isfinite(fantasized.predict(x)[0]))


# 6. Fitting ---------------------------------------------------------------------------------------------------
def test_fit_hyperparameters_is_deterministic_and_improves_the_objective():
    rng = np.random.default_rng(9)
    d = 2
    prior = Matern52Prior(d)
    X = rng.uniform(size=(30, d))
    y = np.sin(6 * X[:, 0]) * 2.0 + 0.5 * X[:, 1]
    y = (y - y.mean()) / y.std()
    first = fit_hyperparameters(prior, X, y, np.random.default_rng(11), starts=3, maxiter=30)
    again = fit_hyperparameters(prior, X, y, np.random.default_rng(11), starts=3, maxiter=30)
    np.testing.assert_array_equal(first, again)
    start_value = negative_log_posterior(prior, initial_params(prior), X, y)[0]
    fitted_value = negative_log_posterior(prior, first, X, y)[0]
    assert fitted_value < start_value - 1.0
    lower, upper = np.array(params_bounds(prior)).T
    assert np.all(lower <= first) and np.all(first <= upper)
    # near a local optimum: the projected gradient is small compared with the one at the start
    grad = negative_log_posterior(prior, first, X, y)[1]
    free = (first > lower + 1e-6) & (first < upper - 1e-6)
    start_grad = negative_log_posterior(prior, initial_params(prior), X, y)[1]
    assert np.linalg.norm(grad[free]) < 0.1 * np.linalg.norm(start_grad)


# 7. Joint samples ---------------------------------------------------------------------------------------------
def test_sample_joint_moments_match_the_posterior():
    rng = np.random.default_rng(10)
    d = 2
    prior = Matern52Prior(d)
    X = rng.uniform(size=(10, d))
    y = smooth_targets(X)
    params = np.array([0.1, math.log(1.5), 0.5, 0.2, math.log(0.01)])
    posterior = Posterior.fit(prior, params, X, y)
    Xs = np.vstack([X[:1] + 0.05, rng.uniform(size=(3, d))])
    means, variances = posterior.predict(Xs)
    # the posterior covariance, computed independently
    K = prior.covariance(params[:-1], X, X) + 0.01 * np.eye(len(X))
    Ks = prior.covariance(params[:-1], Xs, X)
    covariance = prior.covariance(params[:-1], Xs, Xs) - Ks @ np.linalg.solve(K, Ks.T)
    np.testing.assert_allclose(np.diag(covariance), variances, rtol=1e-6, atol=1e-10)

    n = 40_000
    samples = posterior.sample_joint(Xs, np.random.default_rng(0), n, noise=False)
    assert samples.shape == (len(Xs), n)
    sd = np.sqrt(np.diag(covariance))
    np.testing.assert_allclose(samples.mean(axis=1), means[:, 0], atol=5 * sd.max() / math.sqrt(n) + 1e-9)
    np.testing.assert_allclose(np.cov(samples), covariance, atol=0.05 * np.abs(covariance).max())
    noisy = posterior.sample_joint(Xs, np.random.default_rng(1), n, noise=True)
    np.testing.assert_allclose(np.var(noisy, axis=1), np.diag(covariance) + 0.01, rtol=0.05)

    fantasized = posterior.with_fantasies(Xs[:2], np.random.default_rng(2), 7)
    assert fantasized.num_fantasies == 7 and fantasized.Y.shape == (len(X) + 2, 7)
    np.testing.assert_allclose(fantasized.Y[: len(X)], np.repeat(y[:, None], 7, axis=1))
    many = fantasized.sample_joint(Xs, np.random.default_rng(3), 5, noise=False)
    assert many.shape == (len(Xs), 7 * 5)
    with pytest.raises(ValueError):
        fantasized.with_fantasies(Xs[:1], np.random.default_rng(4), 2)


# 8. Encoding --------------------------------------------------------------------------------------------------
def test_config_encoder_columns():
    space = SearchSpace(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "act": Categorical(("relu", "tanh", "gelu")),
            "opt": Categorical(("sgd", "adam")),
            "momentum": Float(0.5, 0.99),
            "nesterov": Categorical(("yes", "no")),
            "units": Integer(16, 256, log=True),
        },
        conditions=[Condition("momentum", "opt", ("sgd",)), Condition("nesterov", "opt", ("sgd",))],
    )
    encoder = ConfigEncoder(space)
    assert encoder.dimension == 1 + 3 + 2 + 1 + 2 + 1
    sgd = {"lr": 1e-3, "act": "tanh", "opt": "sgd", "momentum": 0.9, "nesterov": "no", "units": 64}
    adam = {"lr": 1e-2, "act": "gelu", "opt": "adam", "momentum": None, "nesterov": None, "units": 256}
    rows = encoder.encode([sgd, adam])
    assert rows.shape == (2, 10)
    assert rows[0, 0] == pytest.approx(0.5)  # log scale: 1e-3 is half-way between 1e-5 and 1e-1
    assert rows[0, 0] == pytest.approx(space["lr"].encode(1e-3))
    assert rows[1, 0] == pytest.approx(0.75)
    np.testing.assert_array_equal(rows[0, 1:4], [0, 1, 0])
    np.testing.assert_array_equal(rows[1, 1:4], [0, 0, 1])
    np.testing.assert_array_equal(rows[0, 4:6], [1, 0])
    np.testing.assert_array_equal(rows[1, 4:6], [0, 1])
    assert rows[0, 6] == pytest.approx((0.9 - 0.5) / (0.99 - 0.5))
    np.testing.assert_array_equal(rows[0, 7:9], [0, 1])
    assert rows[1, 6] == 0.0  # inactive number
    np.testing.assert_array_equal(rows[1, 7:9], [0, 0])  # inactive categorical: no choice
    units = space["units"]
    assert rows[0, 9] == pytest.approx(units.encode(64)) and rows[1, 9] == pytest.approx(units.encode(256))
    assert 0.0 < rows[0, 9] < rows[1, 9] <= 1.0
    np.testing.assert_array_equal(encoder.encode_one(adam), rows[1])
    # configurations differing only in inactive values encode alike; sampled ones lie in [0, 1]
    sampled = encoder.encode(space.sample_many(np.random.default_rng(0), 50))
    assert np.all((sampled >= 0) & (sampled <= 1))
    one_hot = sampled[:, 1:4].sum(axis=1)
    np.testing.assert_array_equal(one_hot, 1.0)


@pytest.mark.parametrize("seed", range(6))
def test_bounded_argmax_of_expected_improvement_is_the_full_argmax(seed):
    """Over many candidates, EI's argmax computed with variance bounds (pruning) is the argmax of EI over all,
    with and without fantasies; the bounds are upper bounds of the posterior variances."""
    rng = np.random.default_rng(seed)
    prior = Matern52Prior(4)
    X = rng.random((60, 4))
    y = np.sin(3 * X.sum(axis=1)) + 0.1 * rng.standard_normal(60)
    params = initial_params(prior)
    params[2:-1] = rng.normal(0.5, 0.5, 4)
    params[-1] = rng.uniform(-8.0, 0.0)
    posterior = Posterior.fit(prior, params, X, y)
    if seed % 2:
        posterior = posterior.with_fantasies(rng.random((3, 4)), rng, 5)
    candidates = np.vstack([rng.random((3000, 4)), X[:5]])
    best = posterior.predict(X)[0].min(axis=0)
    means, variances = posterior.predict(candidates)
    full = int(np.argmax(expected_improvement(means, variances, best)))
    bounded_means, bounds, variances_of = posterior.predict_given(candidates, posterior.cross_covariance(candidates))
    assert np.allclose(bounded_means, means)
    assert np.all(bounds >= variances - 1e-12)
    assert argmax_expected_improvement(bounded_means, bounds, best, variances_of) == full

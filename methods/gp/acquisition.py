"""Expected improvement (averaged over fantasy samples), the factors other acquisitions multiply it by, and its
optimisation over configurations.

``expected_improvement``: for minimisation, ``EI = σ (z Φ(z) + φ(z))``, ``z = (best − μ) / σ``, per fantasy
sample (each with its own incumbent ``best``), averaged over samples; ``argmax_expected_improvement``: its exact
argmax over many rows, also of EI times a non-negative weight per row. Weights: ``probability_of_feasibility``
``P(c(x) <= 0) = Φ(−μ_c / σ_c)`` (constrained EI) and ``cost_weight`` ``μ_c^−ρ`` (EI per unit cost). Hill
climbing on an acquisition over configurations: ``methods.local_search``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import ndtr

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


def expected_improvement(means: np.ndarray, variances: np.ndarray, best: np.ndarray) -> np.ndarray:
    """EI of each row for minimisation: ``means`` rows × samples, ``variances`` rows, ``best`` samples."""
    sigma = np.sqrt(variances)[:, None]
    z = (best[None, :] - means) / sigma
    ei = sigma * (z * ndtr(z) + _INV_SQRT_2PI * np.exp(-0.5 * z * z))
    return ei.mean(axis=1)


def probability_of_feasibility(means: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``P(c(x) <= 0) = Φ(−μ_c / σ_c)`` per row, given the constraint's posterior means and variances."""
    return ndtr(-means / np.sqrt(variances))


def cost_weight(cost_means: np.ndarray, exponent: float) -> np.ndarray:
    """``μ_c(x)^−ρ`` per row (EI per unit cost is EI times this), given positive predicted costs."""
    return np.power(cost_means, -exponent)


def argmax_expected_improvement(
    means: np.ndarray,
    variance_bounds: np.ndarray,
    best: np.ndarray,
    variances_of: Callable[[np.ndarray], np.ndarray],
    chunk: int = 256,
    weight_bounds: np.ndarray | None = None,
    weights_of: Callable[[np.ndarray], np.ndarray] | None = None,
) -> int:
    """The row of largest EI (the first one on ties), computing posterior variances only where needed; with
    ``weight_bounds`` and ``weights_of``, the row of largest EI × weight (weights >= 0, e.g. the probability of
    feasibility, or a cost's ``μ_c^−ρ``).

    EI grows with the variance, so EI at an upper bound of a row's posterior variance (``variance_bounds``)
    bounds its EI from above (times an upper bound of its weight, ``weight_bounds``, its acquisition). Rows are
    visited in decreasing order of that bound, ``chunk`` at a time, with their exact variances
    (``variances_of(rows)``) and weights (``weights_of(rows)``); once the best exact value beats every bound
    left, no other row can win: the answer is exactly the argmax over all rows, for less work when they are
    many."""
    bounds = expected_improvement(means, variance_bounds, best)
    if weight_bounds is not None:
        bounds = bounds * weight_bounds
    order = np.argsort(-bounds, kind="stable")
    best_value, best_row = -np.inf, -1
    for start in range(0, len(order), chunk):
        if start and bounds[order[start]] < best_value:
            break
        rows = np.sort(order[start : start + chunk])
        values = expected_improvement(means[rows], variances_of(rows), best)
        if weights_of is not None:
            values = values * weights_of(rows)
        top = int(np.argmax(values))
        if values[top] > best_value or (values[top] == best_value and rows[top] < best_row):
            best_value, best_row = float(values[top]), int(rows[top])
    return best_row


def expected_improvement_rows(means: np.ndarray, variances: np.ndarray, best: np.ndarray) -> np.ndarray:
    """EI of each row against its own incumbent ``best[row]`` (the same for every fantasy sample)."""
    sigma = np.sqrt(variances)[:, None]
    z = (best[:, None] - means) / sigma
    ei = sigma * (z * ndtr(z) + _INV_SQRT_2PI * np.exp(-0.5 * z * z))
    return ei.mean(axis=1)

"""Expected improvement (averaged over fantasy samples) and its optimisation over configurations.

``expected_improvement``: for minimisation, ``EI = σ (z Φ(z) + φ(z))``, ``z = (best − μ) / σ``, per fantasy
sample (each with its own incumbent ``best``), averaged over samples; ``argmax_expected_improvement``: its exact
argmax over many rows. Hill climbing on it over configurations: ``methods.local_search``.
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


def argmax_expected_improvement(
    means: np.ndarray,
    variance_bounds: np.ndarray,
    best: np.ndarray,
    variances_of: Callable[[np.ndarray], np.ndarray],
    chunk: int = 256,
) -> int:
    """The row of largest EI (the first one on ties), computing posterior variances only where needed.

    EI grows with the variance, so EI at an upper bound of a row's posterior variance (``variance_bounds``)
    bounds its EI from above. Rows are visited in decreasing order of that bound, ``chunk`` at a time, with their
    exact variances (``variances_of(rows)``); once the best exact EI beats every bound left, no other row can
    win: the answer is exactly the argmax over all rows, for less work when they are many."""
    bounds = expected_improvement(means, variance_bounds, best)
    order = np.argsort(-bounds, kind="stable")
    best_value, best_row = -np.inf, -1
    for start in range(0, len(order), chunk):
        if start and bounds[order[start]] < best_value:
            break
        rows = np.sort(order[start : start + chunk])
        values = expected_improvement(means[rows], variances_of(rows), best)
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

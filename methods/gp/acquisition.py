"""Expected improvement (averaged over fantasy samples) and its optimisation over configurations.

``expected_improvement``: for minimisation, ``EI = σ (z Φ(z) + φ(z))``, ``z = (best − μ) / σ``, per fantasy
sample (each with its own incumbent ``best``), averaged over samples. ``local_search``: from a start
configuration, repeatedly score neighbours (each numeric coordinate moved by a Gaussian step in the encoded
[0, 1] scale, each categorical switched to another value) and move to the best while the score improves.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence

import numpy as np
from scipy.special import ndtr

from searchspace import Config, SearchSpace
from searchspace.domains import Categorical

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


def local_search(
    start: Config,
    start_score: float,
    score: Callable[[list[Config]], np.ndarray],
    space: SearchSpace,
    rng: np.random.Generator,
    *,
    key: Callable[[Config], tuple],
    exclude: Container[tuple],
    steps: int = 10,
    step_size: float = 0.1,
) -> tuple[Config, float]:
    """Hill-climb ``score`` (larger is better) from ``start``; configurations in ``exclude`` are skipped."""
    names = space.names
    categorical = [isinstance(space[name], Categorical) for name in names]
    current, current_score = start, start_score
    for _ in range(steps):
        neighbours = _neighbours(current, space, names, categorical, rng, step_size)
        neighbours = [config for config in neighbours if key(config) not in exclude]
        if not neighbours:
            break
        scores = score(neighbours)
        best = int(np.argmax(scores))
        if not scores[best] > current_score:
            break
        current, current_score = neighbours[best], float(scores[best])
    return current, current_score


def _neighbours(
    config: Config,
    space: SearchSpace,
    names: Sequence[str],
    categorical: Sequence[bool],
    rng: np.random.Generator,
    step_size: float,
) -> list[Config]:
    """Two moves per hyperparameter: numbers up and down by |N(0, step_size)|, categoricals to random others."""
    point = space.encode(config)
    steps = np.abs(rng.normal(0.0, step_size, size=(len(names), 2)))
    result: list[Config] = []
    seen = {tuple(config[name] for name in names)}
    for i, name in enumerate(names):
        if config[name] is None:  # inactive: moving it changes nothing
            continue
        for j, sign in enumerate((1.0, -1.0)):
            moved = point.copy()
            if categorical[i]:
                choices = space[name].choices
                others = [value for value in choices if value != config[name]]
                if not others:
                    continue
                value = others[int(rng.integers(len(others)))]
                moved[i] = space[name].encode(value)
            else:
                moved[i] = min(max(point[i] + sign * steps[i, j], 0.0), 1.0)
            neighbour = space.decode(moved)
            k = tuple(neighbour[name] for name in names)
            if k not in seen:
                seen.add(k)
                result.append(neighbour)
    return result

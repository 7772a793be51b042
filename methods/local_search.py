"""Hill climbing over configurations: the acquisition optimiser of the model-based searchers (GP, BORE).

From a start configuration, repeatedly score neighbours (each numeric coordinate moved by a Gaussian step in the
encoded [0, 1] scale, each categorical switched to another value) and move to the best while the score improves.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence

import numpy as np

from searchspace import Config, SearchSpace
from searchspace.domains import Categorical


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

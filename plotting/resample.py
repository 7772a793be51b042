"""The one resampling scheme of ``plotting``: stratified draws with replacement from a seeded generator.

Every bootstrap of the package draws its resamples here: intervals of aggregate statistics
(``plotting.stats.stratified_bootstrap``: all tasks at once), of the probability of improvement
(``plotting.paired.poi_interval``: the runs of X and of Y, task by task) and curve bands over seeds
(``plotting.figures.bootstrap_curve``: one stratum, the seeds). A stratum of ``n`` runs is resampled by
``n`` uniform draws among its own runs, ``rng.integers(0, n, size=(reps, n))``; the caller creates the
generator (``np.random.default_rng(seed)``), so the same seed gives the same resamples bit for bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["draw_counts", "stratified_indices"]


def stratified_indices(rng: np.random.Generator, sizes: np.ndarray, reps: int) -> np.ndarray:
    """Indices (reps, sum(sizes)) into the pooled runs of strata of ``sizes`` runs (stratum after stratum).

    Each stratum's columns draw uniformly with replacement among its own runs. Columns are grouped by stratum
    size (one draw per distinct size; a scalar upper bound is much faster than an array of bounds), so they
    follow the stratum order only when all strata have the same number of runs.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    starts = np.cumsum(sizes) - sizes
    blocks = []
    for size in np.unique(sizes):
        offsets = np.repeat(starts[sizes == size], size)
        block = rng.integers(0, size, size=(reps, offsets.size))
        block += offsets
        blocks.append(block)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=1)


def draw_counts(rng: np.random.Generator, size: int, reps: int) -> np.ndarray:
    """How often each of ``size`` runs (one stratum) is drawn in each of ``reps`` resamples: shape (reps, size).

    The draws are those of ``stratified_indices`` for the single stratum, counted per run (float, for weights).
    """
    index = stratified_indices(rng, np.array([size]), reps)
    flat = (np.arange(reps)[:, None] * size + index).ravel()
    return np.bincount(flat, minlength=reps * size).reshape(reps, size).astype(float)

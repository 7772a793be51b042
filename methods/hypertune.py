"""Hyper-Tune's searcher (Li et al., "Hyper-Tune: Towards Efficient Hyper-parameter Tuning at Scale", VLDB 2022),
as the seed documentation defines it on top of MOBSTER's GP searcher (``methods.bayesopt.GPSearcher``).

Rung levels are weighted by how well they predict the ordering at the highest level with data:

- ``r_*`` is the largest level with at least 6 results. While ``r_*`` is the lowest level, the weights are
  ``θ = (1, 0, ...)``.
- Otherwise, for every level ``r <= r_*``, ``S`` (``hypertune_distribution_num_samples``, 50) ranking losses
  are drawn: the fraction of discordant pairs between a joint posterior sample of ``f(X_*, r)`` and the
  results at ``r_*`` of the trials ``X_*`` observed there. For ``r_*`` itself the samples come from a
  K-fold cross-validation over ``X_*`` (K = min(n // 2, 5), posteriors conditioned on the training folds'
  results at ``r_*`` only, losses averaged over folds). ``θ_r`` is the fraction of the ``S`` draws in which
  level ``r`` attains the smallest loss (ties share).
- Acquisition: EI of the ensemble predictive distribution (mixture over levels with weights ``θ``, summarised
  by its mean and variance), the incumbent being the smallest ensemble mean over the configurations observed
  at ``r_*`` (all observed ones if none) and the pending ones.
- Brackets (``brackets > 1``, asynchronous Hyperband): for first levels ``r <= r_0 = min(r_*, largest first
  level)``, ``P(r) ∝ θ_r / r`` rescaled to the default probability mass of those brackets; the other brackets
  keep their default probabilities.

The weights are computed on the posterior without fantasies, at each model-based suggestion, and the bracket
distribution uses the latest weights. The default model is ``"independent"`` (one GP per level), as in the
paper; ``model="joint"`` gives HYPERTUNE-JOINT.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from methods.bayesopt import GPSearcher, ModelData
from methods.gp.acquisition import expected_improvement
from methods.gp.regression import Posterior
from searchspace import SearchSpace

MIN_RESULTS_AT_LEVEL = 6


class HyperTuneSearcher(GPSearcher):
    """GP searcher with Hyper-Tune's ensemble acquisition and adaptive bracket distribution."""

    adapts_brackets = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        model: str = "independent",
        hypertune_distribution_num_samples: int = 50,
        **kwargs: Any,
    ) -> None:
        samples = hypertune_distribution_num_samples
        if not isinstance(samples, int) or samples < 1:
            raise ValueError(f"`hypertune_distribution_num_samples` must be a positive integer, got {samples!r}")
        super().__init__(space, model=model, **kwargs)  # type: ignore[arg-type]
        self.num_samples = samples
        self.weights = np.array([1.0])  # θ over levels[: len(weights)]

    def configure(self, *, max_t: int, rung_levels: Sequence[int]) -> None:
        super().configure(max_t=max_t, rung_levels=rung_levels)
        if not self.multi_fidelity:
            raise ValueError("Hyper-Tune needs a multi-fidelity scheduler (rung levels below max_t), e.g. ASHA")
        self.weights = np.array([1.0])

    def describe(self) -> str:
        return (
            f"Hyper-Tune: level weights from ranking losses ({self.num_samples} samples, levels with >= "
            f"{MIN_RESULTS_AT_LEVEL} results), EI of the weighted ensemble; " + super().describe()
        )

    def state_summary(self) -> dict[str, Any]:
        return {**super().state_summary(), "level_weights": [float(w) for w in self.weights]}

    # Brackets ------------------------------------------------------------------------------------
    def bracket_distribution(self, default: Sequence[float], first_levels: Sequence[int]) -> list[float]:
        """Hyper-Tune's bracket probabilities (see the module docstring); ``default`` until weights exist."""
        weights = self.weights
        if len(weights) < 2:
            return list(default)
        top_level = self.levels[len(weights) - 1]  # r_*
        limit = min(top_level, max(first_levels))
        head = [s for s, level in enumerate(first_levels) if level <= limit]
        raw = np.array([weights[self._level_index[first_levels[s]]] / first_levels[s] for s in head])
        if raw.sum() <= 0:
            return list(default)
        result = list(default)
        mass = sum(default[s] for s in head)
        for s, value in zip(head, raw / raw.sum()):
            result[s] = float(mass * value)
        return result

    # Acquisition ---------------------------------------------------------------------------------
    def scorer(self, posterior: Posterior, data: ModelData):
        self.weights = self._level_weights(posterior, data)
        active = [(k, w) for k, w in enumerate(self.weights) if w > 0]
        top = len(self.weights) - 1
        rows = self.incumbent_configurations(data, self.levels[top])

        def ensemble(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            mean = 0.0
            second = 0.0
            for k, w in active:
                means, variances = posterior.predict(self._model_input(inputs, self.levels[k]))
                mean = mean + w * means
                second = second + w * (variances[:, None] + means * means)
            variance = np.maximum((second - mean * mean).mean(axis=1), 1e-12)
            return mean, variance

        best = ensemble(rows)[0].min(axis=0)

        def score(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            means, variances = ensemble(inputs)
            return expected_improvement(means, variances, best), means.mean(axis=1), variances

        return score

    def _level_weights(self, posterior: Posterior, data: ModelData) -> np.ndarray:
        counts = np.bincount(data.levels, minlength=len(self.levels))
        supported = np.flatnonzero(counts >= MIN_RESULTS_AT_LEVEL)
        top = int(supported[-1]) if len(supported) else 0
        if top == 0:
            return np.array([1.0])
        at_top = data.levels == top
        X_top, y_top = data.X[at_top], data.y[at_top]
        configs = X_top[:, :-1]
        base = posterior.before_fantasies or posterior
        losses = np.empty((top + 1, self.num_samples))
        for k in range(top):
            inputs = self._model_input(configs, self.levels[k])
            sample = base.sample_joint(inputs, self._rng, self.num_samples, noise=False)
            losses[k] = _ranking_losses(sample, y_top)
        losses[top] = self._cross_validated_losses(base, X_top, y_top)
        winners = losses == losses.min(axis=0, keepdims=True)
        weights = (winners / winners.sum(axis=0, keepdims=True)).sum(axis=1)
        return weights / weights.sum()

    def _cross_validated_losses(self, posterior: Posterior, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        n = len(y)
        folds = min(n // 2, 5)
        sizes = np.full(folds, n // folds)
        sizes[folds - (n - sizes.sum()) :] += 1
        result = np.zeros(self.num_samples)
        start = 0
        for size in sizes:
            test = np.arange(start, start + size)
            train = np.setdiff1d(np.arange(n), test)
            start += size
            fold = Posterior.fit(self.prior, posterior.params, X[train], y[train])
            sample = fold.sample_joint(X[test], self._rng, self.num_samples, noise=False)
            result += _ranking_losses(sample, y[test])
        return result / folds


def _ranking_losses(samples: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per sample (column): the fraction of pairs ordered differently by the sample and by ``targets``."""
    n = len(targets)
    upper = np.triu_indices(n, k=1)
    target_order = (targets[:, None] < targets[None, :])[upper]
    sample_order = samples[:, None, :] < samples[None, :, :]
    discordant = sample_order[upper[0], upper[1], :] != target_order[:, None]
    return discordant.mean(axis=0)

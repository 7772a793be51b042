"""Constrained Bayesian optimisation: the searcher of ConstrainedBayesianOptimization (FIFO + "gp_constrained").

Minimise the objective ``y(x)`` subject to ``c(x) <= 0``, where ``c`` is a second reported metric: a
configuration is feasible iff its constraint value is <= 0 (the seed documentation's rule). Following the
documentation (Syne Tune 0.13's ``bayesopt_constrained`` searcher, ``CEIAcquisitionFunction``; Gardner et al.,
ICML 2014; Gelbart et al., UAI 2014):

- a GP on the objective as in ``methods.bayesopt.GPSearcher`` (every option and default of it applies), and a
  second GP with the same kind of kernel fitted to the constraint values on the same configurations
  (``methods.gp.second_target``), its hyperparameters refitted whenever the objective's are;
- acquisition: constrained expected improvement ``CEI(x) = EI(x) · P(c(x) <= 0)``, where
  ``P(c(x) <= 0) = Φ(−μ_c(x) / σ_c(x))`` under the constraint GP's posterior (of the latent, noise-free value);
- EI's incumbent is the smallest posterior mean of the objective over the observed *feasible* configurations
  (observed constraint value <= 0), per fantasy sample. Pending trials do not count towards it (ours: their
  feasibility is unknown; their fantasized objective values still shape the objective's posterior);
- until a feasible configuration has been observed the acquisition is ``P(c(x) <= 0)`` alone (as the
  documentation says, and Gelbart et al. propose: first find the feasible region);
- until any constraint value has been observed (all missing), suggestions are random.

Options: ``constraint_attr`` (required) names the reported metric; ``constraint_threshold`` (default 0.0; ours)
is subtracted from it, ``c = metric − constraint_threshold``, so that a benchmark's own metric (a latency, a
model size) can be constrained without a derived column (0 gives the documentation's rule). The start of the
local search over the acquisition is the random candidate of largest CEI (``initial_scoring="acq_func"``,
ours). A report without the constraint metric raises ``ValueError``; a non-finite constraint value leaves that
trial out of the constraint model (and it is never an incumbent). Single fidelity (FIFO and other schedulers
without rung levels).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from methods.bayesopt import ModelData, SecondMetricGPSearcher
from methods.gp.acquisition import probability_of_feasibility
from methods.gp.regression import Posterior
from methods.gp.second_target import TargetPosterior
from searchspace import SearchSpace


@dataclass
class FeasibilityWeight:
    """``P(c(x) <= 0)`` per row of model inputs under the constraint's posterior."""

    constraint: TargetPosterior

    def values(self, X: np.ndarray) -> np.ndarray:
        means, variances = self.constraint.predict(X)
        return probability_of_feasibility(means, variances)

    def bounded(self, X: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """Upper bounds: ``Φ(−μ/σ)`` grows with σ where μ > 0 (bounded at σ's upper bound), else it is <= 1."""
        means, variance_bounds, variances_of = self.constraint.predict_bounded(X)
        bounds = np.where(means > 0, probability_of_feasibility(means, variance_bounds), 1.0)

        def exact(rows: np.ndarray) -> np.ndarray:
            return probability_of_feasibility(means[rows], variances_of(rows))

        return bounds, exact


class ConstrainedGPSearcher(SecondMetricGPSearcher):
    """GP-based BO under an unknown constraint ``metric − constraint_threshold <= 0`` (see the module docstring)."""

    metric_option = "constraint_attr"
    metric_role = "the name of the reported metric that must be <= constraint_threshold (default 0)"

    def __init__(
        self,
        space: SearchSpace,
        *,
        constraint_attr: str | None = None,
        constraint_threshold: float = 0.0,
        **options: Any,
    ) -> None:
        if isinstance(constraint_threshold, bool) or not isinstance(constraint_threshold, int | float):
            raise ValueError(f"`constraint_threshold` must be a number, got {constraint_threshold!r}")
        if not math.isfinite(constraint_threshold):
            raise ValueError(f"`constraint_threshold` must be finite, got {constraint_threshold!r}")
        super().__init__(space, second_metric=constraint_attr, **options)
        self.constraint_attr = constraint_attr
        self.constraint_threshold = float(constraint_threshold)

    def second_target(self, value: float) -> float:
        return value - self.constraint_threshold

    def feasible_trials(self, data: ModelData) -> list[int]:
        """The trials among the model's rows whose observed constraint value is <= 0 (in order, once each)."""
        level = self.levels[-1]
        trials = dict.fromkeys(data.trials.tolist())
        return [t for t in trials if self._second_values.get(t, {}).get(level, math.inf) <= 0.0]

    def _incumbent(self, posterior: Posterior, data: ModelData, level: int) -> np.ndarray | None:
        feasible = self.feasible_trials(data)
        if not feasible:
            return None
        means, _ = posterior.predict(self._model_input(np.vstack([self._inputs[t] for t in feasible]), level))
        return means.min(axis=0)

    def acquisition_weight(self, data: ModelData) -> FeasibilityWeight | None:
        return None if data.second is None else FeasibilityWeight(data.second)

    def describe(self) -> str:
        return (
            f"constrained BO: EI x P({self.constraint_attr} - {self.constraint_threshold:g} <= 0) from a second GP, "
            f"P alone until a feasible result; incumbent over feasible results; the objective's model: "
            f"{super().describe()}"
        )

    def state_summary(self) -> dict[str, Any]:
        level = self.levels[-1]
        feasible = sum(values.get(level, math.inf) <= 0.0 for values in self._second_values.values())
        return {**super().state_summary(), "feasible_results": int(feasible)}

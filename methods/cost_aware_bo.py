"""Cost-aware Bayesian optimisation: the searcher of CostAwareBayesianOptimization (FIFO + "gp_cost").

Expected improvement per unit of predicted cost, as the seed documentation defines it (Syne Tune 0.13's
``bayesopt_cost`` searcher, ``EIpuAcquisitionFunction``; EI per second of Snoek et al., NeurIPS 2012):

    ``EIpu(x) = EI(x) / μ_c(x)^ρ``

- EI and the objective's GP are those of ``methods.bayesopt.GPSearcher`` (every option and default applies);
- the cost ``c(x)`` of a trial is the reported metric ``cost_attr`` at ``max_t`` (e.g. a benchmark's
  ``elapsed_time``: what the whole trial took). Its model (ours; the documentation's single-fidelity variant
  fits a GP to the cost itself): a second GP, with the same kind of kernel, on the *logarithm* of the cost over
  the same configurations, hyperparameters refitted whenever the objective's are; costs are positive and spread
  over orders of magnitude, and a GP on raw costs can predict a mean <= 0. ``μ_c(x) = exp(m(x))``, ``m`` the
  posterior mean of the log cost (the median of the predicted log-normal cost);
- ``cost_exponent`` ρ (the documentation's ``exponent_cost``) lies in (0, 1], default 1.

A non-positive or non-finite cost leaves that trial out of the cost model; until any cost is known the
acquisition is plain EI. A report without the cost metric raises ``ValueError``. The start of the local search
is the random candidate of largest EIpu (``initial_scoring="acq_func"``, ours). Single fidelity (FIFO and other
schedulers without rung levels); the documentation's multi-fidelity variant, with a cost model ``c(x, r)``, is
not implemented.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from methods.bayesopt import ModelData, SecondMetricGPSearcher
from methods.gp.acquisition import cost_weight
from methods.gp.second_target import TargetPosterior
from searchspace import SearchSpace


@dataclass
class CostWeight:
    """``μ_c(x)^−ρ`` per row of model inputs, ``μ_c = exp(posterior mean of the log cost)``."""

    log_cost: TargetPosterior
    exponent: float

    def values(self, X: np.ndarray) -> np.ndarray:
        return cost_weight(np.exp(self.log_cost.predict_mean(X)), self.exponent)

    def bounded(self, X: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        """Exact values (cheap: means only) serve as their own bounds."""
        weights = self.values(X)
        return weights, lambda rows: weights[rows]


class CostAwareGPSearcher(SecondMetricGPSearcher):
    """GP-based BO by expected improvement per unit of predicted cost (see the module docstring)."""

    metric_option = "cost_attr"
    metric_role = "the name of the reported metric that is a trial's cost (e.g. elapsed_time)"

    def __init__(
        self,
        space: SearchSpace,
        *,
        cost_attr: str | None = None,
        cost_exponent: float = 1.0,
        **options: Any,
    ) -> None:
        if isinstance(cost_exponent, bool) or not isinstance(cost_exponent, int | float) or not 0 < cost_exponent <= 1:
            raise ValueError(f"`cost_exponent` must lie in (0, 1], got {cost_exponent!r}")
        super().__init__(space, second_metric=cost_attr, **options)
        self.cost_attr = cost_attr
        self.cost_exponent = float(cost_exponent)

    def second_target(self, value: float) -> float:
        return math.log(value) if value > 0 else math.nan

    def acquisition_weight(self, data: ModelData) -> CostWeight | None:
        return None if data.second is None else CostWeight(data.second, self.cost_exponent)

    def describe(self) -> str:
        return (
            f"cost-aware BO: EI / mu_c^{self.cost_exponent:g}, mu_c = exp(mean of a second GP on "
            f"log {self.cost_attr}); "
            f"the objective's model: {super().describe()}"
        )

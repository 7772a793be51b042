"""Bayesian optimisation with conformalized quantile regression (Salinas et al., ICML 2023): the searcher of CQR
and ASHA-CQR.

1. Data: one row per trial with a result, its loss at the largest level it reached (the paper's multi-fidelity
   rule: a trial stopped early keeps its last, worse value, which ranks it); under FIFO the results at
   ``max_t``. Random until ``num_init_random`` (5) trials have a result.
2. Model (``methods.conformal``): ``num_quantiles`` (5) quantiles ``k / 6`` by gradient-boosted trees, each
   symmetric pair calibrated by split conformal prediction on a random 10% of the data once there are more
   than 32 points (the paper's code). Refitted once the number of results has grown by
   ``max(1, refit_growth × n)`` since the last fit of ``n`` (default 0.02: every 2 results at 100, every 10 at 500;
   ours: Syne Tune refits at every new result, ``update_frequency=1``, which a fit of 5 × 100 trees makes
   ~0.1 s per suggestion at 500 results here; pass ``refit_growth=0`` for it). Between fits the candidates and
   the draws are new at every suggestion.
3. Acquisition (``acquisition``): "thompson" (default, the paper's): for each of ``num_candidates`` (2000)
   random configurations never proposed before, one of its conformalized quantiles drawn uniformly; the
   smallest draw wins. Optimistic in that a candidate wins through its lower quantiles: the wider a
   candidate's calibrated interval, the lower its best draws. "lcb": the smallest lowest conformalized
   quantile (the optimistic end of the widest interval), deterministic. With ``restrict_configurations`` every
   remaining candidate is scored.

Pending evaluations are ignored (as the paper). Inputs: numbers in [0, 1] (log scale where the domain has one),
categoricals one-hot (``methods.gp.encoding``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from methods.conformal import ConformalQuantileRegressor, quantile_levels
from methods.model_searcher import ModelSearcher, check_integer, check_within
from searchspace import Config, SearchSpace

ACQUISITIONS = ("thompson", "lcb")


class CQRSearcher(ModelSearcher):
    """Conformalized quantile regression surrogate with Thompson sampling (see the module docstring)."""

    seed_salt = 41

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        num_quantiles: int = 5,
        num_init_random: int = 5,
        num_candidates: int = 2000,
        acquisition: Literal["thompson", "lcb"] = "thompson",
        regressor: Literal["xgboost", "sklearn"] = "xgboost",
        regressor_kwargs: Mapping[str, Any] | None = None,
        calibration_fraction: float = 0.1,
        min_samples_to_conformalize: int = 32,
        refit_growth: float = 0.02,
        **options: Any,
    ) -> None:
        check_integer("num_quantiles", num_quantiles, 3)
        if num_quantiles % 2 == 0:
            raise ValueError(f"`num_quantiles` must be odd (the median and symmetric pairs), got {num_quantiles!r}")
        check_integer("num_init_random", num_init_random, 2)
        check_integer("num_candidates", num_candidates, 1)
        if acquisition not in ACQUISITIONS:
            raise ValueError(f"`acquisition` is {acquisition!r}, but must be one of {ACQUISITIONS}")
        check_within("calibration_fraction", calibration_fraction, 0.0, 1.0, open_ends=True)
        check_integer("min_samples_to_conformalize", min_samples_to_conformalize, 0)
        check_within("refit_growth", refit_growth, 0.0, 1.0)
        super().__init__(space, seed=seed, **options)  # allow_duplicates, restrict_configurations, ...
        self.num_init_random = num_init_random
        self.num_candidates = num_candidates
        self.acquisition = acquisition
        self.refit_growth = refit_growth
        self.model = ConformalQuantileRegressor(
            quantile_levels(num_quantiles),
            seed=self.library_seed,
            regressor=regressor,
            regressor_kwargs=regressor_kwargs,
            calibration_fraction=calibration_fraction,
            min_samples_to_conformalize=min_samples_to_conformalize,
        )
        self._fitted_on: int | None = None  # number of results at the last fit
        self.num_fits = 0

    def _suggest_by_model(self) -> Config | None:
        if len(self._results) < self.num_init_random:  # trials with a result
            return None
        if self._fitted_on is None or self.num_results - self._fitted_on >= max(1, self.refit_growth * self._fitted_on):
            self.model.fit(*self.last_results(), self._rng)  # the data is gathered only to fit
            self._fitted_on = self.num_results
            self.num_fits += 1
        configs, candidate_inputs = self.candidate_pool(self.num_candidates)
        if not configs:
            return None
        quantiles = self.model.predict(candidate_inputs)
        if self.acquisition == "lcb":
            scores = quantiles[:, 0]
        else:
            scores = quantiles[np.arange(len(configs)), self._rng.integers(quantiles.shape[1], size=len(configs))]
        return dict(configs[int(np.argmin(scores))])

    def describe(self) -> str:
        scored = "every remaining candidate" if self._candidates is not None else f"{self.num_candidates} random"
        return (
            f"CQR: {len(self.model.levels)} quantiles by {self.model.regressor} gradient boosting, split-conformal "
            f"calibration on {self.model.calibration_fraction:g} of the data past "
            f"{self.model.min_samples_to_conformalize} points, refitted after {self.refit_growth:g} more results; "
            f"{self.acquisition} over {scored} configurations; "
            f"each trial's last result; random for the first {self.num_init_random} ({self._random.describe()})"
        )

    def state_summary(self) -> dict[str, Any]:
        return {**super().state_summary(), "fits": self.num_fits, "corrections": self.model.corrections.tolist()}

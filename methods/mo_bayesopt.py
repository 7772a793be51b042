"""Multi-objective Bayesian optimisation by random scalarisations: the searcher of ``MORandomScalarizationBayesOpt``.

Paria, Kandasamy and Póczos, "A Flexible Framework for Multi-Objective Bayesian Optimization using Random
Scalarizations" (UAI 2018), with the choices of the seed documentation (Syne Tune 0.13's
``MORandomScalarizationBayesOpt``: a ``MultiObjectiveMultiSurrogateSearcher`` with one default GP per objective
and the ``MultiObjectiveLCBRandomLinearScalarization`` acquisition). A suggestion:

1. The first ``num_init_random`` suggestions (3, the documented ``num_initial_random_choices``) are random
   (``points_to_evaluate``, by default the midpoint of the space, count among them); random also while no result
   is in.
2. Data: every trial's loss vector (each objective as a loss, smaller is better) at one level: ``max_t`` under
   FIFO. Under a multi-fidelity scheduler (ours; the documentation's searcher is FIFO only) the largest level
   with at least as many results as the configuration has encoded dimensions, else the level with most results.
   Beyond ``max_size_data_for_model`` (500) trials, the best ``max_size_top_fraction`` (25%) by non-dominated rank
   and a random sample of the others are kept.
3. One GP per objective, as ``BayesianOptimization``'s (``methods.gp``: constant mean, ARD Matérn 5/2,
   empirical Bayes with the documented priors) on that objective's standardised losses. Hyperparameter fits as
   in ``methods.bayesopt`` (``opt_nstarts`` 2 starts, at most ``opt_maxiter`` 50 L-BFGS-B iterations; warm-started
   from the previous optimum except when the data has doubled since the last full fit; past
   ``opt_skip_init_length`` (150) results only every ``opt_skip_period``-th (3) suggestion refits; a fit uses at
   most ``max_size_data_for_fit`` (250) rows, chosen as in step 2).
4. Pending evaluations are ignored (the documented method sets ``no_fantasizing``).
5. ``num_init_candidates`` (250) random configurations never proposed before (every remaining one with
   ``restrict_configurations``) are scored: per objective the lower confidence bound ``LCB = mean - kappa * std``
   (``kappa`` 0.5) of its GP posterior, replaced, with ``normalize_acquisition`` (default), by its rank among the
   candidates (average rank on ties) over the largest rank; the score is the weighted sum of the objectives'
   values with weights drawn for this suggestion, i.i.d. Uniform(0, 1), one per objective (the documentation
   leaves the weight sampler open; this is Syne Tune's default). The candidate of the lowest score is proposed;
   no local search ("the acquisition function is not locally optimized with this searcher").

With a single objective this is GP-BO with the LCB acquisition over random candidates. Linear algebra runs on
one BLAS thread (``methods.gp.blas``). If a fit fails beyond jitter, the suggestion is random and the log says so.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.linalg import LinAlgError
from scipy.stats import rankdata

from methods.gp.blas import blas_single_thread
from methods.gp.memory import retain_freed_memory
from methods.gp.priors import Matern52Prior
from methods.gp.regression import Posterior
from methods.gp.second_target import SecondTargetModel
from methods.model_searcher import ModelSearcher, check_integer, check_within
from methods.objectives import Objectives
from methods.pareto import nondominated_ranks
from searchspace import Config, SearchSpace

logger = logging.getLogger(__name__)


class MultiObjectiveGPSearcher(ModelSearcher):
    """One GP per objective, random linear scalarisation of their LCBs (see the module docstring for every option).

    ``allow_duplicates``, ``restrict_configurations`` and ``points_to_evaluate`` are ``ModelSearcher``'s."""

    seed_salt = 13
    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        num_init_random: int = 3,
        num_init_candidates: int = 250,
        kappa: float = 0.5,
        normalize_acquisition: bool = True,
        opt_nstarts: int = 2,
        opt_maxiter: int = 50,
        opt_warmstart: bool = True,
        opt_skip_init_length: int = 150,
        opt_skip_period: int = 3,
        max_size_data_for_model: int | None = 500,
        max_size_top_fraction: float = 0.25,
        max_size_data_for_fit: int | None = 250,
        **options: Any,
    ) -> None:
        for name, value, least in (
            ("num_init_random", num_init_random, 0),
            ("num_init_candidates", num_init_candidates, 1),
            ("opt_nstarts", opt_nstarts, 1),
            ("opt_maxiter", opt_maxiter, 1),
            ("opt_skip_init_length", opt_skip_init_length, 0),
            ("opt_skip_period", opt_skip_period, 1),
        ):
            check_integer(name, value, least)
        for name, value in (
            ("max_size_data_for_model", max_size_data_for_model),
            ("max_size_data_for_fit", max_size_data_for_fit),
        ):
            if value is not None:
                check_integer(name, value, 2)
        check_within("kappa", kappa, 0.0, np.inf, open_ends=True)
        check_within("max_size_top_fraction", max_size_top_fraction, 0.0, 1.0)
        retain_freed_memory()
        super().__init__(space, seed=seed, **options)  # allow_duplicates, restrict_configurations, ...
        self.num_init_random = num_init_random
        self.num_init_candidates = num_init_candidates
        self.kappa = kappa
        self.normalize_acquisition = normalize_acquisition
        self.opt_nstarts = opt_nstarts
        self.opt_maxiter = opt_maxiter
        self.opt_warmstart = opt_warmstart
        self.opt_skip_init_length = opt_skip_init_length
        self.opt_skip_period = opt_skip_period
        self.max_size_data_for_model = max_size_data_for_model
        self.max_size_top_fraction = max_size_top_fraction
        self.max_size_data_for_fit = max_size_data_for_fit
        self.prior = Matern52Prior(self.encoder.dimension)
        self._vectors: dict[int, dict[int, np.ndarray]] = {}  # trial -> level -> loss vector
        self._num_suggested = 0
        self._reset_fits()

    def _reset_fits(self) -> None:
        count = self.objectives.count
        self._models = [SecondTargetModel(self.prior) for _ in range(count)]  # one GP per objective
        self._full_fit_sizes = [0] * count

    # Contract ------------------------------------------------------------------------------------
    def set_objectives(self, objectives: Objectives) -> None:
        super().set_objectives(objectives)
        self._reset_fits()

    def suggest(self, trial_id: int) -> Config | None:
        self._num_suggested += 1
        config = None
        if self._random.points_left == 0 and self._num_suggested > self.num_init_random and self._vectors:
            try:
                with blas_single_thread():
                    config = self._suggest_by_model()
            except (LinAlgError, np.linalg.LinAlgError, FloatingPointError) as error:
                logger.warning("MO GP searcher: the model failed (%s); trial %d is drawn at random", error, trial_id)
        if config is None:  # the random searcher skips every configuration proposed before (``mark_seen``)
            config = self._random.suggest(trial_id)
        if config is not None:
            self._remember(trial_id, config)
        return config

    def on_report(self, trial_id: int, config: Config, epoch: int, metrics: Mapping[str, float]) -> None:
        """Keep the loss vector of a result at a level the model uses (if every objective is finite)."""
        if trial_id not in self._configs:
            self._remember(trial_id, config)
        losses = self.objectives.losses(metrics)
        if epoch in self._level_set and np.all(np.isfinite(losses)):
            self._vectors.setdefault(trial_id, {})[epoch] = losses

    def describe(self) -> str:
        normalised = "rank-normalised " if self.normalize_acquisition else ""
        return (
            f"multi-objective BO by random scalarisations (Paria et al. 2018): one GP per objective (Matérn 5/2 ARD), "
            f"{normalised}LCB (kappa {self.kappa:g}) summed with Uniform(0, 1) weights drawn per suggestion, over "
            f"{self.num_init_candidates} random candidates; first {self.num_init_random} random "
            f"({self._random.describe()}); pending evaluations ignored"
        )

    def state_summary(self) -> dict[str, Any]:
        fits = sum(model.num_fits for model in self._models)
        return {"model_suggestions": self.num_model_suggestions, "hyperparameter_fits": fits}

    # Data ----------------------------------------------------------------------------------------
    def model_level(self) -> int:
        """The level the model is fitted at (see the module docstring)."""
        counts = {level: 0 for level in self.levels}
        for results in self._vectors.values():
            for level in results:
                counts[level] += 1
        enough = [level for level, count in counts.items() if count >= self.encoder.dimension]
        if enough:
            return max(enough)
        return max(counts, key=lambda level: (counts[level], -level))

    def model_data(self) -> tuple[np.ndarray, np.ndarray, int]:
        """Inputs and loss vectors (rows of trials, in arrival order) at ``model_level``, sampled down to
        ``max_size_data_for_model`` rows, and the number of trials before sampling."""
        level = self.model_level()
        trials = [trial for trial, results in self._vectors.items() if level in results]
        X = self._stack(trials)
        Y = np.vstack([self._vectors[trial][level] for trial in trials])
        rows = self.subsample(Y, self.max_size_data_for_model)
        return X[rows], Y[rows], len(trials)

    def subsample(self, Y: np.ndarray, limit: int | None) -> np.ndarray:
        """Indices (ascending) of the rows kept: all, or the best ``max_size_top_fraction`` of ``limit`` by
        non-dominated rank (earlier rows first on ties) and a random sample of the others."""
        if limit is None or len(Y) <= limit:
            return np.arange(len(Y))
        order = np.argsort(nondominated_ranks(Y), kind="stable")
        top = int(round(self.max_size_top_fraction * limit))
        rest = order[top:]
        drawn = self._rng.choice(rest, size=limit - top, replace=False) if limit > top else rest[:0]
        return np.sort(np.concatenate([order[:top], drawn]))

    # Model ---------------------------------------------------------------------------------------
    def _suggest_by_model(self) -> Config | None:
        X, Y, count = self.model_data()
        configs, inputs = self.candidate_pool(self.num_init_candidates)
        if not configs:
            return None
        self.num_model_suggestions += 1
        refit = count < self.opt_skip_init_length or self.num_model_suggestions % self.opt_skip_period == 0
        fit_rows = self.subsample(Y, self.max_size_data_for_fit)
        weights = self._rng.random(Y.shape[1])
        score = np.zeros(len(configs))
        for j in range(Y.shape[1]):
            posterior = self._posterior(j, X, Y[:, j], fit_rows, count, refit)
            means, variances = posterior.predict(inputs)
            value = means[:, 0] - self.kappa * np.sqrt(variances)
            if self.normalize_acquisition:
                ranks = rankdata(value)
                value = ranks / ranks.max()
            score += weights[j] * value
        return dict(configs[int(np.argmin(score))])

    def _posterior(
        self, j: int, X: np.ndarray, losses: np.ndarray, fit_rows: np.ndarray, count: int, refit: bool
    ) -> Posterior:
        """The GP posterior of objective ``j`` on standardised ``losses``, refitting its hyperparameters if due."""
        model = self._models[j]
        due = model.params is None or refit
        full = not self.opt_warmstart or model.params is None or count >= 2 * self._full_fit_sizes[j]
        if due and full:
            self._full_fit_sizes[j] = count
        target = model.posterior(
            X,
            losses,
            self._rng,
            fit_rows=fit_rows if due else None,
            full=full,
            starts=self.opt_nstarts,
            maxiter=self.opt_maxiter,
        )
        assert target is not None  # the losses at the model level are finite
        return target.posterior

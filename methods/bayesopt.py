"""Gaussian-process Bayesian optimisation: the searcher of BayesianOptimization, MOBSTER, SyncMOBSTER and DyHPO.

One searcher serves every scheduler (``configure`` tells it the rung levels):

- Under FIFO (no rung levels) it is GP-BO over configurations: a GP with constant mean and ARD Matérn 5/2 fitted
  to the results at ``max_t`` (``methods.gp``), expected improvement (EI).
- Under a multi-fidelity scheduler (ASHA, Hyperband, synchronous Hyperband, DyHPO) it is MOBSTER's searcher:
  a GP over (configuration, resource) fitted to the results at the rung levels and ``max_t``, ``model="joint"``
  (the "exp-decay-sum" kernel, the documented default) or ``model="independent"`` (one GP per level sharing
  the ARD kernel). EI is taken at the level ``r_acq`` of the documentation ("bohb"): the largest level with
  at least as many observations as the configuration has encoded dimensions (else the lowest level).

A suggestion, following the documentation's GP searcher (Syne Tune 0.13 defaults):

1. The first ``num_init_random`` suggestions are random (``points_to_evaluate``, by default the midpoint of the
   space, count among them); default: the number of workers, else 3. Random also while no result is in.
2. Data: one row per (trial, level) result; beyond ``max_size_data_for_model`` (500) rows the data is sampled
   down before each fit, keeping every result of the highest levels, then at the level where the limit falls
   the best ``max_size_top_fraction`` (25%) of the room left and a random sample of the others. Targets are
   standardised (mean 0, variance 1).
3. Hyperparameters by empirical Bayes (L-BFGS-B on the log marginal likelihood plus log priors, at most
   ``opt_maxiter`` = 50 iterations). The first fit, and every fit after the number of results has doubled since
   the last such fit, runs ``opt_nstarts`` = 2 starts (the documented initial values and a random one); the
   other fits run one start from the previous optimum (``opt_warmstart=True``, ours: Syne Tune 0.13 restarts
   every fit, which costs 5–20× more; pass ``opt_warmstart=False`` for that). Once there are
   ``opt_skip_init_length`` (150) results, only every ``opt_skip_period``-th suggestion refits (default 3, as
   the documentation sets for DyHPO; 0.13's default for BO and MOBSTER is 1, which at 500 results costs
   ~0.2–0.5 s per suggestion here: pass ``opt_skip_period=1`` for it); the others keep the last fit and only
   recondition the posterior on the new data. A fit uses at most ``max_size_data_for_fit`` (250; ours, None: all)
   of the model's rows, chosen as in step 2; the posterior conditions on all of them (a fit on 500 rows costs
   ~6× one on 250). ``benchmarks/model_decision_cost.py`` measures what each control saves.
4. Pending evaluations (trials running towards a level) are fantasized: ``num_fantasy_samples`` (20) joint
   draws of their targets from the posterior; EI is averaged over them, each with its own incumbent (the
   smallest posterior mean at the acquisition level over the configurations observed there and the pending
   ones, as Syne Tune's ``current_best``).
5. Candidates: with ``restrict_configurations`` every remaining candidate is scored by EI (vectorised) and the
   best one is taken; posterior variances are computed only for the candidates whose EI at an upper bound of
   their variance (given the most informative data row alone) can still beat the best found
   (``argmax_expected_improvement``: the same winner as scoring all; over NB201's 15,625 cells at 500 results
   a suggestion still costs ~0.2 s, mostly the 15,625 × 500 kernel matrix).
   Otherwise ``num_init_candidates`` (250) random configurations are ranked
   (``initial_scoring``: "thompson_indep", the documented default, one independent posterior draw per
   candidate, smallest wins; or "acq_func", largest EI) and a local search on EI starts from the winner
   (neighbourhood hill climbing on the encoded configuration, where Syne Tune runs L-BFGS on a continuous
   relaxation).

Linear algebra runs on one BLAS thread (``methods.gp.blas``): faster for these sizes and the same sums in the
same order on any machine; freed memory is kept for reuse (``methods.gp.memory``), which halves the cost of a
fit. A configuration is proposed once (``allow_duplicates=False``). If a fit or
factorisation fails beyond jitter, the suggestion falls back to random and says so in the log.

Variants (single fidelity) subclass ``SecondMetricGPSearcher``: a second GP on another reported metric over the
same inputs (``_second_posterior``), whose posterior multiplies EI by a weight (``acquisition_weight``), with
their own incumbent (``_incumbent``): constrained BO (``methods.constrained_bo``) and cost-aware BO
(``methods.cost_aware_bo``). Without them GPSearcher's decisions are those it made before they existed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
from scipy.linalg import LinAlgError

from methods.gp.acquisition import (
    argmax_expected_improvement,
    expected_improvement,
    expected_improvement_rows,
)
from methods.gp.blas import blas_single_thread
from methods.gp.memory import retain_freed_memory
from methods.gp.priors import ExpDecaySumPrior, GPPrior, IndependentLevelsPrior, Matern52Prior
from methods.gp.regression import Posterior, fit_hyperparameters
from methods.gp.second_target import SecondTargetModel, TargetPosterior
from methods.local_search import local_search
from methods.model_searcher import ModelSearcher
from methods.trial_status import TrialStatus
from searchspace import Config, SearchSpace

logger = logging.getLogger(__name__)

MODELS = ("joint", "independent")
INITIAL_SCORINGS = ("thompson_indep", "acq_func")
DEFAULT_NUM_INIT_RANDOM = 3  # when the number of workers is not known (Syne Tune's default)


@dataclass
class ModelData:
    """The rows the GP is fitted to: model inputs, standardised targets, their trials and levels."""

    X: np.ndarray
    y: np.ndarray
    trials: np.ndarray
    levels: np.ndarray  # index into the searcher's levels
    num_observations: int  # before subsampling
    #: the posterior of a second target on the same rows, if the searcher models one (``_second_posterior``)
    second: TargetPosterior | None = None


@dataclass(frozen=True)
class FitStep:
    """The hyperparameter fit of this suggestion: the rows of ``ModelData`` it used, and whether it ran from every
    start (else from the previous optimum)."""

    rows: np.ndarray
    full: bool


class AcquisitionWeight(Protocol):
    """A non-negative factor per row that EI is multiplied by (e.g. a probability of feasibility), given model
    inputs: exactly, or as upper bounds with a function for the exact values of some rows (for
    ``argmax_expected_improvement``)."""

    def values(self, X: np.ndarray) -> np.ndarray: ...

    def bounded(self, X: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]: ...


class GPSearcher(ModelSearcher):
    """GP-based Bayesian optimisation, single- or multi-fidelity (see the module docstring for every option).

    ``allow_duplicates``, ``restrict_configurations`` and ``points_to_evaluate`` are ``ModelSearcher``'s."""

    seed_salt = 7

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        model: Literal["joint", "independent"] = "joint",
        n_workers: int | None = None,
        num_init_random: int | None = None,
        num_init_candidates: int = 250,
        num_fantasy_samples: int = 20,
        no_fantasizing: bool = False,
        initial_scoring: Literal["thompson_indep", "acq_func"] = "thompson_indep",
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
        if model not in MODELS:
            raise ValueError(f"`model` is {model!r}, but must be one of {MODELS}")
        if initial_scoring not in INITIAL_SCORINGS:
            raise ValueError(f"`initial_scoring` is {initial_scoring!r}, but must be one of {INITIAL_SCORINGS}")
        for name, value, least in (
            ("num_init_candidates", num_init_candidates, 1),
            ("num_fantasy_samples", num_fantasy_samples, 1),
            ("opt_nstarts", opt_nstarts, 1),
            ("opt_maxiter", opt_maxiter, 1),
            ("opt_skip_period", opt_skip_period, 1),
            ("opt_skip_init_length", opt_skip_init_length, 0),
        ):
            if not isinstance(value, int) or value < least:
                raise ValueError(f"`{name}` must be an integer >= {least}, got {value!r}")
        if max_size_data_for_model is not None and max_size_data_for_model < 2:
            raise ValueError(f"`max_size_data_for_model` must be >= 2 or None, got {max_size_data_for_model!r}")
        if max_size_data_for_fit is not None and max_size_data_for_fit < 2:
            raise ValueError(f"`max_size_data_for_fit` must be >= 2 or None, got {max_size_data_for_fit!r}")
        if not 0.0 <= max_size_top_fraction <= 1.0:
            raise ValueError(f"`max_size_top_fraction` must lie in [0, 1], got {max_size_top_fraction!r}")
        retain_freed_memory()
        super().__init__(space, seed=seed, **options)  # allow_duplicates, restrict_configurations, ...
        self.model = model
        if num_init_random is None:
            num_init_random = n_workers if n_workers is not None else DEFAULT_NUM_INIT_RANDOM
        self.num_init_random = num_init_random
        self.num_init_candidates = num_init_candidates
        self.num_fantasy_samples = num_fantasy_samples
        self.no_fantasizing = no_fantasizing
        self.initial_scoring = initial_scoring
        self.opt_nstarts = opt_nstarts
        self.opt_maxiter = opt_maxiter
        self.opt_warmstart = opt_warmstart
        self.opt_skip_init_length = opt_skip_init_length
        self.opt_skip_period = opt_skip_period
        self.max_size_data_for_model = max_size_data_for_model
        self.max_size_top_fraction = max_size_top_fraction
        self.max_size_data_for_fit = max_size_data_for_fit
        self._pending: dict[int, int] = {}
        self._num_suggested = 0
        self._params: np.ndarray | None = None
        self._num_fits = 0
        self._full_fit_size = 0  # number of results at the last fit from every start
        self._started_new_last = True  # DyHPO: whether the last decision started a new trial
        GPSearcher.configure(self, max_t=1, rung_levels=())  # until a scheduler configures it

    # Contract ------------------------------------------------------------------------------------
    def configure(self, *, max_t: int, rung_levels: Sequence[int]) -> None:
        super().configure(max_t=max_t, rung_levels=rung_levels)
        self._level_index = {level: i for i, level in enumerate(self.levels)}
        self.multi_fidelity = len(self.levels) > 1
        self.prior = self._make_prior()
        self._params = None
        self._full_fit_size = 0

    def _make_prior(self) -> GPPrior:
        d = self.encoder.dimension
        if not self.multi_fidelity:
            return Matern52Prior(d)
        if self.model == "joint":
            return ExpDecaySumPrior(d)
        return IndependentLevelsPrior(d, len(self.levels))

    def suggest(self, trial_id: int) -> Config | None:
        self._num_suggested += 1
        config = None
        if self._num_suggested > self.num_init_random and self._has_data():
            try:
                with blas_single_thread():
                    config = self._suggest_by_model()
            except (LinAlgError, np.linalg.LinAlgError, FloatingPointError) as error:
                logger.warning("GP searcher: the model failed (%s); trial %d is drawn at random", error, trial_id)
        if config is None:  # the random searcher skips every configuration proposed before (``mark_seen``)
            config = self._random.suggest(trial_id)
        if config is not None:
            self._remember(trial_id, config)
        return config

    def choose_resume_or_new(
        self, paused: Sequence[tuple[int, int]], new_trial_id: int | None, first_level: int
    ) -> tuple[str, Any] | None:
        """DyHPO's decision (see ``methods.dyhpo``): resume one of the ``paused`` trials ``(trial_id, next level)``
        or start ``new_trial_id`` with a new configuration, whichever has the largest EI at the level it would
        reach (a new one: ``first_level``). EI's incumbent is the best result at that level, or the best overall
        if there is none there. New configurations: ``max(num_init_candidates, len(paused))`` random ones (or
        remaining candidates). Returns ``("resume", trial_id)``, ``("start", config)`` or None (nothing to do).

        During the initial random phase, or before any result, a new trial starts at random if one may."""
        model_ready = self._num_suggested >= self.num_init_random and self._has_data()
        if new_trial_id is not None and not model_ready:
            config = self.suggest(new_trial_id)
            if config is not None:
                return ("start", config)
        if not paused and (new_trial_id is None or not model_ready):
            return None
        if not self._has_data():
            return ("resume", paused[0][0])
        try:
            with blas_single_thread():
                decision = self._resume_or_new_by_model(paused, new_trial_id, first_level)
        except (LinAlgError, np.linalg.LinAlgError, FloatingPointError) as error:
            logger.warning("GP searcher: the model failed (%s); DyHPO's decision falls back", error)
            decision = None
        if decision is None:  # no model or no candidate: a random new trial, else the first paused one
            config = self.suggest(new_trial_id) if new_trial_id is not None else None
            return ("start", config) if config is not None else (("resume", paused[0][0]) if paused else None)
        if decision[0] == "start":
            self._num_suggested += 1
            self._remember(new_trial_id, decision[1])  # type: ignore[arg-type]
        return decision

    def _resume_or_new_by_model(
        self, paused: Sequence[tuple[int, int]], new_trial_id: int | None, first_level: int
    ) -> tuple[str, Any] | None:
        # as in Syne Tune: the hyperparameters are refitted only after a decision that started a new trial
        posterior, data = self._posterior(may_refit=self._started_new_last)
        self.num_model_suggestions += 1
        count = max(self.num_init_candidates, len(paused))
        configs = self._new_candidates(count) if new_trial_id is not None else []
        inputs = [self._model_input(self._inputs[t][None, :], level) for t, level in paused]
        levels = [level for _, level in paused]
        if configs:
            inputs.append(self._model_input(self.encoder.encode(configs), first_level))
            levels.extend([first_level] * len(configs))
        if not inputs:
            return None
        means, variances = posterior.predict(np.vstack(inputs))
        scores = expected_improvement_rows(means, variances, self._observed_best(data, np.array(levels)))
        winner = int(np.argmax(scores))
        self._started_new_last = winner >= len(paused)
        if winner < len(paused):
            return ("resume", paused[winner][0])
        return ("start", dict(configs[winner - len(paused)]))

    def _observed_best(self, data: ModelData, levels: np.ndarray) -> np.ndarray:
        """Per row: the smallest standardised result at the row's level, else the smallest overall."""
        overall = data.y.min()
        best_at = np.full(len(self.levels), overall)
        for index in np.unique(data.levels):
            best_at[index] = data.y[data.levels == index].min()
        index = self._level_index
        return np.array([best_at[index[int(level)]] if int(level) in index else overall for level in levels])

    def _new_candidates(self, count: int) -> list[Config]:
        """``count`` new configurations not proposed before: random ones, or remaining candidates."""
        if self._candidates is not None:
            remaining = self._remaining_candidates()
            if len(remaining) > count:
                remaining = np.sort(self._rng.choice(remaining, size=count, replace=False))
            return [self._candidates[int(i)] for i in remaining]
        configs = self.space.sample_many(self._rng, count)
        if self.allow_duplicates:
            return configs
        return [config for config in configs if self.is_new(config)]

    def on_pending(self, trial_id: int, config: Config, epoch: int) -> None:
        super().on_pending(trial_id, config, epoch)
        self._pending[trial_id] = epoch

    def on_result(self, trial_id: int, config: Config, epoch: int, loss: float) -> None:
        super().on_result(trial_id, config, epoch, loss)
        if self._pending.get(trial_id) == epoch:
            del self._pending[trial_id]

    def on_end(self, trial_id: int, status: TrialStatus) -> None:
        self._pending.pop(trial_id, None)

    def describe(self) -> str:
        if self.multi_fidelity:
            kind = f"GP over (configuration, resource), {self.model} model"
            if self.model == "joint":
                kind += " (exp-decay-sum kernel)"
            kind += f", EI at the largest level with >= {self.encoder.dimension} results; levels {self.levels}"
        else:
            kind = "GP over configurations (Matérn 5/2 ARD, constant mean), EI"
        warm = "warm-started" if self.opt_warmstart else "restarted"
        refit = (
            f"hyperparameters refitted ({warm}) every suggestion"
            if self.opt_skip_period == 1
            else f"hyperparameters refitted ({warm}) every {self.opt_skip_period} suggestions past "
            f"{self.opt_skip_init_length} results (Syne Tune 0.13: every suggestion, restarted)"
        )
        fantasies = "pending ignored" if self.no_fantasizing else f"{self.num_fantasy_samples} fantasies per pending"
        return (
            f"Bayesian optimisation: {kind}; first {self.num_init_random} random ({self._random.describe()}); "
            f"{refit} ({self.opt_nstarts} L-BFGS-B starts, <= {self.opt_maxiter} iterations); {fantasies}; "
            f"at most {self.max_size_data_for_model} rows in the model, {self.max_size_data_for_fit} in a fit"
        )

    def state_summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "model_suggestions": self.num_model_suggestions,
            "hyperparameter_fits": self._num_fits,
        }
        if self._params is not None:
            summary["hyperparameters"] = {
                name: float(value) for name, value in zip([*self.prior.names, "log_noise_variance"], self._params)
            }
        return summary

    # Bookkeeping ---------------------------------------------------------------------------------
    def _has_data(self) -> bool:
        return any(self._results.values())

    # Data ----------------------------------------------------------------------------------------
    def _model_input(self, inputs: np.ndarray, level: int) -> np.ndarray:
        """Rows of configuration encodings extended by the level's column (none for a single fidelity)."""
        return self._model_inputs(inputs, np.full(len(inputs), self._level_index[level]))

    def _model_inputs(self, inputs: np.ndarray, level_indices: np.ndarray) -> np.ndarray:
        """Row ``i`` of ``inputs`` extended by the column of level ``levels[level_indices[i]]``: the resource
        ``r / max_t`` (joint model) or the level's index (independent model); none for a single fidelity."""
        if not self.multi_fidelity:
            return inputs
        if self.model == "joint":
            column = np.array([level / self.max_t for level in self.levels])[level_indices]
        else:
            column = level_indices.astype(float)
        return np.hstack([inputs, column[:, None]])

    def _model_data(self) -> ModelData:
        trials, levels, losses = [], [], []
        for trial_id, results in self._results.items():
            for epoch, loss in results.items():
                trials.append(trial_id)
                levels.append(self._level_index[epoch])
                losses.append(loss)
        trials_a = np.array(trials, dtype=int)
        levels_a = np.array(levels, dtype=int)
        losses_a = np.array(losses, dtype=float)
        count = len(losses_a)
        keep = self._subsample(levels_a, losses_a)
        trials_a, levels_a, losses_a = trials_a[keep], levels_a[keep], losses_a[keep]
        mean = losses_a.mean()
        std = losses_a.std()
        self._target_shift, self._target_scale = mean, std if std > 0 else 1.0
        y = (losses_a - self._target_shift) / self._target_scale
        X = self._model_inputs(np.vstack([self._inputs[t] for t in trials_a]), levels_a)
        return ModelData(X, y, trials_a, levels_a, count)

    def _subsample(self, levels: np.ndarray, losses: np.ndarray, limit: int | None = -1) -> np.ndarray:
        """Indices of the rows kept (all, or ``limit`` of them, by default ``max_size_data_for_model``; see the
        module docstring)."""
        limit = self.max_size_data_for_model if limit == -1 else limit
        if limit is None or len(losses) <= limit:
            return np.arange(len(losses))
        kept: list[np.ndarray] = []
        room = limit
        for level in sorted(set(levels.tolist()), reverse=True):
            rows = np.flatnonzero(levels == level)
            if len(rows) <= room:
                kept.append(rows)
                room -= len(rows)
                continue
            order = rows[np.argsort(losses[rows], kind="stable")]
            top = int(round(self.max_size_top_fraction * room))
            rest = order[top:]
            drawn = self._rng.choice(rest, size=room - top, replace=False) if room > top else rest[:0]
            kept.extend([order[:top], np.sort(drawn)])
            break
        return np.sort(np.concatenate(kept))

    # Model ---------------------------------------------------------------------------------------
    def _posterior(self, may_refit: bool = True) -> tuple[Posterior, ModelData]:
        data = self._model_data()
        refit = self._params is None or (
            may_refit
            and (
                data.num_observations < self.opt_skip_init_length
                or self.num_model_suggestions % self.opt_skip_period == 0
            )
        )
        fit = None
        if refit:
            full = not self.opt_warmstart or self._params is None or data.num_observations >= 2 * self._full_fit_size
            rows = self._subsample(data.levels, data.y, self.max_size_data_for_fit)
            fit = FitStep(rows, full)
            with blas_single_thread():
                self._params = fit_hyperparameters(
                    self.prior,
                    data.X[rows],
                    data.y[rows],
                    self._rng,
                    starts=self.opt_nstarts if full else 1,
                    maxiter=self.opt_maxiter,
                    first=None if full else self._params,
                )
            if full:
                self._full_fit_size = data.num_observations
            self._num_fits += 1
        posterior = Posterior.fit(self.prior, self._params, data.X, data.y)
        data.second = self._second_posterior(data, fit)
        pending = [(t, e) for t, e in self._pending.items() if e in self._level_index]
        if pending and not self.no_fantasizing:
            Xp = np.vstack([self._model_input(self._inputs[t][None, :], e) for t, e in pending])
            posterior = posterior.with_fantasies(Xp, self._rng, self.num_fantasy_samples)
        return posterior, data

    def _second_posterior(self, data: ModelData, fit: FitStep | None) -> TargetPosterior | None:
        """A GP on a second target over the rows of ``data`` (``fit``: the hyperparameter fit of the main model,
        None if it was not refitted): None here; searchers that model a constraint or a cost return one."""
        return None

    def acquisition_weight(self, data: ModelData) -> AcquisitionWeight | None:
        """What EI is multiplied by (None: nothing, plain EI)."""
        return None

    def acquisition_level(self, data: ModelData) -> int:
        """The level EI is taken at: the largest with >= (encoded dimension) results, else the lowest."""
        counts = np.bincount(data.levels, minlength=len(self.levels))
        enough = np.flatnonzero(counts >= self.encoder.dimension)
        return self.levels[int(enough[-1])] if len(enough) else self.levels[0]

    def incumbent_configurations(self, data: ModelData, level: int) -> np.ndarray:
        """Encoded configurations the incumbent is taken over: those observed at ``level`` (all observed ones if
        none) and the pending ones, whose fantasized values then lower the incumbent of their fantasy sample,
        so that EI near a pending evaluation drops (as Syne Tune's ``current_best`` over observed and pending
        inputs)."""
        at_level = data.levels == self._level_index[level]
        trials = data.trials[at_level] if at_level.any() else data.trials
        if not self.no_fantasizing:
            trials = np.concatenate([trials, np.array(list(self._pending), dtype=int)])
        return np.vstack([self._inputs[int(t)] for t in dict.fromkeys(trials.tolist())])

    def _incumbent(self, posterior: Posterior, data: ModelData, level: int) -> np.ndarray | None:
        """Per fantasy sample: the smallest posterior mean at ``level`` over ``incumbent_configurations``. (A
        subclass may return None: no incumbent yet, the acquisition is then the weight alone.)"""
        means, _ = posterior.predict(self._model_input(self.incumbent_configurations(data, level), level))
        return means.min(axis=0)

    def scorer(self, posterior: Posterior, data: ModelData):
        """A function: encoded configurations -> (acquisition, posterior means averaged over fantasies,
        variances). The acquisition is EI times ``acquisition_weight`` if any (the weight alone while there is no
        incumbent). None: nothing to score by (no incumbent and no weight), the suggestion is random."""
        level = self.acquisition_level(data)
        best = self._incumbent(posterior, data, level)
        weight = self.acquisition_weight(data)
        if best is None and weight is None:
            return None

        def score(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            X = self._model_input(inputs, level)
            means, variances = posterior.predict(X)
            if best is None:
                values = weight.values(X)
            else:
                values = expected_improvement(means, variances, best)
                if weight is not None:
                    values = values * weight.values(X)
            return values, means.mean(axis=1), variances

        def argmax(inputs: np.ndarray) -> int:
            X = self._model_input(inputs, level)
            if best is None:
                return int(np.argmax(weight.values(X)))
            means, variance_bounds, variances_of = posterior.predict_given(X, posterior.cross_covariance(X))
            if weight is None:
                return argmax_expected_improvement(means, variance_bounds, best, variances_of)
            weight_bounds, weights_of = weight.bounded(X)
            return argmax_expected_improvement(
                means, variance_bounds, best, variances_of, weight_bounds=weight_bounds, weights_of=weights_of
            )

        score.argmax = argmax  # type: ignore[attr-defined]  # the exact argmax of EI, cheaper over many rows
        return score

    def _suggest_by_model(self) -> Config | None:
        posterior, data = self._posterior()
        self.num_model_suggestions += 1
        score = self.scorer(posterior, data)
        if score is None:
            return None
        configs, inputs = self.candidate_pool(self.num_init_candidates)
        if not configs:
            return None
        if self._candidates is not None:
            argmax = getattr(score, "argmax", None)
            winner = argmax(inputs) if argmax is not None else int(np.argmax(score(inputs)[0]))
            return dict(configs[winner])
        ei, means, variances = score(inputs)
        if self.initial_scoring == "thompson_indep":
            draws = means + np.sqrt(variances) * self._rng.standard_normal(len(configs))
            start = int(np.argmin(draws))
        else:
            start = int(np.argmax(ei))
        best, _ = local_search(
            configs[start],
            float(ei[start]),
            lambda candidates: score(self.encoder.encode(candidates))[0],
            self.space,
            self._rng,
            key=self._key,
            exclude=() if self.allow_duplicates else self._random.seen,
        )
        return dict(best)


class SecondMetricGPSearcher(GPSearcher):
    """Base of the GP searchers that model a second reported metric as well (a constraint: ``methods.constrained_bo``;
    a cost: ``methods.cost_aware_bo``): a second GP on the same inputs (``methods.gp.second_target``), refitted
    with the main one, whose posterior ``acquisition_weight`` turns into a factor of EI.

    ``second_metric`` names the metric (required); ``second_target`` maps its reported value to the GP's target
    (NaN: leave the row out). Single fidelity: a scheduler with rung levels is refused. The start of the local
    search is the candidate of largest acquisition (``initial_scoring="acq_func"``; ours: a Thompson draw of the
    objective alone would ignore the second metric)."""

    #: the option that names the metric, and what the metric is, for messages
    metric_option = "second_metric"
    metric_role = "the name of a reported metric"

    def __init__(
        self,
        space: SearchSpace,
        *,
        second_metric: str | None = None,
        initial_scoring: Literal["thompson_indep", "acq_func"] = "acq_func",
        **options: Any,
    ) -> None:
        if not isinstance(second_metric, str) or not second_metric:
            raise ValueError(
                f"{type(self).__name__} needs `{self.metric_option}`: {self.metric_role}; got {second_metric!r}"
            )
        super().__init__(space, initial_scoring=initial_scoring, **options)
        self.second_metric = second_metric
        self._second_values: dict[int, dict[int, float]] = {}  # trial -> level -> target
        self._second_model = SecondTargetModel(self.prior)

    def second_target(self, value: float) -> float:
        """The GP's target for a reported value of the metric (NaN: none)."""
        return value

    def configure(self, *, max_t: int, rung_levels: Sequence[int]) -> None:
        below = [level for level in rung_levels if level < max_t]
        if below:
            raise ValueError(
                f"{type(self).__name__} needs a single-fidelity scheduler such as FIFO (it models "
                f"`{self.metric_option}` of complete trials), but this one has rung levels {below}"
            )
        super().configure(max_t=max_t, rung_levels=rung_levels)
        self._second_model = SecondTargetModel(self.prior)

    def on_report(self, trial_id: int, config: Config, epoch: int, metrics: Mapping[str, float]) -> None:
        if self.second_metric not in metrics:
            raise ValueError(
                f"trial {trial_id} reported no metric {self.second_metric!r}: `{self.metric_option}` must name one of "
                f"{sorted(metrics)}"
            )
        if epoch in self._level_set:
            value = self.second_target(float(metrics[self.second_metric]))
            if math.isfinite(value):
                self._second_values.setdefault(trial_id, {})[epoch] = value
        super().on_report(trial_id, config, epoch, metrics)

    def _second_posterior(self, data: ModelData, fit: FitStep | None) -> TargetPosterior | None:
        values = np.array(
            [
                self._second_values.get(trial, {}).get(self.levels[level], np.nan)
                for trial, level in zip(data.trials.tolist(), data.levels.tolist())
            ]
        )
        with blas_single_thread():
            return self._second_model.posterior(
                data.X,
                values,
                self._rng,
                fit_rows=None if fit is None else fit.rows,
                full=fit is not None and fit.full,
                starts=self.opt_nstarts,
                maxiter=self.opt_maxiter,
            )

    def state_summary(self) -> dict[str, Any]:
        return {**super().state_summary(), "second_model_fits": self._second_model.num_fits}

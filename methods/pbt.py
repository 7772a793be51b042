"""Population Based Training (PBT): Jaderberg et al., "Population Based Training of Neural Networks"
(arXiv:1711.09846, 2017), with the rules and defaults of the seed documentation (Syne Tune's
``PopulationBasedTraining``).

- The population is the set of trials running at once, at most ``population_size`` (default 4); the first
  ``population_size`` trials are random configurations (``points_to_evaluate`` first). A slot freed by a
  trial that completes ``max_t`` is filled with a new random trial.
- A trial reports every ``perturbation_interval`` epochs (and completes at ``max_t``). At a report, the
  running trials that have reported are ranked by their latest reported metric; ``k = ceil(n *
  quantile_fraction)``, capped at ``floor(n / 2)`` (no ranking with n <= 1). A trial among the worst ``k``
  *exploits*: it is stopped and a new trial starts from the checkpoint of a trial drawn uniformly from the
  best ``k`` (``Suggestion.start(..., checkpoint_from=source)``), with a configuration *explored* from the
  source's; any other trial continues.
- Explore, per active hyperparameter of the source's configuration: a categorical one is always resampled
  uniformly; any other is resampled from its domain with probability ``resample_probability``, otherwise
  perturbed: a float or integer one multiplied by 1.2 or 0.8 (probability 1/2 each), clipped to its range
  (an integer one rounded), an ordinal or grid one moved to the adjacent value above or below (probability
  1/2 each; it stays at an end of its range). This follows the class docstring ("For categorical
  hyperparameters, the value is always resampled uniformly") and the parameter docs ("perturbed by a factor
  of 1.2 or 0.8 if continuous, or changed to an adjacent value if discrete").
- "Ready" criterion, as in the paper: a trial is next considered ``perturbation_interval`` epochs after it
  started or after its own checkpoint epoch, so a copied trial first reports ``perturbation_interval``
  epochs after the checkpoint it copied.

Default ``perturbation_interval``: the docs' 60 is in units of their default resource "time_total_s"
(seconds); here the resource is epochs, so the default is ``max(1, max_t // 10)``: ten chances to exploit
in a trial's life.

Simulation approximation: a tabulated benchmark cannot know the curve of a configuration whose
hyperparameters changed mid-training, so a copied trial continues with its *new* configuration's
tabulated curve from the source's checkpoint epoch on (and the source's benchmark seed); see
``simulator.simulation``.

``restrict_configurations`` (not supported by Syne Tune's PBT; the workbench's own rule): random trials are
drawn from the candidates and an explored configuration is replaced by the nearest candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from methods.base import STOP, Action, Decision, Scheduler, Suggestion, check_positive_int
from methods.grid_search import CandidateSet, settle_conditions
from methods.searchers import Searcher, searcher_or_random
from searchspace import Categorical, Config, Float, Integer, SearchSpace
from searchspace.conditions import topological_order


def explore(
    space: SearchSpace,
    config: Mapping[str, Any],
    rng: np.random.Generator,
    resample_probability: float,
    order: Sequence[str] | None = None,
) -> Config:
    """A configuration explored from ``config`` (see the module docstring).

    Draws, per active hyperparameter in space order: categorical: a resample; otherwise ``rng.random()``
    (< ``resample_probability``: a resample), else ``rng.random()`` (< 0.5: up, ×1.2 or the next value;
    else down, ×0.8 or the previous value). A resample is ``domain.decode(rng.random())``: the domain's own
    distribution (uniform in its encoded space, e.g. log-uniform on a log scale) from one uniform draw.
    """
    new = dict(config)
    for name, domain in space.items():
        value = config[name]
        if value is None:
            continue
        if isinstance(domain, Categorical) or rng.random() < resample_probability:
            new[name] = domain.decode(rng.random())
            continue
        up = rng.random() < 0.5
        if isinstance(domain, (Float, Integer)):
            scaled = min(max(value * (1.2 if up else 0.8), domain.low), domain.high)
            new[name] = int(round(scaled)) if isinstance(domain, Integer) else float(scaled)
        else:  # ordinal or grid: the adjacent value
            position = domain.index(value) + (1 if up else -1)
            new[name] = domain.values()[min(max(position, 0), domain.size - 1)]
    if space.conditions:
        settle_conditions(space, new, rng, order or topological_order(space.names, space.conditions))
    return new


class PBT(Scheduler):
    """Population Based Training; see the module docstring.

    Args:
        space: the search space.
        metric: metric to optimise.
        mode: "min" or "max".
        max_t: epoch at which trials complete.
        seed: seed of the random configurations, the choice of sources and the explore step.
        population_size: trials running at once (default 4, as in the docs).
        perturbation_interval: epochs between a trial's reports (default: ``max(1, max_t // 10)``).
        quantile_fraction: fraction of the population that exploits / is copied, in [0, 0.5] (default 0.25).
        resample_probability: probability of resampling a non-categorical hyperparameter (default 0.25).
        points_to_evaluate: first configurations (default: the midpoint, none with restrict_configurations).
        restrict_configurations: only these configurations are run (see the module docstring).
        searcher: proposes the configurations of the new (not copied) trials (default: random, with the two
            options above); explored configurations keep to the configurations it is restricted to.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: str = "min",
        max_t: int,
        seed: int = 0,
        population_size: int = 4,
        perturbation_interval: int | None = None,
        quantile_fraction: float = 0.25,
        resample_probability: float = 0.25,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        self._set_problem(space, metric, mode, max_t, seed)
        self.population_size = check_positive_int("population_size", population_size)
        if perturbation_interval is None:
            perturbation_interval = max(1, self.max_t // 10)
        self.perturbation_interval = check_positive_int("perturbation_interval", perturbation_interval)
        if not 0.0 <= quantile_fraction <= 0.5:
            raise ValueError(f"The value of `quantile_fraction` is {quantile_fraction!r}, but must be in [0, 0.5]")
        if not 0.0 <= resample_probability <= 1.0:
            raise ValueError(
                f"The value of `resample_probability` is {resample_probability!r}, but must be in [0, 1]"
            )
        self.quantile_fraction = quantile_fraction
        self.resample_probability = resample_probability
        self.searcher = searcher_or_random(
            space,
            searcher,
            seed=seed,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
        candidates = self.searcher.restricted_to  # explored configurations keep to the searcher's candidates
        self._candidates = None if candidates is None else CandidateSet(space, candidates)
        self._rng = np.random.default_rng([seed, 3])
        self._order = topological_order(space.names, space.conditions)
        self._sign = 1.0 if self.mode == "min" else -1.0
        # running trials (insertion order), their configurations, latest signed scores and report epochs
        self._running: dict[int, Config] = {}
        self._score: dict[int, float] = {}
        self._epoch: dict[int, int] = {}
        # (source trial, its checkpoint epoch, explored config) waiting for a worker
        self._pending: list[tuple[int, int, Config]] = []
        self.num_exploits = 0

    # Contract ------------------------------------------------------------------------------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        if new_trial_id is None:
            return None
        if self._pending:
            source, start, config = self._pending.pop()
            self._running[new_trial_id] = config
            return Suggestion.start(config, report_at=self._next_report(start), checkpoint_from=source)
        if len(self._running) >= self.population_size:
            return None
        config = self.searcher.suggest(new_trial_id)
        if config is None:
            return None
        self._running[new_trial_id] = config
        return Suggestion.start(config, report_at=self._next_report(0))

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        value = metrics[self.metric]
        self._score[trial_id] = self._sign * value if math.isfinite(value) else math.inf
        self._epoch[trial_id] = epoch
        bottom, top = self.quantiles()
        if trial_id not in bottom:
            return Decision(Action.CONTINUE, self._next_report(epoch))
        source = top[int(self._rng.integers(len(top)))]
        config = explore(self.space, self._running[source], self._rng, self.resample_probability, self._order)
        if self._candidates is not None:
            config = dict(self._candidates.configs[self._candidates.nearest(config)])
        self._pending.append((source, self._epoch[source], config))
        self._forget(trial_id)
        self.num_exploits += 1
        return STOP

    def _on_complete(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        self._forget(trial_id, finished=True)

    def _on_error(self, trial_id: int, epoch: int) -> None:
        self._forget(trial_id, finished=True)

    def _on_stop(self, trial_id: int) -> None:
        self._forget(trial_id)

    def _forget(self, trial_id: int, finished: bool = False) -> None:
        """``trial_id`` left the population (stopped, completed or failed). A completed or failed trial leaves no
        checkpoint to copy: pending copies of it are dropped."""
        self._running.pop(trial_id, None)
        self._score.pop(trial_id, None)
        self._epoch.pop(trial_id, None)
        if finished and self._pending:
            self._pending = [entry for entry in self._pending if entry[0] != trial_id]

    # Population ----------------------------------------------------------------------------------
    def quantiles(self) -> tuple[list[int], list[int]]:
        """(worst k, best k) running trials by latest reported metric; empty lists with fewer than 2."""
        ranked = sorted(self._score, key=self._score.__getitem__)  # best first; ties: the earliest to report first
        n = len(ranked)
        if n <= 1:
            return [], []
        k = math.ceil(n * self.quantile_fraction)
        if k > n / 2:
            k = n // 2
        if k == 0:
            return [], []
        return ranked[n - k :], ranked[:k]

    def _next_report(self, epoch: int) -> int:
        return min(epoch + self.perturbation_interval, self.max_t)

    # Reporting -----------------------------------------------------------------------------------
    def schedule_description(self) -> str:
        return (
            f"PBT: population {self.population_size}, reports every {self.perturbation_interval} epochs up to "
            f"max_t={self.max_t}; the worst {self.quantile_fraction:g} of the population copies a checkpoint of "
            f"the best {self.quantile_fraction:g} and explores (resample probability {self.resample_probability:g}, "
            "otherwise x0.8/x1.2 or an adjacent value; categorical: resample); follows Syne Tune 0.13's "
            "PopulationBasedTraining with the perturbation interval in epochs"
        )

    def state_summary(self) -> dict[str, Any]:
        return {"exploits": self.num_exploits, "running": len(self._running)}

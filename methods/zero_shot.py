"""Zero-shot transfer: a greedy portfolio of configurations learned from other tasks, then random search (the
searcher of ``ZeroShotTransfer``).

Wistuba, Schilling & Schmidt-Thieme, "Sequential model-free hyperparameter tuning" (ICDM 2015), as Syne Tune 0.13's
``ZeroShotTransfer`` documents it: configurations are chosen "that minimize the average rank obtained on historic
metadata".

1. Table: per transfer task, every candidate configuration's final loss (``TransferTask.losses``: the value at the
   last epoch it reached; the docs do not say which epoch, the paper uses the trained model's performance),
   turned into ranks within the task (1 = best; ties share the average rank; NaN ranks last).
2. Greedy portfolio: the first configuration minimises the sum over tasks of its rank; each next one minimises
   the sum over tasks of ``min(its rank, the best rank the portfolio reached on that task)``; ties go to the
   first candidate in order (the configurations of the first task, in their order). The portfolio ends when no
   candidate improves that sum any more (every task has its best candidate in it); from then on configurations
   are drawn uniformly at random (Syne Tune 0.13 goes on down the candidate list instead, which after that point
   is an arbitrary order).
3. Candidates: the configurations evaluated on every task (default). ``use_surrogates=True`` (docs: "if the
   same configuration is not evaluated on all tasks"): the union of the tasks' configurations, a value a task
   lacks predicted by a regressor fitted on that task's own evaluations (xgboost if installed, else
   scikit-learn's gradient boosting; inputs encoded as in ``methods.gp.encoding``). Syne Tune 0.13 instead
   scores 10,000 random configurations by the per-task regressors; here the evaluated configurations keep their
   measured values. ``experiments.transfer`` builds the tasks of a surrogate family on one shared sample, so
   the default applies there. With ``restrict_configurations`` only candidates among the given configurations
   count (Syne Tune 0.13 refuses the option for this method).

The target task's own results are not used (the method is zero-shot). ``points_to_evaluate`` (default: none,
not the midpoint: the portfolio is the method's first guess) are proposed before the portfolio; no configuration
is proposed twice unless ``allow_duplicates``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

from methods.gp.encoding import ConfigEncoder
from methods.searcher import Searcher
from methods.searchers import RandomSearcher
from methods.transfer import (
    TransferTask,
    check_task_configs,
    check_transfer_evaluations,
    config_key,
    make_regressor,
)
from searchspace import Config, SearchSpace

logger = logging.getLogger(__name__)

NAME = "ZeroShotTransfer"


def task_ranks(losses: np.ndarray) -> np.ndarray:
    """Ranks of ``losses`` within one task, rows of shape (tasks, candidates): 1 = smallest, ties averaged, NaN last."""
    return rankdata(np.where(np.isnan(losses), np.inf, losses), method="average", axis=-1)


def greedy_step(ranks: np.ndarray, best: np.ndarray, remaining: np.ndarray) -> int | None:
    """The candidate to add next to a portfolio whose best rank per task is ``best`` (inf: none yet): the one
    minimising ``sum_t min(ranks[t, c], best[t])`` among ``remaining`` (first on ties), or None if none lowers the
    current sum."""
    if not remaining.any():
        return None
    scores = np.minimum(ranks, best[:, None]).sum(axis=0)
    scores[~remaining] = np.inf
    choice = int(np.argmin(scores))
    return choice if scores[choice] < best.sum() else None


class ZeroShotSearcher(Searcher):
    """Greedy rank portfolio from ``transfer_evaluations``, then random search (see the module docstring).

    Args:
        space: the search space (shared by the transfer tasks).
        seed: seed of the random search that follows the portfolio (and of the regressors).
        transfer_evaluations: the other tasks' evaluations (required).
        use_surrogates: predict the values a task lacks (see the module docstring); default False.
        regressor: "auto" (xgboost if installed, else scikit-learn), "xgboost" or "sklearn" (with surrogates).
        allow_duplicates, restrict_configurations, points_to_evaluate: as for ``RandomSearcher``.
    """

    supports_restrict_configurations = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        transfer_evaluations: Sequence[TransferTask] | None = None,
        use_surrogates: bool = False,
        regressor: str = "auto",
        allow_duplicates: bool = False,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.tasks = check_transfer_evaluations(NAME, transfer_evaluations)
        for task in self.tasks:
            check_task_configs(NAME, space, task, task.configs)
        make_regressor(regressor, 0)  # checks the name (and that xgboost is there if asked for)
        self.space = space
        self.use_surrogates = use_surrogates
        self.regressor = regressor
        self.allow_duplicates = allow_duplicates
        self._seed = seed
        self._random = RandomSearcher(
            space,
            seed=seed,
            allow_duplicates=allow_duplicates,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=[] if points_to_evaluate is None else points_to_evaluate,
        )
        self.restricted_to = self._random.restricted_to
        self._names = space.names
        self._candidates: list[Config] | None = None  # built on first use
        self._ranks = np.empty((0, 0))
        self._best = np.full(len(self.tasks), np.inf)
        self._remaining = np.zeros(0, dtype=bool)
        self._portfolio_done = False
        self.portfolio: list[Config] = []

    def suggest(self, trial_id: int) -> Config | None:
        if self._random.points_left == 0 and not self._portfolio_done:
            config = self._next_in_portfolio()
            if config is not None:
                self._random.mark_seen(config)
                self.portfolio.append(config)
                return dict(config)
        return self._random.suggest(trial_id)

    def _next_in_portfolio(self) -> Config | None:
        if self._candidates is None:
            self._candidates, losses = candidate_table(
                self.space, self.tasks, self.use_surrogates, self.regressor, self._seed, self.restricted_to
            )
            self._ranks = task_ranks(losses)
            self._remaining = np.ones(len(self._candidates), dtype=bool)
        while True:
            choice = greedy_step(self._ranks, self._best, self._remaining)
            if choice is None:
                self._portfolio_done = True
                return None
            self._remaining[choice] = False
            self._best = np.minimum(self._best, self._ranks[:, choice])
            config = self._candidates[choice]
            if self.allow_duplicates or config_key(self._names, config) not in self._random.seen:
                return config  # a configuration proposed already (a point to evaluate) counts, but not twice

    def describe(self) -> str:
        candidates = "union, missing values predicted" if self.use_surrogates else "evaluated on every task"
        return (
            f"{NAME}: greedy average-rank portfolio (Wistuba et al. 2015) over the configurations of "
            f"{len(self.tasks)} transfer tasks ({candidates}), then {self._random.describe()}"
        )

    def state_summary(self) -> dict[str, Any]:
        candidates = 0 if self._candidates is None else len(self._candidates)
        return {"portfolio": len(self.portfolio), "candidates": candidates}


def candidate_table(
    space: SearchSpace,
    tasks: Sequence[TransferTask],
    use_surrogates: bool,
    regressor: str,
    seed: int,
    restricted_to: Sequence[Config] | None = None,
) -> tuple[list[Config], np.ndarray]:
    """The candidate configurations and their losses on every task, shape (tasks, candidates) (see the module
    docstring)."""
    names = space.names
    tables: list[dict[tuple, float]] = []
    configs: dict[tuple, Config] = {}
    for task in tasks:
        table: dict[tuple, float] = {}
        for config, loss in zip(task.configs, task.losses()):
            key = config_key(names, config)
            table.setdefault(key, float(loss))
            configs.setdefault(key, {name: config[name] for name in names})
        tables.append(table)
    keys = list(configs)
    if not use_surrogates:
        keys = [key for key in keys if all(key in table for table in tables)]
        if not keys:
            raise ValueError(
                f"{NAME}: no configuration is evaluated on every transfer task; pass use_surrogates=True to predict "
                "the values a task lacks"
            )
        if len(keys) < len(configs):
            logger.warning(
                "%s: %d of %d configurations are evaluated on every task; only they are candidates",
                NAME,
                len(keys),
                len(configs),
            )
    if restricted_to is not None:
        allowed = {config_key(names, config) for config in restricted_to}
        keys = [key for key in keys if key in allowed]
        if not keys:
            logger.warning(
                "%s: no configuration of the transfer tasks is among restrict_configurations; the search is random",
                NAME,
            )
    candidates = [configs[key] for key in keys]
    losses = np.empty((len(tasks), len(keys)))
    encoder = ConfigEncoder(space)
    for row, (task, table) in enumerate(zip(tasks, tables)):
        losses[row] = [table.get(key, np.nan) for key in keys]
        missing = np.array([key not in table for key in keys], dtype=bool)
        if missing.any():
            losses[row, missing] = predicted_losses(
                encoder, task, [c for c, m in zip(candidates, missing) if m], regressor, seed
            )
    return candidates, losses


def predicted_losses(
    encoder: ConfigEncoder, task: TransferTask, configs: Sequence[Config], regressor: str, seed: int
) -> np.ndarray:
    """``task``'s losses of ``configs`` (which it did not evaluate), by a regressor fitted on its finite losses."""
    losses = task.losses()
    finite = np.isfinite(losses)
    if finite.sum() < 2:  # nothing to learn from: as bad as the task's worst (ranks last)
        return np.full(len(configs), np.inf)
    model, _ = make_regressor(regressor, seed)
    inputs = encoder.encode([config for config, ok in zip(task.configs, finite) if ok])
    model.fit(inputs, losses[finite])
    return np.asarray(model.predict(encoder.encode(configs)), dtype=float)

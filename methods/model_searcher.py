"""What the searchers that fit a model to their results share (KDE, BORE, CQR): results per rung level, the
random start, the candidates a model scores, and configurations proposed at most once.

A ``ModelSearcher`` keeps every finite result its scheduler passes on at a rung level or ``max_t`` (one per trial
and level), proposes the points to evaluate first (by default the midpoint of the space) and then asks its
subclass's ``_suggest_by_model``; when that returns None (too little data, a random proposal by design, or a
model that failed) the suggestion is drawn at random. Candidates a model scores are ``candidate_pool``: every
remaining configuration with ``restrict_configurations`` (a tabulated benchmark's), otherwise random ones. Unless
``allow_duplicates``, no configuration is proposed twice, whether the model or the random searcher chose it.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from methods.gp.encoding import ConfigEncoder
from methods.searcher import Searcher
from methods.searchers import RandomSearcher
from searchspace import Config, SearchSpace


class ModelSearcher(Searcher):
    """Base of the searchers that fit a model to the results at rung levels (see the module docstring).

    Subclasses implement ``_suggest_by_model``, and ``_encode`` unless the default model inputs suit them
    (numbers in [0, 1], log scale where the domain has one, categoricals one-hot: ``methods.gp.encoding``).
    """

    supports_restrict_configurations = True
    uses_model = True
    #: mixed into the seed of the model's generator, so that searchers of one seed draw different numbers
    seed_salt: ClassVar[int] = 0

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int,
        allow_duplicates: bool = False,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.space = space
        self.allow_duplicates = allow_duplicates
        self._random = RandomSearcher(
            space,
            seed=seed,
            allow_duplicates=allow_duplicates,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=points_to_evaluate,
        )
        self._rng = np.random.default_rng([seed, self.seed_salt])
        #: the seed handed to a library model (xgboost, scikit-learn), derived from ``seed``
        self.library_seed = int(np.random.default_rng([seed, self.seed_salt, 1]).integers(2**31 - 1))
        self.encoder = ConfigEncoder(space)
        self._names = space.names
        self._candidates: list[Config] | None = None
        self._candidate_inputs: np.ndarray | None = None
        if restrict_configurations is not None:  # validated by the random searcher
            self._candidates = list(self._random.restricted_to)  # type: ignore[arg-type]
            self.restricted_to = self._candidates
            self._candidate_index = {self._key(c): i for i, c in enumerate(self._candidates)}
            self._remaining = np.ones(len(self._candidates), dtype=bool)
        self._configs: dict[int, Config] = {}
        self._inputs: dict[int, np.ndarray] = {}
        self._results: dict[int, dict[int, float]] = {}  # trial -> level -> loss
        self.num_model_suggestions = 0
        ModelSearcher.configure(self, max_t=1, rung_levels=())  # until a scheduler configures it

    # To implement --------------------------------------------------------------------------------
    def _encode(self, configs: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Model inputs, one row per configuration."""
        return self.encoder.encode(configs)

    @abc.abstractmethod
    def _suggest_by_model(self) -> Config | None:
        """A configuration chosen by the model, or None to draw one at random."""

    # Contract ------------------------------------------------------------------------------------
    def configure(self, *, max_t: int, rung_levels: Sequence[int]) -> None:
        self.max_t = max_t
        self.levels = sorted({*(level for level in rung_levels if level < max_t), max_t})
        self._level_set = frozenset(self.levels)

    def suggest(self, trial_id: int) -> Config | None:
        config = None
        if self._random.points_left == 0 and self._results:
            config = self._suggest_by_model()
            if config is not None:
                self.num_model_suggestions += 1
        if config is None:  # the random searcher skips every configuration proposed before (``mark_seen``)
            config = self._random.suggest(trial_id)
        if config is not None:
            self._remember(trial_id, config)
        return config

    def on_pending(self, trial_id: int, config: Config, epoch: int) -> None:
        if trial_id not in self._configs:
            self._remember(trial_id, config)

    def on_result(self, trial_id: int, config: Config, epoch: int, loss: float) -> None:
        if trial_id not in self._configs:
            self._remember(trial_id, config)
        if epoch in self._level_set and math.isfinite(loss):
            self._results.setdefault(trial_id, {})[epoch] = float(loss)

    def state_summary(self) -> dict[str, Any]:
        return {"model_suggestions": self.num_model_suggestions}

    # Data ----------------------------------------------------------------------------------------
    def _key(self, config: Mapping[str, Any]) -> tuple:
        return tuple(config[name] for name in self._names)

    def _remember(self, trial_id: int, config: Config) -> None:
        self._configs[trial_id] = config
        self._inputs[trial_id] = self._encode([config])[0]
        self._random.mark_seen(config)
        if self._candidates is not None and not self.allow_duplicates:
            index = self._candidate_index.get(self._key(config))
            if index is not None:
                self._remaining[index] = False

    @property
    def num_results(self) -> int:
        """Results observed so far, over all levels."""
        return sum(len(results) for results in self._results.values())

    def level_counts(self) -> dict[int, int]:
        """Number of results per level (levels without results left out)."""
        counts: dict[int, int] = {}
        for results in self._results.values():
            for level in results:
                counts[level] = counts.get(level, 0) + 1
        return counts

    def largest_level_with(self, count: int) -> int | None:
        """The largest level with at least ``count`` results, or None."""
        enough = [level for level, n in self.level_counts().items() if n >= count]
        return max(enough) if enough else None

    def level_data(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """Model inputs and losses of the trials with a result at ``level`` (in the order trials arrived)."""
        trials = [t for t, results in self._results.items() if level in results]
        return self._stack(trials), np.array([self._results[t][level] for t in trials])

    def last_results(self) -> tuple[np.ndarray, np.ndarray]:
        """Model inputs and losses of every trial with a result, each at the largest level it reached."""
        trials = [t for t, results in self._results.items() if results]
        return self._stack(trials), np.array([self._results[t][max(self._results[t])] for t in trials])

    def _stack(self, trials: Sequence[int]) -> np.ndarray:
        return np.vstack([self._inputs[t] for t in trials]) if trials else self._encode([])

    # Candidates ----------------------------------------------------------------------------------
    def candidate_pool(self, count: int) -> tuple[list[Config], np.ndarray]:
        """Configurations a model scores and their inputs: every remaining restricted candidate, else ``count``
        random configurations never proposed before (fewer if the space is nearly used up)."""
        if self._candidates is not None:
            if self._candidate_inputs is None:
                self._candidate_inputs = self._encode(self._candidates)
            remaining = self._remaining_candidates()
            return [self._candidates[int(i)] for i in remaining], self._candidate_inputs[remaining]
        configs = self.space.sample_many(self._rng, count)
        if not self.allow_duplicates:
            seen = self._random.seen
            configs = [config for config in configs if self._key(config) not in seen]
        return configs, self._encode(configs)

    def _remaining_candidates(self) -> np.ndarray:
        """Indices of the restricted candidates that may still be proposed."""
        return np.arange(len(self._remaining)) if self.allow_duplicates else np.flatnonzero(self._remaining)

    def is_new(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` may be proposed (never proposed before, or duplicates allowed)."""
        return self.allow_duplicates or self._key(config) not in self._random.seen


def check_integer(name: str, value: Any, least: int) -> None:
    """A one-line ``ValueError`` unless ``value`` is an integer >= ``least``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise ValueError(f"`{name}` must be an integer >= {least}, got {value!r}")


def check_within(name: str, value: Any, low: float, high: float, *, open_ends: bool = False) -> None:
    """A one-line ``ValueError`` unless ``low <= value <= high`` (``low < value < high`` with ``open_ends``)."""
    if not isinstance(value, int | float) or not (low < value < high if open_ends else low <= value <= high):
        interval = f"({low:g}, {high:g})" if open_ends else f"[{low:g}, {high:g}]"
        raise ValueError(f"`{name}` must lie in {interval}, got {value!r}")


def import_xgboost(purpose: str, alternative: str) -> Any:
    """The xgboost module, or a one-line ``ValueError`` naming the extra to install and ``alternative``."""
    try:
        import xgboost
    except ImportError:
        raise ValueError(
            f"{purpose} needs xgboost: pip install 'hpo-workbench[xgboost]', or pass {alternative}"
        ) from None
    return xgboost

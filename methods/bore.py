"""BORE, Bayesian optimisation by density-ratio estimation (Tiao et al., ICML 2021): the searcher of BORE and
ASHA-BORE.

The γ-relative density ratio ``l(x) / (γ l(x) + (1 − γ) g(x))`` is, up to a constant, the probability that ``x``
is among the best γ of the results, so a probabilistic classifier of that event replaces the model and its
predicted probability replaces expected improvement (Syne Tune 0.13's ``Bore`` defaults unless stated):

1. Data: the results at one level. Under FIFO the results at ``max_t``; under a multi-fidelity scheduler the
   largest level with at least ``init_random`` results (the "acquisition level": BOHB's rule, as Syne Tune's
   ``MultiFidelityBore``, which asks for 1 / γ results there; we ask the same ``init_random`` as for the start).
   Suggestions are random until ``init_random`` (6) results are in, and with probability ``random_prob`` (0).
2. Labels: ``z = 1`` if the loss is at most the γ-quantile of the losses (``gamma`` = 0.25; the paper's
   ``y ≤ τ``; Syne Tune's code uses ``<``), else 0. If every label is equal the suggestion is random.
3. Classifier (``classifier``): "xgboost" (default; ``XGBClassifier`` with its defaults, one thread), "rf"
   (scikit-learn's random forest) or "mlp" (scikit-learn's multi-layer perceptron); ``classifier_kwargs`` go to
   its constructor. Each is seeded from the searcher's seed and runs on one thread, so a seed gives the same
   proposals on any machine. Inputs: numbers in [0, 1] (log scale where the domain has one), categoricals
   one-hot (``methods.gp.encoding``).
4. Acquisition: the predicted probability of class 1, maximised over ``num_candidates`` (500, Syne Tune's
   ``feval_acq``) random configurations never proposed before, then by local search from the best one
   (``methods.local_search``; Syne Tune 0.13 stops at the random candidates). With
   ``restrict_configurations`` every remaining candidate is scored instead.

Pending evaluations are ignored (as in the paper and Syne Tune).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from methods.gp.blas import blas_single_thread
from methods.local_search import local_search
from methods.model_searcher import ModelSearcher, check_integer, check_within, import_xgboost
from searchspace import Config, SearchSpace

CLASSIFIERS = ("xgboost", "rf", "mlp")


def top_gamma_labels(losses: np.ndarray, gamma: float) -> np.ndarray:
    """1 where a loss is at most the ``gamma``-quantile of ``losses`` (linear interpolation), else 0."""
    return (losses <= np.quantile(losses, gamma)).astype(np.int64)


def make_classifier(name: str, seed: int, options: Mapping[str, Any]) -> Any:
    """A scikit-learn style probabilistic classifier, seeded and single-threaded."""
    if name == "xgboost":
        xgboost = import_xgboost("BORE's default classifier", "classifier='rf' (scikit-learn's random forest)")
        return xgboost.XGBClassifier(**{"n_jobs": 1, "random_state": seed, "verbosity": 0, **options})
    if name == "rf":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**{"n_jobs": 1, "random_state": seed, **options})
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(**{"random_state": seed, **options})


class BORESearcher(ModelSearcher):
    """BO by density-ratio estimation with a probabilistic classifier (see the module docstring)."""

    seed_salt = 37

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int = 0,
        gamma: float = 0.25,
        classifier: Literal["xgboost", "rf", "mlp"] = "xgboost",
        classifier_kwargs: Mapping[str, Any] | None = None,
        init_random: int = 6,
        num_candidates: int = 500,
        random_prob: float = 0.0,
        **options: Any,
    ) -> None:
        check_within("gamma", gamma, 0.0, 1.0, open_ends=True)
        if classifier not in CLASSIFIERS:
            raise ValueError(f"`classifier` is {classifier!r}, but must be one of {CLASSIFIERS}")
        check_integer("init_random", init_random, 2)
        check_integer("num_candidates", num_candidates, 1)
        check_within("random_prob", random_prob, 0.0, 1.0)
        super().__init__(space, seed=seed, **options)  # allow_duplicates, restrict_configurations, ...
        self.gamma = gamma
        self.classifier = classifier
        self.classifier_kwargs = dict(classifier_kwargs or {})
        make_classifier(classifier, self.library_seed, self.classifier_kwargs)  # a missing library fails now
        self.init_random = init_random
        self.num_candidates = num_candidates
        self.random_prob = random_prob
        self.model_level: int | None = None

    def fit_classifier(self, level: int) -> Any | None:
        """The classifier of "in the best γ at ``level``", or None if the labels are all equal."""
        inputs, losses = self.level_data(level)
        labels = top_gamma_labels(losses, self.gamma)
        if labels.min() == labels.max():
            return None
        model = make_classifier(self.classifier, self.library_seed, self.classifier_kwargs)
        with warnings.catch_warnings(), blas_single_thread():
            warnings.simplefilter("ignore")  # e.g. the MLP's ConvergenceWarning on a few points
            # xgboost stores labels as float32; handing them over as such saves ~40 ms of conversion per fit
            model.fit(inputs, labels.astype(np.float32) if self.classifier == "xgboost" else labels)
        return model

    def _suggest_by_model(self) -> Config | None:
        level = self.largest_level_with(self.init_random)
        if self.num_results < self.init_random or level is None or self._rng.random() < self.random_prob:
            return None
        model = self.fit_classifier(level)
        if model is None:
            return None
        self.model_level = level

        def probability(inputs: np.ndarray) -> np.ndarray:
            with blas_single_thread():
                return model.predict_proba(inputs)[:, 1]

        configs, inputs = self.candidate_pool(self.num_candidates)
        if not configs:
            return None
        scores = probability(inputs)
        best = int(np.argmax(scores))
        if self._candidates is not None:
            return dict(configs[best])
        config, _ = local_search(
            configs[best],
            float(scores[best]),
            lambda candidates: probability(self._encode(candidates)),
            self.space,
            self._rng,
            key=self._key,
            exclude=() if self.allow_duplicates else self._random.seen,
        )
        return dict(config)

    def describe(self) -> str:
        where = (
            f"the largest of the levels {self.levels} with >= {self.init_random} results"
            if len(self.levels) > 1
            else "the results"
        )
        scored = (
            "every remaining candidate"
            if self._candidates is not None
            else f"{self.num_candidates} random configurations, then local search"
        )
        return (
            f"BORE: {self.classifier} classifier of 'in the best {self.gamma:g}' of {where}; argmax of its "
            f"probability over {scored}; random for the first {self.init_random} results "
            f"({self._random.describe()})"
        )

    def state_summary(self) -> dict[str, Any]:
        return {**super().state_summary(), "model_level": self.model_level}

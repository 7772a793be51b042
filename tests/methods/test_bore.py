"""BORE: labels at γ, the level it fits at, seeded classifiers (same seed, same proposals), its proposals."""

import builtins

import numpy as np
import pytest

from methods import make_method
from methods.bore import BORESearcher, top_gamma_labels
from methods.searchers import RandomSearcher
from searchspace import Categorical, Float, Integer, SearchSpace

SPACE = SearchSpace(
    {"x": Float(0.0, 1.0), "lr": Float(1e-4, 1.0, log=True), "n": Integer(1, 8), "c": Categorical(("a", "b", "c"))}
)
FAST = {"xgboost": {"n_estimators": 20}, "rf": {"n_estimators": 20}, "mlp": {"max_iter": 50}}


def loss(config):
    return (
        (config["x"] - 0.7) ** 2
        + 0.05 * (np.log10(config["lr"]) + 2) ** 2
        + 0.01 * (config["n"] - 3) ** 2
        + (0.0 if config["c"] == "b" else 0.2)
    )


def feed(searcher, trial_id, config, level, value):
    searcher.on_pending(trial_id, config, level)
    searcher.on_result(trial_id, config, level, value)


def run(searcher, trials, *, max_t=1, rung_levels=()):
    searcher.configure(max_t=max_t, rung_levels=rung_levels)
    configs = []
    for trial in range(trials):
        config = searcher.suggest(trial)
        configs.append(config)
        feed(searcher, trial, config, max_t, float(loss(config)))
    return configs


def test_labels_mark_the_losses_at_most_the_gamma_quantile():
    losses = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8, 0.4])
    # the 0.25-quantile of the 8 losses (linear interpolation at rank 1.75): 0.2 + 0.75 * (0.3 - 0.2) = 0.275
    np.testing.assert_array_equal(top_gamma_labels(losses, 0.25), [0, 1, 0, 0, 0, 1, 0, 0])
    # ties at the quantile are in: y <= tau, as in the paper
    np.testing.assert_array_equal(top_gamma_labels(np.array([1.0, 1.0, 2.0, 3.0]), 0.25), [1, 1, 0, 0])
    np.testing.assert_array_equal(top_gamma_labels(losses, 0.5), losses <= 0.45)


def test_random_until_init_random_results_then_the_model():
    searcher = BORESearcher(SPACE, seed=0, classifier_kwargs=FAST["xgboost"])
    run(searcher, 6)
    assert searcher.num_model_suggestions == 0  # the midpoint, then 5 random: 6 results only after the 6th
    run_more = [searcher.suggest(6)]
    assert run_more[0] is not None and searcher.num_model_suggestions == 1


def test_equal_losses_give_one_class_and_a_random_suggestion():
    searcher = BORESearcher(SPACE, seed=0, classifier_kwargs=FAST["xgboost"])
    searcher.configure(max_t=1, rung_levels=())
    for trial in range(8):
        feed(searcher, trial, searcher.suggest(trial), 1, 1.0)
    assert searcher.fit_classifier(1) is None
    assert searcher.suggest(8) is not None and searcher.num_model_suggestions == 0


@pytest.mark.parametrize("classifier", ["xgboost", "rf", "mlp"])
def test_same_seed_same_proposals_and_different_seeds_differ(classifier):
    def proposals(seed):
        searcher = BORESearcher(
            SPACE, seed=seed, classifier=classifier, classifier_kwargs=FAST[classifier], num_candidates=100
        )
        return run(searcher, 16)

    first = proposals(3)
    assert first == proposals(3)
    assert first[6:] != proposals(4)[6:]


def test_the_classifier_sees_the_largest_level_with_init_random_results():
    searcher = make_method("ASHA-BORE", space=SPACE, metric="loss", max_t=27, seed=0, points_to_evaluate=[]).searcher
    assert searcher.levels == [1, 3, 9, 27]
    configs = SPACE.sample_many(np.random.default_rng(0), 12)
    for trial, config in enumerate(configs):
        feed(searcher, trial, config, 1, loss(config))
    for trial in range(6):
        feed(searcher, trial, configs[trial], 3, loss(configs[trial]) - 0.01)
    for trial in range(5):
        feed(searcher, trial, configs[trial], 9, loss(configs[trial]) - 0.02)
    assert searcher.largest_level_with(searcher.init_random) == 3
    inputs, losses = searcher.level_data(3)
    assert len(losses) == 6
    assert searcher.suggest(12) is not None and searcher.model_level == 3


def test_bore_beats_random_search_on_a_mixed_bowl():
    bore = [min(map(loss, run(BORESearcher(SPACE, seed=s, num_candidates=200), 40))) for s in range(8)]
    rand = [min(map(loss, run(RandomSearcher(SPACE, seed=s), 40))) for s in range(8)]
    assert sum(b < r for b, r in zip(bore, rand)) >= 6


def test_restricted_candidates_the_most_probable_remaining_one():
    candidates = SPACE.sample_many(np.random.default_rng(5), 40)
    searcher = BORESearcher(SPACE, seed=0, restrict_configurations=candidates, classifier_kwargs=FAST["xgboost"])
    proposals = run(searcher, 12)
    model = searcher.fit_classifier(1)
    remaining, inputs = searcher.candidate_pool(0)
    assert len(remaining) == 28
    expected = remaining[int(np.argmax(model.predict_proba(inputs)[:, 1]))]
    assert searcher.suggest(12) == expected
    assert len({tuple(c.values()) for c in proposals + [expected]}) == 13


def test_missing_xgboost_names_the_extra_and_the_alternative(monkeypatch):
    real_import = builtins.__import__

    def no_xgboost(name, *args, **kwargs):
        if name == "xgboost":
            raise ImportError("No module named 'xgboost'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_xgboost)
    with pytest.raises(ValueError, match=r"hpo-workbench\[xgboost\].*classifier='rf'"):
        BORESearcher(SPACE)
    BORESearcher(SPACE, classifier="rf")


@pytest.mark.parametrize(
    "options",
    [{"gamma": 0.0}, {"gamma": 1.0}, {"classifier": "svm"}, {"init_random": 1}, {"num_candidates": 0},
     {"random_prob": -0.1}],
)  # fmt: skip
def test_bad_options_are_refused_in_one_line(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        BORESearcher(SPACE, **options)

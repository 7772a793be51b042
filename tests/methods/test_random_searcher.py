"""RandomSearcher: duplicates, exhaustion and restriction to given configurations."""

from __future__ import annotations

import numpy as np
import pytest

from methods import ASHA, RandomSearch, RandomSearcher
from searchspace import Categorical, Float, SearchSpace, SearchSpaceError

SPACE = SearchSpace({"lr": Float(1e-4, 1e-1, log=True), "act": Categorical(("relu", "tanh"))})
TABLE = [{"lr": 10.0 ** -k, "act": act} for k in (1, 2, 3, 4) for act in ("relu", "tanh")]


def drain(searcher, limit=1000):
    out = []
    while len(out) < limit and (config := searcher.suggest(len(out))) is not None:
        out.append(config)
    return out


def test_restricted_without_duplicates_proposes_each_candidate_once_then_stops():
    proposed = drain(RandomSearcher(SPACE, seed=3, restrict_configurations=TABLE))
    assert sorted(map(str, proposed)) == sorted(map(str, TABLE))
    orders = {tuple(map(str, drain(RandomSearcher(SPACE, seed=s, restrict_configurations=TABLE)))) for s in range(6)}
    assert len(orders) > 1  # the order depends on the seed
    again = drain(RandomSearcher(SPACE, seed=3, restrict_configurations=TABLE))
    assert again == proposed  # and only on the seed


def test_restricted_with_duplicates_is_uniform_over_candidates():
    searcher = RandomSearcher(SPACE, seed=0, allow_duplicates=True, restrict_configurations=TABLE)
    proposed = drain(searcher, limit=8000)
    counts = np.array([sum(c == t for c in proposed) for t in TABLE])
    assert counts.sum() == 8000
    assert np.all(np.abs(counts - 1000) < 150)  # ~4.7 standard deviations


def test_duplicated_candidates_are_proposed_once():
    proposed = drain(RandomSearcher(SPACE, seed=1, restrict_configurations=TABLE + TABLE[:3]))
    assert len(proposed) == len(TABLE)


def test_candidates_outside_the_space_are_rejected():
    with pytest.raises(SearchSpaceError, match="outside its domain"):
        RandomSearcher(SPACE, restrict_configurations=[{"lr": 1.0, "act": "relu"}])
    with pytest.raises(ValueError, match="restrict_configurations is empty"):
        RandomSearcher(SPACE, restrict_configurations=[])


@pytest.mark.parametrize("method", [RandomSearch, ASHA])
def test_schedulers_pass_the_restriction_on(method):
    scheduler = method(SPACE, metric="loss", max_t=9, seed=0, restrict_configurations=TABLE)
    started = []
    for trial in range(len(TABLE) + 2):
        suggestion = scheduler.suggest(trial)
        if suggestion is None:
            break
        started.append(suggestion.config)
    assert sorted(map(str, started)) == sorted(map(str, TABLE))


@pytest.mark.parametrize("rejections", [1000, 0])  # 0: every proposal comes from the exhaustive fallback
def test_exhausting_a_conditional_finite_space_proposes_only_valid_configurations(rejections, monkeypatch):
    from searchspace import Condition, Grid

    monkeypatch.setattr(RandomSearcher, "_MAX_REJECTIONS", rejections)
    space = SearchSpace(
        {"booster": Categorical(("tree", "linear")), "depth": Grid((1, 2, 3))},
        conditions=[Condition("depth", "booster", ("tree",))],
    )
    proposed = drain(RandomSearcher(space, seed=0))
    assert len(proposed) == space.size == 4
    for config in proposed:
        space.validate(config)
    assert {"booster": "linear", "depth": None} in proposed


def test_points_to_evaluate_come_first_and_partial_points_take_the_midpoint():
    midpoint = SPACE.midpoint()
    default = RandomSearcher(SPACE, seed=0)
    assert default.suggest(0) == midpoint  # the default: the midpoint first
    searcher = RandomSearcher(SPACE, seed=0, points_to_evaluate=[{"act": "tanh"}, {"lr": 0.01, "act": "relu"}])
    assert searcher.suggest(0) == {"lr": midpoint["lr"], "act": "tanh"}
    assert searcher.suggest(1) == {"lr": 0.01, "act": "relu"}
    rest = drain(searcher, limit=50)
    assert {"lr": 0.01, "act": "relu"} not in rest  # never proposed again
    assert drain(RandomSearcher(SPACE, seed=0, points_to_evaluate=[]), limit=1)[0] != midpoint
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        RandomSearcher(SPACE, points_to_evaluate=[{"momentum": 0.9}])
    with pytest.raises(SearchSpaceError, match="outside its domain"):
        RandomSearcher(SPACE, points_to_evaluate=[{"lr": 5.0}])


def test_points_to_evaluate_with_restriction_must_be_candidates():
    searcher = RandomSearcher(SPACE, seed=0, restrict_configurations=TABLE, points_to_evaluate=[TABLE[5]])
    proposed = drain(searcher)
    assert proposed[0] == TABLE[5] and len(proposed) == len(TABLE)
    with pytest.raises(ValueError, match="not one of the restricted configurations"):
        RandomSearcher(SPACE, restrict_configurations=TABLE, points_to_evaluate=[{"lr": 0.05, "act": "relu"}])


def test_conditional_points_are_completed_consistently():
    from searchspace import Condition, Grid

    space = SearchSpace(
        {"booster": Categorical(("linear", "tree")), "depth": Grid((1, 2, 3))},
        conditions=[Condition("depth", "booster", ("tree",))],
    )
    assert RandomSearcher(space, points_to_evaluate=[{"booster": "linear"}]).suggest(0) == {
        "booster": "linear", "depth": None}
    assert RandomSearcher(space, points_to_evaluate=[{"booster": "tree"}]).suggest(0) == {"booster": "tree", "depth": 2}

"""REA: random phase, ageing (the oldest member leaves), tournaments and one-hyperparameter mutations."""

from __future__ import annotations

import numpy as np
import pytest

from methods.rea import REA, mutate_value
from searchspace import Categorical, Condition, Float, Grid, Integer, Ordinal, SearchSpace

SPACE = SearchSpace(
    {
        "lr": Float(1e-4, 1e-1, log=True),
        "units": Integer(1, 4),
        "act": Categorical(("relu", "tanh", "gelu")),
        "size": Ordinal(("s", "m", "l")),
        "fixed": Grid((7,)),
    }
)


class ScriptedRng:
    """Stands in for a numpy Generator in ``RegularizedEvolution.tournament``: returns the given picks."""

    def __init__(self, picks):
        self.picks = list(picks)

    def integers(self, n, size):
        assert len(self.picks) == size and max(self.picks) < n
        return np.array(self.picks)


def complete(rea, trial, value):
    rea.on_complete(trial, rea.max_t, {"loss": value})


def differing(a, b):
    return [name for name in a if a[name] != b[name]]


def test_first_population_size_trials_are_random_points_first():
    point = {"lr": 1e-3, "units": 2, "act": "tanh", "size": "m", "fixed": 7}
    rea = REA(SPACE, metric="loss", max_t=5, seed=0, population_size=3, sample_size=2, points_to_evaluate=[point])
    first = [rea.suggest(i) for i in range(3)]
    assert first[0].config == point and all(s.report_at == 5 for s in first)
    assert rea.suggest(3) is not None  # population still empty (nothing finished): random again
    for trial, value in enumerate([0.3, 0.2, 0.1]):
        complete(rea, trial, value)
    assert [score for score, _ in rea.searcher.population] == [0.3, 0.2, 0.1]
    child = rea.suggest(4).config  # now a mutation of a population member
    assert any(len(differing(child, member)) == 1 for _, member in rea.searcher.population)


def test_the_oldest_member_is_evicted_not_the_worst():
    rea = REA(SPACE, metric="loss", max_t=5, seed=1, population_size=3, sample_size=2, points_to_evaluate=[])
    configs = [rea.suggest(i).config for i in range(5)]
    for trial, value in zip([0, 1, 2, 3], [0.1, 0.9, 0.5, 0.7]):  # trial 0 is the best and the oldest
        complete(rea, trial, value)
    assert [score for score, _ in rea.searcher.population] == [0.9, 0.5, 0.7]
    assert [member for _, member in rea.searcher.population] == configs[1:4]
    complete(rea, 4, 0.05)
    assert [score for score, _ in rea.searcher.population] == [0.5, 0.7, 0.05]


@pytest.mark.parametrize("mode, expected", [("min", 2), ("max", 3)])
def test_tournament_returns_the_best_of_the_sample(mode, expected):
    rea = REA(SPACE, metric="loss", mode=mode, max_t=5, seed=0, population_size=5, sample_size=3, points_to_evaluate=[])
    configs = [rea.suggest(i).config for i in range(5)]
    for trial, value in enumerate([0.0, 0.5, 0.2, 0.9, 0.3]):
        complete(rea, trial, value)
    rea.searcher._rng = ScriptedRng([3, 2, 1])  # trial 0 (the best overall) is not in the sample; twice is fine
    assert rea.searcher.tournament() == configs[expected]
    rea.searcher._rng = ScriptedRng([1, 1, 1])
    assert rea.searcher.tournament() == configs[1]


def test_mutation_changes_exactly_one_hyperparameter_to_a_different_value():
    rea = REA(SPACE, metric="loss", max_t=5, seed=7, population_size=2, sample_size=2, points_to_evaluate=[])
    parent = {"lr": 1e-3, "units": 2, "act": "tanh", "size": "m", "fixed": 7}
    changed = []
    for _ in range(400):
        child = rea.searcher.mutate(parent)
        SPACE.validate(child)
        names = differing(child, parent)
        assert len(names) == 1
        changed.append(names[0])
    counts = {name: changed.count(name) for name in SPACE}
    assert counts["fixed"] == 0  # a single-valued domain is never picked
    assert all(70 <= counts[name] <= 130 for name in ("lr", "units", "act", "size"))  # uniform over the 4 others


def test_mutate_value_draws_from_the_domain():
    rng = np.random.default_rng(0)
    lrs = [mutate_value(Float(1e-4, 1e-1, log=True), 1e-3, rng) for _ in range(2000)]
    assert np.mean(np.log10(lrs)) == pytest.approx(-2.5, abs=0.05)  # uniform on the log scale
    acts = [mutate_value(Categorical(("a", "b", "c")), "a", rng) for _ in range(600)]
    assert set(acts) == {"b", "c"} and 250 <= acts.count("b") <= 350
    assert {mutate_value(Integer(3, 4), 3, rng) for _ in range(20)} == {4}
    assert {mutate_value(Integer(1, 2, log=True), 2, rng) for _ in range(20)} == {1}


def test_conditional_children_follow_their_parent():
    space = SearchSpace(
        {"booster": Categorical(("gbtree", "dart")), "rate_drop": Float(0.0, 1.0)},
        [Condition("rate_drop", "booster", ("dart",))],
    )
    rea = REA(space, metric="loss", max_t=5, seed=0, population_size=2, points_to_evaluate=[])
    for _ in range(20):
        child = rea.searcher.mutate({"booster": "gbtree", "rate_drop": None})  # only the booster can change
        assert child["booster"] == "dart" and 0.0 <= child["rate_drop"] <= 1.0
    children = [rea.searcher.mutate({"booster": "dart", "rate_drop": 0.5}) for _ in range(40)]
    for child in children:
        space.validate(child)
    assert {"gbtree", "dart"} == {child["booster"] for child in children}


def test_restricted_mutations_stay_among_the_candidates():
    space = SearchSpace({"a": Grid((1, 2, 3)), "b": Categorical(("x", "y"))})
    table = [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}, {"a": 3, "b": "x"}, {"a": 3, "b": "y"}]
    rea = REA(space, metric="loss", max_t=5, seed=0, population_size=2, restrict_configurations=table)
    children = [rea.searcher.mutate({"a": 1, "b": "x"}) for _ in range(200)]
    assert {tuple(c.values()) for c in children} == {(2, "x"), (3, "x")}  # one hyperparameter away
    children = [rea.searcher.mutate({"a": 3, "b": "x"}) for _ in range(200)]
    counts = {key: sum(tuple(c.values()) == key for c in children) for key in [(1, "x"), (2, "x"), (3, "y")]}
    assert sum(counts.values()) == 200 and 70 <= counts[(3, "y")] <= 130  # "b" chosen half of the time
    # a candidate with no neighbour one hyperparameter away: the nearest other candidate
    lone = REA(space, metric="loss", max_t=5, seed=0, restrict_configurations=[{"a": 1, "b": "x"}, {"a": 3, "b": "y"}])
    assert lone.searcher.mutate({"a": 1, "b": "x"}) == {"a": 3, "b": "y"}


def test_every_reported_result_joins_and_a_failure_adds_nothing():
    rea = REA(SPACE, metric="loss", max_t=9, seed=0, population_size=4, points_to_evaluate=[])
    for i in range(3):
        rea.suggest(i)
    rea.on_error(0, 1)
    rea.on_report(1, 3, {"loss": 0.4})
    rea.on_error(1, 4)
    complete(rea, 2, float("nan"))
    assert [score for score, _ in rea.searcher.population] == [0.4]


def test_same_seed_same_sequence():
    def sequence(seed):
        rea = REA(SPACE, metric="loss", max_t=5, seed=seed, population_size=4, sample_size=2)
        out = []
        for trial in range(30):
            out.append(rea.suggest(trial).config)
            if trial >= 3:
                complete(rea, trial - 3, float(np.sin(trial)))
        return out

    assert sequence(3) == sequence(3) and sequence(3) != sequence(4)


def test_a_finite_space_ends_with_no_more_work_and_no_repeats():
    from searchspace import SearchSpace as Space

    space = Space({"a": Grid((1, 2, 3)), "b": Categorical(("x", "y")), "c": Ordinal(("s", "m"))})  # 12 configurations
    rea = REA(space, metric="loss", max_t=5, seed=0, population_size=3, sample_size=2, points_to_evaluate=[])
    proposed = []
    for trial in range(40):
        suggestion = rea.suggest(trial)
        if suggestion is None:
            break
        proposed.append(tuple(suggestion.config.values()))
        complete(rea, trial, float(np.cos(trial)))
    assert len(proposed) == 12 == len(set(proposed)) and rea.suggest(99) is None


def test_with_duplicates_mutations_may_repeat_configurations():
    space = SearchSpace({"a": Grid((1, 2)), "b": Categorical(("x", "y"))})  # 4 configurations
    rea = REA(space, metric="loss", max_t=5, seed=0, population_size=2, sample_size=2, points_to_evaluate=[],
              allow_duplicates=True)  # fmt: skip
    proposed = []
    for trial in range(30):
        proposed.append(tuple(rea.suggest(trial).config.values()))
        complete(rea, trial, float(trial % 3))
    assert len(set(proposed)) <= 4 < len(proposed)

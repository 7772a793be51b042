"""Conditional hyperparameters: activity, sampling, validation, encoding, size and JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from searchspace import (
    INACTIVE_COORDINATE,
    Categorical,
    Condition,
    Float,
    Grid,
    Integer,
    SearchSpace,
    SearchSpaceError,
)

DOMAINS = {
    "booster": Categorical(("gblinear", "gbtree", "dart")),
    "lambda": Float(1e-3, 1e3, log=True),
    "eta": Float(1e-3, 1.0, log=True),
    "max_depth": Integer(1, 15),
    "rate_drop": Float(0.0, 1.0),
}
CONDITIONS = [
    Condition("eta", "booster", ("gbtree", "dart")),
    Condition("max_depth", "booster", ("gbtree", "dart")),
    Condition("rate_drop", "booster", ("dart",)),
]
SPACE = SearchSpace(DOMAINS, CONDITIONS)


def test_activity_follows_the_parent_value():
    config = {"booster": "gblinear", "lambda": 1.0, "eta": None, "max_depth": None, "rate_drop": None}
    assert [SPACE.is_active(name, config) for name in SPACE] == [True, True, False, False, False]
    config.update(booster="dart", eta=0.1, max_depth=3, rate_drop=0.5)
    assert all(SPACE.is_active(name, config) for name in SPACE)
    assert not SPACE.is_active("rate_drop", {**config, "booster": "gbtree"})


def test_nested_conditions_deactivate_grandchildren():
    space = SearchSpace(
        {"a": Categorical(("x", "y")), "b": Categorical(("u", "v")), "c": Float(0.0, 1.0)},
        [Condition("b", "a", ("y",)), Condition("c", "b", ("v",))],
    )
    # c's own condition would hold, but its parent b is inactive
    assert not space.is_active("c", {"a": "x", "b": "v", "c": 0.5})
    for config in space.sample_many(np.random.default_rng(0), 200):
        space.validate(config)
        if config["a"] == "x":
            assert config["b"] is None and config["c"] is None


def test_several_conditions_on_one_child_must_all_hold():
    space = SearchSpace(
        {"learner": Categorical(("svm", "tree")), "kernel": Categorical(("linear", "radial")), "gamma": Float(0.1, 1)},
        [Condition("kernel", "learner", ("svm",)), Condition("gamma", "kernel", ("radial",)),
         Condition("gamma", "learner", ("svm",))],
    )
    assert space.is_active("gamma", {"learner": "svm", "kernel": "radial", "gamma": 0.5})
    assert not space.is_active("gamma", {"learner": "svm", "kernel": "linear", "gamma": None})
    assert not space.is_active("gamma", {"learner": "tree", "kernel": None, "gamma": None})


def test_samples_set_inactive_hyperparameters_to_none_and_validate():
    configs = SPACE.sample_many(np.random.default_rng(1), 300)
    for config in configs:
        SPACE.validate(config)
        for name in SPACE:
            assert (config[name] is None) == (not SPACE.is_active(name, config))
    assert {config["booster"] for config in configs} == {"gblinear", "gbtree", "dart"}


def test_active_columns_are_drawn_as_without_conditions():
    """The generator is consumed column by column exactly as in the unconditional space."""
    plain = SearchSpace(DOMAINS).sample_many(np.random.default_rng(7), 50)
    conditional = SPACE.sample_many(np.random.default_rng(7), 50)
    for a, b in zip(plain, conditional):
        assert all(b[name] is None or b[name] == a[name] for name in DOMAINS)


def test_validate_requires_none_exactly_for_inactive_hyperparameters():
    good = {"booster": "gbtree", "lambda": 1.0, "eta": 0.1, "max_depth": 3, "rate_drop": None}
    SPACE.validate(good)
    with pytest.raises(SearchSpaceError, match=r"'rate_drop' is inactive \(booster == 'dart' does not hold"):
        SPACE.validate({**good, "rate_drop": 0.2})
    with pytest.raises(SearchSpaceError, match=r"'eta' is active \(booster='gbtree'\) and needs a value"):
        SPACE.validate({**good, "eta": None})
    with pytest.raises(SearchSpaceError, match="'lambda' is outside its domain"):
        SPACE.validate({**good, "lambda": None})
    with pytest.raises(SearchSpaceError, match="missing hyperparameter 'rate_drop'"):
        SPACE.validate({name: value for name, value in good.items() if name != "rate_drop"})


def test_encode_maps_inactive_to_a_fixed_coordinate_and_decode_restores_none():
    config = {"booster": "gblinear", "lambda": 1.0, "eta": None, "max_depth": None, "rate_drop": None}
    point = SPACE.encode(config)
    assert point.shape == (5,)
    assert point[2:].tolist() == [INACTIVE_COORDINATE] * 3
    decoded = SPACE.decode(point)
    assert decoded["booster"] == "gblinear" and decoded["eta"] is None and decoded["rate_drop"] is None
    assert decoded["lambda"] == pytest.approx(1.0)
    for config in SPACE.sample_many(np.random.default_rng(2), 100):
        again = SPACE.decode(SPACE.encode(config))
        assert [again[name] is None for name in SPACE] == [config[name] is None for name in SPACE]
        assert again["booster"] == config["booster"]


def test_midpoint_respects_conditions():
    middle = SPACE.midpoint()  # booster decodes to the middle choice, gbtree
    assert middle["booster"] == "gbtree" and middle["rate_drop"] is None and middle["eta"] is not None
    SPACE.validate(middle)


def test_json_round_trip_and_the_plain_format_is_unchanged():
    data = json.loads(json.dumps(SPACE.to_json()))
    assert set(data) == {"hyperparameters", "conditions"}
    assert SearchSpace.from_json(data) == SPACE
    assert SearchSpace.from_json(json.dumps(data)).conditions == SPACE.conditions
    plain = SearchSpace(DOMAINS)
    assert plain.to_json() == {name: domain.to_json() for name, domain in DOMAINS.items()}
    assert SearchSpace.from_json(plain.to_json()) == plain
    assert plain != SPACE and hash(plain) == hash(SearchSpace(DOMAINS))


def test_size_counts_configurations_that_differ_in_active_values():
    space = SearchSpace(
        {"a": Categorical(("x", "y")), "b": Grid((1, 2, 3)), "c": Categorical(("p", "q")), "d": Integer(0, 4)},
        [Condition("b", "a", ("y",)), Condition("c", "b", (1, 2))],
    )
    # a=x: b, c inactive -> 1; a=y: b in {1, 2} -> 2 * 2, b=3 -> 1; times d (5 values)
    assert space.size == (1 + 2 * 2 + 1) * 5
    assert SPACE.size is None


def test_active_mask_is_rowwise_and_treats_empty_cells_as_inactive_parents():
    masks = SPACE.active_mask({"booster": ["dart", "gblinear", None], "lambda": [1.0, 1.0, 1.0]})
    assert masks["rate_drop"].tolist() == [True, False, False]
    assert masks["eta"].tolist() == [True, False, False]
    assert masks["lambda"].tolist() == [True, True, True]


@pytest.mark.parametrize(
    "conditions, message",
    [
        ([Condition("eta", "nope", ("dart",))], "unknown parent 'nope'"),
        ([Condition("eta", "booster", ("xgb",))], r"value\(s\) \['xgb'\] outside the domain"),
        ([Condition("eta", "max_depth", (3,)), Condition("max_depth", "eta", (0.1,))], "cycle"),
    ],
)
def test_bad_conditions_are_refused(conditions, message):
    with pytest.raises(SearchSpaceError, match=message):
        SearchSpace(DOMAINS, conditions)

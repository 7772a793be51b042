"""Search space: validation, sampling, encoding round trips, JSON."""

from __future__ import annotations

import numpy as np
import pytest

from searchspace import Categorical, Float, Grid, Integer, Ordinal, SearchSpace, SearchSpaceError

SPACE = SearchSpace(
    {
        "lr": Float(1e-4, 1e-1, log=True),
        "momentum": Float(0.0, 0.99),
        "layers": Integer(1, 4),
        "units": Integer(16, 512, log=True),
        "act": Categorical(("relu", "tanh")),
        "size": Ordinal(("small", "medium", "large")),
        "batch": Grid((16, 32, 64)),
    }
)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Categorical(()), "at least one choice"),
        (lambda: Float(1.0, 0.0), "low <= high"),
        (lambda: Integer(5, 1), "low <= high"),
        (lambda: Float(0.0, 1.0, log=True), "low > 0"),
        (lambda: Integer(0, 10, log=True), "low > 0"),
        (lambda: Grid((3, 1, 2)), "increasing"),
        (lambda: Float(0.0, float("nan")), "finite"),
    ],
)
def test_invalid_domains_raise_clear_errors(make, message):
    with pytest.raises(SearchSpaceError, match=message):
        make()


def test_unknown_hyperparameter_name_lists_the_known_ones():
    with pytest.raises(SearchSpaceError, match="unknown hyperparameter 'lrr'; available: lr, momentum"):
        SPACE["lrr"]
    config = SPACE.sample(np.random.default_rng(0))
    config["lrr"] = 1
    with pytest.raises(SearchSpaceError, match="unknown hyperparameter 'lrr'"):
        SPACE.validate(config)


def test_out_of_domain_and_missing_values_are_named():
    config = SPACE.sample(np.random.default_rng(0))
    with pytest.raises(SearchSpaceError, match="'batch'"):
        SPACE.validate({**config, "batch": 48})
    del config["act"]
    with pytest.raises(SearchSpaceError, match="missing hyperparameter 'act'"):
        SPACE.validate(config)


def test_samples_are_valid_and_reproducible():
    a = SPACE.sample_many(np.random.default_rng(3), 500)
    b = SPACE.sample_many(np.random.default_rng(3), 500)
    assert a == b
    for config in a:
        SPACE.validate(config)
    lrs = np.array([c["lr"] for c in a])
    assert np.mean(lrs < 1e-2) == pytest.approx(2 / 3, abs=0.07)  # log-uniform: 2 of 3 decades
    assert {c["act"] for c in a} == {"relu", "tanh"}


def test_encoding_round_trip():
    for config in SPACE.sample_many(np.random.default_rng(1), 200):
        point = SPACE.encode(config)
        assert point.shape == (len(SPACE),) and np.all((0 <= point) & (point <= 1))
        decoded = SPACE.decode(point)
        for name, value in config.items():
            if isinstance(value, float):
                assert decoded[name] == pytest.approx(value, rel=1e-9)
            else:
                assert decoded[name] == value


def test_json_round_trip_and_size():
    assert SearchSpace.from_json(SPACE.to_json()) == SPACE
    finite = SearchSpace({"a": Grid((1, 2, 3)), "b": Categorical(("x", "y")), "c": Integer(0, 4)})
    assert finite.size == 30 and SPACE.size is None
    assert finite.midpoint() == {"a": 2, "b": "y", "c": 2}

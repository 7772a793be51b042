"""Mapping behaviour of SearchSpace that plain dict users rely on."""

from __future__ import annotations

import pytest

from searchspace import Categorical, Float, SearchSpace, SearchSpaceError


def test_membership_and_lookup():
    space = SearchSpace({"lr": Float(1e-4, 1e-1, log=True), "act": Categorical(("relu", "tanh"))})
    assert "lr" in space and "act" in space
    assert "momentum" not in space and 3 not in space
    assert space.get("momentum") is None  # Mapping.get relies on KeyError semantics
    with pytest.raises(SearchSpaceError, match="unknown hyperparameter 'momentum'; available: lr, act"):
        space["momentum"]

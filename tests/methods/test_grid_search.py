"""GridSearch: grid values per domain, the full product without repeats, seeded order, exhaustion."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from methods.grid_search import CandidateSet, GridSearch, GridSearcher, grid_values
from searchspace import Categorical, Condition, Float, Grid, Integer, Ordinal, SearchSpace


def drain(searcher, limit=100_000):
    out = []
    while len(out) < limit and (config := searcher.suggest(len(out))) is not None:
        out.append(config)
    return out


def test_grid_values_per_domain():
    space = SearchSpace(
        {
            "x": Float(0.0, 1.0),
            "lr": Float(1e-4, 1.0, log=True),
            "n": Integer(1, 10),
            "few": Integer(1, 3),
            "width": Integer(1, 100, log=True),
            "act": Categorical(("relu", "tanh", "gelu")),
            "size": Ordinal(("s", "m", "l", "xl")),
            "bs": Grid((16, 32, 64, 128, 256, 512, 1024)),
        }
    )
    values = grid_values(space)
    np.testing.assert_allclose(values["x"], [0.1, 0.3, 0.5, 0.7, 0.9])  # centres of 5 equal cells
    np.testing.assert_allclose(np.log10(values["lr"]), [-3.6, -2.8, -2.0, -1.2, -0.4])  # log-spaced centres
    assert values["n"] == (2, 4, 6, 8, 10)
    assert values["few"] == (1, 2, 3)  # at most the integer range
    assert values["width"] == (1, 2, 7, 20, 59)  # log-spaced, rounded
    assert all(isinstance(v, int) for v in values["n"] + values["width"])
    assert values["act"] == ("relu", "tanh", "gelu") and values["size"] == ("s", "m", "l", "xl")
    assert values["bs"] == (16, 32, 64, 128, 256, 512, 1024)  # finite domains: all values, num_samples ignored
    assert grid_values(space, {"x": 3, "bs": 2})["x"] == pytest.approx((1 / 6, 0.5, 5 / 6))
    assert grid_values(SearchSpace({"k": Integer(1, 4, log=True)}), 4)["k"] == (1, 2, 3, 4)
    assert grid_values(SearchSpace({"k": Integer(1, 4, log=True)}), 9)["k"] == (1, 2, 3, 4)  # capped at the range
    # log cells of [0.5, 5.5]: centres 0.67, 1.23, 2.24, 4.08, rounded and de-duplicated
    assert grid_values(SearchSpace({"k": Integer(1, 5, log=True)}), 4)["k"] == (1, 2, 4)
    assert grid_values(SearchSpace({"c": Float(2.0, 2.0)}))["c"] == (2.0,)


def test_bad_num_samples_are_rejected():
    space = SearchSpace({"x": Float(0.0, 1.0)})
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        GridSearcher(space, num_samples={"y": 3})
    with pytest.raises(ValueError, match="num_samples"):
        GridSearcher(space, num_samples=0)


def test_the_full_product_once_each_then_none():
    space = SearchSpace({"x": Float(0.0, 1.0), "n": Integer(1, 3), "act": Categorical(("a", "b"))})
    searcher = GridSearcher(space, seed=0, num_samples={"x": 4}, points_to_evaluate=[])
    proposed = drain(searcher)
    keys = [tuple(c.values()) for c in proposed]
    expected = set(itertools.product(grid_values(space, {"x": 4})["x"], (1, 2, 3), ("a", "b")))
    assert len(keys) == len(set(keys)) == 24 and set(keys) == expected
    assert searcher.suggest(len(proposed)) is None and searcher.suggest(len(proposed) + 1) is None


def test_order_is_shuffled_by_the_seed_only():
    space = SearchSpace({"a": Grid(tuple(range(6))), "b": Categorical(("x", "y", "z"))})

    def order(seed, **kwargs):
        return [tuple(c.values()) for c in drain(GridSearcher(space, seed=seed, points_to_evaluate=[], **kwargs))]

    assert order(1) == order(1)
    assert order(1) != order(2) and sorted(order(1)) == sorted(order(2))
    assert order(1, shuffle=False) == list(itertools.product(range(6), ("x", "y", "z")))


def test_points_to_evaluate_come_first_and_are_not_repeated():
    space = SearchSpace({"x": Float(0.0, 1.0), "act": Categorical(("a", "b", "c"))})
    default = drain(GridSearcher(space, seed=0))
    assert default[0] == {"x": 0.5, "act": "b"} == space.midpoint()  # the midpoint first, a grid point (5 odd)
    assert len(default) == 15 and len({tuple(c.values()) for c in default}) == 15
    given = drain(GridSearcher(space, seed=0, points_to_evaluate=[{"x": 0.3, "act": "c"}, {"x": 0.42}]))
    assert given[:2] == [{"x": 0.3, "act": "c"}, {"x": 0.42, "act": "b"}]  # partial: completed with the midpoint
    assert len(given) == 16  # 0.42 is off the grid; (0.3, "c") is on it and is not repeated


def test_conditional_space_has_no_duplicate_configurations():
    space = SearchSpace(
        {"booster": Categorical(("gbtree", "dart")), "rate_drop": Float(0.0, 1.0), "depth": Integer(1, 3)},
        [Condition("rate_drop", "booster", ("dart",))],
    )
    proposed = drain(GridSearcher(space, seed=3, points_to_evaluate=[]))
    keys = [tuple(c.values()) for c in proposed]
    assert len(keys) == len(set(keys)) == 3 + 5 * 3  # gbtree: depth only; dart: rate_drop x depth
    for config in proposed:
        space.validate(config)
        assert (config["rate_drop"] is None) == (config["booster"] == "gbtree")


def test_restricted_grid_maps_each_point_to_the_nearest_unused_candidate():
    space = SearchSpace({"x": Float(0.0, 1.0), "act": Categorical(("a", "b"))})
    table = [{"x": x, "act": act} for x in (0.0, 0.12, 0.5, 0.55, 0.93) for act in ("a", "b")]
    searcher = GridSearcher(space, seed=0, num_samples=2, restrict_configurations=table)
    proposed = drain(searcher)
    assert len(proposed) == 4  # 2 x 2 grid points, each a different candidate
    assert all(c in table for c in proposed)
    # grid points x=0.25 and x=0.75 (x act): nearest candidates 0.12 (0.13 away) and 0.93 (0.18 < 0.2 for 0.55)
    assert sorted((c["x"], c["act"]) for c in proposed) == [(0.12, "a"), (0.12, "b"), (0.93, "a"), (0.93, "b")]
    many = drain(GridSearcher(space, seed=0, num_samples=20, restrict_configurations=table))
    assert len(many) == len(table)  # the candidates run out before the grid
    with pytest.raises(ValueError, match="not one of the restricted"):
        GridSearcher(space, restrict_configurations=table, points_to_evaluate=[{"x": 0.3, "act": "a"}])


def test_candidate_distance_mixes_encoded_and_categorical_differences():
    space = SearchSpace({"x": Float(0.0, 10.0), "act": Categorical(("a", "b", "c"))})
    candidates = CandidateSet(space, [{"x": 0.0, "act": "a"}, {"x": 5.0, "act": "c"}, {"x": 9.0, "act": "a"}])
    np.testing.assert_allclose(candidates.distances({"x": 1.0, "act": "c"}), [0.01 + 1, 0.16, 0.64 + 1])
    assert candidates.nearest({"x": 1.0, "act": "c"}) == 1
    assert candidates.nearest({"x": 5.0, "act": "c"}, excluded=np.array([False, True, False])) == 2  # 1.16 < 1.25


def test_huge_grids_are_drawn_without_replacement_on_demand():
    space = SearchSpace({f"x{i}": Float(0.0, 1.0) for i in range(12)})  # 5**12 = 244 million points
    searcher = GridSearcher(space, seed=0, points_to_evaluate=[])
    assert searcher.size == 5**12
    proposed = [tuple(c.values()) for c in drain(searcher, limit=2000)]
    assert len(set(proposed)) == 2000
    assert set(itertools.chain(*proposed)) <= set(grid_values(space)["x0"])


def test_scheduler_runs_every_trial_to_max_t_and_stops_when_exhausted():
    space = SearchSpace({"a": Grid((1, 2, 3)), "b": Categorical(("x", "y"))})
    method = GridSearch(space, metric="loss", mode="max", max_t=9, seed=0)
    suggestions = [method.suggest(i) for i in range(7)]
    assert suggestions[-1] is None and all(s is not None for s in suggestions[:6])
    assert all(s.report_at == 9 and s.checkpoint_from is None for s in suggestions[:6])
    assert method.on_report(0, 3, {"loss": 1.0}).report_at == 9
    assert "grid of 6 points" in method.schedule_description()
    assert math.prod(len(v) for v in method.searcher.values.values()) == 6

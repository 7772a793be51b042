"""The KDE searcher (TPE as BOHB defines it): densities, the good/bad split, the level BOHB fits at, proposals."""

import math

import numpy as np
import pytest

from methods import make_method
from methods.kde import KDESearcher, ProductKDE, log_density_ratio
from searchspace import Categorical, Float, Integer, SearchSpace


def gaussian_kde_by_hand(data, bandwidth, x):
    return sum(
        math.exp(-0.5 * ((x - xi) / bandwidth) ** 2) / (bandwidth * math.sqrt(2 * math.pi)) for xi in data
    ) / len(data)


def test_normal_reference_bandwidth_and_density_in_one_dimension():
    data = [0.1, 0.2, 0.4, 0.9]
    kde = ProductKDE.fit(np.array(data)[:, None], np.array([0]), min_bandwidth=1e-3)
    mean = sum(data) / 4
    std = math.sqrt(sum((x - mean) ** 2 for x in data) / 4)
    bandwidth = 1.06 * std * 4 ** (-1 / 5)
    assert kde.bandwidths[0] == pytest.approx(bandwidth, rel=1e-12)
    for x in (0.0, 0.15, 0.5, 0.95):
        assert math.exp(kde.log_pdf(np.array([[x]]))[0]) == pytest.approx(
            gaussian_kde_by_hand(data, bandwidth, x), rel=1e-10
        )


def test_minimum_bandwidth_applies_to_identical_points():
    kde = ProductKDE.fit(np.full((5, 1), 0.3), np.array([0]), min_bandwidth=1e-3)
    assert kde.bandwidths[0] == 1e-3


def test_categorical_kernel_is_aitchison_aitken_and_capped_where_it_is_flat():
    indices = np.array([[0.0], [0.0], [0.0], [0.0], [0.0], [0.0], [1.0], [2.0]])
    kde = ProductKDE.fit(indices, np.array([3]), min_bandwidth=1e-3)
    lam = 1.06 * indices.std() * 8 ** (-1 / 5)
    assert kde.bandwidths[0] == pytest.approx(lam)
    expected = [(6 * (1 - lam) + 2 * lam / 2) / 8, (1 * (1 - lam) + 7 * lam / 2) / 8]
    assert np.exp(kde.log_pdf(np.array([[0.0], [1.0]]))) == pytest.approx(expected)
    # the three probabilities sum to one
    assert np.exp(kde.log_pdf(np.array([[0.0], [1.0], [2.0]]))).sum() == pytest.approx(1.0)
    spread = ProductKDE.fit(np.array([[0.0], [1.0], [2.0], [0.0], [2.0]]), np.array([3]), min_bandwidth=1e-3)
    assert spread.bandwidths[0] == pytest.approx(2 / 3)  # uncapped it would exceed (c - 1) / c


def test_density_ratio_prefers_the_region_of_the_good_points():
    good = ProductKDE.fit(np.array([[0.1], [0.15], [0.2]]), np.array([0]), 1e-3)
    bad = ProductKDE.fit(np.array([[0.6], [0.7], [0.8], [0.9]]), np.array([0]), 1e-3)
    points = np.linspace(0.0, 1.0, 101)[:, None]
    ratio = log_density_ratio(good, bad, points)
    by_hand = [
        math.log(max(gaussian_kde_by_hand([0.1, 0.15, 0.2], good.bandwidths[0], x), 1e-32))
        - math.log(max(gaussian_kde_by_hand([0.6, 0.7, 0.8, 0.9], bad.bandwidths[0], x), 1e-32))
        for x in points[:, 0]
    ]
    assert ratio == pytest.approx(by_hand, rel=1e-9, abs=1e-9)
    assert points[np.argmax(ratio), 0] < 0.2
    assert ratio[10] > 0 > ratio[80]


def test_samples_from_l_stay_in_the_unit_interval_and_near_the_good_points():
    kde = ProductKDE.fit(np.array([[0.02, 1.0], [0.05, 1.0], [0.03, 1.0]]), np.array([0, 3]), 1e-3)
    samples = kde.sample_around(np.random.default_rng(0), 2000, bandwidth_factor=3.0)
    assert samples[:, 0].min() >= 0.0 and samples[:, 0].max() <= 1.0
    assert np.median(samples[:, 0]) < 0.1
    # the categorical coordinate is kept with probability 1 - lambda, else uniform over the three choices
    kept = np.mean(samples[:, 1] == 1.0)
    assert kept == pytest.approx(1 - kde.bandwidths[1] + kde.bandwidths[1] / 3, abs=0.04)


SPACE = SearchSpace({"x": Float(0.0, 1.0), "n": Integer(1, 8), "c": Categorical(("a", "b", "c"))})


def feed(searcher, results):
    """``results``: (trial, config, level, loss)."""
    for trial_id, config, level, loss in results:
        searcher.on_pending(trial_id, config, level)
        searcher.on_result(trial_id, config, level, loss)


def test_good_part_is_the_best_fifteen_percent_but_at_least_n_min():
    searcher = KDESearcher(SPACE, seed=0)
    searcher.configure(max_t=1, rung_levels=())
    assert searcher.num_min_data_points == 4  # the paper's d + 1
    rng = np.random.default_rng(1)
    configs = SPACE.sample_many(rng, 40)
    feed(searcher, [(i, c, 1, float(i)) for i, c in enumerate(configs)])
    good, bad = searcher.fit_densities(1)
    assert len(good.data) == 6 and len(bad.data) == 34  # floor(0.15 * 40) = 6 >= 4
    np.testing.assert_array_equal(good.data, searcher._encode(configs[:6]))
    few = KDESearcher(SPACE, seed=0)
    few.configure(max_t=1, rung_levels=())
    feed(few, [(i, c, 1, float(i)) for i, c in enumerate(configs[:10])])
    good, bad = few.fit_densities(1)
    assert len(good.data) == 4 and len(bad.data) == 6  # max(N_min, floor(1.5))


def test_bohb_fits_at_the_largest_level_with_n_min_plus_two_results():
    searcher = make_method("BOHB", space=SPACE, metric="loss", max_t=27, seed=0).searcher
    assert searcher.levels == [1, 3, 9, 27]
    rng = np.random.default_rng(2)
    configs = SPACE.sample_many(rng, 20)
    results = [(i, c, 1, 1.0 + i) for i, c in enumerate(configs)]
    results += [(i, configs[i], 3, 0.5 + i) for i in range(6)]  # N_min + 2 = 6 at level 3
    results += [(i, configs[i], 9, 0.2 + i) for i in range(5)]  # one short at level 9
    feed(searcher, results)
    assert searcher.model_level_for(searcher.level_counts()) == 3
    feed(searcher, [(5, configs[5], 9, 5.2)])
    assert searcher.model_level_for(searcher.level_counts()) == 9
    assert KDESearcher(SPACE).model_level_for({1: 5, 3: 2}) is None


def test_random_until_a_level_has_enough_results_then_a_third_at_random():
    searcher = KDESearcher(SPACE, seed=3, points_to_evaluate=[])
    searcher.configure(max_t=1, rung_levels=())
    rng = np.random.default_rng(3)
    trial = 0
    for _ in range(5):  # < N_min + 2 results: random
        config = searcher.suggest(trial)
        feed(searcher, [(trial, config, 1, float(rng.random()))])
        trial += 1
    assert searcher.num_model_suggestions == 0
    for _ in range(300):
        config = searcher.suggest(trial)
        feed(searcher, [(trial, config, 1, float(rng.random()))])
        trial += 1
    assert searcher.num_model_suggestions / 300 == pytest.approx(2 / 3, abs=0.07)


def bowl(config):
    return (config["x"] - 0.8) ** 2 + 0.02 * (config["n"] - 6) ** 2 + (0.0 if config["c"] == "b" else 0.3)


def best_after(searcher, trials):
    searcher.configure(max_t=1, rung_levels=())
    best = math.inf
    for trial in range(trials):
        config = searcher.suggest(trial)
        loss = bowl(config)
        feed(searcher, [(trial, config, 1, loss)])
        best = min(best, loss)
    return best


def test_kde_beats_random_search_on_a_six_dimensional_bowl():
    # (in two or three dimensions 60 random points cover the space well and BOHB's KDE, which concentrates fast
    # on its best points, does not beat them; the advantage shows with dimension)
    from methods.searchers import RandomSearcher

    space = SearchSpace({f"x{i}": Float(0.0, 1.0) for i in range(6)})

    def best(searcher):
        searcher.configure(max_t=1, rung_levels=())
        losses = []
        for trial in range(60):
            config = searcher.suggest(trial)
            losses.append(sum((value - 0.9) ** 2 for value in config.values()))
            feed(searcher, [(trial, config, 1, losses[-1])])
        return min(losses)

    kde = [best(KDESearcher(space, seed=seed)) for seed in range(10)]
    random = [best(RandomSearcher(space, seed=seed)) for seed in range(10)]
    assert sum(k < r for k, r in zip(kde, random)) >= 9


def test_restricted_candidates_every_remaining_one_scored_and_none_twice():
    candidates = SPACE.sample_many(np.random.default_rng(4), 50)
    searcher = KDESearcher(SPACE, seed=0, restrict_configurations=candidates, random_fraction=0.0)
    searcher.configure(max_t=1, rung_levels=())
    keys = {tuple(c.values()) for c in candidates}
    proposed = []
    for trial in range(50):
        if trial == 20:  # the model's choice is the remaining candidate with the largest l/g
            good, bad = searcher.fit_densities(1)
            remaining, inputs = searcher.candidate_pool(0)
            assert len(remaining) == 30
            expected = remaining[int(np.argmax(log_density_ratio(good, bad, inputs)))]
        config = searcher.suggest(trial)
        if trial == 20:
            assert config == expected
        assert tuple(config.values()) in keys
        proposed.append(tuple(config.values()))
        feed(searcher, [(trial, config, 1, bowl(config))])
    assert len(set(proposed)) == 50
    assert searcher.suggest(50) is None  # every candidate proposed


def test_same_seed_same_proposals_and_different_seeds_differ():
    def proposals(seed):
        searcher = KDESearcher(SPACE, seed=seed)
        searcher.configure(max_t=1, rung_levels=())
        out = []
        for trial in range(30):
            config = searcher.suggest(trial)
            out.append(config)
            feed(searcher, [(trial, config, 1, bowl(config))])
        return out

    assert proposals(5) == proposals(5)
    assert proposals(5) != proposals(6)


@pytest.mark.parametrize(
    "options",
    [
        {"top_n_percent": 0},
        {"top_n_percent": 100},
        {"num_min_data_points": 0},
        {"min_bandwidth": 0.0},
        {"num_candidates": 0},
        {"bandwidth_factor": -1.0},
        {"random_fraction": 1.5},
    ],
)
def test_bad_options_are_refused_in_one_line(options):
    with pytest.raises(ValueError, match=next(iter(options))):
        KDESearcher(SPACE, **options)

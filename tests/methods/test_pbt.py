"""PBT: population slots, the bottom quantile exploits (stop + copy a top trial's checkpoint), explore."""

from __future__ import annotations

import math

import numpy as np
import pytest

from methods import Action
from methods.pbt import PBT, explore
from searchspace import Categorical, Condition, Float, Grid, Integer, Ordinal, SearchSpace

SPACE = SearchSpace(
    {
        "lr": Float(1e-4, 1e-1, log=True),
        "units": Integer(1, 100),
        "act": Categorical(("relu", "tanh", "gelu")),
        "size": Ordinal(("s", "m", "l")),
        "bs": Grid((16, 32, 64)),
    }
)
CONFIG = {"lr": 1e-2, "units": 10, "act": "tanh", "size": "m", "bs": 32}


class ScriptedRng:
    """Stands in for a numpy Generator: ``random`` and ``integers`` replay given values."""

    def __init__(self, randoms=(), integers=()):
        self.randoms, self.ints = list(randoms), list(integers)

    def random(self):
        return self.randoms.pop(0)

    def integers(self, low, high=None, size=None):
        assert size is None
        return self.ints.pop(0)

    def exhausted(self):
        return not (self.randoms or self.ints)


def report(pbt, trial, epoch, value):
    return pbt.on_report(trial, epoch, {"loss": value})


def test_explore_perturbs_by_the_documented_factors():
    # lr: keep (0.9), up (0.1) -> x1.2; units: keep, down (0.7) -> x0.8; act: always resampled (0.9 -> 3rd);
    # size: keep, up -> next value; bs: keep, down -> previous value
    rng = ScriptedRng(randoms=[0.9, 0.1, 0.9, 0.7, 0.9, 0.9, 0.1, 0.9, 0.6])
    new = explore(SPACE, CONFIG, rng, resample_probability=0.25)
    assert rng.exhausted()
    assert new == {"lr": pytest.approx(1.2e-2), "units": 8, "act": "gelu", "size": "l", "bs": 16}


def test_explore_resamples_with_the_given_probability_and_clips():
    # lr: resample (0.2 < 0.25) at encoded 0.7 (log scale); units: keep, up: 100 x 1.2 clipped to 100;
    # act: resample (0.1 -> 1st); size "l": keep, up -> stays at the end; bs: resample (0.0) at 0.1 -> 1st
    rng = ScriptedRng(randoms=[0.2, 0.7, 0.9, 0.3, 0.1, 0.9, 0.3, 0.0, 0.1])
    config = {**CONFIG, "units": 100, "size": "l"}
    new = explore(SPACE, config, rng, resample_probability=0.25)
    assert rng.exhausted()
    lr = math.exp(math.log(1e-4) + 0.7 * (math.log(1e-1) - math.log(1e-4)))
    assert new == {"lr": pytest.approx(lr), "units": 100, "act": "relu", "size": "l", "bs": 16}
    rng = ScriptedRng([0.9, 0.9, 0.9, 0.6, 0.1, 0.9, 0.9, 0.9, 0.9])
    low = explore(SPACE, {**CONFIG, "lr": 1e-4, "units": 1}, rng, 0.25)
    assert low["lr"] == 1e-4 and low["units"] == 1  # x0.8 clipped at the lower bounds (0.8 rounds to 1)
    assert isinstance(low["units"], int)


def test_explore_statistics_and_conditions():
    rng = np.random.default_rng(0)
    factors = [explore(SPACE, CONFIG, rng, 0.25)["lr"] / CONFIG["lr"] for _ in range(4000)]
    perturbed = [f for f in factors if np.isclose(f, 1.2) or np.isclose(f, 0.8)]
    assert len(perturbed) / len(factors) == pytest.approx(0.75, abs=0.03)
    assert np.mean([np.isclose(f, 1.2) for f in perturbed]) == pytest.approx(0.5, abs=0.03)
    space = SearchSpace(
        {"booster": Categorical(("gbtree", "dart")), "rate_drop": Float(0.0, 1.0)},
        [Condition("rate_drop", "booster", ("dart",))],
    )
    for _ in range(50):
        space.validate(explore(space, {"booster": "gbtree", "rate_drop": None}, rng, 0.25))
        space.validate(explore(space, {"booster": "dart", "rate_drop": 0.5}, rng, 0.25))


def test_population_slots_and_report_schedule():
    pbt = PBT(SPACE, metric="loss", max_t=10, seed=0, perturbation_interval=4, points_to_evaluate=[])
    starts = [pbt.suggest(i) for i in range(4)]
    assert all(s.report_at == 4 and s.checkpoint_from is None for s in starts)
    assert pbt.suggest(4) is None  # the population (4) is full
    decision = report(pbt, 0, 4, 0.5)  # alone in the ranking: continues
    assert decision.action == Action.CONTINUE and decision.report_at == 8
    assert report(pbt, 0, 8, 0.5).report_at == 10  # capped at max_t
    pbt.on_complete(0, 10, {"loss": 0.4})
    assert pbt.suggest(4).checkpoint_from is None  # a freed slot gets a new random trial
    assert pbt.suggest(5) is None


def test_the_bottom_quantile_copies_a_top_trial_and_explores():
    pbt = PBT(SPACE, metric="loss", max_t=20, seed=0, perturbation_interval=5, points_to_evaluate=[])
    for trial in range(4):
        pbt.suggest(trial)
    assert report(pbt, 0, 5, 0.4).action == Action.CONTINUE
    assert report(pbt, 1, 5, 0.1).action == Action.CONTINUE
    assert report(pbt, 2, 5, 0.3).action == Action.CONTINUE
    assert report(pbt, 3, 5, 0.2).action == Action.CONTINUE  # n=4, k=1: trial 0 is the worst, but not reporting
    assert pbt.quantiles() == ([0], [1])
    assert report(pbt, 2, 10, 0.25).action == Action.CONTINUE
    assert report(pbt, 0, 10, 0.35).action == Action.STOP  # the worst reports: it exploits
    copy = pbt.suggest(4)
    assert copy.checkpoint_from == 1 and copy.report_at == 10  # the only top trial, last reported at 5
    assert pbt.quantiles() == ([2], [1])  # trial 0 left the population; the copy has not reported yet


def test_exploit_suggestion_names_the_source_checkpoint_and_an_explored_config():
    pbt = PBT(SPACE, metric="loss", mode="max", max_t=20, seed=0, perturbation_interval=5, points_to_evaluate=[])
    configs = [pbt.suggest(i).config for i in range(4)]
    # mode max: trial 0 is the best, trial 1 the worst (it reports first, alone, so it is not ranked last yet)
    for trial, value in [(1, 0.1), (3, 0.2), (2, 0.3), (0, 0.4)]:
        assert report(pbt, trial, 5, value).action == Action.CONTINUE
    assert pbt.quantiles() == ([1], [0])
    report(pbt, 0, 10, 0.5)  # the best moves on to epoch 10
    pbt._rng = ScriptedRng(randoms=[0.9, 0.1, 0.9, 0.7, 0.9, 0.9, 0.1, 0.9, 0.6], integers=[0])
    assert report(pbt, 1, 10, 0.15).action == Action.STOP
    copy = pbt.suggest(4)
    assert copy.checkpoint_from == 0 and copy.report_at == 15  # the source's last report (10) + interval
    source = configs[0]
    assert copy.config["lr"] == pytest.approx(min(source["lr"] * 1.2, 0.1))
    assert copy.config["units"] == max(1, round(source["units"] * 0.8))
    assert copy.config["act"] == "gelu"
    assert pbt.suggest(5) is None  # 4 running again: 0, 2, 3 and the copy
    assert pbt.num_exploits == 1 and pbt.state_summary() == {"exploits": 1, "running": 4}


@pytest.mark.parametrize("n, fraction, k", [(2, 0.25, 1), (3, 0.5, 1), (4, 0.25, 1), (5, 0.25, 2), (8, 0.5, 4)])
def test_quantile_size(n, fraction, k):
    pbt = PBT(SPACE, metric="loss", max_t=20, seed=0, population_size=n, quantile_fraction=fraction)
    for trial in range(n):
        pbt.suggest(trial)
        pbt._score[trial] = float(trial)  # trial 0 best
    bottom, top = pbt.quantiles()
    assert top == list(range(k)) and bottom == list(range(n - k, n))


def test_no_exploitation_with_a_zero_fraction_or_a_single_member():
    pbt = PBT(SPACE, metric="loss", max_t=20, seed=0, quantile_fraction=0.0)
    for trial in range(4):
        pbt.suggest(trial)
        assert report(pbt, trial, 2, float(trial)).action == Action.CONTINUE
    alone = PBT(SPACE, metric="loss", max_t=20, seed=0, population_size=1)
    alone.suggest(0)
    assert report(alone, 0, 2, 1.0).action == Action.CONTINUE


def test_defaults_and_validation():
    pbt = PBT(SPACE, metric="loss", max_t=200, seed=0)
    assert (pbt.population_size, pbt.perturbation_interval, pbt.quantile_fraction, pbt.resample_probability) == (
        4,
        20,
        0.25,
        0.25,
    )
    assert PBT(SPACE, metric="loss", max_t=5, seed=0).perturbation_interval == 1
    with pytest.raises(ValueError, match="quantile_fraction"):
        PBT(SPACE, metric="loss", max_t=5, quantile_fraction=0.6)
    with pytest.raises(ValueError, match="resample_probability"):
        PBT(SPACE, metric="loss", max_t=5, resample_probability=1.5)


def test_restricted_exploration_lands_on_a_candidate():
    space = SearchSpace({"lr": Float(1e-3, 1.0, log=True)})
    table = [{"lr": v} for v in (1e-3, 1e-2, 1e-1, 1.0)]
    pbt = PBT(space, metric="loss", max_t=20, seed=0, population_size=2, restrict_configurations=table)
    configs = [pbt.suggest(i).config for i in range(2)]
    assert all(c in table for c in configs)
    report(pbt, 0, 2, 0.1)
    assert report(pbt, 1, 2, 0.9).action == Action.STOP
    assert pbt.suggest(2).config in table

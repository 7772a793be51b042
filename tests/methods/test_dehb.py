"""DEHB: bracket 0 is synchronous successive halving, later slots are evolved (rand/1/bin) new trials.

max_t=9, reduction factor 3, 3 brackets: bracket 0 has 9@1 3@3 1@9, bracket 1 5@3 2@9, bracket 2 3@9;
subpopulations (largest number of slots per level): 9 members at level 1, 5 at 3, 3 at 9.
"""

from __future__ import annotations

import numpy as np
import pytest

from methods import Action
from methods.dehb import DEHB
from searchspace import Categorical, Float, Grid, Integer, SearchSpace
from simulator import StopCriteria, simulate
from tests.conftest import make_table

SPACE = SearchSpace({"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)})


def dehb(space: SearchSpace = SPACE, **kwargs) -> DEHB:
    options = dict(metric="error", mode="min", max_t=9, seed=0)
    options.update(kwargs)
    return DEHB(space, **options)


def run_job(scheduler: DEHB, configs: dict, new_id: int, value) -> tuple[int, int, Action | None]:
    """Ask for a job and run it at once to its level; returns (trial, level, decision)."""
    suggestion = scheduler.suggest(new_id)
    trial = suggestion.trial_id if suggestion.is_resume else new_id
    if not suggestion.is_resume:
        configs[trial] = suggestion.config
    level = suggestion.report_at
    metrics = {"error": value(configs[trial], level)}
    if level == scheduler.max_t:
        scheduler.on_complete(trial, level, metrics)
        return trial, level, None
    return trial, level, scheduler.on_report(trial, level, metrics).action


def first_bracket(scheduler: DEHB, value) -> dict:
    configs: dict = {}
    for _ in range(13):  # 9 starts at 1, 3 resumes to 3, 1 resume to 9
        run_job(scheduler, configs, len(configs), value)
    return configs


def test_population_sizes_and_schedule():
    scheduler = dehb()
    assert scheduler.population_sizes == {1: 9, 3: 5, 9: 3}
    assert dehb(max_t=200).population_sizes == {1: 243, 3: 98, 9: 41, 27: 18, 81: 9, 200: 6}
    text = scheduler.schedule_description()
    assert "9@1  3@3  1@9" in text and "9@1, 5@3, 3@9" in text


def test_first_bracket_is_successive_halving_with_checkpoints():
    scheduler = dehb()
    assert scheduler.pauses_trials
    configs: dict = {}
    jobs = [run_job(scheduler, configs, len(configs), lambda c, r: c["x"] + c["y"] / r) for _ in range(13)]
    assert configs[0] == {"x": 0.5, "y": 0.5}  # points_to_evaluate default: the midpoint first
    assert [level for _, level, _ in jobs] == [1] * 9 + [3] * 3 + [9]
    assert all(action is Action.PAUSE for _, _, action in jobs[:12])
    best3 = sorted(range(9), key=lambda t: configs[t]["x"] + configs[t]["y"])[:3]
    assert [trial for trial, _, _ in jobs[9:12]] == best3  # resumed, not restarted
    assert len(configs) == 9
    # bracket 1: new trials (evolved), stopped at their level, never resumed
    for _ in range(5):
        new_id = len(configs)
        trial, level, action = run_job(scheduler, configs, new_id, lambda c, r: c["x"])
        assert trial == new_id and level == 3 and action is Action.STOP
    summary = scheduler.state_summary()
    assert summary["population_filled"] == {"1": 9, "3": 5, "9": 1}
    assert summary["random_configs"] == 0


@pytest.mark.parametrize("mode", ["min", "max"])
def test_selection_keeps_the_better_of_target_and_offspring(mode):
    sign = 1.0 if mode == "min" else -1.0
    scheduler = dehb(mode=mode)
    configs = first_bracket(scheduler, lambda c, r: sign * (c["x"] + c["y"] + 1 / r))
    before = scheduler.population(3)
    assert [member[0] is None for member in before] == [False, False, False, True, True]
    # bracket 1, rung at level 3: targets are members 3, 4 (empty), 0, 1, 2 (next member, cycling)
    offspring_values = {3: 5.0, 4: 6.0, 0: 1e9, 1: -1e9, 2: None}  # None: exactly the target's value
    order = [3, 4, 0, 1, 2]
    trials = []
    for member in order:
        suggestion = scheduler.suggest(len(configs))
        assert not suggestion.is_resume and suggestion.report_at == 3
        trial = len(configs)
        configs[trial] = suggestion.config
        trials.append(trial)
        target_value = offspring_values[member]
        value = before[member][1] if target_value is None else sign * target_value
        assert scheduler.on_report(trial, 3, {"error": value}).action is Action.STOP
    after = scheduler.population(3)
    assert after[3] == (configs[trials[0]], sign * 5.0, trials[0])  # an empty member takes any offspring
    assert after[4] == (configs[trials[1]], sign * 6.0, trials[1])
    assert after[0] == before[0]  # worse offspring: the target stays
    assert after[1] == (configs[trials[3]], -sign * 1e9, trials[3])  # better offspring replaces it
    assert after[2][2] == trials[4]  # a tie goes to the offspring
    summary = scheduler.state_summary()  # bracket 0 filled 9 + 3 + 1 empty members
    assert (summary["offspring_won"], summary["target_kept"]) == (13 + 4, 1)


def test_failed_offspring_never_enters_the_population():
    scheduler = dehb()
    configs = first_bracket(scheduler, lambda c, r: c["x"])
    before = scheduler.population(3)
    for _ in range(5):
        trial = len(configs)
        configs[trial] = scheduler.suggest(trial).config
        scheduler.on_error(trial, 2)
    assert scheduler.population(3) == before
    assert scheduler.suggest(len(configs)).report_at == 9  # the rung completed with failures: next rung


def test_mutation_and_crossover_stay_in_the_space():
    space = SearchSpace(
        {
            "lr": Float(1e-5, 1.0, log=True),
            "units": Integer(8, 512, log=True),
            "act": Categorical(("relu", "tanh", "gelu")),
            "grid": Grid((0.1, 0.2, 0.4)),
            "x": Float(-3.0, 3.0),
        }
    )
    scheduler = dehb(space, mutation_factor=1.0, seed=3)
    rng = np.random.default_rng(0)
    pool = [rng.choice([0.0, 1.0], size=5) for _ in range(6)]  # corners: F=1 pushes mutants far outside
    resampled = 0
    for _ in range(300):
        mutant = scheduler.mutate(pool)
        assert mutant.shape == (5,) and np.all((mutant >= 0) & (mutant <= 1))
        resampled += np.count_nonzero((mutant > 0) & (mutant < 1))
        target = rng.random(5)
        child = scheduler.crossover(mutant, target)
        from_mutant = child == mutant
        assert from_mutant.any() and np.all(from_mutant | (child == target))
        space.validate(space.decode(child))
    assert resampled > 0  # out-of-bounds coordinates were resampled, not clipped to 0 or 1
    never = dehb(space, crossover_prob=0.0, seed=1)
    always = dehb(space, crossover_prob=1.0, seed=1)
    mutant, target = np.full(5, 0.9), np.full(5, 0.1)
    assert all(np.count_nonzero(never.crossover(mutant, target) == 0.9) == 1 for _ in range(50))
    assert np.array_equal(always.crossover(mutant, target), mutant)


def test_no_duplicates_at_a_level():
    space = SearchSpace({"a": Grid(tuple(range(6))), "b": Grid(tuple(range(6)))})  # 36 configurations
    scheduler = DEHB(space, metric="error", max_t=9, seed=4)
    configs: dict = {}
    per_level: dict[int, list] = {}
    for _ in range(400):
        new_id = len(configs)
        suggestion = scheduler.suggest(new_id)
        if suggestion is None:  # the 36 configurations are used up: no more work
            break
        if suggestion.is_resume:
            trial = suggestion.trial_id
        else:
            trial = new_id
            configs[trial] = suggestion.config
        level = suggestion.report_at
        per_level.setdefault(level, []).append(tuple(configs[trial].values()))
        value = (configs[trial]["a"] - 2) ** 2 + (configs[trial]["b"] - 3) ** 2 + 1 / level
        if level == 9:
            scheduler.on_complete(trial, level, {"error": value})
        else:
            scheduler.on_report(trial, level, {"error": value})
    assert suggestion is None
    for level, proposed in per_level.items():  # started or resumed towards that level: each configuration once
        assert len(set(proposed)) == len(proposed), level
    assert scheduler.state_summary()["duplicate_redraws"] > 0


def test_restrict_configurations_is_not_supported():
    with pytest.raises(ValueError, match="restrict_configurations"):
        dehb(restrict_configurations=[{"x": 0.1, "y": 0.2}])
    with pytest.raises(ValueError, match="mutation_factor"):
        dehb(mutation_factor=0.0)
    with pytest.raises(ValueError, match="crossover_prob"):
        dehb(crossover_prob=1.5)


def table(seed: int = 0, num_configs: int = 300, epochs: int = 27):
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.3, 1.0, size=(num_configs, 1, 1))
    decay = rng.uniform(0.01, 0.2, size=(num_configs, 1, 1))
    metric = start * np.exp(-decay * np.arange(1, epochs + 1)) + rng.normal(0, 0.01, (num_configs, 2, epochs))
    return make_table(metric, rng.uniform(0.5, 2.0, size=(num_configs, 2, epochs)))


def test_simulated_runs_are_deterministic_and_keep_workers_busy():
    blackbox = table()

    def run(seed: int):
        scheduler = DEHB(blackbox.space, metric="error", mode="min", max_t=27, seed=seed)
        return simulate(blackbox, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_wallclock_time=400.0))

    first, again, other = run(7), run(7), run(8)
    frame = first.results_frame()
    assert frame.equals(again.results_frame())
    assert not frame.equals(other.results_frame())
    for _, rows in frame.groupby("worker"):
        ends = rows["time"].to_numpy()
        starts = ends - rows["runtime"].to_numpy()
        np.testing.assert_allclose(starts[1:], ends[:-1], atol=1e-6)  # never idle
    decisions = set(frame["decision"].astype(str))
    assert {"pause", "stop"} <= decisions  # bracket 0 pauses, evolved trials stop


def test_an_exhausted_finite_space_ends_with_no_more_work():
    blackbox = table(num_configs=40, epochs=9)  # 40 configurations: brackets soon find nothing new at a level
    scheduler = DEHB(blackbox.space, metric="error", max_t=9, seed=0)
    result = simulate(blackbox, scheduler, n_workers=4, seed=0, stop=StopCriteria(max_wallclock_time=1e9))
    assert result.stop_reason == "method has no more work"
    frame = result.results_frame()
    for level in (1, 3, 9):  # no configuration was started twice for the same rung level
        started = frame[frame["epoch"] == level].drop_duplicates("trial_id")
        assert started["x"].nunique() <= 40

"""PASHA: the maximum resource grows when the ranking in the top two rungs is unstable, not otherwise.

max_t = 27, reduction factor 3: rungs 1, 3, 9; PASHA starts with the top two rungs 1 and 3 (maximum 3).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from methods import Action
from methods.pasha import _NEXT, _NOISY, PASHA, _noisy, _order_state
from searchspace import Grid, SearchSpace
from simulator import StopCriteria, simulate
from tests.conftest import make_table

SPACE = SearchSpace({"x": Grid(tuple(range(1000)))})
FILLER = 0.9  # epoch-1 value of trials that stay at rung 1 (so that the others are promoted)


def pasha(**kwargs) -> PASHA:
    options = dict(metric="error", mode="min", max_t=27, seed=0)
    options.update(kwargs)
    return PASHA(SPACE, **options)


def drive(scheduler: PASHA, curves: dict[int, list[float]], filler: float = FILLER) -> list[int]:
    """For each curve in turn: start its trial and two fillers, report their first epoch (the fillers'
    ``filler`` values keep them at rung 1 while the trial is promoted), promote the trial and run it to
    the top rung. Returns the curves in the order their trials arrived at the top rung."""
    key_of: dict[int, int | None] = {}
    arrivals = []
    for key in curves:
        batch = []
        for owner in (key, None, None):
            trial = len(key_of)
            suggestion = scheduler.suggest(trial)
            assert not suggestion.is_resume and suggestion.report_at == 1
            key_of[trial] = owner
            batch.append(trial)
        for trial in batch:
            value = curves[key][0] if key_of[trial] is not None else filler
            assert scheduler.on_report(trial, 1, {"error": value}).action is Action.PAUSE
        suggestion = scheduler.suggest(len(key_of))
        assert suggestion.is_resume and key_of[suggestion.trial_id] == key
        trial, epoch = suggestion.trial_id, suggestion.report_at
        while (decision := scheduler.on_report(trial, epoch, {"error": curves[key][epoch - 1]})).action is not (
            Action.PAUSE
        ):
            epoch = decision.report_at
        assert epoch == scheduler._top or scheduler.num_increases
        arrivals.append(key)
    return arrivals


def test_starts_with_the_first_two_rungs_and_keeps_trials_at_the_top():
    scheduler = pasha(epsilon=1.0)
    assert scheduler.levels == [1, 3, 9] and scheduler.current_max_t == 3
    arrivals = drive(scheduler, {0: [0.1, 0.1, 0.1], 1: [0.2, 0.2, 0.2]})
    assert arrivals == [0, 1]  # promoted from rung 1 to 3, then paused there for good
    assert scheduler.current_max_t == 3 and scheduler.num_increases == 0
    assert not scheduler.suggest(100).is_resume  # rung 3 is the current maximum: nobody leaves it


def test_rankings_that_agree_keep_the_maximum():
    # trials 0 and 1 cross twice (epoch 1: 0 better, 2: 1 better, 3: 0 better): a noisy pair, ε = 0.1
    scheduler = pasha()
    drive(scheduler, {0: [0.30, 0.50, 0.30], 1: [0.40, 0.40, 0.40]})
    assert scheduler.epsilon == pytest.approx(0.1)
    assert scheduler.current_max_t == 3  # same order at rungs 1 and 3


def test_a_flip_without_noise_raises_the_maximum():
    # order at rung 1: 0 then 1; at rung 3: 1 then 0; the curves cross once: no noise, ε = 0 < 0.1
    scheduler = pasha()
    drive(scheduler, {0: [0.30, 0.35, 0.50], 1: [0.40, 0.38, 0.36]})
    assert scheduler.epsilon == 0.0
    assert scheduler.current_max_t == 9 and scheduler.increase_reports == [scheduler._num_reports]
    resumed = scheduler.suggest(100)  # the trials paused at 3 may now go on to 9
    assert resumed.is_resume and resumed.report_at == 4


# trials 0 and 1 are a noisy pair (epoch 2 flips their order) with distance |0.10 - v1(3)| at rung 3;
# trials 2 and 3 swap places between rungs 1 and 3 (the largest position gap is 0.19, resp. 0.10)
NOISY_PAIR_AND_A_SWAP = {
    0: [0.10, 0.13, 0.10],
    1: [0.11, 0.12, 0.35],
    2: [0.20, 0.21, 0.30],
    3: [0.30, 0.29, 0.25],
}


def test_a_flip_within_epsilon_keeps_the_maximum():
    scheduler = pasha()
    arrivals = drive(scheduler, NOISY_PAIR_AND_A_SWAP)
    assert arrivals == [0, 1, 2, 3]
    assert scheduler.epsilon == pytest.approx(0.25)  # the single noisy pair: |0.10 - 0.35|
    # top rung order 0, 3, 2, 1 (values at 3) against 0, 1, 2, 3 (values at 1): largest gap |0.30 - 0.11|
    assert scheduler._required == pytest.approx(0.19)
    assert scheduler.current_max_t == 3


def test_a_flip_beyond_epsilon_raises_the_maximum():
    curves = dict(NOISY_PAIR_AND_A_SWAP)
    curves[1] = [0.11, 0.12, 0.15]  # the noisy pair now differs by 0.05 at rung 3: ε = 0.05
    scheduler = pasha()
    drive(scheduler, curves)
    assert scheduler.epsilon == pytest.approx(0.05)
    assert scheduler.current_max_t == 9  # order 0, 1, 3, 2 against 0, 1, 2, 3: gap 0.10 > 0.05


@pytest.mark.parametrize("epsilon, raised", [(0.2, False), (0.18, True)])
def test_fixed_epsilon_reports_at_rung_levels_only(epsilon, raised):
    scheduler = pasha(epsilon=epsilon)
    reports = []
    original = scheduler.on_report

    def spy(trial_id, epoch, metrics):
        reports.append(epoch)
        return original(trial_id, epoch, metrics)

    scheduler.on_report = spy
    drive(scheduler, NOISY_PAIR_AND_A_SWAP)
    assert set(reports) == {1, 3}
    assert scheduler.epsilon == epsilon
    assert (scheduler.current_max_t == 9) is raised  # largest gap 0.19


def test_mode_max_mirrors_mode_min():
    flipped = {trial: [1 - v for v in curve] for trial, curve in NOISY_PAIR_AND_A_SWAP.items()}
    scheduler = pasha(mode="max")
    drive(scheduler, flipped, filler=1 - FILLER)
    assert scheduler.epsilon == pytest.approx(0.25)
    assert scheduler._required == pytest.approx(0.19)
    assert scheduler.current_max_t == 3
    curves = dict(flipped)
    curves[1] = [0.89, 0.88, 0.85]
    scheduler = pasha(mode="max")
    drive(scheduler, curves, filler=1 - FILLER)
    assert scheduler.epsilon == pytest.approx(0.05) and scheduler.current_max_t == 9


def test_too_few_rungs_is_plain_promotion_asha():
    scheduler = PASHA(SPACE, metric="error", max_t=3, seed=0)  # a single rung (1) below max_t
    assert scheduler.current_max_t == 3 and not scheduler.tracking
    assert scheduler.suggest(0).report_at == 1
    assert scheduler.on_report(0, 1, {"error": 0.5}).action is Action.PAUSE


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ranking_criterion": "hard"}, "ranking_criterion"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"noise_pairs": "x"}, "noise_pairs"),
    ],
)
def test_bad_options_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pasha(**kwargs)


# References: Syne Tune's rules written out literally (slow, for small runs) ---------------------------
def reference_epsilon(curves: dict[int, list[float]], bottom: int, top: int, previous: float, pairs: str) -> float:
    """Syne Tune's ``_update_epsilon`` (each pair once); ``pairs="top_rung"``: only trials that reached ``top``."""
    highest = max(len(curve) for curve in curves.values())
    top_epoch, bottom_epoch = min(highest, top), min(bottom, highest)
    if pairs == "top_rung":
        bottom_epoch = top - 1 if highest >= top else top
    seen, distances = set(), []
    for epoch in range(top_epoch, bottom_epoch, -1):
        trials = sorted(trial for trial, curve in curves.items() if len(curve) >= epoch)
        for a, b in itertools.combinations(trials, 2):
            if (a, b) in seen:
                continue
            seen.add((a, b))
            p1, p2 = curves[a][epoch - 1], curves[b][epoch - 1]
            condition, opposite, back = p1 > p2, False, False
            for earlier in range(epoch - 1, 0, -1):
                order = curves[a][earlier - 1] > curves[b][earlier - 1]
                if order == (not condition):
                    opposite = True
                if opposite and order == condition:
                    back = True
                    break
            if opposite and back:
                distances.append(abs(p1 - p2))
    return float(np.percentile(distances, 90)) if distances else previous


def reference_inconsistent(top: dict[int, float], previous: dict[int, float], epsilon: float, mode: str) -> bool:
    """Syne Tune's ``_evaluate_soft_ranking``: does a trial leave its group of similar trials?"""
    if len(top) < 2:
        return False
    reverse = mode == "max"
    sorted_top = sorted(top, key=lambda t: top[t], reverse=reverse)
    sorted_previous = sorted(top, key=lambda t: previous[t], reverse=reverse)
    groups = []
    for index, trial in enumerate(sorted_previous):
        value = previous[trial]
        group = {trial}
        for other in sorted_previous[index + 1 :]:
            if (previous[other] < value - epsilon) if reverse else (previous[other] > value + epsilon):
                break
            group.add(other)
        for other in reversed(sorted_previous[:index]):
            if (previous[other] > value + epsilon) if reverse else (previous[other] < value - epsilon):
                break
            group.add(other)
        groups.append(group)
    return any(trial not in groups[index] for index, trial in enumerate(sorted_top))


class CheckedPASHA(PASHA):
    """Checks ε and every increase decision against the references after each report."""

    checked = 0

    def on_report(self, trial_id, epoch, metrics):
        if not self.tracking:
            return super().on_report(trial_id, epoch, metrics)
        bottom, top, before, increases = self._bottom, self._top, self.epsilon, self.num_increases
        self.window_curves = getattr(self, "window_curves", {})
        self.window_curves.setdefault(trial_id, []).append(metrics[self.metric])
        assert len(self.window_curves[trial_id]) == epoch  # a report every epoch
        decision = super().on_report(trial_id, epoch, metrics)
        expected = reference_epsilon(self.window_curves, bottom, top, before, self.noise_pairs)
        assert self.epsilon == pytest.approx(expected, rel=1e-12, abs=1e-15)
        reached = {t: c for t, c in self.window_curves.items() if len(c) >= top and top > bottom}
        inconsistent = reference_inconsistent(
            {t: c[top - 1] for t, c in reached.items()},
            {t: c[bottom - 1] for t, c in reached.items()},
            expected,
            self.mode,
        )
        assert (self.num_increases > increases) == inconsistent
        CheckedPASHA.checked += 1
        return decision


def noisy_table(mode: str):
    """200 configurations x 27 epochs of decaying curves with noise 0.05 (curves cross often)."""
    rng = np.random.default_rng(7)
    epochs = np.arange(1, 28)
    start, decay = rng.uniform(0.3, 1.0, size=(200, 1, 1)), rng.uniform(0.01, 0.2, size=(200, 1, 1))
    metric = start * np.exp(-decay * epochs) + rng.normal(0, 0.05, size=(200, 1, 27))
    runtime = rng.uniform(0.5, 2.0, size=(200, 1, 1)) * np.ones((1, 1, 27))
    return make_table(-metric if mode == "max" else metric, runtime, mode=mode)


@pytest.mark.parametrize("noise_pairs, seed, checked", [("top_rung", 1, 500), ("all", 0, 500), ("all", 1, 80)])
@pytest.mark.parametrize("mode", ["min", "max"])
def test_epsilon_and_increases_follow_the_reference(noise_pairs, seed, checked, mode):
    CheckedPASHA.checked = 0
    table = noisy_table(mode)
    scheduler = CheckedPASHA(table.space, metric="error", mode=mode, max_t=27, seed=seed, noise_pairs=noise_pairs)
    simulate(table, scheduler, n_workers=4, seed=1, stop=StopCriteria(max_results=600))
    assert CheckedPASHA.checked > checked and scheduler.epsilon > 0 and scheduler.num_increases >= 1


def test_increases_end_at_max_t_and_runs_are_deterministic(random_table):
    def run(seed: int):
        scheduler = PASHA(random_table.space, metric="error", max_t=27, seed=seed, epsilon=0.0)
        result = simulate(random_table, scheduler, n_workers=4, seed=seed, stop=StopCriteria(max_wallclock_time=400.0))
        return scheduler, result.results_frame()

    scheduler, frame = run(3)
    assert scheduler.current_max_t == 27 and not scheduler.tracking  # ε = 0: any swap raises the maximum
    assert frame["epoch"].max() == 27
    assert frame.equals(run(3)[1])
    assert not frame.equals(run(4)[1])


def test_order_sequence_helpers_match_a_literal_scan():
    for length in range(2, 9):
        sequences = np.array(list(itertools.product([False, True], repeat=length))).T  # one column each
        noisy = _noisy(sequences)
        states = _order_state(sequences[:-1])
        assert (noisy == _NOISY[2 * states + sequences[-1]]).all()
        for column, sequence in enumerate(sequences.T.tolist()):
            last, opposite, back = sequence[-1], False, False
            for order in reversed(sequence[:-1]):  # Syne Tune's backward scan
                opposite = opposite or order != last
                if opposite and order == last:
                    back = True
                    break
            assert noisy[column] == back
            prefix = sequence[:-1]
            t_then_f = any(a and not b for i, a in enumerate(prefix) for b in prefix[i + 1 :])
            f_then_t = any(b and not a for i, a in enumerate(prefix) for b in prefix[i + 1 :])
            assert states[column] == any(prefix) * 1 + (not all(prefix)) * 2 + t_then_f * 4 + f_then_t * 8
            assert _NEXT[2 * states[column] + last] == _order_state(sequences[:, column : column + 1])[0]

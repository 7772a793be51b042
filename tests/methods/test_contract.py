"""The contract suite: every registered method, and every scheduler × searcher pair the registry composes, keeps
the scheduler/searcher contract (``methods.base``, ``methods.searcher``). In the spirit of scikit-learn's
``check_estimator`` and Optuna's shared sampler tests: each check is one named test, run over every method.

Methods run in the simulator on the embedded table (``sklearn-mlp-digits``: a grid of 1,280 configurations) and
on a benchmark computed on demand with a mixed space (log-scaled float, integer, ordinal, categorical and a
conditional child). ``Probe`` stands between the simulator and the method and records every call, its
arguments and its answer; ``RecordingSearcher`` wraps the method's searcher and records what it is told.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from blackbox_repository import BlackboxBase, Objective
from experiments.run import load_benchmark
from methods import (
    ALIASES,
    REGISTRY,
    Action,
    Scheduler,
    Searcher,
    TrialStatus,
    composed_methods,
    resolve_method,
)
from methods.registry import refused_pairs
from searchspace import Categorical, Condition, Float, Integer, Ordinal, SearchSpace
from simulator import StopCriteria, simulate

MAX_RESULTS = 500
#: every composed pair that is not already a registered composition
COMPOSED = [name for name in composed_methods() if resolve_method(name) not in list(REGISTRY.values())]
#: registered names, then the composed pairs: the checks of how a scheduler and a searcher work together run over
#: all of them; the checks of a method's behaviour as a whole (seeds, workers, max_trials, pauses, inputs) over the
#: registered names, each of whose parts is thereby checked too
METHODS = list(REGISTRY) + COMPOSED
RESTRICTABLE = [name for name in METHODS if resolve_method(name).supports_restrict_configurations]


# Benchmarks -------------------------------------------------------------------------------------
class MixedSpaceBenchmark(BlackboxBase):
    """Computed on demand (tests only): smooth curves over a mixed, conditional space; runtimes 0.5-2 s/epoch."""

    def __init__(self) -> None:
        self.name = "mixed-space"
        self.space = SearchSpace(
            {
                "lr": Float(1e-4, 1e-1, log=True),
                "units": Integer(8, 256, log=True),
                "depth": Integer(1, 4),
                "size": Ordinal(("s", "m", "l")),
                "optimizer": Categorical(("sgd", "adam")),
                "momentum": Float(0.0, 0.99),
            },
            conditions=[Condition("momentum", "optimizer", ("sgd",))],
        )
        self.fidelities = np.arange(1, 13)
        self.seeds = np.array([0, 1])
        self.objective_info = (
            Objective("error", "min"),
            Objective("runtime", None, "s"),
            Objective("elapsed_time", None, "s"),
        )
        self.metric = "error"
        self.runtime_objective = "runtime"
        self.elapsed_objective = "elapsed_time"
        self.fidelity_name = "epoch"
        self.metadata = {}

    def curve(self, config: Mapping[str, Any], seed_index: int) -> np.ndarray:
        self.space.validate(config)
        code = self.space.encode(dict(config))
        rng = np.random.default_rng([zlib.crc32(repr(sorted(config.items())).encode()), seed_index])
        epochs = self.fidelities.astype(float)
        final = 0.1 + float(np.sum((code - 0.4) ** 2)) / len(code)
        error = final + (1 - final) * np.exp(-epochs / (1 + 4 * code[0])) + rng.normal(0, 0.01, len(epochs))
        runtime = np.full(len(epochs), 0.5 + 1.5 * code[1])
        return np.stack([error, runtime, np.cumsum(runtime)], axis=1)


@pytest.fixture(scope="module")
def digits():
    definition, blackbox = load_benchmark("sklearn-mlp-digits")
    return blackbox


@pytest.fixture(scope="module")
def mixed():
    return MixedSpaceBenchmark()


def negated(blackbox):
    """The same table with the metric negated and declared better larger (mode "max")."""
    index = blackbox.objective_index(blackbox.metric)
    objectives = np.array(blackbox.objectives)
    objectives[..., index] *= -1
    info = list(blackbox.objective_info)
    info[index] = dataclasses.replace(info[index], mode="max")
    return dataclasses.replace(blackbox, name="negated", objectives=objectives, objective_info=info, checksum=None)


def with_failures(blackbox, fraction=0.3, seed=0):
    """The same table where a random ``fraction`` of the configurations has a NaN metric from epoch 2 on."""
    index = blackbox.objective_index(blackbox.metric)
    objectives = np.array(blackbox.objectives)
    broken = np.random.default_rng(seed).random(len(blackbox.configs)) < fraction
    objectives[np.ix_(broken, np.arange(len(blackbox.seeds)), np.arange(1, len(blackbox.fidelities)), [index])] = np.nan
    return dataclasses.replace(blackbox, name="with-failures", objectives=objectives, checksum=None)


# Recording --------------------------------------------------------------------------------------
def frozen(suggestion):
    if suggestion is None:
        return None
    config = None if suggestion.config is None else tuple(suggestion.config.items())
    return (config, suggestion.trial_id, suggestion.report_at, suggestion.checkpoint_from)


class Probe:
    """Forwards the simulator's calls to ``inner`` and records ``(call, arguments, answer)``; checks that the method
    never changes the metrics it is given nor, later, a configuration it handed out."""

    def __init__(self, inner: Scheduler) -> None:
        self.inner = inner
        self.calls: list[tuple[str, tuple, Any]] = []
        self.handed_out: list[tuple[dict, tuple]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def suggest(self, new_trial_id):
        answer = self.inner.suggest(new_trial_id)
        if answer is not None and answer.config is not None:
            self.handed_out.append((answer.config, tuple(answer.config.items())))
        self.calls.append(("suggest", (new_trial_id,), frozen(answer)))
        return answer

    def on_report(self, trial_id, epoch, metrics):
        before = dict(metrics)
        answer = self.inner.on_report(trial_id, epoch, metrics)
        assert metrics == before, f"on_report changed the metrics: {before} -> {metrics}"
        self.calls.append(("on_report", (trial_id, epoch, before), (answer.action, answer.report_at)))
        return answer

    def on_complete(self, trial_id, epoch, metrics):
        before = dict(metrics)
        self.inner.on_complete(trial_id, epoch, metrics)
        assert metrics == before, f"on_complete changed the metrics: {before} -> {metrics}"
        self.calls.append(("on_complete", (trial_id, epoch, before), None))

    def on_error(self, trial_id, epoch):
        self.inner.on_error(trial_id, epoch)
        self.calls.append(("on_error", (trial_id, epoch), None))

    def on_stop_all(self, trial_ids):
        trial_ids = tuple(trial_ids)
        self.inner.on_stop_all(trial_ids)
        self.calls.append(("on_stop_all", (trial_ids,), None))


class RecordingSearcher(Searcher):
    """Wraps a searcher: proposes what it proposes, passes every notification on, and records them all."""

    def __init__(self, inner: Searcher) -> None:
        self.inner = inner
        self.log: list[tuple] = []
        self.adapts_brackets = inner.adapts_brackets

    def __getattr__(self, name):  # the searcher's own attributes (e.g. its model), read by its scheduler
        return getattr(self.inner, name)

    def suggest(self, trial_id):
        config = self.inner.suggest(trial_id)
        self.log.append(("suggest", trial_id, None if config is None else dict(config)))
        return config

    def bracket_distribution(self, default, first_levels):
        return self.inner.bracket_distribution(default, first_levels)

    def choose_resume_or_new(self, paused, new_trial_id, first_level):
        """DyHPO's decision: a new configuration it starts counts as a suggestion."""
        decision = self.inner.choose_resume_or_new(paused, new_trial_id, first_level)
        if decision is not None and decision[0] == "start":
            self.log.append(("suggest", new_trial_id, dict(decision[1])))
        return decision

    def on_pending(self, trial_id, config, epoch):
        self.log.append(("pending", trial_id, epoch))
        self.inner.on_pending(trial_id, config, epoch)

    def on_report(self, trial_id, config, epoch, metrics):
        self.log.append(("result", trial_id, epoch, self.inner.objectives.loss(metrics)))
        self.inner.on_report(trial_id, config, epoch, metrics)

    def on_result(self, trial_id, config, epoch, loss):
        self.log.append(("result", trial_id, epoch, loss))
        self.inner.on_result(trial_id, config, epoch, loss)

    def on_end(self, trial_id, status):
        self.log.append(("end", trial_id, status))
        self.inner.on_end(trial_id, status)


def searcher_holder(scheduler):
    """The scheduler that owns the searcher (a wrapping scheduler's inner one)."""
    return scheduler if scheduler.searcher is not None else scheduler.base


#: model-based searchers (every option below that they take) run with a small model in this suite: what it checks
#: does not depend on the model's quality, and the default settings cost ~20x more CPU here (the model's own tests
#: are in test_gp_model.py etc.)
CHEAP_MODEL = {"opt_maxiter": 5, "num_init_candidates": 20, "num_fantasy_samples": 3, "max_size_data_for_model": 40}
CHEAP_TREES = {
    "bore": {"classifier_kwargs": {"n_estimators": 10}, "num_candidates": 50},
    "cqr": {"regressor_kwargs": {"n_estimators": 10}, "num_candidates": 100},
    "cts": {"num_candidates": 100},
}


def build(name, blackbox, *, seed=0, mode="min", metric=None, **options):
    spec = resolve_method(name)
    cheap = {name: value for name, value in CHEAP_MODEL.items() if spec.takes(name)}
    options = {**cheap, **CHEAP_TREES.get(spec.searcher, {}), **problem_options(spec, blackbox), **options}
    metric = blackbox.metric if metric is None else metric
    return spec(space=blackbox.space, metric=metric, mode=mode, max_t=len(blackbox.fidelities), seed=seed, **options)


def problem_options(spec, blackbox):
    """What a benchmark supplies to the methods that take it, as ``experiments.run_task.problem_options`` does: a
    constraint (training time at most its median), the cost metric, and other tasks' evaluations (here the
    benchmark's other seeds stand in for other tasks)."""
    options = {}
    if spec.takes("constraint_attr"):
        options["constraint_attr"] = blackbox.elapsed_objective
        if spec.takes("constraint_threshold"):
            options["constraint_threshold"] = float(np.median(transfer_tasks(blackbox, "elapsed")[0].values[:, -1]))
    if spec.takes("cost_attr") and "cost_attr" not in spec.options:
        options["cost_attr"] = blackbox.elapsed_objective
    if spec.takes("transfer_evaluations"):
        options["transfer_evaluations"] = transfer_tasks(blackbox, "metric")
    return options


_TASKS: dict = {}


def transfer_tasks(blackbox, which):
    """Two 'other tasks' of ``blackbox``: its metric (or its elapsed time) for seeds 1 and 2 on 60 configurations
    (tabulated configurations if it has a table, else a sample of its space), the curves shuffled among them."""
    from methods.transfer import TransferTask

    key = (blackbox.name, which)  # every benchmark of this suite has its own name
    if key not in _TASKS:
        rng = np.random.default_rng(0)
        table = blackbox.tabulated_configs
        if table is not None:
            configs = table.sample(60, random_state=0).to_dict("records")
        else:
            configs = blackbox.space.sample_many(rng, 60)
        name = blackbox.metric if which == "metric" else blackbox.elapsed_objective
        index = blackbox.objective_index(name)
        mode = blackbox.objective(name).mode or "min"
        seeds = (1 % len(blackbox.seeds), 2 % len(blackbox.seeds))
        curves = {seed: np.array([blackbox.curve(c, seed)[:, index] for c in configs]) for seed in seeds}
        # other tasks are related, not identical: each pairs the curves with a shuffled list of configurations, so
        # their best configurations are not the target's (the suite checks the contract, not the transfer)
        _TASKS[key] = [
            TransferTask(f"seed {seed}", [configs[i] for i in rng.permutation(len(configs))], curves[seed], mode)
            for seed in seeds
        ]
    return _TASKS[key]


def run(scheduler, blackbox, *, seed=0, n_workers=4, stop=None, record=False):
    """Simulate ``scheduler``; returns (result, probe, recording searcher or None)."""
    recorder = None
    if record:
        holder = searcher_holder(scheduler)
        recorder = holder.searcher = RecordingSearcher(holder.searcher)
    probe = Probe(scheduler)
    stop = stop or StopCriteria(max_results=MAX_RESULTS)
    result = simulate(blackbox, probe, n_workers=n_workers, seed=seed, stop=stop)
    return result, probe, recorder


def replay(scheduler, calls):
    """Feed recorded calls to ``scheduler``; returns its answers in the recorded form."""
    answers = []
    for call, arguments, _ in calls:
        answer = getattr(scheduler, call)(*arguments)
        if call == "suggest":
            answer = frozen(answer)
        elif call == "on_report":
            answer = (answer.action, answer.report_at)
        answers.append(answer)
    return answers


# The checks -------------------------------------------------------------------------------------
@pytest.mark.parametrize("pair", sorted(refused_pairs()))
def test_a_pair_that_cannot_compose_is_refused_in_one_line(pair, digits):
    scheduler, searcher = pair
    with pytest.raises(ValueError) as error:
        build(f"{scheduler}+{searcher}", digits)  # the scheduler's name composed with the searcher's
    message = str(error.value)
    assert "\n" not in message and len(message) < 300
    assert any(word in message for word in ("needs", "must", "cannot")), message


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_trace(method, digits):
    first = run(build(method, digits, seed=3), digits, seed=3)[1].calls
    second = run(build(method, digits, seed=3), digits, seed=3)[1].calls
    assert first == second


@pytest.mark.parametrize("method", list(REGISTRY))
def test_different_seeds_different_traces(method, digits):
    first = run(build(method, digits, seed=3), digits, seed=3)[1].calls
    second = run(build(method, digits, seed=4), digits, seed=3)[1].calls
    assert first != second


@pytest.mark.parametrize("method", METHODS)
def test_listening_searcher_changes_no_decision(method, digits):
    plain = run(build(method, digits, seed=5), digits, seed=5)[1].calls
    recorded = run(build(method, digits, seed=5), digits, seed=5, record=True)[1].calls
    assert plain == recorded


@pytest.mark.parametrize("method", list(REGISTRY))
def test_inputs_are_not_mutated(method, digits):
    candidates = digits.configs.sample(300, random_state=0).to_dict("records")
    points = [dict(candidates[7]), {"n_units": 64}]
    options = {"points_to_evaluate": copy.deepcopy(points)}
    if resolve_method(method).supports_restrict_configurations:
        options["restrict_configurations"] = copy.deepcopy(candidates)
        options["points_to_evaluate"] = copy.deepcopy(points[:1])
    given = copy.deepcopy(options)
    space = repr(digits.space)
    _, probe, _ = run(build(method, digits, seed=1, **options), digits, seed=1)  # the probe checks the metrics
    assert options == given and repr(digits.space) == space
    for config, items in probe.handed_out:
        assert tuple(config.items()) == items, "a configuration was changed after it was handed out"


@pytest.mark.parametrize("method", METHODS)
def test_pickled_mid_run_continues_with_the_same_decisions(method, digits):
    _, probe, _ = run(build(method, digits, seed=2), digits, seed=2)
    calls = probe.calls
    half = len(calls) // 2
    scheduler = build(method, digits, seed=2)
    assert replay(scheduler, calls[:half]) == [answer for _, _, answer in calls[:half]]
    clone = pickle.loads(pickle.dumps(scheduler))
    expected = [answer for _, _, answer in calls[half:]]
    assert replay(clone, calls[half:]) == expected
    assert replay(scheduler, calls[half:]) == expected


@pytest.mark.parametrize("method", METHODS)
def test_suggestions_lie_in_the_space(method, mixed):
    result, probe, _ = run(build(method, mixed, seed=0), mixed, seed=0, stop=StopCriteria(max_results=300))
    assert result.num_trials > 4
    for config, _ in probe.handed_out:
        mixed.space.validate(config)
        assert set(config) == set(mixed.space.names)


@pytest.mark.parametrize("method", METHODS)
def test_restricted_suggestions_are_candidates_or_refused_clearly(method, digits):
    candidates = digits.configs.sample(200, random_state=1).to_dict("records")
    if not resolve_method(method).supports_restrict_configurations:
        with pytest.raises(ValueError, match="restrict_configurations"):
            build(method, digits, restrict_configurations=candidates)
        return
    allowed = {tuple(config.values()) for config in candidates}
    _, probe, _ = run(build(method, digits, seed=0, restrict_configurations=candidates), digits, seed=0)
    assert probe.handed_out
    assert all(tuple(config.values()) in allowed for config, _ in probe.handed_out)


@pytest.mark.parametrize("method", METHODS)
def test_failed_trials_are_handled(method, digits):
    broken = with_failures(digits)
    stop = StopCriteria(max_wallclock_time=6.0)
    result, probe, recorder = run(build(method, broken, seed=0), broken, seed=0, stop=stop, record=True)
    failed = {arguments[0] for call, arguments, _ in probe.calls if call == "on_error"}
    assert failed and result.stop_reason == "max_wallclock_time"
    ends = {entry[1]: entry[2] for entry in recorder.log if entry[0] == "end"}
    assert all(ends[trial] is TrialStatus.FAILED for trial in failed)
    assert all(math.isfinite(entry[3]) for entry in recorder.log if entry[0] == "result")


@pytest.mark.parametrize("method", list(REGISTRY))
def test_pause_only_if_declared(method, digits):
    _, probe, _ = run(build(method, digits, seed=0), digits, seed=0)
    paused = [call for call in probe.calls if call[0] == "on_report" and call[2][0] is Action.PAUSE]
    resumed = [call for call in probe.calls if call[0] == "suggest" and call[2] is not None and call[2][1] is not None]
    if paused or resumed:
        assert probe.inner.pauses_trials


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", ["min", "max"])
def test_searcher_hears_every_trial_from_pending_to_end(method, mode, digits):
    blackbox = digits if mode == "min" else negated(digits)
    result, probe, recorder = run(build(method, blackbox, seed=4, mode=mode), blackbox, seed=4, record=True)
    frame = result.results_frame()
    value = {(row.trial_id, row.epoch): getattr(row, blackbox.metric) for row in frame.itertuples()}
    sign = 1.0 if mode == "min" else -1.0
    pending: dict[int, int] = {}  # trial -> the epoch it runs to
    ended: dict[int, TrialStatus] = {}
    for entry in recorder.log:
        kind, trial = entry[0], entry[1]
        assert trial not in ended, f"{entry} after trial {trial} ended"
        if kind == "pending":
            pending[trial] = entry[2]
        elif kind == "result":
            assert pending.pop(trial) == entry[2], f"trial {trial} reported where it was not pending"
            assert entry[3] == sign * value[trial, entry[2]]  # a loss: smaller is better
        elif kind == "end":
            pending.pop(trial, None)
            ended[trial] = entry[2]
    proposed = {entry[1] for entry in recorder.log if entry[0] == "suggest" and entry[2] is not None}
    announced = {entry[1] for entry in recorder.log if entry[0] == "pending"}
    assert proposed <= announced == set(range(result.num_trials)) == set(ended), "every trial ends exactly once"
    expected = {"completed": TrialStatus.COMPLETED, "failed": TrialStatus.FAILED}
    for trial, status in enumerate(result.trial_status):
        assert ended[trial] is expected.get(status, TrialStatus.STOPPED)


@pytest.mark.parametrize("method", list(REGISTRY))
@pytest.mark.parametrize("n_workers", [1, 8])
def test_one_and_eight_workers(method, n_workers, digits):
    result, _, _ = run(build(method, digits, seed=0), digits, seed=0, n_workers=n_workers)
    frame = result.results_frame()
    assert result.stop_reason == "max_results" and len(frame) == MAX_RESULTS
    assert frame["worker"].between(0, n_workers - 1).all()
    assert frame.groupby("worker")["trial_id"].nunique().sum() >= min(n_workers, 4)


@pytest.mark.parametrize("method", list(REGISTRY))
def test_max_trials_is_refused_directly(method, digits):
    stop = StopCriteria(max_trials=12, max_wallclock_time=200.0)
    result, probe, recorder = run(build(method, digits, seed=0), digits, seed=0, stop=stop, record=True)
    assert result.num_trials <= 12
    assert sum(entry[0] == "suggest" for entry in recorder.log) <= 12, "a searcher draw for a trial that never ran"
    after = [call for call in probe.calls if call[0] == "suggest" and call[1] == (None,)]
    assert all(call[2] is None or call[2][1] is not None for call in after), "a new trial offered after refusal"


@pytest.mark.parametrize("method", METHODS)
def test_max_mode_mirrors_min_mode(method, digits):
    _, low, _ = run(build(method, digits, seed=6), digits, seed=6)
    flipped = negated(digits)
    _, high, _ = run(build(method, flipped, seed=6, mode="max"), flipped, seed=6)
    assert [(call, answer) for call, _, answer in low.calls] == [(call, answer) for call, _, answer in high.calls]


#: options under which a multi-objective search acts on results within MAX_RESULTS results (~20 trials here)
REACTIVE = {"population_size": 4, "sample_size": 3, "base_method": "ASHA"}


@pytest.mark.parametrize("method", list(REGISTRY))
def test_two_objectives_reach_a_multi_objective_method_and_only_the_first_a_single_objective_one(method, digits):
    """On two objectives a single-objective method decides as on its first alone; a multi-objective one differs
    (with populations small enough, and a base method that reads results, to act on results within the run)."""
    spec = resolve_method(method)
    options = {name: value for name, value in REACTIVE.items() if spec.multi_objective and spec.takes(name)}
    first = run(build(method, digits, seed=7, **options), digits, seed=7)[1].calls
    two = [digits.metric, digits.elapsed_objective]
    both = run(build(method, digits, seed=7, metric=two, mode=["min", "min"], **options), digits, seed=7)[1].calls
    assert both == run(build(method, digits, seed=7, metric=two, mode="min", **options), digits, seed=7)[1].calls
    if resolve_method(method).multi_objective:
        assert both != first
    else:
        assert both == first


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_an_alias_has_the_results_of_the_name_it_stands_for(alias, digits):
    assert (
        run(build(alias, digits, seed=8), digits, seed=8)[1].calls
        == run(build(ALIASES[alias], digits, seed=8), digits, seed=8)[1].calls
    )

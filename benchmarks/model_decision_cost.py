"""CPU time per decision of the model-based searchers at 100, 500, 1000 and 2000 observations, at 4 workers.

Measured: the real CPU time (``time.process_time``; linear algebra, xgboost and scikit-learn run on one thread,
so this is also the calling thread's time) of one decision of the searcher as each registered method builds it
(``methods.make_method(..., n_workers=4)``, so every default is the registered one):

- BayesianOptimization (FIFO + GP searcher): ``searcher.suggest(trial_id)``;
- MOBSTER (ASHA promotion + GP searcher, joint model), MOBSTER-INDEP, HYPERTUNE-INDEP: ``searcher.suggest``;
- DyHPO: the model's decision ``searcher.choose_resume_or_new(paused, new_trial_id, first_level)`` (every paused
  trial scored against ``max(num_init_candidates, #paused)`` new configurations);
- KDE, BOHB (ASHA + KDE), BORE, ASHA-BORE, CQR, ASHA-CQR: ``searcher.suggest`` (a KDE or BORE suggestion refits
  its densities or classifier every time; CQR refits when results came in, i.e. at every timed decision here).

No simulator and no data set: a synthetic 7-dimensional mixed space (two log-scale floats, two linear floats, a
log-scale and a linear integer, a categorical) and a smooth synthetic objective with learning-curve shape
``f(x, r) = g(x) + a(x) * exp(-r / tau(x)) + noise`` (timing only; the numbers say nothing about any method).

For each observation count N the searcher is fed N results the way its scheduler would (``on_pending`` before
each ``on_result``, ``on_end`` for trials that finish): under FIFO one result per trial at ``max_t``; under a
multi-fidelity scheduler every trial reports at its successive rung levels and goes on past a level only if its
loss is in the best fraction ``r_k / r_{k+1}`` of that level so far (the scheduler's promotion quantiles), so
most results are at the lowest level, as with ASHA (DyHPO: linear levels, trials that stop going on are paused).
Then 4 trials are pending (fantasized), ``--warmup`` decisions run untimed (the first one fits the GP from
scratch with ``opt_nstarts`` starts: its time is the "cold" column), and ``--repeats`` decisions are timed. Between
two decisions the oldest pending trial reports (one new result, so the data changes and the refit schedule
``opt_skip_period`` / ``opt_skip_init_length`` runs as in a real run) and the decision's trial becomes pending.
"refit fraction" is the fraction of timed decisions that refitted the GP hyperparameters (from the deltas of
``searcher.state_summary()["hyperparameter_fits"]``), or that fitted the KDE, BORE or CQR model. The GP is
fitted to at most ``max_size_data_for_model`` (500) rows, so its cost should flatten beyond 500 observations;
KDE, BORE and CQR use every result of their level. "median ms of refits" is the median over the decisions
that refitted (for KDE: those that used the model, not the third drawn at random). The rows
"(opt_skip_period=1)" refit at every decision (Syne Tune 0.13's default for BO and MOBSTER) and
"(refit_growth=0)" refit CQR at every new result (Syne Tune's ``update_frequency=1``), at 500 observations, for
comparison.

    python benchmarks/model_decision_cost.py [--quick] [--methods BayesianOptimization MOBSTER ...]
        [--sizes 100 500 1000 2000] [--repeats 24] [--warmup 2] [--seed 0]

The default run takes about 1.5 minutes (about 75 s CPU on one core: the script is single-threaded); ``--quick``
about 15 s. A method whose searcher fails is reported as "failed" in its rows and the others still run.
"""

from __future__ import annotations

import argparse
import itertools
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from methods import make_method
from methods.searcher import Searcher
from methods.trial_status import TrialStatus
from searchspace import Categorical, Config, Float, Integer, SearchSpace

METHODS = (
    "BayesianOptimization", "MOBSTER", "MOBSTER-INDEP", "HYPERTUNE-INDEP", "DyHPO",
    "KDE", "BOHB", "BORE", "ASHA-BORE", "CQR", "ASHA-CQR",
)  # fmt: skip
ALWAYS_REFIT_METHODS = {  # rows that refit at every decision, at 500 observations
    "BayesianOptimization": {"opt_skip_period": 1},
    "MOBSTER": {"opt_skip_period": 1},
    "CQR": {"refit_growth": 0.0},
    "ASHA-CQR": {"refit_growth": 0.0},
}
RESTRICTED_METHODS = ("BayesianOptimization", "MOBSTER", "KDE", "BOHB", "BORE", "CQR")
ALWAYS_REFIT_SIZE = 500
SIZES = (100, 500, 1000, 2000)
QUICK_SIZES = (100, 500)
MAX_T = 81  # ASHA levels 1, 3, 9, 27 (+ 81); DyHPO 1, 3, 5, ..., 79 (+ 81)
N_WORKERS = 4
METRIC = "loss"
OPTIMIZERS = ("sgd", "adam", "rmsprop")


def synthetic_space() -> SearchSpace:
    """7 hyperparameters: log and linear floats, log and linear integers, a categorical."""
    return SearchSpace(
        {
            "learning_rate": Float(1e-5, 1.0, log=True),
            "weight_decay": Float(1e-6, 1e-1, log=True),
            "momentum": Float(0.0, 0.99),
            "dropout": Float(0.0, 0.8),
            "batch_size": Integer(16, 512, log=True),
            "num_layers": Integer(1, 8),
            "optimizer": Categorical(OPTIMIZERS),
        }
    )


def objective(config: Config, epoch: int, rng: np.random.Generator) -> float:
    """Smooth synthetic loss with a learning-curve shape: g(x) + a(x) * exp(-epoch / tau(x)) + small noise."""
    lr = math.log10(config["learning_rate"])
    wd = math.log10(config["weight_decay"])
    bs = math.log2(config["batch_size"])
    final = (
        0.08
        + 0.04 * (lr + 2.5) ** 2
        + 0.01 * (wd + 4.0) ** 2
        + 0.1 * (config["momentum"] - 0.8) ** 2
        + 0.15 * (config["dropout"] - 0.3) ** 2
        + 0.004 * (bs - 7.0) ** 2
        + 0.01 * (config["num_layers"] - 4) ** 2 / 4
        + 0.03 * OPTIMIZERS.index(config["optimizer"])
    )
    amplitude = 0.6 + 0.2 * math.tanh(lr + 3.0)
    tau = 2.0 + 25.0 / (1.0 + math.exp(2.0 * (lr + 3.0)))  # small learning rates learn slowly
    return final + amplitude * math.exp(-epoch / tau) + float(rng.normal(0.0, 0.005))


@dataclass
class Workload:
    """The trials fed to a searcher: configurations, their results in order, and the promotion rule."""

    space: SearchSpace
    levels: list[int]  # rung levels and max_t (FIFO: [max_t])
    quantiles: list[float]  # per level below max_t: the fraction that goes on
    seed: int
    configs: dict[int, Config] = field(default_factory=dict)
    losses: dict[tuple[int, int], float] = field(default_factory=dict)
    rung_losses: dict[int, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng([self.seed, 11])
        self._noise = np.random.default_rng([self.seed, 12])

    def new_config(self, trial_id: int) -> Config:
        config = self.space.sample_many(self._rng, 1)[0]
        self.configs[trial_id] = config
        return config

    def loss(self, trial_id: int, epoch: int) -> float:
        """The trial's loss at ``epoch`` (drawn once)."""
        key = (trial_id, epoch)
        if key not in self.losses:
            self.losses[key] = objective(self.configs[trial_id], epoch, self._noise)
        return self.losses[key]

    def goes_on(self, level_index: int, loss: float) -> bool:
        """Whether a trial that reported ``loss`` at ``levels[level_index]`` goes on (best fraction so far)."""
        if level_index >= len(self.levels) - 1:
            return False
        losses = self.rung_losses.setdefault(level_index, [])
        losses.append(loss)
        keep = max(1, int(self.quantiles[level_index] * len(losses)))
        return loss <= sorted(losses)[keep - 1]

    def events(self, first_trial_id: int):
        """Trials one after the other, each reporting at its successive levels: (trial_id, level index) pairs."""
        trial_id = first_trial_id
        while True:
            self.new_config(trial_id)
            for index, level in enumerate(self.levels):
                yield trial_id, index
                if not self.goes_on(index, self.loss(trial_id, level)):
                    break
            trial_id += 1


@dataclass
class Row:
    method: str
    observations: int
    times: list[float]
    refitted: list[bool]  # per timed decision: whether it (re)fitted the model
    cold: float
    thread_seconds: float


def initial_random(searcher: Searcher) -> int:
    """How many first suggestions the run asks the searcher for (the others come from the workload)."""
    return getattr(searcher, "num_init_random", N_WORKERS)


def fits_so_far(searcher: Searcher) -> int:
    """GP hyperparameter fits, CQR fits, or (KDE, BORE: a fit per model suggestion) model suggestions."""
    summary = searcher.state_summary()
    return summary.get("hyperparameter_fits", summary.get("fits", summary.get("model_suggestions", 0)))


def feed_history(
    searcher: Searcher, work: Workload, levels: list[int], observations: int, dyhpo: bool
) -> tuple[deque[tuple[int, int]], dict[int, int], int]:
    """Feed ``observations`` results as a run would; returns the pending (trial, level index) pairs, the paused
    trials (trial -> next level; DyHPO only) and the next free trial id."""
    # The first num_init_random trials come from the searcher (random: no result is in yet), as in a real run.
    events = work.events(first_trial_id=0)
    last_level: dict[int, int] = {}  # trial -> index of the last level it reported at
    fed = 0
    for trial_id, index in events:
        if index == 0 and trial_id < initial_random(searcher):
            config = searcher.suggest(trial_id)
            assert config is not None
            work.configs[trial_id] = config
        if fed == observations:
            break
        searcher.on_pending(trial_id, work.configs[trial_id], levels[index])
        searcher.on_result(trial_id, work.configs[trial_id], levels[index], work.loss(trial_id, levels[index]))
        last_level[trial_id] = index
        fed += 1
        if index == len(levels) - 1:
            searcher.on_end(trial_id, TrialStatus.COMPLETED)
    # 4 pending evaluations: the next events of the stream with distinct trials (continuations or new trials).
    pending: deque[tuple[int, int]] = deque([(trial_id, index)])
    for trial_id, index in events:
        if len(pending) == N_WORKERS:
            break
        if all(trial_id != t for t, _ in pending):
            pending.append((trial_id, index))
    next_trial_id = max(work.configs) + 1
    for trial_id, index in pending:
        searcher.on_pending(trial_id, work.configs[trial_id], levels[index])
    # Multi-fidelity trials that stopped going on: paused (DyHPO resumes them) or stopped (ASHA, for the model
    # the same: their results stay, nothing is pending).
    pending_ids = {t for t, _ in pending}
    paused = {
        t: levels[i + 1] for t, i in last_level.items() if i < len(levels) - 1 and t not in pending_ids
    }  # trial -> the level it would reach next
    if not dyhpo:
        for trial_id in paused:
            searcher.on_end(trial_id, TrialStatus.STOPPED)
        paused.clear()

    return pending, paused, next_trial_id


def run_case(method: str, observations: int, repeats: int, warmup: int, seed: int, **options: Any) -> Row:
    space = synthetic_space()
    scheduler = make_method(
        method, space=space, metric=METRIC, mode="min", max_t=MAX_T, seed=seed, n_workers=N_WORKERS, **options
    )
    searcher = scheduler.searcher
    assert searcher.uses_model, f"{method}: not a model-based searcher"
    dyhpo = type(scheduler).__name__ == "DyHPO"
    levels = list(searcher.levels)  # the scheduler configured the searcher with its rung levels
    quantiles = list(getattr(scheduler, "quantiles", []))
    work = Workload(space, levels, quantiles, seed)

    pending, paused, next_trial_id = feed_history(searcher, work, levels, observations, dyhpo)

    def decide() -> tuple[float, float, int]:
        """One decision (timed), then the decision's trial is pending; returns (CPU s, thread CPU s, refits)."""
        nonlocal next_trial_id
        fits = fits_so_far(searcher)
        new_id = next_trial_id
        next_trial_id += 1
        thread0, process0 = time.thread_time(), time.process_time()
        if dyhpo:
            decision = searcher.choose_resume_or_new(list(paused.items()), new_id, levels[0])
        else:
            config = searcher.suggest(new_id)
            decision = None if config is None else ("start", config)
        seconds, thread_seconds = time.process_time() - process0, time.thread_time() - thread0
        refits = fits_so_far(searcher) - fits
        assert decision is not None, f"{method}: no decision"
        kind, value = decision
        if kind == "resume":
            level = paused.pop(value)
            pending.append((value, levels.index(level)))
            searcher.on_pending(value, work.configs[value], level)
        else:
            work.configs[new_id] = value
            pending.append((new_id, 0))
            searcher.on_pending(new_id, value, levels[0])
        return seconds, thread_seconds, refits

    def report_one() -> None:
        """The oldest pending trial reports; it then pauses (DyHPO) or ends (FIFO, or stopped/paused by ASHA)."""
        trial_id, index = pending.popleft()
        searcher.on_result(trial_id, work.configs[trial_id], levels[index], work.loss(trial_id, levels[index]))
        if dyhpo and index < len(levels) - 1:
            paused[trial_id] = levels[index + 1]
        else:
            status = TrialStatus.COMPLETED if index == len(levels) - 1 else TrialStatus.STOPPED
            searcher.on_end(trial_id, status)

    cold = 0.0
    for step in range(warmup):
        seconds, _, _ = decide()
        if step == 0:
            cold = seconds
        report_one()
    times: list[float] = []
    refitted: list[bool] = []
    thread_total = 0.0
    for _ in range(repeats):
        seconds, thread_seconds, fits = decide()
        times.append(seconds)
        thread_total += thread_seconds
        refitted.append(fits > 0)
        report_one()
    return Row(method, observations, times, refitted, cold, thread_total)


NB201_OPERATIONS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")


def restricted_case(method: str, observations: int, repeats: int, seed: int) -> list[float]:
    """CPU seconds of ``repeats`` suggestions restricted to the 15,625 cells of an NB201-like space (6 edges × 5
    operations), every remaining cell scored, after ``observations`` results and with 4 pending trials."""
    space = SearchSpace({f"edge{i}": Categorical(NB201_OPERATIONS) for i in range(6)})
    cells = [dict(zip(space.names, ops)) for ops in itertools.product(NB201_OPERATIONS, repeat=6)]
    scheduler = make_method(
        method, space=space, metric=METRIC, mode="min", max_t=MAX_T, seed=seed, n_workers=N_WORKERS,
        restrict_configurations=cells,
    )  # fmt: skip
    searcher = scheduler.searcher
    levels = list(searcher.levels)
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(6, len(NB201_OPERATIONS)))

    def loss(config: Config, level: int) -> float:
        quality = sum(weights[i, NB201_OPERATIONS.index(config[f"edge{i}"])] for i in range(6))
        return float(quality + 3.0 * math.exp(-level / 10) + 0.1 * rng.normal())

    trial_id = fed = 0
    while fed < observations:
        config = searcher.suggest(trial_id) if trial_id < initial_random(searcher) else cells[rng.integers(len(cells))]
        for index, level in enumerate(levels):  # most trials stop at the first level, as under ASHA
            searcher.on_pending(trial_id, config, level)
            searcher.on_result(trial_id, config, level, loss(config, level))
            fed += 1
            if fed == observations or rng.random() > 1 / 3 or index == len(levels) - 1:
                break
        searcher.on_end(trial_id, TrialStatus.STOPPED)
        trial_id += 1
    for _ in range(N_WORKERS):
        searcher.on_pending(trial_id, cells[rng.integers(len(cells))], levels[0])
        trial_id += 1
    times = []
    for _ in range(repeats + 1):
        started = time.process_time()
        config = searcher.suggest(trial_id)
        times.append(time.process_time() - started)
        searcher.on_pending(trial_id, config, levels[0])
        searcher.on_result(trial_id, config, levels[0], loss(config, levels[0]))
        trial_id += 1
    return times[1:]  # the first one fits from scratch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), help="registered model-based methods")
    parser.add_argument("--sizes", nargs="+", type=int, default=None, help=f"observation counts (default {SIZES})")
    parser.add_argument("--repeats", type=int, default=None, help="timed decisions per case (default 24, quick 6)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed decisions first (the first: cold fit)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}, 6 repeats")
    args = parser.parse_args()
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    repeats = args.repeats or (6 if args.quick else 24)
    if args.warmup < 1:
        parser.error("--warmup must be >= 1 (the first decision fits the GP from scratch)")

    cases: list[tuple[str, int, dict[str, Any]]] = []
    for method in args.methods:
        cases.extend((method, size, {}) for size in sizes)
        if method in ALWAYS_REFIT_METHODS:
            cases.append((method, ALWAYS_REFIT_SIZE, ALWAYS_REFIT_METHODS[method]))

    started = time.perf_counter()
    process_started = time.process_time()
    print(
        f"CPU time per decision, {N_WORKERS} pending (fantasized), max_t={MAX_T}, synthetic 7-d space; "
        f"{repeats} timed decisions after {args.warmup} untimed (cold: the first, fitted from scratch)\n"
    )
    print("| method | observations | median ms | p95 ms | mean ms | refit fraction | median ms of refits | cold ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    process_total = thread_total = 0.0
    for method, size, options in cases:
        label = method + "".join(f" ({key}={value})" for key, value in options.items())
        try:
            row = run_case(method, size, repeats, args.warmup, args.seed, **options)
        except Exception as error:  # a failing searcher is reported in its row; the other cases still run
            print(f"| {label} | {size} | failed: {type(error).__name__}: {error} | | | | | |", flush=True)
            continue
        ms = 1e3 * np.array(row.times)
        refits = ms[np.array(row.refitted)]
        print(
            f"| {label} | {size} | {np.median(ms):.1f} | {np.percentile(ms, 95):.1f} | {ms.mean():.1f} | "
            f"{np.mean(row.refitted):.2f} | {np.median(refits) if len(refits) else float('nan'):.1f} | "
            f"{1e3 * row.cold:.0f} |",
            flush=True,
        )
        process_total += sum(row.times)
        thread_total += row.thread_seconds
    print("\nRestricted to the 15,625 cells of an NB201-like space (every remaining cell scored), 500 results:\n")
    print("| method | median ms | p95 ms |\n|---|---:|---:|")
    for method in [m for m in args.methods if m in RESTRICTED_METHODS]:
        ms = 1e3 * np.array(restricted_case(method, ALWAYS_REFIT_SIZE, repeats, args.seed))
        print(f"| {method} | {np.median(ms):.1f} | {np.percentile(ms, 95):.1f} |", flush=True)
    print(
        f"\ntimed decisions: {process_total:.1f} s process CPU, {thread_total:.1f} s thread CPU; "
        f"whole run: {time.process_time() - process_started:.0f} s CPU, {time.perf_counter() - started:.0f} s wall"
    )


if __name__ == "__main__":
    main()

"""Simulator throughput on an NB201-sized table (15,625 configs x 3 seeds x 200 epochs).

THE TABLE IS SYNTHETIC, FOR TIMING ONLY: learning curves and runtimes are drawn from a seeded
generator with NB201-like shapes (6 categorical hyperparameters with 5 values, epochs of 5-30 s).
It is never registered as a benchmark and its numbers mean nothing about any method.

Measured: import of the long-format table (part 2 of the walking skeleton, in a child process so
its memory does not count below), load time from the cache, simulated results per real second for
RandomSearch, ASHA and ASHA-PROM (4 workers, 5 h simulated per seed, 30 seeds), and peak RSS of this process.
"ASHA, listening searcher" is ASHA with a random searcher that overrides every notification with a no-op:
the same decisions, plus the cost of telling a searcher every pending trial, result and end (what a
model-based searcher costs before its model does any work).

Run: python benchmarks/simulator_throughput.py [--seeds 30] [--keep-cache DIR]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from methods import RandomSearcher

NUM_OPS, NUM_EDGES, NUM_SEEDS, NUM_EPOCHS = 5, 6, 3, 200
NAME = "synthetic-nb201-sized-timing-only"


def build_long_table(path: Path) -> int:
    """Write the synthetic long-format table (one row per config, seed, epoch) to parquet."""
    rng = np.random.default_rng(0)
    num_configs = NUM_OPS**NUM_EDGES
    ops = np.array(["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"])
    codes = np.indices((NUM_OPS,) * NUM_EDGES).reshape(NUM_EDGES, -1).T  # (configs, edges)
    final = rng.uniform(0.05, 0.9, size=(num_configs, 1, 1))
    speed = rng.uniform(0.02, 0.2, size=(num_configs, 1, 1))
    epochs = np.arange(1, NUM_EPOCHS + 1)
    noise = rng.normal(0.0, 0.005, size=(num_configs, NUM_SEEDS, NUM_EPOCHS))
    valid_error = final + (1 - final) * np.exp(-speed * epochs) + noise
    runtime = rng.uniform(5.0, 30.0, size=(num_configs, 1, 1)) * rng.uniform(0.95, 1.05, (1, NUM_SEEDS, NUM_EPOCHS))
    rows = num_configs * NUM_SEEDS * NUM_EPOCHS
    columns = {f"hp_x{e}": pd.Categorical.from_codes(np.repeat(codes[:, e], NUM_SEEDS * NUM_EPOCHS), ops)
               for e in range(NUM_EDGES)}
    columns["seed"] = np.tile(np.repeat(np.arange(NUM_SEEDS), NUM_EPOCHS), num_configs)
    columns["epoch"] = np.tile(epochs, num_configs * NUM_SEEDS)
    columns["valid_error"] = valid_error.astype(np.float32).ravel()
    columns["runtime"] = runtime.astype(np.float32).ravel()
    pd.DataFrame(columns).to_parquet(path, index=False)
    return rows


def import_in_child(cache: Path, queue: multiprocessing.Queue) -> None:
    """Build the long table and import it, in a child process (its memory is not ours)."""
    from blackbox_repository import BlackboxRepository
    from blackbox_repository.import_table import import_table

    table = cache / "long_table.parquet"
    started = time.perf_counter()
    rows = build_long_table(table)
    queue.put(f"built synthetic long table: {rows:,} rows in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    import_table(
        table,
        name=NAME,
        fidelity_column="epoch",
        seed_column="seed",
        objectives=["valid_error:min", "runtime"],
        runtime_objective="runtime",
        repository=BlackboxRepository(cache),
    )
    queue.put(f"import_table (long format -> blackbox): {time.perf_counter() - started:.2f} s")
    table.unlink()


LISTENING = "ASHA, listening searcher"


class ListeningRandomSearcher(RandomSearcher):
    """Random search that is told every notification and ignores it (``observes`` is True)."""

    def on_pending(self, trial_id: int, config: dict, epoch: int) -> None:
        pass

    def on_result(self, trial_id: int, config: dict, epoch: int, loss: float) -> None:
        pass

    def on_end(self, trial_id: int, status: object) -> None:
        pass


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--keep-cache", type=Path, default=None, help="reuse/keep the imported table here")
    args = parser.parse_args()

    cache = args.keep_cache or Path(tempfile.mkdtemp(prefix="throughput-"))
    if not (cache / NAME / "metadata.json").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        child = context.Process(target=import_in_child, args=(cache, queue))
        child.start()
        print(queue.get())
        print(queue.get())
        child.join()

    from blackbox_repository import BlackboxRepository
    from methods import ASHA, make_method
    from simulator import StopCriteria, simulate

    repository = BlackboxRepository(cache)
    (cache / NAME / ".verified.json").unlink(missing_ok=True)  # force a full verification
    started = time.perf_counter()
    repository.load(NAME)  # first load hashes every file and stamps them as verified
    print(f"first load (sha256 of every file): {time.perf_counter() - started:.3f} s")
    started = time.perf_counter()
    blackbox = repository.load(NAME)
    blackbox.row_lookup()
    print(f"load from cache: {time.perf_counter() - started:.3f} s  (target < 0.5 s)")

    stop = StopCriteria(max_wallclock_time=5 * 3600)
    def build(method: str, seed: int):
        if method == LISTENING:
            searcher = ListeningRandomSearcher(blackbox.space, seed=seed)
            return ASHA(blackbox.space, metric="valid_error", max_t=NUM_EPOCHS, seed=seed, searcher=searcher)
        return make_method(method, space=blackbox.space, metric="valid_error", mode="min", max_t=NUM_EPOCHS, seed=seed)

    for method in ("RandomSearch", "ASHA", "ASHA-PROM", LISTENING):
        results = decisions = 0
        decision_seconds = 0.0
        started = time.perf_counter()
        for seed in range(args.seeds):
            scheduler = build(method, seed)
            outcome = simulate(blackbox, scheduler, n_workers=4, seed=seed, stop=stop)
            results += outcome.num_results
            decisions += outcome.num_decisions
            decision_seconds += outcome.decision_seconds
        elapsed = time.perf_counter() - started
        print(
            f"{method:24s} {args.seeds} seeds: {elapsed:.2f} s real, {results:,} results, "
            f"{results / elapsed:,.0f} results/s, method time {decision_seconds:.2f} s "
            f"({1e6 * decision_seconds / max(decisions, 1):.1f} us/decision)"
        )
    print(f"peak RSS of this process: {peak_rss_mb():.0f} MB (target < 500 MB)")


if __name__ == "__main__":
    main()

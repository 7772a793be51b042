"""Does the simulation predict reality? The embedded benchmark's own training function, tuned for real and simulated.

(a) Real: ``experiments.tuner.Tuner`` tunes ``train_mlp`` (``blackbox_repository.embedded.sklearn_mlp_digits``, its
    ``SPACE``, metric ``valid_loss`` (min), ``max_t`` 30, training seeds 0, 1, 2 as in the table) with each method,
    for ``--seeds`` seeds, ``--n_workers`` worker processes and ``--budget`` real seconds per run.
(b) Simulated: ``experiments.run.run_experiment`` replays the same methods, seeds, workers and budget on the
    embedded table (``python -m experiments.run --benchmark sklearn-mlp-digits --n_workers 2
    --max_wallclock_time 20``).

Both derive the method's seed and each trial's training seed from the same run seed, so trial ``k`` of a real run
has the configuration and seed of trial ``k`` of its simulated twin (for methods whose searcher is not a model):
the training is deterministic, so the two differ only in *when* things happen. Printed per method: the
distributions (median [25%, 75%]) of best-so-far ``valid_loss`` at several times, of trials started and results per
run, with a two-sided Mann-Whitney U test (scipy) per row; the per-epoch runtime real / tabulated (median ratio,
same configuration, seed and epoch); the same comparison against the simulation on a *calibrated* clock (simulated
seconds times that ratio, plus each real run's start-up delay, paired by seed: does the simulation predict reality
once two measured numbers are known?); whether the real metrics equal the table's; the costs the simulation does
not see: worker process start-up, the time to the first result, segment set-up (the first call of the function in a
process imports scikit-learn and loads the data), checkpoint pickling, decision time (CPU) and the time workers
wait for decisions; the load average around each real run. The table's runtimes were measured with 2 worker
processes on a 2-core machine (``metadata['machine']`` of the benchmark): run this on an otherwise idle machine of
the same kind, or read the runtime ratio as the machine's speed and contention.

Run: python benchmarks/sim_vs_real.py [--seeds 5] [--budget 20] [--n_workers 2] [--methods RandomSearch ASHA]
     [--times 2.5 5 10 20] [--results_dir results] [--no_checkpoints] [--fresh]
Completed real runs under the tag are reused unless ``--fresh`` (which uses a new tag suffix).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

NAME = "sklearn-mlp-digits"
REAL_TAG = "sim-vs-real-real"
SIM_TAG = "sim-vs-real-sim"
MAX_T = 30
TRAIN_SEEDS = (0, 1, 2)


def train_mlp_without_checkpoints(config: dict[str, Any], seed: int) -> Any:
    """``train_mlp`` without its ``checkpoint_dir`` (``--no_checkpoints``): nothing is pickled per epoch."""
    from blackbox_repository.embedded.sklearn_mlp_digits import train_mlp

    return train_mlp(config, seed)


def run_real(args: argparse.Namespace, tag: str) -> list[Path]:
    """Tune for real, one run per method and seed; completed runs under ``tag`` are reused."""
    from blackbox_repository.embedded.sklearn_mlp_digits import SPACE, train_mlp
    from experiments.store_format import read_complete_metadata, run_dir
    from experiments.tuner import Tuner
    from simulator import StopCriteria

    train = train_mlp_without_checkpoints if args.no_checkpoints else train_mlp
    paths = []
    for method in args.methods:
        for seed in range(args.seeds):
            path = run_dir(args.results_dir, tag, NAME, method, seed)
            if read_complete_metadata(path) is None:
                started = time.perf_counter()
                Tuner(
                    train,
                    SPACE,
                    method=method,
                    metric="valid_loss",
                    mode="min",
                    max_t=MAX_T,
                    n_workers=args.n_workers,
                    seed=seed,
                    stop=StopCriteria(max_wallclock_time=args.budget),
                    train_seeds=list(TRAIN_SEEDS),
                    results_dir=args.results_dir,
                    experiment_tag=tag,
                    benchmark_name=NAME,
                    keep_checkpoints=False,
                    start_method=args.start_method,
                    progress=False,
                ).run()
                print(f"  real {method} seed {seed}: {time.perf_counter() - started:.1f} s", flush=True)
            paths.append(path)
    return paths


def run_simulated(args: argparse.Namespace, tag: str) -> None:
    from experiments.run import run_experiment

    run_experiment(
        NAME,
        args.methods,
        num_seeds=args.seeds,
        n_workers=args.n_workers,
        max_wallclock_time=args.budget,
        experiment_tag=tag,
        results_dir=args.results_dir,
    )


def load_runs(results_dir: Path, tag: str, method: str) -> list[Any]:
    from experiments.store_format import load_results, read_run

    listing = load_results(results_dir, tag, benchmark=NAME, method=method)
    return [read_run(path) for path in listing["path"]]


def best_at(run: Any, t: float) -> float:
    """Best-so-far valid_loss of ``run`` at time ``t`` (NaN before its first result)."""
    results = run.results
    before = results[results["time"] <= t]
    return float(before["best_so_far"].iloc[-1]) if len(before) else float("nan")


def first_result(run: Any) -> float:
    return float(run.results["time"].iloc[0])


def trials_by(run: Any, t: float) -> int:
    """Trials that had reported at least once by time ``t``."""
    results = run.results
    return int(results.loc[results["time"] <= t, "trial_id"].nunique())


def describe(values: list[float]) -> str:
    import numpy as np

    finite = np.asarray([v for v in values if v == v], dtype=float)
    if not finite.size:
        return "-"
    q25, median, q75 = np.quantile(finite, [0.25, 0.5, 0.75])
    missing = f" ({len(values) - finite.size} none)" if finite.size < len(values) else ""
    return f"{median:.4g} [{q25:.4g}, {q75:.4g}]{missing}"


def mann_whitney(real: list[float], sim: list[float]) -> str:
    from scipy.stats import mannwhitneyu

    real = [v for v in real if v == v]
    sim = [v for v in sim if v == v]
    if len(real) < 2 or len(sim) < 2 or len(set(real) | set(sim)) < 2:
        return "-"
    return f"{mannwhitneyu(real, sim, alternative='two-sided').pvalue:.3f}"


def comparison_rows(real: list[Any], sim: list[Any], times: list[float]) -> list[tuple[str, str, str, str]]:
    rows = []
    for t in times:
        a, b = [best_at(run, t) for run in real], [best_at(run, t) for run in sim]
        rows.append((f"best valid_loss at {t:g} s", describe(a), describe(b), mann_whitney(a, b)))
    for t in times:
        a, b = [trials_by(run, t) for run in real], [trials_by(run, t) for run in sim]
        rows.append((f"trials reported by {t:g} s", describe(a), describe(b), mann_whitney(a, b)))
    for label, key in (("trials started per run", "num_trials"), ("results per run", "num_results")):
        a, b = [run.metadata[key] for run in real], [run.metadata[key] for run in sim]
        rows.append((label, describe(a), describe(b), mann_whitney(a, b)))
    a, b = [first_result(run) for run in real], [first_result(run) for run in sim]
    rows.append(("time of the first result (s)", describe(a), describe(b), mann_whitney(a, b)))
    a = [run.metadata["decision_cpu_seconds"] for run in real]
    b = [run.metadata["decision_cpu_seconds"] for run in sim]
    rows.append(("decision CPU seconds per run", describe(a), describe(b), mann_whitney(a, b)))
    a = [float(run.results["runtime"].median()) for run in real]
    b = [float(run.results["runtime"].median()) for run in sim]
    rows.append(("median epoch runtime (s)", describe(a), describe(b), mann_whitney(a, b)))
    return rows


def calibrated_rows(real: list[Any], sim: list[Any], times: list[float], ratio: float) -> list[tuple[str, ...]]:
    """Real against the simulation on a calibrated clock: simulated seconds times the measured runtime ratio, plus
    each real run's start-up delay (its first result, less ``ratio`` times its simulated twin's); paired by seed."""
    rows = []
    pairs = list(zip(real, sim))

    def clock(real_run: Any, sim_run: Any, t: float) -> float:
        delay = first_result(real_run) - ratio * first_result(sim_run)
        return (t - delay) / ratio

    for t in times:
        a = [best_at(r, t) for r, _ in pairs]
        b = [best_at(s, clock(r, s, t)) for r, s in pairs]
        rows.append((f"best valid_loss at {t:g} s", describe(a), describe(b), mann_whitney(a, b)))
    for t in times:
        a = [trials_by(r, t) for r, _ in pairs]
        b = [trials_by(s, clock(r, s, t)) for r, s in pairs]
        rows.append((f"trials reported by {t:g} s", describe(a), describe(b), mann_whitney(a, b)))
    return rows


def table_check(real: list[Any], blackbox: Any) -> tuple[float, str, str]:
    """Median real/tabulated runtime of the same (configuration, seed, epoch) (and a description with quartiles),
    and the share of real valid_loss values equal to the table's."""
    import numpy as np

    names = blackbox.space.names
    seed_index = {int(seed): i for i, seed in enumerate(blackbox.seeds)}
    runtime_index, loss_index = blackbox.objective_index("runtime"), blackbox.objective_index("valid_loss")
    ratios, equal, total = [], 0, 0
    lookup = blackbox.row_lookup()
    for run in real:
        results = run.results
        keys = zip(*(results[name].tolist() for name in names))
        for key, seed, epoch, runtime, loss in zip(
            keys, results["seed"], results["epoch"], results["runtime"], results["valid_loss"]
        ):
            if loss != loss:  # a failed trial's row
                continue
            values = blackbox.objectives[lookup[key], seed_index[int(seed)], int(epoch) - 1]
            ratios.append(runtime / values[runtime_index])
            equal += bool(np.isclose(loss, values[loss_index], rtol=1e-9, atol=1e-12))
            total += 1
    q25, median, q75 = np.quantile(ratios, [0.25, 0.5, 0.75])
    return float(median), f"{median:.3g} [{q25:.3g}, {q75:.3g}] over {total} epochs", f"{equal} of {total}"


def costs(real: list[Any]) -> list[tuple[str, str]]:
    import numpy as np

    def per_run(key: str) -> str:
        return describe([float(run.metadata.get(key) or 0.0) for run in real])

    startup = [s for run in real for s in run.metadata["worker_startup_seconds"]]
    loads = [run.metadata.get("load_average_at_start") or [np.nan] for run in real]
    loads += [run.metadata.get("load_average_at_end") or [np.nan] for run in real]
    return [
        ("worker start-up per process (s)", describe(startup)),
        ("segment set-up per run (s, summed)", per_run("segment_setup_seconds")),
        ("workers waiting for decisions per run (s)", per_run("decision_wait_seconds")),
        ("decision real seconds per run", per_run("decision_wall_seconds")),
        ("checkpoint directories and copies per run (s)", per_run("checkpoint_seconds")),
        ("1-minute load average at run start/end", describe([load[0] for load in loads])),
    ]


def checkpoint_cost(repeats: int = 3) -> str:
    """Median seconds per epoch of train_mlp with and without checkpoint_dir, on a few configurations."""
    import tempfile

    import numpy as np

    from blackbox_repository.embedded.sklearn_mlp_digits import all_configs, train_mlp

    configs = all_configs()[:: len(all_configs()) // 6][:6]
    timings: dict[bool, list[float]] = {False: [], True: []}
    for config in configs:
        for with_checkpoint in (False, True) * repeats:
            with tempfile.TemporaryDirectory() as directory:
                iterator = train_mlp(config, 0, epochs=5, checkpoint_dir=directory if with_checkpoint else None)
                started = time.perf_counter()
                for _ in iterator:
                    pass
                timings[with_checkpoint].append((time.perf_counter() - started) / 5)
    plain, saved = np.median(timings[False]), np.median(timings[True])
    return f"{plain * 1000:.2f} ms per epoch without, {saved * 1000:.2f} ms with ({saved / plain:.2f}x)"


def print_table(header: list[str], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))


def report(args: argparse.Namespace, real_tag: str, sim_tag: str) -> None:
    from blackbox_repository import BlackboxRepository
    from blackbox_repository.tabulate import machine_info

    blackbox = BlackboxRepository().load(NAME)
    table_machine = blackbox.metadata.get("machine", {})
    here = machine_info()
    print(f"\nmachine now: {here['cpu']}, {here['cpus_available']} CPUs available, load {os.getloadavg()}")
    print(
        f"table measured on: {table_machine.get('cpu')}, {table_machine.get('cpus_available')} CPUs, "
        f"n_jobs={blackbox.metadata.get('n_jobs')}"
    )
    print(
        f"budget {args.budget:g} s, {args.n_workers} workers, {args.seeds} seeds, "
        f"{'no checkpoints' if args.no_checkpoints else 'train_mlp checkpoints every epoch'}"
    )
    print(f"checkpoint cost (in this process): {checkpoint_cost()}")
    for method in args.methods:
        real, sim = load_runs(args.results_dir, real_tag, method), load_runs(args.results_dir, sim_tag, method)
        print(f"\n== {method}: {len(real)} real runs, {len(sim)} simulated runs")
        print_table(["", "real", "simulated", "Mann-Whitney p"], comparison_rows(real, sim, args.times))
        ratio, described, equal = table_check(real, blackbox)
        print(f"epoch runtime real / tabulated (same configuration, seed, epoch): median {described}")
        print(f"real valid_loss equal to the table's: {equal}")
        print(f"calibrated: the simulated clock x {ratio:.3g} (runtime ratio) + each real run's start-up delay")
        rows = calibrated_rows(real, sim, args.times, ratio)
        print_table(["", "real", "simulated, calibrated", "Mann-Whitney p"], rows)
        print_table(["real-only cost", "median [25%, 75%]"], costs(real))
        reasons = sorted({run.metadata["stop_reason"] for run in real} | {run.metadata["stop_reason"] for run in sim})
        print(f"stop reasons: {', '.join(reasons)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=float, default=20.0, help="real (and simulated) seconds per run")
    parser.add_argument("--n_workers", type=int, default=2)
    parser.add_argument("--methods", nargs="+", default=["RandomSearch", "ASHA"])
    parser.add_argument("--times", type=float, nargs="+", default=[2.5, 5.0, 10.0, 20.0])
    parser.add_argument("--results_dir", type=Path, default=Path("results"))
    parser.add_argument("--start_method", default="spawn", choices=["spawn", "forkserver"])
    parser.add_argument("--no_checkpoints", action="store_true", help="tune train_mlp without checkpoint_dir")
    parser.add_argument("--fresh", action="store_true", help="new tags (a time suffix) instead of reusing runs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    suffix = f"-{int(time.time())}" if args.fresh else ""
    suffix += "-nockpt" if args.no_checkpoints else ""
    real_tag, sim_tag = REAL_TAG + suffix, SIM_TAG + (f"-{int(time.time())}" if args.fresh else "")
    budget_tag = f"-b{args.budget:g}-w{args.n_workers}"
    real_tag, sim_tag = real_tag + budget_tag, sim_tag + budget_tag
    started = time.perf_counter()
    print(f"real runs ({len(args.methods)} methods x {args.seeds} seeds x {args.budget:g} s) ...", flush=True)
    run_real(args, real_tag)
    print(f"simulated runs ... (real runs took {time.perf_counter() - started:.0f} s)", flush=True)
    run_simulated(args, sim_tag)
    report(args, real_tag, sim_tag)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed of the whole ``experiments.run`` job on an NB201-sized table, not only the simulation loop.

THE TABLE IS SYNTHETIC, FOR TIMING ONLY (built as ``benchmarks/simulator_throughput.py`` builds it; pass
its ``--keep-cache`` directory to reuse it). The job: 30 seeds of ASHA, 4 workers, 5 simulated hours.

Printed (real seconds, and CPU seconds of the process where it matters, since a shared machine makes
real time noisy):

- import of ``experiments.run`` in a fresh interpreter;
- simulate one run (mean over the seeds) and write one run (``experiments.store.write_run``, mean);
- the whole command end to end in a fresh interpreter (imports, loading the table, 30 runs, writing);

the fresh-interpreter figures are the best of ``--repeat`` attempts (real and CPU separately).

Targets (issue 11): writing one run costs no more than simulating it; the command <= 1.5 s end to end on
2 cores.

Run: python benchmarks/run_speed.py [--cache DIR] [--seeds 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAME = "synthetic-nb201-sized-timing-only"
BUDGET = 5 * 3600


def ensure_table(cache: Path) -> None:
    """Build the synthetic table into ``cache`` unless it is there (``simulator_throughput.py`` builds it)."""
    if not (cache / NAME / "metadata.json").is_file():
        script = Path(__file__).with_name("simulator_throughput.py")
        subprocess.run([sys.executable, str(script), "--keep-cache", str(cache), "--seeds", "1"], check=True)


def timed_child(code: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Real and CPU (user + system of the child) seconds of a fresh interpreter running ``code``."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run([sys.executable, *code], env=env, check=True, stdout=subprocess.DEVNULL)
    real = time.perf_counter() - started
    after = os.times()
    return real, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def per_run(cache: Path, seeds: int, out: Path) -> tuple[float, float, float, float]:
    """Mean seconds to simulate one run and to write one run: real, real, CPU, CPU."""
    from blackbox_repository import BlackboxRepository
    from experiments import store
    from methods import make_method
    from simulator import StopCriteria, simulate

    blackbox = BlackboxRepository(cache).load(NAME)
    blackbox.row_lookup()
    stop = StopCriteria(max_wallclock_time=BUDGET)
    simulating = writing = simulating_cpu = writing_cpu = 0.0
    for seed in range(seeds):
        scheduler = make_method("ASHA", space=blackbox.space, metric="valid_error", mode="min", max_t=200, seed=seed)
        started, started_cpu = time.perf_counter(), time.process_time()
        result = simulate(blackbox, scheduler, n_workers=4, seed=seed, stop=stop)
        simulating += time.perf_counter() - started
        simulating_cpu += time.process_time() - started_cpu
        started, started_cpu = time.perf_counter(), time.process_time()
        store.write_run(out / f"seed-{seed}", result, "valid_error", {"seed": seed})
        writing += time.perf_counter() - started
        writing_cpu += time.process_time() - started_cpu
    return simulating / seeds, writing / seeds, simulating_cpu / seeds, writing_cpu / seeds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "hpo-run-speed-cache")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ensure_table(args.cache)
    env = {**os.environ, "HPO_BLACKBOX_CACHE": str(args.cache)}

    imports = [timed_child(["-c", "import experiments.run"], env) for _ in range(args.repeat)]
    print(f"import experiments.run: {min(r for r, _ in imports):.3f} s real, {min(c for _, c in imports):.3f} s CPU")

    with tempfile.TemporaryDirectory(prefix="run-speed-") as scratch:
        simulate_one, write_one, simulate_cpu, write_cpu = per_run(args.cache, args.seeds, Path(scratch) / "direct")
        print(
            f"per run: simulate {1000 * simulate_one:.1f} ms real ({1000 * simulate_cpu:.1f} ms CPU), write "
            f"{1000 * write_one:.1f} ms real ({1000 * write_cpu:.1f} ms CPU) (target: write <= simulate)"
        )
        command = [
            "-m", "experiments.run", "--benchmark", NAME, "--method", "ASHA", "--num_seeds", str(args.seeds),
            "--n_workers", "4", "--max_wallclock_time", str(BUDGET),
        ]
        attempts = []
        for attempt in range(args.repeat):
            results = Path(scratch) / f"results-{attempt}"
            attempts.append(timed_child([*command, "--results_dir", str(results)], env))
        real, cpu = min(r for r, _ in attempts), min(c for _, c in attempts)
        print(f"end to end, {args.seeds} seeds of ASHA: {real:.2f} s real, {cpu:.2f} s CPU (target <= 1.5 s)")


if __name__ == "__main__":
    main()

"""What the study machinery costs per run, and Ray against local processes (``experiments.study``).

The runs are short on purpose, so that the machinery is what is measured: random search on the embedded
benchmark ``sklearn-mlp-digits`` (a real table) stopped after ``--max_trials`` trials, ``--runs`` seeds.

Printed:

1. **Per-run overhead on the local backend** (``jobs=1``: everything in this process, so the clocks add up):
   the study's wall time minus the simulations' own wall time (``real_time_seconds`` of each run, measured
   around ``simulate``), per run, split into writing the run (the durable local writer: two tables synced,
   ``metadata.json`` renamed into place) and the rest (planning: checking each run is not complete;
   dispatching; building the method; progress). Target (issue 14): <= 10 ms per run beyond the simulation.
   Also the cost of a resumed study that finds every run complete (verified from its stamp).
2. **1,000 short runs, local processes vs a local Ray**, both with ``--jobs`` (default 2) CPUs, each into a
   fresh results directory: wall time with and without starting Ray (a cluster that is already up is the
   usual case of ``--address auto``), and once more on Ray's workers once warm (a Ray worker is a fresh
   process that imports the stack and loads the benchmark on its first run, ~1 s; forked local workers
   inherit the imports). Target: Ray within 25% of local processes.
3. **What decides throughput on a cluster**: the driver's CPU time per run under Ray (submitting, waiting,
   recording; it does not grow with the cluster) against a run's cost on a worker (simulation + storing),
   and the time to store one run on S3 (moto's server on this machine, with ``--s3``: a lower bound for a
   real object store).

Run: python benchmarks/study_overhead.py [--runs 1000] [--jobs 2] [--max_trials 10] [--s3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

SPEC = """
tag = "overhead"
results = "{results}"
num_seeds = {runs}
jobs = {jobs}
benchmarks = ["sklearn-mlp-digits"]
methods = ["RandomSearch"]
{budget}
"""


def write_spec(directory: Path, runs: int, jobs: int, max_trials: int) -> Path:
    path = directory / "study.toml"
    budget = f"[defaults]\nmax_trials = {max_trials}" if max_trials else ""  # 0: the benchmark's own budget
    path.write_text(SPEC.format(results=(directory / "results").as_posix(), runs=runs, jobs=jobs, budget=budget))
    return path


def timed_writes(destination: type) -> list[float]:
    """Time every ``destination.write_run`` from now on; returns the list the seconds are appended to."""
    writes: list[float] = []
    real_write = destination.write_run

    def timed_write(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return real_write(self, *args, **kwargs)
        finally:
            writes.append(time.perf_counter() - started)

    destination.write_run = timed_write
    destination.untimed_write_run = real_write
    return writes


def untime(destination: type) -> None:
    destination.write_run = destination.untimed_write_run


def local_overhead(runs: int, max_trials: int) -> None:
    from experiments import destinations
    from experiments.study import run_study

    writes = timed_writes(destinations.LocalDestination)
    with tempfile.TemporaryDirectory() as tmp:
        spec = write_spec(Path(tmp), runs, 1, max_trials)
        run_study(spec, figures=False, num_seeds=1)  # imports, loading the table, the settings file: once
        started = time.perf_counter()
        summary = run_study(spec, figures=False)
        total = time.perf_counter() - started
        started = time.perf_counter()
        resumed = run_study(spec, figures=False)
        resume = time.perf_counter() - started
    untime(destinations.LocalDestination)
    done = [run for run in summary.runs if run.status == "run"]
    simulated = sum(run.metadata["real_time_seconds"] for run in done)
    write = sum(writes[1:])
    n = len(done)
    print(f"1. local backend, jobs=1: {n} runs (+1 done before) of RandomSearch, max_trials={max_trials}")
    print(f"   study wall time {total:.2f} s; simulations {simulated:.2f} s ({1000 * simulated / n:.2f} ms/run)")
    overhead = (total - simulated) / n
    print(f"   overhead beyond the simulation: {1000 * overhead:.2f} ms/run "
          f"(writing the run {1000 * write / n:.2f} ms, the rest {1000 * (overhead - write / n):.2f} ms); "
          "target <= 10 ms")
    print(f"   median write {1000 * statistics.median(writes[1:]):.2f} ms; resumed study with all "
          f"{len(resumed.runs)} runs complete: {resume:.2f} s ({1000 * resume / len(resumed.runs):.2f} ms/run)")


def local_vs_ray(runs: int, jobs: int, max_trials: int) -> float:
    import os

    import ray

    from experiments.study import run_study

    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(Path(tmp) / "local")
        spec = write_spec(Path(tmp) / "local", runs, jobs, max_trials)
        started = time.perf_counter()
        summary = run_study(spec, figures=False)
        times["local"] = time.perf_counter() - started
        assert summary.count("run") == runs, summary.format()

        os.makedirs(Path(tmp) / "ray")
        spec = write_spec(Path(tmp) / "ray", runs, jobs, max_trials)
        started = time.perf_counter()
        ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
        times["ray start"] = time.perf_counter() - started
        cpu = time.process_time()
        started = time.perf_counter()
        summary = run_study(spec, backend="ray", figures=False)
        times["ray"] = time.perf_counter() - started
        driver_cpu = time.process_time() - cpu
        assert summary.count("run") == runs, summary.format()
        worker = statistics.mean(run.metadata["real_time_seconds"] for run in summary.runs)
        os.makedirs(Path(tmp) / "ray-warm")  # the same runs again, into a fresh store, on the workers now warm
        spec = write_spec(Path(tmp) / "ray-warm", runs, jobs, max_trials)
        started = time.perf_counter()
        summary = run_study(spec, backend="ray", figures=False)
        times["ray warm"] = time.perf_counter() - started
        assert summary.count("run") == runs, summary.format()
        started = time.perf_counter()
        ray.shutdown()
        times["ray stop"] = time.perf_counter() - started
    with_start = times["ray"] + times["ray start"] + times["ray stop"]
    print(f"2. {runs} runs on {jobs} CPUs: local processes {times['local']:.2f} s "
          f"({runs / times['local']:.0f} runs/s); Ray {times['ray']:.2f} s with Ray already up "
          f"({100 * (times['ray'] / times['local'] - 1):+.0f}%), {with_start:.2f} s counting ray.init "
          f"{times['ray start']:.2f} s and shutdown {times['ray stop']:.2f} s "
          f"({100 * (with_start / times['local'] - 1):+.0f}%); again on the warm workers (modules imported, benchmark "
          f"loaded) {times['ray warm']:.2f} s ({100 * (times['ray warm'] / times['local'] - 1):+.0f}%); "
          "target within 25%")
    per_run_driver = driver_cpu / runs
    print(f"3. driver CPU per run under Ray {1000 * per_run_driver:.2f} ms; a run's simulation on a worker "
          f"{1000 * worker:.2f} ms (+ storing it)")
    return per_run_driver


def s3_write_cost(max_trials: int) -> float:
    import os

    import boto3
    from moto.server import ThreadedMotoServer

    from experiments.study import run_study
    from experiments.study_spec import load_study

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="overhead")
    import dataclasses

    from experiments import destinations

    writes = timed_writes(destinations.RemoteDestination)
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_study(write_spec(Path(tmp), 50, 1, max_trials))
        spec = dataclasses.replace(spec, results="s3://overhead/p",
                                   storage_options={"client_kwargs": {"endpoint_url": endpoint}})
        run_study(spec, figures=False)
    untime(destinations.RemoteDestination)
    server.stop()
    write = statistics.median(writes[1:])
    print(f"   storing one run on S3 (moto on this machine, 3 PUTs + 1 DELETE): median {1000 * write:.1f} ms")
    return write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max_trials", type=int, default=10, help="0: the benchmark's 10 simulated seconds")
    parser.add_argument("--s3", action="store_true", help="also time storing runs on moto's S3 server")
    args = parser.parse_args()
    local_overhead(min(args.runs, 300), args.max_trials)
    driver = local_vs_ray(args.runs, args.jobs, args.max_trials)
    if args.s3:
        s3_write_cost(args.max_trials)
    print(f"   one driver keeps up with about {1 / driver:.0f} runs/s: with runs of T seconds (simulation + store) "
          f"on W worker CPUs, throughput = min(W / T, {1 / driver:.0f}/s)")


if __name__ == "__main__":
    main()

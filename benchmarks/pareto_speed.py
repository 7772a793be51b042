"""Speed of non-dominated sorting (``methods.pareto``) and hypervolume (``plotting.hypervolume``) at the sizes a
multi-objective method meets.

Random points (synthetic, for timing only): a cloud, where most points are dominated and fronts are many, and a
curved front, where every point is on the first front. Printed: the median and best of ``--repeat`` timings (ms) of
``nondominated_ranks``, ``hypervolume`` and ``crowding_distance`` (of the first front) for 2 and 3 objectives, and
``hypervolume_trace`` (hypervolume over time) of a run of ``--results`` results.
Target (issue 15): sorting and hypervolume <= 1 ms per decision for 1,000 points in 2-D.

Run: python benchmarks/pareto_speed.py [--points 1000] [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from methods.pareto import crowding_distance, nondominated_ranks
from plotting.hypervolume import hypervolume, hypervolume_trace


def timed(function, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(1000 * (time.perf_counter() - started))
    return statistics.median(times), min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--results", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{args.points} points, median / best of {args.repeat} (ms)")
    for m in (2, 3):
        directions = np.abs(rng.normal(size=(args.points, m)))
        shapes = {
            "cloud": rng.random((args.points, m)),
            "front": directions / np.linalg.norm(directions, axis=1, keepdims=True),
        }
        for shape, points in shapes.items():
            reference = np.full(m, 1.1)
            ranks = nondominated_ranks(points)
            first = points[ranks == 0]
            sort = timed(lambda points=points: nondominated_ranks(points), args.repeat)
            repeat = max(3, args.repeat // (10 * (m - 1)))
            volume = timed(lambda points=points, reference=reference: hypervolume(points, reference), repeat)
            crowd = timed(lambda first=first: crowding_distance(first), args.repeat)
            total = sort[0] + volume[0]
            print(
                f"  {m}-D {shape:5s} ({ranks.max() + 1:3d} fronts, {len(first):4d} on the first): "
                f"sort {sort[0]:.3f} / {sort[1]:.3f}, hypervolume {volume[0]:.3f} / {volume[1]:.3f}, "
                f"crowding {crowd[0]:.3f} / {crowd[1]:.3f}; sort + hypervolume {total:.3f}"
                + ("  (target <= 1 ms)" if m == 2 else "")
            )
        run = rng.random((args.results, m))
        started = time.perf_counter()
        hypervolume_trace(run, np.full(m, 1.1))
        print(
            f"  {m}-D hypervolume over time of a run of {args.results} results: "
            f"{1000 * (time.perf_counter() - started):.1f} ms"
        )


if __name__ == "__main__":
    main()

"""Paired seeds: every method sees the same randomness for the same seed number.

For experiment seed ``s`` (0, 1, 2, ...) and master random seed ``m``:

- run seed ``r = (m + s) mod (2**31 - 1)``, identical for every method;
- ``SeedSequence(r).spawn(2)`` gives two independent children; the first 32-bit word of each is the
  simulator seed (which benchmark seed every trial replays) and the method seed (all randomness
  of the method), in that order.

So trial ``k`` replays the same benchmark seed under every method, and methods sharing a searcher
(e.g. random search and ASHA) propose the same configurations in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEED_MODULUS = 2**31 - 1


@dataclass(frozen=True)
class RunSeeds:
    """The seeds of one run: ``run_seed`` and the two seeds derived from it."""

    run_seed: int
    simulator_seed: int
    method_seed: int


def run_seed(master_random_seed: int, seed: int) -> int:
    """``(master_random_seed + seed) mod (2**31 - 1)``: the same for every method."""
    return (master_random_seed + seed) % SEED_MODULUS


def derive_seeds(master_random_seed: int, seed: int) -> RunSeeds:
    """Run seed and the simulator and method seeds spawned from it (deterministic)."""
    run = run_seed(master_random_seed, seed)
    simulator_child, method_child = np.random.SeedSequence(run).spawn(2)
    return RunSeeds(
        run_seed=run,
        simulator_seed=int(simulator_child.generate_state(1, dtype=np.uint32)[0]),
        method_seed=int(method_child.generate_state(1, dtype=np.uint32)[0]),
    )

"""One BLAS thread for the GP's linear algebra.

For the matrices of a GP searcher (up to ~500 × 500) a second OpenBLAS thread costs more in wake-ups than it
saves (log marginal likelihood with gradient at 500 rows: 17 ms on one thread, 31–40 ms on two, on the 2-core
CI machine), and parallel runs of the simulator already use the cores. One thread also fixes the order of
floating-point sums, which keeps results identical across machines with different core counts.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()


def blas_single_thread() -> AbstractContextManager:
    """Context in which BLAS uses one thread (restored on exit); costs a few microseconds."""
    return _controller().limit(limits=1, user_api="blas")

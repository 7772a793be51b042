"""Keep freed memory for reuse instead of returning it to the operating system (glibc only).

Every likelihood evaluation of a GP fit allocates a handful of n × n arrays (2 MB each at 500 rows). glibc
serves blocks that large with fresh ``mmap`` calls and unmaps them when freed, so each evaluation pays for
tens of thousands of page faults: at 500 rows that is about half of its CPU time (18 ms against 9 ms per
evaluation of the log marginal likelihood with its gradient, measured on the 2-core CI machine). Raising
glibc's mmap and trim thresholds makes freed blocks stay in the heap and be reused. The price is that the
process keeps its peak heap resident (for a GP searcher: a few tens of MB). Elsewhere than glibc this does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
from functools import cache

logger = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 1 << 30  # blocks up to 1 GiB come from the heap and freed memory stays there


@cache
def retain_freed_memory() -> bool:
    """Set glibc's thresholds once per process; True if they were set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    done = mallopt(_M_MMAP_THRESHOLD, _THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, _THRESHOLD) == 1
    if not done:
        logger.debug("could not raise glibc's mmap/trim thresholds; GP fits will be slower")
    return done

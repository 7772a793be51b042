"""Benchmarks as data: tabulated objectives in one columnar format, a cache and generators."""

from blackbox_repository.blackbox import Blackbox, BlackboxBase, Objective
from blackbox_repository.errors import BlackboxError, ChecksumError
from blackbox_repository.repository import (
    BlackboxRepository,
    list_blackboxes,
    load_blackbox,
    register_generator,
)
from blackbox_repository.storage import read_blackbox, write_blackbox

__all__ = [
    "Blackbox",
    "BlackboxBase",
    "BlackboxError",
    "BlackboxRepository",
    "ChecksumError",
    "Objective",
    "list_blackboxes",
    "load_blackbox",
    "read_blackbox",
    "register_generator",
    "write_blackbox",
]

# registers the converters of NASBench-201, FCNet and LCBench (imported last: they use the repository)
from blackbox_repository import converters  # noqa: E402, F401

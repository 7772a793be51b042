"""Converters of original benchmark files (NASBench-201, FCNet, LCBench) into the repository's format.

Importing this package registers one generator per benchmark name with ``register_generator``; one
source file yields several benchmarks (all are stored). ``FAMILIES`` maps a family name (``nas201``,
``fcnet``, ``lcbench``) to its converter, for ``python -m blackbox_repository.convert``.

Every converter is ``convert(source_path=None, *, cache_dir=None, urls=None, progress=True)`` and
yields ``Blackbox`` objects: from a local copy (``source_path``) or from a download into
``<cache_dir>/sources``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from blackbox_repository.blackbox import Blackbox
from blackbox_repository.converters import fcnet, lcbench, nasbench201
from blackbox_repository.converters.sources import SourceSpec
from blackbox_repository.errors import BlackboxError
from blackbox_repository.repository import register_generator

Converter = Callable[..., Iterator[Blackbox]]


@dataclass(frozen=True, slots=True)
class Family:
    """A source file and the benchmarks its converter yields."""

    name: str
    names: tuple[str, ...]
    convert: Converter
    spec: SourceSpec


FAMILIES: dict[str, Family] = {
    "nas201": Family("nas201", tuple(nasbench201.NAMES.values()), nasbench201.convert_nasbench201, nasbench201.SPEC),
    "fcnet": Family("fcnet", tuple(fcnet.NAMES.values()), fcnet.convert_fcnet, fcnet.SPEC),
    "lcbench": Family("lcbench", lcbench.NAMES, lcbench.convert_lcbench, lcbench.SPEC),
}


def family_of(name: str) -> Family:
    """The family of a benchmark or family name; a clear error naming the known ones otherwise."""
    if name in FAMILIES:
        return FAMILIES[name]
    for family in FAMILIES.values():
        if name in family.names or (family.name == "lcbench" and name.startswith(lcbench.PREFIX)):
            return family
    raise BlackboxError(
        f"no converter for {name!r}; use a family ({', '.join(FAMILIES)}) or one of its benchmarks, e.g. "
        f"{', '.join(family.names[0] for family in FAMILIES.values())}"
    )


def convert(
    name: str,
    source_path: Path | str | None = None,
    *,
    cache_dir: Path | str | None = None,
    urls: Sequence[str] | None = None,
    progress: bool = True,
) -> Iterator[Blackbox]:
    """Every benchmark of the source file behind ``name`` (a benchmark or family name).

    ``urls`` replaces the published download URLs (e.g. a mirror); unused with ``source_path``.
    """
    family = family_of(name)
    return family.convert(
        Path(source_path) if source_path is not None else None, cache_dir=cache_dir, urls=urls, progress=progress
    )


for _family in FAMILIES.values():
    register_generator(_family.names, _family.convert)

__all__ = ["FAMILIES", "Family", "convert", "family_of"]

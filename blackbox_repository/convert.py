"""Convert original benchmark files into the benchmark cache.

Command line::

    python -m blackbox_repository.convert NAME [--source-path PATH] [--cache-dir DIR] [--url URL]

NAME is a benchmark (``nas201-cifar10``, ``fcnet-protein``, ``lcbench-Fashion-MNIST``, ...) or a
family (``nas201``, ``fcnet``, ``lcbench``). Every benchmark of the source file is converted: e.g.
``nas201-cifar10`` also writes ``nas201-cifar100`` and ``nas201-ImageNet16-120``. Without
``--source-path`` the original file is downloaded into ``<cache>/sources`` (from ``--url`` if given,
e.g. a mirror, else from where it is published). One line per benchmark
written goes to stdout; an error is one line ``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from blackbox_repository.blackbox import Blackbox
from blackbox_repository.cli import OneLineErrorParser
from blackbox_repository.converters import FAMILIES, family_of
from blackbox_repository.errors import BlackboxError
from blackbox_repository.repository import BlackboxRepository

logger = logging.getLogger(__name__)


def convert_into(
    name: str,
    source_path: Path | str | None = None,
    *,
    repository: BlackboxRepository | None = None,
    urls: Sequence[str] | None = None,
    progress: bool = True,
    on_written: Callable[[Blackbox, Path], None] | None = None,
) -> list[Path]:
    """Convert the source file behind ``name`` and store every benchmark it holds; returns their directories.

    Args:
        name: a benchmark or family name.
        source_path: local copy of the original file; None downloads it into ``<cache>/sources``.
        repository: where to store (default: the default repository); its cache holds the download.
        urls: download URLs replacing the published ones (a mirror).
        progress: show progress bars.
        on_written: called with each benchmark and its directory once it is stored.
    """
    repository = repository or BlackboxRepository()
    family = family_of(name)
    written: list[Path] = []

    def stored(blackbox: Blackbox, directory: Path) -> None:
        written.append(directory)
        logger.info("stored %r in %s", blackbox.name, directory)
        if on_written is not None:
            on_written(blackbox, directory)

    names = repository.generate_from(family.convert, source_path, on_written=stored, urls=urls, progress=progress)
    if name != family.name and name not in names:
        raise BlackboxError(f"the source file did not hold {name!r}; it held {', '.join(names) or 'nothing'}")
    return written


def _summary(blackbox: Blackbox, path: Path) -> str:
    metric = np.asarray(blackbox.objectives[:, :, 0, blackbox.objective_index(blackbox.metric)])
    missing = int(np.isnan(metric).sum())
    return (
        f"wrote {blackbox.name} to {path}: {blackbox.num_configs} configurations x {len(blackbox.seeds)} seeds x "
        f"{len(blackbox.fidelities)} {blackbox.fidelity_name}s, objectives {', '.join(blackbox.objective_names)}; "
        f"metric {blackbox.metric} ({blackbox.mode}); {missing} (configuration, seed) runs without data"
    )



def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = OneLineErrorParser(
        prog="python -m blackbox_repository.convert",
        description="Convert the original files of a benchmark (all benchmarks of that file) into the cache.",
        allow_abbrev=False,
    )
    parser.add_argument(
        "name", help=f"a benchmark (e.g. nas201-cifar10) or a family: {', '.join(FAMILIES)}"
    )
    parser.add_argument("--source-path", type=Path, help="local copy of the original file (skips the download)")
    parser.add_argument("--cache-dir", type=Path, help="benchmark cache (default: $HPO_BLACKBOX_CACHE or ~/.cache)")
    parser.add_argument(
        "--url", action="append", dest="urls", metavar="URL",
        help="download from this URL (e.g. a mirror) instead of the published one; repeat to try several",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the converter does")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s" if args.verbose else "warning: %(message)s",
    )
    started = time.perf_counter()
    try:
        written = convert_into(
            args.name,
            args.source_path,
            repository=BlackboxRepository(args.cache_dir),
            urls=args.urls,
            progress=not args.no_progress,
            on_written=lambda blackbox, path: print(_summary(blackbox, path), flush=True),
        )
    except KeyboardInterrupt:
        print("error: interrupted; run again to convert (a download resumes where it stopped)", file=sys.stderr)
        return 130
    except (BlackboxError, OSError) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return 2
    except Exception as error:  # never a traceback for a user: one line naming the failure
        print(f"error: conversion failed unexpectedly ({type(error).__name__}: {_one_line(error)})", file=sys.stderr)
        return 2
    print(f"converted {len(written)} benchmark(s) in {time.perf_counter() - started:.1f} s")
    return 0


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark repository: embedded benchmarks, a local cache, and generation on first use.

Where a benchmark comes from, in order:
1. embedded in this package (``blackbox_repository/data/<name>``, shipped with the wheel);
2. the local cache directory (``$HPO_BLACKBOX_CACHE`` or ``~/.cache/hpo-workbench/blackboxes``);
3. a registered generator (a converter of original files), run once; its output goes to the cache.
   One source file often holds several benchmarks (NASBench-201: three datasets): a generator
   yields all of them, and all are stored.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from blackbox_repository.blackbox import Blackbox
from blackbox_repository.errors import BlackboxError
from blackbox_repository.storage import METADATA_FILE, read_blackbox, write_blackbox

logger = logging.getLogger(__name__)

CACHE_ENV = "HPO_BLACKBOX_CACHE"
EMBEDDED_DIR = Path(__file__).parent / "data"

#: ``generator(source_path)`` yields benchmarks converted from the original files: from a local copy
#: at ``source_path`` if given, otherwise downloaded.
Generator = Callable[[Path | None], Iterator[Blackbox]]
GENERATORS: dict[str, Generator] = {}


def register_generator(names: str | Iterable[str], generator: Generator) -> None:
    """Make ``names`` loadable: ``generator(source_path)`` builds them the first time one is asked for."""
    for name in [names] if isinstance(names, str) else names:
        GENERATORS[name] = generator


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "hpo-workbench" / "blackboxes"


class BlackboxRepository:
    """Loads benchmarks by name from the embedded data, the cache or a generator."""

    def __init__(self, cache_dir: Path | str | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    def list(self) -> list[str]:
        """Names of every benchmark that ``load`` can return (stored or generatable)."""
        names = set(GENERATORS) | set(self._stored(EMBEDDED_DIR)) | set(self._stored(self.cache_dir))
        return sorted(names)

    def path(self, name: str) -> Path:
        embedded = EMBEDDED_DIR / name
        if (embedded / METADATA_FILE).is_file():
            return embedded
        return self.cache_dir / name

    def load(self, name: str, *, verify: bool = True) -> Blackbox:
        """The benchmark ``name``; generated into the cache first if it is not stored yet."""
        path = self.path(name)
        if not (path / METADATA_FILE).is_file():
            if name not in GENERATORS:
                raise BlackboxError(f"unknown benchmark {name!r}; available: {', '.join(self.list()) or 'none'}")
            logger.info("benchmark %r is not in the cache %s; generating it", name, self.cache_dir)
            self.generate(name)
        return read_blackbox(path, verify=verify)

    def generate(self, name: str, source_path: Path | str | None = None) -> list[str]:
        """Convert the original files behind ``name`` into the cache; returns every benchmark written."""
        if name not in GENERATORS:
            raise BlackboxError(f"no converter for {name!r}; converters exist for: {', '.join(sorted(GENERATORS))}")
        written = []
        for blackbox in GENERATORS[name](Path(source_path) if source_path is not None else None):
            self.store(blackbox)
            written.append(blackbox.name)
        if name not in written:
            raise BlackboxError(f"the converter for {name!r} did not produce it (it wrote {written})")
        return written

    def store(self, blackbox: Blackbox) -> Path:
        """Write ``blackbox`` into the cache under its name (atomically)."""
        if (EMBEDDED_DIR / blackbox.name / METADATA_FILE).is_file():
            raise BlackboxError(f"{blackbox.name!r} is an embedded benchmark; choose another name")
        return write_blackbox(self.cache_dir / blackbox.name, blackbox)

    @staticmethod
    def _stored(directory: Path) -> list[str]:
        if not directory.is_dir():
            return []
        return [p.name for p in directory.iterdir() if (p / METADATA_FILE).is_file()]


def load_blackbox(name: str, *, verify: bool = True) -> Blackbox:
    """Load ``name`` from the default repository."""
    return BlackboxRepository().load(name, verify=verify)


def list_blackboxes() -> list[str]:
    """Names available in the default repository."""
    return BlackboxRepository().list()

"""The benchmark repository: embedded benchmarks, a local cache, and generation on first use.

Where a benchmark comes from, in order:
1. embedded in this package (``blackbox_repository/data/<name>``, shipped with the wheel);
2. the local cache directory (``$HPO_BLACKBOX_CACHE`` or ``~/.cache/hpo-workbench/blackboxes``);
3. an S3 mirror of converted benchmarks (``mirror=`` or ``$HPO_BLACKBOX_MIRROR``, ``s3://bucket/prefix``),
   downloaded into the cache with checksum verification (see ``mirror.py``);
4. a registered generator (a converter of original files), run once; its output goes to the cache.
   One source file often holds several benchmarks (NASBench-201: three datasets): a generator
   yields all of them, and all are stored. With a mirror and ``upload_generated`` (or
   ``$HPO_BLACKBOX_MIRROR_UPLOAD=1``) they are uploaded to the mirror as well.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blackbox_repository.blackbox import Blackbox, BlackboxBase
from blackbox_repository.errors import BlackboxError, ChecksumError
from blackbox_repository.locations import (
    CACHE_ENV,
    EMBEDDED_DIR,
    MIRROR_ENV,
    MIRROR_UPLOAD_ENV,
    YAHPO_PREFIX,
    benchmark_dir,
    default_cache_dir,
)
from blackbox_repository.recovery import recovery_advice
from blackbox_repository.storage import METADATA_FILE, read_blackbox, write_blackbox

if TYPE_CHECKING:
    from blackbox_repository.mirror import S3Mirror

logger = logging.getLogger(__name__)

# re-exported: the names and directories were defined here before ``locations`` existed
__all__ = [
    "CACHE_ENV",
    "EMBEDDED_DIR",
    "GENERATORS",
    "MIRROR_ENV",
    "MIRROR_UPLOAD_ENV",
    "YAHPO_PREFIX",
    "BlackboxRepository",
    "Generator",
    "default_cache_dir",
    "list_blackboxes",
    "load_blackbox",
    "register_generator",
]

#: ``generator(source_path, *, cache_dir, **options)`` yields benchmarks converted from the original
#: files: from a local copy at ``source_path`` if given, otherwise downloaded into ``<cache_dir>/sources``.
Generator = Callable[..., Iterator[Blackbox]]
GENERATORS: dict[str, Generator] = {}


def register_generator(names: str | Iterable[str], generator: Generator) -> None:
    """Make ``names`` loadable: ``generator(source_path, cache_dir=...)`` builds them when first asked for."""
    for name in [names] if isinstance(names, str) else names:
        GENERATORS[name] = generator


#: families of names listed as one entry by ``summarize_names``: (pattern, prefix, suffix)
NAME_FAMILIES = (
    ("nas201-<dataset>", "nas201-", ""),
    ("fcnet-<dataset>", "fcnet-", ""),
    ("lcbench-<dataset>", "lcbench-", ""),
)
#: names outside a family listed one by one at most
MAX_LISTED = 12


def summarize_names(names: Iterable[str], families: Iterable[tuple[str, str, str]] = NAME_FAMILIES) -> str:
    """A short listing of benchmark names: each family as ``pattern (count)``, then at most MAX_LISTED others."""
    parts, rest = [], sorted(names)
    for pattern, prefix, suffix in families:
        members = [n for n in rest if n.startswith(prefix) and n.endswith(suffix) and len(n) > len(prefix + suffix)]
        if members:
            parts.append(f"{pattern} ({len(members)})" if len(members) > 1 else members[0])
            rest = [n for n in rest if n not in members]
    listed = rest[:MAX_LISTED] + ([f"... {len(rest) - MAX_LISTED} more"] if len(rest) > MAX_LISTED else [])
    return ", ".join(listed + parts) or "none"


def reserved_name_problem(name: str) -> str | None:
    """Why ``name`` may not be used for a benchmark of one's own (None if it may).

    Reserved: the names of embedded benchmarks, of registered converters and their families (any
    ``nas201-*``, ``fcnet-*``, ``lcbench-*``: the prefix of a converter's names) and of YAHPO surrogates
    (``yahpo-*``): the repository resolves those names itself, so a table stored under one would be shadowed
    or shadow the real benchmark.
    """
    if (EMBEDDED_DIR / name / METADATA_FILE).is_file():
        return f"{name!r} is the name of an embedded benchmark"
    if name in GENERATORS:
        return f"{name!r} is the name of a converted benchmark"
    prefixes = sorted({YAHPO_PREFIX} | {f"{known.partition('-')[0]}-" for known in GENERATORS if "-" in known})
    prefix = next((prefix for prefix in prefixes if name.lower().startswith(prefix.lower())), None)
    if prefix is not None:
        return f"names starting with {prefix!r} are reserved for the repository's own benchmarks"
    return None


class BlackboxRepository:
    """Loads benchmarks by name from the embedded data, the cache, an S3 mirror or a generator.

    Args:
        cache_dir: the local cache (default: ``$HPO_BLACKBOX_CACHE`` or ``~/.cache/hpo-workbench/blackboxes``).
        mirror: ``s3://bucket/prefix`` of an S3 mirror (default: ``$HPO_BLACKBOX_MIRROR``; ``""``: none).
        upload_generated: upload generated benchmarks to the mirror (default: ``$HPO_BLACKBOX_MIRROR_UPLOAD=1``).
    """

    def __init__(
        self,
        cache_dir: Path | str | None = None,
        mirror: str | None = None,
        *,
        upload_generated: bool | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        url = os.environ.get(MIRROR_ENV, "") if mirror is None else mirror
        self.mirror: S3Mirror | None = None
        if url:
            from blackbox_repository.mirror import S3Mirror  # not at the top: `python -m` runs that module

            try:
                self.mirror = S3Mirror(url)
            except BlackboxError as error:
                raise BlackboxError(f"${MIRROR_ENV}: {error}" if mirror is None else str(error)) from None
        if upload_generated is None:
            upload_generated = os.environ.get(MIRROR_UPLOAD_ENV, "").lower() in ("1", "true", "yes")
        self.upload_generated = upload_generated

    def list(self) -> list[str]:
        """Names of every benchmark that ``load`` can return (stored, in the mirror or generatable)."""
        names = set(GENERATORS) | set(self._stored(EMBEDDED_DIR)) | set(self._stored(self.cache_dir))
        if self.mirror is not None:
            try:
                names |= set(self.mirror.list())
            except BlackboxError as error:
                logger.warning("not listing the mirror: %s", error)
        return sorted(names)

    def path(self, name: str) -> Path:
        """The directory of ``name``: embedded in the package if it is there, else in the cache."""
        return benchmark_dir(name, self.cache_dir)

    def load(self, name: str, *, verify: bool = True) -> BlackboxBase:
        """The benchmark ``name``; downloaded from the mirror or generated into the cache if not stored yet.

        ``yahpo-<scenario>-<instance>`` names are YAHPO Gym surrogates, evaluated on demand (their model
        files are read from ``$HPO_YAHPO_DATA`` or downloaded beside the cache).
        """
        if name.startswith(YAHPO_PREFIX):
            from blackbox_repository.yahpo import load_yahpo  # not at the top: only YAHPO names need its modules

            return load_yahpo(name)
        path = self.path(name)
        if not (path / METADATA_FILE).is_file() and not self._download_from_mirror(name):
            if name not in GENERATORS:
                raise BlackboxError(
                    f"unknown benchmark {name!r}; available: {summarize_names(self.list())}, "
                    f"{YAHPO_PREFIX}<scenario>-<instance> (YAHPO Gym surrogates)"
                )
            logger.info("benchmark %r is not in the cache %s; generating it", name, self.cache_dir)
            self.generate(name)
        return read_blackbox(path, verify=verify, advice=self._advice)

    def generate(
        self,
        name: str,
        source_path: Path | str | None = None,
        *,
        on_written: Callable[[Blackbox, Path], None] | None = None,
        **options: Any,
    ) -> list[str]:
        """Convert the original files behind ``name`` into the cache; returns every benchmark written.

        Downloads go to ``<cache>/sources``; ``options`` are passed to the generator (e.g. ``urls``,
        ``progress``); ``on_written(blackbox, directory)`` is called as each benchmark is stored.
        """
        if name not in GENERATORS:
            raise BlackboxError(f"no converter for {name!r}; converters exist for: {', '.join(sorted(GENERATORS))}")
        written = self.generate_from(GENERATORS[name], source_path, on_written=on_written, **options)
        if name not in written:
            raise BlackboxError(f"the converter for {name!r} did not produce it (it wrote {', '.join(written)})")
        return written

    def generate_from(
        self,
        generator: Generator,
        source_path: Path | str | None = None,
        *,
        on_written: Callable[[Blackbox, Path], None] | None = None,
        **options: Any,
    ) -> list[str]:
        """Store every benchmark ``generator`` yields (uploading them if so configured); returns their names."""
        source = Path(source_path) if source_path is not None else None
        written = []
        for blackbox in generator(source, cache_dir=self.cache_dir, **options):
            directory = self.store(blackbox)
            written.append(blackbox.name)
            if on_written is not None:
                on_written(blackbox, directory)
            del blackbox  # one converted benchmark in memory at a time
        if self.mirror is not None and self.upload_generated:
            self._upload_generated(written)
        return written

    def store(self, blackbox: Blackbox) -> Path:
        """Write ``blackbox`` into the cache under its name (atomically)."""
        if (EMBEDDED_DIR / blackbox.name / METADATA_FILE).is_file():
            raise BlackboxError(f"{blackbox.name!r} is an embedded benchmark; choose another name")
        return write_blackbox(self.cache_dir / blackbox.name, blackbox)

    def upload(self, name: str) -> str:
        """Upload the stored benchmark ``name`` to the mirror; returns its URL."""
        if self.mirror is None:
            raise BlackboxError(f"no mirror configured; pass mirror='s3://bucket/prefix' or set {MIRROR_ENV}")
        path = self.path(name)
        if not (path / METADATA_FILE).is_file():
            raise BlackboxError(f"{name!r} is not stored in {self.cache_dir}; load or generate it first")
        return self.mirror.upload(path, name)

    def _download_from_mirror(self, name: str) -> bool:
        """Download ``name`` from the mirror into the cache; False if there is no mirror or it lacks ``name``.

        An unreachable mirror is skipped with a warning when a generator can build ``name`` instead.
        """
        if self.mirror is None:
            return False
        try:
            if not self.mirror.exists(name):
                return False
            logger.info("benchmark %r is not in the cache %s; downloading it from %s", name, self.cache_dir,
                        self.mirror.url)
            self.mirror.download(name, self.cache_dir)
        except ChecksumError:
            raise
        except BlackboxError as error:
            if name not in GENERATORS:
                raise
            logger.warning("%s; generating %r instead", error, name)
            return False
        return True

    def _upload_generated(self, names: list[str]) -> None:
        for name in names:
            try:
                self.upload(name)
            except BlackboxError as error:  # the benchmark is in the cache all the same
                logger.warning("generated %r but could not upload it: %s", name, error)

    @staticmethod
    def _advice(directory: Path, metadata: dict[str, Any] | None) -> str:
        return recovery_advice(directory, metadata, converted=directory.name in GENERATORS)

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

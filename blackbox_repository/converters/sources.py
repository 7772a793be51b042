"""Steps shared by the converters: where the original file comes from, its checksum, and clear errors.

A converter reads an original file either from a local copy the user gives (``--source-path``) or
from ``<cache_dir>/sources/<file name>``, downloading it there first (resumable, with a progress bar).

Checksums: none of the three original files (NASBench-201/NATS-Bench, FCNet, LCBench) has a published
SHA-256 that we could find (searched: NATS-Bench, HPOBench, Syne Tune, mf-prior-bench, YAHPO and
others; Syne Tune pins no hash for the NATS file and its FCNet hash is of its own converted files).
So ``SourceSpec.sha256`` is None for all three; instead every converter

1. records the SHA-256 of the file it read in the metadata of each benchmark it writes, and
2. checks the file's structure completely before parsing any value (a bz2 stream decompressed to its
   end, a gzip/tar archive read to its end, a zip member's CRC, an HDF5 signature and superblock, a
   JSON document scanned to its closing brace), so that a truncated or corrupt file gives one line
   saying so and how to fix it, never an error from deep inside a parser.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from blackbox_repository.download import DownloadError, fetch
from blackbox_repository.errors import BlackboxError, ChecksumError
from blackbox_repository.locations import default_cache_dir

logger = logging.getLogger(__name__)

SOURCES_DIR = "sources"
CLI = "python -m blackbox_repository.convert"
_CHUNK = 1 << 22


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Where an original file is published.

    Attributes:
        family: converter family, also accepted by the command line (``"nas201"``).
        filename: name of the original file (also its name in ``<cache>/sources``).
        urls: download URLs, tried in order.
        page: page where a person can download the file by hand.
        sha256: published SHA-256 of the file, or None when none is published.
    """

    family: str
    filename: str
    urls: tuple[str, ...]
    page: str
    sha256: str | None = None

    def hint(self) -> str:
        """How to proceed without a download: the ``--source-path`` option."""
        return (
            f"download {self.filename} by hand from {self.page} and run: "
            f"{CLI} {self.family} --source-path PATH"
        )


@dataclass(frozen=True, slots=True)
class Source:
    """A resolved original file: its path, the URL it came from (None for a local copy)."""

    path: Path
    url: str | None
    spec: SourceSpec

    @property
    def downloaded(self) -> bool:
        return self.url is not None

    def corrupt(self, what: str, detail: str) -> ChecksumError:
        """A one-line error for a truncated or corrupt source; a file we downloaded is deleted."""
        detail = " ".join(str(detail).split()) or "no detail"
        if self.downloaded:
            self.path.unlink(missing_ok=True)
            fix = (
                f"it was deleted, run again to download it again, or {self.spec.hint()}"
            )
        else:
            fix = (
                f"delete it and download a complete copy from {self.spec.page}, then pass it with "
                f"{CLI} {self.spec.family} --source-path PATH"
            )
        return ChecksumError(f"{what} {self.path} is truncated or corrupt ({detail}); {fix}")


def sources_dir(cache_dir: Path | str | None) -> Path:
    """``<cache_dir>/sources``, where downloaded originals are kept."""
    return (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / SOURCES_DIR


def resolve_source(
    spec: SourceSpec,
    source_path: Path | str | None,
    *,
    cache_dir: Path | str | None = None,
    urls: Sequence[str] | None = None,
    progress: bool = True,
) -> Source:
    """The original file: ``source_path`` if given (it must exist), else a download into ``<cache>/sources``.

    Args:
        spec: where the file is published.
        source_path: a local copy (file or directory, as the converter accepts), or None.
        cache_dir: benchmark cache; downloads go to its ``sources`` folder.
        urls: override ``spec.urls`` (tests use ``file://`` URLs).
        progress: show a download progress bar.
    """
    if source_path is not None:
        path = Path(source_path).expanduser()
        if not path.exists():
            raise BlackboxError(
                f"source {path} does not exist; pass the path of {spec.filename} (or of its extracted "
                f"contents) with {CLI} {spec.family} --source-path PATH"
            )
        return Source(path, None, spec)
    dest = sources_dir(cache_dir) / spec.filename
    candidates = tuple(urls) if urls is not None else spec.urls
    if not candidates:
        raise BlackboxError(f"no download URL for {spec.filename}; {spec.hint()}")
    errors = []
    for url in candidates:
        if not dest.is_file():
            logger.info("downloading %s to %s", url, dest)
        try:
            return Source(fetch(url, dest, sha256=spec.sha256, hint=spec.hint(), progress=progress), url, spec)
        except DownloadError as error:
            errors.append(error)
            if len(candidates) > 1:
                logger.warning("%s", error)
    if len(errors) == 1:
        raise errors[0]
    raise DownloadError(
        f"cannot download {spec.filename} from any of {', '.join(candidates)}; {spec.hint()}"
    )


def hash_file(path: Path, *, md5: bool = False) -> dict[str, str]:
    """SHA-256 (and MD5 if asked) of a file, read once."""
    digests = {"sha256": hashlib.sha256()}
    if md5:
        digests["md5"] = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            for digest in digests.values():
                digest.update(chunk)
    return {name: digest.hexdigest() for name, digest in digests.items()}


def copy_hashed(stream: BinaryIO, dest: Path) -> str:
    """Copy a binary stream to ``dest``; returns the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    with open(dest, "wb") as out:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def source_metadata(source: Source, sha256: str, *, converter: str, version: str, **extra: Any) -> dict[str, Any]:
    """Metadata facts every converted benchmark records about its original file."""
    spec = source.spec
    facts = {
        "source_file": spec.filename,
        "source_urls": list(spec.urls),
        "source_page": spec.page,
        "source_path": str(source.path),
        "downloaded_from": source.url,
        "source_sha256": sha256,
        "source_checksum_note": (
            f"checked against the published SHA-256 {spec.sha256}"
            if spec.sha256
            else "no SHA-256 of the original file is published; this is the SHA-256 of the file that was "
            "converted, and its structure was checked completely before parsing"
        ),
        "converter": converter,
        "converter_version": version,
        "converted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    facts.update(extra)
    return facts


def warn_unexpected_count(what: str, found: int, published: int, path: Path) -> None:
    """Log (never raise) when a count differs from the published file: small test files are allowed."""
    if found != published:
        logger.warning(
            "%s holds %d %s; the published file holds %d. Fine for a test file; otherwise the file is "
            "incomplete or a different version",
            path, found, what, published,
        )

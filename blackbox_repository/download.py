"""Downloads of original benchmark files: resumable, checksummed, with a progress bar.

``fetch`` downloads into ``<dest>.part`` and continues an interrupted download with an HTTP range
request; the file gets its final name only once complete and, when a SHA-256 is known, only if it
matches. A file that fails its checksum is never parsed: a truncated archive can otherwise crash a
parser deep inside (a known failure of pickle on a cut bz2 stream).
"""

from __future__ import annotations

import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from blackbox_repository.atomic import sha256_file
from blackbox_repository.errors import BlackboxError, ChecksumError
from blackbox_repository.progress import tqdm

logger = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
TIMEOUT_SECONDS = 60


class DownloadError(BlackboxError):
    """An original file could not be downloaded."""


def fetch(
    url: str,
    dest: Path | str,
    *,
    sha256: str | None = None,
    hint: str = "",
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` unless a complete copy (matching ``sha256``, if given) is there.

    Args:
        url: http(s) or file URL.
        dest: final path of the file.
        sha256: expected SHA-256 of the complete file (None: not published, not checked).
        hint: appended to error messages, e.g. how to pass a local copy instead.
        progress: show a tqdm bar.
    """
    dest = Path(dest)
    if dest.is_file():
        if sha256 is None or sha256_file(dest) == sha256:
            return dest
        logger.warning("%s does not match its checksum; downloading it again", dest)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    _download(url, part, hint, progress)
    if sha256 is not None:
        actual = sha256_file(part)
        if actual != sha256:
            part.unlink()
            raise ChecksumError(
                f"download of {url} is truncated or corrupt (sha256 {actual[:12]}…, expected {sha256[:12]}…); "
                f"it was deleted, run again to retry{_suffix(hint)}"
            )
    os.replace(part, dest)
    return dest


def verify_sha256(path: Path | str, sha256: str | None, *, hint: str = "") -> str:
    """The SHA-256 of ``path``; raises ``ChecksumError`` if it differs from ``sha256`` (when given)."""
    actual = sha256_file(Path(path))
    if sha256 is not None and actual != sha256:
        raise ChecksumError(
            f"{path} is truncated or corrupt (sha256 {actual[:12]}…, expected {sha256[:12]}…){_suffix(hint)}"
        )
    return actual


def _download(url: str, part: Path, hint: str, progress: bool) -> None:
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "hpo-workbench"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing left to fetch: the partial file is complete
            return
        raise DownloadError(f"cannot download {url}: HTTP {error.code} {error.reason}{_suffix(hint)}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise DownloadError(f"cannot download {url}: {reason}{_suffix(hint)}") from None
    with response:
        resumed = offset > 0 and getattr(response, "status", None) == 206
        if not resumed:
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        if resumed:
            logger.info("resuming download of %s at byte %d", url, offset)
        with (
            open(part, "ab" if resumed else "wb") as out,
            tqdm(
                total=total, initial=offset, unit="B", unit_scale=True, desc=Path(url).name, disable=not progress
            ) as bar,
        ):
            try:
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    bar.update(len(chunk))
            except OSError as error:
                raise DownloadError(
                    f"download of {url} was interrupted ({error}); run again to resume it{_suffix(hint)}"
                ) from None
    size = part.stat().st_size
    if total is not None and size != total:
        raise DownloadError(
            f"download of {url} ended after {size} of {total} bytes; run again to resume it{_suffix(hint)}"
        )


def _suffix(hint: str) -> str:
    return f"; {hint}" if hint else ""

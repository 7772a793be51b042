"""download.fetch: a file whose SHA-256 differs from the expected one is never given its final name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from blackbox_repository.download import fetch
from blackbox_repository.errors import ChecksumError


def served(tmp_path: Path, content: bytes) -> str:
    source = tmp_path / "served" / "file.bin"
    source.parent.mkdir()
    source.write_bytes(content)
    return source.as_uri()


def test_a_download_matching_its_checksum_is_kept(tmp_path: Path) -> None:
    url = served(tmp_path, b"payload")
    path = fetch(url, tmp_path / "dest" / "file.bin", sha256=hashlib.sha256(b"payload").hexdigest(), progress=False)
    assert path.read_bytes() == b"payload"


def test_a_download_with_a_wrong_checksum_is_refused_and_deleted(tmp_path: Path) -> None:
    url = served(tmp_path, b"payload, truncated")
    dest = tmp_path / "dest" / "file.bin"
    expected = hashlib.sha256(b"payload").hexdigest()
    with pytest.raises(ChecksumError, match=rf"download of {url} is truncated or corrupt .*expected {expected[:12]}"):
        fetch(url, dest, sha256=expected, hint="pass a local copy", progress=False)
    assert not dest.exists() and not dest.with_name("file.bin.part").exists()


def test_an_existing_file_with_a_wrong_checksum_is_downloaded_again(tmp_path: Path) -> None:
    url = served(tmp_path, b"payload")
    dest = tmp_path / "dest" / "file.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"stale")
    fetch(url, dest, sha256=hashlib.sha256(b"payload").hexdigest(), progress=False)
    assert dest.read_bytes() == b"payload"

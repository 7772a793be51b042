"""Errors of ``plotting`` that are meant for the user (one line each)."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LoadError(ValueError):
    """Stored results cannot be read as asked (one line, meant for the user)."""


class OutputError(ValueError):
    """A figure or table cannot be written where asked (one line, meant for the user)."""


@contextmanager
def output_errors(path: Path) -> Iterator[None]:
    """Turn an ``OSError`` while writing ``path`` (a file in the way, no permission, disk full) into ``OutputError``."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        where = f" ({error.filename})" if error.filename and str(error.filename) != str(path) else ""
        raise OutputError(f"cannot write {path}: {reason}{where}") from None

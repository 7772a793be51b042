"""What the command lines of ``experiments`` share: usage errors as one ``error:`` line with exit status 2."""

from __future__ import annotations

import argparse
import sys


class UsageError(Exception):
    """A bad flag or argument; the command prints it as one line and exits with status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises ``UsageError`` instead of printing usage and exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def fail(message: str) -> int:
    """Print ``message`` as one ``error:`` line on stderr; returns the exit status for bad input (2)."""
    print("error: " + " ".join(message.split()), file=sys.stderr)
    return 2

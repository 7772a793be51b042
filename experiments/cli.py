"""What the command lines of ``experiments`` share: usage errors as one ``error:`` line with exit status 2, the
dash spelling of multi-word flags, and the verbosity of the log."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


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


def underscored(argv: Sequence[str]) -> list[str]:
    """``argv`` with the dash spelling of multi-word flags (``--num-seeds``) turned into the documented one."""
    out = []
    for arg in argv:
        if arg.startswith("--") and len(arg) > 2:
            name, equals, value = arg[2:].partition("=")
            arg = "--" + name.replace("-", "_") + equals + value
        out.append(arg)
    return out


def configure_logging(verbose: int) -> None:
    """Log to stderr: warnings, ``-v`` info, ``-vv`` debug."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)

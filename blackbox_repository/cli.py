"""What the command lines of this package share."""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

#: exit status of a command given bad input
EXIT_BAD_INPUT = 2


def flag_spellings(flag: str) -> list[str]:
    """``--source_path`` and ``--source-path`` for either spelling of a multi-word long flag (underscore first)."""
    if not flag.startswith("--"):
        return [flag]
    body = flag[2:]
    underscore, dash = "--" + body.replace("-", "_"), "--" + body.replace("_", "-")
    return [underscore] if underscore == dash else [underscore, dash]


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, ``error: ...``, with exit status 2.

    Multi-word long flags accept both spellings: the underscore form (``--source_path``, as
    ``experiments.run``'s ``--num_seeds``) is the documented one, the dash form (``--source-path``) an alias.
    """

    def add_argument(self, *name_or_flags: str, **kwargs: Any) -> argparse.Action:
        flags = [spelling for flag in name_or_flags for spelling in flag_spellings(flag)]
        return super().add_argument(*dict.fromkeys(flags), **kwargs)

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)

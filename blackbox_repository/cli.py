"""What the command lines of this package share."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

#: exit status of a command given bad input
EXIT_BAD_INPUT = 2


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, ``error: ...``, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)

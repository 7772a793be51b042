"""Progress bars, imported on first use: ``tqdm.auto`` (which picks a notebook widget when it can) costs ~25 ms
of import time, which every command that loads the package would otherwise pay."""

from __future__ import annotations

from typing import Any


def tqdm(*args: Any, **kwargs: Any) -> Any:
    """``tqdm.auto.tqdm(*args, **kwargs)``."""
    from tqdm.auto import tqdm as auto_tqdm

    return auto_tqdm(*args, **kwargs)

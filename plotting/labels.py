"""Texts that depend on what was loaded: the time axis of real and simulated runs, and a spec's note."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure


def time_label(runs: pd.DataFrame, benchmark: str) -> str:
    """The time axis of a benchmark's runs: simulated (``experiments.run``/``study``), real (``experiments.tuner``:
    ``"clock": "real"`` in the metadata) or both."""
    clocks = set(runs.loc[runs["benchmark"] == benchmark, "clock"]) if "clock" in runs else {"simulated"}
    if clocks == {"real"}:
        return "wall-clock time (s)"
    if "real" in clocks:
        return "time (s; simulated and wall-clock runs)"
    return "simulated time (s)"


def add_note(figure: Figure, text: str, layout: Any) -> None:
    """``text`` in italics at the top of the figure, wrapped to its width (with a title already there, under it);
    the constrained layout makes room for it."""
    size = max(layout.font_size, 8.0)
    wrapped = textwrap.fill(text, max(40, int(figure.get_figwidth() * 72 / (0.5 * size))))
    title = figure._suptitle.get_text() if figure._suptitle is not None else ""
    figure.set_figheight(figure.get_figheight() + (wrapped.count("\n") + 1) * 1.35 * size / 72)
    if title:
        figure.suptitle(f"{title}\n{wrapped}", fontsize=size)
    else:
        figure.suptitle(wrapped, fontsize=size, style="italic")

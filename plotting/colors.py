"""One colour, line style and marker per method, the same in every figure.

Colours come from the colour-blind-friendly Okabe–Ito palette (yellow last: it is weak on white). Known
method names (``KNOWN_METHODS``: the project's methods, in the order of the ``methods`` registry when the
list was written) always get the same slot, whichever methods a figure shows; any other names follow,
sorted. Beyond the palette's size the colours repeat with another line style and marker, so two methods
never share all three.

``KNOWN_METHODS`` is a fixed list rather than the registry itself: ``plotting`` reads results and does not
import ``methods`` (a test checks that every registry name is listed). Append new names at its end, so
that the methods listed before keep their colours in every figure ever made.

A name ``tag/method`` (results loaded with ``label = "tag/method"``) takes the slot of its method if that
is a known name (sorted by tag after that).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: Okabe & Ito (2008), "Color Universal Design"; black moved to the end (it reads as "reference").
OKABE_ITO = (
    "#E69F00",  # orange
    "#0072B2",  # blue
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#F0E442",  # yellow
)
#: the first four are matplotlib's named styles; the dash patterns after them give slots 32..63 styles of their own
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (1, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (8, 4, 2, 4)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

#: The colour slots of the project's methods, slot i for name i (append new names; never reorder).
KNOWN_METHODS = (
    "RandomSearch",
    "ASHA",
    "ASHA-STOP",
    "ASHA-PROM",
    "ASHA-HB",
    "ASHA-HB-PROM",
    "ASHA-COST",
    "Hyperband",
    "Hyperband-STOP",
    "PASHA",
    "MedianStoppingRule",
    "SyncHyperband",
    "SyncSH",
    "DEHB",
    "GridSearch",
    "REA",
    "PBT",
    "ASHA-RANK",
    "BayesianOptimization",
    "MOBSTER-JOINT",
    "MOBSTER",
    "MOBSTER-INDEP",
    "HYPERTUNE-INDEP",
    "HYPERTUNE4-INDEP",
    "HYPERTUNE-JOINT",
    "SYNCMOBSTER",
    "DyHPO",
    "KDE",
    "BOHB",
    "SyncBOHB",
    "BORE",
    "ASHA-BORE",
    "CQR",
    "ASHA-CQR",
    # labels of the seed documentation's comparisons (studies/*.toml), ordered so that the methods of each of
    # their figures get different colours
    "SYNCHB",
    "ASHA6-STOP",
    "MOBSTER-STOP",
    "MOBSTER-PROM",
    "RS",
    "HYPERTUNE1-INDEP",
    "SYNCSH",
    "BO",
    # the multi-objective, constrained, cost-aware and transfer methods, and the labels of their studies
    # (studies/multi-objective.toml, constrained.toml, transfer.toml), ordered so that each of their figures
    # has distinct colours
    "MOASHA",
    "MOREA",
    "NSGA2",
    "MORandomScalarizationBayesOpt",
    "LinearScalarization",
    "ConstrainedBayesianOptimization",
    "CostAwareBayesianOptimization",
    "LSBO",
    "ZeroShotTransfer",
    "BoundingBox",
    "QuantileBasedSurrogateSearcher",
    "MOBO",
    "RUSH",
    "ASHA-CTS",
    "CBO",
)


_KNOWN_SLOTS = {name: slot for slot, name in enumerate(KNOWN_METHODS)}


@dataclass(frozen=True)
class MethodStyle:
    """How one method is drawn."""

    color: str
    linestyle: str | tuple  # a matplotlib line style: a name or (offset, dash pattern)
    marker: str


def method_order(names: Iterable[str]) -> list[str]:
    """``names`` (deduplicated) in the stable order: known methods first (``KNOWN_METHODS`` order), then sorted."""
    known = _KNOWN_SLOTS

    def key(name: str) -> tuple[int, str, str]:
        tag, _, base = name.rpartition("/")
        if base in known:
            return (known[base], tag, name)
        return (len(known), name, "")

    return sorted(dict.fromkeys(names), key=key)


def method_styles(names: Iterable[str]) -> dict[str, MethodStyle]:
    """A style per name: known methods keep their slot; other names take the following slots.

    Pass every method of a set of figures at once (e.g. all methods of a spec) so that unknown names keep
    their colour from figure to figure.
    """
    known = _KNOWN_SLOTS
    ordered = method_order(names)
    styles = len(OKABE_ITO) * len(LINESTYLES)  # distinct (colour, line style) pairs; slot s looks like s + styles
    slots: dict[str, int] = {}
    used: set[int] = set()  # slots modulo ``styles``: the looks already taken in this figure

    def taken(slot: int) -> bool:
        return slot % styles in used and len(used) < styles  # beyond ``styles`` methods looks must repeat

    for name in ordered:  # known methods first (method_order puts them first); later tags: next line style
        base = name.rpartition("/")[2]
        if base in known:
            slot = known[base]
            while taken(slot):
                slot += len(OKABE_ITO)
            slots[name] = slot
            used.add(slot % styles)
    free = len(known)
    for name in ordered:
        if name not in slots:
            while taken(free):
                free += 1
            slots[name] = free
            used.add(free % styles)
    return {name: style_for_slot(slots[name]) for name in ordered}


def style_for_slot(slot: int) -> MethodStyle:
    """The style of colour slot ``slot`` (0, 1, ...): colours cycle, each cycle with a new line style."""
    cycle, index = divmod(slot, len(OKABE_ITO))
    return MethodStyle(OKABE_ITO[index], LINESTYLES[cycle % len(LINESTYLES)], MARKERS[slot % len(MARKERS)])


def trial_colors(num: int) -> list[tuple[float, float, float, float]]:
    """``num`` distinguishable colours for trials in a timeline (tab20, repeating)."""
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % cmap.N) for i in range(num)]

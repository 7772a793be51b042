"""HPO methods (schedulers and searchers). They know nothing of the simulator.

``REGISTRY`` maps a method name to a factory ``factory(space, *, metric, mode, max_t, seed)``.
Adding a method means one new module plus one registry line.
"""

from collections.abc import Callable
from functools import partial

from methods.asha import ASHA, Hyperband
from methods.base import (
    ALLOWED_TRANSITIONS,
    Action,
    Decision,
    Scheduler,
    Suggestion,
    TrialStatus,
)
from methods.dehb import DEHB
from methods.grid_search import GridSearch
from methods.median_stopping import MedianStoppingRule
from methods.pasha import PASHA
from methods.pbt import PBT
from methods.random_search import RandomSearch
from methods.rea import REA
from methods.searchers import RandomSearcher, Searcher
from methods.sync_hyperband import SyncHyperband, SyncSuccessiveHalving

MethodFactory = Callable[..., Scheduler]

REGISTRY: dict[str, MethodFactory] = {
    "RandomSearch": RandomSearch,
    "ASHA": partial(ASHA, rule="stopping"),
    "ASHA-STOP": partial(ASHA, rule="stopping"),
    "ASHA-PROM": partial(ASHA, rule="promotion"),
    "ASHA-HB": partial(ASHA, rule="stopping", brackets=None),
    "ASHA-HB-PROM": partial(ASHA, rule="promotion", brackets=None),
    "ASHA-COST": partial(ASHA, rule="cost_promotion", cost_attr="elapsed_time"),
    "Hyperband": Hyperband,
    "Hyperband-STOP": partial(Hyperband, rule="stopping"),
    "PASHA": PASHA,
    "MedianStoppingRule": MedianStoppingRule,
    "SyncHyperband": SyncHyperband,
    "SyncSH": SyncSuccessiveHalving,
    "DEHB": DEHB,
    "GridSearch": GridSearch,
    "REA": REA,
    "PBT": PBT,
}


def make_method(name: str, **kwargs: object) -> Scheduler:
    """Build the registered method ``name``; an unknown name lists the available ones."""
    try:
        factory = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; available: {', '.join(REGISTRY)}") from None
    return factory(**kwargs)


__all__ = [
    "ALLOWED_TRANSITIONS",
    "ASHA",
    "Action",
    "DEHB",
    "GridSearch",
    "Hyperband",
    "Decision",
    "MedianStoppingRule",
    "MethodFactory",
    "PASHA",
    "PBT",
    "REA",
    "REGISTRY",
    "RandomSearch",
    "RandomSearcher",
    "Scheduler",
    "Searcher",
    "Suggestion",
    "SyncHyperband",
    "SyncSuccessiveHalving",
    "TrialStatus",
    "make_method",
]

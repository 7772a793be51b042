"""HPO methods (schedulers and searchers). They know nothing of the simulator.

A method is a *scheduler* (which trial runs how long: ``methods.base.Scheduler``) composed with a *searcher*
(which configuration to try: ``methods.searcher.Searcher``). ``REGISTRY`` maps a method name to its
composition (``methods.registry.MethodSpec``), called like a factory
``REGISTRY[name](space, *, metric, mode, max_t, seed, **options)``; ``make_method`` also builds
``"NAME+searcher"`` compositions. Adding a searcher means one new module plus one line in ``SEARCHERS``.
"""

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
from methods.grid_search import GridSearch, GridSearcher
from methods.median_stopping import MedianStoppingRule
from methods.objectives import Objectives
from methods.pasha import PASHA
from methods.pbt import PBT
from methods.random_search import FIFOScheduler, RandomSearch
from methods.rea import REA, RegularizedEvolution
from methods.registry import (
    ALIASES,
    REGISTRY,
    SCHEDULERS,
    SEARCHERS,
    MethodSpec,
    composed_methods,
    is_method,
    make_method,
    method_listing,
    model_free_methods,
    resolve_method,
)
from methods.searcher import Searcher
from methods.searchers import RandomSearcher
from methods.sync_hyperband import SyncHyperband, SyncSuccessiveHalving

__all__ = [
    "ALIASES",
    "ALLOWED_TRANSITIONS",
    "ASHA",
    "Action",
    "DEHB",
    "Decision",
    "FIFOScheduler",
    "GridSearch",
    "GridSearcher",
    "Hyperband",
    "MedianStoppingRule",
    "MethodSpec",
    "Objectives",
    "PASHA",
    "PBT",
    "REA",
    "REGISTRY",
    "RandomSearch",
    "RandomSearcher",
    "RegularizedEvolution",
    "SCHEDULERS",
    "SEARCHERS",
    "Scheduler",
    "Searcher",
    "Suggestion",
    "SyncHyperband",
    "SyncSuccessiveHalving",
    "TrialStatus",
    "composed_methods",
    "is_method",
    "make_method",
    "method_listing",
    "model_free_methods",
    "resolve_method",
]

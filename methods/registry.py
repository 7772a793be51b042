"""The method registry: every registered method is a scheduler composed with a searcher, both by name.

``SCHEDULERS`` and ``SEARCHERS`` name the building blocks; ``REGISTRY`` names the methods of the field as
(scheduler, searcher, fixed options), e.g. ``"ASHA-PROM"`` is the ``ASHA`` scheduler with ``rule="promotion"``
and the ``random`` searcher. Any other pair is available as ``"NAME+searcher"`` (``"ASHA-PROM+rea"``: the
registered method ``ASHA-PROM`` with the ``rea`` searcher; ``"SyncHyperband+grid"``). A new searcher is one module
and one line in ``SEARCHERS``; a new method one line in ``REGISTRY``.

Aliases are registered names with identical results (the same composition): they are kept because the seed
documentation and stored results use them, and listed as aliases wherever methods are listed.

Composition passes the method's seed to both parts and each keyword argument to the searcher if the searcher
takes it (``restrict_configurations``, ``points_to_evaluate``, ``population_size``, ...), else to the scheduler.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from methods.asha import ASHA, Hyperband
from methods.base import Scheduler
from methods.bayesopt import GPSearcher
from methods.bore import BORESearcher
from methods.bounding_box import BoundingBox
from methods.constrained_bo import ConstrainedGPSearcher
from methods.cost_aware_bo import CostAwareGPSearcher
from methods.cqr import CQRSearcher
from methods.dehb import DEHB
from methods.dyhpo import DyHPO
from methods.grid_search import GridSearcher
from methods.hypertune import HyperTuneSearcher
from methods.kde import KDESearcher
from methods.linear_scalarization import LinearScalarization
from methods.median_stopping import MedianStoppingRule
from methods.mo_bayesopt import MultiObjectiveGPSearcher
from methods.moasha import MOASHA
from methods.morea import MultiObjectiveRegularizedEvolution
from methods.nsga2 import NSGA2Searcher
from methods.pasha import PASHA
from methods.pbt import PBT
from methods.quantile_surrogate import QuantileBasedSurrogateSearcher
from methods.random_search import FIFOScheduler
from methods.rea import RegularizedEvolution
from methods.rush import RUSH
from methods.searcher import Searcher
from methods.searchers import RandomSearcher
from methods.sync_hyperband import SyncHyperband, SyncSuccessiveHalving
from methods.transfer import TransferTask
from methods.wrapper import set_registry
from methods.zero_shot import ZeroShotSearcher
from searchspace import Categorical, Float, SearchSpace

SCHEDULERS: dict[str, type[Scheduler]] = {
    "FIFO": FIFOScheduler,
    "ASHA": ASHA,
    "Hyperband": Hyperband,
    "PASHA": PASHA,
    "MedianStoppingRule": MedianStoppingRule,
    "SyncHyperband": SyncHyperband,
    "SyncSH": SyncSuccessiveHalving,
    "DEHB": DEHB,
    "PBT": PBT,
    "DyHPO": DyHPO,
    "MOASHA": MOASHA,
    "LinearScalarization": LinearScalarization,
    "BoundingBox": BoundingBox,
    "RUSH": RUSH,
}

SEARCHERS: dict[str, type[Searcher]] = {
    "random": RandomSearcher,
    "grid": GridSearcher,
    "rea": RegularizedEvolution,
    "gp": GPSearcher,
    "hypertune": HyperTuneSearcher,
    "kde": KDESearcher,
    "bore": BORESearcher,
    "cqr": CQRSearcher,
    "morea": MultiObjectiveRegularizedEvolution,
    "nsga2": NSGA2Searcher,
    "mo_gp": MultiObjectiveGPSearcher,
    "zero_shot": ZeroShotSearcher,
    "cts": QuantileBasedSurrogateSearcher,
    "gp_constrained": ConstrainedGPSearcher,
    "gp_cost": CostAwareGPSearcher,
}

COMPOSE = "+"


@dataclass(frozen=True)
class MethodSpec:
    """A method: the scheduler and searcher it composes (by name) and the scheduler options it fixes.

    Call it like a scheduler class: ``spec(space, metric=..., mode=..., max_t=..., seed=..., **options)``.
    """

    scheduler: str
    searcher: str = "random"
    options: Mapping[str, Any] = field(default_factory=dict)
    #: the registered name this one is an alias of (identical results), or None
    alias_of: str | None = None

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {self.scheduler!r}; schedulers: {', '.join(SCHEDULERS)}")
        if self.searcher not in SEARCHERS:
            raise ValueError(f"unknown searcher {self.searcher!r}; searchers: {', '.join(SEARCHERS)}")

    @property
    def supports_restrict_configurations(self) -> bool:
        """Whether both parts can keep to a given list of configurations (e.g. a table's)."""
        return (
            SCHEDULERS[self.scheduler].supports_restrict_configurations
            and SEARCHERS[self.searcher].supports_restrict_configurations
        )

    @property
    def multi_objective(self) -> bool:
        """Whether the method optimises every objective of a multi-objective problem (else only the first)."""
        return SCHEDULERS[self.scheduler].multi_objective or SEARCHERS[self.searcher].multi_objective

    def takes(self, option: str) -> bool:
        """Whether the scheduler or the searcher of this method takes the keyword argument ``option``."""
        return option in _keyword_parameters(SEARCHERS[self.searcher]) or option in _keyword_parameters(
            SCHEDULERS[self.scheduler]
        )

    def describe(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self.options.items())
        return f"{self.scheduler} scheduler{f' ({options})' if options else ''} + {self.searcher} searcher"

    def __call__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: str = "min",
        max_t: int,
        seed: int = 0,
        n_workers: int | None = None,
        **options: Any,
    ) -> Scheduler:
        """The scheduler with its searcher. ``n_workers`` (the number of parallel workers, if known) is passed
        to the parts that take it (e.g. a model-based searcher's number of initial random configurations)."""
        options = {**self.options, **options}
        if options.get("restrict_configurations") is not None and not self.supports_restrict_configurations:
            raise ValueError(f"{self.describe()} does not support restrict_configurations")
        searcher_class = SEARCHERS[self.searcher]
        accepted = _keyword_parameters(searcher_class)
        searcher_options = {name: options.pop(name) for name in list(options) if name in accepted}
        scheduler_class = SCHEDULERS[self.scheduler]
        if n_workers is not None:
            if "n_workers" in accepted:
                searcher_options["n_workers"] = n_workers
            if "n_workers" in _keyword_parameters(scheduler_class):
                options["n_workers"] = n_workers
        unknown = sorted(set(options) - _keyword_parameters(scheduler_class))
        if unknown:
            raise ValueError(
                f"option(s) {', '.join(unknown)} are taken by neither the {self.scheduler} scheduler nor the "
                f"{self.searcher} searcher"
            )
        searcher = searcher_class(space, seed=seed, **searcher_options)
        return scheduler_class(space, metric=metric, mode=mode, max_t=max_t, seed=seed, searcher=searcher, **options)


@cache
def _keyword_parameters(part: type[Searcher] | type[Scheduler]) -> frozenset[str]:
    """The keyword arguments ``part`` takes (following ``**kwargs`` to the base classes that receive them)."""
    names: set[str] = set()
    for cls in part.__mro__:
        if "__init__" not in vars(cls):
            continue
        parameters = inspect.signature(cls.__init__).parameters
        names.update(
            name
            for name, parameter in parameters.items()
            if parameter.kind not in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL)
        )
        if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            break
    return frozenset(names - {"self", "space", "seed"})


def _alias(target: str) -> MethodSpec:
    return dataclasses.replace(_METHODS[target], alias_of=target)


_METHODS: dict[str, MethodSpec] = {
    "RandomSearch": MethodSpec("FIFO"),
    "ASHA": MethodSpec("ASHA", options={"rule": "stopping"}),
    "ASHA-PROM": MethodSpec("ASHA", options={"rule": "promotion"}),
    "ASHA-COST": MethodSpec("ASHA", options={"rule": "cost_promotion", "cost_attr": "elapsed_time"}),
    "ASHA-RANK": MethodSpec("ASHA", options={"rule": "stopping", "stopping_rule": "rank"}),
    "Hyperband": MethodSpec("Hyperband"),
    "Hyperband-STOP": MethodSpec("Hyperband", options={"rule": "stopping"}),
    "PASHA": MethodSpec("PASHA"),
    "MedianStoppingRule": MethodSpec("MedianStoppingRule"),
    "SyncHyperband": MethodSpec("SyncHyperband"),
    "SyncSH": MethodSpec("SyncSH"),
    "DEHB": MethodSpec("DEHB"),
    "GridSearch": MethodSpec("FIFO", "grid"),
    "REA": MethodSpec("FIFO", "rea"),
    "PBT": MethodSpec("PBT"),
    "BayesianOptimization": MethodSpec("FIFO", "gp"),
    "MOBSTER-JOINT": MethodSpec("ASHA", "gp", {"rule": "promotion", "model": "joint"}),
    "MOBSTER-INDEP": MethodSpec("ASHA", "gp", {"rule": "promotion", "model": "independent"}),
    "HYPERTUNE-INDEP": MethodSpec("ASHA", "hypertune", {"rule": "promotion", "model": "independent"}),
    "HYPERTUNE4-INDEP": MethodSpec(
        "ASHA", "hypertune", {"rule": "promotion", "brackets": 4, "clip_brackets": True, "model": "independent"}
    ),
    "HYPERTUNE-JOINT": MethodSpec("ASHA", "hypertune", {"rule": "promotion", "model": "joint"}),
    "SYNCMOBSTER": MethodSpec("SyncHyperband", "gp", {"model": "independent"}),
    "DyHPO": MethodSpec("DyHPO", "gp", {"model": "joint", "opt_skip_period": 3}),
    "KDE": MethodSpec("FIFO", "kde"),
    "BOHB": MethodSpec("ASHA", "kde", {"rule": "stopping"}),
    "SyncBOHB": MethodSpec("SyncHyperband", "kde"),
    "BORE": MethodSpec("FIFO", "bore"),
    "ASHA-BORE": MethodSpec("ASHA", "bore", {"rule": "stopping"}),
    "CQR": MethodSpec("FIFO", "cqr"),
    "ASHA-CQR": MethodSpec("ASHA", "cqr", {"rule": "stopping"}),
    "MOASHA": MethodSpec("MOASHA"),
    "MOREA": MethodSpec("FIFO", "morea"),
    "NSGA2": MethodSpec("FIFO", "nsga2"),
    "MORandomScalarizationBayesOpt": MethodSpec("FIFO", "mo_gp"),
    "LinearScalarization": MethodSpec("LinearScalarization"),
    "ZeroShotTransfer": MethodSpec("FIFO", "zero_shot"),
    "BoundingBox": MethodSpec("BoundingBox"),
    "QuantileBasedSurrogateSearcher": MethodSpec("FIFO", "cts"),
    "ASHA-CTS": MethodSpec("ASHA", "cts", {"rule": "stopping"}),
    "RUSH": MethodSpec("RUSH", options={"rule": "stopping"}),
    "ConstrainedBayesianOptimization": MethodSpec("FIFO", "gp_constrained"),
    "CostAwareBayesianOptimization": MethodSpec("FIFO", "gp_cost"),
}

_LISTED_FIRST = ("RandomSearch", "ASHA", "ASHA-PROM", "MOBSTER-JOINT")

#: every registered method, in the order methods are listed (aliases next to the names they stand for)
REGISTRY: dict[str, MethodSpec] = {
    "RandomSearch": _METHODS["RandomSearch"],
    "ASHA": _METHODS["ASHA"],
    "ASHA-STOP": _alias("ASHA"),
    "ASHA-PROM": _METHODS["ASHA-PROM"],
    "ASHA-HB": _alias("Hyperband-STOP"),
    "ASHA-HB-PROM": _alias("Hyperband"),
    "ASHA-COST": _METHODS["ASHA-COST"],
    "Hyperband": _METHODS["Hyperband"],
    "Hyperband-STOP": _METHODS["Hyperband-STOP"],
    **{name: spec for name, spec in _METHODS.items() if name not in _LISTED_FIRST},
    "MOBSTER-JOINT": _METHODS["MOBSTER-JOINT"],
    "MOBSTER": _alias("MOBSTER-JOINT"),
}

#: alias -> the registered name with identical results
ALIASES: dict[str, str] = {name: spec.alias_of for name, spec in REGISTRY.items() if spec.alias_of is not None}


def resolve_method(name: str) -> MethodSpec:
    """The ``MethodSpec`` of a registered name or of ``"NAME+searcher"`` (NAME registered or a scheduler)."""
    if not isinstance(name, str):
        raise ValueError(f"a method name must be a string, got {name!r}")
    if name in REGISTRY:
        return REGISTRY[name]
    base, plus, searcher = name.rpartition(COMPOSE)
    if plus and searcher in SEARCHERS:
        if base in REGISTRY:
            spec = REGISTRY[base]
            # the options of the registered searcher go with it, unless the new searcher takes them too
            dropped = _keyword_parameters(SEARCHERS[spec.searcher]) - _keyword_parameters(SEARCHERS[searcher])
            options = {key: value for key, value in spec.options.items() if key not in dropped}
            return dataclasses.replace(spec, searcher=searcher, options=options, alias_of=None)
        if base in SCHEDULERS:
            return MethodSpec(base, searcher)
    raise ValueError(
        f"unknown method {name!r}; registered: {', '.join(REGISTRY)}; or compose NAME{COMPOSE}SEARCHER with a "
        f"registered name or a scheduler ({', '.join(SCHEDULERS)}) and a searcher ({', '.join(SEARCHERS)})"
    )


def is_method(name: str) -> bool:
    """Whether ``name`` is a registered or composed method name."""
    try:
        resolve_method(name)
    except ValueError:
        return False
    return True


def make_method(name: str, **kwargs: Any) -> Scheduler:
    """Build the method ``name`` (registered or ``NAME+searcher``); an unknown name lists the available ones."""
    return resolve_method(name)(**kwargs)


set_registry(resolve_method, SCHEDULERS)  # wrapping methods (methods.wrapper) build their base method by name


def composed_methods() -> list[str]:
    """Every scheduler × searcher pair that composes, as ``"SCHEDULER+searcher"`` names (see ``refused_pairs``)."""
    refused = refused_pairs()
    return [
        f"{scheduler}{COMPOSE}{searcher}"
        for scheduler in SCHEDULERS
        for searcher in SEARCHERS
        if (scheduler, searcher) not in refused
    ]


_PROBE_SPACE = SearchSpace({"x": Float(0.0, 1.0), "c": Categorical(("a", "b"))})
#: what a benchmark would supply to the methods that take it (a constraint, a cost, other tasks' evaluations)
_PROBE_OPTIONS: dict[str, Any] = {
    "constraint_attr": "constraint",
    "cost_attr": "cost",
    "transfer_evaluations": [TransferTask("probe", [{"x": 0.5, "c": "a"}, {"x": 0.1, "c": "b"}], np.ones((2, 9)))],
}


@cache
def refused_pairs() -> dict[tuple[str, str], str]:
    """(scheduler, searcher) -> the reason, for the pairs one of the two parts refuses (e.g. Hyper-Tune needs rung
    levels, DyHPO a searcher that scores paused trials): the parts say so when they are composed, as the
    contract asks (``Searcher.configure`` or the scheduler's constructor raises ``ValueError``)."""
    refused = {}
    for scheduler in SCHEDULERS:
        for searcher in SEARCHERS:
            spec = resolve_method(f"{scheduler}{COMPOSE}{searcher}")
            options = {name: value for name, value in _PROBE_OPTIONS.items() if spec.takes(name)}
            try:
                spec(_PROBE_SPACE, metric="loss", max_t=9, **options)
            except ValueError as error:
                refused[(scheduler, searcher)] = str(error)
    return refused


def model_free_methods() -> list[str]:
    """The registered names whose searcher has no surrogate model (sorted); the model-based ones cost far more
    CPU per decision (``benchmarks/model_decision_cost.py``)."""
    return sorted(name for name in REGISTRY if not SEARCHERS[REGISTRY[name].searcher].uses_model)


def method_listing() -> str:
    """The registered names for help texts, aliases marked: ``"ASHA, ASHA-STOP (alias of ASHA), ..."``."""
    return ", ".join(name if name not in ALIASES else f"{name} (alias of {ALIASES[name]})" for name in REGISTRY)

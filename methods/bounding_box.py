"""BoundingBox: any method, searching only the bounding box of the best configurations of other tasks.

Perrone, Shen, Seeger, Archambeau & Jenatton, "Learning search spaces for Bayesian optimization: another view of
hyperparameter transfer learning" (NeurIPS 2019), as Syne Tune 0.13's ``BoundingBox`` documents it: "restricting
to the min-max of the best numerical hyperparameters and restricting to the set of the best candidates on
categorical parameters".

- The box: the ``num_hyperparameters_per_task`` (docs default 1) best configurations of each transfer task
  (``TransferTask.best_configs``: by final loss). A ``Float``/``Integer`` domain shrinks to ``[min, max]`` of
  their values (log scale and integrality kept), a ``Grid`` (a numeric grid) to its values in ``[min, max]``, a
  ``Categorical``/``Ordinal`` to the values that occur (in the domain's order). Inactive values (None) do not
  count; a hyperparameter with no value in them keeps its domain. A condition keeps the parent values still in
  the box; a hyperparameter whose conditions can no longer hold (and its descendants) leaves the box's space and
  is None in every suggestion.
- The method: ``base_method`` (a registered name, default "RandomSearch": Syne Tune's example and benchmark use
  random search or Bayesian optimisation through ``scheduler_fun``), built through the registry on the box with
  ``base_options``. The registry composes BoundingBox with a random searcher, which receives the options
  ``restrict_configurations``, ``points_to_evaluate`` and ``allow_duplicates``: BoundingBox reads them from it
  and passes them on, keeping the configurations and points inside the box (points outside are dropped, with a
  warning). If no restricted configuration lies in the box, the box is the whole space (with a warning).
- When the box is used up (a finite box whose every configuration was proposed: the base method's searcher
  has nothing left), new configurations are drawn uniformly at random from the whole space, never one proposed
  before (``when_exhausted="space"``, default; the base method's scheduler runs on, and its searcher keeps
  hearing of the trials in the box). Syne Tune 0.13 ends the search there instead (``when_exhausted="stop"``):
  with few transfer tasks on a tabulated grid the box may hold only a handful of configurations, and a run
  would then idle for the rest of its budget. A base method whose searcher sits deeper (e.g.
  MedianStoppingRule's) or that makes or chooses configurations itself (PBT, DEHB, DyHPO) stays in the box in
  any case.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from methods.base import Suggestion, check_positive_int
from methods.dehb import DEHB
from methods.dyhpo import DyHPO
from methods.objectives import Objectives
from methods.pbt import PBT
from methods.searcher import Searcher
from methods.searchers import RandomSearcher
from methods.transfer import TransferTask, check_task_configs, check_transfer_evaluations
from methods.trial_status import TrialStatus
from methods.wrapper import WrappingScheduler, build_method
from searchspace import (
    Categorical,
    Condition,
    Config,
    Domain,
    Float,
    Grid,
    Integer,
    Ordinal,
    SearchSpace,
    SearchSpaceError,
)
from searchspace.conditions import topological_order

logger = logging.getLogger(__name__)

NAME = "BoundingBox"
EXHAUSTED = ("space", "stop")
#: schedulers that make or choose configurations beyond their searcher's ``suggest`` (PBT's explore step and DEHB's
#: evolution within their space, DyHPO's choice between paused and new): in the box only, whatever
#: ``when_exhausted`` says
OWN_CONFIGURATIONS = (PBT, DEHB, DyHPO)


def narrowed_domain(domain: Domain, values: Sequence[Any]) -> Domain:
    """``domain`` shrunk to hold exactly ``values`` (numbers: their range; finite choices: those that occur)."""
    if not values:
        return domain
    if isinstance(domain, Float):
        return Float(float(min(values)), float(max(values)), log=domain.log)
    if isinstance(domain, Integer):
        return Integer(int(min(values)), int(max(values)), log=domain.log)
    if isinstance(domain, Grid):
        low, high = min(values), max(values)
        return Grid(tuple(value for value in domain.choices if low <= value <= high))
    if isinstance(domain, Categorical | Ordinal):
        occurring = set(values)
        return type(domain)(tuple(value for value in domain.choices if value in occurring))
    raise ValueError(f"{NAME} cannot narrow a domain of type {type(domain).__name__}")


def bounding_box(space: SearchSpace, configs: Sequence[Config]) -> tuple[SearchSpace, list[str]]:
    """The box of ``configs`` (configurations of ``space``): the narrowed space, and the hyperparameters that can
    never be active in it (left out of it; see the module docstring)."""
    domains = {
        name: narrowed_domain(domain, [config[name] for config in configs if config[name] is not None])
        for name, domain in space.items()
    }
    dropped: list[str] = []
    conditions: list[Condition] = []
    for name in topological_order(space.names, space.conditions):  # parents before their children
        kept = []
        for condition in space.conditions_of(name):
            parent = domains.get(condition.parent)
            values = () if parent is None else tuple(v for v in condition.values if parent.contains(v))
            if not values:
                break
            kept.append(Condition(name, condition.parent, values))
        else:
            conditions += kept
            continue
        dropped.append(name)
        del domains[name]
    order = [name for name in space.names if name in domains]
    return SearchSpace({name: domains[name] for name in order}, conditions), dropped


def lies_in(space: SearchSpace, config: Mapping[str, Any]) -> bool:
    """Whether ``config`` is a configuration of ``space``."""
    try:
        space.validate(config)
    except SearchSpaceError:
        return False
    return True


class BoundingBox(WrappingScheduler):
    """``base_method`` on the bounding box of the best configurations of other tasks (see the module docstring).

    Args:
        space, metric, mode, max_t, seed: as for every scheduler.
        searcher: the registry's random searcher holding the options below (any other searcher is refused:
            choose the method in the box with ``base_method``).
        transfer_evaluations: the other tasks' evaluations (required).
        num_hyperparameters_per_task: best configurations per task that span the box (default 1).
        base_method: registered name of the method run in the box (default "RandomSearch").
        base_options: more options of the base method.
        restrict_configurations, points_to_evaluate, allow_duplicates: options of the base method (when the
            scheduler is built directly rather than through the registry).
        when_exhausted: "space" (default: random search in the whole space once the box is used up) or "stop".
        n_workers: passed to the base method.
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str | Sequence[str],
        mode: str | Sequence[str] = "min",
        max_t: int,
        seed: int = 0,
        searcher: Searcher | None = None,
        transfer_evaluations: Sequence[TransferTask] | None = None,
        num_hyperparameters_per_task: int = 1,
        base_method: str = "RandomSearch",
        base_options: Mapping[str, Any] | None = None,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        allow_duplicates: bool = False,
        when_exhausted: Literal["space", "stop"] = "space",
        n_workers: int | None = None,
    ) -> None:
        self._set_problem(space, metric, mode, max_t, seed)
        if when_exhausted not in EXHAUSTED:
            raise ValueError(f"`when_exhausted` must be one of {EXHAUSTED}, got {when_exhausted!r}")
        tasks = check_transfer_evaluations(NAME, transfer_evaluations)
        check_positive_int("num_hyperparameters_per_task", num_hyperparameters_per_task)
        best = []
        for task in tasks:
            configs = task.best_configs(num_hyperparameters_per_task)
            check_task_configs(NAME, space, task, configs)
            best += configs
        if searcher is not None:
            restrict_configurations, points_to_evaluate, allow_duplicates = _options_of(
                searcher, restrict_configurations, points_to_evaluate, allow_duplicates
            )
        self.num_hyperparameters_per_task = num_hyperparameters_per_task
        self.base_method = base_method
        self.box, self.dropped = bounding_box(space, best)
        options = dict(base_options or {})
        if restrict_configurations is not None:
            inside = self._inside(restrict_configurations)
            if not inside:
                logger.warning("%s: no restricted configuration lies in the box; the box is the whole space", NAME)
                self.box, self.dropped = space, []
                inside = self._inside(restrict_configurations)
            options["restrict_configurations"] = inside
        if points_to_evaluate is not None:
            options["points_to_evaluate"] = self._points_inside(points_to_evaluate)
        if allow_duplicates:
            options["allow_duplicates"] = True
        problem = (
            {"metric": list(self.metrics), "mode": list(self.modes)}
            if self.objectives.count > 1
            else {"metric": self.metric, "mode": self.mode}
        )
        self._set_base(
            build_method(base_method, space=self.box, **problem, max_t=max_t, seed=seed, n_workers=n_workers, **options)
        )
        self.when_exhausted = when_exhausted
        if (
            when_exhausted == "space"
            and self.base.searcher is not None
            and self.box is not space
            and not isinstance(self.base, OWN_CONFIGURATIONS)
        ):
            self.base.searcher = BoxThenSpace(
                self.base.searcher, space, self.box, self.dropped, seed, restrict_configurations, allow_duplicates
            )

    # Contract: the base method's (see WrappingScheduler), with full configurations -----------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        suggestion = super()._suggest(new_trial_id)
        if suggestion is None or suggestion.config is None or not self.dropped:
            return suggestion
        config = suggestion.config
        full = {name: config.get(name) for name in self.space.names}  # left-out hyperparameters are None
        return Suggestion(full, suggestion.trial_id, suggestion.report_at, suggestion.checkpoint_from)

    # Description ---------------------------------------------------------------------------------
    def schedule_description(self) -> str:
        return self._describe_with_base(
            [
                f"{NAME} (Syne Tune 0.13's BoundingBox): {self.base_method} in the box of the "
                f"{self.num_hyperparameters_per_task} best configuration(s) of each transfer task",
                *(f"  {name}: {domain}" for name, domain in self.box.items()),
                *(f"  {name}: never active in the box (None)" for name in self.dropped),
            ]
        )

    def state_summary(self) -> dict[str, Any]:
        return {"box": self.box.to_json(), **super().state_summary()}

    # Helpers -------------------------------------------------------------------------------------
    def box_config(self, config: Mapping[str, Any]) -> Config | None:
        """``config`` (of the full space) as a configuration of the box, or None if it lies outside."""
        if any(config.get(name) is not None for name in self.dropped):
            return None
        inner = {name: config[name] for name in self.box.names if name in config}
        return inner if lies_in(self.box, inner) else None

    def _inside(self, configs: Sequence[Config]) -> list[Config]:
        return [inner for inner in map(self.box_config, configs) if inner is not None]

    def _points_inside(self, points: Sequence[Mapping[str, Any]]) -> list[Config]:
        """The points to evaluate that lie in the box (partial points: their given values do)."""
        kept = []
        for point in points:
            given = {name: value for name, value in point.items() if name not in self.dropped or value is not None}
            inside = (
                name in self.box and (value is None or self.box[name].contains(value)) for name, value in given.items()
            )
            if all(inside):
                kept.append({name: value for name, value in given.items() if name in self.box})
            else:
                logger.warning("%s: point to evaluate %s lies outside the box; skipped", NAME, dict(point))
        return kept


class BoxThenSpace(Searcher):
    """The base method's searcher (on the box) until it has nothing left to propose, then uniform random search in
    the whole space (no configuration proposed twice unless duplicates are allowed). Configurations are full ones
    (hyperparameters left out of the box are None); the box's searcher hears of the trials in the box only. Any
    other attribute is the box searcher's (e.g. what a scheduler asks of a model-based searcher)."""

    def __init__(
        self,
        box_searcher: Searcher,
        space: SearchSpace,
        box: SearchSpace,
        dropped: Sequence[str],
        seed: int,
        restrict_configurations: Sequence[Config] | None,
        allow_duplicates: bool,
    ) -> None:
        self.box_searcher = box_searcher
        self.space = space
        self.box = box
        self.dropped = list(dropped)
        self.outside = RandomSearcher(
            space,
            seed=int(np.random.default_rng([seed, 7703]).integers(2**31 - 1)),
            allow_duplicates=allow_duplicates,
            restrict_configurations=restrict_configurations,
            points_to_evaluate=[],
        )
        self.restricted_to = self.outside.restricted_to
        self.observes = box_searcher.observes  # notifications only where the box searcher listens
        self.adapts_brackets = box_searcher.adapts_brackets
        self.exhausted = False
        self._in_box: dict[int, bool] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or "box_searcher" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.__dict__["box_searcher"], name)

    def set_objectives(self, objectives: Objectives) -> None:
        super().set_objectives(objectives)
        self.box_searcher.set_objectives(objectives)

    def configure(self, *, max_t: int, rung_levels: Sequence[int]) -> None:
        self.box_searcher.configure(max_t=max_t, rung_levels=rung_levels)

    def suggest(self, trial_id: int) -> Config | None:
        if not self.exhausted:
            config = self.box_searcher.suggest(trial_id)
            if config is not None:
                config = {name: config.get(name) for name in self.space.names}
                self.outside.mark_seen(config)
                self._in_box[trial_id] = True
                return config
            self.exhausted = True
            logger.info("%s: every configuration of the box was proposed; searching the whole space", NAME)
        self._in_box[trial_id] = False
        return self.outside.suggest(trial_id)

    def _box_config(self, trial_id: int, config: Config) -> Config | None:
        """``config`` without the left-out hyperparameters if the trial runs in the box, else None."""
        inside = self._in_box.get(trial_id)
        inner = {name: value for name, value in config.items() if name not in self.dropped}
        if inside is None:  # a trial its scheduler started itself (e.g. PBT's exploit step)
            inside = self._in_box[trial_id] = lies_in(self.box, inner) and all(
                config.get(name) is None for name in self.dropped
            )
        return inner if inside else None

    def on_pending(self, trial_id: int, config: Config, epoch: int) -> None:
        inner = self._box_config(trial_id, config)
        if inner is not None:
            self.box_searcher.on_pending(trial_id, inner, epoch)

    def on_report(self, trial_id: int, config: Config, epoch: int, metrics: Mapping[str, float]) -> None:
        inner = self._box_config(trial_id, config)
        if inner is not None:
            self.box_searcher.on_report(trial_id, inner, epoch, metrics)

    def on_end(self, trial_id: int, status: TrialStatus) -> None:
        if self._in_box.get(trial_id):
            self.box_searcher.on_end(trial_id, status)

    def bracket_distribution(self, default: Sequence[float], first_levels: Sequence[int]) -> list[float]:
        return self.box_searcher.bracket_distribution(default, first_levels)

    def describe(self) -> str:
        return f"{self.box_searcher.describe()} in the box, then {self.outside.describe()} in the whole space"

    def state_summary(self) -> dict[str, Any]:
        return {**self.box_searcher.state_summary(), "box_used_up": self.exhausted}


def _options_of(
    searcher: Searcher,
    restrict_configurations: Sequence[Config] | None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None,
    allow_duplicates: bool,
) -> tuple[Sequence[Config] | None, Sequence[Mapping[str, Any]] | None, bool]:
    """The options the registry gave the random searcher composed with BoundingBox, read through its interface."""
    if type(searcher) is not RandomSearcher:
        raise ValueError(
            f"{NAME} cannot take a {type(searcher).__name__}: it builds its method in the box itself; choose it with "
            "base_method (e.g. base_method='BayesianOptimization')"
        )
    if restrict_configurations is not None or points_to_evaluate is not None or allow_duplicates:
        raise ValueError(f"with a given `searcher`, {NAME} takes its options from the searcher, not as arguments")
    points = None
    if not searcher.starts_at_midpoint:  # the points the user gave (none by default): drawn in order
        points = []
        while searcher.points_left:
            point = searcher.suggest(-1)
            if point is not None:
                points.append(point)
    return searcher.restricted_to, points, searcher.allow_duplicates

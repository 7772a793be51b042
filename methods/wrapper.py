"""Schedulers that run an inner method: the base class, and how they reach the registry to build it by name.

A wrapping scheduler (``BoundingBox``, ``LinearScalarization``, ``MedianStoppingRule``) owns an inner scheduler
``self.base`` and passes every call on to it: suggestions come from it, reports and completions reach it (with the
metrics ``_metrics_for_base`` gives it: the reported ones by default), failures and stops are passed on, and it
pauses trials iff the inner one does. The wrapper has no searcher of its own: the inner method's searcher hears of
every trial through the inner method. A subclass overrides only what it changes.

The registry imports the wrapping schedulers, so they cannot import it (an import cycle): ``methods.registry``
hands its ``resolve_method`` and ``SCHEDULERS`` to ``set_registry`` when it is imported, and the wrappers build
their inner method through ``build_method``, ``method_spec`` and ``scheduler_class``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from methods.base import Decision, Scheduler, Suggestion

#: ``resolve``: name -> the registry's MethodSpec; ``schedulers``: the registry's scheduler classes by name
_REGISTRY: dict[str, Any] = {}


def set_registry(resolve: Callable[[str], Any], schedulers: Mapping[str, type[Scheduler]]) -> None:
    """Called once by ``methods.registry``: its ``resolve_method`` and ``SCHEDULERS``."""
    _REGISTRY["resolve"] = resolve
    _REGISTRY["schedulers"] = schedulers


def _registry(part: str) -> Any:
    if not _REGISTRY:
        raise ValueError("a wrapping method builds its inner method through the registry: import methods first")
    return _REGISTRY[part]


def method_spec(name: str) -> Any:
    """The registry's ``MethodSpec`` of ``name`` (a registered or composed name; ValueError for any other)."""
    return _registry("resolve")(name)


def schedulers() -> Mapping[str, type[Scheduler]]:
    """The registry's scheduler classes by name."""
    return _registry("schedulers")


def build_method(name: str, **arguments: Any) -> Scheduler:
    """The registered (or composed) method ``name`` built with ``arguments`` (space, metric, mode, max_t, seed,
    n_workers and its options), as ``methods.registry.make_method`` builds it."""
    return method_spec(name)(**arguments)


class WrappingScheduler(Scheduler):
    """Passes every call on to the inner scheduler ``base`` (see the module docstring). A subclass sets the
    problem (``_set_problem``), then ``_set_base``."""

    base: Scheduler

    def _set_base(self, base: Scheduler) -> None:
        self.base = base
        self.pauses_trials = base.pauses_trials

    def _metrics_for_base(self, metrics: Mapping[str, float]) -> Mapping[str, float]:
        """What the inner method is told of a report or completion with ``metrics`` (default: ``metrics``)."""
        return metrics

    # Contract: everything is the inner method's --------------------------------------------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        return self.base.suggest(new_trial_id)

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        return self.base.on_report(trial_id, epoch, self._metrics_for_base(metrics))

    def _on_complete(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> None:
        self.base.on_complete(trial_id, epoch, self._metrics_for_base(metrics))

    def _on_error(self, trial_id: int, epoch: int) -> None:
        self.base.on_error(trial_id, epoch)

    def _on_stop(self, trial_id: int) -> None:
        self.base.on_stop(trial_id)

    def on_stop_all(self, trial_ids: Iterable[int]) -> None:
        self.base.on_stop_all(trial_ids)

    # Description ---------------------------------------------------------------------------------
    def _describe_with_base(self, lines: Iterable[str]) -> str:
        """``lines`` (the wrapper's own description) followed by the inner method's, each line prefixed."""
        return "\n".join([*lines, *("  base: " + line for line in self.base.schedule_description().splitlines())])

    def state_summary(self) -> dict[str, Any]:
        return {"base": self.base.state_summary()}

"""LinearScalarization: a single-objective method run on the weighted sum of the objectives (Syne Tune 0.13's
``LinearScalarizedScheduler``).

The inner method (``base``) optimises one synthetic metric named ``scalarized_<metric1>_<metric2>_..._<metricN>``
(the documented name), mode "min": the weighted sum ``sum_j w_j * loss_j`` of the objectives as losses (each
metric, negated for mode "max"), with ``weights`` one positive number per objective, by default 1 each (the
documented "array of 1s"). Syne Tune requires all modes to agree and sums the values in that mode; summing losses
is the same problem when the modes agree and also serves mixed modes. Every call is forwarded: suggestions come
from the inner method, every report and completion reaches it with the reported metrics plus the synthetic one,
failures and stops are passed on. So a run equals the inner method's run on the scalarised single-objective
problem.

Which inner method: the documented default is a FIFO scheduler with random search (``base_method="RandomSearch"``).
The searcher is the composition's, as everywhere in the registry: ``LinearScalarization`` runs random search,
``LinearScalarization+gp`` GP-based BO on the weighted sum (Syne Tune's ``MOLinearScalarizationBayesOpt``);
``base_method`` names the scheduling: a registered method whose searcher is random search (``RandomSearch``,
``ASHA``, ``ASHA-PROM``, ``Hyperband``, ...; its fixed options are kept) or a scheduler of the registry (``FIFO``,
``ASHA``, ...); ``base_options`` are further options of that scheduler (e.g. ``{"grace_period": 3}``). A
``base_method`` with a searcher of its own (e.g. ``BOHB``) is refused with a given searcher (compose
``LinearScalarization+kde`` with ``base_method="ASHA"`` instead); built without a searcher (directly, not through
the registry) any registered method is built whole.

The forwarding, and the registry that builds the inner method by name, are ``methods.wrapper``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from methods.base import Scheduler
from methods.mo_priority import check_weights
from methods.searcher import Searcher
from methods.wrapper import WrappingScheduler, method_spec, schedulers
from searchspace import SearchSpace


class LinearScalarization(WrappingScheduler):
    """A single-objective method on the weighted sum of the objectives' losses (see the module docstring).

    Args:
        space, metric, mode, max_t, seed: as for every scheduler; ``metric`` names the objectives.
        searcher: the inner method's searcher (the registry passes the composition's; default: its own).
        weights: one positive weight per objective (default 1 each).
        base_method: the inner method's scheduling (default "RandomSearch", a FIFO scheduler).
        base_options: further options of the inner scheduler.
    """

    multi_objective = True

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str | Sequence[str],
        mode: str | Sequence[str] = "min",
        max_t: int,
        seed: int = 0,
        searcher: Searcher | None = None,
        weights: Sequence[float] | None = None,
        base_method: str = "RandomSearch",
        base_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._set_problem(space, metric, mode, max_t, seed)
        self.weights = check_weights(weights, self.objectives.count)
        self.scalar_metric = "scalarized_" + "_".join(self.metrics)
        self.base_method = base_method
        self._set_base(self._build_base(base_method, searcher, dict(base_options or {})))

    def _build_base(self, base_method: str, searcher: Searcher | None, options: dict[str, Any]) -> Scheduler:
        problem = {"metric": self.scalar_metric, "mode": "min", "max_t": self.max_t, "seed": self.seed}
        try:
            spec = method_spec(base_method)
        except ValueError:
            if base_method not in schedulers():
                raise
            return schedulers()[base_method](self.space, **problem, searcher=searcher, **options)
        if searcher is None:
            return spec(self.space, **problem, **options)
        if spec.searcher != "random":
            raise ValueError(
                f"base_method {base_method!r} brings its own searcher ({spec.searcher!r}) but LinearScalarization's "
                f"searcher is the composition's: compose LinearScalarization+{spec.searcher} with a base_method of "
                f"random search (e.g. {spec.scheduler!r})"
            )
        return schedulers()[spec.scheduler](self.space, **problem, searcher=searcher, **{**spec.options, **options})

    def scalarized(self, metrics: Mapping[str, float]) -> dict[str, float]:
        """The reported metrics plus the synthetic one the inner method optimises (what every report and completion
        passes on to it)."""
        if self.scalar_metric in metrics:
            raise ValueError(
                f"a reported metric is named {self.scalar_metric!r}, the name of LinearScalarization's weighted sum: "
                "rename that metric"
            )
        return {**metrics, self.scalar_metric: float(self.losses(metrics) @ self.weights)}

    _metrics_for_base = scalarized

    def schedule_description(self) -> str:
        terms = " + ".join(f"{w:g} x loss({name})" for w, name in zip(self.weights, self.metrics))
        return self._describe_with_base(
            [
                f"LinearScalarization: {self.base_method} on {self.scalar_metric} = {terms} (mode min)",
                "  follows Syne Tune 0.13's LinearScalarizedScheduler",
            ]
        )

    def state_summary(self) -> dict[str, Any]:
        return {"weights": self.weights.tolist(), **super().state_summary()}

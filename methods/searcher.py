"""The searcher contract: what configuration to try next, learned from the results every scheduler passes on.

A searcher proposes configurations and may learn from results; a scheduler decides which trial runs how long
and owns the searcher. Every scheduler (``methods.base.Scheduler``) tells its searcher, for every trial it
runs, whichever searcher proposed it:

- ``set_objectives(objectives)``, then ``configure(max_t=..., rung_levels=...)``: once, when a scheduler takes
  the searcher: trials complete at ``max_t`` and the scheduler's schedule has these rung levels (empty for
  FIFO). A searcher that cannot serve such a scheduler raises ``ValueError`` here. ``objectives``
  (``methods.objectives.Objectives``) are the scheduler's metrics and modes; the first is the one
  ``on_result``'s loss is of.
- ``suggest(trial_id)``: asked only when the scheduler will start a new trial with that id (never for a trial
  that cannot start); None: nothing left to propose.
- ``on_pending(trial_id, config, epoch)``: the trial will now run to ``epoch`` (started, continued or resumed);
  a model can fantasize the value it will report there.
- ``on_report(trial_id, config, epoch, metrics)``: the trial reported every metric of the benchmark at ``epoch``.
  By default this calls ``on_result(trial_id, config, epoch, loss)``, where ``loss`` is the primary objective
  with the sign that makes smaller better (the metric for mode "min", its negation for "max"), so a searcher
  never needs to know the mode. A searcher that needs more overrides ``on_report`` itself: every objective as
  losses (``self.objectives.losses(metrics)``: multi-objective searchers), or another metric (a constraint, a
  cost). A searcher receives the results of the epochs its scheduler hears about (rung levels for ASHA, the
  last epoch for FIFO), not of every epoch.
- ``on_end(trial_id, status)``: the trial will not run again (``STOPPED``, ``COMPLETED`` or ``FAILED``).
  Exactly once per trial that was pending, after its last ``on_result``; a paused trial that is never resumed
  ends when its scheduler gives it up or when the experiment ends (``STOPPED``).

A searcher may also set the bracket probabilities of asynchronous Hyperband (``adapts_brackets``,
``bracket_distribution``: Hyper-Tune).

A searcher that overrides none of the notifications (e.g. random or grid search) is never called for
them (``observes`` is False): notifications cost nothing where nobody listens.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from methods.objectives import Objectives
from methods.trial_status import TrialStatus
from searchspace import Config

_NOTIFICATIONS = ("on_pending", "on_report", "on_result", "on_end")


class Searcher(abc.ABC):
    """Proposes configurations and observes the trials its scheduler runs. It never calls back into a scheduler."""

    #: whether the searcher accepts ``restrict_configurations`` (propose only given configurations)
    supports_restrict_configurations: ClassVar[bool] = False
    #: whether the searcher overrides a notification (set for every subclass; see the module docstring)
    observes: ClassVar[bool] = False
    #: whether its proposals use every objective (NSGA2, MOREA); otherwise they use the primary one only
    multi_objective: ClassVar[bool] = False
    #: whether the searcher fits a model to results (costlier decisions: ``registry.model_free_methods``)
    uses_model: ClassVar[bool] = False
    #: whether ``bracket_distribution`` adapts the brackets of an asynchronous Hyperband scheduler (Hyper-Tune)
    adapts_brackets: ClassVar[bool] = False
    #: the configurations it is restricted to (``restrict_configurations``), or None; a scheduler that makes
    #: configurations of its own (PBT's explore step) keeps to the same ones
    restricted_to: Sequence[Config] | None = None
    #: the scheduler's objectives (``set_objectives``); until a scheduler takes the searcher, one metric "loss"
    objectives: Objectives = Objectives(("loss",), ("min",))

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.observes = any(getattr(cls, name) is not getattr(Searcher, name) for name in _NOTIFICATIONS)

    def set_objectives(self, objectives: Objectives) -> None:
        """A scheduler takes this searcher: its reports carry these objectives (before ``configure``). Raise
        ``ValueError`` to refuse objectives the searcher cannot serve."""
        self.objectives = objectives

    def configure(self, *, max_t: int, rung_levels: Sequence[int]) -> None:
        """A scheduler takes this searcher: its trials complete at ``max_t``, its rung levels are ``rung_levels``
        (empty: no early stopping). Raise ``ValueError`` to refuse a scheduler the searcher cannot serve."""

    @abc.abstractmethod
    def suggest(self, trial_id: int) -> Config | None:
        """A configuration for the new trial ``trial_id``, or None if the searcher has nothing left to propose."""

    def on_pending(self, trial_id: int, config: Config, epoch: int) -> None:
        """``trial_id`` (with ``config``) will run until it reports at ``epoch``."""

    def on_report(self, trial_id: int, config: Config, epoch: int, metrics: Mapping[str, float]) -> None:
        """``trial_id`` (with ``config``) reported ``metrics`` at ``epoch``; by default ``on_result`` with the loss
        of the primary objective."""
        self.on_result(trial_id, config, epoch, self.objectives.loss(metrics))

    def on_result(self, trial_id: int, config: Config, epoch: int, loss: float) -> None:
        """``trial_id`` (with ``config``) reported ``loss`` (smaller is better) at ``epoch``."""

    def on_end(self, trial_id: int, status: TrialStatus) -> None:
        """``trial_id`` will not run again: it was stopped, completed or failed."""

    def bracket_distribution(self, default: Sequence[float], first_levels: Sequence[int]) -> list[float]:
        """Probabilities of the brackets (first rung levels ``first_levels``) for a new trial of an asynchronous
        Hyperband scheduler, given its ``default`` ones; asked only if ``adapts_brackets``."""
        return list(default)

    def describe(self) -> str:
        """One line on how the searcher proposes configurations (for --show-schedule)."""
        return type(self).__name__

    def state_summary(self) -> dict[str, Any]:
        """Small JSON-able summary of the searcher's state, stored with the results (optional)."""
        return {}

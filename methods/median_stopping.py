"""The median stopping rule (Golovin et al., "Google Vizier", KDD 2017) on top of any scheduler.

Rules of Syne Tune's ``MedianStoppingRule`` (seed documentation: "If result at time-step ranks less
than the cutoff of other results observed at this time-step, the trial is interrupted and otherwise,
the wrapped scheduler is called to make the stopping decision. Suggest decisions are left to the
wrapped scheduler."). At every report of trial ``i`` at epoch ``r``:

1. ``y`` is the metric (negated for mode "max"), or with ``running_average`` the mean of all the
   trial's values at epochs ``1..r``.
2. ``y`` is added to the values recorded at ``r`` (one per trial that reported at ``r``, stopped ones
   included); ``rank = (number of recorded values strictly better than y) / (number of values at r,
   y included)``.
3. Grace (the base scheduler decides): ``r < grace_time`` ("only applied for results whose
   resource_attr exceeds this amount" in the docs; the source applies it from ``grace_time`` on, as
   here), or fewer than ``grace_population`` values at ``r``, ``y`` included ("when at least
   grace_population have been observed at a resource level").
4. Else the trial is stopped iff ``rank > rank_cutoff`` ("Results whose quantiles are below this
   level are discarded. Defaults to 0.5 (median)"), without telling the base scheduler; otherwise the
   base scheduler decides.

The rule needs a report every epoch (running averages, and any epoch ``>= grace_time`` may stop a
trial); without ``running_average`` reports start at ``grace_time``. The base scheduler is consulted
only at the epochs it asked for.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from methods.base import STOP, Action, Decision, Scheduler, Suggestion, check_positive_int
from methods.random_search import FIFOScheduler
from methods.searcher import Searcher
from methods.wrapper import WrappingScheduler
from searchspace import Config, SearchSpace


class MedianStoppingRule(WrappingScheduler):
    """Stops a trial whose (running-average) metric ranks below ``rank_cutoff`` among all values seen at
    the same epoch; everything else is left to ``base``.

    Args:
        space, metric, mode, max_t, seed: as for every scheduler (``base`` must use the same metric and mode).
        base: the scheduler that proposes trials and decides when the rule does not stop
            (default: ``RandomSearch`` with the same arguments).
        grace_time: no trial is stopped at an epoch below this (default 1).
        grace_population: no trial is stopped at an epoch with fewer values than this (default 5).
        rank_cutoff: a trial ranking beyond this fraction is stopped (default 0.5, the median).
        running_average: compare running averages of the metric rather than its last values (default True).
        searcher, restrict_configurations, points_to_evaluate: for the default base only (a FIFO scheduler with
            this searcher, by default random search).

    A trial the rule stops is reported to ``base`` as stopped by its caller (``on_stop``), so the base and its
    searcher know it ended. Completions, failures and stops are passed on to ``base`` (``WrappingScheduler``).
    """

    def __init__(
        self,
        space: SearchSpace,
        *,
        metric: str,
        mode: str = "min",
        max_t: int,
        seed: int = 0,
        base: Scheduler | None = None,
        grace_time: int = 1,
        grace_population: int = 5,
        rank_cutoff: float = 0.5,
        running_average: bool = True,
        restrict_configurations: Sequence[Config] | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        searcher: Searcher | None = None,
    ) -> None:
        self._set_problem(space, metric, mode, max_t, seed)
        self.grace_time = check_positive_int("grace_time", grace_time)
        self.grace_population = check_positive_int("grace_population", grace_population)
        if not 0 <= rank_cutoff <= 1:
            raise ValueError(f"The value of `rank_cutoff` is {rank_cutoff!r}, but must be in [0, 1]")
        self.rank_cutoff = rank_cutoff
        self.running_average = running_average
        if base is None:
            base = FIFOScheduler(
                space,
                metric=metric,
                mode=mode,
                max_t=max_t,
                seed=seed,
                searcher=searcher,
                restrict_configurations=restrict_configurations,
                points_to_evaluate=points_to_evaluate,
            )
        else:
            if restrict_configurations is not None or points_to_evaluate is not None or searcher is not None:
                raise ValueError(
                    "with a given `base`, pass searcher/restrict_configurations/points_to_evaluate to the base"
                )
            for name in ("metric", "mode", "max_t"):
                if getattr(base, name, None) not in (None, getattr(self, name)):
                    raise ValueError(
                        f"the base scheduler's {name} is {getattr(base, name)!r}, but the rule's is "
                        f"{getattr(self, name)!r}: they must agree"
                    )
        self._set_base(base)
        self.num_stopped = 0
        self._first_report = 1 if running_average else min(grace_time, max_t)
        self._sign = 1.0 if self.mode == "min" else -1.0
        self._values_at: dict[int, list[float]] = {}  # epoch -> sorted values (min orientation)
        self._sums: dict[int, tuple[float, int]] = {}  # trial -> (sum, count) of its values
        self._epoch: dict[int, int] = {}  # last epoch a trial reported
        self._base_at: dict[int, int] = {}  # epoch at which the base wants the next report

    # Contract ------------------------------------------------------------------------------------
    def _suggest(self, new_trial_id: int | None) -> Suggestion | None:
        suggestion = self.base.suggest(new_trial_id)
        if suggestion is None:
            return None
        if suggestion.is_resume:
            trial_id = suggestion.trial_id
            done = self._epoch.get(trial_id, 0)
        else:  # a new trial, possibly from another trial's checkpoint (it starts after that trial's last report)
            trial_id = new_trial_id
            source = suggestion.checkpoint_from
            done = self._epoch.get(source, 0) if source is not None else 0
            self._epoch[trial_id] = done
        base_at = suggestion.report_at if suggestion.report_at is not None else done + 1
        self._base_at[trial_id] = base_at
        return dataclasses.replace(suggestion, report_at=self._report_at(done, base_at))

    def _on_report(self, trial_id: int, epoch: int, metrics: Mapping[str, float]) -> Decision:
        self._epoch[trial_id] = epoch
        value = self._sign * metrics[self.metric]
        if self.running_average:  # mean of the trial's reported values (every epoch it ran)
            total, count = self._sums.get(trial_id, (0.0, 0))
            total, count = total + value, count + 1
            self._sums[trial_id] = (total, count)
            value = total / count
        values = self._values_at.get(epoch)
        if values is None:
            values = self._values_at[epoch] = []
        better = bisect.bisect_left(values, value)
        values.insert(better, value)
        if (
            epoch >= self.grace_time
            and len(values) >= self.grace_population
            and better / len(values) > self.rank_cutoff
        ):
            self.num_stopped += 1
            self.base.on_stop(trial_id)
            return STOP
        base_at = self._base_at[trial_id]
        if epoch >= base_at:
            decision = self.base.on_report(trial_id, epoch, metrics)
            if decision.action is not Action.CONTINUE:
                return decision
            base_at = decision.report_at if decision.report_at is not None else epoch + 1
            self._base_at[trial_id] = base_at
        return Decision(Action.CONTINUE, self._report_at(epoch, base_at))

    # Schedule ------------------------------------------------------------------------------------
    def schedule_description(self) -> str:
        value = "running average" if self.running_average else "last value"
        return self._describe_with_base(
            [
                f"MedianStoppingRule over {type(self.base).__name__}, max_t={self.max_t}",
                f"  a trial's {value} is ranked among all values at the same epoch; from epoch {self.grace_time}",
                f"  on, with at least {self.grace_population} values there, it is stopped if its rank exceeds "
                f"{self.rank_cutoff:g}",
                "  follows Syne Tune 0.13's MedianStoppingRule",
            ]
        )

    def state_summary(self) -> dict[str, Any]:
        return {"num_stopped": self.num_stopped, **super().state_summary()}

    # Helpers -------------------------------------------------------------------------------------
    def _report_at(self, done: int, base_at: int) -> int:
        """The next epoch the rule needs (every epoch from ``_first_report`` on), or the base's if sooner."""
        return min(max(done + 1, self._first_report), base_at)

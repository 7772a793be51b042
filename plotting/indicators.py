"""What one run contributes to the curves: the indicator, a step function of (simulated) time.

- ``"best"`` (the default): the running best of the primary metric, the ``best_so_far`` column
  (``plotting.sources`` reads it; nothing here changes it).
- ``"hypervolume"``: the hypervolume of the run's results so far (``plotting.hypervolume``, 2 or 3 objectives, max
  mode: larger is better). The objectives and their modes come from each run's ``metadata.json``
  (``objectives``/``modes``; runs stored before them have the one ``metric``/``mode``). Points: every result row
  (as Syne Tune's hypervolume column by default) or, with ``one_result_per_trial``, each trial's last result, at
  its time. Rows with a NaN objective are skipped; the value is NaN before the first valid row. The reference
  point of a benchmark: the spec's (``reference_points``), else the one the runs store (the benchmark
  definition's), else the rule (``plotting.hypervolume.reference_point``): per objective the worst value + 10%
  of the range over the points of EVERY run loaded for the benchmark (all methods and seeds, so the methods are
  comparable).
- ``"best_feasible"``: the running best of the primary metric over the results whose constraint is satisfied
  (``metadata.json``'s ``constraint``: feasible iff the constraint metric <= threshold; NaN is not feasible);
  NaN until the first feasible result.

A run's step function keeps only the points where its value changes (``change_points``). Options that need more
of a run than its step function: ``fronts`` keeps each run's non-dominated set (Pareto-front figures, in the
objectives' own units; same points as the hypervolume), ``feasibility`` each run's fraction of infeasible
trials (a trial is infeasible if its last result is).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from plotting.errors import LoadError
from plotting.hypervolume import MARGIN, hypervolume_trace, nondominated, reference_point, signs

logger = logging.getLogger(__name__)

INDICATORS = ("best", "hypervolume", "best_feasible")
#: the metric name of the hypervolume curves (mode max)
HYPERVOLUME = "hypervolume"

#: (benchmark, label, seed) of one loaded run
RunKey = tuple[str, str, int]


@dataclass(frozen=True)
class IndicatorOptions:
    """Which indicator to compute per run, and what else to keep of each run."""

    name: str = "best"
    one_result_per_trial: bool = False
    reference_points: Mapping[str, Sequence[float]] = field(default_factory=dict)
    fronts: bool = False
    feasibility: bool = False

    def __post_init__(self) -> None:
        if self.name not in INDICATORS:
            raise LoadError(f"indicator must be one of {', '.join(INDICATORS)}, got {self.name!r}")

    @property
    def reads_columns(self) -> bool:
        """Whether runs are read beyond ``time`` and ``best_so_far``."""
        return self.name != "best" or self.fronts or self.feasibility

    @property
    def needs_objectives(self) -> bool:
        return self.name == "hypervolume" or self.fronts

    @property
    def needs_constraint(self) -> bool:
        return self.name == "best_feasible" or self.feasibility


@dataclass(frozen=True)
class Problem:
    """The objectives of a run (the primary metric first), their modes, its constraint and stored reference point."""

    objectives: tuple[str, ...]
    modes: tuple[str, ...]
    constraint: str | None = None
    threshold: float | None = None
    reference_point: tuple[float, ...] | None = None

    @classmethod
    def of(cls, metadata: Mapping[str, Any]) -> Problem:
        """From ``metadata.json`` (fields absent in runs stored before them: one objective, no constraint)."""
        definition = metadata.get("benchmark_definition") or {}
        objectives = metadata.get("objectives") or [metadata.get("metric")]
        modes = metadata.get("modes") or [metadata.get("mode")]
        constraint = metadata.get("constraint") or definition.get("constraint") or {}
        reference = metadata.get("reference_point") or definition.get("reference_point")
        threshold = constraint.get("threshold") if isinstance(constraint, Mapping) else None
        return cls(
            objectives=tuple(str(name) for name in objectives),
            modes=tuple(str(mode) for mode in modes),
            constraint=constraint.get("metric") if isinstance(constraint, Mapping) else None,
            threshold=float(threshold) if threshold is not None else None,
            reference_point=tuple(float(v) for v in reference) if reference is not None else None,
        )

    @property
    def signs(self) -> np.ndarray:
        return signs(self.modes)


@dataclass
class RunColumns:
    """The columns of one run that the indicator needs: ``points`` are the objectives (n, m) with max-mode columns
    negated (all minimised), ``primary`` the primary metric as stored, ``constraint`` the constraint metric."""

    times: np.ndarray
    points: np.ndarray | None = None
    primary: np.ndarray | None = None
    trial_ids: np.ndarray | None = None
    constraint: np.ndarray | None = None


@dataclass(frozen=True)
class ReferencePoint:
    """A benchmark's hypervolume reference point, in the objectives' own units, and where it came from."""

    objectives: tuple[str, ...]
    modes: tuple[str, ...]
    values: tuple[float, ...]
    source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "objectives": list(self.objectives),
            "modes": list(self.modes),
            "reference_point": list(self.values),
            "source": self.source,
        }


@dataclass
class IndicatorData:
    """What the indicator kept besides the step functions: per benchmark its problem and reference point, per run
    its non-dominated set (``fronts``, own units) and fraction of infeasible trials (``infeasible``)."""

    name: str = "best"
    one_result_per_trial: bool = False
    problems: dict[str, Problem] = field(default_factory=dict)
    references: dict[str, ReferencePoint] = field(default_factory=dict)
    fronts: dict[RunKey, np.ndarray] = field(default_factory=dict)
    infeasible: dict[RunKey, float] = field(default_factory=dict)


# Reading ------------------------------------------------------------------------------------------
def columns_to_read(metadata: Mapping[str, Any], options: IndicatorOptions) -> list[str]:
    """The columns of results.parquet the indicator needs of a run (besides ``time``)."""
    problem = Problem.of(metadata)
    columns: list[str] = []
    if options.one_result_per_trial or options.feasibility:
        columns.append("trial_id")
    if options.needs_objectives:
        columns += problem.objectives
    if options.name == "best_feasible":
        columns.append(problem.objectives[0])
    if options.needs_constraint and problem.constraint is not None:
        columns.append(problem.constraint)
    return list(dict.fromkeys(columns))


def run_columns(table: pa.Table, metadata: Mapping[str, Any], options: IndicatorOptions) -> RunColumns:
    """The ``RunColumns`` of a run from its results table (read with ``columns_to_read`` and ``time``)."""
    problem = Problem.of(metadata)
    names = set(table.column_names)

    def column(name: str) -> np.ndarray:
        return np.asarray(table.column(name).to_numpy(), dtype=float)

    out = RunColumns(times=column("time"))
    if "trial_id" in names:
        out.trial_ids = table.column("trial_id").to_numpy()
    if options.needs_objectives:
        out.points = np.column_stack([column(name) for name in problem.objectives]) * problem.signs
    if options.name == "best_feasible":
        out.primary = column(problem.objectives[0])
    if problem.constraint is not None and problem.constraint in names:
        out.constraint = column(problem.constraint)
    return out


def change_points(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of a step function where its value changes (NaN values dropped; the first finite one kept).

    Several results at one time: ``Steps.at`` takes the last one, which holds the value at that time.
    """
    times = np.asarray(times, dtype=float)
    values = np.asarray(values, dtype=float)
    keep = np.isfinite(values)
    if len(values) > 1:
        keep[1:] &= values[1:] != values[:-1]
    return times[keep], values[keep]


def last_per_trial(trial_ids: np.ndarray) -> np.ndarray:
    """Row indices of each trial's last result, in row (time) order."""
    reverse = trial_ids[::-1]
    _, first_in_reverse = np.unique(reverse, return_index=True)
    return np.sort(len(trial_ids) - 1 - first_in_reverse)


# Indicators per run -------------------------------------------------------------------------------
def _hypervolume_points(run: RunColumns, one_result_per_trial: bool) -> tuple[np.ndarray, np.ndarray]:
    """Times and (minimised) points that enter the hypervolume of a run."""
    assert run.points is not None
    if one_result_per_trial:
        if run.trial_ids is None:
            raise LoadError("one_result_per_trial needs the trial_id column of results.parquet")
        rows = last_per_trial(run.trial_ids)
        return run.times[rows], run.points[rows]
    return run.times, run.points


def hypervolume_steps(
    run: RunColumns, reference: np.ndarray, one_result_per_trial: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The hypervolume-over-time step function of a run (``reference`` minimised): NaN before its first valid
    row, then the hypervolume of the valid rows so far."""
    times, points = _hypervolume_points(run, one_result_per_trial)
    values = hypervolume_trace(points, reference)
    valid = np.flatnonzero(np.all(np.isfinite(points), axis=1))
    values[: valid[0] if len(valid) else len(values)] = np.nan
    return change_points(times, values)


def best_feasible_steps(run: RunColumns, mode: str, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """The running best of the primary metric over the feasible results (constraint <= threshold); NaN before."""
    assert run.primary is not None and run.constraint is not None
    with np.errstate(invalid="ignore"):
        feasible = run.constraint <= threshold
    values = np.where(feasible, run.primary, np.nan)
    best = (np.fmin if mode == "min" else np.fmax).accumulate(values) if len(values) else values
    return change_points(run.times, best)


def infeasible_fraction(run: RunColumns, threshold: float) -> float:
    """The fraction of a run's trials whose last result is infeasible (NaN without trials)."""
    assert run.trial_ids is not None and run.constraint is not None
    last = run.constraint[last_per_trial(run.trial_ids)]
    if len(last) == 0:
        return math.nan
    with np.errstate(invalid="ignore"):
        return float(np.mean(~(last <= threshold)))


# Applying an indicator to the loaded runs -------------------------------------------------------
def benchmark_problems(runs: Mapping[RunKey, tuple[Mapping[str, Any], str]], options: IndicatorOptions) -> dict:
    """Per benchmark the problem its runs share (``runs``: key -> (metadata, path)); ``LoadError`` if they disagree
    or lack what the indicator needs."""
    problems: dict[str, Problem] = {}
    for (benchmark, _, _), (metadata, path) in runs.items():
        problem = Problem.of(metadata)
        known = problems.setdefault(benchmark, problem)
        if (known.objectives, known.modes) != (problem.objectives, problem.modes):
            raise LoadError(
                f"runs of benchmark {benchmark} disagree on the objectives ({', '.join(known.objectives)} vs "
                f"{', '.join(problem.objectives)} in {path}); load one tag at a time"
            )
        if len(problem.modes) != len(problem.objectives):
            raise LoadError(f"{path}: {len(problem.modes)} modes for {len(problem.objectives)} objectives")
        if options.name == "hypervolume" and len(problem.objectives) not in (2, 3):
            raise LoadError(
                f"hypervolume needs runs with 2 or 3 objectives; {path} has {len(problem.objectives)} "
                f"({', '.join(problem.objectives)})"
            )
        if options.name == "best_feasible" and (problem.constraint is None or problem.threshold is None):
            raise LoadError(f'indicator "best_feasible" needs runs with a constraint; {path} has none')
    return problems


def reference_points(
    runs: Mapping[RunKey, RunColumns], problems: Mapping[str, Problem], options: IndicatorOptions
) -> dict[str, ReferencePoint]:
    """Per benchmark the reference point: the spec's, else the runs' stored one, else the rule over all runs."""
    extremes: dict[str, list[np.ndarray]] = {}
    counts: dict[str, int] = {}
    for (benchmark, _, _), run in runs.items():
        _, points = _hypervolume_points(run, options.one_result_per_trial)
        finite = points[np.all(np.isfinite(points), axis=1)]
        counts[benchmark] = counts.get(benchmark, 0) + 1
        if len(finite):
            extremes.setdefault(benchmark, []).extend([finite.min(axis=0), finite.max(axis=0)])
    unused = sorted(set(options.reference_points) - set(problems))
    if unused:
        logger.warning("reference points given for benchmark(s) without loaded runs: %s", ", ".join(unused))
    out = {}
    for benchmark, problem in problems.items():
        given = options.reference_points.get(benchmark)
        if given is not None:
            values, source = np.asarray(given, dtype=float), "given in the spec"
            if values.shape != (len(problem.objectives),) or not np.all(np.isfinite(values)):
                raise LoadError(
                    f"reference point of {benchmark} must have {len(problem.objectives)} finite values "
                    f"({', '.join(problem.objectives)}), got {list(given)}"
                )
        elif problem.reference_point is not None:
            values, source = np.asarray(problem.reference_point, dtype=float), "fixed by the benchmark definition"
        else:
            if benchmark not in extremes:
                raise LoadError(
                    f"no run of {benchmark} has a result with every objective; give its reference point: "
                    f'[hypervolume] reference_points = {{ "{benchmark}" = [...] }}'
                )
            minimised = reference_point(np.vstack(extremes[benchmark]), MARGIN)
            values = minimised * problem.signs
            source = (
                f"rule: worst value + {MARGIN:.0%} of the range per objective over the {counts[benchmark]} runs "
                "loaded (every method and seed)"
            )
        out[benchmark] = ReferencePoint(problem.objectives, problem.modes, tuple(float(v) for v in values), source)
    return out


def apply_indicator(
    runs: Mapping[RunKey, tuple[Mapping[str, Any], str, RunColumns]], options: IndicatorOptions
) -> tuple[dict[RunKey, tuple[np.ndarray, np.ndarray]], IndicatorData]:
    """Step functions of the runs (``runs``: key -> (metadata, path, columns); empty for ``"best"``, whose step
    functions come from ``best_so_far``) and what else the options keep."""
    problems = benchmark_problems({key: (meta, path) for key, (meta, path, _) in runs.items()}, options)
    data = IndicatorData(options.name, options.one_result_per_trial, problems)
    columns = {key: run for key, (_, _, run) in runs.items()}
    if options.name == "hypervolume":
        data.references = reference_points(columns, problems, options)
    steps: dict[RunKey, tuple[np.ndarray, np.ndarray]] = {}
    for key, run in columns.items():
        problem = problems[key[0]]
        if options.name == "hypervolume":
            reference = np.asarray(data.references[key[0]].values) * problem.signs
            steps[key] = hypervolume_steps(run, reference, options.one_result_per_trial)
        elif options.name == "best_feasible":
            assert problem.threshold is not None
            steps[key] = best_feasible_steps(run, problem.modes[0], problem.threshold)
        if options.fronts and len(problem.objectives) > 1:
            _, points = _hypervolume_points(run, options.one_result_per_trial)
            data.fronts[key] = nondominated(points[np.all(np.isfinite(points), axis=1)]) * problem.signs
        if options.feasibility and problem.threshold is not None and run.constraint is not None:
            data.infeasible[key] = infeasible_fraction(run, problem.threshold)
    return steps, data


def reference_text(reference: ReferencePoint) -> str:
    """``valid_error (min), elapsed_time (min) = [1.1, 3.2] (source)`` for captions and notes."""
    names = ", ".join(f"{name} ({mode})" for name, mode in zip(reference.objectives, reference.modes))
    return f"{names} = [{', '.join(f'{v:.6g}' for v in reference.values)}] ({reference.source})"


def caption_parts(data: IndicatorData) -> dict[str, str]:
    """What a table of final values says about the indicator: ``value`` (what was aggregated) and ``note`` (the
    hypervolume reference points); empty for the best-so-far."""
    if data.name == "hypervolume":
        points = "; ".join(f"{benchmark}: {reference_text(ref)}" for benchmark, ref in data.references.items())
        which = "each trial's last result" if data.one_result_per_trial else "every result"
        return {
            "value": f"the hypervolume at the budget (of {which})",
            "note": f"hypervolume reference points: {points}",
        }
    if data.name == "best_feasible":
        return {
            "value": "the best feasible value at the budget (constraint metric <= threshold)",
            "note": "runs without a feasible result count as missing",
        }
    return {}


def indicator_metric(name: str, metric: str) -> str:
    """The name of a benchmark's curves under the indicator (figure labels, tables)."""
    if name == "hypervolume":
        return HYPERVOLUME
    if name == "best_feasible":
        return f"{metric} (feasible)"
    return metric

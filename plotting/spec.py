"""Declarative figure specs (TOML): which results, how to aggregate, which figures and tables, where to.

A spec (all sections but ``[results]`` optional; relative paths are relative to the working directory)::

    # Results: python -m experiments.run --benchmark sklearn-mlp-digits --method ASHA RandomSearch \\
    #              --num_seeds 30 --experiment_tag headline
    description = "ASHA vs random search on the embedded benchmark"
    note = ""                          # printed under every figure (e.g. "X stood in for Y, unavailable here")

    [results]
    dirs = ["results"]                 # local directories or s3://bucket/prefix (default: ["results"])
    tags = ["headline"]                # experiment tags (required)
    benchmarks = ["sklearn-mlp-digits"]  # default: every benchmark found
    methods = ["ASHA", "RandomSearch"]   # default: every method found; the order of legends and tables
    num_seeds = 30                     # expected seeds 0..29: a missing one is reported (default: not checked)
    label = "method"                   # or "tag/method" to keep methods of different tags apart
    require_complete = false           # true: any missing seed, partial run or missing method is an error
    storage_options = { anon = false } # passed to fsspec for s3:// dirs

    [aggregation]
    statistic = "iqm"                  # iqm, mean or median over the seeds of a benchmark; in aggregates over
                                       # benchmarks iqm and mean pool all runs, median is rliable's: the median
                                       # over benchmarks of the per-benchmark means (plotting.stats)
    confidence = 0.95
    reps = 2000                        # bootstrap resamples (at least 1000)
    seed = 0
    indicator = "best"                 # what each run's curve is (plotting.indicators); every figure and table
                                       # aggregates it: "best" (running best of the metric), "hypervolume" (of
                                       # the run's results so far; 2 or 3 objectives from each run's metadata;
                                       # mode max) or "best_feasible" (running best over the results whose
                                       # constraint metric <= threshold; NaN before the first feasible one)

    [hypervolume]                      # the hypervolume indicator and the Pareto-front figure
    reference_points = { "sklearn-mlp-digits-mo" = [1.0, 0.5] }  # per benchmark, in the objectives' units
                                       # (default: the runs' stored one, else worst value + 10% of the range
                                       # per objective over every run loaded for the benchmark); the points
                                       # used are written to hypervolume_reference.json and named in tables
    one_result_per_trial = false       # true: only each trial's last result counts (default: every result)

    [grid]
    points = 200
    spacing = "log"                    # or "linear"

    [layout]
    columns = 3                        # panels per row
    width = 7.0                        # inches (7: full width of a two-column paper)
    row_height = 2.0                   # inches per row of panels
    font_size = 8                      # points (at least 8)
    dpi = 200                          # PNG resolution

    [figures]
    curves = true                      # or a table: [figures.curves] yscale = "log", ylim_from = 0.5
                                       # (y range from that fraction of the grid on; default 0.1)
    ranks = true
    final = true                       # or [figures.final] statistics = ["median", "iqm", "mean"]
    improvement = true                 # or [figures.improvement] reference = "ASHA"
    timeline = { benchmark = "sklearn-mlp-digits", method = "ASHA", seed = 0 }   # default: off
    pareto = true                      # default: off. Per benchmark each method's non-dominated set of all its
                                       # results (pooled over seeds; [figures.pareto] seed = 0: one seed) as a
                                       # staircase; 3 objectives: the front of the first two, noted;
                                       # [figures.pareto] xscale/yscale = "log" for the objectives' axes
    infeasible = true                  # default: off. Fraction of infeasible trials (last result infeasible)
                                       # per method: mean over seeds with its bootstrap interval

    [figures.learning_curves]          # default: off. Every trial's curve of ONE run, coloured by how it ended,
                                       # circles at rung levels, a diamond at each trial's last result
                                       # (plotting.learning_curves); [[figures.learning_curves]]: one figure per run
    benchmark = "sklearn-mlp-digits"   # the run (required): benchmark, method, seed (default 0), tag (default:
    method = "ASHA"                    # the run found in any of the [results] tags)
    seed = 0
    metric = "valid_loss"              # default: the run's metric
    xscale = "linear"                  # epoch axis: "linear" or "log"
    yscale = "log"                     # metric axis: "linear" or "log"
    ylim = [0.04, 3.0]                 # default: the range of the curves
    time_panel = true                  # a second panel: the metric over simulated time (default false)
    name = "learning_curves"           # output file name (default: learning_curves; several entries:
                                       # learning_curves-<method>-<benchmark>-seed<seed>)

    [figures.importance]               # default: off. Permutation importance of a random forest fitted on
                                       # hyperparameters -> metric (plotting.importance); [[figures.importance]]
                                       # for several figures. The data: runs of the [results] ...
    benchmark = "sklearn-mlp-digits"   #   ... of this benchmark (required unless table is given),
    method = "ASHA"                    #   this method (default: every method, pooled),
    seed = 0                           #   this seed (default: every seed, pooled), tag (default: any tag),
    level = "max_t"                    #   one row per trial: the metric at max_t (trials that reached it), at an
                                       #   epoch (an integer), or "last" (each trial's last result; the epoch it
                                       #   reached becomes a feature)
    # table = "digits.parquet"         # ... or, instead of runs, a file of python -m experiments.table_data
    metric = "valid_loss"              # default: the runs' (or the table's) metric
    encoding = "ordinal"               # categorical hyperparameters: "ordinal" or "onehot" (importance is per
                                       # hyperparameter either way)
    repeats = 10                       # shuffles per hyperparameter
    trees = 100                        # trees of the forest
    test_fraction = 0.25               # configurations held out (the R² shown is theirs)
    forest_seed = 0                    # split, forest and shuffles: the same seed gives the same figure
    name = "importance"                # output file name (default: importance; several entries: importance-...)

    [tables]
    final = true
    pairwise = true
    formats = ["csv", "md", "tex"]
    digits = 4                         # significant digits
    infeasible = false                 # true: infeasible_table.* (fraction of infeasible trials per method)

    [output]
    dir = "figures/headline"           # default: figures/<spec file name without .toml>
    prefix = ""                        # prepended to every file name
    formats = ["pdf", "png"]

``load_spec`` validates everything and raises ``SpecError`` with one line naming the file, the section and the
key (``SPEC.toml: [figures] unknown key 'colour'; known: curves, ranks, ...``).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATISTIC_NAMES = ("iqm", "mean", "median")
SPACING_NAMES = ("log", "linear")
LABEL_NAMES = ("method", "tag/method")
FIGURE_FORMATS = ("pdf", "png")
TABLE_FORMATS = ("csv", "md", "tex")
YSCALES = ("linear", "log")
ENCODINGS = ("ordinal", "onehot")
LEVEL_NAMES = ("max_t", "last")
INDICATOR_NAMES = ("best", "hypervolume", "best_feasible")
MIN_REPS = 1000


class SpecError(ValueError):
    """A spec is invalid or names results that do not exist (one line, for the user)."""


# The parsed spec ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultsSpec:
    tags: tuple[str, ...]
    dirs: tuple[str, ...] = ("results",)
    benchmarks: tuple[str, ...] | None = None
    methods: tuple[str, ...] | None = None
    num_seeds: int | None = None
    label: str = "method"
    require_complete: bool = False
    storage_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AggregationSpec:
    statistic: str = "iqm"
    confidence: float = 0.95
    reps: int = 2000
    seed: int = 0
    indicator: str = "best"


@dataclass(frozen=True)
class HypervolumeSpec:
    reference_points: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    one_result_per_trial: bool = False


@dataclass(frozen=True)
class GridSpec:
    points: int = 200
    spacing: str = "log"


@dataclass(frozen=True)
class LayoutSpec:
    columns: int = 3
    width: float = 7.0
    row_height: float = 2.0
    font_size: float = 8.0
    dpi: int = 200


@dataclass(frozen=True)
class CurvesFigure:
    yscale: str = "linear"
    ylim_from: float = 0.1


@dataclass(frozen=True)
class FinalFigure:
    statistics: tuple[str, ...] = ("median", "iqm", "mean")


@dataclass(frozen=True)
class ImprovementFigure:
    reference: str | None = None


@dataclass(frozen=True)
class RanksFigure:
    pass


@dataclass(frozen=True)
class ParetoFigure:
    seed: int | None = None
    xscale: str = "linear"
    yscale: str = "linear"


@dataclass(frozen=True)
class InfeasibleFigure:
    pass


@dataclass(frozen=True)
class TimelineFigure:
    benchmark: str
    method: str
    seed: int = 0
    tag: str | None = None


@dataclass(frozen=True)
class LearningCurvesFigure:
    benchmark: str
    method: str
    seed: int = 0
    tag: str | None = None
    metric: str | None = None
    xscale: str = "linear"
    yscale: str = "linear"
    ylim: tuple[float, float] | None = None
    time_panel: bool = False
    name: str = "learning_curves"


@dataclass(frozen=True)
class ImportanceFigure:
    benchmark: str | None = None
    method: str | None = None
    seed: int | None = None
    tag: str | None = None
    table: str | None = None
    level: str | int = "max_t"
    metric: str | None = None
    encoding: str = "ordinal"
    repeats: int = 10
    trees: int = 100
    test_fraction: float = 0.25
    forest_seed: int = 0
    name: str = "importance"


@dataclass(frozen=True)
class FiguresSpec:
    curves: CurvesFigure | None = CurvesFigure()
    ranks: RanksFigure | None = RanksFigure()
    final: FinalFigure | None = FinalFigure()
    improvement: ImprovementFigure | None = ImprovementFigure()
    timeline: TimelineFigure | None = None
    learning_curves: tuple[LearningCurvesFigure, ...] = ()
    importance: tuple[ImportanceFigure, ...] = ()
    pareto: ParetoFigure | None = None
    infeasible: InfeasibleFigure | None = None


@dataclass(frozen=True)
class TablesSpec:
    final: bool = True
    pairwise: bool = True
    formats: tuple[str, ...] = TABLE_FORMATS
    digits: int = 4
    infeasible: bool = False


@dataclass(frozen=True)
class OutputSpec:
    dir: str
    prefix: str = ""
    formats: tuple[str, ...] = FIGURE_FORMATS


@dataclass(frozen=True)
class Spec:
    """A validated spec; ``path`` is the file it came from (for messages)."""

    path: Path
    results: ResultsSpec
    aggregation: AggregationSpec = AggregationSpec()
    grid: GridSpec = GridSpec()
    layout: LayoutSpec = LayoutSpec()
    figures: FiguresSpec = FiguresSpec()
    tables: TablesSpec = TablesSpec()
    output: OutputSpec = OutputSpec("figures")
    description: str = ""
    #: printed under every figure (e.g. which benchmark stood in for one that was unavailable)
    note: str = ""
    hypervolume: HypervolumeSpec = HypervolumeSpec()


# Validation --------------------------------------------------------------------------------------
class _Checker:
    """Checks one section; every message names the file, the section and the key."""

    def __init__(self, path: Path, section: str, table: Any, known: tuple[str, ...]) -> None:
        self.path = path
        self.section = section
        if not isinstance(table, dict):
            self.fail(f"must be a table ([{section}] or {section.rpartition('.')[2]} = {{ ... }}), got {_show(table)}")
        self.table = table
        unknown = [key for key in table if key not in known]
        if unknown:
            key = unknown[0]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise SpecError(f"{path}: [{section}] unknown key '{key}'{hint}; known: {', '.join(known) or 'none'}")

    def fail(self, message: str, key: str | None = None) -> None:
        where = f"[{self.section}] {key}" if key else f"[{self.section}]"
        raise SpecError(f"{self.path}: {where} {message}")

    def get(self, key: str, check: Callable[[Any], str | None], default: Any = None, *, required: bool = False) -> Any:
        if key not in self.table:
            if required:
                self.fail(f"missing required key '{key}'")
            return default
        value = self.table[key]
        problem = check(value)
        if problem:
            self.fail(f"{problem}, got {_show(value)}", key)
        return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _integer(minimum: int) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            return f"must be an integer >= {minimum}"
        return None

    return check


def _number(low: float, high: float, *, open_low: bool = True, open_high: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and (value > low if open_low else value >= low) and (value < high if open_high else value <= high)
        if not ok:
            lb = "(" if open_low else "["
            rb = ")" if open_high else "]"
            return f"must be a number in {lb}{low:g}, {high:g}{rb}"
        return None

    return check


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(repr(c) for c in choices)}"

    return check


def _string(value: Any) -> str | None:
    return None if isinstance(value, str) and value else "must be a non-empty string"


def _any_string(value: Any) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _name(value: Any) -> str | None:
    if not isinstance(value, str) or not value or value.startswith(".") or "/" in value or "\\" in value:
        return "must be a name without '/', '\\' or a leading '.'"
    return None


def _strings(*, allowed: tuple[str, ...] | None = None, names: bool = False) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            return "must be a non-empty list of strings"
        if allowed is not None:
            bad = [v for v in value if v not in allowed]
            if bad:
                return f"has {bad[0]!r}; allowed: {', '.join(allowed)}"
        if names:
            bad = [v for v in value if _name(v)]
            if bad:
                return f"has {bad[0]!r}, which is not a name (no '/', '\\' or leading '.')"
        if len(set(value)) != len(value):
            return "lists a value more than once"
        return None

    return check


def _table(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be a table"


SECTIONS = (
    "description",
    "note",
    "results",
    "aggregation",
    "hypervolume",
    "grid",
    "layout",
    "figures",
    "tables",
    "output",
)
FIGURES = (
    "curves",
    "ranks",
    "final",
    "improvement",
    "timeline",
    "learning_curves",
    "importance",
    "pareto",
    "infeasible",
)
#: figures of which a spec may ask several (a table or an array of tables); each entry one figure
MULTIPLE = ("learning_curves", "importance")


def parse_spec(data: Mapping[str, Any], path: Path | str = Path("spec.toml")) -> Spec:
    """Validate parsed TOML ``data``; raise ``SpecError`` (one line) on the first problem."""
    path = Path(path)
    unknown = [key for key in data if key not in SECTIONS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], SECTIONS, n=1)
        hint = f" (did you mean [{close[0]}]?)" if close else ""
        raise SpecError(f"{path}: unknown section [{unknown[0]}]{hint}; known: {', '.join(SECTIONS)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise SpecError(f"{path}: description must be a string, got {_show(description)}")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise SpecError(f"{path}: note must be a string, got {_show(note)}")
    if "results" not in data:
        raise SpecError(f'{path}: missing section [results] (with at least tags = ["..."])')

    c = _Checker(
        path,
        "results",
        data["results"],
        ("dirs", "tags", "benchmarks", "methods", "num_seeds", "label", "require_complete", "storage_options"),
    )
    benchmarks = c.get("benchmarks", _strings(names=True))
    methods = c.get("methods", _strings())
    results = ResultsSpec(
        tags=tuple(c.get("tags", _strings(names=True), required=True)),
        dirs=tuple(c.get("dirs", _strings(), ["results"])),
        benchmarks=tuple(benchmarks) if benchmarks is not None else None,
        methods=tuple(methods) if methods is not None else None,
        num_seeds=c.get("num_seeds", _integer(1)),
        label=c.get("label", _choice(LABEL_NAMES), "method"),
        require_complete=c.get("require_complete", _boolean, False),
        storage_options=dict(c.get("storage_options", _table, {})),
    )

    c = _Checker(
        path, "aggregation", data.get("aggregation", {}), ("statistic", "confidence", "reps", "seed", "indicator")
    )
    aggregation = AggregationSpec(
        statistic=c.get("statistic", _choice(STATISTIC_NAMES), "iqm"),
        confidence=float(c.get("confidence", _number(0.0, 1.0, open_high=True), 0.95)),
        reps=c.get("reps", _integer(MIN_REPS), 2000),
        seed=c.get("seed", _integer(0), 0),
        indicator=c.get("indicator", _choice(INDICATOR_NAMES), "best"),
    )
    hypervolume = _parse_hypervolume(path, data.get("hypervolume", {}))

    c = _Checker(path, "grid", data.get("grid", {}), ("points", "spacing"))
    grid = GridSpec(points=c.get("points", _integer(2), 200), spacing=c.get("spacing", _choice(SPACING_NAMES), "log"))

    c = _Checker(path, "layout", data.get("layout", {}), ("columns", "width", "row_height", "font_size", "dpi"))
    layout = LayoutSpec(
        columns=c.get("columns", _integer(1), 3),
        width=float(c.get("width", _number(0.0, 100.0), 7.0)),
        row_height=float(c.get("row_height", _number(0.0, 100.0), 2.0)),
        font_size=float(c.get("font_size", _number(8.0, 72.0, open_low=False), 8.0)),
        dpi=c.get("dpi", _integer(50), 200),
    )

    figures = _parse_figures(path, data.get("figures", {}))

    c = _Checker(path, "tables", data.get("tables", {}), ("final", "pairwise", "formats", "digits", "infeasible"))
    tables = TablesSpec(
        final=c.get("final", _boolean, True),
        pairwise=c.get("pairwise", _boolean, True),
        formats=tuple(c.get("formats", _strings(allowed=TABLE_FORMATS), list(TABLE_FORMATS))),
        digits=c.get("digits", _integer(1), 4),
        infeasible=c.get("infeasible", _boolean, False),
    )

    c = _Checker(path, "output", data.get("output", {}), ("dir", "prefix", "formats"))
    output = OutputSpec(
        dir=c.get("dir", _string, f"figures/{path.stem}"),
        prefix=c.get("prefix", _any_string, ""),
        formats=tuple(c.get("formats", _strings(allowed=FIGURE_FORMATS), list(FIGURE_FORMATS))),
    )
    if "/" in output.prefix or "\\" in output.prefix:
        raise SpecError(f"{path}: [output] prefix must not contain '/' or '\\', got {_show(output.prefix)}")
    return Spec(path, results, aggregation, grid, layout, figures, tables, output, description, note, hypervolume)


def _parse_hypervolume(path: Path, data: Any) -> HypervolumeSpec:
    c = _Checker(path, "hypervolume", data, ("reference_points", "one_result_per_trial"))
    points = c.get("reference_points", _table, {})
    for benchmark, values in points.items():
        ok = isinstance(values, list) and len(values) in (2, 3)
        ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)
        if not ok:
            c.fail(
                f"of {benchmark!r} must be a list of 2 or 3 finite numbers (one per objective), got {_show(values)}",
                "reference_points",
            )
    return HypervolumeSpec(
        reference_points={benchmark: tuple(float(v) for v in values) for benchmark, values in points.items()},
        one_result_per_trial=c.get("one_result_per_trial", _boolean, False),
    )


def _parse_figures(path: Path, data: Any) -> FiguresSpec:
    c = _Checker(path, "figures", data, FIGURES)
    chosen: dict[str, Any] = {}
    defaults = FiguresSpec()
    for name in FIGURES:
        if name not in c.table:
            chosen[name] = getattr(defaults, name)
            continue
        value = c.table[name]
        if name in MULTIPLE:
            chosen[name] = _entries(path, c, name, value)
        elif isinstance(value, bool):
            if name == "timeline" and value:
                c.fail('= true needs the run: timeline = { benchmark = "...", method = "...", seed = 0 }', name)
            chosen[name] = _figure_options(path, name, {}) if value else None
        elif isinstance(value, dict):
            chosen[name] = _figure_options(path, name, value)
        else:
            c.fail(f"must be true, false or a table of options, got {_show(value)}", name)
    return FiguresSpec(**chosen)


def _entries(path: Path, c: _Checker, name: str, value: Any) -> tuple[Any, ...]:
    """The entries of a figure that may come several times: a table, an array of tables, or false."""
    if value is False:
        return ()
    if value is True:
        needs = (
            '{ benchmark = "...", method = "...", seed = 0 }'
            if name == "learning_curves"
            else ('{ benchmark = "..." } or { table = "FILE.parquet" }')
        )
        c.fail(f"= true needs its data: {name} = {needs}", name)
    tables = [value] if isinstance(value, dict) else value
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        c.fail(
            f"must be a table of options, an array of tables ([[figures.{name}]]) or false, got {_show(value)}", name
        )
    parse = _learning_curves_options if name == "learning_curves" else _importance_options
    sections = [f"figures.{name}"] if len(tables) == 1 else [f"figures.{name} #{i + 1}" for i in range(len(tables))]
    entries = tuple(parse(path, section, table, len(tables) > 1) for section, table in zip(sections, tables))
    names = [entry.name for entry in entries]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        c.fail(f'two entries write the file {duplicate!r}; give them different name = "..."', name)
    return entries


def _pair(value: Any) -> str | None:
    ok = isinstance(value, list) and len(value) == 2
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    return None if ok and value[0] < value[1] else "must be [low, high] with low < high"


def _level(value: Any) -> str | None:
    if value in LEVEL_NAMES or (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
        return None
    return "must be 'max_t', 'last' or an epoch (an integer >= 1)"


def _learning_curves_options(path: Path, section: str, table: dict[str, Any], several: bool) -> LearningCurvesFigure:
    known = ("benchmark", "method", "seed", "tag", "metric", "xscale", "yscale", "ylim", "time_panel", "name")
    c = _Checker(path, section, table, known)
    benchmark = c.get("benchmark", _name, required=True)
    method = c.get("method", _name, required=True)
    seed = c.get("seed", _integer(0), 0)
    ylim = c.get("ylim", _pair)
    default = f"learning_curves-{method}-{benchmark}-seed{seed}" if several else "learning_curves"
    return LearningCurvesFigure(
        benchmark=benchmark,
        method=method,
        seed=seed,
        tag=c.get("tag", _name),
        metric=c.get("metric", _string),
        xscale=c.get("xscale", _choice(YSCALES), "linear"),
        yscale=c.get("yscale", _choice(YSCALES), "linear"),
        ylim=(float(ylim[0]), float(ylim[1])) if ylim is not None else None,
        time_panel=c.get("time_panel", _boolean, False),
        name=c.get("name", _name, default),
    )


def _importance_options(path: Path, section: str, table: dict[str, Any], several: bool) -> ImportanceFigure:
    known = (
        "benchmark",
        "method",
        "seed",
        "tag",
        "level",
        "table",
        "metric",
        "encoding",
        "repeats",
        "trees",
        "test_fraction",
        "forest_seed",
        "name",
    )
    c = _Checker(path, section, table, known)
    source = c.get("table", _string)
    if source is not None:
        for key in ("benchmark", "method", "seed", "tag", "level"):
            if key in table:
                c.fail("and table are exclusive: the data come from the table file or from runs", key)
    benchmark = c.get("benchmark", _name, required=source is None)
    method = c.get("method", _name)
    seed = c.get("seed", _integer(0))
    if source is not None:
        default = f"importance-{Path(source).stem}"
    else:
        default = f"importance-{method or 'all'}-{benchmark}" + (f"-seed{seed}" if seed is not None else "")
    return ImportanceFigure(
        benchmark=benchmark,
        method=method,
        seed=seed,
        tag=c.get("tag", _name),
        table=source,
        level=c.get("level", _level, "max_t"),
        metric=c.get("metric", _string),
        encoding=c.get("encoding", _choice(ENCODINGS), "ordinal"),
        repeats=c.get("repeats", _integer(1), 10),
        trees=c.get("trees", _integer(1), 100),
        test_fraction=float(c.get("test_fraction", _number(0.0, 1.0, open_high=True), 0.25)),
        forest_seed=c.get("forest_seed", _integer(0), 0),
        name=c.get("name", _name, default if several else "importance"),
    )


def _figure_options(path: Path, name: str, table: dict[str, Any]) -> Any:
    section = f"figures.{name}"
    if name == "curves":
        c = _Checker(path, section, table, ("yscale", "ylim_from"))
        return CurvesFigure(
            yscale=c.get("yscale", _choice(YSCALES), "linear"),
            ylim_from=float(c.get("ylim_from", _number(0.0, 1.0, open_low=False, open_high=True), 0.1)),
        )
    if name == "ranks":
        _Checker(path, section, table, ())
        return RanksFigure()
    if name == "final":
        c = _Checker(path, section, table, ("statistics",))
        return FinalFigure(
            statistics=tuple(c.get("statistics", _strings(allowed=STATISTIC_NAMES), ["median", "iqm", "mean"]))
        )
    if name == "improvement":
        c = _Checker(path, section, table, ("reference",))
        return ImprovementFigure(reference=c.get("reference", _string))
    if name == "pareto":
        c = _Checker(path, section, table, ("seed", "xscale", "yscale"))
        return ParetoFigure(
            seed=c.get("seed", _integer(0)),
            xscale=c.get("xscale", _choice(YSCALES), "linear"),
            yscale=c.get("yscale", _choice(YSCALES), "linear"),
        )
    if name == "infeasible":
        _Checker(path, section, table, ())
        return InfeasibleFigure()
    c = _Checker(path, section, table, ("benchmark", "method", "seed", "tag"))
    return TimelineFigure(
        benchmark=c.get("benchmark", _name, required=True),
        method=c.get("method", _name, required=True),
        seed=c.get("seed", _integer(0), 0),
        tag=c.get("tag", _name),
    )


def load_spec(path: Path | str) -> Spec:
    """Read and validate a spec file; ``SpecError`` (one line) if it is missing, not TOML or invalid."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"{path}: cannot read: {' '.join(str(error).split())}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SpecError(f"{path}: invalid TOML: {' '.join(str(error).split())}") from None
    spec = parse_spec(data, path)
    _check_consistency(spec)
    return spec


def _check_consistency(spec: Spec) -> None:
    """Cross-section checks (e.g. a reference method must be one of the methods)."""
    methods = spec.results.methods
    improvement = spec.figures.improvement
    if improvement and improvement.reference and methods and improvement.reference not in methods:
        raise SpecError(
            f"{spec.path}: [figures.improvement] reference {improvement.reference!r} is not in [results] methods "
            f"({', '.join(methods)})"
        )
    named = [("timeline", spec.figures.timeline)]
    for kind in MULTIPLE:
        entries = getattr(spec.figures, kind)
        named += [(f"{kind}" if len(entries) == 1 else f"{kind} #{i + 1}", e) for i, e in enumerate(entries)]
    for section, entry in named:
        if entry is not None and entry.tag and entry.tag not in spec.results.tags:
            raise SpecError(
                f"{spec.path}: [figures.{section}] tag {entry.tag!r} is not in [results] tags "
                f"({', '.join(spec.results.tags)})"
            )
        table = getattr(entry, "table", None)
        if table is not None and not Path(table).is_file():
            raise SpecError(
                f"{spec.path}: [figures.{section}] table {table!r}: no such file; write it with: "
                f"python -m experiments.table_data {entry.benchmark or 'BENCHMARK'} --output {table}"
            )

"""The figures and tables a spec asks for, each one step: an aggregation, then the drawing or writing.

``spec_steps(spec, curves, output_dir)`` lists the steps in output order (curves, ranks, final, improvement,
timeline, learning curves, importance, Pareto fronts, infeasible fractions, final table, pairwise table, infeasible
table, the hypervolume reference points; learning curves and importance one step per entry);
``plotting.figure.produce`` runs them and times both halves of each. With the hypervolume indicator the reference
points used are written to ``hypervolume_reference.json`` next to the figures (``write_references``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from matplotlib.figure import Figure

from experiments import store_format
from plotting import feasibility as feas
from plotting import figures as fig
from plotting import fronts as fr
from plotting import importance as imp
from plotting import learning_curves as lc
from plotting import run_data
from plotting import tables as tab
from plotting.colors import MethodStyle, method_styles
from plotting.commands import run_command
from plotting.curves import Curves
from plotting.errors import output_errors
from plotting.labels import add_note, time_label
from plotting.spec import Spec, SpecError

# the notes of skipped items belong to the command that produces the spec
logger = logging.getLogger("plotting.figure")


@dataclass(frozen=True)
class Step:
    """One figure or table: ``draw(compute())`` writes it and returns the paths written."""

    name: str
    compute: Callable[[], Any]
    draw: Callable[[Any], list[Path]]


@dataclass
class _Job:
    """What every step needs: the spec, the loaded curves, the output directory, the layout and method styles."""

    spec: Spec
    curves: Curves
    out: Path
    layout: fig.Layout
    styles: dict[str, MethodStyle]
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def boot(self) -> dict[str, Any]:
        """The bootstrap options of the spec's aggregation."""
        agg = self.spec.aggregation
        return {"confidence": agg.confidence, "reps": agg.reps, "seed": agg.seed}

    def stem(self, name: str) -> Path:
        return self.out / f"{self.spec.output.prefix}{name}"

    def save(self, figure: Figure, name: str) -> list[Path]:
        if self.spec.note:
            add_note(figure, self.spec.note, self.layout)
        return fig.save(figure, self.stem(name), self.spec.output.formats)

    def infeasible(self) -> pd.DataFrame:
        """infeasible_table once, for the figure and the table of infeasible fractions."""
        if "infeasible" not in self.cache:
            digits = self.spec.tables.digits
            self.cache["infeasible"] = feas.infeasible_table(self.curves, digits=digits, **self.boot)
        return self.cache["infeasible"]

    def pairwise(self) -> pd.DataFrame:
        """pairwise_matrix once, for the improvement figure and the pairwise table."""
        if "pairwise" not in self.cache:
            self.cache["pairwise"] = tab.pairwise_table(self.curves, **self.boot)
        return self.cache["pairwise"]


def spec_steps(spec: Spec, curves: Curves, output_dir: Path) -> list[Step]:
    """The steps of every figure and table the spec asks for, writing into ``output_dir``."""
    job = _Job(spec, curves, output_dir, fig.Layout(**asdict(spec.layout)), method_styles(curves.methods))
    makers = (
        _curves,
        _ranks,
        _final,
        _improvement,
        _timeline,
        _learning_curves,
        _importance,
        _pareto,
        _infeasible,
        _final_table,
        _pairwise_table,
        _infeasible_table,
        _references,
    )
    steps: list[Step] = []
    for make in makers:
        made = make(job)
        steps += made if isinstance(made, list) else [made] if made is not None else []
    return steps


def _curves(job: _Job) -> Step | None:
    options = job.spec.figures.curves
    if options is None:
        return None
    statistic = job.spec.aggregation.statistic

    def draw(bands: Any) -> list[Path]:
        figure = fig.plot_curves(
            job.curves,
            statistic=statistic,
            layout=job.layout,
            styles=job.styles,
            yscale=options.yscale,
            ylim_from=options.ylim_from,
            bands=bands,
        )
        return job.save(figure, "curves")

    return Step("curves", lambda: fig.curve_bands(job.curves, statistic=statistic, **job.boot), draw)


def _ranks(job: _Job) -> Step | None:
    if job.spec.figures.ranks is None:
        return None
    return Step(
        "ranks",
        lambda: fig.rank_frame(job.curves),
        lambda ranks: job.save(fig.plot_ranks(job.curves, layout=job.layout, styles=job.styles, ranks=ranks), "ranks"),
    )


def _final(job: _Job) -> Step | None:
    if job.spec.figures.final is None:
        return None
    statistics = job.spec.figures.final.statistics
    confidence = job.spec.aggregation.confidence

    def draw(table: pd.DataFrame) -> list[Path]:
        figure = fig.plot_final(job.curves, layout=job.layout, styles=job.styles, table=table, confidence=confidence)
        return job.save(figure, "final")

    return Step("final", lambda: fig.final_intervals(job.curves, statistics=statistics, **job.boot), draw)


def _improvement(job: _Job) -> Step | None:
    options = job.spec.figures.improvement
    if options is None:
        return None
    if len(job.curves.methods) < 2:
        logger.warning("improvement figure skipped: it needs at least two methods")
        return None
    confidence = job.spec.aggregation.confidence

    def compute() -> Any:
        return fig.improvement_pairs(job.curves, reference=options.reference, pairwise=job.pairwise(), **job.boot)

    def draw(pairs: Any) -> list[Path]:
        figure = fig.plot_improvement(
            job.curves, layout=job.layout, styles=job.styles, pairs=pairs, confidence=confidence
        )
        return job.save(figure, "improvement")

    return Step("improvement", compute, draw)


def _timeline(job: _Job) -> Step | None:
    timeline = job.spec.figures.timeline
    if timeline is None:
        return None
    title = f"{timeline.method} on {timeline.benchmark}, seed {timeline.seed}"
    runs = job.curves.runs
    xlabel = time_label(runs[(runs["method"] == timeline.method) & (runs["seed"] == timeline.seed)], timeline.benchmark)
    return Step(
        "timeline",
        lambda: timeline_results(job.spec, job.curves),
        lambda results: job.save(
            fig.plot_timeline(results, title=title, layout=job.layout, xlabel=xlabel), "timeline"
        ),
    )


def _learning_curves(job: _Job) -> list[Step]:
    steps = []
    entries = job.spec.figures.learning_curves
    for index, options in enumerate(entries):
        section = "learning_curves" if len(entries) == 1 else f"learning_curves #{index + 1}"

        def compute(options: Any = options, section: str = section) -> lc.LearningCurveData:
            chosen = chosen_runs(
                job.spec, job.curves, section, options.benchmark, options.method, options.seed, options.tag
            )
            run = run_data.read_run_data(str(chosen["path"].iloc[0]), storage_options=job.spec.results.storage_options)
            return lc.run_learning_curves(run, metric=options.metric)

        def draw(data: lc.LearningCurveData, options: Any = options) -> list[Path]:
            figure = lc.plot_learning_curves(
                data,
                layout=job.layout,
                xscale=options.xscale,
                yscale=options.yscale,
                ylim=options.ylim,
                time_panel=options.time_panel,
            )
            return job.save(figure, options.name)

        steps.append(Step(options.name, compute, draw))
    return steps


def _importance(job: _Job) -> list[Step]:
    steps = []
    entries = job.spec.figures.importance
    for index, options in enumerate(entries):
        section = "importance" if len(entries) == 1 else f"importance #{index + 1}"

        def compute(options: Any = options, section: str = section) -> imp.Importance:
            if options.table is not None:
                data = imp.read_table_data(options.table, metric=options.metric)
            else:
                chosen = chosen_runs(
                    job.spec, job.curves, section, options.benchmark, options.method, options.seed, options.tag
                )
                runs = [
                    run_data.read_run_data(str(path), storage_options=job.spec.results.storage_options)
                    for path in chosen["path"]
                ]
                data = imp.run_importance_frame(runs, level=options.level, metric=options.metric)
            return imp.importance_of(
                data,
                repeats=options.repeats,
                trees=options.trees,
                test_fraction=options.test_fraction,
                seed=options.forest_seed,
                encoding=options.encoding,
            )

        def draw(result: imp.Importance, options: Any = options) -> list[Path]:
            return job.save(imp.plot_importance(result, layout=job.layout), options.name)

        steps.append(Step(options.name, compute, draw))
    return steps


def _final_table(job: _Job) -> Step | None:
    tables = job.spec.tables
    if not tables.final:
        return None
    agg = job.spec.aggregation
    return Step(
        "final table",
        lambda: tab.final_table(job.curves, statistic=agg.statistic, digits=tables.digits, **job.boot),
        lambda table: tab.write_table(
            table, job.stem("final_table"), tables.formats, digits=tables.digits, confidence=agg.confidence
        ),
    )


def _pairwise_table(job: _Job) -> Step | None:
    tables = job.spec.tables
    if not tables.pairwise:
        return None
    if len(job.curves.methods) < 2:
        logger.warning("pairwise table skipped: it needs at least two methods")
        return None
    return Step(
        "pairwise table",
        job.pairwise,
        lambda table: tab.write_table(table, job.stem("pairwise"), tables.formats, kind="pairwise"),
    )


def _pareto(job: _Job) -> Step | None:
    options = job.spec.figures.pareto
    if options is None:
        return None
    if not any(len(problem.objectives) > 1 for problem in job.curves.indicator.problems.values()):
        logger.warning("Pareto-front figure skipped: no run has 2 or more objectives")
        return None

    def draw(fronts: fr.Fronts) -> list[Path]:
        figure = fr.plot_pareto(
            job.curves,
            fronts,
            seed=options.seed,
            layout=job.layout,
            styles=job.styles,
            xscale=options.xscale,
            yscale=options.yscale,
        )
        return job.save(figure, "pareto")

    return Step("pareto", lambda: fr.pareto_fronts(job.curves, seed=options.seed), draw)


def _has_constraint(job: _Job, what: str) -> bool:
    if any(problem.constraint is not None for problem in job.curves.indicator.problems.values()):
        return True
    logger.warning("%s skipped: no run has a constraint", what)
    return False


def _infeasible(job: _Job) -> Step | None:
    if job.spec.figures.infeasible is None or not _has_constraint(job, "infeasible-trials figure"):
        return None
    confidence = job.spec.aggregation.confidence

    def draw(table: pd.DataFrame) -> list[Path]:
        figure = feas.plot_infeasible(job.curves, table, layout=job.layout, styles=job.styles, confidence=confidence)
        return job.save(figure, "infeasible")

    return Step("infeasible", job.infeasible, draw)


def _infeasible_table(job: _Job) -> Step | None:
    tables = job.spec.tables
    if not tables.infeasible or not _has_constraint(job, "infeasible-trials table"):
        return None
    agg = job.spec.aggregation
    return Step(
        "infeasible table",
        job.infeasible,
        lambda table: tab.write_table(
            table, job.stem("infeasible_table"), tables.formats, digits=tables.digits, confidence=agg.confidence
        ),
    )


def _references(job: _Job) -> Step | None:
    if not job.curves.indicator.references:
        return None
    prefix = job.spec.output.prefix
    return Step("hypervolume reference", lambda: job.curves, lambda curves: [write_references(curves, job.out, prefix)])


#: the file, next to the figures, naming the hypervolume reference point of every benchmark
REFERENCE_FILE = "hypervolume_reference.json"


def write_references(curves: Curves, out: Path, prefix: str = "") -> Path:
    """Write the hypervolume reference points of ``curves`` (per benchmark: objectives, modes, point, where it came
    from) to ``out/<prefix>hypervolume_reference.json``; returns the path."""
    data = curves.indicator
    content = {
        "indicator": data.name,
        "one_result_per_trial": data.one_result_per_trial,
        "benchmarks": {benchmark: reference.to_json() for benchmark, reference in data.references.items()},
    }
    path = out / f"{prefix}{REFERENCE_FILE}"
    with output_errors(path):
        path.write_text(json.dumps(content, indent=1) + "\n")
    return path


def timeline_results(spec: Spec, curves: Curves) -> pd.DataFrame:
    """results.parquet of the spec's timeline run (only the columns the timeline uses)."""
    timeline = spec.figures.timeline
    assert timeline is not None
    runs = curves.runs
    chosen = runs[
        (runs["benchmark"] == timeline.benchmark)
        & (runs["method"] == timeline.method)
        & (runs["seed"] == timeline.seed)
        & ((runs["tag"] == timeline.tag) if timeline.tag else True)
    ]
    if chosen.empty:
        tag = timeline.tag or spec.results.tags[0]
        command = run_command(timeline.benchmark, [timeline.method], timeline.seed + 1, tag, spec.results.dirs[0])
        raise SpecError(
            f"{spec.path}: [figures.timeline] no complete run of {timeline.method} seed {timeline.seed} on "
            f"{timeline.benchmark} in tags {', '.join(spec.results.tags)}; produce it with: {command}"
        )
    path = str(chosen["path"].iloc[0])
    source = f"{path}/{store_format.RESULTS_FILE}"
    filesystem = None
    if "://" in path:
        import fsspec

        filesystem, source = fsspec.core.url_to_fs(source, **dict(spec.results.storage_options))
    schema = pq.read_schema(source, filesystem=filesystem)
    columns = [c for c in fig.TIMELINE_COLUMNS if c in schema.names]
    return pd.read_parquet(source, columns=columns, filesystem=filesystem)


def chosen_runs(
    spec: Spec,
    curves: Curves,
    section: str,
    benchmark: str | None,
    method: str | None,
    seed: int | None,
    tag: str | None,
) -> pd.DataFrame:
    """The loaded runs of ``benchmark`` (and ``method``, ``seed``, ``tag`` where given; a method matches its name or
    its ``tag/method`` label); ``SpecError`` naming ``[figures.<section>]`` and the producing command if none."""
    runs = curves.runs
    keep = runs["benchmark"] == benchmark
    if method is not None:
        keep &= (runs["method"] == method) | (runs["label"] == method)
    if seed is not None:
        keep &= runs["seed"] == seed
    if tag is not None:
        keep &= runs["tag"] == tag
    chosen = runs[keep]
    if chosen.empty:
        command = run_command(
            str(benchmark), [method or "ASHA"], (seed or 0) + 1, tag or spec.results.tags[0], spec.results.dirs[0]
        )
        what = f"{method or 'any method'} seed {seed if seed is not None else 'any'}"
        raise SpecError(
            f"{spec.path}: [figures.{section}] no complete run of {what} on {benchmark} in tags "
            f"{', '.join(spec.results.tags)}; produce it with: {command}"
        )
    return chosen

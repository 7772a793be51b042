"""Study specs (TOML): benchmarks × methods × seeds, budgets, where results go, how runs execute, which figures.

A spec (every key but ``benchmarks`` and ``methods`` optional)::

    description = "ASHA vs random search"
    tag = "my-study"                  # experiment tag in the store (default: the spec file's name)
    results = "results"               # a local directory or s3://bucket/prefix
    storage_options = {}              # passed to fsspec/s3fs for an s3:// location (e.g. endpoint_url)
    num_seeds = 30                    # seeds start_seed .. start_seed + num_seeds - 1, paired across methods
    start_seed = 0
    master_random_seed = 0
    backend = "local"                 # or "ray"
    jobs = 2                          # local worker processes (default: all CPUs); for Ray: CPUs of a local Ray
    ray_address = "auto"              # backend "ray": join this cluster (default: start a local Ray)

    [defaults]                        # budget of every benchmark unless it sets its own
    n_workers = 4                     # simulated workers (default: the benchmark definition's)
    max_wallclock_time = 3600.0       # simulated seconds (default: the benchmark definition's)
    # max_results, max_trials, target_metric_value, decision_overhead, restrict_configurations, start_at_random

    [[benchmarks]]                    # or: benchmarks = ["sklearn-mlp-digits", "yahpo-lcbench-3945"]
    name = "nas201-cifar100"
    max_wallclock_time = 21600.0
    # run these if the original cannot be had (each with its own definition's budget and [defaults], or a table
    # with its own keys: { name = "yahpo-lcbench-3945", max_wallclock_time = 3600.0 }); those that cannot be
    # had either are left out, and the study stops only if none can
    fallback = ["yahpo-lcbench-189908", "sklearn-mlp-digits"]
    note = "no network here"          # why it may be missing, for the figures (default: the loader's error)

    [methods]                         # or: methods = ["RandomSearch", "ASHA"]
    RandomSearch = {}                 # a registered method under its own name
    "MOBSTER-STOP" = "ASHA+gp"        # a label for a method name (scheduler+searcher compositions too)
    "BORE-RF" = { method = "BORE", classifier = "rf" }   # the other keys are options of the method

    [plot]                            # the figures: a plotting spec (plotting/spec.py) without [results],
    [plot.figures]                    # which the study fills in; default: curves, ranks and final intervals
    curves = true
    # or several figure sets, [[plot]] tables, each with `methods = [...]` (a subset of the labels, in legend
    # order) and its own [plot.output] prefix or dir; `plot = false`: no figures

``load_study`` validates everything and raises ``StudySpecError`` with one line naming the file and the key.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from experiments.errors import ExperimentError
from experiments.run_task import MethodChoice
from experiments.store_format import check_name
from methods import is_method

BUDGET_KEYS = {
    "n_workers": "an integer >= 1",
    "max_wallclock_time": "a number > 0",
    "max_results": "an integer >= 1",
    "max_trials": "an integer >= 1",
    "target_metric_value": "a number",
    "decision_overhead": "a number >= 0",
    "restrict_configurations": "true or false",
    "start_at_random": "true or false",
}
TOP_KEYS = (
    "description",
    "tag",
    "results",
    "storage_options",
    "num_seeds",
    "start_seed",
    "master_random_seed",
    "backend",
    "jobs",
    "ray_address",
    "defaults",
    "benchmarks",
    "methods",
    "plot",
)
DEFAULT_PLOT = {"figures": {"curves": True, "ranks": True, "final": True}}


class StudySpecError(ExperimentError):
    """A study spec that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class BenchmarkEntry:
    """A benchmark of the study, its budget (only what it sets) and the benchmarks that stand in for it."""

    name: str
    budget: Mapping[str, Any] = field(default_factory=dict)
    fallback: tuple[BenchmarkEntry, ...] = ()
    #: why the benchmark may be unavailable, for the figures (default: the loader's error)
    note: str = ""


@dataclass(frozen=True)
class StudySpec:
    path: Path
    description: str
    tag: str
    results: str
    storage_options: Mapping[str, Any]
    num_seeds: int
    start_seed: int
    master_random_seed: int
    backend: str
    jobs: int
    ray_address: str | None
    defaults: Mapping[str, Any]
    benchmarks: tuple[BenchmarkEntry, ...]
    methods: Mapping[str, MethodChoice]
    plots: tuple[Mapping[str, Any], ...]

    @property
    def seeds(self) -> range:
        return range(self.start_seed, self.start_seed + self.num_seeds)

    def budget(self, entry: BenchmarkEntry) -> dict[str, Any]:
        return {**self.defaults, **entry.budget}


def load_study(path: Path | str) -> StudySpec:
    """Read and validate a study spec."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise StudySpecError(f"study spec {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StudySpecError(f"cannot read study spec {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise StudySpecError(f"{path}: not valid TOML: {error}") from None
    return parse_study(data, path)


def parse_study(data: Mapping[str, Any], path: Path | str = Path("study.toml")) -> StudySpec:
    path = Path(path)
    where = str(path)
    _known(where, "", data, TOP_KEYS)
    for key in ("benchmarks", "methods"):
        if key not in data:
            raise StudySpecError(f"{where}: `{key}` is missing; a study names its benchmarks and methods")
    tag = data.get("tag", path.stem)
    _check(where, "tag", tag, isinstance(tag, str), "a name")
    try:
        check_name("tag", tag)
    except ExperimentError as error:
        raise StudySpecError(f"{where}: {error}") from None
    results = data.get("results", "results")
    _check(where, "results", results, isinstance(results, str) and results != "", "a directory or s3:// URL")
    storage_options = data.get("storage_options", {})
    _check(where, "storage_options", storage_options, isinstance(storage_options, dict), "a table")
    backend = data.get("backend", "local")
    _check(where, "backend", backend, backend in ("local", "ray"), '"local" or "ray"')
    ray_address = data.get("ray_address")
    _check(where, "ray_address", ray_address, ray_address is None or isinstance(ray_address, str), "a string")
    description = data.get("description", "")
    _check(where, "description", description, isinstance(description, str), "a string")
    plot = data.get("plot", DEFAULT_PLOT)
    plots = [plot] if isinstance(plot, dict) else plot or []
    ok = isinstance(plots, list) and all(isinstance(table, dict) for table in plots)
    _check(where, "plot", plot, ok, "a table (a plotting spec), [[plot]] tables, or false")
    spec = StudySpec(
        path=path,
        description=description,
        tag=tag,
        results=results,
        storage_options=storage_options,
        num_seeds=_integer(where, "num_seeds", data.get("num_seeds", 10), 1),
        start_seed=_integer(where, "start_seed", data.get("start_seed", 0), 0),
        master_random_seed=_integer(where, "master_random_seed", data.get("master_random_seed", 0), 0),
        backend=backend,
        jobs=_integer(where, "jobs", data.get("jobs", os.cpu_count() or 1), 1),
        ray_address=ray_address or None,
        defaults=_budget(where, "[defaults]", data.get("defaults", {})),
        benchmarks=_benchmarks(where, data["benchmarks"]),
        methods=_methods(where, data["methods"]),
        plots=tuple(plots),
    )
    for i, table in enumerate(spec.plots):
        subset = table.get("methods", list(spec.methods))
        ok = isinstance(subset, list) and subset != [] and all(label in spec.methods for label in subset)
        expected = f"a list of the study's methods ({', '.join(spec.methods)})"
        _check(where, f"[[plot]] #{i + 1} methods", subset, ok, expected)
    return spec


def _benchmarks(where: str, value: Any) -> tuple[BenchmarkEntry, ...]:
    if isinstance(value, list):
        value = [{"name": item} if isinstance(item, str) else item for item in value]
    _check(where, "benchmarks", value, isinstance(value, list) and value != [], "a list of names or [[benchmarks]]")
    entries = []
    for i, table in enumerate(value):
        key = f"[[benchmarks]] #{i + 1}"
        _check(where, key, table, isinstance(table, dict) and isinstance(table.get("name"), str), "a table with name")
        _known(where, key, table, ("name", "fallback", "note", *BUDGET_KEYS))
        _check(where, f"{key} note", table.get("note", ""), isinstance(table.get("note", ""), str), "a string")
        fallback = table.get("fallback", [])
        _check(where, f"{key} fallback", fallback, isinstance(fallback, list), "a list of names or tables")
        budget = _budget(where, key, {k: v for k, v in table.items() if k in BUDGET_KEYS})
        fallbacks = _benchmarks(where, fallback) if fallback else ()
        entries.append(BenchmarkEntry(table["name"], budget, fallbacks, table.get("note", "")))
    names = [entry.name for entry in entries]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise StudySpecError(f"{where}: benchmarks {', '.join(repeated)} listed more than once")
    return tuple(entries)


def _methods(where: str, value: Any) -> dict[str, MethodChoice]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = {name: {} for name in value}
    _check(where, "methods", value, isinstance(value, dict) and value != {}, "a list of names or a [methods] table")
    choices = {}
    for label, entry in value.items():
        try:
            check_name("method label", label)
        except ExperimentError as error:
            raise StudySpecError(f"{where}: [methods] {error}") from None
        if isinstance(entry, str):
            entry = {"method": entry}
        _check(where, f"[methods] {label}", entry, isinstance(entry, dict), "a method name or a table")
        options = {key: item for key, item in entry.items() if key != "method"}
        name = entry.get("method", label)
        if not isinstance(name, str) or not is_method(name):
            from methods import REGISTRY

            close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise StudySpecError(
                f"{where}: [methods] {label}: unknown method {name!r}{hint}; give a registered name or "
                "SCHEDULER+SEARCHER (python -m experiments.run --help lists them), e.g. method = \"ASHA\""
            )
        choices[label] = MethodChoice(name, options)
    return choices


def _budget(where: str, section: str, table: Any) -> dict[str, Any]:
    _check(where, section, table, isinstance(table, dict), "a table")
    _known(where, section, table, tuple(BUDGET_KEYS))
    for key, value in table.items():
        if key in ("restrict_configurations", "start_at_random"):
            ok = isinstance(value, bool)
        elif key in ("n_workers", "max_results", "max_trials"):
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if ok and key == "max_wallclock_time":
                ok = value > 0
            if ok and key == "decision_overhead":
                ok = value >= 0
        _check(where, f"{section} {key}", value, ok, BUDGET_KEYS[key])
    return dict(table)


def _integer(where: str, key: str, value: Any, minimum: int) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    _check(where, key, value, ok, f"an integer >= {minimum}")
    return value


def _check(where: str, key: str, value: Any, ok: bool, expected: str) -> None:
    if not ok:
        raise StudySpecError(f"{where}: {key} must be {expected}, got {value!r}")


def _known(where: str, section: str, table: Mapping[str, Any], known: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            place = f"{section} " if section else ""
            raise StudySpecError(f"{where}: {place}unknown key {key!r}{hint}; known: {', '.join(known)}")

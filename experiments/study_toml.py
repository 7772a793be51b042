"""The plotting spec of a study, written as TOML (``plotting.spec`` reads it; the standard library reads TOML
but does not write it, and a spec needs only strings, numbers, booleans, lists and tables)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from experiments.study_spec import StudySpec


def plotting_spec_text(
    spec: StudySpec,
    plot: Mapping[str, Any],
    benchmarks: list[str],
    substitutes: Mapping[str, tuple[list[str], str]],
) -> tuple[str, Path]:
    """The plotting spec of one figure set of the study (a ``[plot]`` table plus ``[results]``) and its output dir."""
    plot = {key: dict(value) if isinstance(value, Mapping) else value for key, value in plot.items()}
    results = {
        "dirs": [spec.results],
        "tags": [spec.tag],
        "benchmarks": benchmarks,
        "methods": list(plot.pop("methods", spec.methods)),
    }
    if spec.start_seed == 0:  # the plotting spec expects seeds 0 .. num_seeds - 1
        results["num_seeds"] = spec.num_seeds
    if spec.storage_options:
        results["storage_options"] = dict(spec.storage_options)
    if "figures" in plot:
        plot["figures"] = _figures_of(plot["figures"], benchmarks)
    output = dict(plot.pop("output", {}))
    output.setdefault("dir", f"figures/{spec.tag}")
    note = substitution_note(substitutes)
    if note:
        plot["note"] = f"{plot['note']} {note}" if plot.get("note") else note
    description = plot.pop("description", spec.description)
    data = {"description": description, **{k: v for k, v in plot.items() if not isinstance(v, Mapping)}}
    data["results"] = results
    data.update({k: v for k, v in plot.items() if isinstance(v, Mapping)})
    data["output"] = output
    header = f"# Written by `python -m experiments.study {spec.path}`: the figures of that study.\n"
    return header + dumps(data), Path(output["dir"])


def _figures_of(figures: Mapping[str, Any], benchmarks: list[str]) -> dict[str, Any]:
    """The figures of one run or benchmark (timeline, learning curves, importance) whose benchmark was run: a spec
    names them for the original benchmark and for each fallback, and only those that apply are drawn."""
    kept: dict[str, Any] = {}
    for kind, entry in figures.items():
        entries = entry if isinstance(entry, list) else [entry]
        applies = [e for e in entries if not isinstance(e, Mapping) or e.get("benchmark", benchmarks[0]) in benchmarks]
        if applies:
            kept[kind] = applies if isinstance(entry, list) else applies[0]
    return kept


def substitution_note(substitutes: Mapping[str, tuple[list[str], str]]) -> str:
    """One sentence per benchmark that was replaced, for the figures."""
    return " ".join(
        f"{original} was unavailable here ({reason}); shown: {', '.join(names)} instead."
        for original, (names, reason) in substitutes.items()
    )


def dumps(data: Mapping[str, Any]) -> str:
    """TOML for a mapping of scalars, lists and tables (tables of tables become ``[a.b]`` sections)."""
    lines: list[str] = []
    _section(lines, (), data)
    return "\n".join(lines) + "\n"


def _section(lines: list[str], path: tuple[str, ...], table: Mapping[str, Any]) -> None:
    scalars = {k: v for k, v in table.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in table.items() if isinstance(v, Mapping)}
    if path:
        lines.append(f"\n[{'.'.join(_key(part) for part in path)}]")
    lines.extend(f"{_key(key)} = {_value(value)}" for key, value in scalars.items())
    for key, value in tables.items():
        _section(lines, (*path, key), value)


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"TOML has no {value}")
        return repr(value)
    if isinstance(value, str | Path):
        return json.dumps(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")

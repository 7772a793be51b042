"""The study specs shipped in ``studies/`` (the seed documentation's comparisons): they load, name registered
methods, and every figure set they declare becomes a valid plotting spec, whichever benchmarks end up run."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from experiments.study_spec import load_study
from experiments.study_toml import plotting_spec_text
from plotting.spec import parse_spec

STUDIES = sorted((Path(__file__).resolve().parents[2] / "studies").glob("*.toml"))


def test_the_seed_documentation_studies_are_there() -> None:
    assert {path.stem for path in STUDIES} >= {"multi-fidelity", "basics", "basics-nas201"}


@pytest.mark.parametrize("path", STUDIES, ids=[path.stem for path in STUDIES])
def test_a_shipped_study_loads_and_its_figure_sets_are_valid_plotting_specs(path: Path) -> None:
    spec = load_study(path)
    assert spec.plots, "a shipped study makes figures"
    for entry in spec.benchmarks:
        for benchmarks, substitutes in (
            ([entry.name], {}),
            ([f.name for f in entry.fallback], {entry.name: ([f.name for f in entry.fallback], "no network")}),
        ):
            if not benchmarks:
                continue
            for plot in spec.plots:
                text, _ = plotting_spec_text(spec, plot, benchmarks, substitutes)
                plotting = parse_spec(tomllib.loads(text), path)
                assert set(plotting.results.methods) <= set(spec.methods)
                assert ("was unavailable here" in plotting.note) == bool(substitutes)


def test_the_multi_fidelity_study_has_the_tutorials_twelve_methods() -> None:
    spec = load_study(next(path for path in STUDIES if path.stem == "multi-fidelity"))
    assert set(spec.methods) == {
        "ASHA-STOP", "ASHA-PROM", "MOBSTER-JOINT", "MOBSTER-INDEP", "HYPERTUNE-INDEP", "HYPERTUNE4-INDEP",
        "HYPERTUNE-JOINT", "SYNCHB", "SYNCSH", "SYNCMOBSTER", "BOHB", "DEHB",
    }
    assert spec.methods["BOHB"].name == "SyncBOHB"  # the tutorial's BOHB is synchronous
    assert [(b.name, b.budget) for b in spec.benchmarks] == [
        ("nas201-cifar100", {"n_workers": 4, "max_wallclock_time": 21600.0})
    ]

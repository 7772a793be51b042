"""Specs: validation with one-line errors, missing results name the producing command, the CLI end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from plotting.figure import main
from plotting.spec import SpecError, load_spec
from tests.plotting.test_load import BENCHMARK, make_store

REPO_ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((REPO_ROOT / "plotting" / "specs").glob("*.toml"))


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("spec") / "results", num_seeds=3, tag="headline")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(SpecError) as error:
        load_spec(_write(tmp_path, text))
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "spec.toml") + ": ")
    return message[len(str(tmp_path / "spec.toml")) + 2 :]


def test_shipped_specs_are_valid_and_name_their_command():
    assert {path.name for path in SPECS} >= {"sklearn-mlp-digits.toml", "field.toml"}
    for path in SPECS:
        spec = load_spec(path)
        text = path.read_text()
        assert "python -m experiments.run" in text and "--experiment_tag " + spec.results.tags[0] in text
        assert "--num_seeds 30" in text and spec.results.num_seeds == 30
        for method in spec.results.methods:
            assert method in text.split("--method", 1)[1].split("--num_seeds", 1)[0]
    digits = load_spec(REPO_ROOT / "plotting" / "specs" / "sklearn-mlp-digits.toml")
    assert digits.results.benchmarks == (BENCHMARK,) and {"ASHA", "RandomSearch"} <= set(digits.results.methods)


def test_defaults(tmp_path):
    spec = load_spec(_write(tmp_path, '[results]\ntags = ["t"]\n'))
    assert spec.results.dirs == ("results",) and spec.aggregation.statistic == "iqm" and spec.aggregation.reps == 2000
    assert spec.grid.points == 200 and spec.grid.spacing == "log" and spec.layout.width == 7.0
    assert spec.figures.curves and spec.figures.ranks and spec.figures.final and spec.figures.improvement
    assert spec.figures.timeline is None and spec.tables.final and spec.tables.formats == ("csv", "md", "tex")
    assert spec.output.dir == "figures/spec" and spec.output.formats == ("pdf", "png")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[results]\ntags = ["t"]\n[figures]\ncolour = "red"\n',
            "[figures] unknown key 'colour'; known: curves, ranks, final, improvement, timeline",
        ),
        (
            '[results]\ntags = ["t"]\n[grid]\npoints = "many"\n',
            "[grid] points must be an integer >= 2, got 'many'",
        ),
        (
            '[results]\ntags = ["t"]\n[aggregation]\nstatistc = "iqm"\n',
            "[aggregation] unknown key 'statistc' (did you mean 'statistic'?); "
            "known: statistic, confidence, reps, seed",
        ),
        (
            '[results]\ntags = ["t"]\n[aggregation]\nreps = 10\n',
            "[aggregation] reps must be an integer >= 1000, got 10",
        ),
        (
            '[results]\ntags = ["t"]\n[aggregation]\nstatistic = "max"\n',
            "[aggregation] statistic must be one of 'iqm', 'mean', 'median', got 'max'",
        ),
        ('[results]\ntags = ["t"]\n[figure]\n', "unknown section [figure] (did you mean [figures]?)"),
        ('[results]\ntags = ["t"]\ndirs = []\n', "[results] dirs must be a non-empty list of strings, got []"),
        ('[results]\ndirs = ["r"]\n', "[results] missing required key 'tags'"),
        ("[grid]\npoints = 3\n", "missing section [results]"),
        ('[results]\ntags = ["t"]\n[figures]\ntimeline = true\n', "[figures] timeline = true needs the run"),
        (
            '[results]\ntags = ["t"]\n[figures.curves]\nyscale = "symlog"\n',
            "[figures.curves] yscale must be one of 'linear', 'log', got 'symlog'",
        ),
        ('[results]\ntags = ["t"]\n[output]\nformats = ["svg"]\n', "[output] formats has 'svg'; allowed: pdf, png"),
        ('[results]\ntags = ["t"]\n[layout]\nfont_size = 6\n', "[layout] font_size must be a number in [8, 72], got 6"),
        ("[results\n", "invalid TOML"),
        (
            '[results]\ntags = ["t"]\nmethods = ["A"]\n[figures]\nimprovement = { reference = "B" }\n',
            "[figures.improvement] reference 'B' is not in [results] methods (A)",
        ),
    ],
)
def test_invalid_specs_give_one_clear_line(tmp_path, text, expected):
    assert _error(tmp_path, text).startswith(expected)


def test_cli_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main([str(_write(tmp_path, '[results]\ntags = ["t"]\n[figures]\ncolour = 1\n'))]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and "unknown key 'colour'" in err
    assert main([str(tmp_path / "absent.toml")]) == 2
    assert capsys.readouterr().err == f"error: {tmp_path / 'absent.toml'}: no such file\n"


def test_missing_results_suggest_the_command(tmp_path, capsys, stored):
    empty = tmp_path / "empty"
    spec = _write(
        tmp_path,
        f'[results]\ndirs = ["{empty.as_posix()}"]\ntags = ["headline"]\nbenchmarks = ["fcnet-protein"]\n'
        'methods = ["ASHA", "RandomSearch"]\nnum_seeds = 30\n',
    )
    assert main([str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert (
        "python -m experiments.run --benchmark fcnet-protein --method ASHA RandomSearch --num_seeds 30 "
        f"--experiment_tag headline --results_dir {empty}"
    ) in err
    # a method with no results at all, next to ones that exist
    spec = _write(
        tmp_path,
        f'[results]\ndirs = ["{stored.as_posix()}"]\ntags = ["headline"]\nmethods = ["ASHA", "ASHA-PROM"]\n',
    )
    assert main([str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no results for method(s) ASHA-PROM" in err
    assert f"--benchmark {BENCHMARK} --method ASHA-PROM --num_seeds 3 --experiment_tag headline" in err


def test_require_complete_turns_gaps_into_an_error(tmp_path, capsys, stored):
    spec = _write(
        tmp_path,
        f'[results]\ndirs = ["{stored.as_posix()}"]\ntags = ["headline"]\nnum_seeds = 4\nrequire_complete = true\n',
    )
    assert main([str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "results are incomplete (require_complete = true)" in err
    assert "missing seed 3" in err and "--method RandomSearch ASHA --num_seeds 4 --experiment_tag headline" in err


def test_cli_end_to_end(tmp_path, capsys, stored):
    spec = _write(
        tmp_path,
        f"""
        [results]
        dirs = ["{stored.as_posix()}"]
        tags = ["headline"]
        num_seeds = 4
        [aggregation]
        reps = 1000
        [grid]
        points = 30
        [figures]
        curves = {{ yscale = "log" }}
        ranks = false
        final = {{ statistics = ["iqm"] }}
        improvement = false
        timeline = {{ benchmark = "{BENCHMARK}", method = "ASHA", seed = 1 }}
        [tables]
        pairwise = false
        formats = ["md"]
        [output]
        prefix = "digits-"
        formats = ["png"]
        """,
    )
    out_dir = tmp_path / "out"
    assert main([str(spec), "--output-dir", str(out_dir), "--timings"]) == 0
    captured = capsys.readouterr()
    written = [line for line in captured.out.splitlines() if not line.startswith(("timings", "  per item"))]
    names = ["digits-curves.png", "digits-final.png", "digits-timeline.png", "digits-final_table.md"]
    assert written == [str(out_dir / name) for name in names]
    assert all((out_dir / name).stat().st_size > 0 for name in names)
    assert "timings: load" in captured.out
    # num_seeds = 4 but 3 stored: reported as a warning with the command, not an error
    assert "missing seed 3" in captured.err and "--num_seeds 4" in captured.err


def test_cli_subprocess(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run(
        [sys.executable, "-m", "plotting.figure", str(_write(tmp_path, "[results]\ntags = 3\n"))],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert completed.returncode == 2 and completed.stdout == ""
    assert (
        completed.stderr
        == f"error: {tmp_path / 'spec.toml'}: [results] tags must be a non-empty list of strings, got 3\n"
    )


def _small_spec(tmp_path: Path, stored: Path, output: str = "") -> Path:
    return _write(
        tmp_path,
        f'[results]\ndirs = ["{stored.as_posix()}"]\ntags = ["headline"]\n[aggregation]\nreps = 1000\n'
        "[grid]\npoints = 10\n[figures]\ncurves = false\nranks = false\nfinal = false\nimprovement = false\n"
        f'[tables]\npairwise = false\nformats = ["md"]\n{output}',
    )


def test_both_spellings_of_multi_word_flags(tmp_path, capsys, stored):
    from plotting.figure import build_parser

    spec = _small_spec(tmp_path, stored)
    for flag in ("--output_dir", "--output-dir"):
        out_dir = tmp_path / flag.strip("-")
        assert build_parser().parse_args([str(spec), flag, str(out_dir)]).output_dir == out_dir
        assert main([str(spec), flag, str(out_dir)]) == 0
        assert (out_dir / "final_table.md").is_file()
    assert "--output_dir" in build_parser().format_help()
    capsys.readouterr()


def test_an_output_path_that_cannot_be_written_is_one_line(tmp_path, capsys, stored):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory")
    spec = _small_spec(tmp_path, stored)
    cases = {
        str(a_file): "is an existing file",
        str(a_file / "below"): "cannot create output directory",
    }
    for out_dir, expected in cases.items():
        assert main([str(spec), "--output_dir", out_dir]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
    # the output dir exists, but a directory stands where the table file goes
    blocked = tmp_path / "blocked"
    (blocked / "final_table.md").mkdir(parents=True)
    assert main([str(spec), "--output_dir", str(blocked)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write {blocked / 'final_table.md'}" in err


def test_a_full_disk_is_one_line(tmp_path, capsys, stored, monkeypatch):
    import errno

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    spec = _small_spec(tmp_path, stored)
    monkeypatch.setattr(Path, "write_text", full)
    assert main([str(spec), "--output_dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err


def test_runs_without_results_are_one_line(tmp_path, capsys):
    from tests.plotting.test_load import write_run

    root = tmp_path / "results"
    for method in ("A", "B"):
        write_run(root, "b", method, 0, [], [], tag="headline")
    assert main([str(_small_spec(tmp_path, root)), "--output_dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "have no results: nothing to plot" in err, err


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_the_spec_confidence_reaches_the_curve_bands(tmp_path, stored, confidence):
    # the curves step of a spec computes its bands at the spec's level (checked against an independent percentile
    # bootstrap), and the drawn figure is labelled with that level
    from plotting.figure import load_curves
    from plotting.stats import derive_seed
    from plotting.steps import spec_steps
    from tests.plotting.test_figures import _independent_band

    spec = load_spec(
        _write(
            tmp_path,
            f'[results]\ndirs = ["{stored.as_posix()}"]\ntags = ["headline"]\n'
            f"[aggregation]\nconfidence = {confidence}\nreps = 1000\nseed = 4\n[grid]\npoints = 10\n"
            "[figures]\nranks = false\nfinal = false\nimprovement = false\n[tables]\nfinal = false\npairwise = false\n"
            '[output]\nformats = ["png"]\n',
        )
    )
    curves = load_curves(spec, progress=False)
    (step,) = spec_steps(spec, curves, tmp_path / "out")
    bands = step.compute()
    for (benchmark, method), band in bands.items():
        values = curves.values[benchmark, method]
        values = values[~np.all(np.isnan(values), axis=1)][:, -1:]
        low, high = _independent_band(values, "iqm", 1000, confidence, derive_seed(4, benchmark, method))
        assert band.confidence == confidence
        assert (band.low[-1], band.high[-1]) == (pytest.approx(low[0], rel=1e-9), pytest.approx(high[0], rel=1e-9))
    assert [path.name for path in step.draw(bands)] == ["curves.png"]


# Learning curves and importance ------------------------------------------------------------------
def test_learning_curves_and_importance_entries(tmp_path):
    spec = load_spec(_write(tmp_path, '[results]\ntags = ["t"]\n'))
    assert spec.figures.learning_curves == () and spec.figures.importance == ()
    table = tmp_path / "digits.parquet"
    table.write_bytes(b"")
    spec = load_spec(
        _write(
            tmp_path,
            '[results]\ntags = ["t"]\n'
            '[figures.learning_curves]\nbenchmark = "b"\nmethod = "ASHA"\nyscale = "log"\nylim = [0.01, 3]\n'
            "time_panel = true\n"
            '[[figures.importance]]\nbenchmark = "b"\nlevel = "last"\nencoding = "onehot"\n'
            f'[[figures.importance]]\ntable = "{table.as_posix()}"\nrepeats = 3\n'
            '[[figures.importance]]\nbenchmark = "b"\nmethod = "ASHA"\nseed = 2\nlevel = 5\n',
        )
    )
    (curves,) = spec.figures.learning_curves
    assert (curves.benchmark, curves.method, curves.seed, curves.xscale, curves.yscale) == (
        "b",
        "ASHA",
        0,
        "linear",
        "log",
    )
    assert curves.ylim == (0.01, 3.0) and curves.time_panel and curves.name == "learning_curves"
    pooled, from_table, one_run = spec.figures.importance
    assert (pooled.method, pooled.seed, pooled.level, pooled.encoding) == (None, None, "last", "onehot")
    assert (from_table.table, from_table.benchmark, from_table.repeats) == (table.as_posix(), None, 3)
    assert (one_run.seed, one_run.level, one_run.trees, one_run.forest_seed) == (2, 5, 100, 0)
    assert [e.name for e in spec.figures.importance] == [
        "importance-all-b",
        "importance-digits",
        "importance-ASHA-b-seed2",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[figures]\nlearning_curves = true\n", "[figures] learning_curves = true needs its data"),
        ("[figures]\nimportance = 3\n", "[figures] importance must be a table of options, an array of tables"),
        (
            '[figures.learning_curves]\nbenchmark = "b"\n',
            "[figures.learning_curves] missing required key 'method'",
        ),
        (
            '[figures.learning_curves]\nbenchmark = "b"\nmethod = "A"\nxscal = "log"\n',
            "[figures.learning_curves] unknown key 'xscal' (did you mean 'xscale'?)",
        ),
        (
            '[figures.learning_curves]\nbenchmark = "b"\nmethod = "A"\nylim = [3, 1]\n',
            "[figures.learning_curves] ylim must be [low, high] with low < high, got [3, 1]",
        ),
        ("[figures.importance]\nlevel = 3\n", "[figures.importance] missing required key 'benchmark'"),
        (
            '[figures.importance]\nbenchmark = "b"\nlevel = "best"\n',
            "[figures.importance] level must be 'max_t', 'last' or an epoch (an integer >= 1), got 'best'",
        ),
        (
            '[figures.importance]\ntable = "t.parquet"\nmethod = "A"\n',
            "[figures.importance] method and table are exclusive",
        ),
        (
            '[[figures.importance]]\nbenchmark = "b"\n[[figures.importance]]\nbenchmark = "b"\ntrees = 0\n',
            "[figures.importance #2] trees must be an integer >= 1, got 0",
        ),
        (
            '[[figures.importance]]\nbenchmark = "b"\nname = "x"\n'
            '[[figures.importance]]\nbenchmark = "c"\nname = "x"\n',
            "[figures] importance two entries write the file 'x'",
        ),
        (
            '[figures.importance]\ntable = "absent.parquet"\n',
            "[figures.importance] table 'absent.parquet': no such file; write it with: "
            "python -m experiments.table_data",
        ),
        (
            '[figures.learning_curves]\nbenchmark = "b"\nmethod = "A"\ntag = "other"\n',
            "[figures.learning_curves] tag 'other' is not in [results] tags (t)",
        ),
    ],
)
def test_invalid_learning_curves_and_importance_entries(tmp_path, monkeypatch, text, expected):
    monkeypatch.chdir(tmp_path)
    assert _error(tmp_path, '[results]\ntags = ["t"]\n' + text).startswith(expected)


def test_the_spec_route_writes_learning_curves_and_importance(tmp_path, capsys, stored):
    from experiments.table_data import export_table

    table = tmp_path / "digits.parquet"
    export_table(BENCHMARK, table, progress=False)
    spec = _write(
        tmp_path,
        f"""
        [results]
        dirs = ["{stored.as_posix()}"]
        tags = ["headline"]
        [figures]
        curves = false
        ranks = false
        final = false
        improvement = false
        learning_curves = {{ benchmark = "{BENCHMARK}", method = "ASHA", seed = 1, xscale = "log" }}
        [[figures.importance]]
        benchmark = "{BENCHMARK}"
        level = "last"
        trees = 20
        [[figures.importance]]
        table = "{table.as_posix()}"
        trees = 20
        repeats = 3
        [tables]
        final = false
        pairwise = false
        [output]
        formats = ["png"]
        """,
    )
    out_dir = tmp_path / "out"
    assert main([str(spec), "--output_dir", str(out_dir)]) == 0
    written = capsys.readouterr().out.split()
    names = ["learning_curves.png", f"importance-all-{BENCHMARK}.png", "importance-digits.png"]
    assert written == [str(out_dir / name) for name in names]
    assert all((out_dir / name).stat().st_size > 1000 for name in names)
    # a run that is not stored: one line naming the command that produces it
    missing = _write(tmp_path, spec.read_text().replace("seed = 1,", "seed = 7,"))
    assert main([str(missing), "--output_dir", str(out_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "[figures.learning_curves] no complete run of ASHA seed 7" in err
    assert f"--benchmark {BENCHMARK} --method ASHA --num_seeds 8 --experiment_tag headline" in err

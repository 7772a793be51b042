"""``python -m blackbox_repository.convert`` on small synthetic source files, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from blackbox_repository import BlackboxRepository
from blackbox_repository.cli import flag_spellings
from blackbox_repository.convert import main
from tests.blackbox_repository.source_builders import truncate, write_lcbench_zip, write_nats

REPO_ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HPO_BLACKBOX_CACHE=str(cache / "env-cache"))
    return subprocess.run(
        [sys.executable, "-m", "blackbox_repository.convert", *args, "--cache-dir", str(cache), "--no-progress"],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120,
    )


def test_converts_every_benchmark_of_the_file(tmp_path: Path) -> None:
    source = write_nats(tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2")
    cache = tmp_path / "cache"
    done = run("nas201-cifar100", "--source-path", str(source), cache=cache)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[1] for line in lines[:3]] == ["nas201-cifar10", "nas201-cifar100", "nas201-ImageNet16-120"]
    assert str(cache / "nas201-cifar100") in lines[1] and "4 configurations x 3 seeds x 200 epochs" in lines[1]
    assert "2 (configuration, seed) runs without data" in lines[1]
    assert lines[-1].startswith("converted 3 benchmark(s)")
    assert "Traceback" not in done.stderr and "warning:" in done.stderr  # 4 architectures, not 15,625
    loaded = BlackboxRepository(cache).load("nas201-ImageNet16-120")
    assert loaded.objectives.shape == (4, 3, 200, 7)
    assert not (tmp_path / "cache" / "env-cache").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["nas201", "--source-path", "{truncated}"], "is truncated or corrupt"),
        (["nas201", "--source-path", "{absent}"], "does not exist"),
        (["no-such-benchmark"], "no converter for 'no-such-benchmark'"),
        (["lcbench-nope", "--source-path", "{lcbench}"], "did not hold 'lcbench-nope'"),
    ],
)
def test_errors_are_one_line_with_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], expected: str
) -> None:
    paths = {
        "truncated": str(truncate(write_nats(tmp_path / "cut.pickle.pbz2"))),
        "absent": str(tmp_path / "absent.pbz2"),
        "lcbench": str(write_lcbench_zip(tmp_path / "data_2k_lw.zip")),
    }
    argv = [arg.format(**paths) for arg in args] + ["--cache-dir", str(tmp_path / "cache"), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0], err
    assert "Traceback" not in err


def test_missing_download_names_the_url_and_the_source_path_option(tmp_path: Path) -> None:
    url = (tmp_path / "nothing" / "fcnet_tabular_benchmarks.tar.gz").as_uri()
    done = run("fcnet", "--url", url, cache=tmp_path / "cache")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: cannot download")
    assert url in done.stderr and "python -m blackbox_repository.convert fcnet --source-path PATH" in done.stderr


def test_download_from_a_mirror_url(tmp_path: Path) -> None:
    source = write_lcbench_zip(tmp_path / "mirror" / "data_2k_lw.zip")
    assert main(["lcbench", "--url", source.as_uri(), "--cache-dir", str(tmp_path / "cache"), "--no-progress"]) == 0
    assert (tmp_path / "cache" / "sources" / "data_2k_lw.zip").is_file()


def test_lcbench_family_name(tmp_path: Path) -> None:
    source = write_lcbench_zip(tmp_path / "data_2k_lw.zip")
    cache = tmp_path / "cache"
    assert main(["lcbench", "--source-path", str(source), "--cache-dir", str(cache), "--no-progress"]) == 0
    bb = BlackboxRepository(cache).load("lcbench-credit-g")
    assert bb.objectives.shape == (3, 1, 50, 8) and not np.isnan(np.asarray(bb.objectives)).any()


@pytest.mark.parametrize("spelling", ["underscore", "dash"])
def test_multi_word_flags_accept_both_spellings(tmp_path: Path, capsys: pytest.CaptureFixture, spelling: str) -> None:
    source = write_lcbench_zip(tmp_path / "data_2k_lw.zip")
    flags = {"underscore": ["--source_path", "--cache_dir", "--no_progress"],
             "dash": ["--source-path", "--cache-dir", "--no-progress"]}[spelling]
    argv = ["lcbench-credit-g", flags[0], str(source), flags[1], str(tmp_path / "cache"), flags[2]]
    assert main(argv) == 0, capsys.readouterr().err
    assert (tmp_path / "cache" / "lcbench-credit-g" / "metadata.json").is_file()


@pytest.mark.parametrize(
    ("module", "documented"),
    [
        ("blackbox_repository.convert", ["--source_path", "--cache_dir", "--no_progress"]),
        ("blackbox_repository.import_table", ["--fidelity_column", "--seed_column", "--runtime_objective"]),
        ("blackbox_repository.evaluate", ["--seed_index"]),
        ("blackbox_repository.mirror", ["--cache_dir"]),
    ],
)
def test_help_documents_the_underscore_form_with_the_dash_alias(module: str, documented: list[str]) -> None:
    args = [*(["upload"] if module.endswith("mirror") else []), "--help"]
    done = subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    for flag in documented:
        assert flag in done.stdout and flag.replace("_", "-") in done.stdout, (flag, done.stdout)
        assert done.stdout.index(flag) < done.stdout.index(flag.replace("_", "-")), flag


def test_flag_spellings() -> None:
    assert flag_spellings("--source-path") == ["--source_path", "--source-path"]
    assert flag_spellings("--num_seeds") == ["--num_seeds", "--num-seeds"]
    assert flag_spellings("--url") == ["--url"] and flag_spellings("-v") == ["-v"]

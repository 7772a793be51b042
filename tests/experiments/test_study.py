"""Studies (``experiments.study``): the spec, resuming, failures, substitutes, figures, and the same bytes from
local processes, a real local Ray and an S3 store (moto's server)."""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from experiments import run_task, store_format
from experiments.errors import ExperimentError
from experiments.study import main, run_study
from experiments.study_spec import StudySpecError, load_study, parse_study
from experiments.study_toml import dumps
from tests.blackbox_repository.optional import import_or_skip
from tests.experiments.helpers import TOY

#: metadata fields that measure the machine, not the run
VOLATILE = {
    "started_at", "finished_at", "real_time_seconds", "decision_cpu_seconds", "git_revision", "git_dirty",
    "versions", "command_line", "arguments",
}


def write_spec(tmp_path: Path, text: str, name: str = "study.toml") -> Path:
    path = tmp_path / name
    results = (tmp_path / "results").as_posix()
    figures = (tmp_path / "figures").as_posix()
    path.write_text(f'results = "{results}"\n' + text + f'\n[plot.output]\ndir = "{figures}"\n')
    return path


BASIC = f"""
tag = "s"
num_seeds = 3
jobs = 1
[defaults]
max_wallclock_time = 30.0
[[benchmarks]]
name = "{TOY}"
[methods]
RandomSearch = {{}}
"ASHA-G3" = {{ method = "ASHA", grace_period = 3 }}
"""


def stored_tables(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*.parquet"))
    }


def test_a_study_stores_every_run_once_and_resumes(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, BASIC)
    summary = run_study(spec, figures=False)
    assert [run.status for run in summary.runs] == ["run"] * 6
    run = store_format.read_run(tmp_path / "results" / "s" / TOY / "ASHA-G3" / "seed-2")
    assert run.metadata["method_options"] == {"grace_period": 3}
    assert run.metadata["settings"]["method_choice"] == {"name": "ASHA", "options": {"grace_period": 3}}
    assert run.metadata["rung_levels"] == [3]  # below max_t = 9
    assert run.metadata["command_line"][-2:] == ["--only", f"{TOY}/ASHA-G3/2"]
    assert "RandomSearch" in summary.format() and "ASHA-G3" in summary.format()

    again = run_study(spec, figures=False)  # complete runs are verified, not recomputed
    assert [run.status for run in again.runs] == ["skipped"] * 6

    table = tmp_path / "results" / "s" / TOY / "RandomSearch" / "seed-1" / "results.parquet"
    data = bytearray(table.read_bytes())
    data[len(data) // 2] ^= 0xFF
    table.write_bytes(bytes(data))
    os.utime(table, ns=(1, 1))  # a new modification time: the verification stamp no longer vouches for it
    repaired = run_study(spec, figures=False)
    assert [(r.method, r.seed) for r in repaired.runs if r.status == "run"] == [("RandomSearch", 1)]
    store_format.verify_run(table.parent, store_format.read_complete_metadata(table.parent))


def test_only_runs_the_matching_runs_and_other_settings_are_refused(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, BASIC)
    summary = run_study(spec, only=["*/ASHA-G3/1"], figures=False)
    assert [(r.method, r.seed, r.status) for r in summary.runs] == [("ASHA-G3", 1, "run")]
    other = write_spec(tmp_path, BASIC.replace("grace_period = 3", "grace_period = 2"), "other.toml")
    with pytest.raises(ExperimentError, match="grace_period"):
        run_study(other, figures=False)


def test_a_failed_run_is_listed_with_its_command_and_the_others_are_stored(tmp_path, monkeypatch, capsys) -> None:
    real = run_task.simulate_run

    def failing(context, task, blackbox=None):
        if task.method == "RandomSearch" and task.seed == 1:
            raise RuntimeError("out of luck")
        return real(context, task, blackbox)

    monkeypatch.setattr(run_task, "simulate_run", failing)
    spec = write_spec(tmp_path, BASIC)
    assert main([str(spec), "--no_figures"]) == 1
    out = capsys.readouterr().out
    assert "1 failed" in out and "RuntimeError: out of luck" in out
    assert f"python -m experiments.study {spec} --no_figures --only {TOY}/RandomSearch/1" in out
    monkeypatch.setattr(run_task, "simulate_run", real)
    summary = run_study(spec, figures=False)
    assert [(r.method, r.seed) for r in summary.runs if r.status == "run"] == [("RandomSearch", 1)]


def test_a_worker_that_dies_costs_only_its_own_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = run_task.simulate_run

    def crashing(context, task, blackbox=None):
        if task.method == "ASHA-G3" and task.seed == 0:
            os._exit(9)  # like kill -9 or a crash in native code
        return real(context, task, blackbox)

    monkeypatch.setattr(run_task, "simulate_run", crashing)  # worker processes are forked: they see it
    spec = write_spec(tmp_path, BASIC.replace("jobs = 1", "jobs = 2"))
    summary = run_study(spec, figures=False)
    failed = [(r.method, r.seed) for r in summary.runs if r.status == "failed"]
    assert failed == [("ASHA-G3", 0)]
    assert [r.status for r in summary.runs if r.status != "failed"] == ["run"] * 5
    assert all(r.metadata is not None for r in summary.runs if r.status == "run")


def test_an_unavailable_benchmark_is_replaced_by_its_fallback_and_the_figures_say_so(tmp_path: Path) -> None:
    text = BASIC.replace(f'name = "{TOY}"', f'name = "no-such-benchmark"\nfallback = ["{TOY}"]')
    text = text.replace("num_seeds = 3", "num_seeds = 2").replace("[methods]", "[methods]\nASHA = {}")
    spec = write_spec(tmp_path, text)
    summary = run_study(spec)
    assert {run.benchmark for run in summary.runs} == {TOY}
    assert "no-such-benchmark unavailable" in summary.format()
    assert summary.figures_error is None and any(path.endswith(".png") for path in summary.figures)
    plotting = tomllib.loads((tmp_path / "figures" / "plotting-spec.toml").read_text())
    assert plotting["results"]["benchmarks"] == [TOY] and plotting["results"]["tags"] == ["s"]
    assert "no-such-benchmark was unavailable" in plotting["note"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("benchmarks = ['x']\nmethods = ['ASHA']\ncolour = 1", "unknown key 'colour'"),
        ("benchmarks = ['x']\nmethods = ['ASHH']", "did you mean 'ASHA'"),
        ("benchmarks = ['x']\nmethods = ['ASHA']\n[defaults]\nmax_wallclock_time = -1", "max_wallclock_time must be"),
        ("methods = ['ASHA']", "`benchmarks` is missing"),
        ("benchmarks = ['x']\nmethods = ['ASHA']\nbackend = 'spark'", 'backend must be "local" or "ray"'),
        ("benchmarks = ['x', 'x']\nmethods = ['ASHA']", "listed more than once"),
    ],
)
def test_spec_errors_name_the_key(text: str, message: str) -> None:
    with pytest.raises(StudySpecError, match=message):
        parse_study(tomllib.loads(text), "bad.toml")


def test_bad_spec_on_the_command_line_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("benchmarks = ['x']\nmethods = ['ASHA']\nnum_seeds = 0\n")
    assert main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "num_seeds must be an integer >= 1" in err and err.count("\n") == 1


def test_the_plotting_spec_writer_round_trips() -> None:
    data = {"description": 'a "quoted" one', "results": {"dirs": ["s3://b/p"], "num_seeds": 3,
            "storage_options": {"client_kwargs": {"endpoint_url": "http://x"}}},
            "figures": {"curves": {"yscale": "log"}, "ranks": True}, "layout": {"width": 7.0}}
    assert tomllib.loads(dumps(data)) == data


# The same study on local processes, a real local Ray and an S3 store: the same bytes ----------------------------
ray = import_or_skip("ray", "needs Ray: pip install 'hpo-workbench[ray]'")
moto_server = import_or_skip("moto.server", "needs moto's S3 server: pip install 'moto[server]'")
import_or_skip("s3fs", "needs s3fs: pip install 'hpo-workbench[s3]'")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def s3_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict]]:
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")
                        }.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="studies")
    yield "s3://studies/prefix", {"client_kwargs": {"endpoint_url": endpoint}}
    server.stop()


def test_local_ray_and_s3_store_the_same_bytes(tmp_path: Path, local_ray: None, s3_url: tuple[str, dict]) -> None:
    import s3fs

    url, options = s3_url
    text = BASIC.replace("num_seeds = 3", "num_seeds = 2") + '\n"MOBSTER-G3" = { method = "MOBSTER", grace_period = 3 }'
    local = run_study(write_spec(tmp_path, text), figures=False)
    on_ray = run_study(write_spec(tmp_path, text), backend="ray", results=str(tmp_path / "ray"), figures=False)
    spec = parse_study({**tomllib.loads(text), "results": url, "storage_options": options}, tmp_path / "s3.toml")
    on_s3 = run_study(spec, backend="ray", figures=False)
    assert [r.status for r in local.runs + on_ray.runs + on_s3.runs] == ["run"] * 18

    expected = stored_tables(tmp_path / "results")
    assert len(expected) == 12
    assert stored_tables(tmp_path / "ray") == expected
    fs = s3fs.S3FileSystem(**options)
    remote = {path[len("studies/prefix/"):]: fs.cat_file(path) for path in fs.find("studies/prefix")
              if path.endswith(".parquet")}
    assert remote == expected
    for run in local.runs:
        relative = Path(run.path).relative_to(tmp_path / "results").as_posix()
        s3_metadata = json.loads(fs.cat_file(f"studies/prefix/{relative}/metadata.json"))
        local_metadata = json.loads((Path(run.path) / "metadata.json").read_text())
        strip = {key: value for key, value in local_metadata.items() if key not in VOLATILE}
        assert {key: value for key, value in s3_metadata.items() if key not in VOLATILE} == strip

    resumed = run_study(spec, backend="ray", figures=False)  # complete runs on S3 are verified and skipped
    assert [r.status for r in resumed.runs] == ["skipped"] * 6


def test_load_study_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StudySpecError, match="does not exist"):
        load_study(tmp_path / "nope.toml")


def test_ray_chunks_hold_short_runs_of_one_method_and_start_with_single_runs() -> None:
    """A Ray task costs a few ms: runs whose measured time is short travel together, about 0.2 s per task, never
    mixing methods; until two runs of a method have finished each goes alone."""
    from collections import deque

    from experiments.backends import _next_chunk

    context = object()
    items = [(context, run_task.RunTask(method, seed, None, "")) for method in ("A", "B") for seed in range(100)]
    queue = deque(range(len(items)))
    seconds: dict = {}
    assert _next_chunk(queue, items, seconds) == [0]
    seconds[(id(context), "A")] = [0.01, 0.01]
    assert _next_chunk(queue, items, seconds) == list(range(1, 21))  # 0.2 s / 0.01 s
    seconds[(id(context), "A")] = [0.001] * 5
    assert _next_chunk(queue, items, seconds) == list(range(21, 85))  # at most 64
    assert _next_chunk(queue, items, seconds) == list(range(85, 100))  # not into method B
    seconds[(id(context), "B")] = [5.0, 7.0]
    assert _next_chunk(queue, items, seconds) == [100]  # long runs: one per task

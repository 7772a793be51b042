"""The results store under faults: corrupt tables, concurrent commands, SIGTERM and dead parents, full disks."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from experiments import load_results, run_dir, store_format
from experiments import store as store_module
from experiments.run import main, run_experiment
from experiments.store import METADATA_FILE, RESULTS_FILE
from tests.experiments.helpers import TOY, TOY_ARGS, subprocess_env


def cli(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# Integrity ---------------------------------------------------------------------------------------
def test_a_flipped_byte_is_detected_by_resume_and_by_plotting(tmp_path, capsys):
    from plotting.errors import LoadError
    from plotting.load import load

    args = [*TOY_ARGS, "--method", "ASHA", "--num_seeds", "2", "--results_dir", str(tmp_path)]
    assert cli(capsys, *args)[0] == 0
    load(tmp_path, "default", progress=False)  # intact: loads
    path = run_dir(tmp_path, "default", TOY, "ASHA", 1)
    flip_one_byte(path / RESULTS_FILE)

    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert str(path / RESULTS_FILE) in err and "SHA-256" in err
    # the command that recomputes it: delete the run, then the command line stored in its metadata
    assert f"delete {path} and run `python -m experiments.run --benchmark {TOY}" in err

    with pytest.raises(LoadError, match=f"{RESULTS_FILE} does not match the SHA-256.*delete {path}"):
        load(tmp_path, "default", progress=False)


def test_verification_is_stamped_and_repeated_only_when_a_file_changes(tmp_path, monkeypatch):
    run_experiment(TOY, ["ASHA"], num_seeds=1, max_wallclock_time=30.0, results_dir=tmp_path)
    path = run_dir(tmp_path, "default", TOY, "ASHA", 0)
    metadata = store_format.read_complete_metadata(path)
    stamp = json.loads((path / store_format.VERIFIED_FILE).read_text())  # written with the run
    assert {name: entry[2] for name, entry in stamp.items()} == {n: f["sha256"] for n, f in metadata["files"].items()}
    hashed = []
    real = store_format.verify_bytes
    monkeypatch.setattr(store_format, "verify_bytes", lambda *a: hashed.append(a[1]) or real(*a))
    store_format.verify_run(path, metadata)
    assert hashed == []  # nothing changed since the run was written: no file read
    os.utime(path / RESULTS_FILE, ns=(1, 1))  # same bytes, other mtime: hashed again, then stamped
    store_format.verify_run(path, metadata)
    store_format.verify_run(path, metadata)
    assert hashed == [RESULTS_FILE]
    flip_one_byte(path / RESULTS_FILE)
    with pytest.raises(store_format.CorruptRunError, match="does not match"):
        store_format.verify_run(path, metadata)


# Locks and settings ------------------------------------------------------------------------------
def _run_now(output: str) -> int:
    """The number of runs a command computed itself, from its summary line ``N runs: X run now, Y skipped``."""
    line = next(line for line in output.splitlines() if " runs: " in line)
    return int(line.split(": ")[1].split()[0])


def test_two_concurrent_commands_compute_every_run_once(tmp_path, toy_cache):
    command = [sys.executable, "-m", "experiments.run", *TOY_ARGS, "--max_wallclock_time", "300", "--method",
               "ASHA", "RandomSearch", "--num_seeds", "40", "--results_dir", str(tmp_path)]  # fmt: skip
    env = subprocess_env(toy_cache)
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]  # fmt: skip
    outputs = [process.communicate(timeout=300) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert sum(_run_now(out) for out, _ in outputs) == 80  # each of the 80 runs computed by exactly one
    assert len(load_results(tmp_path)) == 80


def test_a_run_locked_elsewhere_is_waited_for_not_computed_twice(tmp_path):
    path = run_dir(tmp_path, "default", TOY, "ASHA", 0)
    held = store_module.lock_run(path, block=False)  # "another process" computing seed 0
    assert held is not None and store_module.lock_run(path, block=False) is None
    summary = {}
    worker = threading.Thread(
        target=lambda: summary.update(
            s=run_experiment(TOY, ["ASHA"], num_seeds=3, max_wallclock_time=30.0, results_dir=tmp_path)
        )
    )
    worker.start()
    deadline = time.monotonic() + 60
    while len(load_results(tmp_path)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert sorted(load_results(tmp_path)["seed"]) == [1, 2]  # the others went ahead; seed 0 is waited for
    assert worker.is_alive()
    held.release()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert sorted(load_results(tmp_path)["seed"]) == [0, 1, 2]
    assert [record.skipped for record in summary["s"].records] == [False, False, False]


def test_other_settings_under_one_tag_are_refused_before_any_seed_runs(tmp_path, capsys):
    base = [*TOY_ARGS, "--method", "ASHA", "--results_dir", str(tmp_path)]
    assert cli(capsys, *base, "--num_seeds", "2")[0] == 0
    # other seeds, other settings: refused up front (no directory of seed 5 appears)
    code, out, err = cli(capsys, *base, "--start_seed", "5", "--num_seeds", "2", "--max_results", "7")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "holds runs with other settings" in err and "stop:" in err and "--experiment_tag" in err
    assert not run_dir(tmp_path, "default", TOY, "ASHA", 5).exists()
    # the same settings for other seeds are fine
    assert cli(capsys, *base, "--start_seed", "5", "--num_seeds", "1")[0] == 0


def test_a_concurrent_command_with_other_settings_is_refused(tmp_path, toy_cache):
    command = [sys.executable, "-m", "experiments.run", *TOY_ARGS, "--method", "ASHA", "--num_seeds", "20",
               "--results_dir", str(tmp_path)]  # fmt: skip
    env = subprocess_env(toy_cache)
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    settings = run_dir(tmp_path, "default", TOY, "ASHA", 0).parent / store_format.SETTINGS_FILE
    while not settings.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    second = subprocess.run([*command, "--n_workers", "2"], env=env, capture_output=True, text=True, timeout=120)
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert second.returncode == 2 and len(second.stderr.strip().splitlines()) == 1
    assert second.stderr.startswith("error: ") and "n_workers" in second.stderr
    assert len(load_results(tmp_path)) == 20
    assert all(json.loads((Path(p) / METADATA_FILE).read_text())["settings"]["n_workers"] != 2
               for p in load_results(tmp_path)["path"])  # fmt: skip


# Orphans -----------------------------------------------------------------------------------------
def _children(pid: int) -> set[int]:
    children = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children |= {int(child) for child in (task / "children").read_text().split()}
    return children


def _alive(pid: int) -> bool:
    try:
        state = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State"))
    except (OSError, StopIteration):
        return False
    return "Z" not in state.split()[1]


def _start_long_parallel_run(tmp_path: Path, cache: Path) -> tuple[subprocess.Popen, set[int]]:
    """A ``--jobs 2`` run of many seeds, once it has stored a run and has its two workers."""
    command = [sys.executable, "-m", "experiments.run", *TOY_ARGS, "--max_wallclock_time", "400", "--method",
               "ASHA", "--num_seeds", "2000", "--jobs", "2", "--results_dir", str(tmp_path)]  # fmt: skip
    process = subprocess.Popen(command, env=subprocess_env(cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if len(load_results(tmp_path)) >= 2 and len(_children(process.pid)) >= 2:
            return process, _children(process.pid)
        time.sleep(0.05)
    process.kill()
    pytest.fail(f"the run did not start: {process.communicate()}")


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.05)
    return {pid for pid in pids if _alive(pid)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the worker processes")
def test_sigterm_stops_the_workers_and_keeps_completed_runs(tmp_path, toy_cache):
    process, workers = _start_long_parallel_run(tmp_path, toy_cache)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert err.strip().splitlines() == [
        "terminated (SIGTERM); completed runs are stored, run the same command again to resume"
    ]
    assert _wait_gone(workers, 5) == set()
    listing = load_results(tmp_path)
    assert 2 <= len(listing) < 2000
    for path in listing["path"]:  # every run listed as complete is intact
        store_format.verify_run(path, store_format.read_complete_metadata(path))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the worker processes")
def test_workers_exit_when_the_parent_is_killed(tmp_path, toy_cache):
    process, workers = _start_long_parallel_run(tmp_path, toy_cache)
    process.kill()
    process.communicate(timeout=60)
    assert _wait_gone(workers, 5) == set()
    for path in load_results(tmp_path)["path"]:
        store_format.verify_run(path, store_format.read_complete_metadata(path))


# Unwritable stores -------------------------------------------------------------------------------
def test_results_dir_that_is_a_file_is_a_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "results"
    blocker.write_text("not a directory")
    code, out, err = cli(capsys, *TOY_ARGS, "--num_seeds", "1", "--results_dir", str(blocker))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("error: cannot write the results store at") and "--results_dir" in err
    assert "Traceback" not in err


def test_a_full_disk_is_a_one_line_error_and_leaves_no_complete_run(tmp_path, capsys, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module, "_write_all", full)
    code, out, err = cli(capsys, *TOY_ARGS, "--num_seeds", "2", "--results_dir", str(tmp_path))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert os.strerror(errno.ENOSPC) in err and "free disk space" in err
    assert load_results(tmp_path).empty
    path = run_dir(tmp_path, "default", TOY, "ASHA", 0)
    assert not (path / METADATA_FILE).exists() and not list(path.glob(".*.tmp"))


def test_a_crash_between_the_tables_and_the_metadata_leaves_an_incomplete_run(tmp_path, monkeypatch):
    run_experiment(TOY, ["ASHA"], num_seeds=1, max_wallclock_time=30.0, results_dir=tmp_path)
    path = run_dir(tmp_path, "default", TOY, "ASHA", 0)
    real = store_module._write_all

    def crash_on_metadata(fd, data):
        if data[:1] == b"{":  # metadata.json; the tables start with the parquet magic
            raise OSError(errno.EIO, "simulated crash")
        real(fd, data)

    monkeypatch.setattr(store_module, "_write_all", crash_on_metadata)
    with pytest.raises(store_module.ExperimentError, match="simulated crash"):
        run_experiment(TOY, ["ASHA"], num_seeds=1, max_wallclock_time=30.0, results_dir=tmp_path / "again")
    again = run_dir(tmp_path / "again", "default", TOY, "ASHA", 0)
    assert (again / RESULTS_FILE).exists() and store_format.read_complete_metadata(again) is None
    assert not list(again.glob(".*.tmp"))
    assert store_format.read_complete_metadata(path) is not None

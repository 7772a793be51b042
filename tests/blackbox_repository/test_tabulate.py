"""tabulate: values land in the right cells, runtimes are measured, and interrupted runs resume."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from blackbox_repository import BlackboxError, Objective, read_blackbox, write_blackbox
from blackbox_repository.tabulate import tabulate
from searchspace import Categorical, Grid, SearchSpace

REPO = Path(__file__).resolve().parents[2]
SPACE = SearchSpace({"x": Grid((1, 2, 3)), "act": Categorical(("a", "b"))})
CONFIGS = [{"act": act, "x": x} for x in (1, 2, 3) for act in ("a", "b")]  # keys deliberately not in space order
SEEDS = [0, 7]
EPOCHS = 4
OBJECTIVES = [Objective("loss", "min"), Objective("score", "max", "points")]


def expected_loss(config: dict, seed: int, epoch: int) -> float:
    return 10.0 * config["x"] + 5.0 * (config["act"] == "b") + seed / 100 + 1.0 / epoch


def train(config: dict, seed: int):
    for epoch in range(1, EPOCHS + 1):
        yield {"loss": expected_loss(config, seed, epoch), "score": -float(epoch), "ignored": 1.0}


def counting_train(config: dict, seed: int, *, log: str, interrupt_at: int | None = None, fail_at: int | None = None):
    with open(log, "a") as handle:
        handle.write(json.dumps([config["x"], config["act"], seed]) + "\n")
    calls = len(Path(log).read_text().splitlines())
    if calls == interrupt_at:
        raise KeyboardInterrupt
    if calls == fail_at:
        raise RuntimeError("out of memory")
    yield from train(config, seed)


def run(checkpoint: Path, fn=train, **kwargs):
    options = dict(objectives=OBJECTIVES, metric="loss", checkpoint_dir=checkpoint, progress=False)
    options.update(kwargs)
    return tabulate("toy", fn, options.pop("configs", CONFIGS), options.pop("seeds", SEEDS), SPACE, **options)


def calls(log: Path) -> list[tuple]:
    return [tuple(json.loads(line)) for line in log.read_text().splitlines()]


def test_values_land_in_the_right_cells(tmp_path: Path) -> None:
    bb = run(tmp_path / "ck")
    assert list(bb.configs.columns) == SPACE.names
    assert bb.objective_names == ["loss", "score", "runtime", "elapsed_time"]
    assert (bb.runtime_objective, bb.elapsed_objective) == ("runtime", "elapsed_time")
    assert (bb.metric, bb.mode) == ("loss", "min")
    assert bb.objectives.shape == (6, 2, EPOCHS, 4) and bb.objectives.dtype == np.float64
    np.testing.assert_array_equal(bb.fidelities, np.arange(1, EPOCHS + 1))
    np.testing.assert_array_equal(bb.seeds, SEEDS)
    for config in CONFIGS:
        for s, seed in enumerate(SEEDS):
            expected = [expected_loss(config, seed, epoch) for epoch in range(1, EPOCHS + 1)]
            np.testing.assert_array_equal(bb.objective_curve(config, s, "loss"), expected)
            np.testing.assert_array_equal(bb.objective_curve(config, s, "score"), -np.arange(1, EPOCHS + 1))


def test_runtime_is_measured_and_elapsed_is_its_cumulative_sum(tmp_path: Path) -> None:
    bb = run(tmp_path / "ck")
    runtime = bb.objectives[..., bb.objective_index("runtime")]
    elapsed = bb.objectives[..., bb.objective_index("elapsed_time")]
    assert np.all(runtime >= 0) and np.all(np.isfinite(runtime))
    np.testing.assert_allclose(elapsed, np.cumsum(runtime, axis=2))


def test_machine_metadata_is_recorded_and_survives_storage(tmp_path: Path) -> None:
    bb = run(tmp_path / "ck", metadata={"description": "toy"})
    machine = bb.metadata["machine"]
    assert machine["cpu"] and machine["cpu_count"] >= 1 and machine["platform"] and machine["python"]
    assert {"numpy", "pandas", "scikit-learn"} <= set(machine["libraries"])
    assert bb.metadata["description"] == "toy" and bb.metadata["n_jobs"] == 1 and bb.metadata["tabulated_at"]
    again = read_blackbox(write_blackbox(tmp_path / "bb", bb))
    np.testing.assert_array_equal(again.objectives, bb.objectives)
    assert again.metadata["machine"] == machine
    assert again.index_of({"x": 2, "act": "b"}) == bb.index_of({"x": 2, "act": "b"})


def test_interrupted_run_resumes_without_rerunning_completed_tasks(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    interrupted = functools.partial(counting_train, log=str(log), interrupt_at=5)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "ck", interrupted, checkpoint_every=1)
    first = calls(log)
    assert len(first) == 5  # four tasks completed, the fifth was interrupted

    resumed = functools.partial(counting_train, log=str(log))
    bb = run(tmp_path / "ck", resumed, checkpoint_every=1)
    second = calls(log)[5:]
    assert len(second) == len(CONFIGS) * len(SEEDS) - 4
    assert not set(first[:4]) & set(second)
    assert first[4] in second
    reference = run(tmp_path / "reference")
    np.testing.assert_array_equal(bb.objectives[..., :2], reference.objectives[..., :2])

    run(tmp_path / "ck", resumed)  # everything is checkpointed: nothing runs again
    assert len(calls(log)) == 5 + len(second)


def test_failing_task_names_the_task_and_keeps_completed_work(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    with pytest.raises(BlackboxError, match=r"train failed on configuration .*seed .*RuntimeError: out of memory"):
        run(tmp_path / "ck", functools.partial(counting_train, log=str(log), fail_at=3), checkpoint_every=100)
    run(tmp_path / "ck", functools.partial(counting_train, log=str(log)))
    assert len(calls(log)) == 3 + len(CONFIGS) * len(SEEDS) - 2


def test_parallel_run_gives_the_same_values(tmp_path: Path) -> None:
    serial = run(tmp_path / "serial")
    parallel = run(tmp_path / "parallel", n_jobs=2, checkpoint_every=2)
    np.testing.assert_array_equal(parallel.objectives[..., :2], serial.objectives[..., :2])
    assert parallel.metadata["n_jobs"] == 2


def test_checkpoint_of_other_tasks_is_refused(tmp_path: Path) -> None:
    run(tmp_path / "ck")
    with pytest.raises(BlackboxError, match="checkpoint .* was made for other tasks"):
        run(tmp_path / "ck", configs=CONFIGS[:-1])
    with pytest.raises(BlackboxError, match="delete it or pass another checkpoint_dir"):
        run(tmp_path / "ck", seeds=[0, 8])


def test_bad_arguments_are_refused_before_running(tmp_path: Path) -> None:
    with pytest.raises(BlackboxError, match="reserved"):
        run(tmp_path / "ck", objectives=[Objective("loss", "min"), Objective("runtime")])
    with pytest.raises(BlackboxError, match="does not fit the search space"):
        run(tmp_path / "ck", configs=[{"x": 4, "act": "a"}])
    with pytest.raises(BlackboxError, match="listed twice"):
        run(tmp_path / "ck", configs=[CONFIGS[0], CONFIGS[0]])
    with pytest.raises(BlackboxError, match="no mode"):
        run(tmp_path / "ck", metric="loss", objectives=[Objective("loss"), Objective("score")])


SCRIPT = """
import sys, time
from pathlib import Path
from blackbox_repository import Objective
from blackbox_repository.tabulate import tabulate
from searchspace import Grid, SearchSpace

LOG = Path(sys.argv[1])

def train(config, seed):
    with LOG.open("a") as handle:
        handle.write(f"{config['x']}\\n")
    for epoch in range(3):
        time.sleep(0.02)
        yield {"loss": config["x"] + epoch}

space = SearchSpace({"x": Grid(tuple(range(40)))})
tabulate("slow", train, [{"x": x} for x in range(40)], [0], space, objectives=[Objective("loss", "min")],
         metric="loss", checkpoint_dir=sys.argv[2], progress=False, checkpoint_every=1000, checkpoint_seconds=1000)
"""


def test_killed_run_saves_completed_tasks_and_resumes(tmp_path: Path) -> None:
    script, log, checkpoint = tmp_path / "slow.py", tmp_path / "calls.log", tmp_path / "ck"
    script.write_text(textwrap.dedent(SCRIPT))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen([sys.executable, str(script), str(log), str(checkpoint)], cwd=REPO, env=env)
    deadline = time.monotonic() + 30
    while (not log.exists() or len(log.read_text().splitlines()) < 5) and time.monotonic() < deadline:
        assert process.poll() is None, "the tabulating process ended early"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) != 0
    started = len(log.read_text().splitlines())
    assert started < 40, "the run finished before it was killed"
    assert list(checkpoint.glob("chunk-*.npz")), "completed tasks were not saved on SIGTERM"

    subprocess.run([sys.executable, str(script), str(log), str(checkpoint)], cwd=REPO, env=env, check=True, timeout=60)
    rerun = len(log.read_text().splitlines()) - started
    assert rerun <= 40 - (started - 1)  # at most the interrupted task runs twice


def sometimes_train(config: dict, seed: int, *, extra_at: int, drop_at: int | None = None):
    for epoch in range(1, EPOCHS + 1):
        metrics = {"loss": expected_loss(config, seed, epoch), "score": -float(epoch)}
        if epoch >= extra_at:
            metrics["test_loss"] = 0.5  # measured at some epochs only
        if epoch == drop_at:
            del metrics["score"]
        yield metrics


@pytest.mark.parametrize(
    ("extra_at", "drop_at", "message"),
    [
        (2, None, "yielded metric 'test_loss' at epoch 2 but not at epoch 1"),
        (1, None, None),  # at every epoch: allowed (undeclared, not stored)
        (EPOCHS + 1, 2, "yielded metric 'score' at epoch 1 but not at epoch 2"),
    ],
)
def test_a_metric_yielded_at_some_epochs_only_is_refused(tmp_path: Path, extra_at, drop_at, message) -> None:
    fn = functools.partial(sometimes_train, extra_at=extra_at, drop_at=drop_at)
    if message is None:
        assert run(tmp_path / "ck", fn).objective_names == ["loss", "score", "runtime", "elapsed_time"]
        return
    with pytest.raises(BlackboxError) as error:
        run(tmp_path / "ck", fn)
    assert message in str(error.value) and "yield the same metrics at every epoch" in str(error.value)
    assert "\n" not in str(error.value)

"""Tiny training functions for the tuner tests (module level, so that worker processes can import them).

Each yields forever (the tuner closes the generator at ``max_t``) and sleeps a few milliseconds per epoch. The
loss of configuration ``x`` at epoch ``e`` is ``loss_at(x, e)``: larger ``x`` is worse at every epoch, so a
method's decisions can be predicted.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SLEEP = 0.003
STATE = "state.json"


def loss_at(x: float, epoch: int) -> float:
    return float(x) + 1.0 / epoch


def plain(config: dict[str, Any], seed: int) -> Iterator[dict[str, float]]:
    """No checkpoint: a resumed trial restarts at epoch 1. ``in_call`` counts the yields of this call."""
    for epoch in itertools.count(1):
        time.sleep(SLEEP)
        yield {"loss": loss_at(config["x"], epoch), "in_call": float(epoch), "train_seed": float(seed)}


def checkpointed(config: dict[str, Any], seed: int, checkpoint_dir: str) -> Iterator[dict[str, float]]:
    """Saves ``{"epoch", "lineage"}`` before each yield and resumes after the saved epoch; yields ``"epoch"`` and
    ``resumed_from`` (the epoch found in the directory when this call started) and ``lineage`` (how many different
    configurations trained this state: 2 after a PBT copy with a new configuration)."""
    path = Path(checkpoint_dir) / STATE
    state = json.loads(path.read_text()) if path.exists() else {"epoch": 0, "lineage": []}
    resumed_from = state["epoch"]
    if not state["lineage"] or state["lineage"][-1] != config["x"]:
        state["lineage"].append(config["x"])
    for epoch in itertools.count(resumed_from + 1):
        time.sleep(SLEEP)
        state["epoch"] = epoch
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)
        yield {
            "epoch": epoch,
            "loss": loss_at(config["x"], epoch),
            "resumed_from": float(resumed_from),
            "lineage": float(len(state["lineage"])),
        }


def failing(config: dict[str, Any], seed: int) -> Iterator[dict[str, float]]:
    """Raises at epoch 2 when ``x > 0.5``."""
    for epoch in itertools.count(1):
        time.sleep(SLEEP)
        if epoch == 2 and config["x"] > 0.5:
            raise RuntimeError("diverged")
        yield {"loss": loss_at(config["x"], epoch)}


def killed(config: dict[str, Any], seed: int) -> Iterator[dict[str, float]]:
    """Its worker process is killed at epoch 2 when ``x > 0.5``."""
    for epoch in itertools.count(1):
        time.sleep(SLEEP)
        if epoch == 2 and config["x"] > 0.5:
            os.kill(os.getpid(), signal.SIGKILL)
        yield {"loss": loss_at(config["x"], epoch)}


def short(config: dict[str, Any], seed: int) -> Iterator[dict[str, float]]:
    """Yields 2 epochs only."""
    for epoch in (1, 2):
        yield {"loss": loss_at(config["x"], epoch)}


def wrong_metric(config: dict[str, Any], seed: int) -> Iterator[dict[str, float]]:
    while True:
        time.sleep(SLEEP)
        yield {"accuracy": 0.5}


def slow(config: dict[str, Any], seed: int) -> Iterator[dict[str, float]]:
    """0.1 s per epoch."""
    for epoch in itertools.count(1):
        time.sleep(0.1)
        yield {"loss": loss_at(config["x"], epoch)}

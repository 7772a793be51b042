"""The checkpoint directories of a real tuning run.

Each trial has its own directory ``<checkpoint_root>/trial-<id>/``, handed to a training function that accepts
``checkpoint_dir``; the function saves its state there and resumes from it. For methods that start trials from
another trial's checkpoint (``checkpoint_from``, PBT), the worker also copies the directory at each report to
``<checkpoint_root>/.reported/trial-<id>/epoch-<e>/`` (only the latest is kept), because the trial trains on
after its report and a copy must start from the state of the epoch the method heard about; a new trial starts
from a copy of that snapshot. Snapshots are removed when the run ends; trial directories are kept unless
``keep=False`` (then a completed or failed trial's directory goes when it ends, the others at the end of the run).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from experiments.errors import ExperimentError

logger = logging.getLogger(__name__)

SNAPSHOTS = ".reported"


def trial_dir(root: Path | str, trial: int) -> Path:
    """``<root>/trial-<id>``."""
    return Path(root) / f"trial-{trial}"


def snapshot_root(root: Path | str, trial: int) -> Path:
    """Where the snapshots of ``trial`` at its reports go: ``<root>/.reported/trial-<id>``."""
    return Path(root) / SNAPSHOTS / f"trial-{trial}"


def snapshot(source: Path | str, target: Path | str) -> None:
    """Copy the directory ``source`` to ``target`` (written under a temporary name, then renamed into place)."""
    target = Path(target)
    if not Path(source).is_dir():  # the function saved nothing (yet)
        target.mkdir(parents=True, exist_ok=True)
        return
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


class TrialCheckpoints:
    """The directories under ``root`` (see the module docstring); ``owned``: the tuner chose ``root`` itself, so
    leftovers of an interrupted run there may be removed (a root given by the user must be empty)."""

    def __init__(self, root: Path | str, *, snapshots: bool, keep: bool, owned: bool) -> None:
        self.root = Path(root)
        self.snapshots = snapshots
        self.keep = keep
        self.copied_live = 0  # copies made from a live directory (no snapshot of the reported epoch)
        if self.root.exists() and any(self.root.iterdir()):
            if not owned:
                raise ExperimentError(
                    f"checkpoint_root {self.root} is not empty; give an empty or new directory (trial directories "
                    "are named trial-<id>, and a new trial must not find an old trial's state)"
                )
            shutil.rmtree(self.root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ExperimentError(f"cannot create checkpoint_root {self.root}: {error.strerror or error}") from None

    def trial_dir(self, trial: int) -> Path:
        return trial_dir(self.root, trial)

    def snapshot_root(self, trial: int) -> Path | None:
        """Where ``trial``'s worker snapshots its directory at reports (None: no snapshots)."""
        return snapshot_root(self.root, trial) if self.snapshots else None

    def create(self, trial: int) -> Path:
        """An empty directory for a new trial."""
        path = self.trial_dir(trial)
        path.mkdir(parents=True, exist_ok=True)
        if self.snapshots:
            snapshot_root(self.root, trial).mkdir(parents=True, exist_ok=True)
        return path

    def copy(self, source: int, epoch: int, trial: int) -> None:
        """Fill ``trial``'s directory with ``source``'s checkpoint of ``epoch`` (its snapshot; without one, its
        directory as it is now, which may hold a later epoch)."""
        target = self.create(trial)
        saved = snapshot_root(self.root, source) / f"epoch-{epoch}"
        if not saved.is_dir():
            saved = self.trial_dir(source)
            self.copied_live += 1
            logger.warning(
                "trial %d starts from trial %d's directory as it is now (no snapshot of its epoch %d)",
                trial,
                source,
                epoch,
            )
        if saved.is_dir():
            shutil.copytree(saved, target, dirs_exist_ok=True)

    def reported(self, trial: int, epoch: int) -> None:
        """``trial`` reported ``epoch``: its older snapshots are not needed any more."""
        if not self.snapshots:
            return
        for old in snapshot_root(self.root, trial).glob("epoch-*"):
            if old.name != f"epoch-{epoch}":
                shutil.rmtree(old, ignore_errors=True)

    def ended(self, trial: int, status: str) -> None:
        """``trial`` ended with ``status``; a completed or failed one cannot be copied or resumed."""
        if status in ("completed", "failed"):
            if not self.keep:
                shutil.rmtree(self.trial_dir(trial), ignore_errors=True)
            if self.snapshots:
                shutil.rmtree(snapshot_root(self.root, trial), ignore_errors=True)

    def close(self) -> None:
        """The run is over: remove the snapshots (and, unless ``keep``, every trial directory)."""
        shutil.rmtree(self.root / SNAPSHOTS, ignore_errors=True)
        if not self.keep:
            for path in self.root.glob("trial-*"):
                shutil.rmtree(path, ignore_errors=True)
            try:
                self.root.rmdir()
            except OSError:
                pass

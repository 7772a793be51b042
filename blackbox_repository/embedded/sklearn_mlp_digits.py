"""Regenerate the embedded benchmark ``sklearn-mlp-digits`` (a full grid of scikit-learn MLPs on digits).

Run ``python -m blackbox_repository.embedded.sklearn_mlp_digits [--n_jobs 2] [--output DIR]``; it
writes ``blackbox_repository/data/sklearn-mlp-digits`` by default. An interrupted run resumes from
its checkpoint (``--checkpoint_dir``), which is deleted after the benchmark is written. Run it on an otherwise
idle machine: the epochs' wall-clock seconds are part of the benchmark.

Every configuration of the search space (1280) is trained with 3 seeds for 30 epochs, one
``MLPClassifier.partial_fit`` pass (adam) per epoch, on ``sklearn.datasets.load_digits`` split
60/20/20 (stratified, ``random_state=0``) into train/validation/test, features standardised with a
scaler fit on the training part.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import pickle
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from blackbox_repository.blackbox import Objective
from blackbox_repository.cli import OneLineErrorParser
from blackbox_repository.errors import BlackboxError
from blackbox_repository.locations import EMBEDDED_DIR
from blackbox_repository.storage import write_blackbox
from blackbox_repository.tabulate import tabulate
from searchspace import Categorical, Grid, SearchSpace

logger = logging.getLogger(__name__)

NAME = "sklearn-mlp-digits"
EPOCHS = 30
SEEDS = (0, 1, 2)
SPLIT_SEED = 0
#: the file ``train_mlp`` checkpoints to in its ``checkpoint_dir``
CHECKPOINT_FILE = "mlp.pkl"

SPACE = SearchSpace(
    {
        "n_units": Grid((16, 32, 64, 128)),
        "n_layers": Grid((1, 2)),
        "learning_rate_init": Grid((1e-4, 3e-4, 1e-3, 3e-3, 1e-2)),
        "alpha": Grid((1e-6, 1e-4, 1e-3, 1e-2)),
        "batch_size": Grid((16, 32, 64, 128)),
        "activation": Categorical(("relu", "tanh")),
    }
)

OBJECTIVES = (
    Objective("valid_loss", "min", "cross-entropy"),
    Objective("valid_error", "min", "fraction"),
    Objective("test_loss", "min", "cross-entropy"),
    Objective("test_error", "min", "fraction"),
    Objective("train_loss", "min", "cross-entropy"),
)
#: the default metric: continuous, so that methods that find equally accurate networks are still told apart
METRIC = "valid_loss"

DESCRIPTION = (
    "Full grid of scikit-learn MLPClassifier configurations (adam, trained one partial_fit pass per "
    "epoch) on the digits dataset (sklearn.datasets.load_digits, 1797 8x8 images, 10 classes), split "
    "stratified 60/20/20 into train/validation/test with random_state=0 and standardised with a scaler "
    "fit on train. Seeds are the MLP random_state (weight initialisation and batch shuffling). "
    "valid_loss and test_loss are the cross-entropy (sklearn.metrics.log_loss) of the predicted class "
    "probabilities after each epoch, valid_error and test_error 1 - accuracy, train_loss the model's loss_. "
    "runtime is the wall-clock seconds of each epoch (training pass plus validation and test scoring) "
    "measured on the machine described in metadata['machine'] with n_jobs worker processes, one BLAS "
    "thread each; elapsed_time is its cumulative sum."
)


def all_configs() -> list[dict[str, Any]]:
    """Every configuration of ``SPACE`` (1280), in ``itertools.product`` order of the space."""
    choices = [SPACE[name].choices for name in SPACE.names]
    return [dict(zip(SPACE.names, values)) for values in itertools.product(*choices)]


@functools.cache
def load_splits() -> dict[str, np.ndarray]:
    """The fixed standardised train/validation/test split of digits (cached per process)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    x, y = load_digits(return_X_y=True)
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, y, test_size=0.4, stratify=y, random_state=SPLIT_SEED
    )
    x_valid, x_test, y_valid, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=SPLIT_SEED
    )
    scaler = StandardScaler().fit(x_train)
    return {
        "x_train": scaler.transform(x_train),
        "y_train": y_train,
        "x_valid": scaler.transform(x_valid),
        "y_valid": y_valid,
        "x_test": scaler.transform(x_test),
        "y_test": y_test,
        "classes": np.unique(y),
    }


def train_mlp(
    config: dict[str, Any], seed: int, epochs: int = EPOCHS, checkpoint_dir: str | Path | None = None
) -> Iterator[dict[str, float]]:
    """Train one MLP epoch by epoch; yields the validation and test cross-entropy and error and the training loss
    after each epoch.

    Loading the data happens here, before the iterator is returned, so it is not part of the
    measured runtime of the first epoch.

    ``checkpoint_dir`` (for ``experiments.tuner``; None, the default, changes nothing): the model and its epoch are
    pickled to ``<checkpoint_dir>/mlp.pkl`` after every epoch, before it is yielded; a call that finds that file
    resumes after its epoch (continuing exactly as an uninterrupted run would), and every yielded dict also holds
    its ``"epoch"``. A checkpoint of another architecture (PBT changed ``n_units``, ``n_layers`` or ``activation``)
    cannot be continued: training restarts at epoch 1. Changed optimisation hyperparameters (learning rate, L2
    penalty, batch size) apply from the next epoch.
    """
    data = load_splits()
    if checkpoint_dir is None:
        return _epochs(_new_model(config, seed), data, epochs)
    path = Path(checkpoint_dir) / CHECKPOINT_FILE
    restored = _restore(path, config)
    model, done = restored if restored is not None else (_new_model(config, seed), 0)
    return _epochs(model, data, epochs, start=done, checkpoint=path)


def _new_model(config: dict[str, Any], seed: int) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(
        hidden_layer_sizes=(int(config["n_units"]),) * int(config["n_layers"]),
        activation=config["activation"],
        solver="adam",
        alpha=float(config["alpha"]),
        batch_size=int(config["batch_size"]),
        learning_rate_init=float(config["learning_rate_init"]),
        random_state=int(seed),
        shuffle=True,
    )


def _restore(path: Path, config: dict[str, Any]) -> tuple[Any, int] | None:
    """The model and epoch saved in ``path`` with ``config``'s optimisation hyperparameters, or None (no file, or
    another architecture)."""
    if not path.is_file():
        return None
    with path.open("rb") as file:
        model, done = pickle.load(file)
    architecture = ((int(config["n_units"]),) * int(config["n_layers"]), config["activation"])
    if (tuple(model.hidden_layer_sizes), model.activation) != architecture:
        return None
    model.set_params(
        alpha=float(config["alpha"]),
        batch_size=int(config["batch_size"]),
        learning_rate_init=float(config["learning_rate_init"]),
    )
    optimizer = getattr(model, "_optimizer", None)  # Adam keeps its own copy of the learning rate
    if optimizer is not None and optimizer.learning_rate_init != model.learning_rate_init:
        optimizer.learning_rate_init = optimizer.learning_rate = model.learning_rate_init
    return model, int(done)


def _save(path: Path, model: Any, epoch: int) -> None:
    """Pickle ``(model, epoch)`` to ``path`` atomically (a temporary file renamed into place)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as file:
        pickle.dump((model, epoch), file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def _epochs(
    model: Any, data: dict[str, np.ndarray], epochs: int, start: int = 0, checkpoint: Path | None = None
) -> Iterator[dict[str, float]]:
    from sklearn.exceptions import ConvergenceWarning

    for epoch in range(start, epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if epoch == 0:
                model.partial_fit(data["x_train"], data["y_train"], classes=data["classes"])
            else:
                model.partial_fit(data["x_train"], data["y_train"])
        valid_loss, valid_error = _scores(model, data["x_valid"], data["y_valid"], data["classes"])
        test_loss, test_error = _scores(model, data["x_test"], data["y_test"], data["classes"])
        metrics = {
            "valid_loss": valid_loss,
            "valid_error": valid_error,
            "test_loss": test_loss,
            "test_error": test_error,
            "train_loss": float(model.loss_),
        }
        if checkpoint is not None:
            _save(checkpoint, model, epoch + 1)
            metrics = {"epoch": epoch + 1, **metrics}
        yield metrics


def _scores(model: Any, x: np.ndarray, y: np.ndarray, classes: np.ndarray) -> tuple[float, float]:
    """Cross-entropy and error (1 - accuracy, as ``1 - model.score``) from one forward pass."""
    from sklearn.metrics import log_loss

    probabilities = model.predict_proba(x)
    predicted = classes[np.argmax(probabilities, axis=1)]
    return float(log_loss(y, probabilities, labels=classes)), 1.0 - float(np.mean(predicted == y))


def main(argv: list[str] | None = None) -> int:
    """Command line: tabulate the grid and write the benchmark."""
    parser = OneLineErrorParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n_jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--output", type=Path, default=EMBEDDED_DIR / NAME, help="benchmark directory")
    parser.add_argument(
        "--checkpoint_dir", type=Path, default=Path(".tabulate_checkpoints") / NAME, help="resumable progress"
    )
    parser.add_argument("--no_progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    # Under ``python -m`` this module is ``__main__``; workers unpickle the function by its real name.
    from blackbox_repository.embedded.sklearn_mlp_digits import train_mlp as train

    start = time.perf_counter()
    try:
        blackbox = tabulate(
            NAME,
            train,
            all_configs(),
            SEEDS,
            SPACE,
            objectives=OBJECTIVES,
            metric=METRIC,
            checkpoint_dir=args.checkpoint_dir,
            n_jobs=args.n_jobs,
            metadata={
                "description": DESCRIPTION,
                "source": "generated by blackbox_repository/embedded/sklearn_mlp_digits.py",
                "dataset": "sklearn.datasets.load_digits",
                "split": {"train": 0.6, "valid": 0.2, "test": 0.2, "stratified": True, "random_state": SPLIT_SEED},
            },
            progress=not args.no_progress,
        )
    except BlackboxError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted; run again to resume from {args.checkpoint_dir}", file=sys.stderr)
        return 130
    blackbox.metadata["generation_seconds"] = round(time.perf_counter() - start, 1)
    write_blackbox(args.output, blackbox)
    (args.output / ".verified.json").unlink(missing_ok=True)  # a local stamp, not shipped
    shutil.rmtree(args.checkpoint_dir, ignore_errors=True)
    logger.info("%r: best %s %.4f, written to %s", blackbox, METRIC, blackbox.best_value(), args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())

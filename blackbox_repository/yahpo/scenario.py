"""One YAHPO scenario: its spaces, instances, input encoder and surrogate, and raw batch predictions.

``YahpoScenario.predict(frame)`` is the lowest level: ``frame`` holds the instance, hyperparameter and
fidelity columns as in the reference CSVs (instances may differ from row to row; inactive
hyperparameters empty), and the result holds the surrogate's outputs, one column per ``y_names`` entry.
The blackboxes (``blackbox.py``) and the batch CLI (``blackbox_repository.evaluate``) build on it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from blackbox_repository.errors import BlackboxError
from blackbox_repository.yahpo.config_space import read_config_space
from blackbox_repository.yahpo.data import scenario_file, yahpo_data_dir
from blackbox_repository.yahpo.encoding import FeatureEncoder
from blackbox_repository.yahpo.model import SurrogateModel
from blackbox_repository.yahpo.scenarios import SCENARIOS, YAHPO_SCENARIOS, ScenarioFacts
from searchspace import SearchSpace

logger = logging.getLogger(__name__)

THREADS_ENV = "HPO_YAHPO_THREADS"
_CACHE: dict[tuple[str, str], YahpoScenario] = {}
_LOCK = threading.Lock()


class YahpoScenario:
    """A YAHPO scenario read from a data directory (see ``data.py``); the surrogate loads on first use.

    ``threads`` (default ``$HPO_YAHPO_THREADS``, else onnxruntime's default of one per core) bounds the
    onnxruntime threads, e.g. to 1 when many simulations run in parallel processes.

    Attributes:
        facts: the scenario's facts (feature orders, objectives, fidelities).
        full_space: every parameter of ``config_space.json`` (instance and fidelities included).
        space: the hyperparameters to optimise: ``full_space`` minus instance and fidelity parameters.
        instances: the valid instances (task ids), in ``config_space.json`` order.
    """

    def __init__(self, name: str, data_dir: Path | str | None = None, *, threads: int | None = None) -> None:
        self.facts: ScenarioFacts = scenario_facts(name)
        self.name = name
        self.data_dir = yahpo_data_dir(data_dir)
        if threads is None and os.environ.get(THREADS_ENV):
            threads = int(os.environ[THREADS_ENV])
        self.threads = threads
        self.full_space: SearchSpace = read_config_space(scenario_file(name, "config_space.json", self.data_dir))
        facts = self.facts
        if set(self.full_space.names) != set(facts.hp_names):
            raise BlackboxError(
                f"YAHPO {name}: config_space.json has parameters {sorted(self.full_space.names)}, expected "
                f"{sorted(facts.hp_names)}; is {self.data_dir} a copy of yahpo_data v1.0.2?"
            )
        excluded = set(facts.fidelity_params) | ({facts.instance_name} if facts.instance_name else set())
        for condition in self.full_space.conditions:
            if condition.parent in excluded or condition.child in excluded:
                raise BlackboxError(f"YAHPO {name}: a condition involves the instance or a fidelity: {condition}")
        self.space = SearchSpace(
            {key: domain for key, domain in self.full_space.items() if key not in excluded},
            self.full_space.conditions,
        )
        if facts.instance_name is None:
            self.instances: tuple[str, ...] = facts.instances
        else:
            self.instances = tuple(str(value) for value in self.full_space[facts.instance_name].values())
        self._encoder: FeatureEncoder | None = None
        self._model: SurrogateModel | None = None

    @classmethod
    def load(cls, name: str, data_dir: Path | str | None = None) -> YahpoScenario:
        """The scenario ``name``, shared by every caller with the same data directory."""
        key = (name, str(yahpo_data_dir(data_dir).resolve()))
        with _LOCK:
            scenario = _CACHE.get(key)
            if scenario is None:
                scenario = _CACHE[key] = cls(name, data_dir)
            return scenario

    # Lazily loaded parts ---------------------------------------------------------------------------
    @property
    def encoder(self) -> FeatureEncoder:
        if self._encoder is None:
            path = scenario_file(self.name, "encoding.json", self.data_dir)
            try:
                codes = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise BlackboxError(f"YAHPO {self.name}: cannot read {path}: {error}") from None
            self._encoder = FeatureEncoder(self.facts, self.full_space, codes)
        return self._encoder

    @property
    def model(self) -> SurrogateModel:
        if self._model is None:
            path = scenario_file(self.name, "model.onnx", self.data_dir)
            facts = self.facts
            self._model = SurrogateModel(
                path, len(facts.cat_names), len(facts.cont_names), len(facts.y_names), threads=self.threads
            )
        return self._model

    def ensure_files(self) -> None:
        """Load (downloading if needed) the encoding and the surrogate now rather than on first use."""
        _ = self.encoder, self.model

    # Facts -----------------------------------------------------------------------------------------
    @property
    def y_names(self) -> list[str]:
        return list(self.facts.y_names)

    @property
    def input_names(self) -> list[str]:
        """The columns of a ``predict`` frame: every parameter of ``config_space.json``, in its order."""
        return self.full_space.names

    def check_instance(self, instance: str) -> str:
        """``instance`` as a string, or a one-line error listing valid instances."""
        text = str(instance)
        if text not in self.instances:
            raise BlackboxError(
                f"YAHPO {self.name} has no instance {text!r}; instances: {_first_few(self.instances)}"
            )
        return text

    # Predictions -----------------------------------------------------------------------------------
    def predict_array(self, frame: pd.DataFrame) -> np.ndarray:
        """Surrogate outputs for every row of ``frame``, shape (rows, len(y_names)), float32."""
        x_cat, x_cont = self.encoder.encode_frame(frame)
        return self.model.run(x_cat, x_cont)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Surrogate outputs as a frame: one float64 column per ``y_names`` entry (exact float32 values)."""
        values = self.predict_array(frame).astype(np.float64)
        return pd.DataFrame(values, columns=self.y_names, index=frame.index)

    def __repr__(self) -> str:
        return f"YahpoScenario({self.name!r}, instances={len(self.instances)}, data_dir={str(self.data_dir)!r})"


def scenario_facts(name: str) -> ScenarioFacts:
    """Facts of a scenario, or a one-line error listing the known scenarios."""
    facts = SCENARIOS.get(name)
    if facts is None:
        raise BlackboxError(f"unknown YAHPO scenario {name!r}; scenarios: {', '.join(YAHPO_SCENARIOS)}")
    return facts


def _first_few(values: tuple[str, ...] | list[str], count: int = 8) -> str:
    shown = ", ".join(values[:count])
    return f"{shown}, ... ({len(values)} in all)" if len(values) > count else shown

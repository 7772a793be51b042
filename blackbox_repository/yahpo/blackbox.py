"""YAHPO Gym surrogates as blackboxes: one scenario and one instance, named ``yahpo-<scenario>-<instance>``.

Fidelities (what the simulator replays as steps ``1 .. K``):

- lcbench: ``epoch`` 1..52, the surrogate's own range. The surrogate was fit on LCBench's raw logs, which
  hold 52 entries per run; they are used as they are, not remapped to LCBench's nominal 50 epochs.
- nb301: ``epoch`` 1..98 (the range of its ``config_space.json``).
- iaml_* and rbv2_*: ``trainsize_level`` 1..7, replaying trainsize fractions ``TRAINSIZE_LEVELS``
  (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0), kept in ``metadata["fidelity_values"]``; rbv2's ``repl`` (the
  resampling iteration) is fixed at 10 (``metadata["fixed"]``).

Objectives: the scenario's ``y_names`` in order (modes from yahpo-gym's ``y_minimize``), then derived
time objectives for the simulator:

- epoch scenarios: the surrogate's time output (lcbench ``time``, nb301 ``runtime``) is the cumulative
  training time up to the epoch, but a surrogate's prediction need not increase with the epoch; so
  ``elapsed_time`` is its running maximum (clipped at 0) and is the ``elapsed_objective``; there is no
  per-epoch runtime objective (the simulator takes differences of ``elapsed_time``). lcbench's ``time`` is
  renamed ``surrogate_time`` because the simulator reserves the column name ``time``.
- trainsize scenarios: each level is a fresh fit, so ``runtime`` = ``timetrain`` at that level (clipped
  at 0) is the ``runtime_objective`` and ``elapsed_time`` its cumulative sum over levels.

Default metric: lcbench and nb301 ``val_accuracy`` (max); iaml ``mmce`` (min) and rbv2 ``acc`` (max),
the first performance measure of each family. The surrogate is deterministic: one seed (0).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from blackbox_repository.blackbox import BlackboxBase, Objective
from blackbox_repository.errors import BlackboxError
from blackbox_repository.locations import YAHPO_PREFIX
from blackbox_repository.yahpo.scenario import YahpoScenario, scenario_facts
from blackbox_repository.yahpo.scenarios import TRAINSIZE_LEVELS
from searchspace import Float, Integer

PREFIX = YAHPO_PREFIX
#: objective names the simulator reserves for its result columns, and what they are renamed to
RENAMED = {"time": "surrogate_time"}


class YahpoBlackbox(BlackboxBase):
    """One instance of a YAHPO scenario, evaluated with its ONNX surrogate (see the module docstring).

    Attributes (beyond ``BlackboxBase``):
        scenario: the shared ``YahpoScenario``.
        instance: the instance (task id) as a string.
        fidelity_parameter: the surrogate's fidelity parameter (``epoch`` or ``trainsize``).
        fidelity_values: its value at each step ``1 .. K``.
    """

    def __init__(self, scenario: YahpoScenario, instance: str) -> None:
        facts = scenario.facts
        self.scenario = scenario
        self.instance = scenario.check_instance(instance)
        self.name = f"{PREFIX}{scenario.name}-{self.instance}"
        self.space = scenario.space
        self.fidelity_parameter = facts.fidelity_param
        domain = scenario.full_space[self.fidelity_parameter]
        expected = Integer if facts.fidelity_kind == "epoch" else Float
        if not isinstance(domain, expected):
            raise BlackboxError(
                f"YAHPO {scenario.name}: {self.fidelity_parameter} is {domain}, expected {expected.__name__}"
            )
        if isinstance(domain, Integer):
            self.fidelity_values = np.arange(domain.low, domain.high + 1, dtype=np.float64)
            self.fidelity_name = "epoch"
        else:
            self.fidelity_values = np.array([v for v in TRAINSIZE_LEVELS if domain.low <= v <= domain.high])
            self.fidelity_name = "trainsize_level"
        self.fidelities = np.arange(1, len(self.fidelity_values) + 1)
        self.seeds = np.array([0])
        self._y_index = {name: i for i, name in enumerate(facts.y_names)}
        objectives = [
            Objective(RENAMED.get(name, name), "min" if minimize else "max")
            for name, minimize in zip(facts.y_names, facts.y_minimize)
        ]
        if facts.fidelity_kind == "epoch":
            objectives.append(Objective("elapsed_time", None, "s"))
            self.runtime_objective = None
        else:
            objectives += [Objective("runtime", None, "s"), Objective("elapsed_time", None, "s")]
            self.runtime_objective = "runtime"
        self.elapsed_objective = "elapsed_time"
        self.objective_info = tuple(objectives)
        self.metric = facts.metric
        self.metadata = {
            "description": f"YAHPO Gym surrogate {scenario.name}, instance {self.instance}",
            "source": "YAHPO Gym 1.0.2 surrogates (github.com/slds-lmu/yahpo_data v1.0.2), run with onnxruntime",
            "surrogate": True,
            "scenario": scenario.name,
            "instance": self.instance,
            "instance_parameter": facts.instance_name,
            "fidelity_parameter": self.fidelity_parameter,
            "fidelity_values": self.fidelity_values.tolist(),
            "fixed": dict(facts.fixed),
            "renamed_objectives": {k: v for k, v in RENAMED.items() if k in facts.y_names},
        }
        self.check_objectives()
        self._fixed = self._fixed_features()
        self._steps = self.fidelity_values.astype(np.float32)  # the fidelity feature at steps 1 .. K

    # Inputs ----------------------------------------------------------------------------------------
    def _fixed_features(self) -> dict[str, Any]:
        """The features every evaluation shares: the instance and fixed fidelities (rbv2: repl = 10)."""
        fixed: dict[str, Any] = dict(self.scenario.facts.fixed)
        if self.scenario.facts.instance_name is not None:
            fixed[self.scenario.facts.instance_name] = self.instance
        return fixed

    # BlackboxBase ----------------------------------------------------------------------------------
    def curve(self, config: Mapping[str, Any], seed_index: int = 0) -> np.ndarray:
        """Every objective at every step ``1 .. K``, shape (K, objectives), float64, from one ONNX call."""
        self._check_seed(seed_index)
        self.space.validate(config)
        facts = self.scenario.facts
        features = {**config, **self._fixed, self.fidelity_parameter: 0.0}
        cat, cont = self.scenario.encoder.encode_config(features)
        k = len(self._steps)
        x_cont = np.repeat(cont[None, :], k, axis=0)
        x_cont[:, facts.cont_names.index(self.fidelity_parameter)] = self._steps
        raw = self.scenario.model.run(np.repeat(cat[None, :], k, axis=0), x_cont).astype(np.float64)
        return np.concatenate([raw, self._derived(raw, curve=True)], axis=1)

    def evaluate(self, configs: pd.DataFrame, fidelity: np.ndarray, seed_index: int = 0) -> np.ndarray:
        """Objectives of many configurations at once (one ONNX call per 4096 rows), shape (rows, objectives).

        ``fidelity`` holds values of ``fidelity_parameter`` (epochs; trainsize fractions for iaml/rbv2),
        any value in its range, not only the replayed steps. Inactive hyperparameters are None/NaN. Derived
        objectives that need the whole curve are NaN here: ``elapsed_time`` always, as it accumulates over
        steps; ``runtime`` of trainsize scenarios is ``timetrain`` at the given trainsize (clipped at 0).
        """
        self._check_seed(seed_index)
        frame = self.input_frame(configs, fidelity)
        raw = self.scenario.predict_array(frame).astype(np.float64)
        return np.concatenate([raw, self._derived(raw, curve=False)], axis=1)

    def input_frame(self, configs: pd.DataFrame, fidelity: np.ndarray | float) -> pd.DataFrame:
        """The ``YahpoScenario.predict`` input for ``configs`` at ``fidelity`` (values of ``fidelity_parameter``):
        the hyperparameter columns, the instance, the fixed fidelities (rbv2: ``repl`` = 10) and the fidelity.
        """
        self.check_columns(configs)
        fidelity = np.broadcast_to(np.asarray(fidelity, dtype=np.float64), (len(configs),))
        frame = pd.DataFrame({name: configs[name].to_numpy() for name in self.space.names})
        for name, value in self._fixed.items():
            frame[name] = value
        frame[self.fidelity_parameter] = fidelity
        return frame

    def _derived(self, raw: np.ndarray, *, curve: bool) -> np.ndarray:
        """``[elapsed_time]`` (epoch scenarios) or ``[runtime, elapsed_time]`` (trainsize scenarios)."""
        facts = self.scenario.facts
        time = np.maximum(raw[:, self._y_index[facts.runtime_name]], 0.0)
        nan = np.full(len(raw), np.nan)
        if facts.fidelity_kind == "epoch":
            return (np.maximum.accumulate(time) if curve else nan)[:, None]
        return np.stack([time, np.cumsum(time) if curve else nan], axis=1)

    def _check_seed(self, seed_index: int) -> None:
        if seed_index != 0:
            raise BlackboxError(
                f"benchmark {self.name!r} is a deterministic surrogate with one seed, index 0; got {seed_index}"
            )

    def fidelity_value(self, step: int) -> float:
        """The value of ``fidelity_parameter`` at step ``step`` (1-based)."""
        return float(self.fidelity_values[step - 1])

    def __repr__(self) -> str:
        return (
            f"YahpoBlackbox({self.name!r}, {self.fidelity_name}s={len(self.fidelities)}, "
            f"objectives={self.objective_names})"
        )


# Names ---------------------------------------------------------------------------------------------
def is_yahpo_name(name: str) -> bool:
    """Whether ``name`` is a YAHPO benchmark name (``yahpo-<scenario>`` or ``yahpo-<scenario>-<instance>``)."""
    return isinstance(name, str) and name.startswith(PREFIX)


def parse_yahpo_name(name: str) -> tuple[str, str | None]:
    """``(scenario, instance or None)`` of a YAHPO name; a one-line error for an unknown scenario."""
    if not is_yahpo_name(name):
        raise BlackboxError(f"{name!r} is not a YAHPO benchmark name; expected yahpo-<scenario>-<instance>")
    scenario, _, instance = name[len(PREFIX) :].partition("-")
    scenario_facts(scenario)
    return scenario, instance or None


def yahpo_instances(scenario: str, data_dir: Path | str | None = None) -> list[str]:
    """The instances (task ids) of ``scenario``, as strings in ``config_space.json`` order."""
    return list(YahpoScenario.load(scenario, data_dir).instances)


def load_yahpo(name: str, data_dir: Path | str | None = None) -> YahpoBlackbox:
    """The blackbox ``yahpo-<scenario>-<instance>``, e.g. ``yahpo-lcbench-3945``.

    The scenario's files are read from ``data_dir`` (default: ``$HPO_YAHPO_DATA`` or beside the benchmark
    cache) and downloaded there if missing.
    """
    scenario_name, instance = parse_yahpo_name(name)
    scenario = YahpoScenario.load(scenario_name, data_dir)
    if instance is None:
        raise BlackboxError(
            f"{name!r} names no instance; use {PREFIX}{scenario_name}-<instance>, e.g. "
            f"{PREFIX}{scenario_name}-{scenario.instances[0]} ({len(scenario.instances)} instances)"
        )
    scenario.check_instance(instance)
    scenario.ensure_files()
    return YahpoBlackbox(scenario, instance)


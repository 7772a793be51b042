"""YAHPO Gym surrogate benchmarks, evaluated with onnxruntime directly (no ``yahpo-gym`` package).

- ``scenarios.py``: per-scenario facts (feature orders, objectives, fidelities) of YAHPO Gym 1.0.2;
- ``data.py``: the data directory (``$HPO_YAHPO_DATA``) and downloads of missing files;
- ``config_space.py``: ConfigSpace JSON to ``SearchSpace`` with conditions;
- ``encoding.py``: validated surrogate inputs from a data frame or one configuration;
- ``model.py``: the ONNX session (padded, chunked batches);
- ``scenario.py``: ``YahpoScenario``, raw batch predictions (``predict``);
- ``blackbox.py``: ``YahpoBlackbox``, one scenario and instance as a benchmark, and ``load_yahpo``.
"""

from blackbox_repository.yahpo.blackbox import (
    YahpoBlackbox,
    is_yahpo_name,
    load_yahpo,
    parse_yahpo_name,
    yahpo_instances,
)
from blackbox_repository.yahpo.data import yahpo_data_dir
from blackbox_repository.yahpo.scenario import YahpoScenario
from blackbox_repository.yahpo.scenarios import TRAINSIZE_LEVELS, YAHPO_SCENARIOS

__all__ = [
    "TRAINSIZE_LEVELS",
    "YAHPO_SCENARIOS",
    "YahpoBlackbox",
    "YahpoScenario",
    "is_yahpo_name",
    "load_yahpo",
    "parse_yahpo_name",
    "yahpo_data_dir",
    "yahpo_instances",
]

"""Per-scenario facts of YAHPO Gym 1.0.2 (data release v1.0.2): what the ONNX surrogates take and return.

The facts come from ``yahpo_gym/benchmarks/*.py`` of YAHPO Gym 1.0.x (the versions whose surrogates
are in yahpo_data v1.0.2; later releases changed ``rbv2`` and ``nb301``). The ONNX model takes
``cat_names`` as int32 codes and ``cont_names`` as float32, in these orders, and returns ``y_names``.

Fidelity schedules (``fidelity_kind``):

- ``"epoch"`` (lcbench, nb301): the surrogate's epoch parameter, every integer of its range (lcbench
  1..52: the surrogate was fit on LCBench's raw 52 logged entries per run, and is not remapped to 50).
- ``"trainsize"`` (iaml_*, rbv2_*): each fidelity step is a separate fit on a fraction of the training
  data, replayed at ``TRAINSIZE_LEVELS``; ``repl`` (rbv2: the resampling iteration, 1..10) is held at
  ``fixed`` (10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: trainsize fractions replayed as fidelity steps 1..7 by the trainsize scenarios
TRAINSIZE_LEVELS = (0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class ScenarioFacts:
    """What one YAHPO scenario's surrogate expects and returns."""

    name: str
    cat_names: tuple[str, ...]
    cont_names: tuple[str, ...]
    y_names: tuple[str, ...]
    y_minimize: tuple[bool, ...]
    fidelity_params: tuple[str, ...]
    instance_name: str | None
    runtime_name: str
    metric: str
    fidelity_kind: str  # "epoch" or "trainsize"
    fixed: dict[str, Any] = field(default_factory=dict)
    instances: tuple[str, ...] = ()  # only for scenarios without an instance parameter (nb301)

    @property
    def fidelity_param(self) -> str:
        """The fidelity parameter that the simulator steps through (``epoch`` or ``trainsize``)."""
        return self.fidelity_params[0]

    @property
    def hp_names(self) -> tuple[str, ...]:
        return self.cat_names + self.cont_names


_IAML_Y = ("mmce", "f1", "auc", "logloss", "ramtrain", "rammodel", "rampredict", "timetrain", "timepredict", "mec",
           "ias", "nf")
_IAML_MIN = (True, False, False, True, True, True, True, True, True, True, True, True)
_RBV2_Y = ("acc", "bac", "auc", "brier", "f1", "logloss", "timetrain", "timepredict", "memory")
_RBV2_MIN = (False, False, False, True, True, True, True, True, True)

_XGB = ("nrounds", "eta", "gamma", "lambda", "alpha", "subsample", "max_depth", "min_child_weight", "colsample_bytree",
        "colsample_bylevel", "rate_drop", "skip_drop")


def _iaml(name: str, cont: tuple[str, ...], cat: tuple[str, ...]) -> ScenarioFacts:
    return ScenarioFacts(
        name=name, cat_names=("task_id",) + cat, cont_names=cont + ("trainsize",), y_names=_IAML_Y,
        y_minimize=_IAML_MIN, fidelity_params=("trainsize",), instance_name="task_id", runtime_name="timetrain",
        metric="mmce", fidelity_kind="trainsize",
    )


def _rbv2(name: str, cont: tuple[str, ...], cat: tuple[str, ...]) -> ScenarioFacts:
    return ScenarioFacts(
        name=name, cat_names=("task_id",) + cat + ("num.impute.selected.cpo",), cont_names=cont + ("trainsize", "repl"),
        y_names=_RBV2_Y, y_minimize=_RBV2_MIN, fidelity_params=("trainsize", "repl"), instance_name="task_id",
        runtime_name="timetrain", metric="acc", fidelity_kind="trainsize", fixed={"repl": 10},
    )


_NB301_EDGES = tuple(f"NetworkSelectorDatasetInfo_COLON_darts_COLON_edge_{cell}_{i}"
                     for cell in ("normal", "reduce") for i in range(14))
_NB301_NODES = tuple(f"NetworkSelectorDatasetInfo_COLON_darts_COLON_inputs_node_{cell}_{i}"
                     for cell in ("normal", "reduce") for i in (3, 4, 5))

_ALL = [
    ScenarioFacts(
        name="lcbench", cat_names=("OpenML_task_id",),
        cont_names=("epoch", "batch_size", "learning_rate", "momentum", "weight_decay", "num_layers", "max_units",
                    "max_dropout"),
        y_names=("time", "val_accuracy", "val_cross_entropy", "val_balanced_accuracy", "test_cross_entropy",
                 "test_balanced_accuracy"),
        y_minimize=(True, False, True, False, True, False), fidelity_params=("epoch",),
        instance_name="OpenML_task_id", runtime_name="time", metric="val_accuracy", fidelity_kind="epoch",
    ),
    ScenarioFacts(
        name="nb301", cat_names=_NB301_EDGES + _NB301_NODES, cont_names=("epoch",), y_names=("val_accuracy", "runtime"),
        y_minimize=(False, True), fidelity_params=("epoch",), instance_name=None, runtime_name="runtime",
        metric="val_accuracy", fidelity_kind="epoch", instances=("CIFAR10",),
    ),
    _iaml("iaml_glmnet", ("alpha", "s"), ()),
    _iaml("iaml_rpart", ("cp", "maxdepth", "minbucket", "minsplit"), ()),
    _iaml("iaml_ranger", ("num.trees", "sample.fraction", "mtry.ratio", "min.node.size", "num.random.splits"),
          ("replace", "respect.unordered.factors", "splitrule")),
    _iaml("iaml_xgboost", _XGB, ("booster",)),
    _iaml("iaml_super",
          ("ranger.num.trees", "ranger.sample.fraction", "ranger.mtry.ratio", "ranger.min.node.size",
           "ranger.num.random.splits", "rpart.cp", "rpart.maxdepth", "rpart.minbucket", "rpart.minsplit",
           "glmnet.alpha", "glmnet.s") + tuple(f"xgboost.{name}" for name in _XGB),
          ("learner", "ranger.replace", "ranger.respect.unordered.factors", "ranger.splitrule", "xgboost.booster")),
    _rbv2("rbv2_glmnet", ("alpha", "s"), ()),
    _rbv2("rbv2_rpart", ("cp", "maxdepth", "minbucket", "minsplit"), ()),
    _rbv2("rbv2_ranger", ("num.trees", "sample.fraction", "mtry.power", "min.node.size", "num.random.splits"),
          ("respect.unordered.factors", "splitrule")),
    _rbv2("rbv2_xgboost", _XGB, ("booster",)),
    _rbv2("rbv2_svm", ("cost", "gamma", "tolerance", "degree"), ("kernel",)),
    _rbv2("rbv2_aknn", ("k", "M", "ef", "ef_construction"), ("distance",)),
    _rbv2("rbv2_super",
          ("svm.cost", "svm.gamma", "svm.tolerance", "svm.degree", "glmnet.alpha", "glmnet.s", "rpart.cp",
           "rpart.maxdepth", "rpart.minbucket", "rpart.minsplit", "ranger.num.trees", "ranger.sample.fraction",
           "ranger.mtry.power", "ranger.min.node.size", "ranger.num.random.splits", "aknn.k", "aknn.M", "aknn.ef",
           "aknn.ef_construction") + tuple(f"xgboost.{name}" for name in _XGB),
          ("learner_id", "svm.kernel", "ranger.respect.unordered.factors", "ranger.splitrule", "aknn.distance",
           "xgboost.booster")),
]

SCENARIOS: dict[str, ScenarioFacts] = {facts.name: facts for facts in _ALL}

#: every scenario of yahpo_data v1.0.2 that this package knows
YAHPO_SCENARIOS: tuple[str, ...] = tuple(SCENARIOS)

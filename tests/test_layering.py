"""The packages keep their layers, checked on the source (every import statement, also inside functions) and
at run time (what importing a package and all its modules loads, in a fresh interpreter):

    searchspace  <-  blackbox_repository, methods (not each other)  <-  simulator  <-  experiments  <-  plotting

``plotting`` reads what ``experiments`` writes through ``experiments.store_format`` only: it loads neither the
benchmark repository, the methods and the simulator, nor the experiment runner and benchmark registry.
Inside every package the modules import each other without cycles.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.import_graph import PACKAGES, ROOT, find_cycle, internal_graph, package_imports, within

#: what the modules of each package must never import (module prefixes)
FORBIDDEN = {
    "searchspace": ("blackbox_repository", "methods", "simulator", "experiments", "plotting"),
    "blackbox_repository": ("methods", "simulator", "experiments", "plotting"),
    "methods": ("blackbox_repository", "simulator", "experiments", "plotting"),
    "simulator": ("experiments", "plotting"),
    "experiments": ("plotting",),
    # experiments.store is the writer: it needs the simulator
    "plotting": (
        "methods",
        "simulator",
        "blackbox_repository",
        "experiments.run",
        "experiments.benchmarks",
        "experiments.store",
    ),
}
#: the modules the plotting layer is used through; importing them must stay light
PLOTTING_ENTRY_POINTS = (
    "plotting",
    "plotting.load",
    "plotting.figure",
    "plotting.figures",
    "plotting.tables",
    "plotting.stats",
    "plotting.paired",
)
#: import names of the optional extras in pyproject.toml (fcnet, yahpo, s3, xgboost, plot); a module that
#: needs a missing one is skipped at run time (CI installs them all, so there nothing is skipped)
OPTIONAL_IMPORTS = {"h5py", "onnxruntime", "s3fs", "fsspec", "botocore", "boto3", "xgboost", "matplotlib", "scipy"}

_IMPORT_ALL = """
import importlib, json, pkgutil, sys
package, extra, optional = sys.argv[1], sys.argv[2].split(",") if sys.argv[2] else [], set(sys.argv[3].split(","))
skipped = []
def load(name):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in optional:
            raise
        skipped.append(f"{name} (needs {error.name})")
root = importlib.import_module(package)
for name in extra:
    load(name)
names = [info.name for info in pkgutil.walk_packages(root.__path__, package + ".", onerror=lambda name: None)]
for name in names:
    load(name)
print(json.dumps({"modules": sorted(sys.modules), "skipped": skipped}))
"""


def test_every_package_has_its_rules():
    assert set(FORBIDDEN) == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_of_a_higher_or_sibling_layer_in_the_source(package):
    bad = [
        f"{item.where()} imports {item.target}"
        for item in package_imports(package)
        if any(within(item.target, prefix) for prefix in FORBIDDEN[package])
    ]
    assert not bad, f"{package} must not import {', '.join(FORBIDDEN[package])}:\n" + "\n".join(bad)


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_package_and_all_its_modules_loads_no_higher_layer(package):
    extra = PLOTTING_ENTRY_POINTS if package == "plotting" else ()
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, package, ",".join(extra), ",".join(sorted(OPTIONAL_IMPORTS))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    loaded = [
        module for module in found["modules"] if any(within(module, prefix) for prefix in FORBIDDEN[package])
    ]
    assert not loaded, f"importing {package} and its modules loads {', '.join(loaded)}"
    if found["skipped"]:
        pytest.skip("optional dependency missing, not imported: " + "; ".join(found["skipped"]))


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(package):
    cycle = find_cycle(internal_graph(package))
    assert cycle is None, f"import cycle in {package}: {' -> '.join(cycle or [])}"


def test_cycle_detection_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None

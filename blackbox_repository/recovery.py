"""How to recover a stored benchmark that is corrupt, missing a file or of an old format, for each kind.

Deleting the directory only helps a benchmark the repository can build again: a converted one (NASBench-201,
FCNet, LCBench) is converted again on next use. An embedded benchmark comes with the package, and an imported
or tabulated one exists nowhere else: deleting it loses it. ``recovery_advice`` says what works for each kind.
"""

from __future__ import annotations

import importlib.util
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from blackbox_repository.locations import EMBEDDED_DIR

#: metadata key of the command line that re-imports an imported benchmark (written by ``import_table``)
IMPORT_COMMAND_KEY = "import_command"


def recovery_advice(directory: Path, metadata: Mapping[str, Any] | None = None, *, converted: bool = False) -> str:
    """What to do about a broken benchmark at ``directory``.

    Args:
        directory: the benchmark's directory (its name is the benchmark's).
        metadata: its free-form metadata, if readable (it tells an imported or tabulated benchmark).
        converted: a registered converter builds it (``GENERATORS``).
    """
    name = directory.name
    facts = dict(metadata or {})
    if directory.resolve().parent == EMBEDDED_DIR.resolve():
        module = f"blackbox_repository.embedded.{name.replace('-', '_')}"
        regenerate = (
            f", or regenerate it with python -m {module}" if importlib.util.find_spec(module) is not None else ""
        )
        return (
            f"{name!r} is embedded in the package: reinstall it (pip install --force-reinstall --no-deps "
            f"hpo-workbench), or in a clone restore it with git checkout -- blackbox_repository/data/{name}"
            f"{regenerate}"
        )
    if converted:
        return (
            f"{name!r} is converted from its original file: delete {directory} and convert it again with "
            f"python -m blackbox_repository.convert {name} (add --source_path FILE for a local copy)"
        )
    if facts.get(IMPORT_COMMAND_KEY):
        return (
            f"{name!r} was imported from a table and exists nowhere else: re-import it from the original table "
            f"with {facts[IMPORT_COMMAND_KEY]}"
        )
    if facts.get("imported_at"):
        source = facts.get("source", "a table")
        how = (
            f": call import_table(frame, name={name!r}, ..., repository=...) on that table again"
            if source == "a DataFrame"
            else f" with python -m blackbox_repository.import_table FILE --name {shlex.quote(name)} ..."
        )
        return f"{name!r} was imported from {source} and exists nowhere else: re-import it{how}"
    if facts.get("tabulated_at"):
        return (
            f"{name!r} was made by blackbox_repository.tabulate and exists nowhere else: run tabulate again (its "
            "checkpoint skips completed tasks) and store the result under the same name"
        )
    return (
        f"recreate {name!r} the way it was made (deleting {directory} alone loses it unless it is a converted "
        "benchmark: python -m blackbox_repository.convert NAME)"
    )

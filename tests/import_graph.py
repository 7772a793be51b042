"""The project's import statements read from the source (AST): every ``import`` and ``from ... import``, at
module level, inside functions and classes and under ``if TYPE_CHECKING`` alike. Used by the layering tests."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the project's packages, lowest layer first
PACKAGES = ("searchspace", "blackbox_repository", "methods", "simulator", "experiments", "plotting")


@dataclass(frozen=True)
class Import:
    """``module`` imports ``target`` at ``line`` (``target``: the most specific project module it names)."""

    module: str
    target: str
    line: int

    def where(self) -> str:
        return f"{self.module.replace('.', '/')}.py:{self.line}"


def package_files(package: str) -> Iterator[Path]:
    """Every .py file of ``package`` (sub-packages included), sorted."""
    yield from sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(name: str) -> bool:
    """True if ``name`` is a module or package of the repository."""
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    """The imports in ``path``; ``from a import b`` names ``a.b`` if that is a module, else ``a``."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                target = f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base
                found.append(Import(module, target, node.lineno))
    return found


def package_imports(package: str) -> list[Import]:
    return [item for path in package_files(package) for item in imports_of(path)]


def within(name: str, prefix: str) -> bool:
    """True if module ``name`` is ``prefix`` or inside it."""
    return name == prefix or name.startswith(prefix + ".")


def internal_graph(package: str) -> dict[str, set[str]]:
    """Module -> modules of the same package it imports (a module importing itself, e.g. in its
    ``if __name__ == "__main__"`` block, is no dependency and left out)."""
    graph: dict[str, set[str]] = {module_name(path): set() for path in package_files(package)}
    for item in package_imports(package):
        if within(item.target, package) and item.target != item.module and item.target in graph:
            graph[item.module].add(item.target)
    return graph


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as [a, b, ..., a], or None if it is acyclic (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None

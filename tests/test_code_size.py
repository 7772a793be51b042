"""Small files and functions: no Python file over 800 lines, no function or method over 100 lines.

A function's length runs from its ``def`` line to its last line (decorators excluded), nested functions
included. Virtual environments, build output and hidden directories (``.git``, ``.venv``, ...) are not ours.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 100
SKIPPED_DIRS = {"__pycache__", "build", "dist", "node_modules", "site-packages"}


def python_files(root: Path = ROOT) -> Iterator[Path]:
    """Every .py file under ``root`` outside hidden directories, build output and virtual environments."""
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = sorted(
            name
            for name in subdirs
            if not name.startswith(".")
            and name not in SKIPPED_DIRS
            and not name.endswith(".egg-info")
            and not (Path(directory, name) / "pyvenv.cfg").exists()
        )
        yield from (Path(directory, name) for name in sorted(files) if name.endswith(".py"))


def long_functions(path: Path) -> Iterator[tuple[str, int, int]]:
    """(qualified name, line, length) of every function or method of ``path`` longer than the limit."""

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                length = child.end_lineno - child.lineno + 1  # type: ignore[operator]
                if length > MAX_FUNCTION_LINES:
                    yield name[:-1], child.lineno, length
            yield from visit(child, name)

    yield from visit(ast.parse(path.read_text(), str(path)), "")


def test_the_walk_finds_the_packages_and_skips_virtual_environments(tmp_path):
    found = {path.relative_to(ROOT).as_posix() for path in python_files()}
    assert {"plotting/load.py", "tests/test_code_size.py", "blackbox_repository/repository.py"} <= found
    (tmp_path / "venv" / "lib").mkdir(parents=True)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "venv" / "lib" / "big.py").write_text("x = 1\n" * 900)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "big.py").write_text("x = 1\n" * 900)
    (tmp_path / "mine.py").write_text("x = 1\n")
    assert [path.name for path in python_files(tmp_path)] == ["mine.py"]


def test_long_functions_are_measured_from_def_to_last_line(tmp_path):
    body = "".join(f"        x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    path = tmp_path / "long.py"
    path.write_text("class A:\n    @staticmethod\n    def f():\n" + body + "\n\ndef g():\n    pass\n")
    assert list(long_functions(path)) == [("A.f", 3, MAX_FUNCTION_LINES + 1)]


def test_no_file_over_800_lines():
    too_long = []
    for path in python_files():
        lines = len(path.read_text().splitlines())
        if lines > MAX_FILE_LINES:
            too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert not too_long, f"files over {MAX_FILE_LINES} lines (split them into modules with one job):\n" + "\n".join(
        too_long
    )


def test_no_function_over_100_lines():
    too_long = [
        f"{path.relative_to(ROOT)}:{line} {name}: {length} lines"
        for path in python_files()
        for name, line, length in long_functions(path)
    ]
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines (split them into named steps):\n" + "\n".join(
        too_long
    )

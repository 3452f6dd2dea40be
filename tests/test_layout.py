"""The tests' own layout: shared code lives in tests/harness/, fixtures in conftest.py.

A module under tests/ imports what it shares from tests/harness/ (or tests/fakes.py), never from
conftest.py (pytest finds the fixtures there) or from a test module.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _harness_names() -> dict[str, str]:
    """Return the harness module defining each top-level name, for the failure message."""
    where: dict[str, str] = {}
    for path in (TESTS / "harness").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets: list[str] = []
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                targets = [node.name]
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                assigned = node.targets if isinstance(node, ast.Assign) else [node.target]
                targets = [t.id for t in assigned if isinstance(t, ast.Name)]
            for name in targets:
                where[name] = f"tests.harness.{path.stem}"
    return where


def _imported_test_module(node: ast.ImportFrom | ast.Import, package: str) -> str | None:
    """Return the test module or conftest an import names, if it names one."""
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    elif node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        modules = [".".join([*base, node.module] if node.module else base)]
        modules += [f"{modules[0]}.{alias.name}" for alias in node.names]
    else:
        modules = [node.module or ""]
    for module in modules:
        parts = module.split(".")
        if parts[0] == "tests" and any(p == "conftest" or p.startswith("test_") for p in parts):
            return module
    return None


def test_no_module_imports_a_test_module_or_conftest() -> None:
    """Shared helpers come from tests/harness/; each wrong import names where its names live."""
    where = _harness_names()
    wrong = []
    for path in sorted([*TESTS.glob("*.py"), *(TESTS / "harness").glob("*.py")]):
        package = "tests.harness" if path.parent.name == "harness" else "tests"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            module = _imported_test_module(node, package)
            if module is None:
                continue
            names = [alias.name for alias in node.names]
            homes = {name: where.get(name, "?") for name in names}
            wrong.append(f"{path.relative_to(TESTS)}:{node.lineno} imports {module}: {homes}")
    assert wrong == []

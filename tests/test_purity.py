"""The procedure's rules stay pure: their modules never import Home Assistant."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "custom_components" / "heat_pump_reset"
# The rules, the run and its settings: table-tested without Home Assistant.
PURE = [
    "sequence.py",
    "run.py",
    "running.py",
    "settings.py",
    "history.py",
    "const.py",
    "proof.py",
    "faults.py",
    "stored.py",
    "outage.py",
    "salvage.py",
    "warmup.py",
]


def _imports(source: str) -> list[str]:
    """Return every module a source imports, relative ones as written (".run")."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append("." * node.level + (node.module or ""))
    return found


def _homeassistant(imports: list[str]) -> list[str]:
    return [name for name in imports if name.split(".")[0] in {"homeassistant", "voluptuous"}]


@pytest.mark.parametrize("module", PURE)
def test_rules_import_no_home_assistant(module: str) -> None:
    """A pure module imports neither Home Assistant nor a module of ours that is not pure."""
    imports = _imports((PACKAGE / module).read_text(encoding="utf-8"))
    assert _homeassistant(imports) == []
    ours = {name.lstrip(".") + ".py" for name in imports if name.startswith(".")}
    assert ours <= set(PURE), f"{module} imports {sorted(ours - set(PURE))}"


def test_the_check_sees_home_assistant_imports() -> None:
    """The check itself finds the imports it looks for, however they are written."""
    source = (
        "import homeassistant\n"
        "from homeassistant.core import State\n"
        "def f():\n    import homeassistant.util.dt\n"
        "from . import thermostat\n"
    )
    imports = _imports(source)
    assert _homeassistant(imports) == [
        "homeassistant",
        "homeassistant.core",
        "homeassistant.util.dt",
    ]
    assert "." in imports

"""The integration's own files as the static checks read them (test_strings.py, test_validation.py)."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import string
from typing import Any

import custom_components.heat_pump_reset as integration

COMPONENT = Path(integration.__file__).parent
ROOT = COMPONENT.parent.parent
MANIFEST: dict[str, Any] = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
TRANSLATIONS = COMPONENT / "translations"
# The parsed modules of the package, by file name.
SOURCES: dict[str, ast.Module] = {
    path.name: ast.parse(path.read_text(encoding="utf-8")) for path in COMPONENT.glob("*.py")
}


def placeholders(text: str) -> set[str]:
    """Return the `{name}` placeholders of a text."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}

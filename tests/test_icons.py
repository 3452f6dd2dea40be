"""Every mdi icon the project names exists in the icon set of the frontend the tested HA ships.

The frontend draws an icon it does not know as a blank square (issue 15: `mdi:thermostat-off` is not
in HA 2025.4's icon set). Each test leg installs the frontend its Home Assistant pins
(requirements_test.txt: 20250411.0 with HA 2025.4.4, 20260930.5 with HA 2026.10.4), so the two CI
legs together check both versions. The frontend ships its Material Design icon list as
hass_frontend/static/mdi/iconList.json (the same names as its icon chunks, which it draws from).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
import json
from pathlib import Path
import re

from packaging.requirements import Requirement
import pytest

import custom_components.heat_pump_reset as integration

REPO = Path(__file__).parent.parent
COMPONENT = Path(integration.__file__).parent
MDI = re.compile(r"mdi:[a-z0-9]+(?:-[a-z0-9]+)*")
# Where the project names icons: the integration (icons.json, any `icon` in code), the blueprints,
# the demo's configuration and dashboard, and the dashboard YAML the README and docs tell people
# to paste.
SOURCES = [
    *COMPONENT.glob("*.json"),
    *COMPONENT.glob("*.py"),
    *COMPONENT.glob("*.yaml"),
    *(REPO / "blueprints").rglob("*.yaml"),
    *(REPO / "scripts" / "demo_config").glob("*.yaml"),
    REPO / "README.md",
    *(REPO / "docs").glob("*.md"),
]


def frontend_icons() -> set[str]:
    """Return the mdi icon names of the installed Home Assistant frontend, as `mdi:name`."""
    try:
        import hass_frontend
    except ImportError:
        pytest.fail(
            "home-assistant-frontend is not installed: run scripts/setup (requirements_test.txt)"
        )
    icon_list = Path(hass_frontend.where()) / "static" / "mdi" / "iconList.json"
    names = {f"mdi:{icon['name']}" for icon in json.loads(icon_list.read_text(encoding="utf-8"))}
    assert len(names) > 5000, f"{icon_list} lists only {len(names)} icons"
    return names


def used_icons() -> dict[str, list[str]]:
    """Return each mdi icon the project names, with the files that name it."""
    used: dict[str, list[str]] = {}
    for path in SOURCES:
        for icon in MDI.findall(path.read_text(encoding="utf-8")):
            used.setdefault(icon, []).append(str(path.relative_to(REPO)))
    return used


def test_installed_frontend_is_the_one_home_assistant_pins() -> None:
    """The icon set checked is the one users of this Home Assistant see."""
    import homeassistant.components.frontend as frontend

    manifest = json.loads((Path(frontend.__file__).parent / "manifest.json").read_text())
    pinned = Requirement(manifest["requirements"][0])
    assert pinned.name == "home-assistant-frontend"
    try:
        installed = version(pinned.name)
    except PackageNotFoundError:
        pytest.fail(f"{pinned} is not installed: run scripts/setup (requirements_test.txt)")
    assert pinned.specifier.contains(installed), (
        f"home-assistant-frontend {installed} installed, Home Assistant pins {pinned}: "
        "fix its pin in requirements_test.txt"
    )


def test_every_icon_exists_in_the_frontend() -> None:
    """No icon the project names is missing from the frontend (it would show blank)."""
    known = frontend_icons()
    used = used_icons()
    assert "mdi:heat-pump-outline" in used  # the scan finds icons.json's icons
    missing = {icon: files for icon, files in used.items() if icon not in known}
    assert missing == {}, (
        f"icons missing from home-assistant-frontend {version('home-assistant-frontend')}"
    )


def test_the_check_rejects_unknown_icons() -> None:
    """The icon list is read right: a made-up name is not in it, a common one is."""
    known = frontend_icons()
    assert "mdi:thermostat" in known
    assert "mdi:heat-pump-reset-no-such-icon" not in known

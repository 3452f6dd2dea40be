"""What hassfest and HACS would check, which cannot run on a custom integration here.

The manifest (keys, order, values, dependencies), hacs.json, the brand icons, quality_scale.yaml and
the README's tier. Texts and translations are checked in test_strings.py.
"""

from __future__ import annotations

import ast
import json
import re
import struct
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
import pytest
import yaml

from custom_components.heat_pump_reset.const import DOMAIN

from .harness.integration_files import COMPONENT, MANIFEST, ROOT, SOURCES

# The rule ids of home-assistant/core script/hassfest/quality_scale.py (ALL_RULES, 2026): 20 bronze,
# 10 silver, 21 gold, 3 platinum. Listing them turns a missing rule into a failure.
RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}

# Keys hassfest's manifest schema accepts for a custom integration.
MANIFEST_KEYS = {
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "domain",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "name",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
# Keys the HACS hacs.json schema accepts.
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}


# --- Quality scale --------------------------------------------------------------------------


def test_quality_scale_lists_every_rule_done_or_exempt() -> None:
    """quality_scale.yaml has each rule exactly once, none todo; each exemption says why."""
    scale = yaml.safe_load((COMPONENT / "quality_scale.yaml").read_text(encoding="utf-8"))
    rules: dict[str, Any] = scale["rules"]
    expected = [rule for tier in RULES.values() for rule in tier]
    assert len(expected) == len(set(expected)) == 54
    assert sorted(rules) == sorted(expected)
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "exempt"}, rule
        if status == "exempt":
            assert isinstance(value, dict), rule
            assert value.get("comment", "").strip(), rule


def test_readme_shows_the_tier_and_languages() -> None:
    """The README names the tier reached and the languages shipped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Platinum" in readme
    for language in ("English", "Deutsch", "Nederlands", "Français"):
        assert language in readme


# --- Manifest and HACS ----------------------------------------------------------------------


def test_manifest_has_only_known_keys_and_no_unused_requirements() -> None:
    """No key hassfest would reject; no requirements (the code imports nothing outside HA)."""
    assert set(MANIFEST) <= MANIFEST_KEYS
    assert MANIFEST["requirements"] == []
    allowed_roots = {"homeassistant", "voluptuous", "__future__"}
    stdlib = set(__import__("sys").stdlib_module_names)
    for module, tree in SOURCES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= allowed_roots | stdlib, (module, roots)


def test_manifest_dependencies_are_used_components() -> None:
    """Each dependency is a Home Assistant component the code imports or needs set up first."""
    imported = {
        node.module.split(".")[2]
        for tree in SOURCES.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("homeassistant.components.")
    } | {
        alias.name
        for tree in SOURCES.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "homeassistant.components"
        for alias in node.names
    }
    assert set(MANIFEST["dependencies"]) <= imported
    for name in MANIFEST["dependencies"] + MANIFEST["after_dependencies"]:
        __import__(f"homeassistant.components.{name}")


def test_setup_and_config_flow_match_the_manifest() -> None:
    """config_flow: true has config_flow.py; async_setup comes with CONFIG_SCHEMA (hassfest)."""
    assert MANIFEST["config_flow"] is True
    assert (COMPONENT / "config_flow.py").is_file()
    init = SOURCES["__init__.py"]
    names = {
        node.name for node in init.body if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef)
    }
    assigned = {
        target.id
        for node in init.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "async_setup" in names
    assert "CONFIG_SCHEMA" in assigned


def test_manifest_key_order() -> None:
    """The manifest lists domain, then name, then the other keys alphabetically (hassfest's order)."""
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_content() -> None:
    """The manifest has every key a custom helper integration needs, with the right values."""
    assert MANIFEST["domain"] == DOMAIN == COMPONENT.name
    assert MANIFEST["name"]
    assert MANIFEST["iot_class"] == "calculated"
    assert MANIFEST["integration_type"] == "helper"
    assert MANIFEST["documentation"].startswith("https://")
    assert MANIFEST["issue_tracker"].startswith("https://")
    assert MANIFEST["codeowners"]
    assert all(re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", owner) for owner in MANIFEST["codeowners"])
    version = AwesomeVersion(MANIFEST["version"])
    assert version.strategy in {
        AwesomeVersionStrategy.SEMVER,
        AwesomeVersionStrategy.SIMPLEVER,
        AwesomeVersionStrategy.CALVER,
        AwesomeVersionStrategy.PEP440,
    }
    # The power notification needs persistent_notification set up before us.
    assert "persistent_notification" in MANIFEST["dependencies"]


def test_hacs_json() -> None:
    """hacs.json has a name, a minimum Home Assistant version and no unknown keys."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == MANIFEST["name"]
    assert hacs["homeassistant"] == "2025.4.4"
    assert (ROOT / "LICENSE").is_file()


@pytest.mark.parametrize(("name", "size"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_brand_icons(name: str, size: int) -> None:
    """The brand icons are square PNGs of the sizes the brands rules ask for."""
    data = (COMPONENT / "brand" / name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (size, size)

"""What hassfest and HACS would check, which cannot run on a custom integration here.

Texts, icons, actions and the manifest's basic values are pinned in test_strings.py; this module adds
the rest: manifest keys and dependencies, hacs.json, the brand icon, quality_scale.yaml, and every
translation checked key for key against English.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
import string
import struct
from typing import Any

import pytest
import yaml

import custom_components.heat_pump_reset as integration
from custom_components.heat_pump_reset import const

COMPONENT = Path(integration.__file__).parent
ROOT = COMPONENT.parent.parent
MANIFEST: dict[str, Any] = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
TRANSLATIONS = COMPONENT / "translations"
LANGUAGES = ("de", "fr", "nl")

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


def _sources() -> dict[str, ast.Module]:
    """Return the parsed modules of the package."""
    return {
        path.name: ast.parse(path.read_text(encoding="utf-8")) for path in COMPONENT.glob("*.py")
    }


def _leaves(node: Any, path: str = "") -> dict[str, str]:
    """Return every text of a translation file by its dotted key."""
    if isinstance(node, dict):
        found: dict[str, str] = {}
        for key, value in node.items():
            found.update(_leaves(value, f"{path}.{key}" if path else key))
        return found
    assert isinstance(node, str), path
    return {path: node}


def _placeholders(text: str) -> set[str]:
    """Return the `{name}` placeholders of a text."""
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


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
    for module, tree in _sources().items():
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
        for tree in _sources().values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("homeassistant.components.")
    } | {
        alias.name
        for tree in _sources().values()
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
    init = _sources()["__init__.py"]
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


# --- Translations ---------------------------------------------------------------------------


def test_translation_files_are_the_expected_languages() -> None:
    """English plus the three translations ship, and nothing else."""
    assert sorted(path.stem for path in TRANSLATIONS.glob("*.json")) == sorted(["en", *LANGUAGES])


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_matches_english_key_for_key(language: str) -> None:
    """Same keys as en.json, the same placeholders in each text, and no text left in English."""
    english = _leaves(json.loads((TRANSLATIONS / "en.json").read_text(encoding="utf-8")))
    other = _leaves(json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")))
    assert sorted(set(english) - set(other)) == [], "missing"
    assert sorted(set(other) - set(english)) == [], "extra"
    mismatched = {
        key: (sorted(_placeholders(text)), sorted(_placeholders(other[key])))
        for key, text in english.items()
        if _placeholders(text) != _placeholders(other[key])
    }
    assert mismatched == {}
    assert all(text.strip() for text in other.values())
    # Texts that read the same in every language are short names (Thermostat, Limit, ...).
    same = [key for key, text in english.items() if other[key] == text and len(text) > 20]
    assert same == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_keeps_home_assistant_untranslated(language: str) -> None:
    """Wherever English says Home Assistant, the translation does too."""
    english = _leaves(json.loads((TRANSLATIONS / "en.json").read_text(encoding="utf-8")))
    other = _leaves(json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8")))
    for key, text in english.items():
        if "Home Assistant" in text:
            assert "Home Assistant" in other[key], key


# --- Repairs --------------------------------------------------------------------------------


def _issue_keys_in_code() -> set[str]:
    """Return the translation keys of the repair issues the code creates."""
    keys: set[str] = set()
    for module, tree in _sources().items():
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute | ast.Name)
                and (getattr(node.func, "attr", None) or getattr(node.func, "id", None))
                == "async_create_issue"
            ):
                continue
            key = next((kw.value for kw in node.keywords if kw.arg == "translation_key"), None)
            if isinstance(key, ast.Constant):
                keys.add(key.value)
                continue
            # issues.py raises every issue through one helper: its keys are const.ISSUE_*.
            assert module == "issues.py", f"{module}:{node.lineno} key is not a literal"
            keys |= {value for name, value in vars(const).items() if name.startswith("ISSUE_")}
    return keys


def test_repair_issues_and_fix_flows_are_translated() -> None:
    """Each issue the code raises has a title, and a description or a fix flow whose steps are titled."""
    issues: dict[str, Any] = STRINGS.get("issues", {})
    assert _issue_keys_in_code() == set(issues)
    for key, texts in issues.items():
        assert texts.get("title"), key
        fix_flow = texts.get("fix_flow")
        assert texts.get("description") or fix_flow, key
        if fix_flow is not None:
            assert fix_flow["step"], key
            for step, step_texts in fix_flow["step"].items():
                assert step_texts.get("title") or texts.get("title"), f"{key}.{step}"
            for reason in fix_flow.get("abort", {}).values():
                assert reason.strip(), key

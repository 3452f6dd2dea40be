"""Texts, icons and manifest: every key the code uses is translated, and the files agree."""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
import json
from pathlib import Path
import re
import string
from typing import Any

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations
import pytest
import yaml

import custom_components.heat_pump_reset as integration
from custom_components.heat_pump_reset import config_flow
from custom_components.heat_pump_reset.const import DOMAIN
from custom_components.heat_pump_reset.sequence import Outcome, Phase

from .conftest import OUTCOME, PHASE, SWITCH_B, HeatPump, advance, settle, state

COMPONENT = Path(integration.__file__).parent
STRINGS: dict[str, Any] = json.loads((COMPONENT / "strings.json").read_text(encoding="utf-8"))
ICONS: dict[str, Any] = json.loads((COMPONENT / "icons.json").read_text(encoding="utf-8"))
MANIFEST: dict[str, Any] = json.loads((COMPONENT / "manifest.json").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = yaml.safe_load((COMPONENT / "services.yaml").read_text(encoding="utf-8"))
SOURCES = {
    path.name: ast.parse(path.read_text(encoding="utf-8")) for path in COMPONENT.glob("*.py")
}
# Attributes Home Assistant adds itself; they need no translation of ours.
HA_ATTRIBUTES = {"device_class", "friendly_name", "icon", "options"}


def placeholders(message: str) -> set[str]:
    """Return the `{name}` placeholders of a translated message."""
    return {name for _text, name, _spec, _conv in string.Formatter().parse(message) if name}


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """Return a call's keyword argument, if given."""
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def calls(tree: ast.AST) -> Iterator[ast.Call]:
    """Yield every call in a syntax tree."""
    yield from (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def translated_exceptions() -> list[tuple[str, str, set[str]]]:
    """Return (module, translation_key, placeholder names) of every translated exception raised."""
    found = []
    for module, tree in SOURCES.items():
        for call in calls(tree):
            key = keyword(call, "translation_key")
            if key is None or keyword(call, "translation_domain") is None:
                continue
            assert isinstance(key, ast.Constant), f"{module}:{call.lineno} key is not a literal"
            given = keyword(call, "translation_placeholders")
            names: set[str] = set()
            if given is not None:
                assert isinstance(given, ast.Dict), f"{module}:{call.lineno} placeholders"
                names = {k.value for k in given.keys if isinstance(k, ast.Constant)}
                assert len(names) == len(given.keys), f"{module}:{call.lineno} non-literal name"
            found.append((module, key.value, names))
    return found


def formatted_exception_texts(func: str = "notice") -> list[tuple[str, str, set[str]]]:
    """Return (module, key, placeholder names) of every `notice(key, ...)` made for a notification.

    With `func="phrase"`: the texts of logbook lines (logbook.py).
    """
    found = []
    for module, tree in SOURCES.items():
        for call in calls(tree):
            if not (isinstance(call.func, ast.Name) and call.func.id == func):
                continue
            key = call.args[0]
            assert isinstance(key, ast.Constant), f"{module}:{call.lineno} key is not a literal"
            names = {kw.arg for kw in call.keywords}
            assert None not in names, f"{module}:{call.lineno} placeholders passed as **kwargs"
            found.append((module, key.value, names))
    return found


def walk_strings(node: Any) -> Iterator[str]:
    """Yield every string leaf of a JSON document."""
    if isinstance(node, dict):
        for value in node.values():
            yield from walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_strings(value)
    else:
        assert isinstance(node, str), node
        yield node


# --- Files agree ----------------------------------------------------------------------------


def test_english_translation_is_strings_json() -> None:
    """translations/en.json is a copy of strings.json (HA loads en.json for custom integrations)."""
    english = json.loads((COMPONENT / "translations" / "en.json").read_text(encoding="utf-8"))
    assert english == STRINGS


def test_texts_are_non_empty() -> None:
    """No translated text is blank."""
    assert all(text.strip() for text in walk_strings(STRINGS))


def test_icons_are_material_design_icons() -> None:
    """Every icon in icons.json is an mdi: icon."""
    icons = list(walk_strings(ICONS))
    assert icons
    assert [icon for icon in icons if not re.fullmatch(r"mdi:[a-z0-9]+(-[a-z0-9]+)*", icon)] == []


# --- Actions --------------------------------------------------------------------------------


def test_services_and_fields_are_named_and_described() -> None:
    """Each action in services.yaml, and each of its fields, has a name and description; no extras."""
    assert set(STRINGS["services"]) == set(SERVICES)
    for service, spec in SERVICES.items():
        texts = STRINGS["services"][service]
        assert texts["name"], service
        assert texts["description"], service
        assert set(texts.get("fields", {})) == set(spec.get("fields") or {}), service
        for field, field_texts in texts.get("fields", {}).items():
            assert field_texts["name"], f"{service}.{field}"
            assert field_texts["description"], f"{service}.{field}"


def test_services_have_icons() -> None:
    """Each action has an icon."""
    assert set(ICONS["services"]) == set(SERVICES)
    assert all(ICONS["services"][name]["service"] for name in SERVICES)


async def test_registered_actions_are_the_documented_ones(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The actions the integration registers are exactly those services.yaml describes."""
    assert set(hass.services.async_services()[DOMAIN]) == set(SERVICES)


# --- Entities -------------------------------------------------------------------------------


async def test_every_entity_is_translated_and_has_an_icon(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Each of our entities' translation keys has a name and an icon; no text is left unused."""
    registry = er.async_get(hass)
    used: dict[str, set[str]] = {}
    for registered in er.async_entries_for_config_entry(registry, entry.entry_id):
        assert registered.translation_key, registered.entity_id
        used.setdefault(registered.domain, set()).add(registered.translation_key)
    assert used == {
        "binary_sensor": {"running"},
        "button": {"reset", "cancel"},
        "event": {"reset"},
        "sensor": {"phase", "phase_ends_at", "last_outcome", "last_reset", "recent_resets"},
    }
    assert {platform: set(keys) for platform, keys in STRINGS["entity"].items()} == used
    assert {platform: set(keys) for platform, keys in ICONS["entity"].items()} == used
    for platform, keys in used.items():
        for key in keys:
            assert STRINGS["entity"][platform][key]["name"], key
            assert ICONS["entity"][platform][key]["default"], key


def test_entity_translation_keys_in_code_exist() -> None:
    """Every entity translation_key literal in the code names a translated entity."""
    entity_keys = {key for keys in STRINGS["entity"].values() for key in keys}
    literals = {
        key.value
        for tree in SOURCES.values()
        for call in calls(tree)
        if keyword(call, "translation_domain") is None
        # Repair issues name their domain positionally; test_validation.py checks their keys.
        and not (isinstance(call.func, ast.Attribute) and call.func.attr == "async_create_issue")
        and isinstance(key := keyword(call, "translation_key"), ast.Constant)
    }
    assert literals
    assert literals <= entity_keys


@pytest.mark.parametrize(
    ("key", "values"),
    [("phase", [p.value for p in Phase]), ("last_outcome", [o.value for o in Outcome])],
)
def test_every_phase_and_outcome_has_a_text_and_an_icon(key: str, values: list[str]) -> None:
    """Each Phase and Outcome value has a state translation and a state icon, and nothing more."""
    assert set(STRINGS["entity"]["sensor"][key]["state"]) == set(values)
    assert set(ICONS["entity"]["sensor"][key]["state"]) == set(values)


async def test_enum_sensor_options_are_translated(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The options the phase and outcome sensors announce are exactly the translated states."""
    for entity_id, key in ((PHASE, "phase"), (OUTCOME, "last_outcome")):
        options = state(hass, entity_id).attributes["options"]
        assert set(options) == set(STRINGS["entity"]["sensor"][key]["state"]), entity_id


async def test_sensor_attributes_are_translated(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The attributes the phase (during a run) and outcome (after one) sensors show are translated."""
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id, "reason": "test"}, blocking=True
    )
    await settle(hass)
    phase_attributes = set(state(hass, PHASE).attributes) - HA_ATTRIBUTES
    assert phase_attributes == {"run_id", "trigger", "reason"}
    assert phase_attributes <= set(STRINGS["entity"]["sensor"]["phase"]["state_attributes"])

    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, timedelta(minutes=6), step=timedelta(seconds=5))
    assert state(hass, OUTCOME).state == "cancelled"
    outcome_attributes = set(state(hass, OUTCOME).attributes) - HA_ATTRIBUTES
    assert outcome_attributes == {
        "run_id",
        "finished_at",
        "detail",
        "thermostat_restored",
        "thermostat_detail",
    }
    assert outcome_attributes <= set(
        STRINGS["entity"]["sensor"]["last_outcome"]["state_attributes"]
    )


# --- Exceptions -----------------------------------------------------------------------------


def test_every_exception_key_is_translated_and_used() -> None:
    """Each translation_key raised (or formatted into a notice) has a message; none is unused."""
    raised = {key for _module, key, _names in translated_exceptions()}
    formatted = {key for _func, key, _names in formatted_exception_texts()}
    assert raised
    assert formatted == {
        "power_not_restored",
        "power_left_off",
        "thermostat_left_off",
        "thermostat_not_restored",
        "stored_run_unreadable",
        "run_failed",
        "switch_away_during_wait",
    }
    logbook = {key for _func, key, _names in formatted_exception_texts("phrase")}
    assert logbook
    assert all(key.startswith("logbook_") for key in logbook)
    assert set(STRINGS["exceptions"]) == raised | formatted | logbook
    assert all(STRINGS["exceptions"][key]["message"] for key in raised | formatted | logbook)


def test_exception_placeholders_match_the_code() -> None:
    """Each message's placeholders are exactly the names the code passes for it."""
    found = (
        translated_exceptions() + formatted_exception_texts() + formatted_exception_texts("phrase")
    )
    mismatches = [
        (where, key, sorted(names), sorted(placeholders(STRINGS["exceptions"][key]["message"])))
        for where, key, names in found
        if names != placeholders(STRINGS["exceptions"][key]["message"])
    ]
    assert mismatches == []


async def _entry_not_found(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": "no_such_entry"}, blocking=True
    )


async def _entry_not_loaded(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )


async def _already_running(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )


async def _entity_unavailable(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    pump.switch_b.set_available(False)
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )


async def _discharge_out_of_range(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    await hass.services.async_call(
        DOMAIN,
        "start_reset",
        {"config_entry_id": entry.entry_id, "discharge_minutes": 29},
        blocking=True,
    )


async def _nothing_running(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )


async def _no_heat_pump(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    await hass.services.async_call(DOMAIN, "start_reset", {}, blocking=True)


async def _not_a_heat_pump(hass: HomeAssistant, entry: ConfigEntry, pump: HeatPump) -> None:
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"entity_id": "climate.living_room"}, blocking=True
    )


@pytest.mark.parametrize(
    ("refuse", "key", "expected"),
    [
        (_no_heat_pump, "no_heat_pump", {}),
        (_not_a_heat_pump, "not_a_heat_pump", {"target": "climate.living_room"}),
        (_entry_not_found, "entry_not_found", {"entry_id": "no_such_entry"}),
        (_entry_not_loaded, "entry_not_loaded", {"name": "Heat pump"}),
        (_already_running, "already_running", {"name": "Heat pump", "phase": "Discharging"}),
        (_entity_unavailable, "entity_unavailable", {"entity_id": SWITCH_B}),
        (
            _discharge_out_of_range,
            "discharge_out_of_range",
            {"value": "29", "minimum": "30", "maximum": "240"},
        ),
        (_nothing_running, "nothing_running", {"name": "Heat pump"}),
    ],
    ids=[
        "no_heat_pump",
        "not_a_heat_pump",
        "entry_not_found",
        "entry_not_loaded",
        "already_running",
        "entity_unavailable",
        "discharge_out_of_range",
        "nothing_running",
    ],
)
async def test_refusals_render_a_full_message(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    refuse: Callable[[HomeAssistant, ConfigEntry, HeatPump], Awaitable[None]],
    key: str,
    expected: dict[str, str],
) -> None:
    """Each refusal carries our key and placeholders, and HA renders it with every placeholder filled."""
    translations = await async_get_translations(hass, "en", "exceptions", [DOMAIN])
    message = translations[f"component.{DOMAIN}.exceptions.{key}.message"]
    assert message == STRINGS["exceptions"][key]["message"]

    with pytest.raises(ServiceValidationError) as err:
        await refuse(hass, entry, heat_pump)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert (err.value.translation_placeholders or {}) == expected
    assert all(isinstance(value, str) for value in expected.values())
    rendered = str(err.value)
    assert rendered == message.rstrip(".").format(**expected)
    assert "{" not in rendered
    assert all(value in rendered for value in expected.values())


# --- Config, options and reconfigure flows --------------------------------------------------


def _flow_reasons() -> tuple[set[str], set[str]]:
    """Return the form errors and abort reasons config_flow.py can produce."""
    tree = SOURCES["config_flow.py"]
    errors: set[str] = set()
    aborts: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Assign)
            and isinstance(target := node.targets[0], ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id == "errors"
        ):
            assert isinstance(node.value, ast.Constant), node.lineno
            errors.add(node.value.value)
    for call in calls(tree):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else None
        if name == "async_abort":
            reason = keyword(call, "reason")
            assert isinstance(reason, ast.Constant), call.lineno
            aborts.add(reason.value)
        elif name == "_abort_if_unique_id_configured":
            aborts.add("already_configured")
        elif name == "async_update_reload_and_abort" and keyword(call, "reason") is None:
            aborts.add("reconfigure_successful")
    return errors, aborts


def test_flow_errors_and_aborts_are_translated() -> None:
    """Every form error and abort reason of the flows has a text, and every text is used."""
    errors, aborts = _flow_reasons()
    assert errors == {
        "thermostat_not_found",
        "thermostat_no_off",
        "no_switches",
        "duplicate_switches",
        "thermostat_in_use",
        "switch_in_use",
        "sensor_unit",
    }
    assert aborts == {"already_configured", "reconfigure_successful"}
    assert set(STRINGS["config"]["error"]) == errors
    assert set(STRINGS["config"]["abort"]) == aborts
    # The options flow's one error: the sensor's unit can no longer be converted; no aborts.
    assert set(STRINGS["options"]) == {"step", "error"}
    assert set(STRINGS["options"]["error"]) == {"sensor_unit"}


def _field_names(result: dict[str, Any]) -> set[str]:
    """Return the field names of a shown form."""
    return {str(marker.schema) for marker in result["data_schema"].schema}


async def test_every_form_field_has_a_label_and_help(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Each field of the user, reconfigure and options forms has a label and a description."""
    forms = {
        ("config", "user"): await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        ),
        ("config", "reconfigure"): await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
        ),
        ("options", "init"): await hass.config_entries.options.async_init(entry.entry_id),
    }
    for (part, step), result in forms.items():
        assert result["step_id"] == step
        texts = STRINGS[part]["step"][step]
        assert texts["title"], step
        assert texts["description"], step
        fields = _field_names(result)
        sections = {
            str(marker): {str(inner) for inner in validator.schema.schema}
            for marker, validator in result["data_schema"].schema.items()
            if isinstance(validator, section)
        }
        # A section is named and described; its fields are labelled and explained inside it.
        assert set(texts.get("sections", {})) == set(sections), step
        for name, inner in sections.items():
            section_texts = texts["sections"][name]
            assert section_texts["name"], name
            assert section_texts["description"], name
            assert set(section_texts["data"]) == inner, name
            assert set(section_texts["data_description"]) == inner, name
        plain = fields - set(sections)
        assert set(texts.get("data", {})) == plain, step
        assert set(texts.get("data_description", {})) == plain, step
    assert set(STRINGS["config"]["step"]) == {"user", "reconfigure"}
    assert set(STRINGS["options"]["step"]) == {"init"}


def _bounds_in_words(text: str) -> str:
    """Return `text` with thousands separators dropped (100,000 / 100.000 / 100 000 -> 100000)."""
    return re.sub(r"(?<=\d)[,.\u00a0\u202f ](?=\d{3}\b)", "", text)


@pytest.mark.parametrize("language", ["en", "de", "nl", "fr"])
def test_options_say_each_allowed_range_in_words(language: str) -> None:
    """Each options field's help states both ends of the range the form enforces (issue 15, item 5).

    Before, a number out of range only got "Value 10.0 is too small", without the minimum.
    """
    texts = json.loads((COMPONENT / "translations" / f"{language}.json").read_text("utf-8"))
    sections = texts["options"]["step"]["init"]["sections"]
    helps = {
        key: help_ for part in sections.values() for key, help_ in part["data_description"].items()
    }
    bounds = {
        **{key: (low, high) for key, (low, high, _unit) in config_flow._TIMING_BOUNDS.items()},
        **{key: (0, high) for key, (_kind, high) in config_flow._THRESHOLDS.items()},
        **{key: (low, high) for key, (low, high, _unit) in config_flow._LIMIT_BOUNDS.items()},
    }
    assert set(helps) == set(bounds)
    for key, (low, high) in bounds.items():
        numbers = re.findall(r"\d+", _bounds_in_words(helps[key]))
        assert str(int(low)) in numbers, (key, helps[key])
        assert str(int(high)) in numbers, (key, helps[key])


# --- Manifest -------------------------------------------------------------------------------


def test_manifest_key_order() -> None:
    """The manifest lists domain, then name, then the other keys alphabetically (hassfest's order)."""
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_content() -> None:
    """The manifest has every key a custom helper integration needs, with the right values."""
    assert MANIFEST["domain"] == DOMAIN == COMPONENT.name
    assert MANIFEST["name"]
    assert MANIFEST["config_flow"] is True
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


async def test_actions_target_heat_pumps_in_the_ui(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Home Assistant's own loading of services.yaml keeps each action's target picker.

    The UI shows a target picker limited to this integration's entities and devices; a target HA
    found invalid would be dropped (2026.x) or fail the file (2025.4), leaving no picker at all.
    """
    descriptions = await async_get_all_descriptions(hass)
    ours = {"entity": [{"integration": DOMAIN}], "device": [{"integration": DOMAIN}]}
    for name in SERVICES:
        assert descriptions[DOMAIN][name]["target"] == ours, name
        assert "config_entry_id" not in descriptions[DOMAIN][name]["fields"], name

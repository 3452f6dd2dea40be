"""Texts, icons and translations: every key the code uses is translated, and the files agree."""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
import json
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
import pytest
import yaml

from custom_components.heat_pump_reset import config_flow, const
from custom_components.heat_pump_reset.const import DOMAIN
from custom_components.heat_pump_reset.run import Outcome, Phase, Trigger
from custom_components.heat_pump_reset.sequence import INTERNAL_ERROR_PREFIX, Detail, detail_codes

from .harness.driving import advance, settle, state
from .harness.entity_ids import OUTCOME, PHASE, SWITCH_B
from .harness.equipment import HeatPump
from .harness.integration_files import COMPONENT, SOURCES, STRINGS, TRANSLATIONS, placeholders

OUTCOME_EVENT = "event.living_room_reset"
ICONS: dict[str, Any] = json.loads((COMPONENT / "icons.json").read_text(encoding="utf-8"))
SERVICES: dict[str, Any] = yaml.safe_load((COMPONENT / "services.yaml").read_text(encoding="utf-8"))
LANGUAGES = ("de", "fr", "nl")
# Attributes Home Assistant adds itself; they need no translation of ours.
HA_ATTRIBUTES = {"device_class", "friendly_name", "icon", "options"}


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


def _leaves(node: Any, path: str = "") -> dict[str, str]:
    """Return every text of a translation file by its dotted key."""
    if isinstance(node, dict):
        found: dict[str, str] = {}
        for key, value in node.items():
            found.update(_leaves(value, f"{path}.{key}" if path else key))
        return found
    assert isinstance(node, str), path
    return {path: node}


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
        key: (sorted(placeholders(text)), sorted(placeholders(other[key])))
        for key, text in english.items()
        if placeholders(text) != placeholders(other[key])
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
        # Repair issues name their domain positionally; the Repairs tests below check their keys.
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


# Attributes whose value is a code, with every value the code can put there: the frontend shows
# `entity.<platform>.<key>.state_attributes.<attribute>.state.<value>` in the user's language.
ENUM_ATTRIBUTES: list[tuple[str, str, str, list[str]]] = [
    *(
        (platform, key, "trigger", [t.value for t in Trigger])
        for platform, key in (("sensor", "phase"), ("event", "reset"))
    ),
    *(
        (platform, key, attribute, detail_codes())
        for platform, key in (("sensor", "last_outcome"), ("event", "reset"))
        for attribute in ("detail", "thermostat_detail")
    ),
    ("event", "reset", "event_type", ["started", *(o.value for o in Outcome), "outage_ended"]),
]
LANGUAGE_FILES: dict[str, dict[str, Any]] = {
    "strings": STRINGS,
    **{
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(TRANSLATIONS.glob("*.json"))
    },
}


def _detail_codes_in(node: ast.expr | None) -> list[str]:
    """Return the codes an expression gives a detail (before any colon); `prefix*` for f-strings."""
    match node:
        case ast.Constant(value=str(text)):
            return [text.partition(":")[0]]
        case ast.IfExp(body=body, orelse=orelse):
            return [*_detail_codes_in(body), *_detail_codes_in(orelse)]
        case ast.BinOp(left=left, op=ast.Add()):
            return _detail_codes_in(left)
        case ast.JoinedStr(values=[ast.Constant(value=str(prefix)), ast.FormattedValue(), *_]):
            code, colon, _ids = prefix.partition(":")
            return [code if colon else f"{prefix}*"]
        case ast.Attribute(value=ast.Name(id="Detail"), attr=member):
            return [Detail[member].value]
        case ast.Attribute(value=ast.Attribute() as inner, attr="value"):
            return _detail_codes_in(inner)
    return []


# Functions that decide a detail and return it for the caller to write.
DETAIL_RULES = ("refused_cut", "thermostat_failure_detail")


def detail_codes_in_code() -> set[str]:
    """Return every detail the code writes: outcome and thermostat details, restores, assignments."""
    positions = {"end_early": 1, "thermostat_not_restored": 0, "async_restore_now": 0}
    found: set[str] = set()
    for tree in SOURCES.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in DETAIL_RULES:
                # A rule of sequence.py that returns the detail its caller writes.
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Return):
                        found.update(_detail_codes_in(inner.value))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if name in positions and len(node.args) > positions[name]:
                    found.update(_detail_codes_in(node.args[positions[name]]))
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(
                    isinstance(t, ast.Name) and t.id in ("detail", "UNREADABLE_DETAIL")
                    for t in targets
                ):
                    found.update(_detail_codes_in(node.value))
    return found


def test_every_detail_the_code_writes_is_a_known_code() -> None:
    """Each detail literal in the code is a `Detail` (or an internal error in a phase), and each
    `Detail` is written somewhere: a new reason cannot reach a person untranslated."""
    found = detail_codes_in_code()
    assert f"{INTERNAL_ERROR_PREFIX}*" in found
    literal = found - {f"{INTERNAL_ERROR_PREFIX}*"}
    assert literal == {detail.value for detail in Detail}


@pytest.mark.parametrize("language", sorted(LANGUAGE_FILES))
@pytest.mark.parametrize(
    ("platform", "key", "attribute", "values"),
    ENUM_ATTRIBUTES,
    ids=[f"{p}.{k}.{a}" for p, k, a, _v in ENUM_ATTRIBUTES],
)
def test_every_attribute_code_is_translated(
    language: str, platform: str, key: str, attribute: str, values: list[str]
) -> None:
    """Every value the code can put in a code attribute has a text in each language, and no more."""
    texts = LANGUAGE_FILES[language]["entity"][platform][key]["state_attributes"][attribute]
    assert set(texts["state"]) == set(values)
    assert all(text.strip() for text in texts["state"].values())


async def test_attribute_codes_reach_home_assistant_in_the_users_language(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The trigger and detail a run shows are looked up by Home Assistant in German."""
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, timedelta(minutes=6), step=timedelta(seconds=5))
    texts = await async_get_translations(hass, "de", "entity", {DOMAIN})
    base = f"component.{DOMAIN}.entity"
    trigger = state(hass, OUTCOME_EVENT).attributes["trigger"]
    detail = state(hass, OUTCOME).attributes["detail"]
    assert (trigger, detail) == ("automation", "cancelled")
    assert texts[f"{base}.event.reset.state_attributes.trigger.state.{trigger}"] == (
        "Automatisierung oder Skript"
    )
    assert texts[f"{base}.sensor.last_outcome.state_attributes.detail.state.{detail}"] == (
        "Auf Wunsch abgebrochen"
    )
    # Every attribute of the event entity is named; its `text` says the run in words.
    event = state(hass, OUTCOME_EVENT).attributes
    assert set(event) - HA_ATTRIBUTES - {"event_types"} <= set(
        STRINGS["entity"]["event"]["reset"]["state_attributes"]
    )
    assert event["text"] == "reset ended: cancelled, power off 0 min, started by an automation"


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


# --- Repairs --------------------------------------------------------------------------------


def _issue_keys_in_code() -> set[str]:
    """Return the translation keys of the repair issues the code creates."""
    keys: set[str] = set()
    for module, tree in SOURCES.items():
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
        "no_power_not_below",
        "fault_entity_kind",
        "mains_entity_kind",
        "temperature_entity_kind",
    }
    assert aborts == {"already_configured", "reconfigure_successful"}
    # The options flow's errors: the sensor's unit can no longer be converted, and a "no power"
    # level not below its running threshold (issue 13), a mains or temperature entity of another
    # kind (issue 14); no aborts.
    options_only = {"no_power_not_below", "mains_entity_kind", "temperature_entity_kind"}
    assert set(STRINGS["config"]["error"]) == errors - options_only
    assert set(STRINGS["config"]["abort"]) == aborts
    assert set(STRINGS["options"]) == {"step", "error"}
    assert set(STRINGS["options"]["error"]) == {"sensor_unit", "fault_entity_kind", *options_only}


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
    # The fault section (issue 13) and the outage section (issue 14) hold no number.
    helps = {
        key: help_
        for name, part in sections.items()
        if name not in {"faults", "outages"}
        for key, help_ in part["data_description"].items()
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


async def test_actions_target_heat_pumps_in_the_ui(hass: HomeAssistant) -> None:
    """Home Assistant's own loading of services.yaml keeps each action's target picker.

    The UI shows a target picker limited to this integration's entities and devices; a target HA
    found invalid would be dropped (2026.x) or fail the file (2025.4), leaving no picker at all.
    Only our actions are loaded: on 2026.x, reading climate's actions imports every base entity
    integration (camera, assist_satellite...) and their native libraries, which tests lack.
    """
    assert await async_setup_component(hass, DOMAIN, {})
    assert "climate" not in hass.config.components
    descriptions = await async_get_all_descriptions(hass)
    ours = {"entity": [{"integration": DOMAIN}], "device": [{"integration": DOMAIN}]}
    for name in SERVICES:
        assert descriptions[DOMAIN][name]["target"] == ours, name
        assert "config_entry_id" not in descriptions[DOMAIN][name]["fields"], name

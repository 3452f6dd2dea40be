"""The shipped blueprints: valid for HA, and run against the integration in the test HA."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
import re
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.components.blueprint.schemas import BLUEPRINT_SCHEMA
from homeassistant.components.climate.const import HVACAction
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant, ServiceCall, State
from homeassistant.helpers import entity_registry as er, restore_state, translation
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.yaml import Input, load_yaml_dict
import pytest
from pytest_homeassistant_custom_component.common import (
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.heat_pump_reset.const import CONF_FAULT_ENTITIES, CONF_VERIFY_MINUTES

from .harness.driving import advance, settle, state, stored_history
from .harness.entity_ids import BUTTON, OUTCOME, PHASE, SWITCH_A
from .harness.equipment import HeatPump
from .harness.timings import DISCHARGE, FULL_RUN

BLUEPRINTS = Path(__file__).parent.parent / "blueprints" / "automation" / "heat_pump_reset"
OUTAGE = "heat_pump_reset/reset_after_power_outage.yaml"
NOTIFY = "heat_pump_reset/notify_reset_outcome.yaml"
UPS = "input_boolean.ups_on_mains"
FAULT_SENSOR = "sensor.outdoor_unit_error"


@pytest.mark.parametrize("path", sorted(BLUEPRINTS.glob("*.yaml")), ids=lambda p: p.name)
def test_blueprint_is_valid(path: Path) -> None:
    """Each blueprint passes HA's own blueprint schema as an automation blueprint."""
    blueprint = Blueprint(
        load_yaml_dict(str(path)),
        path=str(path),
        expected_domain="automation",
        schema=BLUEPRINT_SCHEMA,
    )
    assert blueprint.name
    assert blueprint.inputs


@pytest.fixture
async def blueprint_dir(hass: HomeAssistant, tmp_path: Path) -> None:
    """Point the test HA's configuration folder at a copy of the repo's blueprints."""
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints" / "automation" / "heat_pump_reset")
    hass.config.config_dir = str(tmp_path)


async def setup_automation(hass: HomeAssistant, path: str, inputs: dict[str, Any]) -> None:
    """Set up one automation from a blueprint and check it loaded."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "id": "under_test",
                "alias": "Under test",
                "use_blueprint": {"path": path, "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    assert state(hass, "automation.under_test").state == "on"


@pytest.fixture
async def ups(hass: HomeAssistant) -> None:
    """A UPS's "on mains" signal, as an input_boolean."""
    assert await async_setup_component(
        hass, "input_boolean", {"input_boolean": {"ups_on_mains": {}}}
    )
    await hass.services.async_call("input_boolean", "turn_on", {"entity_id": UPS}, blocking=True)


async def outage(hass: HomeAssistant) -> None:
    """Power goes out and comes back (the UPS signal goes off, then on)."""
    for service in ("turn_off", "turn_on"):
        await hass.services.async_call("input_boolean", service, {"entity_id": UPS}, blocking=True)
    await settle(hass)


@pytest.mark.usefixtures("blueprint_dir", "ups")
async def test_power_outage_leads_to_exactly_one_reset(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """With no watching, the power signal returning starts one reset, recorded as an automation's."""
    await setup_automation(
        hass,
        OUTAGE,
        {
            "heat_pump": BUTTON,
            "outage_entity": [UPS],
            "on_start": False,
            "wait_minutes": 0,
            "reason": "UPS back on mains",
        },
    )
    await outage(hass)
    assert state(hass, PHASE).state == "discharging"
    # A second signal while the reset runs is refused by the integration, not a second run.
    await outage(hass)
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    runs = stored_history(hass_storage, entry)
    assert [(r["trigger"], r["reason"], r["outcome"]) for r in runs] == [
        ("automation", "UPS back on mains", "succeeded")
    ]


async def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    """Move time in 10 s steps, letting due timers and ready tasks run, without block_till_done."""
    for _ in range(int(delta / timedelta(seconds=10))):
        freezer.tick(timedelta(seconds=10))
        async_fire_time_changed(hass)
        for _ in range(10):
            await asyncio.sleep(0)


async def finish_start(hass: HomeAssistant) -> None:
    """Finish a start of HA begun with automations set up while it was not running.

    HA 2025.4 arms those automations' triggers on "started"; 2026.x arms them in startup jobs,
    which run before "started" fires. The test HA never runs its own start, so do what it does.
    """
    hass.set_state(CoreState.starting)
    startup_jobs = getattr(hass, "_startup_jobs", [])
    for job in startup_jobs:
        task = hass.async_run_hass_job(job.job, *job.args)
        if task is not None:
            await task
    startup_jobs.clear()
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)


@pytest.mark.parametrize(
    "down_for",
    [timedelta(minutes=30), None],
    ids=["down_30_min", "downtime_unknown"],
    indirect=True,
)
@pytest.mark.parametrize(
    ("stuck", "resets"),
    [(None, 0), (HVACAction.IDLE, 1)],
    ids=["unit_starts_by_itself", "unit_stays_idle"],
)
@pytest.mark.usefixtures("blueprint_dir")
async def test_reset_only_when_the_unit_does_not_start(
    down_for: timedelta | None,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    stuck: HVACAction | None,
    resets: int,
) -> None:
    """After an outage, wait 10 min: a unit that heats is left alone, one that stays idle is reset.

    A start after unknown downtime (no saved states) counts as an outage.
    """
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    heat_pump.thermostat.async_write_ha_state()
    # Automations set up while HA starts get their "Home Assistant started" trigger once it has.
    await setup_automation(hass, OUTAGE, outage_inputs(entry))
    await finish_start(hass)
    # The automation now waits 10 minutes: block_till_done would wait for it, so step time by hand.
    await tick(hass, freezer, timedelta(seconds=30))
    heat_pump.thermostat.stuck_action = stuck
    heat_pump.thermostat.async_write_ha_state()
    await tick(hass, freezer, timedelta(minutes=9))
    assert state(hass, PHASE).state == "idle"
    await tick(hass, freezer, timedelta(minutes=1))
    await settle(hass)
    assert state(hass, PHASE).state == ("idle" if resets == 0 else "discharging")
    # The idle unit never shows a start: the run also waits out the 15-minute verification window.
    await advance(hass, freezer, FULL_RUN + timedelta(minutes=16), step=timedelta(seconds=10))
    assert [r["outcome"] for r in stored_history(hass_storage, entry)] == ["no_start"] * resets


@pytest.mark.parametrize("entity_name", [None, "Wohnzimmer Zurücksetzen"])
@pytest.mark.usefixtures("blueprint_dir")
async def test_outcome_notification(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    entity_name: str | None,
) -> None:
    """The notify blueprint sends the outcome in words through the chosen notify action.

    The title names the heat pump's device, whatever the (translated) name of the event entity.
    """
    if entity_name is not None:
        er.async_get(hass).async_update_entity("event.living_room_reset", name=entity_name)
        await hass.async_block_till_done()
    sent: list[ServiceCall] = async_mock_service(hass, "notify", "family")
    await setup_automation(
        hass, NOTIFY, {"reset_event": "event.living_room_reset", "notify_action": "notify.family"}
    )
    await hass.services.async_call(
        "heat_pump_reset", "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    assert sent == []  # starts are not announced unless asked
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert state(hass, OUTCOME).state == "succeeded"
    assert len(sent) == 1
    assert sent[0].data["title"] == "Living room: heat pump reset"
    assert sent[0].data["message"].strip() == "The reset worked: the heat pump started again."


@pytest.mark.parametrize("options", [{CONF_FAULT_ENTITIES: [FAULT_SENSOR]}], indirect=True)
@pytest.mark.usefixtures("blueprint_dir")
async def test_outcome_notification_when_the_fault_came_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The notify blueprint knows `fault_returned` (issue 13), and says the code that came back."""
    sent: list[ServiceCall] = async_mock_service(hass, "notify", "family")
    await setup_automation(
        hass, NOTIFY, {"reset_event": "event.living_room_reset", "notify_action": "notify.family"}
    )
    hass.states.async_set(FAULT_SENSOR, "E5")
    await hass.services.async_call(
        "heat_pump_reset", "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, DISCHARGE + timedelta(minutes=1), step=timedelta(seconds=10))
    hass.states.async_set(FAULT_SENSOR, "E7")
    await advance(hass, freezer, timedelta(minutes=6), step=timedelta(seconds=10))
    assert state(hass, OUTCOME).state == "fault_returned"
    assert len(sent) == 1
    message = sent[0].data["message"].strip()
    assert message.startswith("The fault came back after the reset (E7).")


# --- After an outage: what counts as one, and when the unit counts as started -------------------


@pytest.fixture
def down_for(hass: HomeAssistant, request: pytest.FixtureRequest) -> timedelta | None:
    """Home Assistant starts after being down this long (None: no saved states, unknown).

    Request it before `entry`: the integration notes the downtime when it is set up at the start.
    """
    down: timedelta | None = request.param
    if down is not None:
        restore_state.async_get(hass).last_states["input_boolean.seen"] = restore_state.StoredState(
            State("input_boolean.seen", "on"), None, dt_util.utcnow() - down
        )
    hass.set_state(CoreState.not_running)
    return down


def outage_inputs(entry: ConfigEntry, **extra: Any) -> dict[str, Any]:
    """The after-outage blueprint's inputs for our heat pump."""
    return {"heat_pump": BUTTON, **extra}


async def start_and_watch(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: ConfigEntry, **inputs: Any
) -> None:
    """Set up the after-outage automation while HA starts, finish the start, and wait 10 minutes."""
    await setup_automation(hass, OUTAGE, outage_inputs(entry, **inputs))
    await finish_start(hass)
    await tick(hass, freezer, timedelta(minutes=10, seconds=10))
    await settle(hass)


@pytest.mark.parametrize(
    ("down_for", "inputs"),
    [
        (timedelta(minutes=1), {}),
        (timedelta(minutes=14), {"min_downtime": 15}),
        (timedelta(minutes=30), {"on_start": False}),
    ],
    ids=["down_1_min", "down_14_of_15_min", "starts_not_watched"],
    indirect=["down_for"],
)
@pytest.mark.usefixtures("blueprint_dir")
async def test_routine_restart_is_no_outage(
    down_for: timedelta | None,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    inputs: dict[str, Any],
) -> None:
    """A start after less than the chosen downtime (or with starts not watched) is no outage.

    No reset, even with the unit idle while the room is cold.
    """
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    heat_pump.thermostat.async_write_ha_state()
    await start_and_watch(hass, freezer, entry, **inputs)
    assert state(hass, PHASE).state == "idle"
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=30))
    assert stored_history(hass_storage, entry) == []


@pytest.mark.parametrize("down_for", [timedelta(minutes=30)], indirect=True)
@pytest.mark.parametrize(
    ("room", "action"),
    [(22.0, None), (18.0, HVACAction.DEFROSTING), (18.0, HVACAction.PREHEATING)],
    ids=["warm_room", "defrosting", "preheating"],
)
@pytest.mark.usefixtures("blueprint_dir")
async def test_no_reset_without_a_call_for_heat_or_while_the_unit_works(
    down_for: timedelta | None,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    room: float,
    action: HVACAction | None,
) -> None:
    """After a real outage, a warm room (heat mode, idle unit) or a defrosting unit is left alone."""
    heat_pump.thermostat.stuck_action = action
    heat_pump.thermostat.set_room(room)
    await start_and_watch(hass, freezer, entry)
    assert state(hass, PHASE).state == "idle"
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=30))
    assert stored_history(hass_storage, entry) == []


@pytest.mark.parametrize("options", [{CONF_VERIFY_MINUTES: 1}], indirect=True)
@pytest.mark.usefixtures("blueprint_dir")
async def test_own_switch_as_power_signal_starts_no_second_reset(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The heat pump's own breaker as the power signal: the reset turning it back on is no outage."""
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    heat_pump.thermostat.async_write_ha_state()
    await setup_automation(
        hass, OUTAGE, outage_inputs(entry, outage_entity=[SWITCH_A], on_start=False)
    )
    await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"
    # Power back after 30 minutes, thermostat back 5 minutes later, the unit stays idle; the
    # automation would watch for 10 minutes and reset again once this run has ended.
    await tick(hass, freezer, DISCHARGE + timedelta(minutes=20))
    await settle(hass)
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=30))
    assert [r["trigger"] for r in stored_history(hass_storage, entry)] == ["button"]
    # The same breaker dropping out and coming back outside a reset is an outage: reset.
    heat_pump.switch_a.set_on(False)
    heat_pump.switch_a.set_on(True)
    await tick(hass, freezer, timedelta(minutes=10, seconds=10))
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, PHASE).attributes["trigger"] == "automation"


@pytest.mark.usefixtures("blueprint_dir")
async def test_outcome_notification_says_the_thermostat_was_not_put_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """Issue 11 item 19: a cancelled run whose thermostat never came back does not say it is back."""
    sent: list[ServiceCall] = async_mock_service(hass, "notify", "family")
    await setup_automation(
        hass, NOTIFY, {"reset_event": "event.living_room_reset", "notify_action": "notify.family"}
    )
    await hass.services.async_call(
        "heat_pump_reset", "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    heat_pump.thermostat.set_available(False)
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    await hass.services.async_call(
        "heat_pump_reset", "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, timedelta(minutes=61), step=timedelta(minutes=1))
    assert state(hass, OUTCOME).state == "cancelled"
    assert len(sent) == 1
    assert sent[0].data["message"].strip() == (
        "The reset was cancelled. Power is back, but the thermostat could not be put back: set it"
        " by hand. Detail: thermostat_did_not_return."
    )


# --- The outcome notification in the user's own words (issue 15 item 8) -------------------------


GERMAN_TEXTS = {
    "title": "Wärmepumpe {{ device }}",
    "message_succeeded": "{{ device }}: {{ summary }}.",
    "message_failed": "Das Zurücksetzen ist fehlgeschlagen ({{ detail }}).",
    "message_cancelled_left_off": (
        "Abgebrochen. Stelle den Thermostat von Hand ein ({{ thermostat_detail }})."
    ),
}


@pytest.mark.usefixtures("blueprint_dir")
async def test_outcome_notification_in_the_users_words(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """The title and the messages are inputs: German texts are sent, with the device and detail,
    and the run in words in Home Assistant's language."""
    await hass.config.async_update(language="de")
    await translation.async_load_integrations(hass, hass.config.components)
    sent: list[ServiceCall] = async_mock_service(hass, "notify", "family")
    await setup_automation(
        hass,
        NOTIFY,
        {
            "reset_event": "event.living_room_reset",
            "notify_action": "notify.family",
            **GERMAN_TEXTS,
        },
    )
    await hass.services.async_call(
        "heat_pump_reset", "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert state(hass, OUTCOME).state == "succeeded"
    heat_pump.thermostat.refuse_modes = {"off"}
    await hass.services.async_call(
        "heat_pump_reset", "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=10))
    assert state(hass, OUTCOME).state == "failed"
    assert [(call.data["title"], call.data["message"]) for call in sent] == [
        (
            "Wärmepumpe Living room",
            (
                "Living room: Zurücksetzen beendet: erfolgreich, Strom 30 Min. aus,"
                " von einer Automatisierung gestartet."
            ),
        ),
        (
            "Wärmepumpe Living room",
            "Das Zurücksetzen ist fehlgeschlagen (thermostat_did_not_stop).",
        ),
    ]


@pytest.mark.usefixtures("blueprint_dir")
async def test_thermostat_left_off_message_in_the_users_words(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """The "thermostat not put back" variant of an outcome is an input too."""
    sent: list[ServiceCall] = async_mock_service(hass, "notify", "family")
    await setup_automation(
        hass,
        NOTIFY,
        {
            "reset_event": "event.living_room_reset",
            "notify_action": "notify.family",
            **GERMAN_TEXTS,
        },
    )
    await hass.services.async_call(
        "heat_pump_reset", "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    heat_pump.thermostat.set_available(False)
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    await hass.services.async_call(
        "heat_pump_reset", "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, timedelta(minutes=61), step=timedelta(minutes=1))
    assert state(hass, OUTCOME).state == "cancelled"
    assert [call.data["message"] for call in sent] == [
        "Abgebrochen. Stelle den Thermostat von Hand ein (thermostat_did_not_return)."
    ]


def _texts_of(node: Any) -> Iterator[Any]:
    """Yield every leaf of a loaded YAML document (inputs stay `Input` objects)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from _texts_of(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts_of(value)
    else:
        yield node


@pytest.mark.parametrize("path", sorted(BLUEPRINTS.glob("*.yaml")), ids=lambda p: p.name)
def test_blueprint_texts_a_person_reads_are_inputs(path: Path) -> None:
    """What a blueprint sends or records for a person (notification texts, the reset's reason) is
    an input with a default, so it can be written in any language; no sentence is built in code."""
    document = load_yaml_dict(str(path))
    inputs = {
        key: spec
        for name, item in document["blueprint"]["input"].items()
        for key, spec in (item["input"].items() if "input" in item else [(name, item)])
    }
    actions = document["actions"]
    readable: list[Any] = []
    for action in actions:
        data = action.get("data", {})
        readable += [data[key] for key in ("title", "message", "reason") if key in data]
        for name, value in action.get("variables", {}).items():
            if name in ("title", "words", "left_off_words"):
                readable += list(_texts_of(value))
    assert readable
    for text in readable:
        if isinstance(text, Input):
            assert "default" in inputs[text.name], text.name
        else:
            # Only a variable the texts above fill in, or a choice between them.
            assert re.sub(r"\{\{.*?\}\}", "", str(text), flags=re.DOTALL).strip() == "", text
    # No English words glued to a value in a template (`' Detail: ' ~ detail`).
    assert not re.search(r"'[^']*[A-Za-z]{2,}[^']*'\s*~", path.read_text(encoding="utf-8"))

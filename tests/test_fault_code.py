"""The unit's own fault code (issue 13): recorded at the start, watched after power is back.

A fault that shows again after a reset ends the run `fault_returned` (once the thermostat is back
and power is on), raises an error repair, and refuses the next reset without `force` until the
repair is acknowledged.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.heat_pump_reset.const import (
    CONF_FAULT_ENTITIES,
    CONF_MAX_RESETS_PER_DAY,
    CONF_NO_FAULT_STATES,
    CONF_POWER_SENSOR,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)
from custom_components.heat_pump_reset.faults import (
    DEFAULT_NO_FAULT_STATES,
    Reading,
    reading,
    returned_detail,
)
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS, Settings

from .harness.driving import (
    advance,
    cancel,
    get_history,
    settle,
    start,
    state,
    stored,
    stored_history,
)
from .harness.entity_ids import EVENT, PHASE, SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import HeatPump, power
from .harness.forms import form_fields_flat, sectioned
from .harness.restarts import restart
from .harness.timings import DISCHARGE, STAGGER, STARTUP, T0, VERIFY

FAULT = "sensor.outdoor_unit_error"
PROBLEM = "binary_sensor.outdoor_unit_problem"
STEP = timedelta(seconds=10)
# From the start until power is back (both switches on, the stagger between them).
POWER_BACK = DISCHARGE + STAGGER + timedelta(seconds=20)


def set_fault(hass: HomeAssistant, value: str, entity_id: str = FAULT) -> None:
    """Set the fault entity's state, as the unit's integration reports it."""
    attributes: dict[str, Any] = {"friendly_name": "Outdoor unit error"}
    if entity_id.startswith("binary_sensor."):
        attributes = {"friendly_name": "Outdoor unit problem", "device_class": "problem"}
    hass.states.async_set(entity_id, value, attributes)


def fault_options(entities: list[str], **extra: Any) -> Any:
    """Return the `options` fixture's parameter for heat pumps with fault entities."""
    return pytest.mark.parametrize(
        "options", [{CONF_FAULT_ENTITIES: entities, **extra}], indirect=True
    )


def outcome(entry: ConfigEntry) -> dict[str, Any]:
    """Return the newest run's record."""
    last = entry.runtime_data.last
    assert last is not None
    return dict(last)


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Set up HA's Repairs (its API and fix flows)."""
    assert await async_setup_component(hass, "repairs", {})


# --- The rules (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity_id", "value", "expected"),
    [
        (FAULT, "E5", Reading.FAULT),
        (FAULT, "17", Reading.FAULT),
        (FAULT, "0", Reading.CLEAR),
        (FAULT, "0.0", Reading.CLEAR),
        (FAULT, "00", Reading.CLEAR),
        (FAULT, "nan", Reading.FAULT),
        (FAULT, " OK ", Reading.CLEAR),
        (FAULT, "No Error", Reading.CLEAR),
        (FAULT, "no_error", Reading.CLEAR),
        (FAULT, "None", Reading.CLEAR),
        (FAULT, "", Reading.CLEAR),
        (FAULT, "unknown", Reading.CANNOT_TELL),
        (FAULT, "unavailable", Reading.CANNOT_TELL),
        (FAULT, None, Reading.CANNOT_TELL),
        (PROBLEM, "on", Reading.FAULT),
        (PROBLEM, "off", Reading.CLEAR),
        (PROBLEM, "unavailable", Reading.CANNOT_TELL),
    ],
)
def test_which_states_are_a_fault(entity_id: str, value: str | None, expected: Reading) -> None:
    """Case and spaces do not matter; unknown and unavailable tell nothing either way."""
    assert reading(entity_id, value, DEFAULT_NO_FAULT_STATES) is expected


def test_edited_no_fault_states_replace_the_defaults() -> None:
    """A unit whose idle code is `A00` says so in the options; `0` is then a code."""
    assert reading(FAULT, "a00", ["A00"]) is Reading.CLEAR
    assert reading(FAULT, "0", ["A00"]) is Reading.FAULT


def test_same_or_different_code() -> None:
    """The code at the start decides whether the fault that came back is the same one."""
    assert returned_detail({FAULT: "E5"}, {FAULT: "e5 "}) == f"same_fault:{FAULT}"
    assert returned_detail({FAULT: "E5"}, {FAULT: "E7"}) == f"different_fault:{FAULT}"
    assert returned_detail({FAULT: "0"}, {FAULT: "E7"}) == f"different_fault:{FAULT}"


def test_settings_read_the_fault_options() -> None:
    """Without the options: no fault entities, the default no-fault states."""
    base = {CONF_THERMOSTAT: THERMOSTAT, CONF_SWITCHES: [SWITCH_A]}
    settings = Settings.from_options(base)
    assert settings.fault_entities == []
    assert settings.no_fault_states == list(DEFAULT_NO_FAULT_STATES)
    settings = Settings.from_options(
        {**base, CONF_FAULT_ENTITIES: [FAULT], CONF_NO_FAULT_STATES: ["A00"]}
    )
    assert (settings.fault_entities, settings.no_fault_states) == ([FAULT], ["A00"])


# --- A run ------------------------------------------------------------------------------------


@fault_options([FAULT], **{CONF_MAX_RESETS_PER_DAY: 10})
@pytest.mark.usefixtures("repairs")
async def test_a_fault_that_returns_after_the_reset_ends_the_run_and_blocks_the_next(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """E5 clears on power-up and returns 2 minutes later, in the start-up delay.

    The thermostat still comes back; the run ends `fault_returned`, same code; a repair is raised;
    the next start without `force` is refused, with `force` allowed; acknowledging lifts it.
    """
    freezer.move_to(T0)
    set_fault(hass, "E5")
    events: list[tuple[str, dict[str, Any]]] = []
    entry.runtime_data.async_add_event_listener(lambda kind, data: events.append((kind, data)))
    await start(hass, entry)
    assert stored(hass_storage, entry)["active"]["faults_at_start"] == {FAULT: "E5"}
    assert events[0][0] == "started"
    assert events[0][1]["faults"] == {FAULT: "E5"}
    assert "E5" in events[0][1]["reason"]

    await advance(hass, freezer, POWER_BACK, step=STEP)
    assert power(heat_pump) == [True, True]
    set_fault(hass, "0")
    await advance(hass, freezer, timedelta(minutes=2), step=STEP)
    assert state(hass, PHASE).state == "starting_up"
    set_fault(hass, "E5")
    await advance(hass, freezer, STARTUP, step=STEP)
    await settle(hass)
    assert state(hass, PHASE).state == "idle"
    # The thermostat was put back before the run ended, and power stays on.
    assert heat_pump.thermostat.hvac_mode == "heat"
    assert power(heat_pump) == [True, True]
    record = outcome(entry)
    assert record["outcome"] == "fault_returned"
    assert record["detail"] == f"same_fault:{FAULT}"
    assert record["faults_at_start"] == {FAULT: "E5"}
    assert record["faults_returned"] == {FAULT: "E5"}
    assert stored_history(hass_storage, entry)[0]["faults_returned"] == {FAULT: "E5"}
    assert events[-1][0] == "fault_returned"
    assert state(hass, EVENT).attributes["event_type"] == "fault_returned"
    assert state(hass, EVENT).attributes["faults_returned"] == {FAULT: "E5"}
    # The logbook's line: the outcome, why, the reason taken from the fault.
    text = state(hass, EVENT).attributes["text"]
    assert text.startswith("reset ended: fault returned (The same fault code came back:")
    assert "Fault E5 on Outdoor unit error" in text
    runs = await get_history(hass, entry)
    assert runs[0]["faults_at_start"] == {FAULT: "E5"}
    assert runs[0]["faults_returned"] == {FAULT: "E5"}

    found = ir.async_get(hass).async_get_issue(DOMAIN, f"fault_returned_{entry.entry_id}")
    assert found is not None
    assert found.severity is ir.IssueSeverity.ERROR
    assert found.is_fixable
    assert found.translation_placeholders is not None
    assert found.translation_placeholders["code"] == "E5"

    with pytest.raises(ServiceValidationError) as refused:
        await start(hass, entry)
    assert refused.value.translation_key == "fault_returned"
    assert "E5" in str(refused.value)
    # The button is refused too (it never forces).
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "button",
            "press",
            {"entity_id": "button.living_room_reset_heat_pump"},
            blocking=True,
        )
    assert state(hass, PHASE).state == "idle"

    # A person may force it (automations may not force at all).
    await start(hass, entry, Context(user_id=hass_admin_user.id), force=True)
    assert state(hass, PHASE).state != "idle"
    await cancel(hass, entry)
    await advance(hass, freezer, STARTUP + timedelta(minutes=3), step=STEP)
    assert state(hass, PHASE).state == "idle"

    # A token issued now: simulated time has moved on.
    refresh = await hass.auth.async_create_refresh_token(hass_admin_user, CLIENT_ID)
    client = await hass_client(hass.auth.async_create_access_token(refresh))
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": found.issue_id}
    )
    flow = await response.json()
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert (await response.json())["type"] == "create_entry"
    assert ir.async_get(hass).async_get_issue(DOMAIN, found.issue_id) is None
    await start(hass, entry)
    assert state(hass, PHASE).state != "idle"


@fault_options([FAULT])
async def test_a_different_code_returning_is_recorded_as_such(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """E5 before the reset, E7 in the verification window: `different_fault`, E7 kept."""
    set_fault(hass, "E5")
    await start(hass, entry, reason="Weekly check")
    await advance(hass, freezer, POWER_BACK, step=STEP)
    set_fault(hass, "unavailable")
    await advance(hass, freezer, STARTUP + timedelta(minutes=1), step=STEP)
    assert state(hass, PHASE).state == "verifying"
    set_fault(hass, "E7")
    await advance(hass, freezer, timedelta(seconds=20), step=STEP)
    assert state(hass, PHASE).state == "idle"
    record = outcome(entry)
    assert (record["outcome"], record["detail"]) == ("fault_returned", f"different_fault:{FAULT}")
    assert record["faults_returned"] == {FAULT: "E7"}
    # A reason given is kept: the fault does not replace it.
    assert record["reason"] == "Weekly check"


@fault_options([PROBLEM])
async def test_a_problem_binary_sensor(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A problem sensor on at the start, off after power-up, on again: `fault_returned`."""
    set_fault(hass, "on", PROBLEM)
    await start(hass, entry)
    await advance(hass, freezer, POWER_BACK, step=STEP)
    set_fault(hass, "off", PROBLEM)
    await advance(hass, freezer, STARTUP + timedelta(minutes=3), step=STEP)
    assert state(hass, PHASE).state == "verifying"
    set_fault(hass, "on", PROBLEM)
    await advance(hass, freezer, timedelta(seconds=20), step=STEP)
    record = outcome(entry)
    assert (record["outcome"], record["detail"]) == ("fault_returned", f"same_fault:{PROBLEM}")
    assert record["reason"]


@fault_options([FAULT])
async def test_a_fault_that_stays_clear_lets_the_run_succeed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Watched for the whole verification window: no fault, the unit started: `succeeded`."""
    set_fault(hass, "E5")
    await start(hass, entry)
    await advance(hass, freezer, POWER_BACK, step=STEP)
    set_fault(hass, "0")
    await advance(hass, freezer, STARTUP + VERIFY + timedelta(minutes=1), step=STEP)
    assert state(hass, PHASE).state == "idle"
    record = outcome(entry)
    assert record["outcome"] == "succeeded"
    assert record["faults_at_start"] == {FAULT: "E5"}
    assert record["faults_returned"] == {}


@fault_options([FAULT])
async def test_a_fault_during_the_discharge_wait_changes_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A code that shows while power is off neither ends the wait nor skips the restore."""
    set_fault(hass, "0")
    await start(hass, entry)
    assert outcome_reason_none(entry)
    await advance(hass, freezer, timedelta(minutes=5), step=STEP)
    assert power(heat_pump) == [False, False]
    set_fault(hass, "E5")
    await advance(hass, freezer, timedelta(minutes=5), step=STEP)
    assert state(hass, PHASE).state == "discharging"
    assert power(heat_pump) == [False, False]
    await advance(hass, freezer, DISCHARGE - timedelta(minutes=10) + STAGGER, step=STEP)
    await advance(hass, freezer, timedelta(seconds=30), step=STEP)
    assert power(heat_pump) == [True, True]
    # Shown before power came back and not reported again since: not a fault that returned.
    await advance(hass, freezer, timedelta(minutes=2), step=STEP)
    assert state(hass, PHASE).state == "starting_up"
    # Reported again after power is back: it counts, once the thermostat is back.
    set_fault(hass, "E5")
    await advance(hass, freezer, STARTUP, step=STEP)
    assert state(hass, PHASE).state == "idle"
    assert heat_pump.thermostat.hvac_mode == "heat"
    assert power(heat_pump) == [True, True]
    assert outcome(entry)["outcome"] == "fault_returned"


def outcome_reason_none(entry: ConfigEntry) -> bool:
    """Whether the run under way has no reason (no fault showed at its start)."""
    run = entry.runtime_data.run
    return run is not None and run.reason is None


@fault_options([FAULT])
async def test_unknown_and_unavailable_are_no_fault(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A fault entity that cannot tell neither gives a reason nor ends the run."""
    set_fault(hass, "unknown")
    await start(hass, entry)
    assert outcome_reason_none(entry)
    await advance(hass, freezer, POWER_BACK, step=STEP)
    set_fault(hass, "unavailable")
    await advance(hass, freezer, STARTUP + timedelta(minutes=2), step=STEP)
    set_fault(hass, "unknown")
    await advance(hass, freezer, VERIFY, step=STEP)
    record = outcome(entry)
    assert record["outcome"] == "succeeded"
    assert record["faults_at_start"] == {FAULT: "unknown"}
    assert record["reason"] is None


@fault_options([FAULT, "sensor.not_there"])
async def test_the_reason_is_taken_from_the_fault(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Started while E5 shows and without a reason: the reason names the code and the entity."""
    set_fault(hass, "E5")
    await start(hass, entry)
    run = entry.runtime_data.run
    assert run is not None
    assert run.reason == "Fault E5 on Outdoor unit error"
    assert run.faults_at_start == {FAULT: "E5", "sensor.not_there": "unavailable"}


async def test_old_stored_runs_and_history_without_faults_still_read(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    hass_storage: dict[str, Any],
    options: dict[str, Any],
) -> None:
    """A history and an active run written before issue 13 load, resume and end as before."""
    freezer.move_to(T0)
    config_entry = MockConfigEntry(domain=DOMAIN, title="Heat pump", options=options)
    old_record = {
        "run_id": "old",
        "trigger": "action",
        "reason": None,
        "started_at": (T0 - timedelta(days=3)).isoformat(),
        "finished_at": (T0 - timedelta(days=3) + timedelta(minutes=40)).isoformat(),
        "outcome": "succeeded",
        "detail": "verification",
        "phases": {},
        "power_cut": True,
        "power_off_at": None,
        "power_on_at": None,
        "discharge_minutes": 30,
        "thermostat": THERMOSTAT,
        "switches": [SWITCH_A, SWITCH_B],
        "restored_settings": {},
        "resumed": 0,
        "thermostat_restored": True,
        "thermostat_detail": None,
    }
    hass_storage[f"{DOMAIN}.history.{config_entry.entry_id}"] = {
        "version": 1,
        "minor_version": 2,
        "key": f"{DOMAIN}.history.{config_entry.entry_id}",
        "data": {"runs": [old_record], "acknowledged": {}},
    }
    assert await async_setup_component(hass, "persistent_notification", {})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await settle(hass)
    runs = await get_history(hass, config_entry)
    assert [r["run_id"] for r in runs] == ["old"]
    await start(hass, config_entry)
    active = dict(stored(hass_storage, config_entry)["active"])
    for key in ("fault_entities", "no_fault_states", "faults_at_start", "faults_returned"):
        active.pop(key)
    # The run as an older release wrote it, read back after a restart-like reload.
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    hass_storage[f"{DOMAIN}.run.{config_entry.entry_id}"]["data"]["active"] = active
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await settle(hass)
    await advance(hass, freezer, DISCHARGE + STARTUP + VERIFY, step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "idle"
    assert stored_history(hass_storage, config_entry)[0]["faults_returned"] == {}


# --- The forms --------------------------------------------------------------------------------


async def test_the_forms_offer_the_fault_entities(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Set-up and Reconfigure offer sensors and problem binary sensors; the options too."""
    set_fault(hass, "0")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    fields = {str(k): v for k, v in result["data_schema"].schema.items()}
    config = fields[CONF_FAULT_ENTITIES].config
    assert config["multiple"] is True
    assert {"domain": ["sensor"]} in config["filter"]
    assert {"domain": ["binary_sensor"], "device_class": ["problem"]} in config["filter"]

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_THERMOSTAT: THERMOSTAT,
            CONF_SWITCHES: [SWITCH_A, SWITCH_B],
            CONF_FAULT_ENTITIES: [FAULT],
        },
    )
    assert result["reason"] == "reconfigure_successful"
    await settle(hass)
    assert entry.options[CONF_FAULT_ENTITIES] == [FAULT]
    assert entry.options.get(CONF_POWER_SENSOR) is None

    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = form_fields_flat(result)
    assert CONF_FAULT_ENTITIES in fields
    assert CONF_NO_FAULT_STATES in fields
    submitted = {
        **DEFAULT_OPTIONS,
        CONF_FAULT_ENTITIES: [FAULT, PROBLEM],
        CONF_NO_FAULT_STATES: ["A00", "0"],
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], sectioned(submitted)
    )
    assert result["type"] == "create_entry"
    await settle(hass)
    assert entry.options[CONF_FAULT_ENTITIES] == [FAULT, PROBLEM]
    assert entry.options[CONF_NO_FAULT_STATES] == ["A00", "0"]
    # Emptied in the form: no fault entity any more.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    submitted = {**DEFAULT_OPTIONS, CONF_NO_FAULT_STATES: ["0"]}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], sectioned(submitted)
    )
    await settle(hass)
    # Emptied: no fault entity (and no key left that says nothing).
    assert CONF_FAULT_ENTITIES not in entry.options
    assert entry.runtime_data.settings.fault_entities == []
    assert entry.options[CONF_NO_FAULT_STATES] == ["0"]


@fault_options([FAULT])
async def test_a_restart_after_the_fault_returned_still_puts_the_thermostat_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Decided in the start-up delay and stored; after a restart the run still restores first."""
    set_fault(hass, "E5")
    await start(hass, entry)
    await advance(hass, freezer, POWER_BACK, step=STEP)
    set_fault(hass, "0")
    await advance(hass, freezer, timedelta(seconds=30), step=STEP)
    set_fault(hass, "E5")
    await advance(hass, freezer, timedelta(seconds=30), step=STEP)
    assert state(hass, PHASE).state == "starting_up"
    run = entry.runtime_data.run
    assert run is not None
    assert run.ending == "fault_returned"
    await restart(hass, freezer, entry, heat_pump)
    await advance(hass, freezer, STARTUP, step=STEP)
    assert state(hass, PHASE).state == "idle"
    assert heat_pump.thermostat.hvac_mode == "heat"
    assert power(heat_pump) == [True, True]
    record = stored_history(hass_storage, entry)[0]
    assert (record["outcome"], record["faults_returned"]) == ("fault_returned", {FAULT: "E5"})


async def test_the_forms_refuse_what_is_not_a_fault_entity(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A switch, or a binary sensor of another class, is refused by Reconfigure and the options."""
    hass.states.async_set("binary_sensor.door", "off", {"device_class": "door"})
    set_fault(hass, "off", PROBLEM)
    reconfigure = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    options = await hass.config_entries.options.async_init(entry.entry_id)
    for wrong in (SWITCH_A, "binary_sensor.door"):
        result = await hass.config_entries.flow.async_configure(
            reconfigure["flow_id"],
            {
                CONF_THERMOSTAT: THERMOSTAT,
                CONF_SWITCHES: [SWITCH_A, SWITCH_B],
                CONF_FAULT_ENTITIES: [PROBLEM, wrong],
            },
        )
        assert result["errors"] == {CONF_FAULT_ENTITIES: "fault_entity_kind"}
        result = await hass.config_entries.options.async_configure(
            options["flow_id"], sectioned({**DEFAULT_OPTIONS, CONF_FAULT_ENTITIES: [wrong]})
        )
        assert result["errors"] == {"base": "fault_entity_kind"}
    assert CONF_FAULT_ENTITIES not in entry.options


@fault_options([FAULT])
async def test_a_renamed_fault_entity_is_followed_and_a_removed_one_is_a_repair(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Like the other wrapped entities: a new entity id is followed, also by a run under way."""
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "sensor", "test", "error", suggested_object_id="outdoor_unit_error"
    )
    set_fault(hass, "E5")
    await start(hass, entry)
    registry.async_update_entity(FAULT, new_entity_id="sensor.unit_error")
    await settle(hass)
    assert entry.options[CONF_FAULT_ENTITIES] == ["sensor.unit_error"]
    run = entry.runtime_data.run
    assert run is not None
    assert run.fault_entities == ["sensor.unit_error"]
    assert run.faults_at_start == {"sensor.unit_error": "E5"}
    await advance(hass, freezer, POWER_BACK, step=STEP)
    set_fault(hass, "0", "sensor.unit_error")
    await advance(hass, freezer, timedelta(minutes=1), step=STEP)
    set_fault(hass, "E5", "sensor.unit_error")
    await advance(hass, freezer, STARTUP, step=STEP)
    record = outcome(entry)
    assert (record["outcome"], record["detail"]) == (
        "fault_returned",
        "same_fault:sensor.unit_error",
    )
    hass.states.async_remove("sensor.unit_error")
    registry.async_remove("sensor.unit_error")
    await settle(hass)
    missing = f"missing_entity_{entry.entry_id}_sensor.unit_error"
    assert ir.async_get(hass).async_get_issue(DOMAIN, missing) is not None

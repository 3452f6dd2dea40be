"""Config, options and reconfigure flows: what they offer, refuse and store, and the reload after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers.selector import EntitySelectorConfig
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.heat_pump_reset.config_flow import OPTION_SECTIONS
from custom_components.heat_pump_reset.const import (
    CONF_CURRENT_THRESHOLD,
    CONF_DISCHARGE_MINUTES,
    CONF_FAULT_ENTITIES,
    CONF_LONGEST_WARMUP_MINUTES,
    CONF_MAINS_ENTITY,
    CONF_MAX_RESETS_PER_DAY,
    CONF_NO_FAULT_STATES,
    CONF_NO_POWER_CURRENT,
    CONF_NO_POWER_THRESHOLD,
    CONF_OUTAGE_PROTECTION,
    CONF_OUTDOOR_TEMPERATURE,
    CONF_POWER_SENSOR,
    CONF_POWER_THRESHOLD,
    CONF_RECURRENCE_COUNT,
    CONF_RECURRENCE_DAYS,
    CONF_ROOM_FLOOR,
    CONF_ROOM_TEMPERATURE,
    CONF_STAGGER_SECONDS,
    CONF_STARTUP_DELAY_MINUTES,
    CONF_STOP_TIMEOUT_SECONDS,
    CONF_SWITCH_TIMEOUT_SECONDS,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    CONF_VERIFY_MINUTES,
    CONF_WARMUP_AFTER_MINUTES,
    CONF_WARMUP_TEMPERATURE,
    DOMAIN,
)
from custom_components.heat_pump_reset.faults import DEFAULT_NO_FAULT_STATES
from custom_components.heat_pump_reset.run import Timing
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS

from .harness.driving import advance, set_power, settle, state
from .harness.entity_ids import ENDS_AT, PHASE, SENSOR, SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import HeatPump
from .harness.forms import form_fields_flat, sectioned

NO_OFF = "climate.no_off"
MISSING = "climate.not_loaded"
OTHER_THERMOSTAT = "climate.bedroom"

TIMING_KEYS = [
    CONF_DISCHARGE_MINUTES,
    CONF_STARTUP_DELAY_MINUTES,
    CONF_STOP_TIMEOUT_SECONDS,
    CONF_SWITCH_TIMEOUT_SECONDS,
    CONF_STAGGER_SECONDS,
    CONF_VERIFY_MINUTES,
    CONF_POWER_THRESHOLD,
    CONF_NO_POWER_THRESHOLD,
    CONF_CURRENT_THRESHOLD,
    CONF_NO_POWER_CURRENT,
    CONF_MAX_RESETS_PER_DAY,
    CONF_RECURRENCE_COUNT,
    CONF_RECURRENCE_DAYS,
]
# Timings other than the defaults, every one inside its bounds.
NEW_TIMINGS = {
    CONF_DISCHARGE_MINUTES: 45,
    CONF_STARTUP_DELAY_MINUTES: 10,
    CONF_STOP_TIMEOUT_SECONDS: 60,
    CONF_SWITCH_TIMEOUT_SECONDS: 20,
    CONF_STAGGER_SECONDS: 20,
    CONF_VERIFY_MINUTES: 30,
    CONF_POWER_THRESHOLD: 50.5,
    CONF_NO_POWER_THRESHOLD: 2.5,
    CONF_CURRENT_THRESHOLD: 1.5,
    CONF_NO_POWER_CURRENT: 0.02,
    CONF_MAX_RESETS_PER_DAY: 4,
    CONF_RECURRENCE_COUNT: 5,
    CONF_RECURRENCE_DAYS: 60,
}
# Each timing's allowed range, as the spec and the form state it.
BOUNDS = {
    CONF_DISCHARGE_MINUTES: (30, 240),
    CONF_STARTUP_DELAY_MINUTES: (0, 30),
    CONF_STOP_TIMEOUT_SECONDS: (10, 900),
    CONF_SWITCH_TIMEOUT_SECONDS: (5, 300),
    CONF_STAGGER_SECONDS: (0, 300),
    CONF_VERIFY_MINUTES: (1, 120),
    CONF_POWER_THRESHOLD: (0, 100000),
    CONF_NO_POWER_THRESHOLD: (0, 1000),
    CONF_CURRENT_THRESHOLD: (0, 1000),
    CONF_NO_POWER_CURRENT: (0, 10),
    CONF_MAX_RESETS_PER_DAY: (1, 10),
    CONF_RECURRENCE_COUNT: (2, 10),
    CONF_RECURRENCE_DAYS: (1, 365),
}


@pytest.fixture
def other_thermostats(hass: HomeAssistant) -> None:
    """A thermostat without an off mode, and a second one with it, both as plain states."""
    hass.states.async_set(NO_OFF, "heat", {"hvac_modes": ["heat"]})
    hass.states.async_set(OTHER_THERMOSTAT, "heat", {"hvac_modes": ["off", "heat"]})


def section_of(key: str) -> str:
    """Return the options form's section that holds `key`."""
    return next(name for name, keys in OPTION_SECTIONS.items() if key in keys)


def form_fields(result: dict[str, Any]) -> list[str]:
    """Return the field names of a form, in order."""
    return [str(marker.schema) for marker in result["data_schema"].schema]


def prefilled(result: dict[str, Any]) -> dict[str, Any]:
    """Return what a form shows before the user types: defaults and suggested values."""
    values: dict[str, Any] = {}
    for marker in result["data_schema"].schema:
        if marker.default is not vol.UNDEFINED:
            values[str(marker.schema)] = marker.default()
        elif marker.description and "suggested_value" in marker.description:
            values[str(marker.schema)] = marker.description["suggested_value"]
    return values


async def start_user_flow(hass: HomeAssistant) -> dict[str, Any]:
    """Open the add-a-heat-pump form."""
    return await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})


async def start_reconfigure(hass: HomeAssistant, entry: ConfigEntry) -> dict[str, Any]:
    """Open the reconfigure form of `entry`."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )


def our_entries(hass: HomeAssistant) -> list[ConfigEntry]:
    """Return the heat pump reset entries."""
    return hass.config_entries.async_entries(DOMAIN)


def entities_input(
    thermostat: str = THERMOSTAT, switches: list[str] | None = None, sensor: str | None = None
) -> dict[str, Any]:
    """Return a submitted entities form."""
    data: dict[str, Any] = {
        CONF_THERMOSTAT: thermostat,
        CONF_SWITCHES: [SWITCH_A, SWITCH_B] if switches is None else switches,
    }
    if sensor is not None:
        data[CONF_POWER_SENSOR] = sensor
    return data


# Entity picks the flows refuse, and the form errors they show.
ENTITY_ERRORS = pytest.mark.parametrize(
    ("picked", "errors"),
    [
        ({CONF_THERMOSTAT: NO_OFF}, {CONF_THERMOSTAT: "thermostat_no_off"}),
        ({CONF_THERMOSTAT: MISSING}, {CONF_THERMOSTAT: "thermostat_not_found"}),
        ({CONF_SWITCHES: [SWITCH_A, SWITCH_A]}, {CONF_SWITCHES: "duplicate_switches"}),
        (
            {CONF_SWITCHES: [SWITCH_A, SWITCH_B, SWITCH_A]},
            {CONF_SWITCHES: "duplicate_switches"},
        ),
        ({CONF_SWITCHES: []}, {CONF_SWITCHES: "no_switches"}),
        (
            {CONF_THERMOSTAT: MISSING, CONF_SWITCHES: [SWITCH_B, SWITCH_B]},
            {CONF_THERMOSTAT: "thermostat_not_found", CONF_SWITCHES: "duplicate_switches"},
        ),
    ],
    ids=["no_off", "not_found", "duplicate", "duplicate_apart", "no_switches", "both"],
)


# --- Adding a heat pump ---------------------------------------------------------------------


async def test_user_form_prefills_only_the_name(hass: HomeAssistant, heat_pump: HeatPump) -> None:
    """The add form asks name, thermostat, switches and sensor; only the name has a default."""
    result = await start_user_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert form_fields(result) == [
        CONF_NAME,
        CONF_THERMOSTAT,
        CONF_SWITCHES,
        CONF_POWER_SENSOR,
        CONF_FAULT_ENTITIES,
    ]
    assert prefilled(result) == {CONF_NAME: "Heat pump"}


@pytest.mark.parametrize(
    ("switches", "sensor"),
    [
        ([SWITCH_A, SWITCH_B], None),
        ([SWITCH_B, SWITCH_A], None),
        ([SWITCH_B], SENSOR),
    ],
    ids=["in_order", "order_kept", "one_switch_and_sensor"],
)
async def test_user_step_creates_entry_with_default_timings(
    hass: HomeAssistant, heat_pump: HeatPump, switches: list[str], sensor: str | None
) -> None:
    """The entry is titled by the name, keeps no data, and holds default timings plus the entities."""
    set_power(hass, "0")
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Living room heat pump", **entities_input(switches=switches, sensor=sensor)},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Living room heat pump"
    assert result["data"] == {}
    expected = {
        CONF_DISCHARGE_MINUTES: 30,
        CONF_STARTUP_DELAY_MINUTES: 5,
        CONF_STOP_TIMEOUT_SECONDS: 120,
        CONF_SWITCH_TIMEOUT_SECONDS: 30,
        CONF_STAGGER_SECONDS: 10,
        CONF_VERIFY_MINUTES: 15,
        CONF_POWER_THRESHOLD: 100.0,
        CONF_CURRENT_THRESHOLD: 0.5,
        CONF_NO_POWER_THRESHOLD: 5.0,
        CONF_NO_POWER_CURRENT: 0.05,
        CONF_MAX_RESETS_PER_DAY: 2,
        CONF_RECURRENCE_COUNT: 3,
        CONF_RECURRENCE_DAYS: 30,
        CONF_THERMOSTAT: THERMOSTAT,
        CONF_SWITCHES: switches,
        CONF_POWER_SENSOR: sensor,
    }
    assert result["options"] == expected
    [created] = our_entries(hass)
    assert created.unique_id == THERMOSTAT
    assert created.title == "Living room heat pump"
    assert dict(created.options) == expected
    assert created.state is ConfigEntryState.LOADED
    assert created.runtime_data.settings.switches == switches
    assert created.runtime_data.settings.sensor == sensor
    assert state(hass, PHASE).state == "idle"


async def test_user_step_aborts_for_a_thermostat_already_configured(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A second heat pump on the same thermostat: not offered; added meanwhile, the flow aborts."""
    result = await start_user_flow(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_NAME: "Again", **entities_input(switches=[SWITCH_B])}
        )
    # Set up while the form was open (another tab): the unique id check is the last word.
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    result = await start_user_flow(hass)
    again = MockConfigEntry(
        domain=DOMAIN,
        title="Heat pump",
        data={},
        options={**DEFAULT_OPTIONS, **entities_input(switches=[SWITCH_A])},
        unique_id=THERMOSTAT,
    )
    again.add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Again", **entities_input(switches=[SWITCH_B])}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert our_entries(hass) == [again]
    assert again.options[CONF_SWITCHES] == [SWITCH_A]


@ENTITY_ERRORS
async def test_user_step_refuses_unusable_entities(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    other_thermostats: None,
    picked: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Unusable picks re-show the form with the errors and the picks; fixing them creates the entry."""
    result = await start_user_flow(hass)
    submitted = {CONF_NAME: "Heat pump", **entities_input(), **picked}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], submitted)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == errors
    shown = prefilled(result)
    assert shown[CONF_THERMOSTAT] == submitted[CONF_THERMOSTAT]
    assert shown[CONF_SWITCHES] == submitted[CONF_SWITCHES]
    assert our_entries(hass) == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Heat pump", **entities_input()}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert [e.unique_id for e in our_entries(hass)] == [THERMOSTAT]


@pytest.mark.parametrize(
    "picked",
    [
        {CONF_THERMOSTAT: SWITCH_A},
        {CONF_SWITCHES: [THERMOSTAT]},
        {CONF_SWITCHES: SWITCH_A},
        {CONF_POWER_SENSOR: SWITCH_A},
    ],
    ids=["thermostat_not_climate", "switch_not_switch", "switches_not_a_list", "sensor_not_sensor"],
)
async def test_user_step_selectors_reject_wrong_domains(
    hass: HomeAssistant, heat_pump: HeatPump, picked: dict[str, Any]
) -> None:
    """The entity pickers only accept climate, switch (a list) and sensor entities."""
    result = await start_user_flow(hass)
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_NAME: "Heat pump", **entities_input(), **picked}
        )
    assert our_entries(hass) == []


# --- Options: the timings -------------------------------------------------------------------


async def test_options_form_shows_current_timings(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The options form lists only the timings and the threshold, prefilled with the current values."""
    hass.config_entries.async_update_entry(entry, options={**entry.options, **NEW_TIMINGS})
    await hass.async_block_till_done()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    # Grouped in sections (issue 15, item 5), each open; the fields inside keep their order.
    assert form_fields(result) == ["timings", "running", "limits", "faults", "outages"]
    assert list(form_fields_flat(result)) == [
        *TIMING_KEYS,
        CONF_FAULT_ENTITIES,
        CONF_NO_FAULT_STATES,
        CONF_OUTAGE_PROTECTION,
        CONF_MAINS_ENTITY,
        CONF_OUTDOOR_TEMPERATURE,
        CONF_WARMUP_AFTER_MINUTES,
        CONF_WARMUP_TEMPERATURE,
        CONF_LONGEST_WARMUP_MINUTES,
        CONF_ROOM_FLOOR,
        CONF_ROOM_TEMPERATURE,
    ]
    shown = {
        key: marker.default()
        for key, (marker, _validator) in form_fields_flat(result).items()
        if marker.default is not vol.UNDEFINED
    }
    assert shown == {
        **NEW_TIMINGS,
        CONF_NO_FAULT_STATES: list(DEFAULT_NO_FAULT_STATES),
        # Outage protection is off unless turned on (issue 14).
        CONF_OUTAGE_PROTECTION: False,
        # The warm-up's defaults: 60 minutes, 10 °C, 4 hours.
        CONF_WARMUP_AFTER_MINUTES: 60,
        CONF_WARMUP_TEMPERATURE: 10.0,
        CONF_LONGEST_WARMUP_MINUTES: 240,
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [(key, low - 1) for key, (low, _high) in BOUNDS.items()]
    + [(key, high + 1) for key, (_low, high) in BOUNDS.items()]
    + [(CONF_DISCHARGE_MINUTES, 29.5), (CONF_DISCHARGE_MINUTES, "thirty")],
)
async def test_options_refuse_out_of_range_values(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, key: str, value: Any
) -> None:
    """A timing outside its bounds (e.g. a 29 or 241 min discharge wait) is refused; nothing changes."""
    before = dict(entry.options)
    controller = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(InvalidData) as err:
        await hass.config_entries.options.async_configure(
            result["flow_id"], sectioned({**DEFAULT_OPTIONS, key: value})
        )
    # HA maps no error inside a section to its field: the error's path names it.
    assert err.value.path == [section_of(key), key]
    await hass.async_block_till_done()
    assert dict(entry.options) == before
    assert entry.runtime_data is controller
    # The form is still open and takes a valid value.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], sectioned(DEFAULT_OPTIONS)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("end", [0, 1], ids=["lowest", "highest"])
async def test_options_accept_the_bounds(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, end: int
) -> None:
    """Every timing accepts both ends of its range, stored as whole numbers (thresholds: floats)."""
    chosen = {key: bounds[end] for key, bounds in BOUNDS.items()}
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], sectioned(chosen))
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    for key, value in chosen.items():
        assert entry.options[key] == value
        thresholds = (
            CONF_POWER_THRESHOLD,
            CONF_CURRENT_THRESHOLD,
            CONF_NO_POWER_THRESHOLD,
            CONF_NO_POWER_CURRENT,
        )
        assert type(entry.options[key]) is (float if key in thresholds else int)


async def test_options_save_merged_and_reload_the_entry(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Saved timings keep the entities; the entry reloads and its controller uses the new timings."""
    old_controller = entry.runtime_data
    result = await hass.config_entries.options.async_init(entry.entry_id)
    # The number boxes send floats; whole-number timings are stored as int.
    submitted = {k: float(v) for k, v in NEW_TIMINGS.items()}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], sectioned(submitted)
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    expected = {
        **NEW_TIMINGS,
        CONF_THERMOSTAT: THERMOSTAT,
        CONF_SWITCHES: [SWITCH_A, SWITCH_B],
        CONF_POWER_SENSOR: None,
    }
    assert dict(entry.options) == expected
    assert entry.data == {}
    assert entry.state is ConfigEntryState.LOADED
    controller = entry.runtime_data
    assert controller is not old_controller
    assert controller.settings.timing == Timing(
        discharge=timedelta(minutes=45),
        startup_delay=timedelta(minutes=10),
        stop_timeout=timedelta(seconds=60),
        switch_timeout=timedelta(seconds=20),
        stagger=timedelta(seconds=20),
        verify_window=timedelta(minutes=30),
        thermostat_return=old_controller.settings.timing.thermostat_return,
    )
    assert controller.settings.power_threshold == 50.5
    assert controller.settings.current_threshold == 1.5
    assert controller.settings.switches == [SWITCH_A, SWITCH_B]
    assert state(hass, PHASE).state == "idle"


async def test_options_sections_save_the_same_flat_options(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The sections only group the form: saving it unchanged stores exactly the options as before.

    Flat, the same keys and values (the entities untouched), no section name among them: the
    controller, diagnostics and older releases read them as they always have.
    """
    before = dict(entry.options)
    assert before == {
        **DEFAULT_OPTIONS,
        CONF_THERMOSTAT: THERMOSTAT,
        CONF_SWITCHES: [SWITCH_A, SWITCH_B],
        CONF_POWER_SENSOR: None,
    }
    result = await hass.config_entries.options.async_init(entry.entry_id)
    # What the frontend sends for an untouched form: each section with its shown values.
    untouched = {
        name: {
            str(marker): marker.default()
            for marker in validator.schema.schema
            if marker.default is not vol.UNDEFINED
        }
        for marker_name, validator in result["data_schema"].schema.items()
        if (name := str(marker_name))
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], untouched)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert dict(entry.options) == before
    assert not set(entry.options) & set(OPTION_SECTIONS)
    assert all(not isinstance(value, dict) for value in entry.options.values())


async def test_options_change_during_discharge_keeps_the_run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """New timings mid-run: the discharge keeps its end time; the new stagger applies to the restore."""
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"
    ends_at = state(hass, ENDS_AT).state

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        sectioned({**DEFAULT_OPTIONS, CONF_DISCHARGE_MINUTES: 60, CONF_STAGGER_SECONDS: 20}),
    )
    await settle(hass)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.settings.timing.discharge == timedelta(minutes=60)
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, ENDS_AT).state == ends_at
    assert [s.is_on for s in heat_pump.switches] == [False, False]

    await advance(hass, freezer, timedelta(minutes=29, seconds=59), step=timedelta(seconds=5))
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    await advance(hass, freezer, timedelta(seconds=1))
    assert [s.is_on for s in heat_pump.switches] == [True, False]
    await advance(hass, freezer, timedelta(seconds=19))
    assert not heat_pump.switch_b.is_on
    await advance(hass, freezer, timedelta(seconds=1))
    assert heat_pump.switch_b.is_on
    assert state(hass, PHASE).state == "starting_up"


# --- Reconfigure: the wrapped entities ------------------------------------------------------


@pytest.mark.parametrize(
    "options", [{CONF_SWITCHES: [SWITCH_B, SWITCH_A], CONF_POWER_SENSOR: SENSOR}], indirect=True
)
async def test_reconfigure_form_shows_current_entities(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The reconfigure form asks only for the entities, prefilled with the current ones."""
    result = await start_reconfigure(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {}
    assert form_fields(result) == [
        CONF_THERMOSTAT,
        CONF_SWITCHES,
        CONF_POWER_SENSOR,
        CONF_FAULT_ENTITIES,
    ]
    assert prefilled(result) == {
        CONF_THERMOSTAT: THERMOSTAT,
        CONF_SWITCHES: [SWITCH_B, SWITCH_A],
        CONF_POWER_SENSOR: SENSOR,
    }


async def test_reconfigure_form_without_sensor_suggests_none(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """With no power sensor configured the sensor field starts empty."""
    result = await start_reconfigure(hass, entry)
    assert CONF_POWER_SENSOR not in prefilled(result)


@pytest.mark.parametrize("options", [{**NEW_TIMINGS, CONF_POWER_SENSOR: SENSOR}], indirect=True)
@pytest.mark.parametrize(
    ("submitted", "switches", "sensor"),
    [
        (
            entities_input(switches=[SWITCH_B, SWITCH_A], sensor=SENSOR),
            [SWITCH_B, SWITCH_A],
            SENSOR,
        ),
        (entities_input(switches=[SWITCH_B], sensor=SENSOR), [SWITCH_B], SENSOR),
        (entities_input(), [SWITCH_A, SWITCH_B], None),
        (
            entities_input(sensor="sensor.other_power"),
            [SWITCH_A, SWITCH_B],
            "sensor.other_power",
        ),
    ],
    ids=["reorder", "drop_switch", "drop_sensor", "change_sensor"],
)
async def test_reconfigure_updates_entities_and_reloads(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    submitted: dict[str, Any],
    switches: list[str],
    sensor: str | None,
) -> None:
    """New entities are saved (order kept, timings untouched), the flow aborts successful, the entry reloads."""
    set_power(hass, "0")
    set_power(hass, "0", "kW", entity_id="sensor.other_power")
    old_controller = entry.runtime_data
    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], submitted)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert dict(entry.options) == {
        **DEFAULT_OPTIONS,
        **NEW_TIMINGS,
        CONF_THERMOSTAT: THERMOSTAT,
        CONF_SWITCHES: switches,
        CONF_POWER_SENSOR: sensor,
    }
    assert entry.unique_id == THERMOSTAT
    assert entry.state is ConfigEntryState.LOADED
    controller = entry.runtime_data
    assert controller is not old_controller
    assert controller.settings.switches == switches
    assert controller.settings.sensor == sensor
    assert controller.settings.timing.discharge == timedelta(minutes=45)
    assert our_entries(hass) == [entry]


async def test_reconfigure_to_another_thermostat_moves_the_unique_id(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, other_thermostats: None
) -> None:
    """Picking a free thermostat with an off mode updates the entry and its unique id."""
    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entities_input(thermostat=OTHER_THERMOSTAT, switches=[SWITCH_A])
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.unique_id == OTHER_THERMOSTAT
    assert entry.options[CONF_THERMOSTAT] == OTHER_THERMOSTAT
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.settings.thermostat == OTHER_THERMOSTAT

    # The old thermostat and switch B are free again: they can get their own heat pump reset.
    result = await start_user_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Second", **entities_input(switches=[SWITCH_B])}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert {e.unique_id for e in our_entries(hass)} == {THERMOSTAT, OTHER_THERMOSTAT}


async def test_reconfigure_to_a_thermostat_of_another_entry_aborts(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, other_thermostats: None
) -> None:
    """A thermostat another heat pump reset already wraps aborts with already_configured."""
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        data={},
        options={**DEFAULT_OPTIONS, **entities_input(thermostat=OTHER_THERMOSTAT)},
        unique_id=OTHER_THERMOSTAT,
    )
    before = dict(entry.options)
    # Added while the form is open (otherwise the form does not offer its thermostat).
    result = await start_reconfigure(hass, entry)
    other.add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entities_input(thermostat=OTHER_THERMOSTAT, switches=[SWITCH_B])
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert dict(entry.options) == before
    assert entry.unique_id == THERMOSTAT
    assert other.unique_id == OTHER_THERMOSTAT
    assert entry.state is ConfigEntryState.LOADED


@ENTITY_ERRORS
async def test_reconfigure_refuses_unusable_entities(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    other_thermostats: None,
    picked: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Unusable picks re-show the reconfigure form with the errors; the entry is left as it was."""
    before = dict(entry.options)
    controller = entry.runtime_data
    result = await start_reconfigure(hass, entry)
    submitted = {**entities_input(), **picked}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], submitted)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == errors
    shown = prefilled(result)
    assert shown[CONF_THERMOSTAT] == submitted[CONF_THERMOSTAT]
    assert shown[CONF_SWITCHES] == submitted[CONF_SWITCHES]
    assert dict(entry.options) == before
    assert entry.unique_id == THERMOSTAT
    assert entry.runtime_data is controller


async def test_reconfigure_during_discharge_keeps_the_run_entities(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A run in progress keeps the switches it started with: both come back after a reconfigure."""
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"

    result = await start_reconfigure(hass, entry)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entities_input(switches=[SWITCH_B])
    )
    await settle(hass)
    assert result["reason"] == "reconfigure_successful"
    assert entry.runtime_data.settings.switches == [SWITCH_B]
    assert state(hass, PHASE).state == "discharging"
    assert [s.is_on for s in heat_pump.switches] == [False, False]

    await advance(hass, freezer, timedelta(minutes=30, seconds=15), step=timedelta(seconds=5))
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert state(hass, PHASE).state == "starting_up"


# --- A switch or thermostat belongs to one heat pump (issue 11, item 2) ---------------------

SWITCH_C = "switch.breaker_c"


def bedroom(
    thermostat: str = OTHER_THERMOSTAT, switches: list[str] | None = None
) -> MockConfigEntry:
    """Return a second heat pump ("Bedroom"), not yet added, wrapping the given entities."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        data={},
        options={
            **DEFAULT_OPTIONS,
            **entities_input(thermostat=thermostat, switches=switches or [SWITCH_C]),
        },
        # An entry edited by hand, or set up by an older release, may name another thermostat.
        unique_id="climate.edited_by_hand",
    )


GARAGE_THERMOSTAT = "climate.garage"
SWITCH_D = "switch.breaker_d"


def excluded(result: dict[str, Any], field: str) -> list[str]:
    """Return the entities a form's entity field does not offer."""
    for marker, validator in result["data_schema"].schema.items():
        if str(marker) == field:
            return list(validator.config.get("exclude_entities", []))
    raise AssertionError(f"no field {field}")


@pytest.mark.parametrize("picked", [[SWITCH_C], [SWITCH_D, SWITCH_C]], ids=["first", "second"])
async def test_user_step_refuses_a_switch_another_heat_pump_uses(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    other_thermostats: None,
    picked: list[str],
) -> None:
    """A power switch another heat pump took while the form was open: a form error names it.

    The form does not offer another heat pump's switches (see below); this is the last line of
    defence, for one set up in another tab meanwhile.
    """
    hass.states.async_set(SWITCH_C, "on")
    hass.states.async_set(SWITCH_D, "on")
    hass.states.async_set(GARAGE_THERMOSTAT, "heat", {"hvac_modes": ["off", "heat"]})
    result = await start_user_flow(hass)
    bedroom().add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Garage", **entities_input(thermostat=GARAGE_THERMOSTAT, switches=picked)},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SWITCHES: "switch_in_use"}
    assert result["description_placeholders"] == {"switch": SWITCH_C, "switch_owner": "Bedroom"}
    assert len(our_entries(hass)) == 2

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Garage", **entities_input(thermostat=GARAGE_THERMOSTAT, switches=[SWITCH_D])},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_forms_do_not_offer_what_another_heat_pump_uses(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, other_thermostats: None
) -> None:
    """Issue 15, item 5: the set-up and Reconfigure forms leave out other heat pumps' thermostats
    and switches, instead of refusing them once the whole form is filled in."""
    hass.states.async_set(SWITCH_C, "on")
    result = await start_user_flow(hass)
    used = [THERMOSTAT, SWITCH_A, SWITCH_B]
    assert excluded(result, CONF_THERMOSTAT) == used
    assert excluded(result, CONF_SWITCHES) == used
    # The sensor is only read: several heat pumps may share it.
    assert excluded(result, CONF_POWER_SENSOR) == []
    for picked in ({CONF_THERMOSTAT: THERMOSTAT}, {CONF_SWITCHES: [SWITCH_C, SWITCH_A]}):
        with pytest.raises(InvalidData):
            await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {CONF_NAME: "Bedroom", **entities_input(OTHER_THERMOSTAT, [SWITCH_C]), **picked},
            )
    assert our_entries(hass) == [entry]

    # A second heat pump: each one's Reconfigure leaves out the other's, not its own.
    other = bedroom(switches=[SWITCH_C])
    other.add_to_hass(hass)
    result = await start_reconfigure(hass, entry)
    assert excluded(result, CONF_THERMOSTAT) == [OTHER_THERMOSTAT, SWITCH_C]
    assert excluded(result, CONF_SWITCHES) == [OTHER_THERMOSTAT, SWITCH_C]
    result = await start_reconfigure(hass, other)
    assert excluded(result, CONF_SWITCHES) == used


async def test_switches_can_be_put_in_order_where_the_frontend_can(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The switch list is reorderable on releases whose selector knows `reorder` (2026.x)."""
    knows_reorder = "reorder" in EntitySelectorConfig.__optional_keys__
    for result in (await start_user_flow(hass), await start_reconfigure(hass, entry)):
        for marker, validator in result["data_schema"].schema.items():
            if str(marker) == CONF_SWITCHES:
                assert validator.config.get("reorder", False) is knows_reorder
                assert validator.config["multiple"] is True


async def test_user_step_refuses_a_thermostat_another_heat_pump_uses(
    hass: HomeAssistant, heat_pump: HeatPump, other_thermostats: None
) -> None:
    """A thermostat another entry wraps (its unique id says otherwise) is refused, naming it."""
    # Set up while the form is open (otherwise the form does not offer it).
    result = await start_user_flow(hass)
    bedroom().add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Again", **entities_input(thermostat=OTHER_THERMOSTAT, switches=[SWITCH_A])},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_THERMOSTAT: "thermostat_in_use"}
    assert result["description_placeholders"] == {"thermostat_owner": "Bedroom"}
    assert len(our_entries(hass)) == 1


async def test_reconfigure_refuses_a_switch_another_heat_pump_uses(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, other_thermostats: None
) -> None:
    """Reconfigure refuses another heat pump's switch or thermostat; the entry stays as it was."""
    hass.states.async_set(SWITCH_C, "on")
    before = dict(entry.options)
    controller = entry.runtime_data
    # Set up while the form is open (otherwise the form does not offer its entities).
    result = await start_reconfigure(hass, entry)
    bedroom().add_to_hass(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entities_input(switches=[SWITCH_A, SWITCH_C])
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_SWITCHES: "switch_in_use"}
    assert result["description_placeholders"] == {"switch": SWITCH_C, "switch_owner": "Bedroom"}
    # The form shown again no longer offers the other heat pump's entities at all.
    assert excluded(result, CONF_THERMOSTAT) == [OTHER_THERMOSTAT, SWITCH_C]
    with pytest.raises(InvalidData):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], entities_input(thermostat=OTHER_THERMOSTAT)
        )
    await hass.async_block_till_done()
    assert dict(entry.options) == before
    assert entry.runtime_data is controller

    # Its own switches are not "another heat pump's".
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entities_input(switches=[SWITCH_B])
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"


async def test_options_turn_outage_protection_on_and_off(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The Outages section stores protection and the mains entity; off and emptied, neither (issue 14)."""
    before = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **sectioned(DEFAULT_OPTIONS),
            "outages": {CONF_OUTAGE_PROTECTION: True, CONF_MAINS_ENTITY: "binary_sensor.mains"},
        },
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_OUTAGE_PROTECTION] is True
    assert entry.options[CONF_MAINS_ENTITY] == "binary_sensor.mains"
    assert entry.runtime_data.settings.outage_protection is True
    assert entry.runtime_data.settings.mains_entity == "binary_sensor.mains"
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**sectioned(DEFAULT_OPTIONS), "outages": {CONF_OUTAGE_PROTECTION: False}},
    )
    await hass.async_block_till_done()
    assert dict(entry.options) == before
    assert entry.runtime_data.settings.outage_protection is False


async def test_options_keep_the_warm_up_in_celsius_and_show_it_in_fahrenheit(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """In °F the form shows 50 °F for 10 °C; 41 °F and a 59 °F floor are stored as 5 and 15 °C."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = form_fields_flat(result)
    assert fields[CONF_WARMUP_TEMPERATURE][0].default() == 50.0
    outages = {
        CONF_OUTAGE_PROTECTION: True,
        CONF_OUTDOOR_TEMPERATURE: "sensor.outdoor",
        CONF_WARMUP_AFTER_MINUTES: 90,
        CONF_WARMUP_TEMPERATURE: 41,
        CONF_LONGEST_WARMUP_MINUTES: 360,
        CONF_ROOM_FLOOR: 59,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**sectioned(DEFAULT_OPTIONS), "outages": outages}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_WARMUP_TEMPERATURE] == 5.0
    assert entry.options[CONF_ROOM_FLOOR] == 15.0
    warmup = entry.runtime_data.settings.warmup
    assert (warmup.after_minutes, warmup.at_or_below, warmup.longest_minutes) == (90, 5.0, 360)
    assert (warmup.outdoor_entity, warmup.room_floor) == ("sensor.outdoor", 15.0)
    # Shown again as typed.
    result = await hass.config_entries.options.async_init(entry.entry_id)
    fields = form_fields_flat(result)
    assert fields[CONF_WARMUP_TEMPERATURE][0].default() == 41.0
    assert fields[CONF_ROOM_FLOOR][0].description == {"suggested_value": 59.0}


@pytest.mark.parametrize(
    "outages",
    [
        {CONF_LONGEST_WARMUP_MINUTES: 721},
        {CONF_LONGEST_WARMUP_MINUTES: -1},
        {CONF_WARMUP_AFTER_MINUTES: 1441},
        {CONF_WARMUP_TEMPERATURE: 31},
        {CONF_ROOM_FLOOR: 26},
    ],
)
async def test_options_refuse_a_warm_up_out_of_range(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, outages: dict[str, Any]
) -> None:
    """Longer than 12 hours, a warm-up temperature above 30 °C, a floor above 25 °C: refused."""
    before = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    with pytest.raises(vol.Invalid):
        await hass.config_entries.options.async_configure(
            result["flow_id"],
            {**sectioned(DEFAULT_OPTIONS), "outages": {CONF_OUTAGE_PROTECTION: True, **outages}},
        )
    assert dict(entry.options) == before


@pytest.mark.parametrize(
    ("key", "error"),
    [
        (CONF_MAINS_ENTITY, "mains_entity_kind"),
        (CONF_OUTDOOR_TEMPERATURE, "temperature_entity_kind"),
        (CONF_ROOM_TEMPERATURE, "temperature_entity_kind"),
    ],
)
async def test_options_refuse_an_outage_entity_of_another_kind(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, key: str, error: str
) -> None:
    """A switch as the mains, outdoor or room entity (through the API): refused, nothing saved."""
    before = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {**sectioned(DEFAULT_OPTIONS), "outages": {CONF_OUTAGE_PROTECTION: True, key: SWITCH_A}},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert dict(entry.options) == before

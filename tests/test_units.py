"""The running threshold in the sensor's own unit (issue 11, items 1, 11 and 23).

A power sensor's reading is converted to W and a current sensor's to A with Home Assistant's unit
converters before any comparison; a unit that cannot be converted reads as unreadable (= running).
"""

from __future__ import annotations

from datetime import timedelta
import json
import math
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate.const import HVACAction
from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER, ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.heat_pump_reset.const import (
    CONF_CURRENT_THRESHOLD,
    CONF_DISCHARGE_MINUTES,
    CONF_NO_POWER_CURRENT,
    CONF_NO_POWER_THRESHOLD,
    CONF_POWER_SENSOR,
    CONF_POWER_THRESHOLD,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)
from custom_components.heat_pump_reset.run import Run, Trigger
from custom_components.heat_pump_reset.running import above_threshold
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS

from .harness.circuit import Circuit
from .harness.driving import advance, set_power, settle, start, state, store_key
from .harness.entity_ids import OUTCOME, PHASE, SENSOR, SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import HeatPump
from .harness.forms import form_fields_flat, sectioned
from .harness.timings import STOP_TIMEOUT, UNTIL_RESTORE

WITH_SENSOR = pytest.mark.parametrize("options", [{CONF_POWER_SENSOR: SENSOR}], indirect=True)
OTHER_SENSOR = "sensor.other_power"


def assert_no_cut(hass: HomeAssistant, pump: HeatPump) -> None:
    """The run ended failed before any power switch was commanded."""
    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == "failed"
    assert pump.switch_a.commands == []
    assert pump.switch_b.commands == []
    assert [s.is_on for s in pump.switches] == [True, True]


# --- Item 1: readings are converted before they are compared --------------------------------


@WITH_SENSOR
@pytest.mark.parametrize(
    ("reading", "unit"),
    [
        ("2.5", "kW"),
        ("15", "A"),
        ("1", "A"),
        ("-2500", "W"),
        ("-15", "A"),
        ("-0.8", "kW"),
        ("0", "%"),
        ("0", None),
        ("0", "V"),
        ("0", "kWh"),
        ("nan", "W"),
        ("inf", "W"),
    ],
    ids=[
        "kw_running",
        "current_running",
        "one_amp",
        "negative_w",
        "negative_a",
        "negative_kw",
        "percent",
        "no_unit",
        "volts",
        "energy",
        "nan",
        "inf",
    ],
)
async def test_reading_that_shows_running_or_cannot_be_read_blocks_the_cut(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    reading: str,
    unit: str | None,
) -> None:
    """A running compressor in kW or A, a reversed clamp, or a unit that cannot be converted: no cut.

    The thermostat reports off and idle all along: only the sensor shows (or cannot rule out) load.
    """
    set_power(hass, reading, unit)
    await start(hass, entry)
    assert heat_pump.thermostat.hvac_mode == "off"
    assert heat_pump.thermostat.hvac_action == HVACAction.OFF
    await advance(hass, freezer, STOP_TIMEOUT + timedelta(seconds=5), step=timedelta(seconds=5))
    assert_no_cut(hass, heat_pump)
    assert state(hass, OUTCOME).attributes["detail"] == "thermostat_did_not_stop"


@WITH_SENSOR
@pytest.mark.parametrize(
    ("reading", "unit"),
    [
        ("50000", "mW"),
        ("400", "mA"),
        ("0.05", "kW"),
        ("0.3", "A"),
        ("-60", "W"),
        ("100", "W"),
        ("0.5", "A"),
    ],
    ids=["mw", "ma", "kw", "amps", "negative_w", "at_w_threshold", "at_a_threshold"],
)
async def test_idle_reading_in_any_convertible_unit_lets_the_cut_proceed(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    reading: str,
    unit: str,
) -> None:
    """A standby reading (at or below 100 W or 0.5 A once converted) lets the cut go ahead."""
    set_power(hass, reading, unit)
    await start(hass, entry)
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    # The switches report off: the reading falls to "no power" (issue 13), and the wait begins.
    set_power(hass, "0", unit)
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"


@WITH_SENSOR
async def test_kw_sensor_starting_before_the_cut_stops_it(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """A kW sensor going from 0.5 kW down to standby lets the cut proceed only once it is below 100 W."""
    set_power(hass, "0.5", "kW")
    await start(hass, entry)
    await advance(hass, freezer, timedelta(seconds=30), step=timedelta(seconds=5))
    assert state(hass, PHASE).state == "stopping_thermostat"
    assert heat_pump.switch_a.commands == []
    set_power(hass, "0.02", "kW")
    await settle(hass)
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    set_power(hass, "0", "kW")
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"


@WITH_SENSOR
@pytest.mark.parametrize(
    ("reading", "unit", "outcome"),
    [
        ("1.2", "kW", "succeeded"),
        ("6", "A", "succeeded"),
        ("-1200", "W", "succeeded"),
        ("1200", "%", "no_start"),
        ("1200", None, "no_start"),
    ],
    ids=["kw", "amps", "negative", "percent", "no_unit"],
)
async def test_verification_converts_the_reading(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    reading: str,
    unit: str | None,
    outcome: str,
) -> None:
    """After the restore, a start shows in kW or A too; a reading in an unknown unit is no start."""
    Circuit(hass).start()
    await start(hass, entry)
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await advance(hass, freezer, UNTIL_RESTORE + timedelta(minutes=2), step=timedelta(seconds=10))
    assert state(hass, PHASE).state == "verifying"
    set_power(hass, reading, unit)
    await settle(hass)
    await advance(hass, freezer, timedelta(minutes=15), step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == outcome


# --- Item 1: the flows refuse a sensor whose unit cannot be converted ------------------------


def entities(sensor: str | None) -> dict[str, Any]:
    """Return a submitted entities form with `sensor`."""
    data: dict[str, Any] = {CONF_THERMOSTAT: THERMOSTAT, CONF_SWITCHES: [SWITCH_A, SWITCH_B]}
    if sensor is not None:
        data[CONF_POWER_SENSOR] = sensor
    return data


UNUSABLE_UNITS = pytest.mark.parametrize(
    ("reading", "unit"),
    [("40", "%"), ("40", None), ("230", "V"), ("12", "kWh"), (None, None)],
    ids=["percent", "no_unit", "volts", "energy", "missing"],
)


@UNUSABLE_UNITS
async def test_user_step_refuses_a_sensor_without_a_convertible_unit(
    hass: HomeAssistant, heat_pump: HeatPump, reading: str | None, unit: str | None
) -> None:
    """A sensor in %, without a unit, in V or kWh, or not there: a translated form error."""
    if reading is not None:
        set_power(hass, reading, unit)
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Heat pump", **entities(SENSOR)}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_POWER_SENSOR: "sensor_unit"}
    assert hass.config_entries.async_entries(DOMAIN) == []
    # A power sensor in kW is taken.
    set_power(hass, "0.1", "kW")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Heat pump", **entities(SENSOR)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][CONF_POWER_SENSOR] == SENSOR


async def test_user_step_takes_the_unit_from_the_registry_when_not_loaded(
    hass: HomeAssistant, heat_pump: HeatPump
) -> None:
    """A sensor whose integration has not loaded yet is judged by its registered unit."""
    registry = er.async_get(hass)
    registry.async_get_or_create(
        "sensor", "test", "amps", suggested_object_id="heat_pump_current", unit_of_measurement="A"
    )
    registry.async_get_or_create(
        "sensor", "test", "pct", suggested_object_id="humidity", unit_of_measurement="%"
    )
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Heat pump", **entities("sensor.humidity")}
    )
    assert result["errors"] == {CONF_POWER_SENSOR: "sensor_unit"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Heat pump", **entities("sensor.heat_pump_current")}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@UNUSABLE_UNITS
@WITH_SENSOR
async def test_reconfigure_refuses_a_sensor_without_a_convertible_unit(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    reading: str | None,
    unit: str | None,
) -> None:
    """Reconfigure shows the same error and leaves the entry as it was."""
    set_power(hass, "0", "W")
    before = dict(entry.options)
    if reading is not None:
        set_power(hass, reading, unit, entity_id=OTHER_SENSOR)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], entities(OTHER_SENSOR)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_POWER_SENSOR: "sensor_unit"}
    assert dict(entry.options) == before


@WITH_SENSOR
async def test_options_refuse_when_the_sensor_unit_became_unconvertible(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A sensor whose unit changed to % since it was picked: the options say so and save nothing."""
    set_power(hass, "12", "%")
    before = dict(entry.options)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], sectioned({**_timings(), CONF_DISCHARGE_MINUTES: 45})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "sensor_unit"}
    assert dict(entry.options) == before


def _timings() -> dict[str, Any]:
    """Return the default options without the thresholds and "no power" levels (per sensor kind)."""
    per_kind = (
        CONF_POWER_THRESHOLD,
        CONF_CURRENT_THRESHOLD,
        CONF_NO_POWER_THRESHOLD,
        CONF_NO_POWER_CURRENT,
    )
    return {key: value for key, value in DEFAULT_OPTIONS.items() if key not in per_kind}


def _field(result: dict[str, Any], key: str) -> Any:
    """Return the selector of form field `key`, or None when the form has no such field."""
    found = form_fields_flat(result).get(key)
    return None if found is None else found[1]


def _unit_of(validator: Any) -> str | None:
    """Return the unit a number field shows."""
    selector = validator.validators[0]
    unit: str | None = selector.config.get("unit_of_measurement")
    return unit


@pytest.mark.parametrize(
    ("options", "unit", "shown"),
    [
        ({CONF_POWER_SENSOR: SENSOR}, "kW", {CONF_POWER_THRESHOLD: "W"}),
        ({CONF_POWER_SENSOR: SENSOR}, "mA", {CONF_CURRENT_THRESHOLD: "A"}),
        (
            {CONF_POWER_SENSOR: SENSOR},
            None,
            {CONF_POWER_THRESHOLD: "W", CONF_CURRENT_THRESHOLD: "A"},
        ),
        ({CONF_POWER_SENSOR: None}, "W", {CONF_POWER_THRESHOLD: "W", CONF_CURRENT_THRESHOLD: "A"}),
    ],
    indirect=["options"],
    ids=["power", "current", "unit_unknown", "no_sensor"],
)
async def test_options_show_the_threshold_with_its_unit(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    unit: str | None,
    shown: dict[str, str],
) -> None:
    """The options show the threshold of the sensor's kind with its unit (W or A), saved as such.

    Both when the kind is not known: no sensor yet, or one whose unit cannot be read right now.
    """
    if unit is None:
        hass.states.async_set(SENSOR, "unavailable")
    else:
        set_power(hass, "0", unit)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["errors"] in (None, {})
    fields = {
        key: _unit_of(_field(result, key))
        for key in (CONF_POWER_THRESHOLD, CONF_CURRENT_THRESHOLD)
        if _field(result, key) is not None
    }
    assert fields == shown
    submitted = sectioned({**_timings(), **dict.fromkeys(shown, 25.0)})
    result = await hass.config_entries.options.async_configure(result["flow_id"], submitted)
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    for key in (CONF_POWER_THRESHOLD, CONF_CURRENT_THRESHOLD):
        expected = 25.0 if key in shown else DEFAULT_OPTIONS[key]
        assert entry.options[key] == expected


def test_default_thresholds() -> None:
    """A power sensor runs above 100 W, a current sensor above 0.5 A, unless changed."""
    assert DEFAULT_OPTIONS[CONF_POWER_THRESHOLD] == 100.0
    assert DEFAULT_OPTIONS[CONF_CURRENT_THRESHOLD] == 0.5


# --- Item 1: entries stored by the release before migrate --------------------------------------


async def _migrated(
    hass: HomeAssistant, old_threshold: float, sensor: str | None, **extra: Any
) -> ConfigEntry:
    """Set up an entry as the release before stored it (minor version 1) and return it."""
    options = {
        key: value for key, value in DEFAULT_OPTIONS.items() if key != CONF_CURRENT_THRESHOLD
    }
    options.update(
        {
            CONF_POWER_THRESHOLD: old_threshold,
            CONF_THERMOSTAT: THERMOSTAT,
            CONF_SWITCHES: [SWITCH_A, SWITCH_B],
            CONF_POWER_SENSOR: sensor,
            **extra,
        }
    )
    old = MockConfigEntry(
        domain=DOMAIN,
        title="Heat pump",
        data={},
        options=options,
        unique_id=THERMOSTAT,
        version=1,
        minor_version=1,
    )
    old.add_to_hass(hass)
    assert await hass.config_entries.async_setup(old.entry_id)
    await hass.async_block_till_done()
    return old


@pytest.mark.parametrize(
    ("old", "unit", "power", "current"),
    [
        (100.0, None, 100.0, 0.5),
        (100.0, "W", 100.0, 0.5),
        (100.0, "kW", 100.0, 0.5),
        (100.0, "A", 100.0, 0.5),
        (100.0, "mW", 100.0, 0.5),
        (250.0, "W", 250.0, 0.5),
        (3.0, "A", 100.0, 3.0),
        (500.0, "mA", 100.0, 0.5),
        (200000.0, "mW", 200.0, 0.5),
        (0.2, "kW", 0.2, 0.5),
        (40.0, "kW", 40.0, 0.5),
        (250.0, "%", 100.0, 0.5),
        (0.3, "%", 0.3, 0.3),
    ],
    ids=[
        "default_no_sensor",
        "default_w",
        "default_kw",
        "default_a",
        "default_mw",
        "w",
        "a",
        "ma",
        "mw",
        "kw_small",
        "kw_large",
        "unknown_high",
        "unknown_low",
    ],
)
async def test_migration_of_the_old_threshold(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    old: float,
    unit: str | None,
    power: float,
    current: float,
) -> None:
    """The old threshold (in the sensor's unit) becomes a W or A threshold, never a higher one.

    The old default (100) becomes the new defaults; a changed value is read both in the sensor's
    unit and in W/A, and the lower of the two is kept; with a unit that cannot be read, each new
    threshold is at most its default.
    """
    if unit is not None:
        set_power(hass, "0", unit)
    migrated = await _migrated(hass, old, SENSOR if unit is not None else None)
    assert migrated.version == 1
    assert migrated.minor_version == 2
    assert migrated.options[CONF_POWER_THRESHOLD] == pytest.approx(power)
    assert migrated.options[CONF_CURRENT_THRESHOLD] == pytest.approx(current)
    assert migrated.options[CONF_DISCHARGE_MINUTES] == 30
    assert migrated.options[CONF_POWER_SENSOR] == (SENSOR if unit is not None else None)
    assert migrated.runtime_data.settings.sensor == migrated.options[CONF_POWER_SENSOR]


async def test_migration_reads_the_registered_unit(
    hass: HomeAssistant, heat_pump: HeatPump
) -> None:
    """At start-up the sensor may not be loaded yet: the unit comes from the entity registry."""
    registry = er.async_get(hass)
    entity = registry.async_get_or_create(
        "sensor", "test", "amps", suggested_object_id="heat_pump_current", unit_of_measurement="A"
    )
    migrated = await _migrated(hass, 2.0, entity.entity_id)
    assert migrated.options[CONF_CURRENT_THRESHOLD] == 2.0
    assert migrated.options[CONF_POWER_THRESHOLD] == 100.0


async def test_migrated_kw_entry_no_longer_cuts_under_load(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump
) -> None:
    """An entry from the release before, with a kW sensor and the default 100: 2.5 kW is running."""
    assert await async_setup_component(hass, "persistent_notification", {})
    set_power(hass, "2.5", "kW")
    migrated = await _migrated(hass, 100.0, SENSOR)
    await start(hass, migrated)
    await advance(hass, freezer, STOP_TIMEOUT + timedelta(seconds=5), step=timedelta(seconds=5))
    assert_no_cut(hass, heat_pump)


async def test_newer_entry_version_is_not_loaded(hass: HomeAssistant, heat_pump: HeatPump) -> None:
    """An entry from a newer major version (a downgrade) is refused, not misread."""
    newer = MockConfigEntry(
        domain=DOMAIN,
        title="Heat pump",
        data={},
        options={**DEFAULT_OPTIONS, **entities(None), CONF_POWER_SENSOR: None},
        unique_id=THERMOSTAT,
        version=2,
        minor_version=1,
    )
    newer.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(newer.entry_id)


# --- Item 11: infinite or not-a-number values in the actions -----------------------------------


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "inf", "nan"])
@pytest.mark.parametrize(
    ("service", "key"),
    [("start_reset", "discharge_minutes"), ("get_history", "limit")],
)
async def test_actions_refuse_infinite_or_nan_numbers(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    service: str,
    key: str,
    value: Any,
) -> None:
    """`.inf` or NaN from YAML is a validation error, not an OverflowError; nothing is touched."""
    with pytest.raises(vol.Invalid):
        await hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": entry.entry_id, key: value},
            blocking=True,
            return_response=service == "get_history",
        )
    await settle(hass)
    assert state(hass, PHASE).state == "idle"
    assert heat_pump.thermostat.calls == []
    assert heat_pump.switch_a.commands == []


# --- Item 23: a run keeps the sensor and thresholds it started with ---------------------------


@WITH_SENSOR
async def test_run_keeps_its_sensor_after_a_reconfigure(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A sensor dropped by a Reconfigure mid-run still verifies the start of the run it began."""
    Circuit(hass).start()
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], entities(None))
    await settle(hass)
    assert result["reason"] == "reconfigure_successful"
    assert entry.runtime_data.settings.sensor is None
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await advance(hass, freezer, UNTIL_RESTORE + timedelta(minutes=2), step=timedelta(seconds=10))
    assert state(hass, PHASE).state == "verifying"
    set_power(hass, "1200", "W")
    await settle(hass)
    assert state(hass, OUTCOME).state == "succeeded"


@WITH_SENSOR
async def test_run_keeps_its_threshold_after_an_options_change(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """A threshold raised mid-run applies from the next run: this one still sees 1200 W as a start."""
    Circuit(hass).start()
    await start(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], sectioned({**_timings(), CONF_POWER_THRESHOLD: 5000.0})
    )
    await settle(hass)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_POWER_THRESHOLD] == 5000.0
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await advance(hass, freezer, UNTIL_RESTORE + timedelta(minutes=2), step=timedelta(seconds=10))
    assert state(hass, PHASE).state == "verifying"
    set_power(hass, "1200", "W")
    await settle(hass)
    assert state(hass, OUTCOME).state == "succeeded"


@WITH_SENSOR
async def test_run_stored_before_the_sensor_was_kept_uses_the_entry_sensor(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A run written by the release before (no sensor in it) is watched with the entry's sensor."""
    Circuit(hass).start()
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"
    stored = hass_storage[store_key(entry)]["data"]["active"]
    for key in ("power_sensor", "power_threshold", "current_threshold", "sensor_kept"):
        stored.pop(key)
    await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    controller = entry.runtime_data
    assert controller.run is not None
    assert controller.run.power_sensor == SENSOR
    assert controller.run.power_threshold == 100.0
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await advance(hass, freezer, UNTIL_RESTORE + timedelta(minutes=2), step=timedelta(seconds=10))
    assert state(hass, PHASE).state == "verifying"
    set_power(hass, "2", "kW")
    await settle(hass)
    assert state(hass, OUTCOME).state == "succeeded"


def test_run_keeps_sensor_fields_through_the_store() -> None:
    """The sensor and thresholds round-trip; a run stored before them loads as not kept."""
    run = Run(
        run_id="abc",
        trigger=Trigger.PERSON,
        reason=None,
        thermostat=THERMOSTAT,
        switches=[SWITCH_A],
        discharge_minutes=30,
        started_at=dt_util.utcnow(),
        power_sensor=SENSOR,
        power_threshold=250.0,
        current_threshold=1.5,
        sensor_kept=True,
    )
    assert Run.from_dict(json.loads(json.dumps(run.to_dict()))) == run
    older = run.to_dict()
    for key in ("power_sensor", "power_threshold", "current_threshold", "sensor_kept"):
        del older[key]
    loaded = Run.from_dict(older)
    assert not loaded.sensor_kept
    assert loaded.power_sensor is None


@pytest.mark.parametrize(
    ("reading", "threshold", "expected"),
    [
        (None, 100.0, None),
        (100.0, 100.0, False),
        (100.1, 100.0, True),
        (-100.1, 100.0, True),
        (-40.0, 100.0, False),
        (0.0, 0.0, False),
    ],
)
def test_above_threshold(reading: float | None, threshold: float, expected: bool | None) -> None:
    """Above the threshold by magnitude is running; at it is idle; unreadable is neither."""
    assert above_threshold(reading, threshold) is expected

"""Our entities: on the thermostat's device, named by translation, with stable unique ids."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.components.climate.const import HVACAction
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory
from homeassistant.core import CoreState, HomeAssistant, State
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    restore_state,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.heat_pump_reset.const import (
    CONF_POWER_SENSOR,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS

from .harness.driving import start, state
from .harness.entity_ids import BUTTON, CANCEL_BUTTON, ENDS_AT, OUTCOME, PHASE, SENSOR, THERMOSTAT
from .harness.equipment import HeatPump

KEYS = {
    PHASE: "phase",
    ENDS_AT: "phase_ends_at",
    OUTCOME: "last_outcome",
    BUTTON: "reset",
    CANCEL_BUTTON: "cancel",
}


async def test_entities_join_the_thermostat_device(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Each entity sits on the thermostat's device with unique id `<entry_id>_<key>`."""
    entities = er.async_get(hass)
    thermostat_device = entities.async_get(THERMOSTAT).device_id
    assert thermostat_device is not None
    for entity_id, key in KEYS.items():
        registered = entities.async_get(entity_id)
        assert registered is not None, entity_id
        assert registered.unique_id == f"{entry.entry_id}_{key}"
        assert registered.device_id == thermostat_device
        assert registered.translation_key == key
        assert registered.has_entity_name


async def test_initial_states(hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry) -> None:
    """Before any run: idle, no countdown, no outcome; the phase sensor lists every phase."""
    phase = state(hass, PHASE)
    assert phase.state == "idle"
    assert phase.attributes["options"] == [
        "idle",
        "stopping_thermostat",
        "cutting_power",
        "discharging",
        "restoring_power",
        "starting_up",
        "restoring_thermostat",
        "verifying",
        # An outage run's phases (issue 14).
        "mains_out",
        "warming_up",
    ]
    assert phase.attributes["friendly_name"] == "Living room Reset phase"
    assert state(hass, ENDS_AT).state == "unknown"
    assert state(hass, OUTCOME).state == "unknown"
    assert state(hass, BUTTON).attributes["friendly_name"] == "Living room Reset heat pump"


async def test_thermostat_without_device_gets_own_device(hass: HomeAssistant) -> None:
    """A thermostat with no device (e.g. from YAML) leaves our entities on a device named by us."""
    hass.states.async_set("climate.yaml", "heat", {"hvac_modes": ["off", "heat"]})
    hass.states.async_set("switch.yaml_breaker", "on")
    config_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage heat pump",
        options={
            **DEFAULT_OPTIONS,
            CONF_THERMOSTAT: "climate.yaml",
            CONF_SWITCHES: ["switch.yaml_breaker"],
        },
        unique_id="climate.yaml",
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    # Looked up by config entry: HA 2026.x deprecates finding a device by identifiers alone.
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), config_entry.entry_id)
    assert [(d.name, d.identifiers) for d in devices] == [
        ("Garage heat pump", {(DOMAIN, config_entry.entry_id)})
    ]
    assert state(hass, "sensor.garage_heat_pump_reset_phase").state == "idle"


async def test_entity_categories_and_defaults(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Controls and the run's progress are primary; history is diagnostic; running is off by default."""
    registry = er.async_get(hass)
    found = {
        registered.unique_id.removeprefix(f"{entry.entry_id}_") + f"@{registered.domain}": (
            registered.entity_category,
            registered.disabled_by,
        )
        for registered in er.async_entries_for_config_entry(registry, entry.entry_id)
    }
    assert found == {
        "reset@button": (None, None),
        "cancel@button": (None, None),
        "reset@event": (None, None),
        "phase@sensor": (None, None),
        "phase_ends_at@sensor": (None, None),
        "last_outcome@sensor": (EntityCategory.DIAGNOSTIC, None),
        "last_reset@sensor": (EntityCategory.DIAGNOSTIC, None),
        "recent_resets@sensor": (EntityCategory.DIAGNOSTIC, None),
        "running@binary_sensor": (
            EntityCategory.DIAGNOSTIC,
            er.RegistryEntryDisabler.INTEGRATION,
        ),
    }


async def test_reset_button_describes_the_heat_pump(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The reset button shows the thermostat, the call for heat, whether the unit and a reset run."""
    button = state(hass, BUTTON)
    assert button.attributes["device_class"] == "restart"
    assert button.attributes["thermostat"] == THERMOSTAT
    # The room (18 °C) is below the set point (21 °C) and the unit heats.
    assert button.attributes["demand"] is True
    assert button.attributes["unit_running"] is True
    assert button.attributes["reset_running"] is False
    # Set up while Home Assistant was running: how long it was down before is not known.
    assert button.attributes["downtime_minutes"] is None
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    heat_pump.thermostat.async_write_ha_state()
    await hass.async_block_till_done()
    assert state(hass, BUTTON).attributes["unit_running"] is False
    assert state(hass, BUTTON).attributes["demand"] is True
    # Defrosting and preheating are the unit at work too.
    for action in (HVACAction.DEFROSTING, HVACAction.PREHEATING):
        heat_pump.thermostat.stuck_action = action
        heat_pump.thermostat.async_write_ha_state()
        await hass.async_block_till_done()
        assert state(hass, BUTTON).attributes["unit_running"] is True
    # A warm room in heat mode is no call for heat.
    heat_pump.thermostat.stuck_action = None
    heat_pump.thermostat.set_room(22.0)
    await hass.async_block_till_done()
    assert state(hass, BUTTON).attributes["demand"] is False
    assert state(hass, BUTTON).attributes["unit_running"] is False
    await start(hass, entry)
    assert state(hass, BUTTON).attributes["reset_running"] is True


@pytest.mark.parametrize("options", [{CONF_POWER_SENSOR: SENSOR}], indirect=True)
async def test_reset_button_counts_power_above_the_threshold_as_running(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """With a power sensor, a reading above the running threshold is the unit running."""
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    heat_pump.thermostat.async_write_ha_state()
    for reading, unit, running in (
        ("40", "W", False),
        ("850", "W", True),
        ("2.5", "kW", True),
        ("-900", "W", True),
        ("0.04", "kW", False),
        ("unavailable", "W", False),
    ):
        hass.states.async_set(SENSOR, reading, {"unit_of_measurement": unit})
        await hass.async_block_till_done()
        assert state(hass, BUTTON).attributes["unit_running"] is running, (reading, unit)


@pytest.mark.parametrize(
    ("down", "expected"), [(timedelta(minutes=42, seconds=30), 42), (None, None)]
)
async def test_downtime_before_the_start(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    options: dict[str, Any],
    down: timedelta | None,
    expected: int | None,
) -> None:
    """Set up while Home Assistant starts: how long it was down, from its last saved states."""
    if down is not None:
        restore_state.async_get(hass).last_states["input_boolean.x"] = restore_state.StoredState(
            State("input_boolean.x", "on"), None, dt_util.utcnow() - down
        )
    hass.set_state(CoreState.not_running)
    config_entry = MockConfigEntry(domain=DOMAIN, options=options, unique_id=THERMOSTAT)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, BUTTON).attributes["downtime_minutes"] == expected

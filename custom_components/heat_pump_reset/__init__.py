"""Heat Pump Reset: power-cycles a heat pump the documented way, safely and durably."""

from __future__ import annotations

import logging

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .afteroutage import async_reset_after_outages
from .compat import OPTIONS_FLOW_RELOADS
from .const import (
    CONF_CURRENT_THRESHOLD,
    CONF_POWER_SENSOR,
    CONF_POWER_THRESHOLD,
    DEFAULT_CURRENT_THRESHOLD,
    DEFAULT_POWER_THRESHOLD,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
)
from .controller import ResetController
from .downtime import async_note_start
from .issues import async_delete_all
from .outages import async_watch_outages
from .reading import SensorKind, kind_of, sensor_unit, to_threshold_unit
from .running import migrated_threshold
from .runtime import HeatPumpResetConfigEntry
from .services import async_setup_services
from .wrapped import async_follow, async_watch_shared

_LOGGER = logging.getLogger(__name__)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and note how long Home Assistant was down before this start."""
    async_note_start(hass)
    async_setup_services(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> bool:
    """Bring options stored by an older release up to date; refuse those of a newer one."""
    if entry.version > ENTRY_VERSION:
        return False
    if entry.minor_version < 2:
        # 1.1 kept one running threshold compared with the raw reading in the sensor's own unit;
        # 1.2 keeps one in W (power sensor) and one in A (current sensor).
        options = dict(entry.options)
        old = float(options.get(CONF_POWER_THRESHOLD, DEFAULT_POWER_THRESHOLD))
        sensor = options.get(CONF_POWER_SENSOR)
        unit = sensor_unit(hass, sensor) if sensor else None
        converted = to_threshold_unit(old, unit)
        kind = kind_of(unit)
        for key, of_kind, default in (
            (CONF_POWER_THRESHOLD, SensorKind.POWER, DEFAULT_POWER_THRESHOLD),
            (CONF_CURRENT_THRESHOLD, SensorKind.CURRENT, DEFAULT_CURRENT_THRESHOLD),
        ):
            in_unit = converted[1] if converted is not None and converted[0] is of_kind else None
            options[key] = migrated_threshold(
                old, DEFAULT_POWER_THRESHOLD, default, in_unit, kind_known=kind is not None
            )
        _LOGGER.info(
            "Running threshold of %s (%s in the sensor's unit %s) is now %s W / %s A",
            entry.title,
            old,
            unit,
            options[CONF_POWER_THRESHOLD],
            options[CONF_CURRENT_THRESHOLD],
        )
        hass.config_entries.async_update_entry(
            entry, options=options, minor_version=ENTRY_MINOR_VERSION
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> bool:
    """Load a heat pump's stored run (resuming it) and add its entities."""
    controller = ResetController(hass, entry)
    # Before a stored run resumes: an outage run's end may call for the reset (issue 14).
    entry.async_on_unload(async_reset_after_outages(controller))
    await controller.async_load()
    entry.runtime_data = controller
    entry.async_on_unload(async_follow(hass, entry))
    # Outage protection (issue 14): off unless turned on.
    entry.async_on_unload(async_watch_outages(controller))
    # Two loaded heat pumps on one switch or thermostat: Repairs says so (their resets are refused),
    # from the moment this one is loaded until it starts unloading (a reload checks again).
    entry.async_on_unload(async_watch_shared(hass, entry))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if not OPTIONS_FLOW_RELOADS:
        entry.async_on_unload(entry.add_update_listener(_async_reload))
    return True


async def _async_reload(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> None:
    """Apply changed options (Home Assistant before 2025.8); a run in progress carries on."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> bool:
    """Unload; a run stays stored and resumes, unless the entry is being disabled."""
    # A run being recorded ends first, while its entities can still show it.
    await entry.runtime_data.async_wait_recorded()
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    controller = entry.runtime_data
    await controller.async_unload()
    if entry.disabled_by is not None:
        # A disabled entry never resumes: put power and the thermostat back now.
        await controller.async_restore_now("entry_disabled")
    return bool(unloaded)


async def async_remove_entry(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> None:
    """Put power and the thermostat back if a run was stored, then forget it and its issues."""
    await ResetController.async_restore_stored(hass, entry)
    async_delete_all(hass, entry.entry_id)

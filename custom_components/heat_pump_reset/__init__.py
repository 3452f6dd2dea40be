"""Heat Pump Reset: power-cycles a heat pump the documented way, safely and durably."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .compat import OPTIONS_FLOW_RELOADS
from .const import DOMAIN
from .downtime import async_note_start
from .issues import async_delete_all
from .orchestrator import ResetController
from .runtime import HeatPumpResetConfigEntry
from .services import async_setup_services
from .wrapped import async_follow

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


async def async_setup_entry(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> bool:
    """Load a heat pump's stored run (resuming it) and add its entities."""
    controller = ResetController(hass, entry)
    await controller.async_load()
    entry.runtime_data = controller
    entry.async_on_unload(async_follow(hass, entry))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if not OPTIONS_FLOW_RELOADS:
        entry.async_on_unload(entry.add_update_listener(_async_reload))
    return True


async def _async_reload(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> None:
    """Apply changed options (Home Assistant before 2025.8); a run in progress carries on."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> bool:
    """Unload; a run stays stored and resumes, unless the entry is being disabled."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    controller = entry.runtime_data
    await controller.async_unload()
    if entry.disabled_by is not None:
        # A disabled entry never resumes: put power and the thermostat back now.
        await controller.async_restore_now("entry_disabled")
    return bool(unloaded)


async def async_remove_entry(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> None:
    """Put power and the thermostat back if a run was stored, then forget it and its issues."""
    controller = ResetController(hass, entry)
    await controller.async_load(resume_run=False)
    await controller.async_restore_now("entry_removed")
    await controller.async_remove_store()
    async_delete_all(hass, entry.entry_id)

"""Stopping Home Assistant (cleanly, or as a crash) in the middle of a run, and starting it again."""

from __future__ import annotations

from collections.abc import Callable
import copy
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant

from .driving import advance, settle
from .equipment import HeatPump, power, touched


async def kill(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Stop Home Assistant as a killed process would: the run stops, the equipment and the store stay."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED


async def crash(hass: HomeAssistant, entry: ConfigEntry, hass_storage: dict[str, Any]) -> None:
    """Kill Home Assistant keeping only what the stores had written: no write on the way down."""
    written = copy.deepcopy(hass_storage)
    await kill(hass, entry)
    hass_storage.clear()
    hass_storage.update(written)


async def boot(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: ConfigEntry,
    pump: HeatPump,
    downtime: timedelta,
    during_downtime: Callable[[], None] = lambda: None,
) -> None:
    """Start Home Assistant again after `downtime`: set up while starting, touch nothing until started."""
    freezer.tick(downtime)
    during_downtime()
    before = (touched(pump), power(pump), pump.thermostat.hvac_mode)
    hass.set_state(CoreState.not_running)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    assert entry.state is ConfigEntryState.LOADED
    # Every integration may not be set up yet: nothing may be touched before Home Assistant runs.
    await advance(hass, freezer, timedelta(seconds=5))
    assert (touched(pump), power(pump), pump.thermostat.hvac_mode) == before
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await settle(hass)


async def restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: ConfigEntry,
    pump: HeatPump,
    downtime: timedelta = timedelta(minutes=1),
    during_downtime: Callable[[], None] = lambda: None,
) -> None:
    """Kill Home Assistant, leave it down for `downtime`, and start it again."""
    await kill(hass, entry)
    await boot(hass, freezer, entry, pump, downtime, during_downtime)

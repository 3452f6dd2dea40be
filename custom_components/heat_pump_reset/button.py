"""The buttons: start a reset with the configured defaults, and cancel the running one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# 2026.x keeps the device class in button.const and only re-exports it (no __all__ entry).
from homeassistant.components.button import (  # type: ignore[attr-defined,unused-ignore]
    ButtonDeviceClass,
    ButtonEntity,
)
from homeassistant.core import Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.event import async_track_state_change_event

from . import thermostat
from .downtime import downtime
from .entity import HeatPumpResetEntity
from .run import Trigger
from .running import has_demand, unit_working
from .runtime import HeatPumpResetConfigEntry

PARALLEL_UPDATES = 0

# What the reset button tells automations (the after-outage blueprint) about its heat pump.
ATTR_THERMOSTAT = "thermostat"
ATTR_DEMAND = "demand"
ATTR_UNIT_RUNNING = "unit_running"
ATTR_RESET_RUNNING = "reset_running"
ATTR_DOWNTIME_MINUTES = "downtime_minutes"


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HeatPumpResetConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the reset and cancel buttons of one heat pump."""
    async_add_entities([ResetButton(entry, "reset"), CancelButton(entry, "cancel")])


class ResetButton(HeatPumpResetEntity, ButtonEntity):
    """Starts a reset run; refuses with a translated error like the action does.

    Its attributes describe the heat pump as a reset sees it, so an automation picks the heat pump
    once (the restart device class makes it the one such button per heat pump).
    """

    _attr_device_class = ButtonDeviceClass.RESTART
    # Live readings, not history: the recorder keeps the button's presses only.
    _unrecorded_attributes = frozenset(
        {ATTR_THERMOSTAT, ATTR_DEMAND, ATTR_UNIT_RUNNING, ATTR_RESET_RUNNING, ATTR_DOWNTIME_MINUTES}
    )

    async def async_added_to_hass(self) -> None:
        """Also follow the thermostat and the power sensor."""
        await super().async_added_to_hass()
        watched = [self.controller.settings.thermostat]
        if self.controller.settings.sensor is not None:
            watched.append(self.controller.settings.sensor)
        self.async_on_remove(
            async_track_state_change_event(self.hass, watched, self._source_changed)
        )

    @callback
    def _source_changed(self, _event: Event[EventStateChangedData]) -> None:
        """Write the state; Home Assistant drops the write when nothing changed."""
        self.async_write_ha_state()

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """Return the thermostat, the call for heat or cooling, and whether the unit runs."""
        controller = self.controller
        climate = self.hass.states.get(controller.settings.thermostat)
        working = unit_working(thermostat.hvac_action(climate), controller.sensor_above())
        demand = climate is not None and has_demand(
            climate.state,
            climate.attributes.get("current_temperature"),
            climate.attributes.get("temperature"),
            climate.attributes.get("target_temp_low"),
            climate.attributes.get("target_temp_high"),
        )
        return {
            ATTR_THERMOSTAT: controller.settings.thermostat,
            # A unit that works has a call for it, whatever the room reads.
            ATTR_DEMAND: demand or working,
            ATTR_UNIT_RUNNING: working,
            ATTR_RESET_RUNNING: controller.run is not None,
            ATTR_DOWNTIME_MINUTES: downtime(self.hass),
        }

    async def async_press(self) -> None:
        """Start a run with the configured discharge wait."""
        self.controller.async_start(Trigger.BUTTON)


class CancelButton(HeatPumpResetEntity, ButtonEntity):
    """Cancels the running reset; available only while there is one to cancel."""

    @property
    def available(self) -> bool:
        """Return whether a run is active."""
        return self.controller.run is not None

    async def async_press(self) -> None:
        """End the run as soon as it is safe; power always comes back."""
        self.controller.async_cancel()

"""The event entity that reports each run's start and end, for the logbook and automations."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import HeatPumpResetEntity
from .publishing import EVENT_TYPES
from .runtime import HeatPumpResetConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HeatPumpResetConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the reset event entity of one heat pump."""
    async_add_entities([ResetEvent(entry, "reset")])


class ResetEvent(HeatPumpResetEntity, EventEntity):
    """Fires `started`, then the outcome, with the run id, trigger, reason and detail."""

    _attr_event_types = EVENT_TYPES

    async def async_added_to_hass(self) -> None:
        """Listen for runs starting and ending (the base class already follows state changes)."""
        await super().async_added_to_hass()
        self.async_on_remove(self.controller.async_add_event_listener(self._on_event))

    @callback
    def _on_event(self, event_type: str, data: dict[str, Any]) -> None:
        """Record the event and write it to the state machine."""
        self._trigger_event(event_type, data)
        self.async_write_ha_state()

"""The event entity that reports each run's start and end, for the logbook and automations."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .const import EVENT_OUTAGE_ENDED, EVENT_RUN_ENDED, EVENT_RUN_STARTED
from .entity import HeatPumpResetEntity
from .history import summary
from .lines import describe
from .publishing import EVENT_OUTAGE, EVENT_STARTED, EVENT_TYPES
from .runtime import HeatPumpResetConfigEntry

# The run's start or end in words, in Home Assistant's language: what the logbook says of it.
ATTR_TEXT = "text"

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
        """Record the event, with its line in words, and write it to the state machine."""
        self._trigger_event(event_type, {**data, ATTR_TEXT: self._text(event_type, data)})
        self.async_write_ha_state()

    @callback
    def _text(self, event_type: str, data: dict[str, Any]) -> str:
        """Say the start or the end in words; an end from its record (how long power was off)."""
        if event_type == EVENT_STARTED:
            return describe(self.hass, EVENT_RUN_STARTED, data)
        if event_type == EVENT_OUTAGE:
            # An outage's end (issue 14): its own line, as in the logbook.
            return describe(self.hass, EVENT_OUTAGE_ENDED, data)
        history = self.controller.history
        if history and history[0].get("run_id") == data.get("run_id"):
            return describe(self.hass, EVENT_RUN_ENDED, summary(history[0]))
        # Not on disk (a failed write): what the event says, and nothing of the power it cannot tell.
        return describe(
            self.hass, EVENT_RUN_ENDED, {**data, "outcome": event_type, "power_cut": True}
        )

"""Describe each reset run in the logbook: one line when it starts, one when it ends.

The line says how the run was started and why, and at its end how it ended and how long power was off,
in Home Assistant's language (lines.py words it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_CONTEXT_ID,
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.components.logbook.models import LazyEventPartialState
from homeassistant.const import ATTR_ENTITY_ID, ATTR_NAME
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, EVENT_OUTAGE_ENDED, EVENT_RUN_ENDED, EVENT_RUN_STARTED
from .lines import describe


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[LazyEventPartialState], dict[str, Any]]], None
    ],
) -> None:
    """Describe the start and the end of reset runs."""

    @callback
    def async_describe_run(event: LazyEventPartialState) -> dict[str, Any]:
        """Describe a run's start or end in one line."""
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: data.get(ATTR_NAME),
            LOGBOOK_ENTRY_MESSAGE: describe(hass, str(event.event_type), data),
            LOGBOOK_ENTRY_ENTITY_ID: data.get(ATTR_ENTITY_ID),
            LOGBOOK_ENTRY_CONTEXT_ID: event.context_id,
        }

    async_describe_event(DOMAIN, EVENT_RUN_STARTED, async_describe_run)
    async_describe_event(DOMAIN, EVENT_RUN_ENDED, async_describe_run)
    async_describe_event(DOMAIN, EVENT_OUTAGE_ENDED, async_describe_run)

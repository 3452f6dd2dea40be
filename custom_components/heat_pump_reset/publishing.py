"""Telling the entities and the logbook about one heat pump's runs."""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any, Final

from homeassistant.const import ATTR_ENTITY_ID, ATTR_NAME, Platform
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    DOMAIN,
    EVENT_OUTAGE_ENDED,
    EVENT_RUN_ENDED,
    EVENT_RUN_STARTED,
)
from .history import Record, make_record, outage_of, summary
from .run import Outcome, Run

_LOGGER = logging.getLogger(__name__)

# Event types of the `reset` event entity: a run started, or ended with one of the outcomes.
EVENT_STARTED: Final = "started"
# An outage's end (issue 14), with its source and duration.
EVENT_OUTAGE: Final = "outage_ended"
EVENT_TYPES: Final = [EVENT_STARTED, *(outcome.value for outcome in Outcome), EVENT_OUTAGE]

type EventListener = Callable[[str, dict[str, Any]], None]


class Publisher:
    """The listeners of one heat pump's entities, and its run events on the bus."""

    def __init__(self, hass: HomeAssistant, entry_id: str, name: str) -> None:
        """Publish for the heat pump `name` (config entry `entry_id`)."""
        self._hass = hass
        self._entry_id = entry_id
        self._name = name
        self._listeners: list[CALLBACK_TYPE] = []
        self._event_listeners: list[EventListener] = []

    @callback
    def add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` whenever the run changes; return the function that stops it."""
        self._listeners.append(update)

        @callback
        def _remove() -> None:
            self._listeners.remove(update)

        return _remove

    @callback
    def changed(self) -> None:
        """Tell the entities; one that fails is logged, and never stops the run."""
        for update in list(self._listeners):
            try:
                update()
            except Exception:
                _LOGGER.exception("An entity of %s failed to update", self._name)

    @callback
    def add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Call `listener(event_type, data)` when a run starts or ends; return the remover."""
        self._event_listeners.append(listener)

        @callback
        def _remove() -> None:
            self._event_listeners.remove(listener)

        return _remove

    @callback
    def fire(self, event_type: str, data: dict[str, Any]) -> None:
        """Tell the event entity (when loaded) that a run started or ended."""
        for listener in list(self._event_listeners):
            try:
                listener(event_type, data)
            except Exception:
                _LOGGER.exception("The reset event of %s failed", self._name)

    @callback
    def fire_bus(self, bus_event: str, data: dict[str, Any]) -> None:
        """Fire a run's start or end on the bus, for the logbook (logbook.py describes it)."""
        entity_id = er.async_get(self._hass).async_get_entity_id(
            Platform.EVENT, DOMAIN, f"{self._entry_id}_reset"
        )
        self._hass.bus.async_fire(
            bus_event,
            {
                ATTR_CONFIG_ENTRY_ID: self._entry_id,
                ATTR_NAME: self._name,
                ATTR_ENTITY_ID: entity_id,
                **data,
            },
        )

    @callback
    def started(self, run: Run) -> None:
        """Announce a run that starts."""
        data = {
            "run_id": run.run_id,
            "trigger": run.trigger.value,
            "reason": run.reason,
            # The fault entities' states at the start (issue 13).
            "faults": dict(run.faults_at_start),
            # How the outage became known, for an outage run (issue 14); None for a reset.
            "outage_source": run.outage_source,
        }
        self.fire(EVENT_STARTED, data)
        self.fire_bus(EVENT_RUN_STARTED, data)

    @callback
    def ended(self, run: Run, outcome: Outcome, record: Record) -> None:
        """Announce a run that ended, as it was recorded."""
        self.fire(
            outcome.value,
            {
                "run_id": run.run_id,
                "trigger": run.trigger.value,
                "reason": run.reason,
                "detail": run.detail,
                "thermostat_restored": record["thermostat_restored"],
                "thermostat_detail": record["thermostat_detail"],
                "faults_returned": dict(run.faults_returned),
            },
        )
        self.fire_bus(
            EVENT_RUN_ENDED,
            {"run_id": run.run_id, **summary(make_record(run, outcome, dt_util.utcnow()))},
        )

    @callback
    def outage_ended(self, run: Run) -> None:
        """Announce that an outage ended: its source, start, end and minutes (issue 14)."""
        data = {"run_id": run.run_id, **(outage_of(run) or {})}
        self.fire(EVENT_OUTAGE, data)
        self.fire_bus(EVENT_OUTAGE_ENDED, data)

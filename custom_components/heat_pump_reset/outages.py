"""Knowing an outage (issue 14) and starting the outage run, which never cuts power.

The sources: the mains entity, a start after Home Assistant was down, or every wrapped switch
unavailable together; each starts an outage run (trigger `outage`, first phase `mains_out`) when
no run is under way. The rules are in `outage`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CALLBACK_TYPE, CoreState, Event, EventStateChangedData, callback
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .downtime import claim_downtime
from .equipment import available
from .mainsout import mains_said
from .outage import OutageSource, downtime_outage, together
from .publishing import EVENT_OUTAGE, EVENT_STARTED
from .run import Outcome, Phase, Run, Trigger

if TYPE_CHECKING:
    from .controller import ResetController

_LOGGER = logging.getLogger(__name__)
# An entry being unloaded starts no run (its watch stops right after).
_LIVE = (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)


class Outages:
    """Watches one heat pump's outage sources while its entry is loaded, if protection is on."""

    def __init__(self, controller: ResetController) -> None:
        """Watch for `controller`, whose settings say whether and how."""
        self._controller = controller
        self._hass = controller.hass
        self._unsubs: list[CALLBACK_TYPE] = []
        self._went_away: dict[str, datetime] = {}
        self._out_since: datetime | None = None
        self._stopped = False

    @callback
    def start(self) -> None:
        """Start watching once Home Assistant runs (off: nothing at all)."""
        if not self._controller.settings.outage_protection:
            return
        if self._hass.state is CoreState.running:
            self._watch()
            return

        @callback
        def _started(_event: Event) -> None:
            self._unsubs.remove(unsub)
            self._watch()

        unsub = self._hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, _started)
        self._unsubs.append(unsub)

    @callback
    def stop(self) -> None:
        """Stop watching."""
        self._stopped = True
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

    @callback
    def _watch(self) -> None:
        settings = self._controller.settings
        minutes = claim_downtime(self._hass, self._controller.entry.entry_id)
        if (mains := settings.mains_entity) is not None:
            # The mains entity knows best: the other sources are for heat pumps without one.
            self._unsubs.append(async_track_state_change_event(self._hass, [mains], self._mains))
            # A run that ends while the mains are out (a reset under way when they went) leaves
            # the outage to an outage run: looked at again once every listener heard of the end.
            self._unsubs.append(self._controller.async_add_event_listener(self._run_event))
            self._check_mains()
            return
        if downtime_outage(minutes):
            assert minutes is not None
            now = dt_util.utcnow()
            self._begin(OutageSource.HOME_ASSISTANT_DOWN, now - timedelta(minutes=minutes), now)
        self._unsubs.append(
            async_track_state_change_event(self._hass, settings.switches, self._switches)
        )

    @callback
    def _mains(self, _event: Event[EventStateChangedData]) -> None:
        self._check_mains()

    @callback
    def _run_event(self, event_type: str, data: dict[str, Any]) -> None:
        # A cancelled run was a person's word: the thermostat back now, not held off again.
        if event_type in (EVENT_STARTED, EVENT_OUTAGE, Outcome.CANCELLED):
            return
        # An outage run that failed while the mains are out would fail again at once (a store
        # that cannot be written), without end: the next one waits for the mains to change.
        if event_type == Outcome.FAILED and data.get("trigger") == Trigger.OUTAGE:
            return
        self._hass.loop.call_soon(self._check_mains)

    @callback
    def _check_mains(self) -> None:
        mains = self._controller.settings.mains_entity
        if mains is None or self._stopped:
            return
        if mains_said(self._hass, mains) is False:
            self._begin(OutageSource.MAINS, dt_util.utcnow(), None)

    @callback
    def _switches(self, event: Event[EventStateChangedData]) -> None:
        """Note every switch going away together, and the outage's end when all are back."""
        entity_id, new_state = event.data["entity_id"], event.data["new_state"]
        # When the state changed, not when this callback runs.
        now = new_state.last_changed if new_state is not None else dt_util.utcnow()
        switches = self._controller.settings.switches
        if not available(new_state):
            self._went_away.setdefault(entity_id, now)
            self._out_since = self._out_since or together(self._went_away, switches)
            return
        self._went_away.pop(entity_id, None)
        if self._out_since is not None and not self._went_away:
            since, self._out_since = self._out_since, None
            self._begin(OutageSource.SWITCHES_UNAVAILABLE, since, now)

    @callback
    def _begin(self, source: OutageSource, since: datetime, ended: datetime | None) -> None:
        """Start an outage run, unless a run is under way (a reset has priority)."""
        controller = self._controller
        if controller.run is not None or controller.entry.state not in _LIVE:
            return
        settings = controller.settings
        _LOGGER.info("Outage of %s (%s) since %s", controller.entry.title, source, since)
        run = Run(
            run_id=uuid4().hex,
            trigger=Trigger.OUTAGE,
            reason=None,
            thermostat=settings.thermostat,
            switches=list(settings.switches),
            discharge_minutes=settings.shortest_discharge_minutes,
            started_at=dt_util.utcnow(),
            mains_entity=settings.mains_entity,
            outage_source=source.value,
            outage_started_at=since,
            outage_ended_at=ended,
        )
        run.keep_sensor(settings.sensor, settings.power_threshold, settings.current_threshold)
        controller.begin(run, Phase.MAINS_OUT)


@callback
def async_watch_outages(controller: ResetController) -> CALLBACK_TYPE:
    """Watch the heat pump's outage sources (if its protection is on); return the stop."""
    outages = Outages(controller)
    outages.start()
    return outages.stop

"""What others do to the equipment while a run drives it, seen as it happens.

A person changing the thermostat (their call, and the thermostat's report of it), and each switch
report during the cut and the discharge wait: power back, or a switch gone.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
import logging
from typing import Any

from homeassistant.const import (
    ATTR_DOMAIN,
    ATTR_ENTITY_ID,
    ATTR_SERVICE_DATA,
    EVENT_CALL_SERVICE,
    STATE_OFF,
    STATE_ON,
    Platform,
)
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event

from . import thermostat
from .equipment import available, by_person, commandable
from .notify import Notifier
from .run import Outcome, PersonChange, Phase, Run
from .waiting import Waiter
from .writing import RunWriter

_LOGGER = logging.getLogger(__name__)

# Phases in which a person's thermostat change is the run's business.
_HOLDING_THERMOSTAT = (
    Phase.STOPPING_THERMOSTAT,
    Phase.CUTTING_POWER,
    Phase.DISCHARGING,
    Phase.RESTORING_POWER,
    Phase.STARTING_UP,
    Phase.RESTORING_THERMOSTAT,
    Phase.MAINS_OUT,
    Phase.WARMING_UP,
)


class RunWatch:
    """Watches the equipment of the run under way (one at a time)."""

    def __init__(
        self,
        hass: HomeAssistant,
        *,
        waiter: Waiter,
        notifier: Notifier,
        writer: RunWriter,
        background: Callable[[Coroutine[Any, Any, None]], None],
    ) -> None:
        """Watch on `hass`; `background` runs a notice's posting without holding up the event."""
        self._hass = hass
        self._waiter = waiter
        self._notifier = notifier
        self._writer = writer
        self._background = background
        self._run: Run | None = None

    @callback
    def start(self, run: Run) -> CALLBACK_TYPE:
        """Watch `run`'s thermostat and switches; return the function that stops it."""
        self._run = run
        unsubs = [
            async_track_state_change_event(self._hass, [run.thermostat], self._thermostat),
            self._hass.bus.async_listen(EVENT_CALL_SERVICE, self._calls),
            async_track_state_change_event(self._hass, run.switches, self._switches),
        ]

        @callback
        def _stop() -> None:
            for unsub in unsubs:
                unsub()
            self._run = None

        return _stop

    @callback
    def _thermostat(self, event: Event[EventStateChangedData]) -> None:
        """Note a person changing the thermostat while the run holds it off."""
        run = self._run
        if run is None or not by_person(event.context) or run.phase not in _HOLDING_THERMOSTAT:
            return
        new_state, old_state = event.data["new_state"], event.data["old_state"]
        if new_state is None or not available(new_state):
            return
        # Only what the person changed: the rest of the state may be the run's own off.
        self._person_changed(run, thermostat.changed_settings(old_state, new_state))

    @callback
    def _calls(self, event: Event[Any]) -> None:
        """Note a person's climate call to the thermostat the moment it is made.

        The thermostat's report of it may come later, under the run's context (the run's own calls
        to put the settings back are in flight): the call itself says what the person wanted.
        """
        run = self._run
        data = event.data
        if (
            run is None
            or data.get(ATTR_DOMAIN) != Platform.CLIMATE
            or not by_person(event.context)
            or run.phase not in _HOLDING_THERMOSTAT
        ):
            return
        service_data = data.get(ATTR_SERVICE_DATA) or {}
        targets = service_data.get(ATTR_ENTITY_ID)
        if run.thermostat not in ([targets] if isinstance(targets, str) else targets or ()):
            return
        self._person_changed(run, thermostat.requested(service_data, run.settings_to_restore))

    @callback
    def _person_changed(self, run: Run, changed: dict[str, Any]) -> None:
        """Keep what a person set on the thermostat (the rule is `Run.note_person_change`)."""
        if run.phase is Phase.RESTORING_THERMOSTAT:
            # The run is sending the saved settings: a report of one of them may be the run's own
            # write under the person's context. Only what differs from them is the person's.
            changed = thermostat.differing(run.settings_to_restore, changed)
        noted = run.note_person_change(changed)
        if noted is PersonChange.NONE:
            return
        if noted is PersonChange.KEPT:
            _LOGGER.info("Thermostat %s: a person set %s", run.thermostat, sorted(changed))
        else:
            _LOGGER.info(
                "Thermostat %s changed by a person during reset %s", run.thermostat, run.run_id
            )
        self._writer.save_soon(run)

    @callback
    def _switches(self, event: Event[EventStateChangedData]) -> None:
        """Decide from each switch report as it comes, during the cut and the discharge wait.

        Power back (a switch sent an off turned on), or a switch gone during the wait (the
        household is told at once).
        """
        run = self._run
        if run is None or run.phase not in (Phase.CUTTING_POWER, Phase.DISCHARGING):
            return
        entity_id = event.data["entity_id"]
        new_state, old_state = event.data["new_state"], event.data["old_state"]
        if run.phase is Phase.DISCHARGING and self._notifier.note_away(
            entity_id, not commandable(new_state)
        ):
            self._background(self._notifier.tell_away(run))
        # A switch sent an off that reported off, now on: power came back, even if it goes off
        # again before the run looks at it (the capacitors charged again). Decided from the event,
        # not from the state found afterwards. A switch never sent an off is not power back.
        if (
            run.sent_off(entity_id)
            and old_state is not None
            and old_state.state == STATE_OFF
            and new_state is not None
            and new_state.state == STATE_ON
            and run.ending is None
        ):
            detail = (
                "power_restored_by_hand" if by_person(event.context) else "power_restored_outside"
            )
            _LOGGER.warning(
                "Power switch %s came back on during %s of reset %s (%s)",
                entity_id,
                run.phase,
                run.run_id,
                detail,
            )
            run.end_early(Outcome.CANCELLED, detail)
            self._writer.save_soon(run)
            self._waiter.reconsider()

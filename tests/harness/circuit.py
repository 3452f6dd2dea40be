"""A simulated circuit: the power sensor follows the breakers, unless the relay is welded or open."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_state_change_event

from .entity_ids import SENSOR, SWITCH_A, SWITCH_B


@dataclass
class Circuit:
    """The sensor on the heat pump's circuit: `standby` while every breaker is on, else `dead`.

    `welded`: the contacts stay closed whatever the breakers report (the reading never falls).
    `failed_closings`: this many times the contacts are asked to close (the breakers all turn on,
    or an on command goes to breakers all on already), they do not (the reading stays dead: a
    contactor that did not pull in, or an optimistic switch whose command was lost).
    `fall_lag`: the reading falls this long after the breakers went off (a slow meter).
    """

    hass: HomeAssistant
    unit: str = "W"
    standby: str = "20"
    dead: str = "0"
    welded: bool = False
    failed_closings: int = 0
    fall_lag: timedelta | None = None
    _unsubs: list[CALLBACK_TYPE] = field(default_factory=list)

    def start(self) -> Circuit:
        """Show the reading of the breakers' states now, and follow them from now on."""
        self.show(self.standby if self._powered() else self.dead)
        self._unsubs.append(
            async_track_state_change_event(self.hass, [SWITCH_A, SWITCH_B], self._changed)
        )
        self._unsubs.append(self.hass.bus.async_listen(EVENT_CALL_SERVICE, self._called))
        return self

    def show(self, reading: str, unit: str | None = None) -> None:
        """Set the sensor's reading as the meter reports it."""
        self.hass.states.async_set(
            SENSOR, reading, {"unit_of_measurement": unit or self.unit, "device_class": "power"}
        )

    def _powered(self) -> bool:
        if self.welded:
            return True
        on = [
            (state := self.hass.states.get(e)) is not None and state.state == "on"
            for e in (SWITCH_A, SWITCH_B)
        ]
        return all(on)

    def _close(self) -> None:
        if self.failed_closings > 0 and not self.welded:
            self.failed_closings -= 1
            self.show(self.dead)
        else:
            self.show(self.standby)

    @callback
    def _called(self, event: Event) -> None:
        data = event.data
        if (data["domain"], data["service"]) != ("switch", "turn_on") or not self._powered():
            return
        targets = data["service_data"].get("entity_id")
        targets = [targets] if isinstance(targets, str) else list(targets or [])
        if all(
            (state := self.hass.states.get(e)) is not None and state.last_changed < event.time_fired
            for e in targets
        ):
            # Sent to breakers all on already (before the call): the contacts are asked to close
            # once more. A breaker the call itself turned on counts through its state change.
            self._close()

    @callback
    def _changed(self, event: Event[EventStateChangedData]) -> None:
        new = event.data["new_state"]
        if self._powered() and new is not None and new.state == "on":
            self._close()
        elif self._powered():
            self.show(self.standby)
        elif self.fall_lag is None:
            self.show(self.dead)
        else:

            @callback
            def _fall(_now: datetime) -> None:
                if not self._powered():
                    self.show(self.dead)

            self._unsubs.append(async_call_later(self.hass, self.fall_lag, _fall))

    def stop(self) -> None:
        """Stop following the breakers."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()

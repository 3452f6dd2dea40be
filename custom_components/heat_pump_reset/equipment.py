"""Reading and commanding the wrapped entities: the thermostat, the power switches, the sensor.

Every command is a blocking service call in a context of our own, bounded by a timeout, confirmed
by the entity's state, and never raises: a wrapped integration may fail in any way, and the run
must carry on and decide. It also tells who made a change: a person in Home Assistant (a context
with a user), or anything else (the run, the device itself, another integration).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.util import dt as dt_util

from . import thermostat
from .reading import SensorKind, reading
from .run import Run, Timing
from .running import above_threshold, is_stopped
from .sequence import thermostat_failure_detail
from .waiting import Waiter, WaitResult

_LOGGER = logging.getLogger(__name__)

_MISSING_STATES: Final = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN})


def available(state: State | None) -> bool:
    """Whether an entity exists and reports a real state."""
    return state is not None and state.state not in _MISSING_STATES


def commandable(state: State | None) -> bool:
    """Whether a switch can take a command: it exists and is not unavailable.

    `unknown` can: a relay whose state topic is not retained (Tasmota over MQTT) reports it after a
    restart, and Home Assistant sends it commands all the same; its report then confirms them.
    """
    return state is not None and state.state != STATE_UNAVAILABLE


def by_person(context: Context) -> bool:
    """Whether a change came from a person in Home Assistant.

    Our own calls carry a context without a user, like a device's own reports and automations.
    """
    return context.user_id is not None


def sensor_above(state: State | None, power: float, current: float) -> bool | None:
    """Whether a sensor's reading, converted to W or A by its unit, is above that threshold.

    None when it cannot be read (absent, unavailable, no number, a unit that cannot be converted).
    """
    converted = reading(state)
    if converted is None:
        return None
    kind, value = converted
    return above_threshold(value, power if kind is SensorKind.POWER else current)


class Equipment:
    """The wrapped entities of one heat pump, as the run sees and commands them."""

    def __init__(self, hass: HomeAssistant, timing: Timing, waiter: Waiter) -> None:
        """Command through `hass`, confirm within `timing`'s timeouts, wait with `waiter`."""
        self._hass = hass
        self._timing = timing
        self._waiter = waiter

    def state(self, entity_id: str) -> State | None:
        """Return an entity's current state."""
        return self._hass.states.get(entity_id)

    def present(self, entity_id: str) -> bool:
        """Whether an entity is available."""
        return available(self.state(entity_id))

    def can_take_command(self, entity_id: str) -> bool:
        """Whether a switch can take a command now (see `commandable`)."""
        return commandable(self.state(entity_id))

    def reported(self, entity_id: str) -> str | None:
        """Return an entity's real state, or None while it is absent, unavailable or unknown."""
        state = self.state(entity_id)
        return state.state if state is not None and available(state) else None

    def is_(self, entity_id: str, value: str) -> bool:
        """Whether an entity reports exactly `value`."""
        state = self.state(entity_id)
        return state is not None and state.state == value

    def changed_by_person(self, entity_id: str) -> bool:
        """Whether a person in Home Assistant made the entity's last change."""
        state = self.state(entity_id)
        return state is not None and by_person(state.context)

    def off_by_person(self, entity_id: str) -> bool:
        """Whether a person in Home Assistant turned the switch off (not the run, not the device)."""
        return self.is_(entity_id, STATE_OFF) and self.changed_by_person(entity_id)

    def above(self, sensor_id: str, power: float, current: float) -> bool | None:
        """Whether the sensor shows the unit running (None: unreadable)."""
        return sensor_above(self.state(sensor_id), power, current)

    def run_sensor_above(self, run: Run) -> bool | None:
        """Whether the run's sensor shows the unit running (None: no sensor, or unreadable)."""
        if run.power_sensor is None:
            return None
        return self.above(run.power_sensor, run.power_threshold, run.current_threshold)

    def unit_idle(self, run: Run) -> bool:
        """Whether the thermostat is off and idle and, with a sensor, the unit draws no power.

        An unreadable sensor (or one in a unit that cannot be converted) cannot prove the compressor
        stopped: it counts as running.
        """
        climate = self.state(run.thermostat)
        if climate is None or not is_stopped(climate.state, thermostat.hvac_action(climate)):
            return False
        return run.power_sensor is None or self.run_sensor_above(run) is False

    def watched(self, run: Run, *entity_ids: str) -> list[str]:
        """Return the entities plus the run's power sensor, when it has one."""
        return [*entity_ids, *([run.power_sensor] if run.power_sensor else [])]

    async def call(
        self,
        domain: str,
        service: str,
        entity_id: str,
        data: dict[str, Any],
        deadline: datetime | None = None,
    ) -> bool:
        """Call an entity service, blocking, until `deadline` at most; return False when it raised."""
        timeout = self._timing.switch_timeout
        if deadline is not None:
            timeout = max(deadline - dt_util.utcnow(), timedelta(0))
        try:
            async with asyncio.timeout(timeout.total_seconds()):
                await self._hass.services.async_call(
                    domain,
                    service,
                    {ATTR_ENTITY_ID: entity_id, **data},
                    blocking=True,
                    context=Context(),
                )
        except Exception as err:  # noqa: BLE001
            # A wrapped integration may raise anything; the run must carry on and decide, not crash.
            _LOGGER.warning("%s.%s on %s failed: %s", domain, service, entity_id, err)
            return False
        return True

    async def switch_to(self, entity_id: str, value: str, since: datetime | None = None) -> bool:
        """Switch a power switch; confirm it reports `value` within the confirm timeout of `since`.

        The call and the confirmation share that one timeout, counted from `since` (default: now),
        so a restart mid-cut knows the latest moment a switch could have gone off.
        """
        service = SERVICE_TURN_ON if value == STATE_ON else SERVICE_TURN_OFF
        deadline = (since or dt_util.utcnow()) + self._timing.switch_timeout
        if not await self.call(Platform.SWITCH, service, entity_id, {}, deadline):
            return False
        result = await self._waiter.wait(
            deadline, [entity_id], lambda: self.is_(entity_id, value), cancellable=False
        )
        return result is WaitResult.MET

    async def apply_settings(self, run: Run) -> bool:
        """Send the saved thermostat settings and confirm them; return whether they all hold.

        The calls are worked out again before each one: a person's change that lands between them
        joins the settings to restore (or, a new mode, ends the restore) and is not overwritten.
        """
        sent = 0
        while not run.thermostat_overridden:
            calls = thermostat.restore_calls(run.settings_to_restore)
            if sent >= len(calls):
                break
            service, data = calls[sent]
            await self.call(Platform.CLIMATE, service, run.thermostat, data)
            sent += 1

        def _restored() -> bool:
            if run.thermostat_overridden:
                return True
            state = self.state(run.thermostat)
            return state is not None and not thermostat.mismatched(run.settings_to_restore, state)

        result = await self._waiter.wait(
            dt_util.utcnow() + self._timing.stop_timeout,
            [run.thermostat],
            _restored,
            cancellable=False,
        )
        return result is WaitResult.MET

    def thermostat_failure(self, run: Run, *, returned: bool) -> str:
        """Return the detail of a thermostat not put back: it never returned, or what differs."""
        state = self.state(run.thermostat)
        missing = (
            thermostat.mismatched(run.settings_to_restore, state)
            if state is not None
            else list(run.settings_to_restore)
        )
        return thermostat_failure_detail(returned=returned, missing=missing)

"""The `warming_up` phase of an outage run (issue 14): the thermostat held off while the compressor warms.

Power is on (the grid is back) and no switch is touched: the crankcase heater warms the oil while
the thermostat stays off, until the hold's deadline, a room at its floor, a person's change, or a
cancel. Whether and how long to hold is decided in `warmup`, when the outage ends (`mainsout`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import logging

from .crew import Crew
from .run import Run
from .waiting import WaitResult
from .warmup import HoldEnd, celsius

_LOGGER = logging.getLogger(__name__)


class WarmUp:
    """Holds the thermostat off for the warm-up, and notes why the hold ended."""

    def __init__(self, crew: Crew, hold_off: Callable[[Run], Awaitable[None]]) -> None:
        """Perform the phase with `crew`; `hold_off(run)` sets the thermostat off once."""
        self._crew = crew
        self._hold_off = hold_off

    def _room(self, run: Run) -> float | None:
        """Return the room's temperature in °C: its sensor's, or else the thermostat's current one.

        A climate entity reports in Home Assistant's unit system; a sensor in its own unit.
        """
        room = self._crew.warmup.room_entity
        state = self._crew.equipment.state(room or run.thermostat)
        if state is None:
            return None
        if room is not None:
            return celsius(state.state, state.attributes.get("unit_of_measurement"))
        unit = self._crew.hass.config.units.temperature_unit
        return celsius(state.attributes.get("current_temperature"), unit)

    async def __call__(self, run: Run) -> None:
        """Set the thermostat off if the outage did not, then hold it off until the hold ends."""
        rule = self._crew.warmup
        if not run.thermostat_held and not run.thermostat_overridden:
            # Known only after the outage (Home Assistant was down): set off now, before it starts.
            await self._hold_off(run)
        if run.thermostat_overridden:
            ended = HoldEnd.PERSON
        elif not run.thermostat_held:
            ended = HoldEnd.NOTHING_HELD
        else:
            kept = dict(run.settings_to_restore)

            def _over() -> bool:
                # A person's new mode, or any setting they changed, ends the hold at once.
                return (
                    run.thermostat_overridden
                    or run.settings_to_restore != kept
                    or rule.too_cold(self._room(run))
                )

            room = [rule.room_entity] if rule.room_entity else []
            result = await self._crew.waiter.wait(run.phase_ends_at, [run.thermostat, *room], _over)
            if result is WaitResult.CANCELLED:
                ended = HoldEnd.CANCELLED
            elif result is WaitResult.TIMEOUT:
                ended = HoldEnd.ELAPSED
            elif run.thermostat_overridden or run.settings_to_restore != kept:
                ended = HoldEnd.PERSON
            else:
                ended = HoldEnd.ROOM_FLOOR
        run.warmup_ended = ended.value
        _LOGGER.info("Warm-up of %s ended (%s)", self._crew.name, ended)
        await self._crew.writer.save(run)

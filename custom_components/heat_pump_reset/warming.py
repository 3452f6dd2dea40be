"""The `warming_up` phase of an outage run (issue 14): the thermostat held off while the compressor warms.

Power is on (the grid is back) and no switch is touched: the crankcase heater warms the oil while
the thermostat stays off, until the hold's deadline, a room at its floor, a person's change, or a
cancel. Whether and how long to hold is decided in `warmup`, when the outage ends (`mainsout`).
"""

from __future__ import annotations

import logging

from .crew import Crew
from .mainsout import MainsOut, sensor_celsius
from .run import Run
from .waiting import WaitResult
from .warmup import HoldEnd, celsius

_LOGGER = logging.getLogger(__name__)


class WarmUp:
    """Holds the thermostat off for the warm-up, and notes why the hold ended."""

    def __init__(self, crew: Crew, mains_out: MainsOut) -> None:
        """Perform the phase with `crew`; `mains_out` sets the thermostat off and reads the mains."""
        self._crew = crew
        self._mains_out = mains_out

    def _room(self, run: Run) -> float | None:
        """Return the room's temperature in °C: its sensor's, or else the thermostat's current one.

        A climate entity reports in Home Assistant's unit system; a sensor in its own unit.
        """
        room = self._crew.warmup.room_entity
        if room is not None:
            return sensor_celsius(self._crew.hass, room)
        state = self._crew.equipment.state(run.thermostat)
        if state is None:
            return None
        unit = self._crew.hass.config.units.temperature_unit
        return celsius(state.attributes.get("current_temperature"), unit)

    async def __call__(self, run: Run) -> None:
        """Set the thermostat off if the outage did not, then hold it off until the hold ends."""
        ended = await self._hold(run)
        if ended is None:
            return
        run.warmup_ended = ended.value
        _LOGGER.info("Warm-up of %s ended (%s)", self._crew.name, ended)
        await self._crew.writer.save(run)

    async def _hold(self, run: Run) -> HoldEnd | None:
        """Hold until the hold ends; return why (None: the mains went out again)."""
        rule, kit, mains_out = self._crew.warmup, self._crew.equipment, self._mains_out
        room = [rule.room_entity] if rule.room_entity else []
        mains = [run.mains_entity] if run.mains_entity else []
        while True:
            # Known only after the outage (Home Assistant was down), or the thermostat lost power
            # too: set off now, or the moment it is back, before the unit starts.
            await mains_out.hold(run)
            away = mains_out.awaited(run)
            if run.thermostat_overridden:
                return HoldEnd.PERSON
            if not run.thermostat_held and not away:
                return HoldEnd.NOTHING_HELD
            kept = dict(run.settings_to_restore)

            def _over(kept: dict[str, object] = kept, away: bool = away) -> bool:
                # A person's new mode, or any setting they changed, ends the hold at once.
                return (
                    run.thermostat_overridden
                    or run.settings_to_restore != kept
                    or rule.too_cold(self._room(run))
                    or mains_out.present(run) is False
                    or (away and kit.present(run.thermostat))
                )

            result = await self._crew.waiter.wait(
                run.phase_ends_at, [run.thermostat, *room, *mains], _over
            )
            if result is WaitResult.CANCELLED:
                return HoldEnd.CANCELLED
            if result is WaitResult.TIMEOUT:
                return HoldEnd.ELAPSED
            if mains_out.present(run) is False:
                # Out again: the outage goes on (from its first start), its hold after it.
                _LOGGER.info("Mains of %s out again during the warm-up", self._crew.name)
                run.outage_ended_at = run.warmup_ends_at = None
                await self._crew.writer.save(run)
                return None
            if run.thermostat_overridden or run.settings_to_restore != kept:
                return HoldEnd.PERSON
            if rule.too_cold(self._room(run)):
                return HoldEnd.ROOM_FLOOR
            # The thermostat is back: set off, and held.

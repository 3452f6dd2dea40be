"""The `mains_out` phase of an outage run (issue 14): the thermostat held off until the mains return.

Never touches a power switch: the grid cut the power, so there is no cut and no discharge wait of
ours. What the mains entity's states mean is decided in `outage`.
"""

from __future__ import annotations

from collections.abc import Callable
import logging

from homeassistant.components.climate.const import SERVICE_SET_HVAC_MODE
from homeassistant.const import SERVICE_TURN_OFF, STATE_OFF, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util

from . import thermostat
from .crew import Crew
from .outage import mains_entity_present
from .run import Run
from .waiting import WaitResult
from .warmup import celsius

_LOGGER = logging.getLogger(__name__)


@callback
def mains_said(hass: HomeAssistant, entity_id: str | None) -> bool | None:
    """Return what the mains entity says now: present, absent, or nothing (None without one)."""
    if entity_id is None:
        return None
    state = hass.states.get(entity_id)
    return mains_entity_present(entity_id, state.state if state else None)


@callback
def sensor_celsius(hass: HomeAssistant, entity_id: str | None) -> float | None:
    """Return a temperature sensor's reading in °C (None: no sensor, or no reading in °C, °F, K)."""
    state = hass.states.get(entity_id) if entity_id else None
    if state is None:
        return None
    return celsius(state.state, state.attributes.get("unit_of_measurement"))


class MainsOut:
    """Holds the thermostat off while the mains are out, and notes when they return."""

    def __init__(self, crew: Crew, ended: Callable[[Run], None]) -> None:
        """Perform the phase with `crew`; `ended(run)` is told when the outage has ended."""
        self._crew = crew
        self._ended = ended

    def present(self, run: Run) -> bool | None:
        """Whether the mains entity says the mains are present (None: no entity, or it cannot tell)."""
        return mains_said(self._crew.hass, run.mains_entity)

    async def __call__(self, run: Run) -> None:
        """Hold the thermostat off (once), wait for the mains, then tell that the outage ended."""
        kit = self._crew.equipment
        while run.outage_ended_at is None and self.present(run) is not True:
            await self.hold(run)
            # A thermostat without power too (or not set up yet) is set off the moment it is back.
            away = self.awaited(run)

            def _back(away: bool = away) -> bool:
                return bool(self.present(run)) or (away and kit.present(run.thermostat))

            result = await self._crew.waiter.wait(
                None, [*([run.mains_entity] if run.mains_entity else []), run.thermostat], _back
            )
            if result is not WaitResult.MET:
                return
        if run.outage_ended_at is None:
            run.outage_ended_at = dt_util.utcnow()
        if run.warmup_ends_at is None and not run.cancelled:
            self._plan_warmup(run)
        await self._crew.writer.save(run)
        _LOGGER.info("Outage of %s ended (%s)", self._crew.name, run.outage_source)
        self._ended(run)

    def awaited(self, run: Run) -> bool:
        """Whether the thermostat is to be set off once it is back: gone now, and not held yet."""
        return (
            not run.thermostat_held
            and not run.thermostat_overridden
            and not self._crew.equipment.present(run.thermostat)
        )

    def _plan_warmup(self, run: Run) -> None:
        """Decide the compressor's warm-up from the outage's length and the outdoor temperature."""
        started, ended = run.outage_started_at, run.outage_ended_at
        if started is None or ended is None:
            return
        rule = self._crew.warmup
        minutes = int((ended - started).total_seconds() // 60)
        outdoor = sensor_celsius(self._crew.hass, rule.outdoor_entity)
        run.warmup_ends_at = rule.ends_at(ended, minutes, outdoor)
        if run.warmup_ends_at is not None:
            _LOGGER.info(
                "Warm-up of %s until %s (outage %s min, outdoor %s °C)",
                self._crew.name,
                run.warmup_ends_at,
                minutes,
                outdoor,
            )

    async def hold(self, run: Run) -> None:
        """Set the thermostat off once, written first; a person's change since wins."""
        kit = self._crew.equipment
        climate = kit.state(run.thermostat)
        if run.thermostat_held or run.thermostat_overridden or not kit.present(run.thermostat):
            return
        if climate is None or climate.state == STATE_OFF:
            return
        run.settings_to_restore = thermostat.capture(climate)
        run.thermostat_held = True
        # Write before act: a restart must know the thermostat was set off by us.
        await self._crew.writer.save(run)
        if await kit.call(
            Platform.CLIMATE, SERVICE_SET_HVAC_MODE, run.thermostat, {"hvac_mode": "off"}
        ) or (
            thermostat.supports_turn_off(kit.state(run.thermostat))
            and await kit.call(Platform.CLIMATE, SERVICE_TURN_OFF, run.thermostat, {})
        ):
            return
        _LOGGER.warning("Thermostat %s did not answer the off of an outage", run.thermostat)
        run.thermostat_held = False
        await self._crew.writer.save(run)

"""The scene of a test, stopping a run right after a store write, and holding a run in each phase."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate.const import HVACAction
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from custom_components.heat_pump_reset.run import Phase, Run

from .driving import advance, start, state
from .entity_ids import PHASE
from .equipment import HeatPump
from .timings import COARSE, DISCHARGE, STAGGER, STARTUP

# --- Stopping a run right after a store write ---------------------------------------------------


@dataclass
class StorePause:
    """Stops the run right after it stored the state that matches, until released (or for good).

    The `store_pause` fixture (conftest.py) patches the run store's write of the active run.
    """

    match: Callable[[Run], bool] | None = None
    # Set once the run stopped after the matching write.
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    # The run goes on once this is set; never set: the process died right after that write, and
    # the run hangs there until the entry unloads and cancels it.
    release: asyncio.Event = field(default_factory=asyncio.Event)
    # A full or failing disk: every write of the active run raises while this is set.
    full: bool = False

    def stop_after(self, match: Callable[[Run], bool]) -> None:
        """Stop the run right after the next store write that matches."""
        self.match = match


# Arms a simulated death of the process right after the store write a predicate picks.
Die = Callable[[Callable[[Run], bool]], None]


# --- The scene ----------------------------------------------------------------------------------


@dataclass
class Scene:
    """What a hold (or a fault) needs: the test HA, its clock, the equipment, the entry, the stores
    on 'disk' and the store pause."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    pump: HeatPump
    entry: ConfigEntry
    storage: dict[str, Any]
    store: StorePause

    def die(self, match: Callable[[Run], bool]) -> None:
        """Make the process die right after the store write that matches."""
        self.store.stop_after(match)


# --- Holding a run in each phase ----------------------------------------------------------------

# Clears the fault a hold used to keep the run in its phase (the run can then go on).
Release = Callable[[], None]
# Holds run at this step: fine enough that each stagger and deadline lands within 10 seconds.
HOLD_STEP = timedelta(seconds=10)


def _nothing() -> None:
    """Nothing to clear: the run stays in its phase only until its deadline."""


def _in(sc: Scene, phase: str) -> None:
    """The run shows the phase held (a run that died after a store write may not show it yet)."""
    assert state(sc.hass, PHASE).state == phase


async def hold_stopping_thermostat(sc: Scene) -> Release:
    """The unit keeps heating after the thermostat is told off."""
    sc.pump.thermostat.stuck_action = HVACAction.HEATING
    await start(sc.hass, sc.entry)
    await advance(sc.hass, sc.freezer, timedelta(seconds=30), step=timedelta(seconds=5))
    _in(sc, "stopping_thermostat")

    def _release() -> None:
        sc.pump.thermostat.stuck_action = None
        sc.pump.thermostat.async_write_ha_state()

    return _release


async def hold_cutting_power(sc: Scene) -> Release:
    """The second breaker ignores its off command, so the run waits for its confirmation."""
    sc.pump.switch_b.refuse = True
    await start(sc.hass, sc.entry)
    await advance(sc.hass, sc.freezer, timedelta(seconds=10))
    _in(sc, "cutting_power")

    def _release() -> None:
        sc.pump.switch_b.refuse = False

    return _release


async def hold_cutting_power_before_cut(sc: Scene) -> Release:
    """Died right after entering cutting_power, before any off command."""
    sc.die(lambda run: run.phase is Phase.CUTTING_POWER and run.switches_sent_off == 0)
    await start(sc.hass, sc.entry)
    return _nothing


async def hold_cutting_power_partial(sc: Scene) -> Release:
    """Died after breaker a went off, just before breaker b's off command."""
    sc.die(lambda run: run.phase is Phase.CUTTING_POWER and run.switches_sent_off == 2)
    await start(sc.hass, sc.entry)
    return _nothing


async def hold_discharging(sc: Scene) -> Release:
    """Ten minutes into the discharge wait."""
    await start(sc.hass, sc.entry)
    await advance(sc.hass, sc.freezer, timedelta(minutes=10), step=COARSE)
    _in(sc, "discharging")
    return _nothing


async def hold_restoring_power(sc: Scene) -> Release:
    """The second breaker dropped off the network while off, so power cannot come back yet."""
    await start(sc.hass, sc.entry)
    sc.pump.switch_b.set_available(False)
    await advance(sc.hass, sc.freezer, DISCHARGE + timedelta(minutes=1), step=HOLD_STEP)
    _in(sc, "restoring_power")

    def _release() -> None:
        sc.pump.switch_b.set_available(True)

    return _release


async def hold_starting_up(sc: Scene) -> Release:
    """One minute into the start-up delay."""
    await start(sc.hass, sc.entry)
    await advance(sc.hass, sc.freezer, DISCHARGE + STAGGER + timedelta(minutes=1), step=HOLD_STEP)
    _in(sc, "starting_up")
    return _nothing


async def hold_restoring_thermostat(sc: Scene) -> Release:
    """The thermostat lost power with the breakers and has not come back."""
    await start(sc.hass, sc.entry)
    sc.pump.thermostat.set_available(False)
    await advance(
        sc.hass, sc.freezer, DISCHARGE + STAGGER + STARTUP + timedelta(minutes=1), step=HOLD_STEP
    )
    _in(sc, "restoring_thermostat")

    def _release() -> None:
        sc.pump.thermostat.set_available(True)

    return _release


async def hold_verifying(sc: Scene) -> Release:
    """The thermostat is back but the unit has not started yet."""
    sc.pump.thermostat.stuck_action = HVACAction.IDLE
    await start(sc.hass, sc.entry)
    await advance(
        sc.hass, sc.freezer, DISCHARGE + STAGGER + STARTUP + timedelta(minutes=1), step=HOLD_STEP
    )
    _in(sc, "verifying")

    def _release() -> None:
        sc.pump.thermostat.stuck_action = None
        sc.pump.thermostat.async_write_ha_state()

    return _release

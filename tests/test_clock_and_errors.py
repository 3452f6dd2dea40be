"""Decisions of the outside review's item 15: an error in the discharge wait, a verification window
that passed while Home Assistant was down, and a clock that was far ahead when a run was written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate.const import HVACAction
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
import pytest

from custom_components.heat_pump_reset.phases import Phases
from custom_components.heat_pump_reset.run import Run

from .harness.driving import advance, start, state, store_key, stored_history
from .harness.entity_ids import OUTCOME, PHASE
from .harness.equipment import SAVED, HeatPump, power, thermostat_settings
from .harness.restarts import boot, kill, restart
from .harness.timings import COARSE, DISCHARGE, SECOND, STAGGER, STARTUP, VERIFY


async def test_an_error_in_the_discharge_wait_keeps_power_off_until_the_deadline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An unexpected exception while waiting never brings power back early: the wait is kept."""
    failures = 0

    async def _broken(self: Phases, run: Run) -> None:
        nonlocal failures
        failures += 1
        raise RuntimeError("unexpected")

    monkeypatch.setattr(Phases, "discharge", _broken)
    await start(hass, entry)
    assert failures == 1
    assert power(heat_pump) == [False, False]
    await advance(hass, freezer, DISCHARGE - COARSE, step=COARSE)
    assert power(heat_pump) == [False, False]
    assert state(hass, PHASE).state == "discharging"
    await advance(hass, freezer, COARSE + STAGGER + SECOND, step=SECOND)
    assert power(heat_pump) == [True, True]
    await advance(hass, freezer, STARTUP + SECOND, step=COARSE)
    assert thermostat_settings(heat_pump) == SAVED
    record = stored_history(hass_storage, entry)[0]
    assert (record["outcome"], record["detail"]) == ("failed", "internal_error_in_discharging")


async def test_a_verification_window_that_passed_while_down_is_watched_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """Nobody watched the unit while Home Assistant was down: it gets a full window from the start.

    Judged as `no_start` at once, the run would raise an error-level repair without having looked.
    """
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await start(hass, entry)
    await advance(hass, freezer, DISCHARGE + STAGGER + STARTUP + timedelta(minutes=1), step=COARSE)
    assert state(hass, PHASE).state == "verifying"
    await restart(hass, freezer, entry, heat_pump, downtime=timedelta(hours=2))
    assert state(hass, PHASE).state == "verifying"
    await advance(hass, freezer, VERIFY - COARSE, step=COARSE)
    assert state(hass, PHASE).state == "verifying"
    heat_pump.thermostat.stuck_action = None
    heat_pump.thermostat.async_write_ha_state()
    await advance(hass, freezer, COARSE)
    assert state(hass, OUTCOME).state == "succeeded"


@pytest.mark.parametrize("phase", ["discharging", "starting_up", "verifying"])
async def test_a_clock_far_ahead_when_the_run_was_written_never_strands_it(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    phase: str,
) -> None:
    """A run written while the clock was a year ahead resumes with at most its own durations left.

    A host whose clock ran ahead (a bad real-time clock before the network time arrived) stores
    deadlines a year away; once the clock is right again, power must not stay off for a year.
    """
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    year = timedelta(days=365)
    freezer.tick(year)
    await start(hass, entry)
    until = {
        "discharging": timedelta(minutes=10),
        "starting_up": DISCHARGE + STAGGER + timedelta(minutes=1),
        "verifying": DISCHARGE + STAGGER + STARTUP + timedelta(minutes=1),
    }[phase]
    await advance(hass, freezer, until, step=COARSE)
    assert state(hass, PHASE).state == phase
    await kill(hass, entry)
    freezer.tick(-year)
    await boot(hass, freezer, entry, heat_pump, timedelta(minutes=1))
    longest = {"discharging": DISCHARGE, "starting_up": STARTUP, "verifying": VERIFY}[phase]
    await advance(hass, freezer, longest + STAGGER + STARTUP + VERIFY + COARSE, step=COARSE)
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, PHASE).state == "idle"
    assert hass_storage[store_key(entry)]["data"]["active"] is None

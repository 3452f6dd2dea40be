"""Thermostats that do not work like the fake's default: one that goes off only by `turn_off`."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate.const import HVACMode
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
import pytest

from .harness.driving import advance, start, state
from .harness.entity_ids import OUTCOME
from .harness.equipment import SAVED, HeatPump, thermostat_settings
from .harness.timings import COARSE, DISCHARGE, STAGGER, STARTUP, VERIFY


@pytest.fixture
def turn_off_only(heat_pump: HeatPump, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the thermostat list `off` but refuse `set_hvac_mode(off)`: only `turn_off` stops it."""
    climate = heat_pump.thermostat
    original = climate.async_set_hvac_mode
    used: list[str] = []

    async def _set_hvac_mode(hvac_mode: HVACMode) -> None:
        if hvac_mode == HVACMode.OFF:
            raise NotImplementedError
        await original(hvac_mode)

    async def _turn_off(**_kwargs: Any) -> None:
        used.append("turn_off")
        await original(HVACMode.OFF)

    monkeypatch.setattr(climate, "async_set_hvac_mode", _set_hvac_mode)
    monkeypatch.setattr(climate, "async_turn_off", _turn_off)
    return used


async def test_a_thermostat_that_only_turns_off_by_turn_off_is_reset(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    turn_off_only: list[str],
) -> None:
    """`set_hvac_mode(off)` refused: the run stops it with `climate.turn_off`, then resets as usual."""
    await start(hass, entry)
    assert turn_off_only == ["turn_off"]
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    await advance(hass, freezer, DISCHARGE + STAGGER + STARTUP + VERIFY + COARSE, step=COARSE)
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "succeeded"


async def test_a_run_that_ends_at_once_is_announced_before_it_ends(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    turn_off_only: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Neither way turns it off: the run fails at once, its start told first, the action answers."""

    async def _refuse(**_kwargs: Any) -> None:
        raise NotImplementedError

    monkeypatch.setattr(heat_pump.thermostat, "async_turn_off", _refuse)
    told: list[str] = []
    entry.runtime_data.async_add_event_listener(lambda event_type, _data: told.append(event_type))
    await start(hass, entry)
    assert told == ["started", "failed"]
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert entry.runtime_data.last is not None
    assert entry.runtime_data.last["detail"] == "thermostat_refused_off"

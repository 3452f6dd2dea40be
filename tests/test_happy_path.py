"""The whole reset, step by step, with the timings of the documented procedure."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from custom_components.heat_pump_reset.const import DOMAIN

from .harness.driving import advance, state
from .harness.entity_ids import BUTTON, ENDS_AT, OUTCOME, PHASE
from .harness.equipment import HeatPump


async def test_full_run_with_exact_timings(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    phases: list,
) -> None:
    """Thermostat off, breakers off in order, 30 min, breakers on 10 s apart, 5 min, thermostat back."""
    assert state(hass, PHASE).state == "idle"
    response = await hass.services.async_call(
        DOMAIN,
        "start_reset",
        {"config_entry_id": entry.entry_id, "reason": "test"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert len(str(response["run_id"])) == 32
    await hass.async_block_till_done()
    assert heat_pump.thermostat.hvac_mode == "off"
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    assert state(hass, PHASE).state == "discharging"
    cut_at = state(hass, PHASE).last_changed
    assert state(hass, ENDS_AT).state == (cut_at + timedelta(minutes=30)).isoformat(
        timespec="seconds"
    )

    await advance(hass, freezer, timedelta(minutes=29, seconds=59))
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    await advance(hass, freezer, timedelta(seconds=1))
    assert heat_pump.switch_a.is_on
    assert not heat_pump.switch_b.is_on
    await advance(hass, freezer, timedelta(seconds=10))
    assert heat_pump.switch_b.is_on
    assert state(hass, PHASE).state == "starting_up"
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, timedelta(minutes=5))
    assert heat_pump.thermostat.hvac_mode == "heat"
    assert state(hass, OUTCOME).state == "succeeded"
    assert state(hass, PHASE).state == "idle"
    assert [p for p, _ in phases] == [
        "idle",
        "stopping_thermostat",
        "cutting_power",
        "discharging",
        "restoring_power",
        "starting_up",
        "restoring_thermostat",
        "verifying",
        "idle",
    ]
    assert state(hass, BUTTON)

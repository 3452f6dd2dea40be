"""The compressor warm-up after an outage (issue 14), driven through a real Home Assistant.

Outages of 5 minutes, 2 hours and 10 hours at 15 °C and at -5 °C; the hold on the countdown
sensor; a person, the room floor and a cancel ending it; Home Assistant killed during it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.heat_pump_reset.const import (
    CONF_LONGEST_WARMUP_MINUTES,
    CONF_MAINS_ENTITY,
    CONF_OUTAGE_PROTECTION,
    CONF_OUTDOOR_TEMPERATURE,
    CONF_ROOM_FLOOR,
    CONF_ROOM_TEMPERATURE,
)

from .harness.driving import advance, cancel, get_history, settle, state
from .harness.entity_ids import ENDS_AT, PHASE, THERMOSTAT
from .harness.equipment import SAVED, HeatPump, thermostat_settings, touched
from .harness.restarts import boot, crash
from .harness.timings import STARTUP, TO_THE_END

MAINS = "binary_sensor.mains"
OUTDOOR = "sensor.outdoor_temperature"
ROOM = "sensor.room_temperature"
WARM_UP = {
    CONF_OUTAGE_PROTECTION: True,
    CONF_MAINS_ENTITY: MAINS,
    CONF_OUTDOOR_TEMPERATURE: OUTDOOR,
}
MINUTE = timedelta(minutes=1)


async def outdoor(hass: HomeAssistant, value: float, unit: str = "°C") -> None:
    """Set the outdoor temperature sensor."""
    hass.states.async_set(OUTDOOR, str(value), {"unit_of_measurement": unit})
    await settle(hass)


async def outage(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, length: timedelta
) -> datetime:
    """Take the mains away for `length`, bring them back; return when they came back."""
    hass.states.async_set(MAINS, "off")
    await settle(hass)
    await advance(hass, freezer, length, step=timedelta(minutes=10))
    back = dt_util.utcnow()
    hass.states.async_set(MAINS, "on")
    await settle(hass)
    return back


def ends_at(hass: HomeAssistant) -> datetime:
    """Return the countdown sensor's end time (it shows whole seconds)."""
    found = dt_util.parse_datetime(state(hass, ENDS_AT).state)
    assert found is not None
    return found


def second(when: datetime) -> datetime:
    """Return `when` in whole seconds, as the countdown sensor shows it."""
    return when.replace(microsecond=0)


def switch_commands(pump: HeatPump) -> list[str]:
    """Return every command either breaker received."""
    _calls, a, b = touched(pump)
    return [*a, *b]


async def held_to_the_end(hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry) -> None:
    """Check the outage run's end: settings back, no breaker told anything, one record, run out."""
    assert thermostat_settings(heat_pump) == SAVED
    assert switch_commands(heat_pump) == []
    runs = await get_history(hass, entry)
    assert len(runs) == 1
    assert runs[0]["outage"]["warmup_ended"] == "elapsed"


@pytest.mark.parametrize("options", [WARM_UP], indirect=True)
@pytest.mark.parametrize(
    ("length", "temperature", "hold"),
    [
        (timedelta(minutes=5), 15.0, None),
        (timedelta(minutes=5), -5.0, None),
        (timedelta(hours=2), 15.0, None),
        (timedelta(hours=2), -5.0, timedelta(hours=2)),
        (timedelta(hours=10), 15.0, None),
        (timedelta(hours=10), -5.0, timedelta(hours=4)),
    ],
)
async def test_outages_by_length_and_outdoor_temperature(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    length: timedelta,
    temperature: float,
    hold: timedelta | None,
) -> None:
    """Long enough and cold enough: held as long as the outage, at most 4 hours; else straight on."""
    await outdoor(hass, temperature)
    back = await outage(hass, freezer, length)
    if hold is None:
        assert state(hass, PHASE).state == "starting_up"
    else:
        assert state(hass, PHASE).state == "warming_up"
        assert ends_at(hass) == second(back + hold)
        # Held all along: still off a minute before the end, nothing else touched.
        await advance(hass, freezer, hold - MINUTE, step=timedelta(minutes=5))
        assert state(hass, PHASE).state == "warming_up"
        assert heat_pump.thermostat.hvac_mode == "off"
        await advance(hass, freezer, 2 * MINUTE, step=MINUTE)
        assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert thermostat_settings(heat_pump) == SAVED
    assert switch_commands(heat_pump) == []
    record = (await get_history(hass, entry))[0]
    assert record["power_cut"] is False
    assert record["outage"]["minutes"] == length.total_seconds() // 60
    if hold is None:
        assert record["outage"]["warmup_until"] is None
    else:
        assert record["outage"]["warmup_until"] == (back + hold).isoformat()
        assert record["outage"]["warmup_ended"] == "elapsed"


@pytest.mark.parametrize("options", [WARM_UP], indirect=True)
@pytest.mark.parametrize(("reading", "held"), [(23.0, True), (59.0, False)])
async def test_an_outdoor_sensor_in_fahrenheit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    reading: float,
    held: bool,
) -> None:
    """23 °F is -5 °C (held), 59 °F is 15 °C (not held), whatever unit system Home Assistant uses."""
    await outdoor(hass, reading, "°F")
    await outage(hass, freezer, timedelta(hours=2))
    assert state(hass, PHASE).state == ("warming_up" if held else "starting_up")


@pytest.mark.parametrize("options", [{**WARM_UP, CONF_LONGEST_WARMUP_MINUTES: 0}], indirect=True)
async def test_longest_warm_up_zero_turns_it_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Longest warm-up 0: a 10-hour outage at -5 °C goes straight to the start-up delay."""
    await outdoor(hass, -5.0)
    await outage(hass, freezer, timedelta(hours=10))
    assert state(hass, PHASE).state == "starting_up"


@pytest.mark.parametrize("options", [WARM_UP], indirect=True)
@pytest.mark.parametrize("change", ["mode", "set_point"])
async def test_a_person_ends_the_hold_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
    change: str,
) -> None:
    """A new mode: left as the person set it. A new set point: the rest goes back with it, now."""
    await outdoor(hass, -5.0)
    await outage(hass, freezer, timedelta(hours=3))
    assert state(hass, PHASE).state == "warming_up"
    await advance(hass, freezer, timedelta(minutes=20), step=timedelta(minutes=5))
    service, data = (
        ("set_hvac_mode", {"hvac_mode": "cool"})
        if change == "mode"
        else ("set_temperature", {"temperature": 23.0})
    )
    await hass.services.async_call(
        "climate",
        service,
        {"entity_id": THERMOSTAT, **data},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(hass)
    assert state(hass, PHASE).state != "warming_up"
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    record = (await get_history(hass, entry))[0]
    assert record["outage"]["warmup_ended"] == "person"
    if change == "mode":
        assert heat_pump.thermostat.hvac_mode == "cool"
        assert record["restored_settings"] is None
    else:
        assert thermostat_settings(heat_pump) == {**SAVED, "target_temperature": 23.0}
    assert switch_commands(heat_pump) == []


@pytest.mark.parametrize(
    "options",
    [
        {**WARM_UP, CONF_ROOM_FLOOR: 16.0, CONF_ROOM_TEMPERATURE: ROOM},
        {**WARM_UP, CONF_ROOM_FLOOR: 16.0},
    ],
    indirect=True,
    ids=["room sensor", "thermostat's temperature"],
)
async def test_the_room_floor_ends_the_hold(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    options: dict[str, Any],
) -> None:
    """The room at 17 °C: held; down to 16 °C: the hold ends and the heating comes back."""
    hass.states.async_set(ROOM, "17.0", {"unit_of_measurement": "°C"})
    heat_pump.thermostat.set_room(17.0)
    await outdoor(hass, -5.0)
    await outage(hass, freezer, timedelta(hours=3))
    assert state(hass, PHASE).state == "warming_up"
    await advance(hass, freezer, timedelta(minutes=30), step=timedelta(minutes=5))
    assert state(hass, PHASE).state == "warming_up"
    if CONF_ROOM_TEMPERATURE in options:
        # In °F: 60.8 °F is 16 °C.
        hass.states.async_set(ROOM, "60.8", {"unit_of_measurement": "°F"})
    else:
        heat_pump.thermostat.set_room(16.0)
    await settle(hass)
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert thermostat_settings(heat_pump) == SAVED
    record = (await get_history(hass, entry))[0]
    assert record["outage"]["warmup_ended"] == "room_floor"


@pytest.mark.parametrize("options", [WARM_UP], indirect=True)
async def test_a_cancel_ends_the_hold(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Cancel reset during the hold: the thermostat comes back after the start-up delay."""
    await outdoor(hass, -5.0)
    await outage(hass, freezer, timedelta(hours=3))
    assert state(hass, PHASE).state == "warming_up"
    await cancel(hass, entry)
    await settle(hass)
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, STARTUP + timedelta(minutes=2), step=timedelta(seconds=30))
    assert thermostat_settings(heat_pump) == SAVED
    record = (await get_history(hass, entry))[0]
    assert record["outcome"] == "cancelled"
    assert record["outage"]["warmup_ended"] == "cancelled"


@pytest.mark.parametrize("options", [WARM_UP], indirect=True)
@pytest.mark.parametrize("down", [timedelta(hours=1), timedelta(hours=5)])
async def test_killed_during_the_hold(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    down: timedelta,
) -> None:
    """Killed an hour into a 3-hour hold: it ends when it would have; down past its end: at once."""
    await outdoor(hass, -5.0)
    back = await outage(hass, freezer, timedelta(hours=3))
    assert state(hass, PHASE).state == "warming_up"
    calls = len(heat_pump.thermostat.calls)
    await advance(hass, freezer, timedelta(hours=1), step=timedelta(minutes=5))
    await crash(hass, entry, hass_storage)
    await boot(hass, freezer, entry, heat_pump, down)
    assert len(heat_pump.thermostat.calls) == calls
    if down == timedelta(hours=1):
        assert state(hass, PHASE).state == "warming_up"
        assert ends_at(hass) == second(back + timedelta(hours=3))
        assert heat_pump.thermostat.hvac_mode == "off"
        await advance(hass, freezer, timedelta(minutes=55), step=timedelta(minutes=5))
        assert state(hass, PHASE).state == "warming_up"
        await advance(hass, freezer, timedelta(minutes=6), step=MINUTE)
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    await held_to_the_end(hass, heat_pump, entry)


@pytest.mark.parametrize("options", [WARM_UP], indirect=True)
async def test_mains_out_again_during_the_hold(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The mains gone again during the hold: the outage goes on, and the hold starts over after it."""
    await outdoor(hass, -5.0)
    start = dt_util.utcnow()
    await outage(hass, freezer, timedelta(hours=2))
    assert state(hass, PHASE).state == "warming_up"
    await advance(hass, freezer, timedelta(minutes=30), step=timedelta(minutes=5))
    back = await outage(hass, freezer, timedelta(minutes=30))
    # Out 3 hours from its first start, counting the half hour of power between.
    assert state(hass, PHASE).state == "warming_up"
    assert ends_at(hass) == second(back + (back - start))
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, timedelta(hours=3, minutes=5) + TO_THE_END, step=MINUTE)
    await held_to_the_end(hass, heat_pump, entry)


@pytest.mark.parametrize("options", [WARM_UP], indirect=True)
@pytest.mark.parametrize("returns", ["during the outage", "after the mains"])
async def test_a_thermostat_that_lost_power_too_is_set_off_when_it_returns(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    returns: str,
) -> None:
    """A thermostat without power during the outage is set off the moment it is back, and held."""
    await outdoor(hass, -5.0)
    heat_pump.thermostat.set_available(False)
    await settle(hass)
    hass.states.async_set(MAINS, "off")
    await settle(hass)
    await advance(hass, freezer, timedelta(hours=3), step=timedelta(minutes=10))
    if returns == "during the outage":
        heat_pump.thermostat.set_available(True)
        await settle(hass)
        assert heat_pump.thermostat.hvac_mode == "off"
    hass.states.async_set(MAINS, "on")
    await settle(hass)
    assert state(hass, PHASE).state == "warming_up"
    if returns == "after the mains":
        await advance(hass, freezer, MINUTE, step=MINUTE)
        heat_pump.thermostat.set_available(True)
        await settle(hass)
    assert heat_pump.thermostat.hvac_mode == "off"
    assert state(hass, PHASE).state == "warming_up"
    await advance(hass, freezer, timedelta(hours=3, minutes=5) + TO_THE_END, step=MINUTE)
    await held_to_the_end(hass, heat_pump, entry)

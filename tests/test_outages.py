"""Outage protection (issue 14, first part): the mains entity, Home Assistant down, every switch
unavailable together; the thermostat held off while the mains are out and put back after."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, CoreState, Event, HomeAssistant, State, callback
from homeassistant.helpers import restore_state
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.heat_pump_reset.const import (
    CONF_MAINS_ENTITY,
    CONF_MAX_RESETS_PER_DAY,
    CONF_OUTAGE_PROTECTION,
    EVENT_OUTAGE_ENDED,
)
from custom_components.heat_pump_reset.downtime import async_note_start
from custom_components.heat_pump_reset.outage import (
    downtime_outage,
    mains_present,
    together,
)
from custom_components.heat_pump_reset.run import Phase

from .harness.driving import (
    advance,
    cancel,
    get_history,
    run_once,
    settle,
    start,
    state,
    store_key,
    stored_history,
)
from .harness.entity_ids import EVENT, PHASE, RECENT, SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import SAVED, HeatPump, power, thermostat_settings
from .harness.holding import Die, StorePause
from .harness.restarts import boot, crash, kill, restart
from .harness.timings import STARTUP, TO_THE_END

MAINS = "binary_sensor.mains"
UPS = "sensor.ups_status"
ON_MAINS = {CONF_OUTAGE_PROTECTION: True, CONF_MAINS_ENTITY: MAINS}
ON_UPS = {CONF_OUTAGE_PROTECTION: True, CONF_MAINS_ENTITY: UPS}
ON_ALONE = {CONF_OUTAGE_PROTECTION: True}
OFF_MAINS = {CONF_OUTAGE_PROTECTION: False, CONF_MAINS_ENTITY: MAINS}


@pytest.fixture
def outage_events(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every outage_ended bus event (the logbook's)."""
    seen: list[dict[str, Any]] = []

    @callback
    def _listener(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(EVENT_OUTAGE_ENDED, _listener)
    return seen


async def mains(hass: HomeAssistant, value: str, entity_id: str = MAINS) -> None:
    """Set the mains entity's state and let the integration react."""
    hass.states.async_set(entity_id, value)
    await settle(hass)


def switch_commands(pump: HeatPump) -> list[str]:
    return [*pump.switch_a.commands, *pump.switch_b.commands]


# --- The rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("domain", "value", "expected"),
    [
        ("binary_sensor", "on", True),
        ("binary_sensor", "off", False),
        ("binary_sensor", "unavailable", None),
        ("binary_sensor", "unknown", None),
        ("sensor", "OL", True),
        ("sensor", "OL CHRG", True),
        ("sensor", "ol", True),
        ("sensor", "OB", False),
        ("sensor", "OB DISCHRG LB", False),
        ("sensor", "unavailable", None),
        ("sensor", "BYPASS", None),
        ("sensor", None, None),
    ],
)
def test_mains_present(domain: str, value: str | None, expected: bool | None) -> None:
    """On / OL is present, off / OB absent; unavailable or unknown cannot tell (no outage)."""
    assert mains_present(domain, value) is expected


def test_downtime_outage_needs_five_minutes() -> None:
    """Home Assistant down 2 minutes is no outage; down 2 hours (or 5 minutes) is one."""
    assert not downtime_outage(2)
    assert not downtime_outage(None)
    assert downtime_outage(5)
    assert downtime_outage(120)


def test_switches_together_within_a_minute() -> None:
    """Every switch gone within the window is one outage; one left, or far apart, is not."""
    t0 = dt_util.utcnow()
    assert together({"a": t0, "b": t0 + timedelta(seconds=20)}, ["a", "b"]) == t0
    assert together({"a": t0}, ["a", "b"]) is None
    assert together({"a": t0, "b": t0 + timedelta(minutes=5)}, ["a", "b"]) is None


# --- The mains entity ----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_mains_out_holds_thermostat_off_then_puts_it_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    outage_events: list[dict[str, Any]],
) -> None:
    """Off while the mains are out, back after the start-up delay; recorded; no switch touched."""
    await mains(hass, "on")
    assert state(hass, PHASE).state == "idle"
    await mains(hass, "off")
    assert state(hass, PHASE).state == "mains_out"
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, timedelta(minutes=40), step=timedelta(minutes=1))
    assert heat_pump.thermostat.hvac_mode == "off"
    await mains(hass, "on")
    assert state(hass, PHASE).state == "starting_up"
    assert len(outage_events) == 1
    assert outage_events[0]["source"] == "mains"
    assert outage_events[0]["minutes"] == 40
    event = state(hass, EVENT).attributes
    assert event["event_type"] == "outage_ended"
    assert (event["source"], event["minutes"]) == ("mains", 40)
    assert event["text"] == "outage ended after 40 min (Mains entity)"
    await advance(hass, freezer, STARTUP - timedelta(seconds=5), step=timedelta(seconds=30))
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "idle"
    assert thermostat_settings(heat_pump) == SAVED
    assert switch_commands(heat_pump) == []
    assert power(heat_pump) == [True, True]
    runs = await get_history(hass, entry)
    assert len(runs) == 1
    assert runs[0]["trigger"] == "outage"
    assert runs[0]["power_cut"] is False
    assert runs[0]["outage"]["source"] == "mains"
    assert runs[0]["outage"]["minutes"] == 40
    assert runs[0]["outage"]["ended_at"] is not None


@pytest.mark.parametrize("options", [ON_UPS], indirect=True)
async def test_ups_on_battery_holds_thermostat_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A UPS status: OL CHRG is present, OB DISCHRG absent, unavailable tells nothing."""
    await mains(hass, "OL CHRG", UPS)
    await mains(hass, "unavailable", UPS)
    assert state(hass, PHASE).state == "idle"
    await mains(hass, "OB DISCHRG", UPS)
    assert state(hass, PHASE).state == "mains_out"
    assert heat_pump.thermostat.hvac_mode == "off"
    await mains(hass, "OB DISCHRG LB", UPS)
    await mains(hass, "OL", UPS)
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert thermostat_settings(heat_pump) == SAVED
    runs = await get_history(hass, entry)
    assert [r["outage"]["source"] for r in runs] == ["mains"]


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_person_change_during_outage_wins(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """A person turning the heating back on during the outage keeps it as they set it."""
    await mains(hass, "off")
    assert heat_pump.thermostat.hvac_mode == "off"
    await hass.services.async_call(
        "climate",
        "set_hvac_mode",
        {"entity_id": THERMOSTAT, "hvac_mode": "cool"},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(hass)
    await mains(hass, "on")
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "idle"
    assert heat_pump.thermostat.hvac_mode == "cool"
    runs = await get_history(hass, entry)
    assert runs[0]["outage"]["source"] == "mains"
    assert runs[0]["restored_settings"] is None


@pytest.mark.parametrize("options", [OFF_MAINS], indirect=True)
async def test_protection_off_does_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    outage_events: list[dict[str, Any]],
) -> None:
    """Off (the default): the mains going out changes nothing and records nothing."""
    await mains(hass, "on")
    await mains(hass, "off")
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(minutes=1))
    await mains(hass, "on")
    await advance(hass, freezer, TO_THE_END, step=timedelta(minutes=1))
    assert state(hass, PHASE).state == "idle"
    assert heat_pump.thermostat.calls == []
    assert await get_history(hass, entry) == []
    assert outage_events == []


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
@pytest.mark.parametrize("back_while_down", [False, True])
@pytest.mark.parametrize("how", ["restart", "crash"])
async def test_outage_survives_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    back_while_down: bool,
    how: str,
) -> None:
    """Killed during the outage: the thermostat stays off (never set off twice) and comes back."""
    await mains(hass, "off")
    assert heat_pump.thermostat.hvac_mode == "off"
    calls = len(heat_pump.thermostat.calls)

    def _during() -> None:
        if back_while_down:
            hass.states.async_set(MAINS, "on")

    if how == "crash":
        # Killed keeping only what the store had written: no write on the way down.
        await crash(hass, entry, hass_storage)
        await boot(hass, freezer, entry, heat_pump, timedelta(hours=2), _during)
    else:
        await restart(hass, freezer, entry, heat_pump, timedelta(hours=2), _during)
    assert len(heat_pump.thermostat.calls) == calls
    if not back_while_down:
        assert state(hass, PHASE).state == "mains_out"
        await advance(hass, freezer, timedelta(minutes=10), step=timedelta(minutes=1))
        assert heat_pump.thermostat.hvac_mode == "off"
        assert len(heat_pump.thermostat.calls) == calls
        await mains(hass, "on")
    # Out 2 hours (no outdoor sensor: the length alone decides): the compressor warms up first.
    assert state(hass, PHASE).state == "warming_up"
    await advance(hass, freezer, timedelta(hours=2), step=timedelta(minutes=1))
    assert heat_pump.thermostat.hvac_mode == "off"
    assert len(heat_pump.thermostat.calls) == calls
    await advance(hass, freezer, timedelta(minutes=15) + TO_THE_END, step=timedelta(minutes=1))
    assert thermostat_settings(heat_pump) == SAVED
    assert switch_commands(heat_pump) == []
    runs = await get_history(hass, entry)
    assert len(runs) == 1
    assert runs[0]["outage"]["source"] == "mains"
    assert runs[0]["outage"]["minutes"] >= 120
    assert runs[0]["outage"]["warmup_ended"] == "elapsed"


@pytest.mark.parametrize("options", [{**ON_MAINS, CONF_MAX_RESETS_PER_DAY: 1}], indirect=True)
async def test_outage_does_not_count_as_a_reset(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """After an outage, the day's one reset may still start; the recent resets count stays 0."""
    await mains(hass, "off")
    await mains(hass, "on")
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert (await get_history(hass, entry))[0]["trigger"] == "outage"
    assert state(hass, RECENT).state == "0"
    await run_once(hass, freezer, entry)
    runs = await get_history(hass, entry)
    assert [r["trigger"] for r in runs] == ["automation", "outage"]


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_reset_under_way_is_not_disturbed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """The mains going out during a reset's discharge wait start no outage run."""
    await mains(hass, "on")
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=1))
    assert state(hass, PHASE).state == "discharging"
    await mains(hass, "off")
    assert state(hass, PHASE).state == "discharging"
    await mains(hass, "on")
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    runs = stored_history(hass_storage, entry)
    assert [r["trigger"] for r in runs] == ["automation"]
    assert thermostat_settings(heat_pump) == SAVED


# --- Without a mains entity ----------------------------------------------------------------------


@pytest.mark.parametrize("options", [ON_ALONE], indirect=True)
@pytest.mark.parametrize(
    ("down", "recorded"), [(timedelta(minutes=2), False), (timedelta(hours=2), True)]
)
async def test_home_assistant_down_is_an_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    outage_events: list[dict[str, Any]],
    down: timedelta,
    recorded: bool,
) -> None:
    """Started after being down 2 hours: an outage recorded; 2 minutes: none. Nothing touched."""
    await kill(hass, entry)
    last_seen = dt_util.utcnow()
    freezer.tick(down)
    # Home Assistant's restore-state record of when it last ran, as downtime.py reads it.
    hass.set_state(CoreState.not_running)
    restore_state.async_get(hass).last_states = {
        "sensor.any": restore_state.StoredState(State("sensor.any", "1"), None, last_seen)
    }
    async_note_start(hass)
    await boot(hass, freezer, entry, heat_pump, timedelta(0))
    await advance(hass, freezer, timedelta(minutes=1))
    if not recorded:
        runs = await get_history(hass, entry)
        assert runs == []
        assert outage_events == []
        return
    assert outage_events[0]["minutes"] == 120
    # Down 2 hours, the outage's end known only now: the thermostat is held off for the
    # compressor's warm-up (no outdoor sensor: the length alone decides), then put back.
    assert state(hass, PHASE).state == "warming_up"
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, timedelta(hours=2) + TO_THE_END, step=timedelta(minutes=1))
    runs = await get_history(hass, entry)
    assert [r["outage"]["source"] for r in runs] == ["home_assistant_down"]
    assert runs[0]["outage"]["minutes"] == 120
    assert thermostat_settings(heat_pump) == SAVED
    assert switch_commands(heat_pump) == []
    assert state(hass, PHASE).state == "idle"


@pytest.mark.parametrize("options", [ON_ALONE], indirect=True)
async def test_switches_unavailable_together_is_an_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    outage_events: list[dict[str, Any]],
) -> None:
    """Both breakers gone within seconds and back 10 minutes later: an outage, nothing touched."""
    hass.states.async_set(SWITCH_A, "unavailable")
    await advance(hass, freezer, timedelta(seconds=5))
    hass.states.async_set(SWITCH_B, "unavailable")
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(minutes=1))
    assert outage_events == []
    hass.states.async_set(SWITCH_A, "on")
    hass.states.async_set(SWITCH_B, "on")
    await advance(hass, freezer, timedelta(minutes=1))
    runs = await get_history(hass, entry)
    assert [r["outage"]["source"] for r in runs] == ["switches_unavailable"]
    assert runs[0]["outage"]["minutes"] == 10
    assert outage_events[0]["source"] == "switches_unavailable"
    assert heat_pump.thermostat.calls == []
    assert switch_commands(heat_pump) == []


@pytest.mark.parametrize("options", [ON_ALONE], indirect=True)
async def test_one_switch_unavailable_is_no_outage(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """One breaker gone and back is no outage."""
    hass.states.async_set(SWITCH_A, "unavailable")
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(minutes=1))
    hass.states.async_set(SWITCH_A, "on")
    await advance(hass, freezer, timedelta(minutes=1))
    assert await get_history(hass, entry) == []


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_cancel_during_outage_puts_thermostat_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Cancelled while the mains are out: the thermostat comes back after the start-up delay."""
    await mains(hass, "off")
    assert heat_pump.thermostat.hvac_mode == "off"
    await cancel(hass, entry)
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert thermostat_settings(heat_pump) == SAVED
    assert switch_commands(heat_pump) == []
    runs = await get_history(hass, entry)
    assert runs[0]["outcome"] == "cancelled"
    assert runs[0]["outage"]["ended_at"] is None


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_thermostat_already_off_is_left_alone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A thermostat off before the outage gets no command; the outage is still recorded."""
    await hass.services.async_call(
        "climate", "set_hvac_mode", {"entity_id": THERMOSTAT, "hvac_mode": "off"}, blocking=True
    )
    await settle(hass)
    calls = len(heat_pump.thermostat.calls)
    await mains(hass, "off")
    await advance(hass, freezer, timedelta(minutes=3), step=timedelta(minutes=1))
    await mains(hass, "on")
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert len(heat_pump.thermostat.calls) == calls
    assert heat_pump.thermostat.hvac_mode == "off"
    runs = await get_history(hass, entry)
    assert runs[0]["outage"]["minutes"] == 3


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_outage_end_is_announced_once_across_a_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    die_after_save: Die,
    outage_events: list[dict[str, Any]],
) -> None:
    """Killed right after the outage's end was written: the end is not announced a second time."""
    await mains(hass, "off")
    die_after_save(lambda run: run.phase is Phase.MAINS_OUT and run.outage_ended_at is not None)
    await mains(hass, "on")
    await restart(hass, freezer, entry, heat_pump, timedelta(minutes=1))
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert thermostat_settings(heat_pump) == SAVED
    assert len(outage_events) == 1
    runs = await get_history(hass, entry)
    assert len(runs) == 1
    assert runs[0]["outage"]["ended_at"] is not None


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_unreadable_stored_outage_run_commands_no_switch(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A stored outage run that cannot be read: the thermostat comes back, no breaker is told
    anything (an outage run never cut power), and the outage is in the record."""
    await mains(hass, "off")
    assert heat_pump.thermostat.hvac_mode == "off"
    await crash(hass, entry, hass_storage)
    hass_storage[store_key(entry)]["data"]["active"]["phase"] = "exploding"
    await boot(
        hass,
        freezer,
        entry,
        heat_pump,
        timedelta(minutes=1),
        lambda: hass.states.async_set(MAINS, "on"),
    )
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "idle"
    assert switch_commands(heat_pump) == []
    assert thermostat_settings(heat_pump) == SAVED
    runs = await get_history(hass, entry)
    assert len(runs) == 1
    assert (runs[0]["trigger"], runs[0]["outcome"], runs[0]["detail"]) == (
        "outage",
        "failed",
        "stored_run_unreadable",
    )
    assert runs[0]["power_cut"] is False
    assert runs[0]["outage"]["source"] == "mains"


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_mains_still_out_when_a_reset_ends_start_the_outage_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Out during a reset and still out at its end: the outage run starts then, not never."""
    await mains(hass, "on")
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=1))
    await mains(hass, "off")
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    # The reset put the thermostat back; the mains are still out: held off now.
    assert state(hass, PHASE).state == "mains_out"
    assert heat_pump.thermostat.hvac_mode == "off"
    await mains(hass, "on")
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    runs = stored_history(hass_storage, entry)
    assert [r["trigger"] for r in runs] == ["outage", "automation"]
    assert thermostat_settings(heat_pump) == SAVED


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_failing_outage_run_is_not_started_again_and_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    store_pause: StorePause,
) -> None:
    """The run store cannot be written while the mains are out: the outage run fails at once
    (`store_write_failed`), and no other starts after it (it would fail the same way, at once,
    without end) until the mains change."""
    store_pause.full = True
    await mains(hass, "off")
    await advance(hass, freezer, timedelta(minutes=2), step=timedelta(seconds=10))
    runs = stored_history(hass_storage, entry)
    assert [(r["trigger"], r["detail"]) for r in runs] == [("outage", "store_write_failed")]
    assert switch_commands(heat_pump) == []
    store_pause.full = False
    await mains(hass, "on")
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert thermostat_settings(heat_pump) == SAVED

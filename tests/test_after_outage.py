"""The documented reset after an outage run that ended `no_start` (issue 14).

An outage run (trigger `outage`, `outage_source` set) never cuts power. When its verification saw
the thermostat call for heat or cooling but no start, the documented reset follows on its own:
trigger `outage`, through the same admission as any start without force, counted like any reset.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate import HVACAction
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.heat_pump_reset.const import (
    CONF_MAINS_ENTITY,
    CONF_MAX_RESETS_PER_DAY,
    CONF_OUTAGE_PROTECTION,
    CONF_POWER_SENSOR,
    DOMAIN,
    EVENT_RUN_ENDED,
    EVENT_RUN_STARTED,
)

from .harness.circuit import Circuit
from .harness.driving import advance, get_history, run_once, settle, state
from .harness.entity_ids import EVENT, PHASE, RECENT, SENSOR
from .harness.equipment import SAVED, HeatPump, power, thermostat_settings
from .harness.restarts import restart
from .harness.timings import STARTUP, TO_THE_END, VERIFY

MAINS = "binary_sensor.mains"
ON_MAINS = {CONF_OUTAGE_PROTECTION: True, CONF_MAINS_ENTITY: MAINS}
REASON = "Did not start after the power outage"
# From the mains' return to the outage run's end: start-up delay, thermostat back, verification.
OUTAGE_RUN_END = STARTUP + VERIFY + timedelta(minutes=1)


@pytest.fixture
def run_events(hass: HomeAssistant) -> list[tuple[str, dict[str, Any]]]:
    """Every run_started and run_ended bus event (the logbook's), in order."""
    seen: list[tuple[str, dict[str, Any]]] = []

    @callback
    def _listener(event: Event) -> None:
        seen.append((event.event_type, dict(event.data)))

    for event_type in (EVENT_RUN_STARTED, EVENT_RUN_ENDED):
        hass.bus.async_listen(event_type, _listener)
    return seen


@pytest.fixture
def told(hass: HomeAssistant) -> list[str]:
    """Every event type the Reset event entity fired, in order."""
    seen: list[str] = []

    @callback
    def _listener(event: Event) -> None:
        new = event.data["new_state"]
        if new is not None and new.entity_id == EVENT and "event_type" in new.attributes:
            seen.append(new.attributes["event_type"])

    hass.bus.async_listen("state_changed", _listener)
    return seen


async def mains(hass: HomeAssistant, value: str) -> None:
    """Set the mains entity's state and let the integration react."""
    hass.states.async_set(MAINS, value)
    await settle(hass)


async def outage_without_start(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump
) -> None:
    """An outage of 40 minutes after which the unit stays idle though the room calls for heat."""
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await mains(hass, "on")
    await mains(hass, "off")
    assert state(hass, PHASE).state == "mains_out"
    await advance(hass, freezer, timedelta(minutes=40), step=timedelta(minutes=1))
    await mains(hass, "on")
    await advance(hass, freezer, OUTAGE_RUN_END, step=timedelta(seconds=30))


def no_start_issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the no-start repair of the heat pump, if it is raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"no_start_after_reset_{entry.entry_id}")


def switch_commands(pump: HeatPump) -> list[str]:
    return [*pump.switch_a.commands, *pump.switch_b.commands]


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_no_start_after_outage_is_followed_by_the_reset(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The outage run ends no_start: a reset (trigger outage) cuts power; it starts the unit."""
    await outage_without_start(hass, freezer, heat_pump)
    assert state(hass, PHASE).state not in ("idle", "verifying")
    runs = await get_history(hass, entry)
    assert [(r["trigger"], r["outcome"]) for r in runs] == [("outage", "no_start")]
    assert no_start_issue(hass, entry) is not None
    # The unit works again after the reset's power cycle.
    heat_pump.thermostat.stuck_action = None
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "idle"
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert heat_pump.switch_a.commands == ["off", "on"]
    runs = await get_history(hass, entry)
    assert [(r["trigger"], r["outcome"]) for r in runs] == [
        ("outage", "succeeded"),
        ("outage", "no_start"),
    ]
    reset, outage = runs
    assert reset["power_cut"] is True
    assert reset["outage"] is None
    assert reset["reason"] == REASON
    assert outage["power_cut"] is False
    # A reset like any: it counts.
    assert state(hass, RECENT).state == "1"
    # The unit started after the reset: the no-start repair of the outage does not stand.
    assert no_start_issue(hass, entry) is None


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_reset_after_outage_that_ends_no_start_starts_no_other(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The reset after the outage ends no_start too: no third run; the no-start repair stands."""
    await outage_without_start(hass, freezer, heat_pump)
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "idle"
    await advance(hass, freezer, TO_THE_END, step=timedelta(minutes=1))
    runs = await get_history(hass, entry)
    assert [(r["trigger"], r["outcome"], r["power_cut"]) for r in runs] == [
        ("outage", "no_start", True),
        ("outage", "no_start", False),
    ]
    assert heat_pump.switch_a.commands == ["off", "on"]
    assert power(heat_pump) == [True, True]
    assert no_start_issue(hass, entry) is not None


@pytest.mark.parametrize("options", [{**ON_MAINS, CONF_MAX_RESETS_PER_DAY: 1}], indirect=True)
async def test_refused_reset_after_outage_leaves_the_no_start_repair(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The day's one reset is used up: no reset follows, nothing is touched, the repair stands."""
    await run_once(hass, freezer, entry)
    commands = switch_commands(heat_pump)
    await outage_without_start(hass, freezer, heat_pump)
    await advance(hass, freezer, TO_THE_END, step=timedelta(minutes=1))
    assert state(hass, PHASE).state == "idle"
    assert switch_commands(heat_pump) == commands
    runs = await get_history(hass, entry)
    assert [(r["trigger"], r["outcome"]) for r in runs] == [
        ("outage", "no_start"),
        ("automation", "succeeded"),
    ]
    issue = no_start_issue(hass, entry)
    assert issue is not None
    # In its own words: after a power outage, and that the reset which should follow did not.
    assert issue.translation_key == "no_start_after_outage"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("outage" in w and "(limit: 1)" in w for w in warnings), warnings


@pytest.mark.parametrize("options", [{**ON_MAINS, CONF_POWER_SENSOR: SENSOR}], indirect=True)
async def test_reset_after_outage_proves_the_power_came_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Unlike the outage run, the reset after it checks the circuit after its own restore."""
    circuit = Circuit(hass).start()
    await outage_without_start(hass, freezer, heat_pump)
    assert (await get_history(hass, entry))[0]["outcome"] == "no_start"
    circuit.failed_closings = 99
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    await advance(hass, freezer, TO_THE_END, step=timedelta(minutes=1))
    runs = await get_history(hass, entry)
    assert (runs[0]["trigger"], runs[0]["outcome"], runs[0]["detail"]) == (
        "outage",
        "failed",
        "no_power_after_restore",
    )


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_start_lines_tell_an_outage_from_the_reset_after_it(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    run_events: list[tuple[str, dict[str, Any]]],
    told: list[str],
) -> None:
    """The outage run's start says an outage was noticed; the reset's says it follows one.

    The outage run's end is told before the reset's start, on the bus and by the event entity.
    """
    await mains(hass, "off")
    assert state(hass, EVENT).attributes["text"] == "power outage noticed (Mains entity)"
    assert run_events[0][1]["outage_source"] == "mains"
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await mains(hass, "on")
    await advance(hass, freezer, OUTAGE_RUN_END, step=timedelta(seconds=30))
    assert state(hass, EVENT).attributes["event_type"] == "started"
    assert state(hass, EVENT).attributes["text"] == f"reset after a power outage, reason: {REASON}"
    assert [(kind, data.get("outcome")) for kind, data in run_events] == [
        (EVENT_RUN_STARTED, None),
        (EVENT_RUN_ENDED, "no_start"),
        (EVENT_RUN_STARTED, None),
    ]
    assert run_events[2][1]["outage_source"] is None
    assert run_events[2][1]["trigger"] == "outage"
    assert told == ["started", "outage_ended", "no_start", "started"]
    heat_pump.thermostat.stuck_action = None
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_reset_follows_an_outage_run_resumed_after_a_restart(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Restarted while the outage run verifies: it gets a whole window, then the reset follows."""
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await mains(hass, "off")
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(minutes=1))
    await mains(hass, "on")
    await advance(hass, freezer, STARTUP + timedelta(minutes=2), step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "verifying"
    await restart(hass, freezer, entry, heat_pump)
    assert state(hass, PHASE).state == "verifying"
    await advance(hass, freezer, VERIFY + timedelta(minutes=1), step=timedelta(seconds=30))
    assert state(hass, PHASE).state not in ("idle", "verifying")
    heat_pump.thermostat.stuck_action = None
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))
    runs = await get_history(hass, entry)
    assert [(r["trigger"], r["outcome"], r["power_cut"]) for r in runs] == [
        ("outage", "succeeded", True),
        ("outage", "no_start", False),
    ]
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED


@pytest.mark.parametrize("options", [ON_MAINS], indirect=True)
async def test_no_reset_while_the_mains_are_out_again(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Out again during the verification: no reset then (it could tell nothing); the outage run is."""
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await mains(hass, "on")
    await mains(hass, "off")
    await advance(hass, freezer, timedelta(minutes=40), step=timedelta(minutes=1))
    await mains(hass, "on")
    await advance(hass, freezer, STARTUP + timedelta(minutes=2), step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "verifying"
    await mains(hass, "off")
    await advance(hass, freezer, VERIFY, step=timedelta(seconds=30))
    # The outage run that saw no start has ended; the mains are out: held off, nothing cut.
    assert state(hass, PHASE).state == "mains_out"
    assert heat_pump.thermostat.hvac_mode == "off"
    assert switch_commands(heat_pump) == []

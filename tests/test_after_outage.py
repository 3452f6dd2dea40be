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
    EVENT_RUN_STARTED,
)

from .harness.circuit import Circuit
from .harness.driving import advance, get_history, run_once, settle, state
from .harness.entity_ids import EVENT, PHASE, RECENT, SENSOR
from .harness.equipment import SAVED, HeatPump, power, thermostat_settings
from .harness.timings import STARTUP, TO_THE_END, VERIFY

MAINS = "binary_sensor.mains"
ON_MAINS = {CONF_OUTAGE_PROTECTION: True, CONF_MAINS_ENTITY: MAINS}
REASON = "Did not start after the power outage"
# From the mains' return to the outage run's end: start-up delay, thermostat back, verification.
OUTAGE_RUN_END = STARTUP + VERIFY + timedelta(minutes=1)


@pytest.fixture
def started_lines(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Every run_started bus event (the logbook's)."""
    seen: list[dict[str, Any]] = []

    @callback
    def _listener(event: Event) -> None:
        seen.append(dict(event.data))

    hass.bus.async_listen(EVENT_RUN_STARTED, _listener)
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
    assert no_start_issue(hass, entry) is not None
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
    started_lines: list[dict[str, Any]],
) -> None:
    """The outage run's start says an outage was noticed; the reset's says it follows one."""
    await mains(hass, "off")
    assert state(hass, EVENT).attributes["text"] == "power outage noticed (Mains entity)"
    assert started_lines[0]["outage_source"] == "mains"
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await mains(hass, "on")
    await advance(hass, freezer, OUTAGE_RUN_END, step=timedelta(seconds=30))
    assert state(hass, EVENT).attributes["event_type"] == "started"
    assert state(hass, EVENT).attributes["text"] == f"reset after a power outage, reason: {REASON}"
    assert started_lines[1]["outage_source"] is None
    heat_pump.thermostat.stuck_action = None
    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=30))

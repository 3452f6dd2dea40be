"""Proof that the cut really cut (issue 13, second half): the circuit's reading, not the switch, decides.

A simulated circuit (tests/harness/circuit.py) shows the sensor's reading from the breakers' states:
a welded relay keeps it up whatever the breakers report; an open contactor keeps it dead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.heat_pump_reset.const import (
    CONF_CURRENT_THRESHOLD,
    CONF_NO_POWER_CURRENT,
    CONF_NO_POWER_THRESHOLD,
    CONF_POWER_SENSOR,
    CONF_POWER_THRESHOLD,
    CONF_STARTUP_DELAY_MINUTES,
    DOMAIN,
)
from custom_components.heat_pump_reset.proof import (
    dead_after_restore,
    fail_flowing,
    flowing_unacknowledged,
    power_flowing,
)
from custom_components.heat_pump_reset.run import Outcome, Run, Trigger
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS, Settings

from .harness.circuit import Circuit
from .harness.driving import advance, settle, start, state, stored_history
from .harness.entity_ids import BUTTON, OUTCOME, PHASE, SENSOR, SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import HeatPump, power
from .harness.forms import sectioned
from .harness.restarts import boot, crash, restart
from .harness.timings import COARSE, T0, TO_THE_END

WITH_SENSOR = pytest.mark.parametrize("options", [{CONF_POWER_SENSOR: SENSOR}], indirect=True)
ISSUE = "power_still_flowing"


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Set up HA's Repairs (its fix flows) in the test HA."""
    assert await async_setup_component(hass, "repairs", {})


def issue(hass: HomeAssistant, entry: ConfigEntry) -> ir.IssueEntry | None:
    """Return the power-still-flowing issue of the entry, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"{ISSUE}_{entry.entry_id}")


def outcome(hass: HomeAssistant) -> tuple[str, str | None]:
    """Return the last outcome and its detail."""
    found = state(hass, OUTCOME)
    return found.state, found.attributes.get("detail")


async def to_the_end(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the run go on until it is over."""
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert state(hass, PHASE).state == "idle"


def assert_put_back(heat_pump: HeatPump) -> None:
    """Power is on and the thermostat heats again."""
    assert power(heat_pump) == [True, True]
    assert heat_pump.thermostat.hvac_mode == "heat"


async def acknowledge(
    hass: HomeAssistant,
    entry: ConfigEntry,
    hass_client: ClientSessionGenerator,
    user: MockUser,
) -> None:
    """Acknowledge the issue through its fix flow and the Repairs API, as the dashboard does."""
    # A token issued now: simulated time has moved on by an hour.
    refresh = await hass.auth.async_create_refresh_token(user, CLIENT_ID)
    client = await hass_client(hass.auth.async_create_access_token(refresh))
    response = await client.post(
        "/api/repairs/issues/fix",
        json={"handler": DOMAIN, "issue_id": f"{ISSUE}_{entry.entry_id}"},
    )
    assert response.status == 200, await response.text()
    flow = await response.json()
    assert flow["data_schema"] == []
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json={})
    assert response.status == 200, await response.text()
    assert (await response.json())["type"] == "create_entry"


# --- Item 2: a welded relay ----------------------------------------------------------------------


@WITH_SENSOR
@pytest.mark.usefixtures("repairs")
async def test_welded_relay_fails_and_blocks_every_start_until_acknowledged(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    phases: list[tuple[str, Any]],
    hass_admin_user: MockUser,
    hass_client: ClientSessionGenerator,
) -> None:
    """The switches say off, the reading stays: no discharge wait, power and thermostat back, failed."""
    Circuit(hass, welded=True).start()
    await start(hass, entry)
    assert power(heat_pump) == [False, False]
    await advance(hass, freezer, timedelta(seconds=45))
    assert power(heat_pump) == [True, True]
    assert "discharging" not in [p for p, _ in phases]
    await to_the_end(hass, freezer)
    assert_put_back(heat_pump)
    assert outcome(hass) == ("failed", "power_still_flowing")
    found = issue(hass, entry)
    assert found is not None
    assert found.severity is ir.IssueSeverity.CRITICAL
    assert found.is_fixable

    # No reset starts: the action (even with force), the button; nothing is touched.
    commands = [list(s.commands) for s in heat_pump.switches]
    person = Context(user_id=hass_admin_user.id)
    for context, data in ((None, {}), (person, {"force": True})):
        with pytest.raises(ServiceValidationError) as refused:
            await start(hass, entry, context, **data)
        assert refused.value.translation_key == "power_still_flowing"
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    assert [list(s.commands) for s in heat_pump.switches] == commands

    await acknowledge(hass, entry, hass_client, hass_admin_user)
    assert issue(hass, entry) is None
    freezer.tick(timedelta(hours=1))
    await start(hass, entry)
    assert state(hass, PHASE).state != "idle"


@WITH_SENSOR
async def test_reading_that_falls_slowly_but_in_time_succeeds(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A meter that reports the cut 20 s late is within the switch confirm timeout: the run goes on."""
    Circuit(hass, fall_lag=timedelta(seconds=20)).start()
    await start(hass, entry)
    await advance(hass, freezer, timedelta(seconds=25))
    assert state(hass, PHASE).state == "discharging"
    assert power(heat_pump) == [False, False]
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("succeeded", "verification")
    assert issue(hass, entry) is None


@WITH_SENSOR
@pytest.mark.parametrize(
    ("unit", "standby", "dead"),
    [("kW", "0.02", "0.001"), ("mA", "200", "10")],
    ids=["kw", "ma"],
)
async def test_the_proof_converts_the_reading(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    unit: str,
    standby: str,
    dead: str,
) -> None:
    """In kW or mA: a dead reading proves the cut, a standby one welded does not."""
    circuit = Circuit(hass, unit=unit, standby=standby, dead=dead).start()
    await start(hass, entry)
    await advance(hass, freezer, timedelta(seconds=35))
    assert state(hass, PHASE).state == "discharging"
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("succeeded", "verification")

    circuit.welded = True
    freezer.tick(timedelta(hours=1))
    await start(hass, entry)
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("failed", "power_still_flowing")
    assert_put_back(heat_pump)


@WITH_SENSOR
async def test_unreadable_sensor_cannot_prove_the_cut_and_does_not_block(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A sensor unavailable when power goes off proves nothing: the run goes on as without one."""
    circuit = Circuit(hass).start()
    await start(hass, entry)
    circuit.stop()
    circuit.show("unavailable")
    await advance(hass, freezer, timedelta(seconds=35))
    assert state(hass, PHASE).state == "discharging"
    assert power(heat_pump) == [False, False]
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("succeeded", "verification")
    assert issue(hass, entry) is None


# --- Item 3: power back by another path during the discharge wait --------------------------------


@WITH_SENSOR
async def test_power_back_by_another_path_ends_the_wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Every switch still says off, but the reading comes back: failed, power_still_flowing."""
    circuit = Circuit(hass).start()
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    assert state(hass, PHASE).state == "discharging"
    circuit.welded = True
    circuit.show(circuit.standby)
    await advance(hass, freezer, timedelta(seconds=45))
    assert state(hass, PHASE).state != "discharging"
    assert power(heat_pump) == [True, True]
    await to_the_end(hass, freezer)
    assert_put_back(heat_pump)
    assert outcome(hass) == ("failed", "power_still_flowing")
    assert issue(hass, entry) is not None


@WITH_SENSOR
async def test_a_short_spike_does_not_end_the_wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A reading above "no power" for a few seconds (a noisy meter) ends nothing."""
    circuit = Circuit(hass).start()
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    circuit.show("30")
    await advance(hass, freezer, timedelta(seconds=5))
    circuit.show(circuit.dead)
    await advance(hass, freezer, timedelta(minutes=1), step=timedelta(seconds=5))
    assert state(hass, PHASE).state == "discharging"
    assert power(heat_pump) == [False, False]


@WITH_SENSOR
async def test_power_back_by_hand_stays_the_by_hand_path(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """The reading rises before the switch a person turned on reports on: still power back by hand."""
    circuit = Circuit(hass).start()
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    circuit.stop()
    circuit.show(circuit.standby)
    await advance(hass, freezer, timedelta(seconds=3))
    for entity_id in (SWITCH_A, SWITCH_B):
        await hass.services.async_call(
            "switch",
            "turn_on",
            {"entity_id": entity_id},
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )
    await settle(hass)
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("cancelled", "power_restored_by_hand")
    assert issue(hass, entry) is None


# --- Item 4: a contactor that does not close ---------------------------------------------------


@WITH_SENSOR
async def test_contactor_that_does_not_close_is_cycled_once_and_the_run_fails(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Every switch reports on, the reading stays dead for the start-up delay: one more on command."""
    circuit = Circuit(hass).start()
    await start(hass, entry)
    circuit.failed_closings = 99
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("failed", "no_power_after_restore")
    assert_put_back(heat_pump)
    for switch in heat_pump.switches:
        assert switch.commands == ["off", "on", "on"]


@WITH_SENSOR
async def test_contactor_that_closes_on_the_cycle_still_does_not_succeed(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The on command lost the first time closes it the second: power back, but not `succeeded`."""
    circuit = Circuit(hass).start()
    await start(hass, entry)
    circuit.failed_closings = 1
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("failed", "no_power_after_restore")
    assert_put_back(heat_pump)
    assert heat_pump.switch_a.commands == ["off", "on", "on"]
    assert state(hass, SENSOR).state == circuit.standby


# --- Item 5: restarts --------------------------------------------------------------------------


@WITH_SENSOR
async def test_restart_while_waiting_for_the_reading_to_fall(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Home Assistant dies while a welded relay keeps the reading up: after it, power goes back."""
    Circuit(hass, welded=True).start()
    await start(hass, entry)
    await advance(hass, freezer, timedelta(seconds=5))
    assert power(heat_pump) == [False, False]
    await crash(hass, entry, hass_storage)
    await boot(hass, freezer, entry, heat_pump, timedelta(minutes=2))
    await advance(hass, freezer, timedelta(seconds=45))
    assert power(heat_pump) == [True, True]
    await to_the_end(hass, freezer)
    assert_put_back(heat_pump)
    assert outcome(hass) == ("failed", "power_still_flowing")
    assert issue(hass, entry) is not None
    assert stored_history(hass_storage, entry)[0]["detail"] == "power_still_flowing"


@WITH_SENSOR
async def test_restart_during_the_wait_finds_power_flowing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Power came back by another path while Home Assistant was down: found after the restart."""
    circuit = Circuit(hass).start()
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=5), step=COARSE)

    def _weld() -> None:
        circuit.welded = True
        circuit.show(circuit.standby)

    await restart(hass, freezer, entry, heat_pump, timedelta(minutes=3), _weld)
    await advance(hass, freezer, timedelta(seconds=45))
    assert power(heat_pump) == [True, True]
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("failed", "power_still_flowing")
    assert_put_back(heat_pump)


# --- Item 1: the level -------------------------------------------------------------------------


def test_no_power_levels_default_and_are_read_from_the_options() -> None:
    """A few watts, a few hundredths of an ampere; what the options say otherwise."""
    base = {"thermostat": THERMOSTAT, "switches": [SWITCH_A]}
    settings = Settings.from_options(base)
    assert (settings.no_power_threshold, settings.no_power_current) == (5.0, 0.05)
    assert DEFAULT_OPTIONS[CONF_NO_POWER_THRESHOLD] == 5.0
    assert DEFAULT_OPTIONS[CONF_NO_POWER_CURRENT] == 0.05
    edited = Settings.from_options({**base, CONF_NO_POWER_THRESHOLD: 2, CONF_NO_POWER_CURRENT: 0.1})
    assert (edited.no_power_threshold, edited.no_power_current) == (2.0, 0.1)


@WITH_SENSOR
async def test_options_refuse_a_no_power_level_not_below_the_running_threshold(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    """The options form shows the level with its unit and refuses one at or above the threshold."""
    Circuit(hass).start()
    flow = await hass.config_entries.options.async_init(entry.entry_id)
    values = {
        **{k: v for k, v in entry.options.items() if k in DEFAULT_OPTIONS},
        CONF_POWER_THRESHOLD: 50.0,
        CONF_NO_POWER_THRESHOLD: 50.0,
    }
    values.pop(CONF_CURRENT_THRESHOLD)
    values.pop(CONF_NO_POWER_CURRENT)
    result = await hass.config_entries.options.async_configure(flow["flow_id"], sectioned(values))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_power_not_below"}
    values[CONF_NO_POWER_THRESHOLD] = 8.0
    result = await hass.config_entries.options.async_configure(flow["flow_id"], sectioned(values))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_NO_POWER_THRESHOLD] == 8.0


@pytest.mark.parametrize(
    "options", [{CONF_POWER_SENSOR: SENSOR, CONF_STARTUP_DELAY_MINUTES: 0}], indirect=True
)
async def test_no_start_up_delay_still_gets_a_look_at_the_reading(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Without a start-up delay the reading still gets a switch confirm timeout to rise."""
    circuit = Circuit(hass, fall_lag=None).start()
    await start(hass, entry)
    circuit.failed_closings = 99
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("failed", "no_power_after_restore")
    assert_put_back(heat_pump)

    circuit.failed_closings = 0
    freezer.tick(timedelta(hours=1))
    await start(hass, entry)
    await to_the_end(hass, freezer)
    assert outcome(hass) == ("succeeded", "verification")


# --- The pure rules (proof.py) -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("above", "states", "flowing", "dead"),
    [
        (True, ["off", "off"], True, False),
        (True, ["off", "on"], False, False),
        (True, ["off", None], False, False),
        (None, ["off", "off"], False, False),
        (False, ["off", "off"], False, False),
        (False, ["on", "on"], False, True),
        (False, ["on", None], False, False),
        (None, ["on", "on"], False, False),
        (True, ["on", "on"], False, False),
    ],
)
def test_what_a_reading_says(
    above: bool | None, states: list[str | None], flowing: bool, dead: bool
) -> None:
    """Flowing: above "no power" with every switch off; dead: at it with every switch on."""
    assert power_flowing(above, states) is flowing
    assert dead_after_restore(above, states) is dead


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        (None, ("failed", "power_still_flowing")),
        (Outcome.INTERRUPTED, ("failed", "power_still_flowing")),
        (Outcome.CANCELLED, ("cancelled", "cancelled")),
    ],
)
def test_power_flowing_replaces_interrupted_but_not_a_cancel(
    ending: Outcome | None, expected: tuple[str, str]
) -> None:
    """A restart mid-proof does not hide the power flowing; a person's cancel stays."""
    run = Run(
        run_id="r",
        trigger=Trigger.BUTTON,
        reason=None,
        thermostat=THERMOSTAT,
        switches=[SWITCH_A],
        discharge_minutes=30,
        started_at=T0,
    )
    if ending is not None:
        run.end_early(ending, "cancelled" if ending is Outcome.CANCELLED else "restarted")
    fail_flowing(run)
    assert (run.ending, run.detail) == expected


def test_the_repair_stands_until_acknowledged_after_the_run() -> None:
    """Any run that ended power_still_flowing after the last acknowledgement keeps it standing."""
    finished = T0 + timedelta(hours=1)
    records: list[dict[str, object]] = [
        {"outcome": "succeeded", "detail": "verification", "finished_at": T0.isoformat()},
        {"outcome": "failed", "detail": "power_still_flowing", "finished_at": finished.isoformat()},
    ]
    assert flowing_unacknowledged(records, None)
    assert flowing_unacknowledged(records, T0)
    assert not flowing_unacknowledged(records, finished + timedelta(seconds=1))
    assert not flowing_unacknowledged(records[:1], None)

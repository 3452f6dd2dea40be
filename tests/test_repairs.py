"""Repairs: issues raised at the right moment, worded with their figures, fixed and removed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate import HVACAction
from homeassistant.config_entries import ConfigEntry, ConfigEntryDisabler, ConfigEntryState
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import CLIENT_ID, MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.heat_pump_reset.const import (
    CONF_MAX_RESETS_PER_DAY,
    CONF_RECURRENCE_COUNT,
    CONF_STAGGER_SECONDS,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)
from custom_components.heat_pump_reset.naming import friendly_list, friendly_name, name_and_id

from .harness.driving import advance, run_once, settle, start, state, stored_history
from .harness.entity_ids import PHASE, SWITCH_A, SWITCH_B
from .harness.equipment import HeatPump
from .harness.timings import DISCHARGE, SECOND, T0

# A run whose unit never starts also waits out the 15-minute verification window.
NO_START_RUN = timedelta(minutes=37 + 16)


def issue(hass: HomeAssistant, key: str, entry: ConfigEntry, suffix: str = "") -> ir.IssueEntry:
    """Return one of our issues, failing clearly when it is not raised."""
    found = ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{entry.entry_id}{suffix}")
    assert found is not None, f"{key} not raised"
    return found


def raised(hass: HomeAssistant) -> set[str]:
    """Return the translation keys of our issues now raised."""
    return {
        i.translation_key or ""
        for (domain, _), i in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    }


async def rendered(hass: HomeAssistant, found: ir.IssueEntry, part: str) -> str:
    """Return an issue's English text as the Repairs dashboard shows it, placeholders filled in."""
    strings = await async_get_translations(hass, "en", "issues", [DOMAIN])
    text = strings[f"component.{DOMAIN}.issues.{found.translation_key}.{part}"]
    return text.format(**(found.translation_placeholders or {}))


async def fresh_client(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, hass_admin_user: MockUser
) -> Any:
    """Return an API client whose token is issued now (simulated time has moved on by hours)."""
    refresh = await hass.auth.async_create_refresh_token(hass_admin_user, CLIENT_ID)
    return await hass_client(hass.auth.async_create_access_token(refresh))


async def start_fix(client: Any, found: ir.IssueEntry) -> dict[str, Any]:
    """Open the issue's fix flow through the Repairs API, as the dashboard does."""
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": found.issue_id}
    )
    assert response.status == 200, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def submit(client: Any, flow: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Submit a step of a fix flow."""
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}", json=data)
    assert response.status == 200, await response.text()
    result: dict[str, Any] = await response.json()
    return result


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Set up HA's Repairs (its API and fix flows) in the test HA."""
    assert await async_setup_component(hass, "repairs", {})


# --- Recurring resets -------------------------------------------------------------------------


@pytest.fixture
def options(options: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    """Three resets in 30 days raise the warning; the daily limit stays out of the way unless set."""
    extra: dict[str, Any] = getattr(request, "param", {})
    return {**options, CONF_RECURRENCE_COUNT: 3, CONF_MAX_RESETS_PER_DAY: 10, **extra}


@pytest.mark.usefixtures("repairs", "heat_pump")
async def test_recurring_resets_raised_acknowledged_and_raised_again(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: ConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """The third reset raises the warning; confirming forgets earlier runs, across a reload."""
    for _ in range(2):
        await run_once(hass, freezer, entry)
    assert raised(hass) == set()
    await run_once(hass, freezer, entry)
    found = issue(hass, "recurring_resets", entry)
    assert found.severity is ir.IssueSeverity.WARNING
    assert found.is_fixable
    assert found.translation_placeholders == {"name": "Heat pump", "count": "3", "days": "30"}
    assert await rendered(hass, found, "title") == "Heat pump: 3 resets in 30 days"

    client = await fresh_client(hass, hass_client, hass_admin_user)
    flow = await start_fix(client, found)
    assert flow["step_id"] == "confirm"
    assert [field["name"] for field in flow["data_schema"]] == ["checked"]
    advice = await rendered(hass, found, "fix_flow.step.confirm.description")
    assert "Heat pump was reset 3 times in the last 30 days" in advice
    for check in ("air filter", "outdoor unit", "error codes", "HVAC technician"):
        assert check in advice
    # Not ticking the box is not a confirmation.
    again = await submit(client, flow, {"checked": False})
    assert again["errors"] == {"checked": "not_checked"}
    assert (await submit(client, flow, {"checked": True}))["type"] == "create_entry"
    assert raised(hass) == set()
    stored = hass_storage[f"{DOMAIN}.history.{entry.entry_id}"]["data"]["acknowledged"]
    assert set(stored) == {"recurring_resets"}

    # The acknowledgement is read back from storage: after a reload two more resets are not enough.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    freezer.tick(timedelta(minutes=1))
    for _ in range(2):
        await run_once(hass, freezer, entry)
    assert raised(hass) == set()
    await run_once(hass, freezer, entry)
    assert issue(hass, "recurring_resets", entry).translation_placeholders == {
        "name": "Heat pump",
        "count": "3",
        "days": "30",
    }
    assert len(stored_history(hass_storage, entry)) == 6


@pytest.mark.usefixtures("heat_pump")
async def test_recurring_resets_leave_with_the_window(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: ConfigEntry
) -> None:
    """Once the oldest of the three resets is more than 30 days old, the warning goes by itself."""
    freezer.move_to(T0)
    for _ in range(3):
        await run_once(hass, freezer, entry)
    issue(hass, "recurring_resets", entry)
    await advance(hass, freezer, timedelta(days=29, hours=22), step=timedelta(hours=1))
    issue(hass, "recurring_resets", entry)
    await advance(hass, freezer, timedelta(hours=2), step=timedelta(minutes=10))
    assert raised(hass) == set()


@pytest.mark.parametrize("options", [{CONF_MAX_RESETS_PER_DAY: 2}], indirect=True)
@pytest.mark.usefixtures("repairs", "heat_pump")
async def test_day_limit_raises_the_warning_the_refusal_points_to(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: ConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """With a limit of two a day, the second reset raises it; a third start points to it.

    Its words are the day's: not "2 resets in 30 days" while the recurrence setting is 3 (issue
    15, item 5), which reads as below the setting. It is acknowledged like the recurring warning.
    """
    freezer.move_to(T0)
    await run_once(hass, freezer, entry)
    assert raised(hass) == set()
    await run_once(hass, freezer, entry)
    found = issue(hass, "recurring_resets", entry)
    assert found.translation_key == "daily_limit_reached"
    assert found.translation_placeholders == {"name": "Heat pump", "count": "2", "limit": "2"}
    assert await rendered(hass, found, "title") == "Heat pump: daily reset limit reached"
    advice = await rendered(hass, found, "fix_flow.step.confirm.description")
    assert advice.startswith(
        "Heat pump has used up its daily limit of resets (resets in the last 24 hours: 2; limit: 2)"
    )
    assert "30 days" not in advice
    for check in ("air filter", "outdoor unit", "error codes", "HVAC technician"):
        assert check in advice
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, entry)
    assert "Settings > System > Repairs" in str(err.value)

    # Acknowledged like the recurring warning: tick the box, and it goes.
    client = await fresh_client(hass, hass_client, hass_admin_user)
    flow = await start_fix(client, found)
    assert [field["name"] for field in flow["data_schema"]] == ["checked"]
    assert (await submit(client, flow, {"checked": True}))["type"] == "create_entry"
    assert raised(hass) == set()


@pytest.mark.parametrize(
    "options", [{CONF_MAX_RESETS_PER_DAY: 2, CONF_RECURRENCE_COUNT: 2}], indirect=True
)
@pytest.mark.usefixtures("heat_pump")
async def test_day_limit_and_recurrence_reached_together_say_the_recurrence(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry: ConfigEntry
) -> None:
    """Both reached by the same two resets: "2 resets in 30 days" is true, so that is the text."""
    freezer.move_to(T0)
    for _ in range(2):
        await run_once(hass, freezer, entry)
    found = issue(hass, "recurring_resets", entry)
    assert found.translation_key == "recurring_resets"
    assert found.translation_placeholders == {"name": "Heat pump", "count": "2", "days": "30"}
    assert await rendered(hass, found, "title") == "Heat pump: 2 resets in 30 days"


# --- The unit does not start ------------------------------------------------------------------


async def reset_without_start(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Run a reset after which the unit stays idle though the thermostat calls for heat."""
    heat_pump.thermostat.stuck_action = HVACAction.IDLE
    await start(hass, entry)
    await advance(hass, freezer, NO_START_RUN, step=timedelta(seconds=10))
    heat_pump.thermostat.stuck_action = None
    assert stored_history_outcome(hass, entry) == "no_start"


def stored_history_outcome(hass: HomeAssistant, entry: ConfigEntry) -> str | None:
    """Return the newest run's outcome as the controller holds it."""
    last = entry.runtime_data.last
    return None if last is None else str(last["outcome"])


@pytest.mark.usefixtures("repairs")
async def test_no_start_raised_acknowledged_and_cleared_by_a_success(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """A run that ends no_start raises an error; acknowledging it, or a later success, removes it."""
    await reset_without_start(hass, freezer, heat_pump, entry)
    found = issue(hass, "no_start_after_reset", entry)
    assert found.severity is ir.IssueSeverity.ERROR
    assert await rendered(hass, found, "title") == "Heat pump did not start after a reset"
    advice = await rendered(hass, found, "fix_flow.step.confirm.description")
    assert "Heat pump did not start heating or cooling" in advice
    assert "HVAC technician" in advice

    client = await fresh_client(hass, hass_client, hass_admin_user)
    flow = await start_fix(client, found)
    assert flow["data_schema"] == []
    assert (await submit(client, flow, {}))["type"] == "create_entry"
    assert "no_start_after_reset" not in raised(hass)

    freezer.tick(timedelta(days=1))
    await reset_without_start(hass, freezer, heat_pump, entry)
    issue(hass, "no_start_after_reset", entry)
    freezer.tick(timedelta(days=1))
    await run_once(hass, freezer, entry)
    assert "no_start_after_reset" not in raised(hass)


# --- Power does not come back -----------------------------------------------------------------


async def test_power_not_restored_is_critical_and_goes_by_itself(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Power still off two minutes after the wait is a critical issue until every switch is on."""
    await start(hass, entry)
    await settle(hass)
    heat_pump.switch_a.set_available(False)
    await advance(hass, freezer, DISCHARGE + timedelta(seconds=5), step=timedelta(seconds=5))
    assert state(hass, PHASE).state == "restoring_power"
    await advance(hass, freezer, timedelta(seconds=100), step=timedelta(seconds=5))
    assert "power_not_restored" not in raised(hass)
    await advance(hass, freezer, timedelta(seconds=30), step=timedelta(seconds=5))
    found = issue(hass, "power_not_restored", entry)
    assert found.severity is ir.IssueSeverity.CRITICAL
    assert not found.is_fixable
    # Only the dead switch: b did not wait for it (issue 11, item 17).
    # By the name people know it by (issue 15, item 5), not its entity id.
    assert found.translation_placeholders == {"name": "Heat pump", "entities": "Breaker a"}
    assert heat_pump.switch_b.is_on
    text = await rendered(hass, found, "description")
    assert "Breaker a could not be confirmed back on" in text
    assert SWITCH_A not in text

    heat_pump.switch_a.set_available(True)
    await advance(hass, freezer, timedelta(seconds=30), step=timedelta(seconds=2))
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]
    assert "power_not_restored" not in raised(hass)


async def _power_overdue_on_breaker_b(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Breaker b ignores its on command: two minutes into the restore power is overdue."""
    await start(hass, entry)
    heat_pump.switch_b.refuse = True
    await advance(hass, freezer, DISCHARGE + timedelta(minutes=3), step=timedelta(seconds=5))
    assert state(hass, PHASE).state == "restoring_power"
    assert [switch.is_on for switch in heat_pump.switches] == [True, False]
    issue(hass, "power_not_restored", entry)


async def test_power_not_restored_goes_when_disabling_puts_power_back(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Issue 11 item 8: disabling the entry turns breaker b on; the critical issue goes with it."""
    await _power_overdue_on_breaker_b(hass, freezer, heat_pump, entry)
    heat_pump.switch_b.refuse = False
    await hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER)
    await settle(hass)
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]
    assert "power_not_restored" not in raised(hass)


async def test_power_not_restored_goes_when_a_person_puts_power_back_later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Issue 11 item 8: disabled with breaker b still off, the issue stays until b is on, by anyone."""
    await _power_overdue_on_breaker_b(hass, freezer, heat_pump, entry)
    disabling = hass.async_create_background_task(
        hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER),
        "disable mid-restore",
    )
    await advance(hass, freezer, timedelta(minutes=1), step=timedelta(seconds=5))
    assert disabling.done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert "power_not_restored" in raised(hass)
    # Someone turns breaker b on at the panel; the heat pump's entry is not loaded.
    heat_pump.switch_b.set_on(True)
    await settle(hass)
    assert "power_not_restored" not in raised(hass)


async def test_switch_raising_at_restore_is_retried_with_pauses(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A breaker whose turn-on raises is retried after growing pauses, not in a busy loop."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=1), step=timedelta(seconds=5))
    heat_pump.switch_a.fail = True
    heat_pump.switch_a.commands.clear()
    await advance(hass, freezer, DISCHARGE + timedelta(minutes=5), step=timedelta(seconds=5))
    # Pauses of 10, 20, 40, 80 and 160 s: a handful of attempts in five minutes.
    assert 3 <= len(heat_pump.switch_a.commands) <= 7
    heat_pump.switch_a.fail = False
    await advance(hass, freezer, timedelta(minutes=6), step=timedelta(seconds=5))
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]


# --- Outside review (issue 11): one dead switch, and the grace counted per switch ----------------


@pytest.mark.parametrize("how", ["unavailable", "disabled", "removed"])
async def test_dead_first_switch_does_not_keep_the_others_off(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    how: str,
) -> None:
    """Breaker a dies during the wait: b comes back on time; a is retried beside it and named.

    Before, the restore retried a forever before commanding b: the air handler (backup heat, often
    the thermostat's 24 V) stayed off and the thermostat never came back.
    """
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=30))
    if how == "unavailable":
        heat_pump.switch_a.set_available(False)
    elif how == "removed":
        er.async_get(hass).async_remove(SWITCH_A)
        await settle(hass)
        found = issue(hass, "missing_entity", entry, f"_{SWITCH_A}")
        # Removed: no name is known any more, so the id it had.
        assert found.translation_placeholders == {"name": "Heat pump", "entity": SWITCH_A}
    else:
        er.async_get(hass).async_update_entity(SWITCH_A, disabled_by=er.RegistryEntryDisabler.USER)
        await settle(hass)
        assert hass.states.get(SWITCH_A) is None
        # The household hears of it at once: the repair names the disabled switch.
        found = issue(hass, "disabled_entity", entry, f"_{SWITCH_A}")
        # Its registry name, and the id to find it in the entity list (which hides disabled ones).
        named = f"Breaker a ({SWITCH_A})"
        assert found.translation_placeholders == {"name": "Heat pump", "entity": named}
        assert await rendered(hass, found, "title") == f"Heat pump: {named} was disabled"
    await advance(hass, freezer, DISCHARGE, step=timedelta(seconds=30))
    assert state(hass, PHASE).state == "restoring_power"
    assert hass.states.get(SWITCH_B) is not None
    assert state(hass, SWITCH_B).state == "on", "b kept off behind the dead a"
    await advance(hass, freezer, timedelta(minutes=3), step=timedelta(seconds=5))
    found = issue(hass, "power_not_restored", entry)
    # The registry's name when it has no state (disabled); its id once removed.
    off = SWITCH_A if how == "removed" else "Breaker a"
    assert found.translation_placeholders == {"name": "Heat pump", "entities": off}
    assert state(hass, PHASE).state == "restoring_power"


@pytest.mark.parametrize("options", [{CONF_STAGGER_SECONDS: 180}], indirect=True)
async def test_power_overdue_counts_from_each_switchs_own_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A 180 s stagger is a normal restore, not a critical repair; a switch is overdue two minutes
    after its own planned time, not two minutes into the restore."""
    seen: list[list[str]] = []

    @callback
    def _issue_changed(event: Event) -> None:
        found = ir.async_get(hass).async_get_issue(DOMAIN, event.data["issue_id"])
        if found is not None and found.translation_key == "power_not_restored":
            seen.append((found.translation_placeholders or {})["entities"].split(", "))

    hass.bus.async_listen(ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED, _issue_changed)
    await start(hass, entry)
    await advance(hass, freezer, DISCHARGE + timedelta(minutes=5), step=timedelta(seconds=5))
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]
    assert seen == [], "false critical repair during a normal staggered restore"

    # Now b is dead: it is overdue two minutes after its own turn (180 s in), not before.
    freezer.tick(timedelta(days=1))
    await advance(hass, freezer, SECOND)
    await start(hass, entry)
    heat_pump.switch_b.set_available(False)
    await advance(hass, freezer, DISCHARGE + timedelta(minutes=4, seconds=50), step=SECOND * 5)
    assert seen == []
    await advance(hass, freezer, timedelta(seconds=20), step=SECOND * 5)
    assert seen == [["Breaker b"]]


# --- A wrapped entity is removed or renamed ---------------------------------------------------


@pytest.mark.usefixtures("repairs")
async def test_removed_switch_is_replaced_through_the_fix_flow(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """Removing a breaker raises an issue; picking a replacement updates the options and reloads."""
    er.async_get(hass).async_remove(SWITCH_B)
    await hass.async_block_till_done()
    found = issue(hass, "missing_entity", entry, f"_{SWITCH_B}")
    assert found.severity is ir.IssueSeverity.ERROR
    assert await rendered(hass, found, "title") == f"Heat pump: {SWITCH_B} was removed"
    hass.states.async_set("switch.new_breaker", "on")

    client = await fresh_client(hass, hass_client, hass_admin_user)
    flow = await start_fix(client, found)
    assert [field["name"] for field in flow["data_schema"]] == ["entity_id"]
    for pick, error in ((SWITCH_A, "already_wrapped"), ("switch.nowhere", "entity_not_found")):
        flow = await submit(client, flow, {"entity_id": pick})
        assert flow["errors"] == {"entity_id": error}
    assert (await submit(client, flow, {"entity_id": "switch.new_breaker"}))["type"] == (
        "create_entry"
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_SWITCHES] == [SWITCH_A, "switch.new_breaker"]
    assert entry.state is ConfigEntryState.LOADED
    assert raised(hass) == set()


@pytest.mark.usefixtures("repairs")
async def test_fix_flow_refuses_an_entity_of_another_heat_pump(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_admin_user: MockUser,
) -> None:
    """The replacement of a removed breaker cannot be another heat pump's breaker or thermostat."""
    hass.states.async_set("climate.bedroom", "heat", {"hvac_modes": ["off", "heat"]})
    hass.states.async_set("switch.breaker_c", "on")
    hass.states.async_set("switch.new_breaker", "on")
    MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        data={},
        options={
            **entry.options,
            CONF_THERMOSTAT: "climate.bedroom",
            CONF_SWITCHES: ["switch.breaker_c"],
        },
        unique_id="climate.bedroom",
    ).add_to_hass(hass)
    er.async_get(hass).async_remove(SWITCH_B)
    await hass.async_block_till_done()
    found = issue(hass, "missing_entity", entry, f"_{SWITCH_B}")

    client = await fresh_client(hass, hass_client, hass_admin_user)
    flow = await start_fix(client, found)
    flow = await submit(client, flow, {"entity_id": "switch.breaker_c"})
    assert flow["errors"] == {"entity_id": "in_use"}
    assert flow["description_placeholders"]["owner"] == "Bedroom"
    assert entry.options[CONF_SWITCHES] == [SWITCH_A, SWITCH_B]
    assert (await submit(client, flow, {"entity_id": "switch.new_breaker"}))["type"] == (
        "create_entry"
    )
    await hass.async_block_till_done()
    assert entry.options[CONF_SWITCHES] == [SWITCH_A, "switch.new_breaker"]


@pytest.mark.parametrize(
    "options", [{CONF_SWITCHES: [SWITCH_A, "switch.not_there_yet"]}], indirect=True
)
@pytest.mark.usefixtures("heat_pump")
async def test_missing_at_start_goes_once_the_entity_appears(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    """A wrapped entity that exists nowhere after start is reported; its first state clears it."""
    issue(hass, "missing_entity", entry, "_switch.not_there_yet")
    hass.states.async_set("switch.not_there_yet", "on")
    await hass.async_block_till_done()
    assert raised(hass) == set()


async def test_renamed_switch_is_followed_mid_run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A breaker renamed during the wait is followed: no issue, and its new id gets power back."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=1), step=timedelta(seconds=5))
    assert state(hass, PHASE).state == "discharging"
    er.async_get(hass).async_update_entity(SWITCH_B, new_entity_id="switch.main_breaker")
    await settle(hass)
    assert entry.options[CONF_SWITCHES] == [SWITCH_A, "switch.main_breaker"]
    assert raised(hass) == set()
    assert state(hass, PHASE).state == "discharging"
    await advance(hass, freezer, DISCHARGE + timedelta(minutes=10), step=timedelta(seconds=10))
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]
    assert entry.runtime_data.last is not None
    assert entry.runtime_data.last["outcome"] == "succeeded"


async def test_issues_go_with_the_entry(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Removing the heat pump removes every issue it raised."""
    freezer.move_to(T0)
    await reset_without_start(hass, freezer, heat_pump, entry)
    er.async_get(hass).async_remove(SWITCH_B)
    await hass.async_block_till_done()
    assert raised(hass) == {"no_start_after_reset", "missing_entity"}
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert raised(hass) == set()


async def test_names_people_know_entities_by(hass: HomeAssistant, heat_pump: HeatPump) -> None:
    """naming.py: the state's friendly name, else the registry's (device part too), else the id."""
    registry = er.async_get(hass)
    assert friendly_name(hass, SWITCH_A) == "Breaker a"
    assert friendly_list(hass, [SWITCH_B, SWITCH_A]) == "Breaker b, Breaker a"
    assert name_and_id(hass, SWITCH_A) == f"Breaker a ({SWITCH_A})"
    assert friendly_name(hass, "switch.nowhere") == "switch.nowhere"
    assert name_and_id(hass, "switch.nowhere") == "switch.nowhere"

    # Disabled: no state; the registry's name, with the device's in front when the entity says so.
    owner = MockConfigEntry(domain="test")
    owner.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=owner.entry_id,
        identifiers={("test", "outdoor")},
        name="Outdoor unit",
    )
    registry.async_get_or_create(
        "switch",
        "test",
        "relay",
        suggested_object_id="outdoor_relay",
        original_name="Relay",
        has_entity_name=True,
        device_id=device.id,
        disabled_by=er.RegistryEntryDisabler.USER,
    )
    assert hass.states.get("switch.outdoor_relay") is None
    assert friendly_name(hass, "switch.outdoor_relay") == "Outdoor unit Relay"
    registry.async_update_entity("switch.outdoor_relay", name="Garden relay")
    assert friendly_name(hass, "switch.outdoor_relay") == "Garden relay"

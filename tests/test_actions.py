"""Starting and cancelling a reset: refusals, the discharge override, concurrency, cancel in every phase."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import (
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    ServiceResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
    floor_registry as fr,
    issue_registry as ir,
    label_registry as lr,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockGroup, MockUser
import voluptuous as vol

from custom_components.heat_pump_reset.const import (
    CONF_DISCHARGE_MINUTES,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS

from .harness.driving import (
    advance,
    cancel,
    get_history,
    settle,
    start,
    state,
    store_key,
    stored_history,
)
from .harness.entity_ids import (
    BUTTON,
    CANCEL_BUTTON,
    ENDS_AT,
    OUTCOME,
    PHASE,
    SWITCH_A,
    SWITCH_B,
    THERMOSTAT,
)
from .harness.equipment import SAVED, HeatPump, thermostat_settings, touched
from .harness.holding import (
    Release,
    Scene,
    hold_cutting_power,
    hold_discharging,
    hold_restoring_power,
    hold_restoring_thermostat,
    hold_starting_up,
    hold_stopping_thermostat,
    hold_verifying,
)
from .harness.timings import DISCHARGE, STAGGER, STARTUP, TO_THE_END


@pytest.fixture
def power_log(hass: HomeAssistant) -> Generator[list[tuple[str, str, datetime]]]:
    """Record every state change of the breakers, with the simulated time it happened."""
    seen: list[tuple[str, str, datetime]] = []

    @callback  # in the loop, in event order (a plain function would run in a worker thread)
    def _listener(event: Event[EventStateChangedData]) -> None:
        new, old = event.data["new_state"], event.data["old_state"]
        if (
            new is not None
            and new.entity_id in (SWITCH_A, SWITCH_B)
            and (old is None or old.state != new.state)
        ):
            seen.append((new.entity_id, new.state, new.last_changed))

    unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, _listener)
    yield seen
    unsub()


def active_run(hass_storage: dict[str, Any], entry: ConfigEntry) -> dict[str, Any] | None:
    """Return the stored active run, if any."""
    stored = hass_storage.get(store_key(entry))
    return None if stored is None else stored["data"]["active"]


async def press_button(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Press the reset button."""
    await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)


async def call_start(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Call the start action without a response."""
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )


TRIGGERS = pytest.mark.parametrize("trigger", [call_start, press_button], ids=["action", "button"])


# --- Refusals -------------------------------------------------------------------------------


def _thermostat_unavailable(hass: HomeAssistant, pump: HeatPump) -> None:
    pump.thermostat.set_available(False)


def _thermostat_unknown(hass: HomeAssistant, pump: HeatPump) -> None:
    hass.states.async_set(THERMOSTAT, "unknown")


def _switch_a_unavailable(hass: HomeAssistant, pump: HeatPump) -> None:
    pump.switch_a.set_available(False)


def _switch_b_unavailable(hass: HomeAssistant, pump: HeatPump) -> None:
    pump.switch_b.set_available(False)


def _switch_b_unknown(hass: HomeAssistant, pump: HeatPump) -> None:
    hass.states.async_set(SWITCH_B, "unknown")


def _switch_b_missing(hass: HomeAssistant, pump: HeatPump) -> None:
    hass.states.async_remove(SWITCH_B)


UNAVAILABLE = pytest.mark.parametrize(
    ("fault", "entity_id"),
    [
        (_thermostat_unavailable, THERMOSTAT),
        (_thermostat_unknown, THERMOSTAT),
        (_switch_a_unavailable, SWITCH_A),
        (_switch_b_unavailable, SWITCH_B),
        (_switch_b_unknown, SWITCH_B),
        (_switch_b_missing, SWITCH_B),
    ],
    ids=[
        "thermostat_unavailable",
        "thermostat_unknown",
        "switch_a_unavailable",
        "switch_b_unavailable",
        "switch_b_unknown",
        "switch_b_missing",
    ],
)


@TRIGGERS
@UNAVAILABLE
async def test_start_refused_when_an_entity_is_unavailable(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    trigger: Callable[[HomeAssistant, ConfigEntry], Awaitable[None]],
    fault: Callable[[HomeAssistant, HeatPump], None],
    entity_id: str,
) -> None:
    """An unavailable, unknown or missing thermostat or switch refuses the start and touches nothing."""
    fault(hass, heat_pump)
    with pytest.raises(ServiceValidationError) as err:
        await trigger(hass, entry)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "entity_unavailable"
    assert err.value.translation_placeholders == {"entity_id": entity_id}
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == "unknown"
    assert active_run(hass_storage, entry) is None


@TRIGGERS
async def test_start_refused_while_a_run_is_active(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    trigger: Callable[[HomeAssistant, ConfigEntry], Awaitable[None]],
) -> None:
    """A second start during a run is refused with already_running and changes nothing."""
    run_id = await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"
    before = touched(heat_pump)
    with pytest.raises(ServiceValidationError) as err:
        await trigger(hass, entry)
    assert err.value.translation_key == "already_running"
    # The phase in words, as the phase sensor shows it, not its raw value.
    assert err.value.translation_placeholders == {"name": "Heat pump", "phase": "Discharging"}
    await settle(hass)
    assert touched(heat_pump) == before
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, PHASE).attributes["run_id"] == run_id
    stored = active_run(hass_storage, entry)
    assert stored is not None
    assert stored["run_id"] == run_id


@pytest.mark.parametrize("service", ["start_reset", "cancel_reset"])
@pytest.mark.parametrize("entry_id", ["no_such_entry", "source"], ids=["unknown", "other_domain"])
async def test_action_refused_for_an_unknown_entry(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, service: str, entry_id: str
) -> None:
    """An entry id that is not one of ours is refused with entry_not_found."""
    if entry_id == "source":
        entry_id = next(e.entry_id for e in hass.config_entries.async_entries("test"))
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, service, {"config_entry_id": entry_id}, blocking=True
        )
    assert err.value.translation_key == "entry_not_found"
    assert err.value.translation_placeholders == {"entry_id": entry_id}
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])


@pytest.mark.parametrize("service", ["start_reset", "cancel_reset"])
async def test_action_refused_for_an_unloaded_entry(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, service: str
) -> None:
    """An entry that is not loaded is refused with entry_not_loaded."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, service, {"config_entry_id": entry.entry_id}, blocking=True
        )
    assert err.value.translation_key == "entry_not_loaded"
    assert err.value.translation_placeholders == {"name": "Heat pump"}
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])


@pytest.mark.parametrize("minutes", [29, 241, 0, -30])
async def test_discharge_override_out_of_range_refused(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    minutes: int,
) -> None:
    """A discharge override below the configured wait or above 240 minutes is refused."""
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, entry, discharge_minutes=minutes)
    assert err.value.translation_key == "discharge_out_of_range"
    assert err.value.translation_placeholders == {
        "value": str(minutes),
        "minimum": "30",
        "maximum": "240",
    }
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])
    assert state(hass, PHASE).state == "idle"
    assert active_run(hass_storage, entry) is None


@pytest.mark.parametrize("options", [{CONF_DISCHARGE_MINUTES: 40}], indirect=True)
async def test_discharge_override_minimum_follows_the_configured_wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """With a 40-minute configured wait, 35 is refused and a run without override waits 40."""
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, entry, discharge_minutes=35)
    assert err.value.translation_placeholders is not None
    assert err.value.translation_placeholders["minimum"] == "40"
    assert touched(heat_pump) == ([], [], [])
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=39, seconds=59), step=timedelta(seconds=30))
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    await advance(hass, freezer, timedelta(seconds=1))
    assert heat_pump.switch_a.is_on


@pytest.mark.parametrize("minutes", [45, 240])
async def test_discharge_override_is_used(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    minutes: int,
) -> None:
    """An allowed override replaces the configured wait: power comes back after it, not after 30."""
    await start(hass, entry, discharge_minutes=minutes)
    assert state(hass, PHASE).state == "discharging"
    cut_at = state(hass, PHASE).last_changed
    assert state(hass, ENDS_AT).state == (cut_at + timedelta(minutes=minutes)).isoformat(
        timespec="seconds"
    )
    stored = active_run(hass_storage, entry)
    assert stored is not None
    assert stored["discharge_minutes"] == minutes
    await advance(hass, freezer, timedelta(minutes=minutes - 1), step=timedelta(seconds=30))
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    await advance(hass, freezer, timedelta(seconds=59))
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    await advance(hass, freezer, timedelta(seconds=1))
    assert heat_pump.switch_a.is_on
    assert state(hass, PHASE).state == "restoring_power"


# --- Starting -------------------------------------------------------------------------------


async def test_start_returns_the_run_id(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    hass_admin_user: MockUser,
) -> None:
    """The start action answers the run id the phase sensor and the store show, with the reason."""
    response = await hass.services.async_call(
        DOMAIN,
        "start_reset",
        {"config_entry_id": entry.entry_id, "reason": "defrost fault E5"},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(hass)
    assert response is not None
    run_id = response["run_id"]
    assert isinstance(run_id, str)
    assert len(run_id) == 32
    attributes = state(hass, PHASE).attributes
    assert attributes["run_id"] == run_id
    # A call that carries a user is a person's.
    assert attributes["trigger"] == "action"
    assert attributes["reason"] == "defrost fault E5"
    stored = active_run(hass_storage, entry)
    assert stored is not None
    assert stored["run_id"] == run_id
    assert stored["reason"] == "defrost fault E5"


async def test_button_starts_a_run(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Pressing the button starts a run with the configured wait, triggered by the button."""
    await press_button(hass, entry)
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, PHASE).attributes["trigger"] == "button"
    assert [s.is_on for s in heat_pump.switches] == [False, False]


async def test_concurrent_starts_make_one_run(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Twenty starts at once (actions and button presses) start exactly one run; the rest are refused."""

    async def _action() -> ServiceResponse:
        return await hass.services.async_call(
            DOMAIN,
            "start_reset",
            {"config_entry_id": entry.entry_id},
            blocking=True,
            return_response=True,
        )

    async def _press() -> None:
        await press_button(hass, entry)

    calls = [_action() if i % 2 else _press() for i in range(20)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    await settle(hass)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 19
    assert all(isinstance(e, ServiceValidationError) for e in errors)
    assert {e.translation_key for e in errors if isinstance(e, ServiceValidationError)} == {
        "already_running"
    }
    assert heat_pump.thermostat.calls == [("hvac_mode", "off")]
    assert heat_pump.switch_a.commands == ["off"]
    assert heat_pump.switch_b.commands == ["off"]
    assert state(hass, PHASE).state == "discharging"
    (winner,) = [r for r in results if not isinstance(r, BaseException)]
    if winner is not None:  # an action won (a button press answers nothing)
        assert winner["run_id"] == state(hass, PHASE).attributes["run_id"]


# --- Cancelling -----------------------------------------------------------------------------


async def test_cancel_with_nothing_running_is_refused(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Cancelling when no run is active raises nothing_running and touches nothing."""
    with pytest.raises(ServiceValidationError) as err:
        await cancel(hass, entry)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "nothing_running"
    assert err.value.translation_placeholders == {"name": "Heat pump"}
    assert touched(heat_pump) == ([], [], [])
    assert state(hass, OUTCOME).state == "unknown"


async def test_cancel_during_discharge_restores_power_now_then_stages(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    phases: list[tuple[str, Any]],
) -> None:
    """Cancel in the discharge wait: first breaker on at once, second after the stagger, thermostat after start-up."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(seconds=30))
    await cancel(hass, entry)
    assert heat_pump.switch_a.is_on
    assert not heat_pump.switch_b.is_on
    await advance(hass, freezer, STAGGER)
    assert heat_pump.switch_b.is_on
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, STARTUP - timedelta(seconds=1))
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, timedelta(seconds=1))
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "cancelled"
    assert state(hass, OUTCOME).attributes["detail"] == "cancelled"
    assert [p for p, _ in phases][-5:] == [
        "discharging",
        "restoring_power",
        "starting_up",
        "restoring_thermostat",
        "idle",
    ]


RUN_PHASES = [
    "stopping_thermostat",
    "cutting_power",
    "discharging",
    "restoring_power",
    "starting_up",
    "restoring_thermostat",
    "verifying",
]

# Each phase a cancel can meet: how to hold a run there (the hold returns the fault to clear after
# the cancel), and the phases after it.
CANCEL_CASES: dict[str, tuple[Callable[[Scene], Awaitable[Release]], list[str]]] = {
    "stopping_thermostat": (hold_stopping_thermostat, ["restoring_thermostat"]),
    "cutting_power": (
        hold_cutting_power,
        ["restoring_power", "starting_up", "restoring_thermostat"],
    ),
    "discharging": (
        hold_discharging,
        ["restoring_power", "starting_up", "restoring_thermostat"],
    ),
    "restoring_power": (hold_restoring_power, ["starting_up", "restoring_thermostat"]),
    "starting_up": (hold_starting_up, ["restoring_thermostat"]),
    # The thermostat is still off: the cancel keeps waiting for it and puts it back when it returns.
    "restoring_thermostat": (hold_restoring_thermostat, []),
    "verifying": (hold_verifying, []),
}


@pytest.mark.parametrize("phase", list(CANCEL_CASES))
async def test_cancel_in_every_phase(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    phases: list[tuple[str, Any]],
    power_log: list[tuple[str, str, datetime]],
    scene: Scene,
    phase: str,
) -> None:
    """A cancel ends the run cancelled with power on, never restoring power before the cancel or the deadline."""
    hold, after = CANCEL_CASES[phase]
    release = await hold(scene)
    assert state(hass, PHASE).state == phase
    cancel_at = state(hass, PHASE).last_updated
    await cancel(hass, entry)
    if phase == "restoring_thermostat":
        # The heating is still off: the run keeps waiting for the thermostat instead of ending.
        await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=30))
        assert state(hass, PHASE).state == phase
    release()
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(seconds=5))

    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == "cancelled"
    assert state(hass, OUTCOME).attributes["detail"] == "cancelled"
    stored = hass_storage[store_key(entry)]["data"]
    assert stored["active"] is None
    assert stored_history(hass_storage, entry)[0]["outcome"] == "cancelled"
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    seen = [p for p, _ in phases]
    assert seen == ["idle", *RUN_PHASES[: RUN_PHASES.index(phase) + 1], *after, "idle"]

    # Power comes back only after the cancel, or after the discharge deadline of a completed wait.
    offs = [at for _e, value, at in power_log if value == "off"]
    ons = [at for _e, value, at in power_log if value == "on"]
    if phase == "stopping_thermostat":
        assert power_log == []
        assert heat_pump.switch_a.commands == []
        assert heat_pump.switch_b.commands == []
    else:
        assert offs
        assert ons
        assert min(ons) >= min(cancel_at, min(offs) + DISCHARGE)
    if phase == "cutting_power":
        # No further off command after the cancel; the refusing breaker gets an on all the
        # same, in case its off lands late.
        assert heat_pump.switch_a.commands == ["off", "on"]
        assert heat_pump.switch_b.commands == ["off", "on"]


@pytest.mark.parametrize("by_hand", [SWITCH_A, SWITCH_B])
async def test_manual_power_on_during_the_wait(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    phases: list[tuple[str, Any]],
    hass_admin_user: MockUser,
    by_hand: str,
) -> None:
    """A person turning a breaker on mid-wait: the other comes on, start-up delay, thermostat back, cancelled."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=12), step=timedelta(seconds=30))
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": by_hand},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(hass)
    assert state(hass, PHASE).state in ("restoring_power", "starting_up")
    await advance(hass, freezer, STAGGER)
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, STARTUP - STAGGER - timedelta(seconds=1))
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, STAGGER + timedelta(seconds=1))
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == "cancelled"
    assert state(hass, OUTCOME).attributes["detail"] == "power_restored_by_hand"
    assert [p for p, _ in phases][-5:] == [
        "discharging",
        "restoring_power",
        "starting_up",
        "restoring_thermostat",
        "idle",
    ]


async def test_breaker_on_by_itself_during_the_wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A breaker that comes on without a person (its button, a glitch): restored the same, told apart."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=12), step=timedelta(seconds=30))
    heat_pump.switch_b.set_on(True)
    await advance(hass, freezer, STARTUP + timedelta(minutes=1), step=timedelta(seconds=5))
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "cancelled"
    assert state(hass, OUTCOME).attributes["detail"] == "power_restored_outside"


# --- Two heat pumps on one switch or thermostat (issue 11, item 2) --------------------------

BEDROOM_THERMOSTAT = "climate.bedroom"
SWITCH_C = "switch.breaker_c"


async def add_bedroom(
    hass: HomeAssistant, entry: ConfigEntry, thermostat: str, switches: list[str]
) -> ConfigEntry:
    """Load a second heat pump ("Bedroom"), as an entry edited by hand or an older release made."""
    hass.states.async_set(BEDROOM_THERMOSTAT, "heat", {"hvac_modes": ["off", "heat"]})
    hass.states.async_set(SWITCH_C, "on")
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        data={},
        options={**entry.options, CONF_THERMOSTAT: thermostat, CONF_SWITCHES: switches},
        unique_id=BEDROOM_THERMOSTAT,
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_setup(other.entry_id)
    await hass.async_block_till_done()
    assert other.state is ConfigEntryState.LOADED
    return other


def shared_issue(hass: HomeAssistant, entity_id: str) -> ir.IssueEntry | None:
    """Return the issue that heat pumps share `entity_id`, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, f"shared_entity_{entity_id}")


async def start_on(hass: HomeAssistant, target: ConfigEntry) -> None:
    """Call the start action of `target` (no response asked)."""
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": target.entry_id}, blocking=True
    )


SHARING = pytest.mark.parametrize(
    ("thermostat", "switches", "shared"),
    [
        (BEDROOM_THERMOSTAT, [SWITCH_A], SWITCH_A),
        (BEDROOM_THERMOSTAT, [SWITCH_C, SWITCH_B], SWITCH_B),
        (THERMOSTAT, [SWITCH_C], THERMOSTAT),
    ],
    ids=["switch", "second_switch", "thermostat"],
)


@SHARING
async def test_heat_pumps_sharing_an_entity_refuse_to_start(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    thermostat: str,
    switches: list[str],
    shared: str,
) -> None:
    """Neither heat pump starts (action or button), nothing is switched, and Repairs names both."""
    other = await add_bedroom(hass, entry, thermostat, switches)
    found = shared_issue(hass, shared)
    assert found is not None
    assert found.severity is ir.IssueSeverity.ERROR
    assert not found.is_fixable
    assert found.translation_placeholders == {
        "entity": hass.states.get(shared).name,
        "names": "Bedroom, Heat pump",
    }
    assert [i for (d, i) in ir.async_get(hass).issues if d == DOMAIN] == [found.issue_id]

    for target, trigger, others in (
        (entry, start_on, "Bedroom"),
        (other, start_on, "Heat pump"),
        (entry, press_button, "Bedroom"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await trigger(hass, target)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "shared_entity"
        assert err.value.translation_placeholders == {
            "name": target.title,
            "entity_id": shared,
            "others": others,
        }
        assert shared in str(err.value)
        assert others in str(err.value)
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert state(hass, PHASE).state == "idle"
    assert active_run(hass_storage, entry) is None
    assert active_run(hass_storage, other) is None

    # Once the other heat pump is removed, the issue goes and a reset starts again.
    assert await hass.config_entries.async_remove(other.entry_id)
    await hass.async_block_till_done()
    assert shared_issue(hass, shared) is None
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"


async def test_shared_issue_goes_when_the_other_heat_pump_gets_its_own_switch(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """The sharing ends with an options change and reload: the issue goes, both start again."""
    other = await add_bedroom(hass, entry, BEDROOM_THERMOSTAT, [SWITCH_A])
    assert shared_issue(hass, SWITCH_A) is not None
    hass.config_entries.async_update_entry(
        other, options={**other.options, CONF_SWITCHES: [SWITCH_C]}
    )
    assert await hass.config_entries.async_reload(other.entry_id)
    await hass.async_block_till_done()
    assert shared_issue(hass, SWITCH_A) is None
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"


async def test_shared_issue_goes_when_the_other_heat_pump_unloads(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Only loaded heat pumps can reset: unloading the other one ends the sharing."""
    other = await add_bedroom(hass, entry, BEDROOM_THERMOSTAT, [SWITCH_A])
    assert shared_issue(hass, SWITCH_A) is not None
    assert await hass.config_entries.async_unload(other.entry_id)
    await hass.async_block_till_done()
    assert shared_issue(hass, SWITCH_A) is None
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"


# --- Permissions (issue 11, item 20) ---------------------------------------------------------


async def test_read_only_user_can_neither_start_nor_cancel(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    """A user who may not switch the breaker may not cut it through a reset, nor end one."""
    read_only = Context(user_id=hass_read_only_user.id)
    # Home Assistant refuses this user the breaker itself ...
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": SWITCH_A}, blocking=True, context=read_only
        )
    # ... and so does the reset, forced or not.
    for data in ({}, {"force": True}):
        with pytest.raises(Unauthorized) as err:
            await hass.services.async_call(
                DOMAIN,
                "start_reset",
                {"config_entry_id": entry.entry_id, **data},
                blocking=True,
                context=read_only,
            )
        assert err.value.user_id == hass_read_only_user.id
        assert err.value.entity_id == THERMOSTAT
        assert err.value.permission == "control"
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])
    assert state(hass, PHASE).state == "idle"

    await start(hass, entry, Context(user_id=hass_admin_user.id))
    assert state(hass, PHASE).state == "discharging"
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "cancel_reset",
            {"config_entry_id": entry.entry_id},
            blocking=True,
            context=read_only,
        )
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"
    assert [s.is_on for s in heat_pump.switches] == [False, False]
    # Reading the history needs no control.
    response = await hass.services.async_call(
        DOMAIN,
        "get_history",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
        context=read_only,
    )
    assert response is not None
    assert response["runs"] == []


def _user_who_may(hass: HomeAssistant, entities: dict[str, Any]) -> Context:
    """Return the context of a new user whose group's policy covers only `entities`."""
    group = MockGroup(name="Policy")
    group.policy = {"entities": {"entity_ids": entities}}
    return Context(user_id=MockUser(groups=[group.add_to_hass(hass)]).add_to_hass(hass).id)


async def test_user_who_may_not_control_one_switch_cannot_start(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Control of the thermostat and one breaker is not enough: every wrapped entity is checked."""
    partial = _user_who_may(hass, {THERMOSTAT: True, SWITCH_A: True, SWITCH_B: {"read": True}})
    with pytest.raises(Unauthorized) as err:
        await hass.services.async_call(
            DOMAIN,
            "start_reset",
            {"config_entry_id": entry.entry_id},
            blocking=True,
            context=partial,
        )
    assert err.value.entity_id == SWITCH_B
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])


async def test_user_who_may_not_read_the_heat_pump_cannot_read_its_history(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, hass_admin_user: MockUser
) -> None:
    """The history tells when the power was cut and why: it needs read access, as states do."""
    await start(hass, entry, Context(user_id=hass_admin_user.id))
    with pytest.raises(Unauthorized) as err:
        await get_history(hass, entry, _user_who_may(hass, {"light.porch": True}))
    assert err.value.entity_id == THERMOSTAT
    assert err.value.permission == "read"
    # Reading every wrapped entity is needed (the history names them all), as control is to start.
    with pytest.raises(Unauthorized) as err:
        await get_history(hass, entry, _user_who_may(hass, {THERMOSTAT: True, SWITCH_A: True}))
    assert err.value.entity_id == SWITCH_B
    reader = _user_who_may(hass, {e: {"read": True} for e in (THERMOSTAT, SWITCH_A, SWITCH_B)})
    assert await get_history(hass, entry, reader) == []  # the run under way is not history yet


@pytest.mark.parametrize("service", ["start_reset", "cancel_reset"])
async def test_unknown_user_is_refused(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, service: str
) -> None:
    """A call naming a user Home Assistant does not know is refused, as core refuses it."""
    with pytest.raises(UnknownUser):
        await hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": entry.entry_id},
            blocking=True,
            context=Context(user_id="no_such_user"),
        )


# --- Targets: the heat pump picked by its entities, device, area or label ----------------------

GARAGE_THERMOSTAT = "climate.garage"
GARAGE_BUTTON = "button.garage_heat_pump_reset_heat_pump"


@pytest.fixture
async def garage(hass: HomeAssistant, entry: ConfigEntry) -> ConfigEntry:
    """A second heat pump, on a thermostat without a device (its entities get a device of ours)."""
    hass.states.async_set(GARAGE_THERMOSTAT, "heat", {"hvac_modes": ["off", "heat"]})
    hass.states.async_set("switch.garage_breaker", "on")
    second = MockConfigEntry(
        domain=DOMAIN,
        title="Garage heat pump",
        options={
            **DEFAULT_OPTIONS,
            CONF_THERMOSTAT: GARAGE_THERMOSTAT,
            CONF_SWITCHES: ["switch.garage_breaker"],
        },
        unique_id=GARAGE_THERMOSTAT,
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()
    assert state(hass, GARAGE_BUTTON)
    return second


def _thermostat_device(hass: HomeAssistant) -> str:
    device_id = er.async_get(hass).async_get(THERMOSTAT).device_id  # type: ignore[union-attr]
    assert device_id is not None
    return device_id


def _by_button(hass: HomeAssistant) -> dict[str, Any]:
    return {"entity_id": BUTTON}


def _by_sensor_list(hass: HomeAssistant) -> dict[str, Any]:
    return {"entity_id": [PHASE, OUTCOME]}


def _by_device(hass: HomeAssistant) -> dict[str, Any]:
    return {"device_id": _thermostat_device(hass)}


def _by_area(hass: HomeAssistant) -> dict[str, Any]:
    area = ar.async_get(hass).async_create("Living room")
    dr.async_get(hass).async_update_device(_thermostat_device(hass), area_id=area.id)
    return {"area_id": area.id}


def _by_floor(hass: HomeAssistant) -> dict[str, Any]:
    floor = fr.async_get(hass).async_create("Ground floor")
    area = ar.async_get(hass).async_create("Living room", floor_id=floor.floor_id)
    er.async_get(hass).async_update_entity(BUTTON, area_id=area.id)
    return {"floor_id": floor.floor_id}


def _by_label(hass: HomeAssistant) -> dict[str, Any]:
    label = lr.async_get(hass).async_create("Heating")
    er.async_get(hass).async_update_entity(PHASE, labels={label.label_id})
    return {"label_id": label.label_id}


TARGETS = pytest.mark.parametrize(
    "target",
    [_by_button, _by_sensor_list, _by_device, _by_area, _by_floor, _by_label],
    ids=["button", "sensors", "device", "area", "floor", "label"],
)


@TARGETS
async def test_start_and_cancel_by_target(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    garage: ConfigEntry,
    target: Callable[[HomeAssistant], dict[str, Any]],
) -> None:
    """The actions find the heat pump from its entities, its device, or an area, floor or label."""
    picked = target(hass)
    response = await hass.services.async_call(
        DOMAIN,
        "start_reset",
        {"reason": "picked in the UI"},
        target=picked,
        blocking=True,
        return_response=True,
    )
    await settle(hass)
    assert response is not None
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, PHASE).attributes["run_id"] == response["run_id"]
    assert state(hass, "sensor.garage_heat_pump_reset_phase").state == "idle"
    await hass.services.async_call(DOMAIN, "cancel_reset", target=picked, blocking=True)
    await advance(
        hass, freezer, STARTUP + STAGGER + timedelta(seconds=5), step=timedelta(seconds=5)
    )
    assert state(hass, OUTCOME).state == "cancelled"
    history = await hass.services.async_call(
        DOMAIN, "get_history", target=picked, blocking=True, return_response=True
    )
    assert history is not None
    assert [run["outcome"] for run in history["runs"]] == ["cancelled"]  # type: ignore[union-attr]


async def test_history_per_heat_pump(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, garage: ConfigEntry
) -> None:
    """A target naming two heat pumps answers each one's runs, named, in the order picked."""
    history = await hass.services.async_call(
        DOMAIN,
        "get_history",
        target={"entity_id": [GARAGE_BUTTON, BUTTON]},
        blocking=True,
        return_response=True,
    )
    assert history == {
        "heat_pumps": [
            {"config_entry_id": garage.entry_id, "name": "Garage heat pump", "runs": []},
            {"config_entry_id": entry.entry_id, "name": "Heat pump", "runs": []},
        ]
    }


async def test_cancel_several_heat_pumps(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    garage: ConfigEntry,
) -> None:
    """Cancel with two heat pumps cancels the one that runs; with none running it is refused."""
    both = {"entity_id": [BUTTON, GARAGE_BUTTON]}
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(DOMAIN, "cancel_reset", target=both, blocking=True)
    assert err.value.translation_key == "nothing_running"
    assert err.value.translation_placeholders == {"name": "Heat pump, Garage heat pump"}
    await start(hass, entry)
    await hass.services.async_call(DOMAIN, "cancel_reset", target=both, blocking=True)
    await advance(
        hass, freezer, STARTUP + STAGGER + timedelta(seconds=5), step=timedelta(seconds=5)
    )
    assert state(hass, OUTCOME).state == "cancelled"


async def test_start_refused_for_two_heat_pumps(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    garage: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A start whose target names two heat pumps is refused, naming them, and touches nothing."""
    label = lr.async_get(hass).async_create("Heat pumps")
    for entity_id in (BUTTON, GARAGE_BUTTON):
        er.async_get(hass).async_update_entity(entity_id, labels={label.label_id})
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "start_reset", target={"label_id": label.label_id}, blocking=True
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "several_heat_pumps"
    assert err.value.translation_placeholders == {"names": "Heat pump, Garage heat pump"}
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])
    assert active_run(hass_storage, entry) is None


def _not_ours_entity(hass: HomeAssistant) -> tuple[dict[str, Any], str, dict[str, str]]:
    return {"entity_id": THERMOSTAT}, "not_a_heat_pump", {"target": THERMOSTAT}


def _not_ours_device(hass: HomeAssistant) -> tuple[dict[str, Any], str, dict[str, str]]:
    source = hass.config_entries.async_entries("test")[0]
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=source.entry_id, identifiers={("test", "meter")}, name="Energy meter"
    )
    return {"device_id": device.id}, "not_a_heat_pump", {"target": "Energy meter"}


def _empty_area(hass: HomeAssistant) -> tuple[dict[str, Any], str, dict[str, str]]:
    area = ar.async_get(hass).async_create("Attic")
    return {"area_id": area.id}, "no_heat_pump_in_target", {}


def _nothing(hass: HomeAssistant) -> tuple[dict[str, Any], str, dict[str, str]]:
    return {}, "no_heat_pump", {}


@pytest.mark.parametrize("service", ["start_reset", "cancel_reset", "get_history"])
@pytest.mark.parametrize(
    "case",
    [_not_ours_entity, _not_ours_device, _empty_area, _nothing],
    ids=["entity_not_ours", "device_not_ours", "empty_area", "no_target"],
)
async def test_target_without_a_heat_pump_is_refused(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    service: str,
    case: Callable[[HomeAssistant], tuple[dict[str, Any], str, dict[str, str]]],
) -> None:
    """A target that names no heat pump is refused with a translated error, nothing touched."""
    picked, key, placeholders = case(hass)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            service,
            target=picked,
            blocking=True,
            return_response=service == "get_history",
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert (err.value.translation_placeholders or {}) == placeholders
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])


async def test_automation_calls_are_not_checked_for_a_user(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A call without a user (an automation, a script) is not a person's: as in core, no check."""
    await start(hass, entry, Context())
    assert state(hass, PHASE).state == "discharging"
    await cancel(hass, entry)
    assert heat_pump.switch_a.is_on


async def test_shared_issue_raised_when_both_load_together(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Loaded side by side (as at start-up, both setting up at once), the sharing is still seen."""
    hass.states.async_set(BEDROOM_THERMOSTAT, "heat", {"hvac_modes": ["off", "heat"]})
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Bedroom",
        data={},
        options={**entry.options, CONF_THERMOSTAT: BEDROOM_THERMOSTAT, CONF_SWITCHES: [SWITCH_A]},
        unique_id=BEDROOM_THERMOSTAT,
    )
    other.add_to_hass(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await asyncio.gather(
        hass.config_entries.async_setup(entry.entry_id),
        hass.config_entries.async_setup(other.entry_id),
    )
    await hass.async_block_till_done()
    found = shared_issue(hass, SWITCH_A)
    assert found is not None
    assert found.translation_placeholders == {"entity": "Breaker a", "names": "Bedroom, Heat pump"}


async def test_switches_of_a_run_under_way_count_as_used(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A breaker a running reset still holds off is in use, even once reconfigured away, until it ends."""
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_SWITCHES: [SWITCH_B]}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"
    other = await add_bedroom(hass, entry, BEDROOM_THERMOSTAT, [SWITCH_A])
    found = shared_issue(hass, SWITCH_A)
    assert found is not None
    with pytest.raises(ServiceValidationError) as err:
        await start_on(hass, other)
    assert err.value.translation_key == "shared_entity"
    assert not heat_pump.switch_a.is_on

    await advance(hass, freezer, TO_THE_END, step=timedelta(seconds=10))
    assert state(hass, PHASE).state == "idle"
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert shared_issue(hass, SWITCH_A) is None
    await start_on(hass, other)
    await cancel(hass, other)


async def test_cancel_button(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Cancel reset is available only while a run can be cancelled, and pressing it cancels the run."""
    assert state(hass, CANCEL_BUTTON).state == "unavailable"
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=30))
    assert state(hass, CANCEL_BUTTON).state != "unavailable"
    assert state(hass, CANCEL_BUTTON).attributes["friendly_name"] == "Living room Cancel reset"
    await hass.services.async_call("button", "press", {"entity_id": CANCEL_BUTTON}, blocking=True)
    await advance(
        hass, freezer, STARTUP + STAGGER + timedelta(seconds=5), step=timedelta(seconds=5)
    )
    assert state(hass, OUTCOME).state == "cancelled"
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, CANCEL_BUTTON).state == "unavailable"


async def test_unrendered_template_target_is_refused(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A template passed as the target without rendering it names no heat pump, and touches nothing.

    HA 2025.4's target schema lets it through (our translated refusal); 2026.x's refuses it.
    """
    with pytest.raises((ServiceValidationError, vol.Invalid)) as err:
        await hass.services.async_call(
            DOMAIN, "start_reset", {"entity_id": "{{ 'button.x' }}"}, blocking=True
        )
    if isinstance(err.value, ServiceValidationError):
        assert err.value.translation_key == "not_a_heat_pump"
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])

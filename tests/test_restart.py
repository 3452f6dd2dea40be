"""Restart-proof runs: a restart, reload, options change, removal or disable in the middle of a run."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate.const import HVACAction
from homeassistant.config_entries import ConfigEntry, ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import Context, CoreState, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.heat_pump_reset.const import (
    CONF_STAGGER_SECONDS,
    CONF_STARTUP_DELAY_MINUTES,
    DOMAIN,
)
from custom_components.heat_pump_reset.diagnostics import async_get_config_entry_diagnostics
from custom_components.heat_pump_reset.publishing import Publisher
from custom_components.heat_pump_reset.run import Run
from custom_components.heat_pump_reset.storage import RunStore

from .harness.driving import (
    advance,
    advance_to,
    settle,
    start,
    state,
    store_key,
    stored,
    stored_history,
    stored_time,
)
from .harness.entity_ids import ENDS_AT, OUTCOME, PHASE, SWITCH_A, SWITCH_B
from .harness.equipment import SAVED, HeatPump, power, thermostat_settings, touched
from .harness.forms import sectioned
from .harness.holding import (
    Release,
    Scene,
    hold_cutting_power_before_cut,
    hold_cutting_power_partial,
    hold_discharging,
    hold_restoring_power,
    hold_restoring_thermostat,
    hold_starting_up,
    hold_stopping_thermostat,
    hold_verifying,
)
from .harness.restarts import boot, kill, restart
from .harness.timings import (
    COARSE,
    DISCHARGE,
    FULL_RUN,
    SECOND,
    STAGGER,
    STARTUP,
    TO_THE_END,
    VERIFY,
)

# id: (phase shown, how to hold it (its release happens while HA is down), outcome, detail,
#      off commands the breakers got)
RESTART_CASES: dict[
    str, tuple[str, Callable[[Scene], Awaitable[Release]], str, str | None, int]
] = {
    "stopping_thermostat": (
        "stopping_thermostat",
        hold_stopping_thermostat,
        "interrupted",
        "restarted_before_power_cut",
        0,
    ),
    "cutting_power_before_cut": (
        "cutting_power",
        hold_cutting_power_before_cut,
        "interrupted",
        "restarted_before_power_cut",
        0,
    ),
    "cutting_power_partial": (
        "cutting_power",
        hold_cutting_power_partial,
        "interrupted",
        "restarted_while_cutting_power",
        1,
    ),
    "discharging": ("discharging", hold_discharging, "succeeded", None, 2),
    "restoring_power": ("restoring_power", hold_restoring_power, "succeeded", None, 2),
    "starting_up": ("starting_up", hold_starting_up, "succeeded", None, 2),
    "restoring_thermostat": (
        "restoring_thermostat",
        hold_restoring_thermostat,
        "succeeded",
        None,
        2,
    ),
    "verifying": ("verifying", hold_verifying, "succeeded", None, 2),
}


@pytest.mark.parametrize("case", list(RESTART_CASES))
async def test_restart_in_every_phase(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    scene: Scene,
    case: str,
) -> None:
    """A restart in any phase resumes the stored run once HA runs and ends with power on and settings back."""
    phase, hold, outcome, detail, offs = RESTART_CASES[case]
    during_downtime = await hold(scene)
    active = stored(hass_storage, entry)["active"]
    assert active is not None
    run_id = active["run_id"]
    assert active["phase"] == phase
    assert active["resumed"] == 0

    await kill(hass, entry)
    assert stored(hass_storage, entry)["active"]["run_id"] == run_id
    await boot(hass, freezer, entry, heat_pump, timedelta(minutes=1), during_downtime)
    await advance(hass, freezer, TO_THE_END, step=COARSE)

    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == outcome
    assert state(hass, OUTCOME).attributes["run_id"] == run_id
    if detail is not None:
        assert state(hass, OUTCOME).attributes["detail"] == detail
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    data = stored(hass_storage, entry)
    assert data["active"] is None
    assert [(r["run_id"], r["outcome"]) for r in stored_history(hass_storage, entry)] == [
        (run_id, outcome)
    ]
    # Each breaker got at most one off command; before the cut, no command at all.
    assert [s.commands.count("off") for s in heat_pump.switches] == [1] * offs + [0] * (2 - offs)
    if offs == 0:
        assert heat_pump.switch_a.commands == []
        assert heat_pump.switch_b.commands == []


async def test_cancel_is_kept_across_a_restart_in_the_start_up_delay(scene: Scene) -> None:
    """A cancel in the start-up delay is on disk at once: a restart right after it still ends cancelled."""
    hass, freezer, pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    await hold_starting_up(scene)
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await restart(hass, freezer, entry, pump, downtime=SECOND)
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert state(hass, OUTCOME).state == "cancelled"
    assert power(pump) == [True, True]
    assert thermostat_settings(pump) == SAVED


async def test_restart_resumes_only_once_started(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    scene: Scene,
) -> None:
    """While HA is still starting, a run whose deadline passed waits for the started event."""
    await hold_discharging(scene)
    await kill(hass, entry)
    freezer.tick(timedelta(hours=2))
    hass.set_state(CoreState.not_running)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    assert power(heat_pump) == [False, False]
    assert state(hass, PHASE).state == "discharging"
    assert stored(hass_storage, entry)["active"]["resumed"] == 0
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await settle(hass)
    assert heat_pump.switch_a.is_on


# --- Deadlines across a restart ---------------------------------------------------------------


@pytest.mark.parametrize("restarts", [1, 2])
async def test_discharge_keeps_its_original_deadline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    scene: Scene,
    restarts: int,
) -> None:
    """Power returns exactly at the confirmed cut plus 30 minutes, not 30 minutes after the restart."""
    await hold_discharging(scene)
    deadline = stored_time(hass_storage, entry, "confirmed_off_at") + DISCHARGE
    ends_at = state(hass, ENDS_AT).state
    for _ in range(restarts):
        await restart(hass, freezer, entry, heat_pump, downtime=timedelta(minutes=5))
        assert state(hass, PHASE).state == "discharging"
        assert state(hass, ENDS_AT).state == ends_at
    assert stored(hass_storage, entry)["active"]["resumed"] == restarts
    assert stored_time(hass_storage, entry, "phase_ends_at") == deadline

    await advance_to(hass, freezer, deadline - SECOND)
    assert power(heat_pump) == [False, False]
    await advance(hass, freezer, SECOND)
    assert power(heat_pump) == [True, False]
    await advance(hass, freezer, STAGGER)
    assert power(heat_pump) == [True, True]
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, STARTUP - SECOND)
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, SECOND)
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "succeeded"


async def test_discharge_deadline_passed_while_down_restores_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    scene: Scene,
) -> None:
    """Two hours down mid-discharge: power comes back as soon as HA has started, then the staged restore."""
    await hold_discharging(scene)
    await restart(hass, freezer, entry, heat_pump, downtime=timedelta(hours=2))
    assert power(heat_pump) == [True, False]
    await advance(hass, freezer, STAGGER - SECOND)
    assert power(heat_pump) == [True, False]
    await advance(hass, freezer, SECOND)
    assert power(heat_pump) == [True, True]
    assert state(hass, PHASE).state == "starting_up"
    await advance(hass, freezer, STARTUP - SECOND)
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, SECOND)
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "succeeded"
    assert stored(hass_storage, entry)["active"] is None


@pytest.mark.parametrize("downtime", [timedelta(minutes=2), timedelta(hours=2)])
async def test_starting_up_keeps_its_deadline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    scene: Scene,
    downtime: timedelta,
) -> None:
    """The thermostat comes back at power-on plus the start-up delay, or at once if that passed."""
    await hold_starting_up(scene)
    deadline = stored_time(hass_storage, entry, "phase_ends_at")
    assert deadline == stored_time(hass_storage, entry, "power_on_at") + STARTUP
    await restart(hass, freezer, entry, heat_pump, downtime=downtime)
    if downtime > STARTUP:
        assert thermostat_settings(heat_pump) == SAVED
    else:
        assert state(hass, PHASE).state == "starting_up"
        await advance_to(hass, freezer, deadline - SECOND)
        assert heat_pump.thermostat.hvac_mode == "off"
        await advance(hass, freezer, SECOND)
        assert thermostat_settings(heat_pump) == SAVED
    assert power(heat_pump) == [True, True]


@pytest.mark.parametrize("downtime", [timedelta(minutes=2), timedelta(hours=2)])
async def test_verifying_keeps_its_deadline(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    scene: Scene,
    downtime: timedelta,
) -> None:
    """A unit that does not start is judged at the original end of the window, not a new one.

    A window that ended while Home Assistant was down was never watched: it starts again in full
    (tests/test_clock_and_errors.py).
    """
    await hold_verifying(scene)
    deadline = stored_time(hass_storage, entry, "phase_ends_at")
    await restart(hass, freezer, entry, heat_pump, downtime=downtime)
    if downtime > VERIFY:
        deadline = dt_util.utcnow() + VERIFY
    assert state(hass, PHASE).state == "verifying"
    await advance_to(hass, freezer, deadline - SECOND)
    assert state(hass, PHASE).state == "verifying"
    await advance(hass, freezer, SECOND)
    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == "no_start"
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED


# --- Reload, options change, removal and disabling mid-run --------------------------------------


async def test_reload_mid_discharge_keeps_the_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Reloading the entry mid-discharge keeps the run, touches nothing and keeps the deadline."""
    run_id = await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    deadline = stored_time(hass_storage, entry, "confirmed_off_at") + DISCHARGE
    before = touched(heat_pump)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert touched(heat_pump) == before
    assert power(heat_pump) == [False, False]
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, PHASE).attributes["run_id"] == run_id
    assert state(hass, ENDS_AT).state == deadline.isoformat(timespec="seconds")
    assert stored(hass_storage, entry)["active"]["resumed"] == 1

    await advance_to(hass, freezer, deadline - SECOND)
    assert power(heat_pump) == [False, False]
    await advance(hass, freezer, SECOND)
    assert power(heat_pump) == [True, False]
    await advance(hass, freezer, STAGGER + STARTUP + timedelta(minutes=1), step=COARSE)
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "succeeded"
    assert state(hass, OUTCOME).attributes["run_id"] == run_id


@pytest.mark.parametrize("hold", [hold_stopping_thermostat, hold_cutting_power_partial])
async def test_reload_before_the_cut_carries_on(
    scene: Scene, hass_storage: dict[str, Any], hold: Callable[[Scene], Awaitable[Release]]
) -> None:
    """A reload while stopping the thermostat or cutting power repeats that phase; the run goes on."""
    hass, freezer, pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    release = await hold(scene)
    phase = state(hass, PHASE).state
    run_id = state(hass, PHASE).attributes["run_id"]
    reloaded_at = dt_util.utcnow()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    # Still stopping (the unit keeps heating), or the repeated cut went through at once.
    assert state(hass, PHASE).state == (
        "discharging" if phase == "cutting_power" else "stopping_thermostat"
    )
    assert state(hass, PHASE).attributes["run_id"] == run_id
    assert stored(hass_storage, entry)["active"]["resumed"] == 1
    release()
    await advance(hass, freezer, SECOND * 5)
    assert power(pump) == [False, False]
    # The wait counts from the cut confirmed after the reload.
    confirmed = stored_time(hass_storage, entry, "confirmed_off_at")
    assert confirmed >= reloaded_at
    await advance_to(hass, freezer, confirmed + DISCHARGE - SECOND)
    assert power(pump) == [False, False]
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert power(pump) == [True, True]
    assert thermostat_settings(pump) == SAVED
    assert state(hass, OUTCOME).state == "succeeded"
    assert state(hass, OUTCOME).attributes["run_id"] == run_id
    # Breaker a, cut and off before the reload, is left as it is: one off command each.
    assert (pump.switch_a.commands, pump.switch_b.commands) == (["off", "on"], ["off", "on"])


async def test_cancel_then_reload_at_once_keeps_the_cancel(scene: Scene) -> None:
    """A reload right after a cancel (while stopping) resumes the cancel: thermostat back, no cut."""
    hass, freezer, pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    release = await hold_stopping_thermostat(scene)
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    release()
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert state(hass, OUTCOME).state == "cancelled"
    assert thermostat_settings(pump) == SAVED
    assert (pump.switch_a.commands, pump.switch_b.commands) == ([], [])


async def test_reload_mid_cut_never_strands_a_cut_breaker(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unit starts while the repeated cut writes the run: it ends failed, every breaker cut is back on."""
    hass, freezer, pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    await hold_cutting_power_partial(scene)
    assert power(pump) == [False, True]
    saved = RunStore.async_save_active
    writes: list[int] = []

    async def _save_then_start_heating(self: RunStore, run: Run) -> None:
        await saved(self, run)
        writes.append(run.switches_sent_off)
        if len(writes) == 2:
            # The first write enters the phase again; the second comes right before an off command.
            pump.thermostat.stuck_action = HVACAction.HEATING
            pump.thermostat.async_write_ha_state()

    monkeypatch.setattr(RunStore, "async_save_active", _save_then_start_heating)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert power(pump) == [True, True]
    assert state(hass, OUTCOME).state == "failed"
    assert state(hass, OUTCOME).attributes["detail"] == "unit_started_before_cut"
    # Breaker b never got the off the reload interrupted; it gets an on all the same.
    assert (pump.switch_a.commands, pump.switch_b.commands) == (["off", "on"], ["on"])


async def test_set_up_again_long_after_an_unload_is_a_restart(scene: Scene) -> None:
    """An entry set up again minutes after it was unloaded mid-stop does not carry on: thermostat back, interrupted."""
    hass, freezer, heat_pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    release = await hold_stopping_thermostat(scene)
    await kill(hass, entry)
    await advance(hass, freezer, timedelta(minutes=2), step=COARSE)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    release()
    await advance(hass, freezer, timedelta(minutes=5), step=COARSE)
    assert state(hass, OUTCOME).state == "interrupted"
    assert thermostat_settings(heat_pump) == SAVED
    assert (heat_pump.switch_a.commands, heat_pump.switch_b.commands) == ([], [])


async def test_options_changed_mid_run_keep_the_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Saving new timings in the options flow mid-discharge reloads the entry; the run and its deadline stay."""
    run_id = await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    deadline = stored_time(hass_storage, entry, "confirmed_off_at") + DISCHARGE
    before = touched(heat_pump)
    controller = entry.runtime_data

    flow = await hass.config_entries.options.async_init(entry.entry_id)
    assert flow["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], sectioned({CONF_STAGGER_SECONDS: 20, CONF_STARTUP_DELAY_MINUTES: 3})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await settle(hass)
    assert entry.options[CONF_STAGGER_SECONDS] == 20
    # The entry reloaded (a new controller) and the run carried on.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not controller
    assert touched(heat_pump) == before
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, PHASE).attributes["run_id"] == run_id
    assert stored(hass_storage, entry)["active"]["run_id"] == run_id

    await advance_to(hass, freezer, deadline - SECOND)
    assert power(heat_pump) == [False, False]
    await advance(hass, freezer, SECOND)
    assert heat_pump.switch_a.is_on
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "succeeded"


async def test_removing_the_entry_mid_discharge_restores_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Removing the heat pump mid-discharge turns both breakers on and the thermostat back, then forgets the run."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    assert power(heat_pump) == [False, False]
    await hass.config_entries.async_remove(entry.entry_id)
    await settle(hass)
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert store_key(entry) not in hass_storage
    assert hass.config_entries.async_get_entry(entry.entry_id) is None
    after = touched(heat_pump)
    await advance(hass, freezer, timedelta(hours=1), step=timedelta(minutes=1))
    assert touched(heat_pump) == after


async def test_removing_the_entry_leaves_a_note_of_what_it_could_not_put_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    notifications: dict[str, Any],
) -> None:
    """Removed mid-discharge with a breaker and the thermostat gone: one goes on, a lasting note names the rest."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    heat_pump.switch_b.set_available(False)
    heat_pump.thermostat.set_available(False)
    # In the background, so that moving time (which waits for ordinary tasks) can drive it.
    removing = hass.async_create_background_task(
        hass.config_entries.async_remove(entry.entry_id), "remove mid-run"
    )
    # Each breaker gets its confirm timeout (30 s) before the entry is gone.
    await advance(hass, freezer, timedelta(minutes=1), step=timedelta(seconds=5))
    assert removing.done()
    await settle(hass)
    assert power(heat_pump) == [True, False]
    assert heat_pump.thermostat.hvac_mode == "off"
    note = notifications[f"{DOMAIN}_{entry.entry_id}_left_behind"]
    assert "Turn Breaker b back on by hand" in note["message"]
    assert "Breaker a" not in note["message"]
    assert "the thermostat Living room could not be restored" in note["message"]
    assert "by hand: Heat, Target temperature 21.0 °C" in note["message"]
    # The power notification of the run is gone with it; this one stays until dismissed.
    assert f"{DOMAIN}_{entry.entry_id}_power" not in notifications
    await advance(hass, freezer, timedelta(hours=1), step=timedelta(minutes=1))
    assert f"{DOMAIN}_{entry.entry_id}_left_behind" in notifications


async def test_removing_the_entry_with_no_run_touches_nothing(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Removing an idle heat pump sends no command and leaves no stored data."""
    await hass.config_entries.async_remove(entry.entry_id)
    await settle(hass)
    assert touched(heat_pump) == ([], [], [])
    assert store_key(entry) not in hass_storage


async def test_disabling_the_entry_mid_discharge_restores(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Disabling the heat pump mid-discharge puts power and the thermostat back; re-enabling resumes nothing."""
    run_id = await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    await hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER)
    await settle(hass)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    data = stored(hass_storage, entry)
    assert data["active"] is None
    last = stored_history(hass_storage, entry)[0]
    assert (last["run_id"], last["outcome"], last["detail"]) == (
        run_id,
        "cancelled",
        "entry_disabled",
    )

    after = touched(heat_pump)
    await hass.config_entries.async_set_disabled_by(entry.entry_id, None)
    await settle(hass)
    assert entry.state is ConfigEntryState.LOADED
    await advance(hass, freezer, timedelta(hours=1), step=timedelta(minutes=1))
    assert touched(heat_pump) == after
    assert state(hass, PHASE).state == "idle"
    assert state(hass, OUTCOME).state == "cancelled"


# --- A stored run this release cannot read (issue 11, item 3) -----------------------------------

# Fields a stored run cannot do without, and a value of the wrong type for every field.
REQUIRED_FIELDS = (
    "run_id",
    "trigger",
    "thermostat",
    "switches",
    "discharge_minutes",
    "started_at",
    "phase",
)
ALL_FIELDS = (
    *REQUIRED_FIELDS,
    "reason",
    "phase_started_at",
    "phase_ends_at",
    "phase_log",
    "saved",
    "switches_cut",
    "off_sent_at",
    "confirmed_off_at",
    "power_on_at",
    "ending",
    "detail",
    "thermostat_overridden",
    "resumed",
    "switches_confirmed_off",
    "switches_left_off",
    "thermostat_detail",
    "power_sensor",
    "sensor_kept",
    "cancel_asked",
)
WRONG_TYPE = 12.5
# Values of the right type that this release does not know, or cannot use.
UNKNOWN: dict[str, Any] = {
    "phase": "exploding",
    "trigger": "rocket",
    "ending": "maybe",
    "started_at": "yesterday",
    "confirmed_off_at": "2026-01-15T06:00:00",  # no UTC offset
    "switches": [],
    "run_id": "",
    "switches_cut": 7,
    "discharge_minutes": 10**9,
}


def _set(field: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def damage(stored: dict[str, Any]) -> None:
        stored["data"]["active"][field] = value

    return damage


def _drop(field: str) -> Callable[[dict[str, Any]], None]:
    def damage(stored: dict[str, Any]) -> None:
        del stored["data"]["active"][field]

    return damage


def _newer_version(stored: dict[str, Any]) -> None:
    stored["version"] = 2


def _not_a_run(stored: dict[str, Any]) -> None:
    stored["data"]["active"] = "garbage"


def _data_not_a_dict(stored: dict[str, Any]) -> None:
    stored["data"] = ["garbage"]


def _no_version(stored: dict[str, Any]) -> None:
    del stored["version"]


DAMAGE: dict[str, Callable[[dict[str, Any]], None]] = {
    **{f"{f}_missing": _drop(f) for f in REQUIRED_FIELDS},
    **{f"{f}_wrong_type": _set(f, WRONG_TYPE) for f in ALL_FIELDS},
    **{f"{f}_unknown": _set(f, value) for f, value in UNKNOWN.items()},
    "not_a_run": _not_a_run,
    "data_not_a_dict": _data_not_a_dict,
    "no_version": _no_version,
    "newer_version": _newer_version,
    "truncated": lambda stored: None,  # written to disk cut short instead (below)
}
# Damage after which the saved thermostat settings cannot be read any more.
SETTINGS_LOST = {"saved_wrong_type", "not_a_run", "data_not_a_dict", "no_version", "truncated"}


@pytest.mark.parametrize("damage", list(DAMAGE))
async def test_unreadable_stored_run_puts_power_back(
    scene: Scene,
    hass_storage: dict[str, Any],
    notifications: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    damage: str,
) -> None:
    """A stored run this release cannot read: the entry loads, both breakers go on, it is recorded failed.

    The thermostat gets its settings back when the data still holds them (else a notification says
    what to check), and diagnostics show what the file held.
    """
    hass, freezer, pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    await hold_discharging(scene)
    await kill(hass, entry)
    assert power(pump) == [False, False]
    key = store_key(entry)
    if damage == "truncated":
        # A power cut in the middle of a write: half a file on disk.
        text = json.dumps(hass_storage.pop(key))
        monkeypatch.setattr(hass.config, "config_dir", str(tmp_path))
        (tmp_path / ".storage").mkdir()
        (tmp_path / ".storage" / key).write_text(text[: len(text) // 2], encoding="utf-8")
    else:
        DAMAGE[damage](hass_storage[key])
    data = hass_storage.get(key, {}).get("data")
    bad = data.get("active") if isinstance(data, dict) else data

    await boot(hass, freezer, entry, pump, timedelta(minutes=1))
    assert entry.state is ConfigEntryState.LOADED
    await advance(hass, freezer, TO_THE_END, step=COARSE)

    assert power(pump) == [True, True]
    assert state(hass, PHASE).state == "idle"
    [record, *_] = stored_history(hass_storage, entry)
    assert (record["outcome"], record["detail"]) == ("failed", "stored_run_unreadable")
    assert state(hass, OUTCOME).state == "failed"
    assert stored(hass_storage, entry)["active"] is None
    note = notifications.get(f"{DOMAIN}_{entry.entry_id}_unreadable")
    if damage in SETTINGS_LOST:
        assert note is not None
        assert "check that Living room is set as you want it" in note["message"]
    else:
        assert note is None
        assert thermostat_settings(pump) == SAVED
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    [kept] = [u for u in diagnostics["unreadable"] if u["what"] == "active_run"]
    if damage == "truncated":
        assert isinstance(kept["content"], str)
        assert kept["content"].startswith('{"version": 1')
    elif damage == "newer_version":
        assert kept["content"]["version"] == 2
    elif damage == "no_version":
        # Not the layout Home Assistant's loader expects (on disk: the file's text is kept).
        assert kept["reason"].startswith(("KeyError", "ValueError"))
    else:
        assert kept["content"] == bad
    # Once put right, a new reset starts as usual.
    await advance(hass, freezer, timedelta(days=2), step=timedelta(hours=6))
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"


async def test_unreadable_stored_run_keeps_a_discharge_wait_it_can_read(
    scene: Scene, hass_storage: dict[str, Any]
) -> None:
    """An unknown phase, but the cut's time is readable: power stays off until its deadline."""
    hass, freezer, pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    await hold_discharging(scene)
    deadline = stored_time(hass_storage, entry, "confirmed_off_at") + DISCHARGE
    await kill(hass, entry)
    hass_storage[store_key(entry)]["data"]["active"]["phase"] = "exploding"
    await boot(hass, freezer, entry, pump, timedelta(minutes=1))
    await advance_to(hass, freezer, deadline - SECOND)
    assert power(pump) == [False, False]
    await advance(hass, freezer, STAGGER + SECOND * 2)
    assert power(pump) == [True, True]
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert thermostat_settings(pump) == SAVED
    assert state(hass, OUTCOME).attributes["detail"] == "stored_run_unreadable"


async def test_unreadable_stored_run_retries_power_until_it_is_back(
    scene: Scene, hass_storage: dict[str, Any], notifications: dict[str, Any]
) -> None:
    """A breaker offline when the unreadable run is found: retried, told, and on once it is back."""
    hass, freezer, pump, entry = scene.hass, scene.freezer, scene.pump, scene.entry
    await hold_discharging(scene)
    await kill(hass, entry)
    hass_storage[store_key(entry)]["data"]["active"]["switches"] = "switch.breaker_a"
    pump.switch_b.set_available(False)
    await boot(hass, freezer, entry, pump, timedelta(hours=1))
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    assert power(pump) == [True, False]
    assert state(hass, PHASE).state == "restoring_power"
    assert f"{DOMAIN}_{entry.entry_id}_power" in notifications
    pump.switch_b.set_available(True)
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert power(pump) == [True, True]
    assert f"{DOMAIN}_{entry.entry_id}_power" not in notifications
    assert state(hass, OUTCOME).attributes["detail"] == "stored_run_unreadable"


async def test_stores_write_atomically(entry: ConfigEntry) -> None:
    """A power cut in the middle of a write leaves the old file or the new one, never half."""
    store = entry.runtime_data.store
    assert store._active._atomic_writes
    assert store._history._atomic_writes


# --- A rename while the ended run is being recorded (issue 11, item 10) ---------------------------


async def test_rename_during_the_final_write_records_the_run_once(
    scene: Scene, hass_storage: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A breaker renamed while the ended run is written away: one record, one outcome event.

    Before, the rename wrote the run again after it was cleared; the reload that follows a rename
    resumed it, and it ended (and was announced) a second time.
    """
    hass, freezer, entry = scene.hass, scene.freezer, scene.entry
    fired: list[tuple[str, str]] = []
    fire = Publisher.fire

    def _fire(self: Publisher, event_type: str, data: dict[str, Any]) -> None:
        fired.append((event_type, data["run_id"]))
        fire(self, event_type, data)

    monkeypatch.setattr(Publisher, "fire", _fire)
    active = entry.runtime_data.store._active
    writing = active._async_write_data  # the test plugin's in-memory "disk" write
    clearing, release = asyncio.Event(), asyncio.Event()

    async def _write(*args: Any) -> None:
        # (path, data) on Home Assistant 2025.4, (data) on 2026.x: the data comes last.
        if args[-1]["data"] == {"active": None}:
            # The clearing write is on its way to disk (in the executor, the store's lock held).
            clearing.set()
            await release.wait()
        await writing(*args)

    active._async_write_data = _write
    run_id = await start(hass, entry)
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert clearing.is_set()
    er.async_get(hass).async_update_entity(SWITCH_B, new_entity_id="switch.main_breaker")
    for _ in range(50):
        await asyncio.sleep(0)
    release.set()
    await settle(hass)
    await advance(hass, freezer, TO_THE_END, step=COARSE)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.options["switches"] == [SWITCH_A, "switch.main_breaker"]
    assert stored(hass_storage, entry)["active"] is None
    assert [r["run_id"] for r in stored_history(hass_storage, entry)] == [run_id]
    assert fired == [("started", run_id), ("succeeded", run_id)]
    assert await hass.config_entries.async_reload(entry.entry_id)
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert state(hass, PHASE).state == "idle"
    assert [r["run_id"] for r in stored_history(hass_storage, entry)] == [run_id]
    assert fired == [("started", run_id), ("succeeded", run_id)]


# --- Outside review (issue 11) ------------------------------------------------------------------


async def test_cancel_while_home_assistant_starts_restores_power_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    scene: Scene,
) -> None:
    """Issue 11 item 4: a cancel accepted before the stored run resumes brings power back at once."""
    await hold_discharging(scene)
    await kill(hass, entry)
    freezer.tick(timedelta(minutes=1))
    hass.set_state(CoreState.not_running)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    assert power(heat_pump) == [False, False]
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await settle(hass)
    # The staged restore starts as soon as Home Assistant runs, not at the deadline 19 min later.
    assert power(heat_pump) == [True, False]
    await advance(hass, freezer, STAGGER)
    assert power(heat_pump) == [True, True]
    await advance(hass, freezer, STARTUP + SECOND, step=COARSE)
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "cancelled"


async def test_cancel_on_disk_before_a_restart_mid_discharge_restores_power_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    scene: Scene,
) -> None:
    """Issue 11 item 4: the process died after writing a cancel, before power came back."""
    await hold_discharging(scene)
    await kill(hass, entry)
    active = stored(hass_storage, entry)["active"]
    active["ending"], active["detail"] = "cancelled", "cancelled"
    await boot(hass, freezer, entry, heat_pump, timedelta(minutes=1))
    assert power(heat_pump) == [True, False]
    await advance(hass, freezer, STAGGER + STARTUP + SECOND, step=SECOND * 5)
    assert power(heat_pump) == [True, True]
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "cancelled"


async def test_breaker_found_on_after_a_restart_ends_the_wait(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    scene: Scene,
) -> None:
    """Issue 11 item 5: a cut breaker turned on while HA was down is power restored, not "never cut"."""
    await hold_discharging(scene)
    # At the panel while Home Assistant is down (or a relay's power-on default after an outage).
    await restart(
        hass, freezer, entry, heat_pump, during_downtime=lambda: heat_pump.switch_a.set_on(True)
    )
    await advance(hass, freezer, STAGGER + SECOND)
    # The wait ends as it would in one process: the other breaker follows, staged.
    assert power(heat_pump) == [True, True]
    await advance(hass, freezer, STARTUP + SECOND, step=SECOND * 5)
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "cancelled"
    assert state(hass, OUTCOME).attributes["detail"] == "power_restored_outside"


@pytest.mark.parametrize("how", ["reload", "restart"])
async def test_breaker_a_person_turned_off_stays_off_after_a_reload_or_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    hass_admin_user: MockUser,
    scene: Scene,
    how: str,
) -> None:
    """Issue 11 item 7: "left off by a person" is part of the stored run, honoured after a reload."""
    await hold_restoring_power(scene)
    assert power(heat_pump) == [True, False]
    # A person turns breaker a off in Home Assistant while the run waits for breaker b.
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": heat_pump.switch_a.entity_id},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(hass)
    assert stored(hass_storage, entry)["active"]["switches_left_off"] == [
        heat_pump.switch_a.entity_id
    ]
    if how == "reload":
        assert await hass.config_entries.async_reload(entry.entry_id)
        await settle(hass)
        heat_pump.switch_b.set_available(True)
    else:
        await restart(
            hass,
            freezer,
            entry,
            heat_pump,
            during_downtime=lambda: heat_pump.switch_b.set_available(True),
        )
    await advance(hass, freezer, TO_THE_END, step=COARSE)
    assert state(hass, PHASE).state == "idle"
    assert power(heat_pump) == [False, True]
    assert heat_pump.switch_a.commands == ["off", "on", "off"]


@pytest.mark.parametrize("how", ["reload", "remove"])
async def test_power_notification_goes_once_power_is_back_after_a_reload_or_removal(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    notifications: dict[str, Any],
    scene: Scene,
    how: str,
) -> None:
    """Issue 11 item 9: "power could not be turned back on" goes once the switches are on, by any controller."""
    await hold_restoring_power(scene)
    notification_id = f"{DOMAIN}_{entry.entry_id}_power"
    assert notification_id in notifications
    if how == "reload":
        assert await hass.config_entries.async_reload(entry.entry_id)
        await settle(hass)
        heat_pump.switch_b.set_available(True)
        await advance(hass, freezer, TO_THE_END, step=COARSE)
    else:
        heat_pump.switch_b.set_available(True)
        await hass.config_entries.async_remove(entry.entry_id)
        await settle(hass)
    assert power(heat_pump) == [True, True]
    assert notification_id not in notifications


async def test_disabling_with_the_thermostat_away_records_it_was_not_put_back(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Issue 11 item 19: disabled mid-discharge with the thermostat gone: `cancelled`, thermostat not back."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=COARSE)
    heat_pump.thermostat.set_available(False)
    await hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER)
    await settle(hass)
    assert power(heat_pump) == [True, True]
    last = stored_history(hass_storage, entry)[0]
    assert (last["outcome"], last["detail"]) == ("cancelled", "entry_disabled")
    assert (last["thermostat_restored"], last["thermostat_detail"]) == (
        False,
        "thermostat_did_not_return",
    )


async def test_breaker_turned_on_while_the_next_is_cut_ends_the_wait(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """Issue 11 item 5, in one process: breaker a, seen off, turned on while b is cut is power back."""
    heat_pump.switch_b.lag = timedelta(seconds=5)
    await start(hass, entry)
    assert power(heat_pump) == [False, True]
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": heat_pump.switch_a.entity_id},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    heat_pump.switch_b.lag = None  # its off, already sent, still lands 5 s after it was sent
    await advance(hass, freezer, timedelta(seconds=5) + STAGGER + SECOND)
    assert power(heat_pump) == [True, True]
    await advance(hass, freezer, STARTUP + SECOND, step=SECOND * 5)
    assert thermostat_settings(heat_pump) == SAVED
    assert state(hass, OUTCOME).state == "cancelled"
    assert state(hass, OUTCOME).attributes["detail"] == "power_restored_by_hand"


async def test_disabling_mid_restore_leaves_off_the_breaker_a_person_turned_off(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """Issue 11 item 7: the restore of a disabled entry honours a person's off seen during the restore."""
    await start(hass, entry)
    heat_pump.switch_b.refuse = True
    await advance(hass, freezer, DISCHARGE + timedelta(minutes=1), step=COARSE)
    assert power(heat_pump) == [True, False]
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": heat_pump.switch_a.entity_id},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    heat_pump.switch_b.refuse = False
    await hass.config_entries.async_set_disabled_by(entry.entry_id, ConfigEntryDisabler.USER)
    await settle(hass)
    assert power(heat_pump) == [False, True]
    assert heat_pump.switch_a.commands == ["off", "on", "off"]


async def test_cancel_while_starting_after_a_restart_mid_cut_restores_power_at_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    scene: Scene,
) -> None:
    """A run already ended `interrupted` (restarted mid-cut) keeps a later cancel across a restart.

    The first decision (`interrupted`) wins the outcome, but the cancel must still bring power back
    at once after the next restart, as the action promises.
    """
    await hold_cutting_power_partial(scene)
    await restart(hass, freezer, entry, heat_pump)
    assert state(hass, PHASE).state == "discharging"
    await kill(hass, entry)
    freezer.tick(timedelta(minutes=1))
    hass.set_state(CoreState.not_running)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await settle(hass)
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    await kill(hass, entry)
    await boot(hass, freezer, entry, heat_pump, timedelta(minutes=1))
    # Power comes back as soon as Home Assistant runs, not at the deadline about 29 min later.
    await advance(hass, freezer, STAGGER + SECOND)
    assert power(heat_pump) == [True, True]

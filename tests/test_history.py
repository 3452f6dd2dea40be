"""Reset history: records that last, the entities and event that show them, get_history, diagnostics."""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from typing import Any
from unittest.mock import patch
from uuid import UUID

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.heat_pump_reset.const import DOMAIN
from custom_components.heat_pump_reset.diagnostics import async_get_config_entry_diagnostics
from custom_components.heat_pump_reset.history import HISTORY_LIMIT

from .harness.driving import advance, get_history, run_once, settle, start, state, stored_history
from .harness.entity_ids import EVENT, LAST_RESET, OUTCOME, PHASE, RECENT, RUNNING
from .harness.equipment import HeatPump
from .harness.restarts import restart
from .harness.timings import FULL_RUN, T0


@pytest.fixture
def events(hass: HomeAssistant) -> list[tuple[str, dict[str, Any]]]:
    """Record each event the reset event entity fires: its type and attributes."""
    seen: list[tuple[str, dict[str, Any]]] = []

    @callback
    def _listener(event: Event) -> None:
        new = event.data["new_state"]
        if (
            new is not None
            and new.entity_id == EVENT
            and new.state not in ("unknown", "unavailable")
        ):
            seen.append((new.attributes["event_type"], dict(new.attributes)))

    hass.bus.async_listen("state_changed", _listener)
    return seen


async def test_a_finished_run_is_recorded_in_full(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    hass_admin_user: MockUser,
) -> None:
    """The record holds trigger, reason, every phase's start, power off/on, outcome and settings."""
    freezer.move_to(T0)
    run_id = await run_once(
        hass, freezer, entry, Context(user_id=hass_admin_user.id), reason="Outage at 5 am"
    )
    [record] = stored_history(hass_storage, entry)
    assert record["run_id"] == run_id
    assert record["trigger"] == "action"
    assert record["reason"] == "Outage at 5 am"
    assert record["outcome"] == "succeeded"
    assert record["power_cut"] is True
    assert record["discharge_minutes"] == 30
    assert record["switches"] == ["switch.breaker_a", "switch.breaker_b"]
    started = datetime.fromisoformat(record["started_at"])
    off = datetime.fromisoformat(record["power_off_at"])
    on = datetime.fromisoformat(record["power_on_at"])
    assert started == T0
    # Power came back 30 min after the confirmed cut, plus the 10 s stagger for the second breaker.
    assert on - off == timedelta(minutes=30, seconds=10)
    assert list(record["phases"]) == [
        "stopping_thermostat",
        "cutting_power",
        "discharging",
        "restoring_power",
        "starting_up",
        "restoring_thermostat",
        "verifying",
    ]
    assert record["restored_settings"]["hvac_mode"] == "heat"
    assert record["restored_settings"]["temperature"] == 21.0
    assert datetime.fromisoformat(record["finished_at"]) > on
    assert await get_history(hass, entry) == [record]


async def test_running_is_on_during_a_run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Reset running (disabled by default; enabled here as a user would) is on only during a run."""
    assert hass.states.get(RUNNING) is None
    er.async_get(hass).async_update_entity(RUNNING, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, RUNNING).state == "off"
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)
    assert state(hass, RUNNING).state == "on"
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert state(hass, RUNNING).state == "off"
    assert state(hass, OUTCOME).state == "succeeded"


async def test_entities_show_the_history(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    events: list[tuple[str, dict[str, Any]]],
) -> None:
    """Last reset, recent count and the event entity follow each run."""
    assert state(hass, LAST_RESET).state == "unknown"
    assert state(hass, RECENT).state == "0"
    assert state(hass, RECENT).attributes["window_days"] == 30
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id, "reason": "r1"}, blocking=True
    )
    await settle(hass)
    assert [e for e, _ in events] == ["started"]
    assert events[0][1]["reason"] == "r1"
    # No user on the call: an automation, script or blueprint started it.
    assert events[0][1]["trigger"] == "automation"
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert [e for e, _ in events] == ["started", "succeeded"]
    assert events[1][1]["run_id"] == events[0][1]["run_id"]
    assert events[1][1]["detail"] == "verification"
    finished = datetime.fromisoformat(state(hass, OUTCOME).attributes["finished_at"])
    # A timestamp sensor shows whole seconds.
    assert state(hass, LAST_RESET).state == finished.replace(microsecond=0).isoformat()
    assert state(hass, RECENT).state == "1"


async def test_recent_resets_leave_the_window(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """The count drops by itself when a reset becomes 30 days old; runs before the cut never count."""
    freezer.move_to(T0)
    await run_once(hass, freezer, entry)
    freezer.move_to(T0 + timedelta(days=10))
    await run_once(hass, freezer, entry)
    # A run that fails before the cut is history but not a reset.
    heat_pump.thermostat.refuse_modes = {"off"}
    await hass.services.async_call(
        DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=10))
    assert state(hass, OUTCOME).state == "failed"
    assert state(hass, RECENT).state == "2"

    freezer.move_to(T0 + timedelta(days=30) - timedelta(seconds=1))
    async_fire_time_changed(hass)
    await settle(hass)
    assert state(hass, RECENT).state == "2"
    freezer.move_to(T0 + timedelta(days=30, seconds=1))
    async_fire_time_changed(hass)
    await settle(hass)
    assert state(hass, RECENT).state == "1"
    freezer.move_to(T0 + timedelta(days=40, seconds=1))
    async_fire_time_changed(hass)
    await settle(hass)
    assert state(hass, RECENT).state == "0"


async def test_history_survives_a_restart_and_is_bounded(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A full history keeps the newest 200 runs, newest first, across a reload of the entry."""
    old = [
        {
            "run_id": f"old{i:03d}",
            "outcome": "succeeded",
            "started_at": (T0 - timedelta(days=400 - i)).isoformat(),
            "finished_at": (T0 - timedelta(days=400 - i)).isoformat(),
            "power_cut": True,
        }
        for i in range(HISTORY_LIMIT)
    ]
    hass_storage[f"{DOMAIN}.history.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.history.{entry.entry_id}",
        "data": {"runs": list(reversed(old)), "acknowledged": {}},
    }
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert state(hass, LAST_RESET).state == (T0 - timedelta(days=201)).isoformat()

    freezer.move_to(T0)
    run_id = await run_once(hass, freezer, entry)
    runs = stored_history(hass_storage, entry)
    assert len(runs) == HISTORY_LIMIT
    assert runs[0]["run_id"] == run_id
    assert runs[1]["run_id"] == "old199"
    assert runs[-1]["run_id"] == "old001"

    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert [r["run_id"] for r in await get_history(hass, entry, limit=3)] == [
        run_id,
        "old199",
        "old198",
    ]
    assert state(hass, OUTCOME).attributes["run_id"] == run_id


async def test_summary_from_before_the_history_is_migrated(
    hass: HomeAssistant, heat_pump: HeatPump, hass_storage: dict[str, Any], options: dict[str, Any]
) -> None:
    """A run file that only kept the last run's summary starts the history with that run."""

    config_entry = MockConfigEntry(domain=DOMAIN, title="Heat pump", options=options)
    hass_storage[f"{DOMAIN}.run.{config_entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.run.{config_entry.entry_id}",
        "data": {
            "active": None,
            "last": {
                "run_id": "before",
                "outcome": "no_start",
                "finished_at": T0.isoformat(),
                "detail": "verification",
            },
        },
    }
    assert await async_setup_component(hass, "persistent_notification", {})
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await settle(hass)
    assert state(hass, OUTCOME).state == "no_start"
    assert state(hass, LAST_RESET).state == T0.isoformat()
    [record] = stored_history(hass_storage, config_entry)
    assert (record["run_id"], record["outcome"], record["detail"]) == (
        "before",
        "no_start",
        "verification",
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"config_entry_id": "nope"}, ServiceValidationError),
        ({"limit": 0}, Exception),
        ({"limit": 201}, Exception),
        ({"limit": "many"}, Exception),
    ],
)
async def test_get_history_refuses_bad_input(
    hass: HomeAssistant,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    data: dict[str, Any],
    error: type[Exception],
) -> None:
    """Unknown heat pumps and limits outside 1-200 are refused."""
    with pytest.raises(error):
        await hass.services.async_call(
            DOMAIN,
            "get_history",
            {"config_entry_id": entry.entry_id, **data},
            blocking=True,
            return_response=True,
        )


async def test_get_history_needs_a_response(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """get_history only answers: called without wanting the response, HA refuses the call."""
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            DOMAIN, "get_history", {"config_entry_id": entry.entry_id}, blocking=True
        )


async def test_diagnostics(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics show the options, the active run, recent runs and the wrapped entities."""
    freezer.move_to(T0)
    ids = iter(UUID(int=n) for n in range(1, 10))
    with patch("custom_components.heat_pump_reset.admission.uuid4", lambda: next(ids)):
        await run_once(hass, freezer, entry, reason="first")
        await hass.services.async_call(
            DOMAIN, "start_reset", {"config_entry_id": entry.entry_id}, blocking=True
        )
        await advance(hass, freezer, timedelta(minutes=10), step=timedelta(seconds=10))
    assert state(hass, PHASE).state == "discharging"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    # What the diagnostics download holds: plain JSON.
    assert json.loads(json.dumps(diagnostics)) == snapshot


# --- Stored history this release cannot read (issue 11, item 18) -------------------------------

GOOD_RECORD: dict[str, Any] = {
    "run_id": "good",
    "outcome": "succeeded",
    "started_at": (T0 - timedelta(days=2)).isoformat(),
    "finished_at": (T0 - timedelta(days=2, minutes=-40)).isoformat(),
    "power_cut": True,
    "detail": "verification",
}
# (records, newest first, and acknowledgements) another release, or damage, left behind.
BAD_HISTORY: dict[str, tuple[list[Any], dict[str, Any]]] = {
    "unknown_outcome": ([{**GOOD_RECORD, "run_id": "bad", "outcome": "exploded"}], {}),
    "naive_time": ([{**GOOD_RECORD, "run_id": "bad", "started_at": "2026-01-15T05:00:00"}], {}),
    "unparsable_time": ([{**GOOD_RECORD, "run_id": "bad", "finished_at": "yesterday"}], {}),
    "no_run_id": ([{k: v for k, v in GOOD_RECORD.items() if k != "run_id"}], {}),
    "not_a_record": (["garbage"], {}),
    "power_cut_not_a_flag": ([{**GOOD_RECORD, "run_id": "bad", "power_cut": "yes"}], {}),
    "naive_acknowledgement": ([], {"recurring_resets": "2026-01-15T05:00:00"}),
}


@pytest.mark.parametrize("how", ["restart", "reload"])
@pytest.mark.parametrize("bad", list(BAD_HISTORY))
async def test_unreadable_history_records_are_set_aside(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    bad: str,
    how: str,
) -> None:
    """Bad records beside a run in the discharge wait: the entry loads, the run restores power on time.

    The bad records are set aside (diagnostics show them), the sensors show the readable ones, and
    the next reset starts as usual.
    """
    freezer.move_to(T0)
    run_id = await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(seconds=30))
    records, acknowledged = BAD_HISTORY[bad]
    key = f"{DOMAIN}.history.{entry.entry_id}"
    hass_storage[key] = {
        "version": 1,
        "minor_version": 1,
        "key": key,
        "data": {"runs": [*records, GOOD_RECORD], "acknowledged": acknowledged},
    }
    if how == "restart":
        await restart(hass, freezer, entry, heat_pump, downtime=timedelta(minutes=1))
    else:
        assert await hass.config_entries.async_reload(entry.entry_id)
        await settle(hass)
    assert entry.state is ConfigEntryState.LOADED
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, OUTCOME).state == "succeeded"
    assert state(hass, OUTCOME).attributes["run_id"] == "good"
    # The good record and the run in its wait (it cut power); the bad records count for nothing.
    assert state(hass, RECENT).state == "2"
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert [u["content"] for u in diagnostics["unreadable"]] == (
        records + ([acknowledged] if acknowledged else [])
    )

    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert state(hass, OUTCOME).state == "succeeded"
    assert state(hass, OUTCOME).attributes["run_id"] == run_id
    assert state(hass, LAST_RESET).state != "unknown"
    assert state(hass, RECENT).state == "2"
    assert [r["run_id"] for r in stored_history(hass_storage, entry)] == [run_id, "good"]
    # No run stays registered: the next one starts.
    await run_once(hass, freezer, entry)


async def test_history_of_a_newer_release_does_not_stop_set_up(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """A history file a newer release wrote (after a downgrade): the entry loads, the file is kept."""
    key = f"{DOMAIN}.history.{entry.entry_id}"
    newer = {"resets": [{"id": "from-the-future"}]}
    hass_storage[key] = {"version": 2, "minor_version": 1, "key": key, "data": newer}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert entry.state is ConfigEntryState.LOADED
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    [kept] = diagnostics["unreadable"]
    assert (kept["what"], kept["content"]["version"], kept["content"]["data"]) == (
        "history",
        2,
        newer,
    )
    run_id = await run_once(hass, freezer, entry)
    assert [r["run_id"] for r in stored_history(hass_storage, entry)] == [run_id]


@pytest.mark.parametrize("data", [["garbage"], {"runs": "garbage", "acknowledged": {}}])
async def test_history_file_of_another_shape_does_not_stop_set_up(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    data: Any,
) -> None:
    """A history file whose data is no history: the entry loads, the data is kept, runs go on."""
    key = f"{DOMAIN}.history.{entry.entry_id}"
    hass_storage[key] = {"version": 1, "minor_version": 2, "key": key, "data": data}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert entry.state is ConfigEntryState.LOADED
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert [u["what"] for u in diagnostics["unreadable"]] == ["history"]
    run_id = await run_once(hass, freezer, entry)
    assert [r["run_id"] for r in stored_history(hass_storage, entry)] == [run_id]


async def test_a_failing_entity_never_stops_a_run(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """An entity (or event listener) that raises on every update: the run still ends with power on."""

    @callback
    def _broken(*_args: Any) -> None:
        raise ValueError("this entity cannot show that")

    controller = entry.runtime_data
    controller.async_add_listener(_broken)
    controller.async_add_event_listener(_broken)
    run_id = await run_once(hass, freezer, entry)
    assert [s.is_on for s in heat_pump.switches] == [True, True]
    assert controller.run is None
    assert controller.last is not None
    assert (controller.last["run_id"], controller.last["outcome"]) == (run_id, "succeeded")

"""Fixtures: a test HA with a fake heat pump (thermostat, two breakers, power sensor) and our entry."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import timedelta
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlow
from homeassistant.const import Platform
from homeassistant.core import Context, HomeAssistant, State, callback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    async_fire_time_changed,
    mock_config_flow,
    mock_integration,
    mock_platform,
    setup_test_component_platform,
)

# Import our package before the test plugin mounts its own `custom_components` (see DEVELOPERS.md).
import custom_components.heat_pump_reset  # noqa: F401
from custom_components.heat_pump_reset.config_flow import DEFAULT_OPTIONS, OPTION_SECTIONS
from custom_components.heat_pump_reset.const import (
    CONF_POWER_SENSOR,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
    ENTRY_MINOR_VERSION,
)
from custom_components.heat_pump_reset.sequence import Run
from custom_components.heat_pump_reset.storage import RunStore

from .fakes import FakeSwitch, FakeThermostat

THERMOSTAT = "climate.living_room"
SWITCH_A = "switch.breaker_a"
SWITCH_B = "switch.breaker_b"
SENSOR = "sensor.heat_pump_power"


def set_power(
    hass: HomeAssistant, reading: str, unit: str | None = "W", entity_id: str = SENSOR
) -> None:
    """Set the power (or current) sensor's reading, in `unit` (None: a sensor without a unit)."""
    hass.states.async_set(entity_id, reading, {} if unit is None else {"unit_of_measurement": unit})


def sectioned(values: dict[str, Any]) -> dict[str, Any]:
    """Return flat option values as the options form submits them: in its sections."""
    nested: dict[str, dict[str, Any]] = {name: {} for name in OPTION_SECTIONS}
    for key, value in values.items():
        name = next(name for name, keys in OPTION_SECTIONS.items() if key in keys)
        nested[name][key] = value
    return nested


def form_fields_flat(result: dict[str, Any]) -> dict[str, Any]:
    """Return an options form's fields, by name, with the sections opened: {name: (marker, validator)}."""
    fields: dict[str, Any] = {}
    for marker, validator in result["data_schema"].schema.items():
        inner = getattr(validator, "schema", None)
        if inner is not None and hasattr(inner, "schema"):
            for inner_marker, inner_validator in inner.schema.items():
                fields[str(inner_marker)] = (inner_marker, inner_validator)
        else:
            fields[str(marker)] = (marker, validator)
    return fields


# Scenarios the fault matrix (tests/test_fault_matrix.py) ran and the invariant violations it saw.
FAULT_MATRIX: dict[str, int] = {"scenarios": 0, "violations": 0}
# Violations per (fault, phase) of the matrix; None: the scenario stopped before it was checked.
FAULT_MATRIX_CELLS: dict[tuple[str, str], int | None] = {}


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault matrix's summary line when it ran; write its table when asked to."""
    if FAULT_MATRIX["scenarios"]:
        terminalreporter.write_line(
            f"fault matrix: {FAULT_MATRIX['scenarios']} scenarios run, "
            f"{FAULT_MATRIX['violations']} invariant violations"
        )
    if (path := os.environ.get("HPR_FAULT_TABLE")) and FAULT_MATRIX_CELLS:
        Path(path).write_text(_fault_table(), encoding="utf-8")
        terminalreporter.write_line(f"fault matrix: table written to {path}")


def _fault_table() -> str:
    """Return the matrix as Markdown: a row per fault, a column per phase; held, or what broke."""
    faults = list(dict.fromkeys(fault for fault, _ in FAULT_MATRIX_CELLS))
    points = list(dict.fromkeys(point for _, point in FAULT_MATRIX_CELLS))

    def cell(key: tuple[str, str]) -> str:
        if key not in FAULT_MATRIX_CELLS:
            return "-"
        found = FAULT_MATRIX_CELLS[key]
        return "not checked" if found is None else ("held" if found == 0 else f"{found} broken")

    lines = [
        "| fault | " + " | ".join(f"`{p}`" for p in points) + " |",
        "| --- |" + " :-: |" * len(points),
    ]
    lines += [
        f"| {fault} | " + " | ".join(cell((fault, p)) for p in points) + " |" for fault in faults
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load our integration from custom_components."""


@dataclass
class HeatPump:
    """The fake equipment of one heat pump."""

    thermostat: FakeThermostat
    switch_a: FakeSwitch
    switch_b: FakeSwitch

    @property
    def switches(self) -> list[FakeSwitch]:
        """Both breakers, in cut order."""
        return [self.switch_a, self.switch_b]


class _SourceFlow(ConfigFlow):
    """The config flow of the test integration that owns the fake equipment."""

    VERSION = 1


@pytest.fixture
def source_flow() -> Generator[None]:
    """Register the test integration's flow handler."""
    with mock_config_flow("test", _SourceFlow):
        yield


@pytest.fixture
async def heat_pump(hass: HomeAssistant, source_flow: None) -> HeatPump:
    """Set up a thermostat and two breakers on a test integration with a device."""
    pump = HeatPump(FakeThermostat(), FakeSwitch("a"), FakeSwitch("b"))

    async def _setup_entry(hass: HomeAssistant, config_entry: ConfigEntry) -> bool:
        await hass.config_entries.async_forward_entry_setups(
            config_entry, [Platform.CLIMATE, Platform.SWITCH]
        )
        return True

    mock_integration(hass, MockModule("test", async_setup_entry=_setup_entry))
    mock_platform(hass, "test.config_flow", None)
    setup_test_component_platform(hass, Platform.CLIMATE, [pump.thermostat], from_config_entry=True)
    setup_test_component_platform(hass, Platform.SWITCH, pump.switches, from_config_entry=True)
    source = MockConfigEntry(domain="test")
    source.add_to_hass(hass)
    assert await hass.config_entries.async_setup(source.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(THERMOSTAT) is not None
    assert hass.states.get(SWITCH_B) is not None
    return pump


@pytest.fixture
def options(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The entry's options; `indirect` parametrization merges overrides into them."""
    return {
        **DEFAULT_OPTIONS,
        CONF_THERMOSTAT: THERMOSTAT,
        CONF_SWITCHES: [SWITCH_A, SWITCH_B],
        CONF_POWER_SENSOR: None,
        **getattr(request, "param", {}),
    }


@pytest.fixture
async def entry(hass: HomeAssistant, heat_pump: HeatPump, options: dict[str, Any]) -> ConfigEntry:
    """Add and load our entry for the fake heat pump."""
    assert await async_setup_component(hass, "persistent_notification", {})
    config_entry = MockConfigEntry(
        domain=DOMAIN,
        title="Heat pump",
        data={},
        options=options,
        unique_id=THERMOSTAT,
        minor_version=ENTRY_MINOR_VERSION,
    )
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    return config_entry


# Loop turns a run needs between two waits (state write, store save, service call, confirmation).
SETTLE_ROUNDS = 5


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    delta: timedelta,
    step: timedelta = timedelta(seconds=1),
) -> None:
    """Move simulated time forward in small steps, letting each due timer and task run."""
    remaining = delta
    while remaining > timedelta(0):
        tick = min(step, remaining)
        freezer.tick(tick)
        async_fire_time_changed(hass)
        await settle(hass)
        remaining -= tick


async def settle(hass: HomeAssistant) -> None:
    """Let the run's background task catch up: block_till_done does not wait for background tasks."""
    for _ in range(SETTLE_ROUNDS):
        await hass.async_block_till_done()
        await asyncio.sleep(0)


def stored_history(hass_storage: dict[str, Any], entry: ConfigEntry) -> list[dict[str, Any]]:
    """Return the entry's finished runs as written to 'disk', newest first."""
    stored = hass_storage.get(f"{DOMAIN}.history.{entry.entry_id}")
    runs: list[dict[str, Any]] = stored["data"]["runs"] if stored else []
    return runs


def state(hass: HomeAssistant, entity_id: str) -> State:
    """Return an entity's state, failing clearly when it does not exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current


@pytest.fixture
def phases(hass: HomeAssistant) -> Generator[list[tuple[str, Any]]]:
    """Record every phase the phase sensor shows, with the simulated time it showed it."""
    seen: list[tuple[str, Any]] = []

    # A callback runs in the event loop in event order; a plain function would run in a worker
    # thread, and the recorded order would depend on thread scheduling.
    @callback
    def _listener(event: Any) -> None:
        new = event.data["new_state"]
        if new is not None and new.entity_id == PHASE and (not seen or seen[-1][0] != new.state):
            seen.append((new.state, new.last_changed))

    unsub = hass.bus.async_listen("state_changed", _listener)
    yield seen
    unsub()


PHASE = "sensor.living_room_reset_phase"
ENDS_AT = "sensor.living_room_reset_phase_ends"
OUTCOME = "sensor.living_room_last_reset_outcome"
BUTTON = "button.living_room_reset_heat_pump"


@pytest.fixture
def notifications(hass: HomeAssistant, entry: ConfigEntry) -> Generator[dict[str, Any]]:
    """Follow the persistent notifications that exist, by id."""
    current: dict[str, Any] = {}

    @callback
    def _updated(update_type: Any, changed: dict[str, Any]) -> None:
        if update_type == persistent_notification.UpdateType.REMOVED:
            for notification_id in changed:
                current.pop(notification_id, None)
        else:
            current.update(changed)

    unsub = persistent_notification.async_register_callback(hass, _updated)
    yield current
    unsub()


# The fake thermostat's settings before any run (see tests/fakes.py).
SAVED: dict[str, Any] = {
    "hvac_mode": "heat",
    "target_temperature": 21.0,
    "target_temperature_low": 19.0,
    "target_temperature_high": 24.0,
    "fan_mode": "low",
    "preset_mode": "comfort",
    "swing_mode": "vertical",
}


def thermostat_settings(pump: HeatPump) -> dict[str, Any]:
    """Return the fake thermostat's current settings, keyed like SAVED."""
    climate = pump.thermostat
    return {
        "hvac_mode": climate.hvac_mode,
        "target_temperature": climate.target_temperature,
        "target_temperature_low": climate.target_temperature_low,
        "target_temperature_high": climate.target_temperature_high,
        "fan_mode": climate.fan_mode,
        "preset_mode": climate.preset_mode,
        "swing_mode": climate.swing_mode,
    }


def touched(pump: HeatPump) -> tuple[list[Any], list[str], list[str]]:
    """Return every command the equipment received so far."""
    return (
        list(pump.thermostat.calls),
        list(pump.switch_a.commands),
        list(pump.switch_b.commands),
    )


def store_key(entry: ConfigEntry) -> str:
    """Return the store key of the entry's active run."""
    return f"{DOMAIN}.run.{entry.entry_id}"


async def start(
    hass: HomeAssistant, entry: ConfigEntry, context: Context | None = None, **data: Any
) -> str:
    """Start a reset through the action, let it run until its first wait and return its id."""
    response = await hass.services.async_call(
        DOMAIN,
        "start_reset",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
        context=context,
    )
    await settle(hass)
    assert response is not None
    return str(response["run_id"])


async def cancel(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Cancel the running reset through the action and let the run react."""
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)


# Arms a simulated death of the process right after the store write a predicate picks.
Die = Callable[[Callable[[Run], bool]], None]


@pytest.fixture
def die_after_save(monkeypatch: pytest.MonkeyPatch) -> Die:
    """Make the run stop for good right after the store write that matches: the process died there."""
    original = RunStore.async_save_active
    matchers: list[Callable[[Run], bool]] = []

    async def _save(self: RunStore, run: Run) -> None:
        await original(self, run)
        if matchers and matchers[0](run):
            matchers.clear()
            # Never set: the run hangs here until the entry unloads and cancels it.
            await asyncio.Event().wait()

    monkeypatch.setattr(RunStore, "async_save_active", _save)
    return matchers.append


# The default timings (config_flow.DEFAULT_OPTIONS) as the tests expect them, and time steps.
DISCHARGE = timedelta(minutes=30)
STAGGER = timedelta(seconds=10)
STARTUP = timedelta(minutes=5)
VERIFY = timedelta(minutes=15)
SWITCH_TIMEOUT = timedelta(seconds=30)
STOP_TIMEOUT = timedelta(seconds=120)
THERMOSTAT_RETURN = timedelta(minutes=60)
SECOND = timedelta(seconds=1)
COARSE = timedelta(seconds=30)
# A whole run with the default timings: discharge, stagger, start-up and a little verifying.
FULL_RUN = timedelta(minutes=37)
# Long enough for any resumed run to end, verification window included.
TO_THE_END = DISCHARGE + STARTUP + VERIFY + timedelta(minutes=5)

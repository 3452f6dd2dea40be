"""Fixtures: a test HA with a fake heat pump (thermostat, two breakers, power sensor) and our entry.

Only fixtures and pytest hooks live here; the helpers the tests share are in tests/harness/.
"""

from __future__ import annotations

from collections.abc import Generator
import os
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlow
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    mock_config_flow,
    mock_integration,
    mock_platform,
    setup_test_component_platform,
)

# Import our package before the test plugin mounts its own `custom_components` (see DEVELOPERS.md).
import custom_components.heat_pump_reset  # noqa: F401
from custom_components.heat_pump_reset.const import (
    CONF_POWER_SENSOR,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
    ENTRY_MINOR_VERSION,
)
from custom_components.heat_pump_reset.run import Run
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS
from custom_components.heat_pump_reset.storage import RunStore

from .fakes import FakeSwitch, FakeThermostat
from .harness.entity_ids import PHASE, SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import HeatPump
from .harness.fault_tally import FAULT_MATRIX, FAULT_MATRIX_CELLS, fault_table
from .harness.holding import Die, Scene, StorePause


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault matrix's summary line when it ran; write its table when asked to."""
    if FAULT_MATRIX["scenarios"]:
        terminalreporter.write_line(
            f"fault matrix: {FAULT_MATRIX['scenarios']} scenarios run, "
            f"{FAULT_MATRIX['violations']} invariant violations"
        )
    if (path := os.environ.get("HPR_FAULT_TABLE")) and FAULT_MATRIX_CELLS:
        Path(path).write_text(fault_table(), encoding="utf-8")
        terminalreporter.write_line(f"fault matrix: table written to {path}")


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let HA load our integration from custom_components."""


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


@pytest.fixture
def store_pause(monkeypatch: pytest.MonkeyPatch) -> StorePause:
    """Patch the run store so a run can be stopped right after a write, or its writes fail."""
    original = RunStore.async_save_active
    pause = StorePause()

    async def _save(self: RunStore, run: Run) -> None:
        if pause.full:
            raise OSError(28, "No space left on device")
        await original(self, run)
        if pause.match is not None and pause.match(run):
            pause.match = None
            pause.reached.set()
            await pause.release.wait()

    monkeypatch.setattr(RunStore, "async_save_active", _save)
    return pause


@pytest.fixture
def die_after_save(store_pause: StorePause) -> Die:
    """Make the run stop for good right after the store write that matches: the process died there."""
    return store_pause.stop_after


@pytest.fixture
def scene(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    store_pause: StorePause,
) -> Scene:
    """Bundle the fixtures the holds use."""
    return Scene(hass, freezer, heat_pump, entry, hass_storage, store_pause)

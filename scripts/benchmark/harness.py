"""One Home Assistant core with N simulated heat pumps: what every scenario shares (`Bench`)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import Context, CoreState, HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    MockUser,
    async_test_home_assistant,
    mock_integration,
    mock_platform,
)

from custom_components.heat_pump_reset import const
from custom_components.heat_pump_reset.const import (
    CONF_POWER_SENSOR,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)
from custom_components.heat_pump_reset.settings import DEFAULT_OPTIONS

from .clock import Clock, wall
from .fleet import SIM, Pump
from .instruments import LogCapture, LoopProbe, StoreCounter


@dataclass
class Bench:
    """What every scenario shares."""

    short: bool
    config_root: Path
    probe: LoopProbe
    logs: LogCapture
    stores: StoreCounter
    freezer: Any
    clock: Clock | None = None
    results: dict[str, Any] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def hass(
        self, name: str, *, state: CoreState = CoreState.running
    ) -> Any:  # AsyncIterator[HomeAssistant]
        """Yield a fresh Home Assistant core with its own config folder (kept for a restart)."""
        config_dir = self.config_root / name
        config_dir.mkdir(exist_ok=True)
        async with async_test_home_assistant(
            config_dir=str(config_dir), initial_state=state
        ) as hass:
            # Our integration is a custom one: let the loader find it (the test plugin's switch).
            hass.data.pop("custom_components", None)
            if self.clock is None:
                self.clock = Clock(hass.loop, self.freezer)
            try:
                yield hass
            finally:
                await hass.async_stop(force=True)

    async def add_equipment(self, hass: HomeAssistant, pumps: list[Pump]) -> None:
        """Set up the simulated thermostats and breakers, as entities of a config entry."""

        async def _setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
            await hass.config_entries.async_forward_entry_setups(
                entry, [Platform.CLIMATE, Platform.SWITCH]
            )
            return True

        def _platform(entities: list[Any]) -> MockPlatform:
            async def _add(
                hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback
            ) -> None:
                add(entities)

            return MockPlatform(async_setup_entry=_add)

        mock_integration(hass, MockModule(SIM, async_setup_entry=_setup_entry))
        mock_platform(hass, f"{SIM}.config_flow", None)
        mock_platform(hass, f"{SIM}.climate", _platform([p.thermostat for p in pumps]))
        mock_platform(hass, f"{SIM}.switch", _platform([s for p in pumps for s in p.switches]))
        source = MockConfigEntry(domain=SIM)
        source.add_to_hass(hass)
        assert await hass.config_entries.async_setup(source.entry_id)
        await hass.async_block_till_done()
        assert await async_setup_component(hass, "persistent_notification", {})

    @staticmethod
    def add_entries(hass: HomeAssistant, pumps: list[Pump]) -> None:
        """Add (not set up) one heat_pump_reset entry per heat pump, default options."""
        for pump in pumps:
            options = {
                **DEFAULT_OPTIONS,
                CONF_THERMOSTAT: pump.thermostat.entity_id,
                CONF_SWITCHES: [s.entity_id for s in pump.switches],
                CONF_POWER_SENSOR: None,
            }
            pump.entry = MockConfigEntry(
                domain=DOMAIN,
                title=f"HP {pump.index:03d}",
                data={},
                options=options,
                unique_id=pump.thermostat.entity_id,
                entry_id=pump.entry_id,
            )
            pump.entry.add_to_hass(hass)

    @staticmethod
    async def setup_entries(hass: HomeAssistant, pumps: list[Pump]) -> float:
        """Set up the integration with all its entries, as Home Assistant does; return real seconds."""
        start = wall()
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done()
        elapsed = wall() - start
        for pump in pumps:
            assert pump.entry is not None
            assert pump.entry.state is ConfigEntryState.LOADED, pump.entry.state
        return elapsed

    async def start_all(self, hass: HomeAssistant, pumps: list[Pump]) -> None:
        """Start a reset on every heat pump at once, each call in its own task (as a person would)."""
        loop = asyncio.get_running_loop()
        # force: one heat pump runs many times a simulated day, over the daily limit; only a call
        # with a user (a person) may force, so the calls carry the owner's.
        person = Context(user_id=MockUser(is_owner=True).add_to_hass(hass).id)
        calls = [
            loop.create_task(
                hass.services.async_call(
                    DOMAIN,
                    const.SERVICE_START_RESET,
                    {const.ATTR_CONFIG_ENTRY_ID: p.entry_id, "reason": "bench", "force": True},
                    blocking=True,
                    context=person,
                )
            )
            for p in pumps
        ]
        await asyncio.gather(*calls)

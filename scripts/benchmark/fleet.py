"""The simulated heat pumps: the test fakes (tests/fakes.py) with the latencies of real equipment.

A heat pump is a thermostat and two breakers (outdoor unit, air handler). The breakers are the
tests' `FakeSwitch` with its `lag`; the thermostat is the tests' `FakeThermostat` whose settings land
a moment after the command and whose compressor runs down after "off" and starts a while after "heat"
(through the fake's `stuck_action`). The bench also notes when each switch command was sent, on the
simulated and on the real clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.climate.const import ClimateEntityFeature, HVACAction, HVACMode
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import ATTR_TEMPERATURE
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util

from tests.fakes import FakeSwitch, FakeThermostat

from .clock import wall

SIM = "sim"  # the made-up integration that owns the simulated equipment


@dataclass(frozen=True)
class Latency:
    """How long the simulated equipment takes to report what it was told (simulated seconds)."""

    thermostat_command: float = 1.0  # a thermostat setting shows in its state
    compressor_rundown: float = 20.0  # the unit stops heating, counted from the "off" command
    compressor_start: float = 30.0  # the unit starts heating once the mode is back to heat
    switch: float = 2.0  # a breaker reports its new state


LATENCY = Latency()


@dataclass
class Command:
    """A command a simulated device received."""

    value: str
    sim: datetime
    real: float


class SimSwitch(FakeSwitch):
    """A breaker (the tests' fake) that reports its new state `LATENCY.switch` after a command."""

    def __init__(self, pump: int, key: str, *, is_on: bool = True) -> None:
        """Create breaker `key` of heat pump `pump`."""
        super().__init__(f"hp_{pump:03d}_{key}")
        self.entity_id = f"switch.hp_{pump:03d}_{key}"
        self._attr_unique_id = f"sim_hp_{pump:03d}_{key}"
        self._attr_name = f"HP {pump:03d} {key}"
        self._attr_is_on = is_on
        self.history = [is_on]
        self.lag = timedelta(seconds=LATENCY.switch)
        self.sent: list[Command] = []  # every command, with when it was sent

    async def _command(self, is_on: bool) -> None:
        self.sent.append(Command("on" if is_on else "off", dt_util.utcnow(), wall()))
        await super()._command(is_on)


class SimThermostat(FakeThermostat):
    """A heat pump thermostat (the tests' fake) whose settings and compressor follow commands late.

    The bench's thermostat offers what most do (a set point, fan modes, off/heat/cool), not the
    fake's whole range, so each run saves and restores the same settings as before.
    """

    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.FAN_MODE
        | ClimateEntityFeature.TURN_OFF
        | ClimateEntityFeature.TURN_ON
    )

    def __init__(self, pump: int, *, mode: HVACMode = HVACMode.HEAT) -> None:
        """Create the thermostat of heat pump `pump`, heating a cold room (18 °C, set to 21)."""
        super().__init__()
        self.entity_id = f"climate.hp_{pump:03d}"
        self._attr_unique_id = f"sim_hp_{pump:03d}_thermostat"
        self._attr_name = f"HP {pump:03d}"
        self._attr_device_info = DeviceInfo(
            identifiers={(SIM, f"hp_{pump:03d}")}, name=f"HP {pump:03d}"
        )
        self._attr_hvac_modes = [HVACMode.OFF, HVACMode.HEAT, HVACMode.COOL]
        self._attr_hvac_mode = mode

    def _later(self, delay: float, change: Callable[[], None]) -> None:
        @callback
        def _apply(_now: datetime) -> None:
            change()
            self.async_write_ha_state()

        async_call_later(self.hass, delay, _apply)

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Change mode; the compressor follows (stops after its rundown, starts after a delay)."""
        self._check("hvac_mode", hvac_mode)

        def _mode() -> None:
            if hvac_mode == HVACMode.HEAT and self.stuck_action is None:
                # Not heating yet: the compressor starts `compressor_start` later.
                self.stuck_action = HVACAction.IDLE
                self._later(LATENCY.compressor_start, self._compressor_follows)
            elif hvac_mode == HVACMode.OFF and self.stuck_action is HVACAction.IDLE:
                self.stuck_action = None  # it had not started yet
            self._attr_hvac_mode = hvac_mode

        if hvac_mode == HVACMode.OFF and self.hvac_action is HVACAction.HEATING:
            # Still heating until the compressor has run down.
            self.stuck_action = HVACAction.HEATING
            self._later(LATENCY.compressor_rundown, self._compressor_follows)
        self._later(LATENCY.thermostat_command, _mode)

    def _compressor_follows(self) -> None:
        """Let the compressor do what the mode asks (the fake's own model of the unit)."""
        self.stuck_action = None

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Change the set point."""
        self._check("temperature", kwargs)
        value = kwargs.get(ATTR_TEMPERATURE)
        if value is not None:
            self._later(
                LATENCY.thermostat_command,
                lambda: setattr(self, "_attr_target_temperature", value),
            )

    async def async_set_fan_mode(self, fan_mode: str) -> None:
        """Change the fan mode."""
        self._check("fan_mode", fan_mode)
        self._later(LATENCY.thermostat_command, lambda: setattr(self, "_attr_fan_mode", fan_mode))


@dataclass
class Pump:
    """One simulated heat pump: a thermostat and two breakers (outdoor unit, air handler)."""

    index: int
    thermostat: SimThermostat
    switches: list[SimSwitch]
    entry: ConfigEntry | None = None

    @property
    def entry_id(self) -> str:
        """The id of its heat_pump_reset entry (fixed, so a restarted core finds the same files)."""
        return f"bench{self.index:05d}"


def make_pumps(count: int, *, power_cut: bool = False) -> list[Pump]:
    """Return `count` heat pumps; `power_cut`: as a restart finds them mid-run (all off)."""
    return [
        Pump(
            i,
            SimThermostat(i, mode=HVACMode.OFF if power_cut else HVACMode.HEAT),
            [SimSwitch(i, key, is_on=not power_cut) for key in ("outdoor", "indoor")],
        )
        for i in range(count)
    ]


class _SimFlow(ConfigFlow):
    """Config flow of the made-up integration that owns the simulated equipment."""

    VERSION = 1


def controller(pump: Pump) -> Any:
    """Return the entry's ResetController."""
    assert pump.entry is not None
    return pump.entry.runtime_data

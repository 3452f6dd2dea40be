"""The fake heat pump (tests/fakes.py) as one bundle, and reading its settings and commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes import FakeSwitch, FakeThermostat


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


def power(pump: HeatPump) -> list[bool]:
    """Return whether each breaker is on, in cut order."""
    return [bool(s.is_on) for s in pump.switches]

"""Small stand-ins for a heat pump's thermostat and power switches, with faults to inject."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.climate import ClimateEntity
from homeassistant.components.climate.const import (
    ClimateEntityFeature,
    HVACAction,
    HVACMode,
)
from homeassistant.components.switch import SwitchEntity
from homeassistant.const import ATTR_TEMPERATURE, UnitOfTemperature
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.event import async_call_later


class FakeSwitch(SwitchEntity):
    """A relay or smart breaker; `refuse` ignores commands, `fail` raises, `lag` applies them late."""

    _attr_should_poll = False

    def __init__(self, key: str) -> None:
        self._attr_unique_id = f"fake_switch_{key}"
        self._attr_name = f"Breaker {key}"
        self._attr_is_on = True
        self.refuse = False
        self.fail = False
        # Commands take effect this long after they were sent, in the order sent (a slow radio
        # queue); the call returns at once, as a fire-and-forget integration's does.
        self.lag: timedelta | None = None
        self.commands: list[str] = []
        # Every state the switch has reported, starting with the first.
        self.history: list[bool] = [True]

    def set_available(self, available: bool) -> None:
        """Make the switch (un)available, as a device dropping off the network."""
        self._attr_available = available
        self.async_write_ha_state()

    def set_on(self, is_on: bool) -> None:
        """Change the state as if by the device itself."""
        if is_on != self._attr_is_on:
            self.history.append(is_on)
        self._attr_is_on = is_on
        self.async_write_ha_state()

    async def _command(self, is_on: bool) -> None:
        self.commands.append("on" if is_on else "off")
        if self.fail:
            raise HomeAssistantError("relay did not answer")
        if self.refuse:
            return
        if self.lag is None:
            self.set_on(is_on)
            return

        @callback
        def _land(_now: datetime) -> None:
            self.set_on(is_on)

        async_call_later(self.hass, self.lag, _land)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the power on."""
        await self._command(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the power off."""
        await self._command(False)


class FakeThermostat(ClimateEntity):
    """A heat pump thermostat; reports heating/cooling from its set points and the room."""

    _attr_should_poll = False
    _attr_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_hvac_modes = [HVACMode.OFF, HVACMode.HEAT, HVACMode.COOL, HVACMode.HEAT_COOL]
    _attr_fan_modes = ["auto", "low", "high"]
    _attr_preset_modes = ["none", "eco", "comfort"]
    _attr_swing_modes = ["off", "vertical"]
    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.TARGET_TEMPERATURE_RANGE
        | ClimateEntityFeature.FAN_MODE
        | ClimateEntityFeature.PRESET_MODE
        | ClimateEntityFeature.SWING_MODE
        | ClimateEntityFeature.TURN_OFF
        | ClimateEntityFeature.TURN_ON
    )
    _enable_turn_on_off_backwards_compatibility = False

    def __init__(self) -> None:
        self._attr_unique_id = "fake_thermostat"
        self._attr_name = "Living room"
        self._attr_device_info = DeviceInfo(
            identifiers={("test", "thermostat")}, name="Living room"
        )
        self._attr_hvac_mode = HVACMode.HEAT
        self._attr_target_temperature = 21.0
        self._attr_target_temperature_low = 19.0
        self._attr_target_temperature_high = 24.0
        self._attr_current_temperature = 18.0
        self._attr_fan_mode = "low"
        self._attr_preset_mode = "comfort"
        self._attr_swing_mode = "vertical"
        self.powered = True
        # Faults: keeps reporting this action whatever the mode; refuses these modes; raises.
        self.stuck_action: HVACAction | None = None
        self.refuse_modes: set[str] = set()
        self.fail = False
        self.calls: list[tuple[str, Any]] = []

    @property
    def hvac_action(self) -> HVACAction:
        """Heat or cool while the room is off target and the unit has power."""
        if self.stuck_action is not None:
            return self.stuck_action
        current = self._attr_current_temperature or 0.0
        if self._attr_hvac_mode == HVACMode.OFF or not self.powered:
            return HVACAction.OFF
        if (
            self._attr_hvac_mode == HVACMode.HEAT
            and current < (self._attr_target_temperature or 0) - 0.3
        ):
            return HVACAction.HEATING
        if (
            self._attr_hvac_mode == HVACMode.COOL
            and current > (self._attr_target_temperature or 0) + 0.3
        ):
            return HVACAction.COOLING
        if self._attr_hvac_mode == HVACMode.HEAT_COOL:
            if current < (self._attr_target_temperature_low or 0) - 0.3:
                return HVACAction.HEATING
            if current > (self._attr_target_temperature_high or 0) + 0.3:
                return HVACAction.COOLING
        return HVACAction.IDLE

    def set_available(self, available: bool) -> None:
        """Make the thermostat (un)available, as when it loses power."""
        self._attr_available = available
        self.async_write_ha_state()

    def set_room(self, temperature: float) -> None:
        """Move the room temperature."""
        self._attr_current_temperature = temperature
        self.async_write_ha_state()

    def _check(self, name: str, value: Any) -> None:
        self.calls.append((name, value))
        if self.fail:
            raise HomeAssistantError("thermostat did not answer")

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Change mode unless refusing it."""
        self._check("hvac_mode", hvac_mode)
        if hvac_mode not in self.refuse_modes:
            self._attr_hvac_mode = hvac_mode
        self.async_write_ha_state()

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Change the set point or range."""
        self._check("temperature", kwargs)
        if ATTR_TEMPERATURE in kwargs:
            self._attr_target_temperature = kwargs[ATTR_TEMPERATURE]
        if "target_temp_low" in kwargs:
            self._attr_target_temperature_low = kwargs["target_temp_low"]
            self._attr_target_temperature_high = kwargs["target_temp_high"]
        self.async_write_ha_state()

    async def async_set_fan_mode(self, fan_mode: str) -> None:
        """Change the fan mode."""
        self._check("fan_mode", fan_mode)
        self._attr_fan_mode = fan_mode
        self.async_write_ha_state()

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Change the preset."""
        self._check("preset_mode", preset_mode)
        self._attr_preset_mode = preset_mode
        self.async_write_ha_state()

    async def async_set_swing_mode(self, swing_mode: str) -> None:
        """Change the swing mode."""
        self._check("swing_mode", swing_mode)
        self._attr_swing_mode = swing_mode
        self.async_write_ha_state()

"""What a thermostat's settings are, how to put them back and how to tell they are back."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components.climate.const import (
    ATTR_FAN_MODE,
    ATTR_HUMIDITY,
    ATTR_HVAC_ACTION,
    ATTR_PRESET_MODE,
    ATTR_SWING_HORIZONTAL_MODE,
    ATTR_SWING_MODE,
    ATTR_TARGET_TEMP_HIGH,
    ATTR_TARGET_TEMP_LOW,
    SERVICE_SET_FAN_MODE,
    SERVICE_SET_HUMIDITY,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_PRESET_MODE,
    SERVICE_SET_SWING_HORIZONTAL_MODE,
    SERVICE_SET_SWING_MODE,
    SERVICE_SET_TEMPERATURE,
    ClimateEntityFeature,
    HVACMode,
)
from homeassistant.const import (
    ATTR_SUPPORTED_FEATURES,
    ATTR_TEMPERATURE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import State

ATTR_HVAC_MODE: Final = "hvac_mode"
ATTR_HVAC_MODES: Final = "hvac_modes"

# Each optional setting: the feature that enables it, its attribute, and the service that sets it.
_OPTIONAL: Final = (
    (ClimateEntityFeature.PRESET_MODE, ATTR_PRESET_MODE, SERVICE_SET_PRESET_MODE),
    (ClimateEntityFeature.FAN_MODE, ATTR_FAN_MODE, SERVICE_SET_FAN_MODE),
    (ClimateEntityFeature.SWING_MODE, ATTR_SWING_MODE, SERVICE_SET_SWING_MODE),
    (
        ClimateEntityFeature.SWING_HORIZONTAL_MODE,
        ATTR_SWING_HORIZONTAL_MODE,
        SERVICE_SET_SWING_HORIZONTAL_MODE,
    ),
    (ClimateEntityFeature.TARGET_HUMIDITY, ATTR_HUMIDITY, SERVICE_SET_HUMIDITY),
)
_FLOAT_TOLERANCE: Final = 0.01
# States of a thermostat that reports no settings.
_GONE: Final = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN})
# Modes whose set point is a low-high range rather than one temperature.
_RANGE_MODES: Final = frozenset({HVACMode.HEAT_COOL, HVACMode.AUTO})

type ServiceCall = tuple[str, dict[str, Any]]


def supports_off(state: State) -> bool:
    """Whether the thermostat offers HVAC mode off."""
    return HVACMode.OFF in (state.attributes.get(ATTR_HVAC_MODES) or ())


def supports_turn_off(state: State | None) -> bool:
    """Whether the thermostat offers `climate.turn_off`."""
    if state is None:
        return False
    features = ClimateEntityFeature(state.attributes.get(ATTR_SUPPORTED_FEATURES, 0))
    return bool(features & ClimateEntityFeature.TURN_OFF)


def changed_settings(old: State | None, new: State) -> dict[str, Any]:
    """Return the settings `new` reports differently from `old` (all of them without `old`)."""
    before = capture(old) if old is not None and old.state not in _GONE else {}
    after = capture(new)
    return {key: value for key, value in after.items() if before.get(key) != value}


def requested(service_data: dict[str, Any], saved: dict[str, Any]) -> dict[str, Any]:
    """Return the saved settings a climate call's data sets (a set_* call names them by attribute)."""
    return {key: value for key, value in service_data.items() if key in saved}


def differing(saved: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    """Return the changed settings whose value is not the saved one."""
    return {
        key: value
        for key, value in changed.items()
        if key not in saved or not _same(saved[key], value)
    }


def capture(state: State) -> dict[str, Any]:
    """Return every setting the thermostat supports and reports, keyed by attribute."""
    features = ClimateEntityFeature(state.attributes.get(ATTR_SUPPORTED_FEATURES, 0))
    attrs = state.attributes
    saved: dict[str, Any] = {ATTR_HVAC_MODE: state.state}
    single = (
        features & ClimateEntityFeature.TARGET_TEMPERATURE
        and attrs.get(ATTR_TEMPERATURE) is not None
    )
    ranged = (
        features & ClimateEntityFeature.TARGET_TEMPERATURE_RANGE
        and attrs.get(ATTR_TARGET_TEMP_LOW) is not None
        and attrs.get(ATTR_TARGET_TEMP_HIGH) is not None
    )
    if single and ranged:
        # Both reported: keep the one the mode uses; one set_temperature call cannot restore both.
        ranged = state.state in _RANGE_MODES
        single = not ranged
    if single:
        saved[ATTR_TEMPERATURE] = attrs[ATTR_TEMPERATURE]
    if ranged:
        saved[ATTR_TARGET_TEMP_LOW] = attrs[ATTR_TARGET_TEMP_LOW]
        saved[ATTR_TARGET_TEMP_HIGH] = attrs[ATTR_TARGET_TEMP_HIGH]
    for feature, attr, _service in _OPTIONAL:
        if features & feature and attrs.get(attr) is not None:
            saved[attr] = attrs[attr]
    return saved


def restore_calls(saved: dict[str, Any]) -> list[ServiceCall]:
    """Return the climate service calls, in order, that put `saved` back.

    A working mode goes first (some thermostats ignore set points while off); `off` goes last so
    that setting a preset or fan cannot switch it back on.
    """
    mode = saved.get(ATTR_HVAC_MODE)
    calls: list[ServiceCall] = []
    if mode is not None and mode != HVACMode.OFF:
        calls.append((SERVICE_SET_HVAC_MODE, {ATTR_HVAC_MODE: mode}))
    if ATTR_TARGET_TEMP_LOW in saved:
        calls.append(
            (
                SERVICE_SET_TEMPERATURE,
                {
                    ATTR_TARGET_TEMP_LOW: saved[ATTR_TARGET_TEMP_LOW],
                    ATTR_TARGET_TEMP_HIGH: saved[ATTR_TARGET_TEMP_HIGH],
                },
            )
        )
    elif ATTR_TEMPERATURE in saved:
        calls.append((SERVICE_SET_TEMPERATURE, {ATTR_TEMPERATURE: saved[ATTR_TEMPERATURE]}))
    calls.extend(
        (service, {attr: saved[attr]}) for _feature, attr, service in _OPTIONAL if attr in saved
    )
    if mode == HVACMode.OFF:
        calls.append((SERVICE_SET_HVAC_MODE, {ATTR_HVAC_MODE: mode}))
    return calls


def _current(state: State, key: str) -> Any:
    """Return the state's value for a saved key."""
    return state.state if key == ATTR_HVAC_MODE else state.attributes.get(key)


def _same(want: Any, have: Any) -> bool:
    """Compare two setting values, numbers within a small tolerance."""
    if isinstance(want, int | float) and isinstance(have, int | float):
        return abs(float(want) - float(have)) <= _FLOAT_TOLERANCE
    return bool(want == have)


def mismatched(saved: dict[str, Any], state: State) -> list[str]:
    """Return the saved settings the thermostat does not report (yet)."""
    return [key for key, want in saved.items() if not _same(want, _current(state, key))]


def hvac_action(state: State | None) -> str | None:
    """Return the reported hvac_action, or None when it reports none."""
    if state is None:
        return None
    action = state.attributes.get(ATTR_HVAC_ACTION)
    return str(action) if action is not None else None


def reports_action(state: State) -> bool:
    """Whether the thermostat reports what it is doing at all."""
    return ATTR_HVAC_ACTION in state.attributes

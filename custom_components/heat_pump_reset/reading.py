"""The power or current sensor: its kind from its unit, and its reading converted to W or A.

Home Assistant's own unit converters do the conversion, so a sensor in kW, mW or mA is compared
with a threshold in W or A. A unit they cannot convert (%, V, kWh, none) makes a reading unreadable.
"""

from __future__ import annotations

from enum import StrEnum
import math
from typing import Final

from homeassistant.const import (
    ATTR_UNIT_OF_MEASUREMENT,
    UnitOfElectricCurrent,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
from homeassistant.util.unit_conversion import (
    BaseUnitConverter,
    ElectricCurrentConverter,
    PowerConverter,
)


class SensorKind(StrEnum):
    """What the sensor measures, told by its unit."""

    POWER = "power"
    CURRENT = "current"


# Each kind's converter and the unit its threshold is in.
_CONVERTERS: Final[dict[SensorKind, tuple[type[BaseUnitConverter], str]]] = {
    SensorKind.POWER: (PowerConverter, UnitOfPower.WATT),
    SensorKind.CURRENT: (ElectricCurrentConverter, UnitOfElectricCurrent.AMPERE),
}
# The unit each kind's threshold is stored and shown in.
THRESHOLD_UNITS: Final[dict[SensorKind, str]] = {
    kind: str(unit) for kind, (_converter, unit) in _CONVERTERS.items()
}


def kind_of(unit: str | None) -> SensorKind | None:
    """Return the kind of a sensor in `unit`, or None when the unit cannot be converted."""
    for kind, (converter, _unit) in _CONVERTERS.items():
        if unit in converter.VALID_UNITS:
            return kind
    return None


def to_threshold_unit(value: float, unit: str | None) -> tuple[SensorKind, float] | None:
    """Return `value` in `unit` converted to W or A with its kind; None when it cannot be."""
    kind = kind_of(unit)
    if kind is None or not math.isfinite(value):
        return None
    converter, target = _CONVERTERS[kind]
    converted = converter.convert(value, unit, target)
    return (kind, converted) if math.isfinite(converted) else None


def reading(state: State | None) -> tuple[SensorKind, float] | None:
    """Return a sensor state's value in W or A, or None when it is unreadable.

    Unreadable: missing, not a finite number, or in a unit that cannot be converted (including
    none at all). The sign is kept; the caller judges the magnitude.
    """
    if state is None:
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    return to_threshold_unit(value, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))


def sensor_unit(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return a sensor's unit: from its state, else (not loaded yet) from the entity registry."""
    state = hass.states.get(entity_id)
    if state is not None:
        unit = state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        return str(unit) if unit is not None else None
    entry = er.async_get(hass).async_get(entity_id)
    return entry.unit_of_measurement if entry is not None else None

"""The options form's "Outages" section (issue 14): protection, the mains entity and the warm-up.

Temperatures are shown and typed in Home Assistant's unit system and stored in °C.
"""

from __future__ import annotations

from typing import Any, cast

from homeassistant.helpers import selector
import voluptuous as vol

from .const import (
    CONF_LONGEST_WARMUP_MINUTES,
    CONF_MAINS_ENTITY,
    CONF_OUTAGE_PROTECTION,
    CONF_OUTDOOR_TEMPERATURE,
    CONF_ROOM_FLOOR,
    CONF_ROOM_TEMPERATURE,
    CONF_WARMUP_AFTER_MINUTES,
    CONF_WARMUP_TEMPERATURE,
    DEFAULT_LONGEST_WARMUP_MINUTES,
    DEFAULT_WARMUP_AFTER_MINUTES,
    DEFAULT_WARMUP_TEMPERATURE,
    MAX_WARMUP_MINUTES,
)
from .warmup import celsius, from_celsius

# The options' defaults, for an unchanged form to store nothing new (see `tidy_outages`).
_DEFAULTS: dict[str, Any] = {
    CONF_OUTAGE_PROTECTION: False,
    CONF_MAINS_ENTITY: None,
    CONF_OUTDOOR_TEMPERATURE: None,
    CONF_WARMUP_AFTER_MINUTES: DEFAULT_WARMUP_AFTER_MINUTES,
    CONF_WARMUP_TEMPERATURE: DEFAULT_WARMUP_TEMPERATURE,
    CONF_LONGEST_WARMUP_MINUTES: DEFAULT_LONGEST_WARMUP_MINUTES,
    CONF_ROOM_FLOOR: None,
    CONF_ROOM_TEMPERATURE: None,
}
# The temperatures' ranges (°C): the warm-up temperature, and the room floor.
_WARMUP_RANGE = (-40.0, 30.0)
_FLOOR_RANGE = (0.0, 25.0)
_LONGEST_OUTAGE_MINUTES = 24 * 60


def _entity(options: dict[str, Any], key: str, config: dict[str, Any]) -> dict[Any, Any]:
    """Return an optional entity field, suggesting the stored entity."""
    current = options.get(key)
    return {
        vol.Optional(key, description={"suggested_value": current} if current else None): (
            selector.EntitySelector(cast("selector.EntitySelectorConfig", config))
        )
    }


def _number(low: float, high: float, unit: str, step: float) -> Any:
    """Return a number box from `low` to `high` in `unit`."""
    return vol.All(
        selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=low,
                max=high,
                step=step,
                mode=selector.NumberSelectorMode.BOX,
                unit_of_measurement=unit,
            )
        ),
        vol.Coerce(float),
        vol.Range(min=low, max=high),
    )


def _degrees(bounds: tuple[float, float], unit: str) -> Any:
    """Return a temperature box in `unit` for a range given in °C."""
    return _number(from_celsius(bounds[0], unit), from_celsius(bounds[1], unit), unit, 0.5)


def outages_schema(options: dict[str, Any], unit: str) -> vol.Schema:
    """Return the section: protection (off by default), the mains entity and the warm-up.

    Temperatures in `unit`, Home Assistant's unit system's.
    """
    temperature = {"filter": [{"domain": "sensor", "device_class": "temperature"}]}
    warmup = float(options.get(CONF_WARMUP_TEMPERATURE, DEFAULT_WARMUP_TEMPERATURE))
    floor = options.get(CONF_ROOM_FLOOR)
    return vol.Schema(
        {
            vol.Required(
                CONF_OUTAGE_PROTECTION, default=bool(options.get(CONF_OUTAGE_PROTECTION, False))
            ): selector.BooleanSelector(),
            **_entity(
                options,
                CONF_MAINS_ENTITY,
                {"filter": [{"domain": "binary_sensor"}, {"domain": "sensor"}]},
            ),
            **_entity(options, CONF_OUTDOOR_TEMPERATURE, temperature),
            vol.Required(
                CONF_WARMUP_AFTER_MINUTES,
                default=options.get(CONF_WARMUP_AFTER_MINUTES, DEFAULT_WARMUP_AFTER_MINUTES),
            ): vol.All(_number(0, _LONGEST_OUTAGE_MINUTES, "min", 1), vol.Coerce(int)),
            vol.Required(CONF_WARMUP_TEMPERATURE, default=from_celsius(warmup, unit)): _degrees(
                _WARMUP_RANGE, unit
            ),
            vol.Required(
                CONF_LONGEST_WARMUP_MINUTES,
                default=options.get(CONF_LONGEST_WARMUP_MINUTES, DEFAULT_LONGEST_WARMUP_MINUTES),
            ): vol.All(_number(0, MAX_WARMUP_MINUTES, "min", 1), vol.Coerce(int)),
            vol.Optional(
                CONF_ROOM_FLOOR,
                description=(
                    {"suggested_value": from_celsius(float(floor), unit)}
                    if floor is not None
                    else None
                ),
            ): _degrees(_FLOOR_RANGE, unit),
            **_entity(options, CONF_ROOM_TEMPERATURE, temperature),
        }
    )


def refused_outage_entity(submitted: dict[str, Any] | None) -> str | None:
    """Return the form error for a submitted entity of the wrong kind, or None.

    The mains entity must be a binary sensor or a sensor; the outdoor and room temperatures
    sensors. The form's filters offer only those; a submission through the API is checked here.
    """
    found = submitted or {}

    def _domain(key: str) -> str | None:
        return str(found[key]).split(".")[0] if found.get(key) else None

    if _domain(CONF_MAINS_ENTITY) not in (None, "binary_sensor", "sensor"):
        return "mains_entity_kind"
    if any(
        _domain(k) not in (None, "sensor")
        for k in (CONF_OUTDOOR_TEMPERATURE, CONF_ROOM_TEMPERATURE)
    ):
        return "temperature_entity_kind"
    return None


def outage_options(submitted: dict[str, Any], unit: str) -> dict[str, Any]:
    """Return the outage options of the submitted section, temperatures in °C.

    An emptied entity field, or an emptied room floor: none. A field the form did not send (an
    older client) keeps its default.
    """

    def _celsius(value: Any) -> float | None:
        found = celsius(value, unit)
        return None if found is None else round(found, 2)

    warmup = submitted.get(CONF_WARMUP_TEMPERATURE)
    return {
        CONF_OUTAGE_PROTECTION: bool(submitted.get(CONF_OUTAGE_PROTECTION, False)),
        CONF_MAINS_ENTITY: submitted.get(CONF_MAINS_ENTITY) or None,
        CONF_OUTDOOR_TEMPERATURE: submitted.get(CONF_OUTDOOR_TEMPERATURE) or None,
        CONF_WARMUP_AFTER_MINUTES: int(
            submitted.get(CONF_WARMUP_AFTER_MINUTES, DEFAULT_WARMUP_AFTER_MINUTES)
        ),
        CONF_WARMUP_TEMPERATURE: (
            DEFAULT_WARMUP_TEMPERATURE if warmup is None else _celsius(warmup)
        ),
        CONF_LONGEST_WARMUP_MINUTES: int(
            submitted.get(CONF_LONGEST_WARMUP_MINUTES, DEFAULT_LONGEST_WARMUP_MINUTES)
        ),
        CONF_ROOM_FLOOR: _celsius(submitted.get(CONF_ROOM_FLOOR)),
        CONF_ROOM_TEMPERATURE: submitted.get(CONF_ROOM_TEMPERATURE) or None,
    }


def tidy_outages(options: dict[str, Any]) -> dict[str, Any]:
    """Return options without outage options that say only what their absence says.

    A form saved unchanged stores the options as before: protection off, no entities, the
    warm-up's defaults.
    """
    return {
        key: value
        for key, value in options.items()
        if not (key in _DEFAULTS and value == _DEFAULTS[key])
    }

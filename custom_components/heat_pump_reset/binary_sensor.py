"""The binary sensor that is on while a reset runs."""

from __future__ import annotations

# 2026.x keeps the device class in binary_sensor.const and only re-exports it (no __all__ entry).
from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined,unused-ignore]
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import HeatPumpResetEntity
from .runtime import HeatPumpResetConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HeatPumpResetConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the running sensor of one heat pump."""
    async_add_entities([ResetRunningSensor(entry, "running")])


class ResetRunningSensor(HeatPumpResetEntity, BinarySensorEntity):
    """On from a run's start until it has ended, including while it waits to resume."""

    _attr_device_class = BinarySensorDeviceClass.RUNNING
    _attr_entity_category = EntityCategory.DIAGNOSTIC
    # The phase sensor (not idle) says the same; kept for automations that want a plain on/off.
    _attr_entity_registry_enabled_default = False

    @property
    def is_on(self) -> bool:
        """Return whether a run is active."""
        return self.controller.run is not None

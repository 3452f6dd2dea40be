"""Base entity: attached to the thermostat's device and updated by the controller."""

from __future__ import annotations

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .compat import source_device_link
from .const import DOMAIN
from .runtime import HeatPumpResetConfigEntry


class HeatPumpResetEntity(Entity):
    """An entity of one heat pump's reset controller."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, entry: HeatPumpResetConfigEntry, key: str) -> None:
        """Name the entity by `key` and remember the controller."""
        self.controller = entry.runtime_data
        self._attr_translation_key = key
        self._attr_unique_id = f"{entry.entry_id}_{key}"
        link = source_device_link(
            self.controller.hass,
            self.controller.settings.thermostat,
            DeviceInfo(identifiers={(DOMAIN, entry.entry_id)}, name=entry.title),
        )
        if isinstance(link, dr.DeviceEntry):
            self.device_entry = link
        else:
            self._attr_device_info = link

    async def async_added_to_hass(self) -> None:
        """Follow the controller's changes."""
        await super().async_added_to_hass()
        self.async_on_remove(self.controller.async_add_listener(self.async_write_ha_state))

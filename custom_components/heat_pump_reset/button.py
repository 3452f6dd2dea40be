"""The button that starts a reset with the configured defaults."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import HeatPumpResetEntity
from .runtime import HeatPumpResetConfigEntry
from .sequence import Trigger

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HeatPumpResetConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the reset button of one heat pump."""
    async_add_entities([ResetButton(entry, "reset")])


class ResetButton(HeatPumpResetEntity, ButtonEntity):
    """Starts a reset run; refuses with a translated error like the action does."""

    async def async_press(self) -> None:
        """Start a run with the configured discharge wait."""
        self.controller.async_start(Trigger.BUTTON)

"""The typed config entry of this integration."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .controller import ResetController

type HeatPumpResetConfigEntry = ConfigEntry[ResetController]

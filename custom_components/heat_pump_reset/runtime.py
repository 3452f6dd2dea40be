"""The typed config entry of this integration."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .orchestrator import ResetController

type HeatPumpResetConfigEntry = ConfigEntry[ResetController]

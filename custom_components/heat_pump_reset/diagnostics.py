"""Diagnostics: the options, the active run, the recent history and the wrapped entities' states."""

from __future__ import annotations

from typing import Any, Final

from homeassistant.core import HomeAssistant, State

from .runtime import HeatPumpResetConfigEntry

# Runs included; the whole history is available through the get_history action.
DIAGNOSTICS_RUNS: Final = 20
# The attributes the reset reads or restores; others vary between devices and releases.
_ATTRIBUTES: Final = (
    "hvac_modes",
    "hvac_action",
    "current_temperature",
    "temperature",
    "target_temp_low",
    "target_temp_high",
    "fan_mode",
    "preset_mode",
    "swing_mode",
    "swing_horizontal_mode",
    "humidity",
    "supported_features",
    "unit_of_measurement",
    "device_class",
)


def _entity(state: State | None) -> dict[str, Any] | None:
    """Describe a wrapped entity by what the reset looks at."""
    if state is None:
        return None
    return {
        "state": state.state,
        "attributes": {k: state.attributes[k] for k in _ATTRIBUTES if k in state.attributes},
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: HeatPumpResetConfigEntry
) -> dict[str, Any]:
    """Return what a maintainer needs to understand a heat pump's resets."""
    controller = entry.runtime_data
    wrapped = [controller.settings.thermostat, *controller.settings.switches]
    if controller.settings.sensor:
        wrapped.append(controller.settings.sensor)
    # The unit's fault entities: their states now (a run keeps those at its start).
    wrapped += controller.settings.fault_entities
    return {
        "options": dict(entry.options),
        "active_run": controller.run.to_dict() if controller.run is not None else None,
        "history": controller.history[:DIAGNOSTICS_RUNS],
        "history_size": len(controller.history),
        "acknowledged": dict(controller.store.acknowledged),
        # Stored data this release could not read (a run, the history, records), as it was.
        "unreadable": list(controller.store.unreadable),
        "entities": {entity_id: _entity(hass.states.get(entity_id)) for entity_id in wrapped},
    }

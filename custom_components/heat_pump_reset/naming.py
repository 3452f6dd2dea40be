"""The names people know entities by, for texts they read (repairs, notifications)."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.const import ATTR_FRIENDLY_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er


@callback
def _registry_name(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return the name the entity registry gives an entity without a state (e.g. disabled)."""
    entry = er.async_get(hass).async_get(entity_id)
    if entry is None:
        return None
    if entry.name:
        # A name the user gave replaces the whole name, device part included.
        return entry.name
    name = entry.original_name
    if not entry.has_entity_name or entry.device_id is None:
        return name or None
    device = dr.async_get(hass).async_get(entry.device_id)
    device_name = (device.name_by_user or device.name) if device is not None else None
    full = " ".join(part for part in (device_name, name) if part)
    return full or None


@callback
def friendly_name(hass: HomeAssistant, entity_id: str) -> str:
    """Return the entity's friendly name: its state's, else the registry's, else its id."""
    state = hass.states.get(entity_id)
    if state is not None and (name := state.attributes.get(ATTR_FRIENDLY_NAME)):
        return str(name)
    return _registry_name(hass, entity_id) or entity_id


@callback
def friendly_list(hass: HomeAssistant, entity_ids: Iterable[str]) -> str:
    """Return the friendly names of the entities, comma-separated, in the order given."""
    return ", ".join(friendly_name(hass, entity_id) for entity_id in entity_ids)


@callback
def name_and_id(hass: HomeAssistant, entity_id: str) -> str:
    """Return "Friendly name (entity id)", or the id alone when no name is known.

    For texts that send a person to find an entity Home Assistant hides or no longer lists
    (disabled, removed): the entity list's search finds it by either.
    """
    name = friendly_name(hass, entity_id)
    return entity_id if name == entity_id else f"{name} ({entity_id})"

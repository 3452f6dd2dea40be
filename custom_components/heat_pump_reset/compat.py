"""The few Home Assistant APIs that differ between 2025.4 and 2026.x, decided once."""

from __future__ import annotations

from collections.abc import Callable
import importlib
import inspect
import sys
from typing import Any

from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, selector
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.storage import Store
import voluptuous as vol

_device_helpers = importlib.import_module("homeassistant.helpers.device")
# 2025.8+: link by device entry; 2025.4 only honours device_info copied from the source device.
_entity_id_to_device: Callable[[HomeAssistant, str], dr.DeviceEntry | None] | None = getattr(
    _device_helpers, "async_entity_id_to_device", None
)
_device_info_from_entity: Callable[[HomeAssistant, str], DeviceInfo | None] | None = getattr(
    _device_helpers, "async_device_info_to_link_from_entity", None
)

# 2025.8+ reloads the entry itself after an options flow; older releases need an update listener.
OPTIONS_FLOW_BASE: type[config_entries.OptionsFlow] = getattr(
    config_entries, "OptionsFlowWithReload", config_entries.OptionsFlow
)
OPTIONS_FLOW_RELOADS: bool = OPTIONS_FLOW_BASE is not config_entries.OptionsFlow


# 2026.x: an entity selector with `multiple` can let the user drag its entries into an order;
# 2025.4's selector refuses the key.
_ENTITY_SELECTOR_KEYS = (
    selector.EntitySelectorConfig.__required_keys__
    | selector.EntitySelectorConfig.__optional_keys__
)
ENTITY_SELECTOR_REORDER: dict[str, Any] = (
    {"reorder": True} if "reorder" in _ENTITY_SELECTOR_KEYS else {}
)


def source_device_link(
    hass: HomeAssistant, source_entity_id: str, own_device: DeviceInfo
) -> dr.DeviceEntry | DeviceInfo:
    """Return how to attach to the source entity's device: its entry (2025.8+) or device info.

    `own_device` is returned when the source entity has no device.
    """
    if _entity_id_to_device is not None:
        device = _entity_id_to_device(hass, source_entity_id)
        if device is not None:
            return device
    elif _device_info_from_entity is not None:
        info = _device_info_from_entity(hass, source_entity_id)
        if info is not None:
            return info
    return own_device


def ha_schema(schema: vol.Schema) -> Any:
    """Return `schema` for a Home Assistant signature.

    On 2026.x `voluptuous` is probatio's shim at run time and HA's signatures name probatio's
    types, while the type checker still reads the real voluptuous package; on 2025.4 both are
    voluptuous. The object is the same either way.
    """
    return schema


# A repair flow step returns FlowResult on 2025.4 and RepairsFlowResult on 2026.x; the dicts are
# built by the flow handler's own helpers either way.
type FixFlowResult = Any


# 2026.x refuses data of a newer major version before migrating it, unless told that version is
# readable; 2025.4 hands it to `_async_migrate_func`. Either way, our migrate function decides (it
# keeps what it cannot read and puts power back).
STORE_READS_NEWER_VERSIONS: dict[str, Any] = (
    {"max_readable_version": sys.maxsize}
    if "max_readable_version" in inspect.signature(Store.__init__).parameters
    else {}
)

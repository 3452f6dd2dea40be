"""The heat_pump_reset actions: start and cancel a reset, read the history."""

from __future__ import annotations

import math
from typing import Any

from homeassistant.auth.permissions.const import POLICY_CONTROL, POLICY_READ
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    ATTR_AREA_ID,
    ATTR_DEVICE_ID,
    ATTR_ENTITY_ID,
    ATTR_FLOOR_ID,
    ATTR_LABEL_ID,
    ENTITY_MATCH_ALL,
    ENTITY_MATCH_NONE,
)
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
import voluptuous as vol

from .compat import ha_schema
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DISCHARGE_MINUTES,
    ATTR_FORCE,
    ATTR_LIMIT,
    ATTR_REASON,
    ATTR_RUN_ID,
    DOMAIN,
    SERVICE_CANCEL_RESET,
    SERVICE_GET_HISTORY,
    SERVICE_START_RESET,
)
from .controller import ResetController
from .history import HISTORY_LIMIT
from .run import Trigger
from .runtime import HeatPumpResetConfigEntry


def _whole_number(value: object) -> int:
    """Return `value` as int; `.inf`, `-.inf` and `.nan` (from YAML) are invalid, not a crash."""
    if isinstance(value, float) and not math.isfinite(value):
        raise vol.Invalid("expected a finite number")
    result: int = vol.Coerce(int)(value)
    return result


# Which heat pump: a target (its entities, its device, or an area, floor or label holding them),
# as the UI's target picker sends it, or the config entry id of older automations.
TARGET_FIELDS: dict[Any, Any] = {
    **cv.ENTITY_SERVICE_FIELDS,
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
}
START_SCHEMA = vol.Schema(
    {
        **TARGET_FIELDS,
        vol.Optional(ATTR_DISCHARGE_MINUTES): _whole_number,
        vol.Optional(ATTR_REASON): vol.All(cv.string, vol.Length(max=255)),
        vol.Optional(ATTR_FORCE, default=False): cv.boolean,
    }
)
CANCEL_SCHEMA = vol.Schema(TARGET_FIELDS)
HISTORY_SCHEMA = vol.Schema(
    {
        **TARGET_FIELDS,
        vol.Optional(ATTR_LIMIT, default=HISTORY_LIMIT): vol.All(
            _whole_number, vol.Range(min=1, max=HISTORY_LIMIT)
        ),
    }
)


def _ids(value: Any) -> list[str]:
    """Return a target field's ids as a list (a single id, a list, or `none`)."""
    if value is None or value == ENTITY_MATCH_NONE:
        return []
    if isinstance(value, list | tuple | set):
        return [str(item) for item in value]
    # A single id, or on HA 2025.4 a template left unrendered (it names no heat pump).
    return [str(value)]


def _not_ours(target: str) -> ServiceValidationError:
    """Return the refusal for an entity or device that belongs to no heat pump."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="not_a_heat_pump",
        translation_placeholders={"target": target},
    )


def _resolve_entry_ids(hass: HomeAssistant, data: dict[str, Any]) -> list[str]:
    """Return the config entry ids of the heat pumps a call names, in order, each once.

    An entity or device named explicitly must belong to a heat pump; areas, floors and labels
    name every heat pump with an entity in them (directly or through its device).
    """
    found: dict[str, None] = {}
    if (entry_id := data.get(ATTR_CONFIG_ENTRY_ID)) is not None:
        found[entry_id] = None
    entities = er.async_get(hass)
    devices = dr.async_get(hass)
    ours = [e for e in entities.entities.values() if e.platform == DOMAIN and e.config_entry_id]

    if data.get(ATTR_ENTITY_ID) == ENTITY_MATCH_ALL:
        found.update(dict.fromkeys(str(e.config_entry_id) for e in ours))
    else:
        for entity_id in _ids(data.get(ATTR_ENTITY_ID)):
            registered = entities.async_get(entity_id)
            if registered is None or registered.platform != DOMAIN:
                raise _not_ours(entity_id)
            found[str(registered.config_entry_id)] = None

    for device_id in _ids(data.get(ATTR_DEVICE_ID)):
        on_device = [str(e.config_entry_id) for e in ours if e.device_id == device_id]
        if not on_device:
            device = devices.async_get(device_id)
            raise _not_ours(
                device_id if device is None else device.name_by_user or device.name or device_id
            )
        found.update(dict.fromkeys(on_device))

    area_ids = set(_ids(data.get(ATTR_AREA_ID)))
    floor_ids = set(_ids(data.get(ATTR_FLOOR_ID)))
    label_ids = set(_ids(data.get(ATTR_LABEL_ID)))
    if floor_ids or label_ids:
        area_ids |= {
            area.id
            for area in ar.async_get(hass).async_list_areas()
            if area.floor_id in floor_ids or label_ids & area.labels
        }
    if area_ids or label_ids:
        in_them = []
        for registered in ours:
            device = devices.async_get(registered.device_id) if registered.device_id else None
            area_id = registered.area_id or (device.area_id if device is not None else None)
            if (
                area_id in area_ids
                or label_ids & registered.labels
                or (device is not None and label_ids & device.labels)
            ):
                in_them.append(str(registered.config_entry_id))
        if not in_them:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_heat_pump_in_target"
            )
        found.update(dict.fromkeys(in_them))
    return list(found)


def _controller(hass: HomeAssistant, entry_id: str) -> ResetController:
    """Return the loaded heat pump of a config entry id, or raise a translated error."""
    entry: HeatPumpResetConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"name": entry.title},
        )
    return entry.runtime_data


async def _check_permission(
    hass: HomeAssistant,
    call: ServiceCall,
    controller: ResetController,
    permission: str = POLICY_CONTROL,
) -> None:
    """Refuse a person who may not control (or read) every entity of the heat pump, as core would.

    A call without a user (an automation, a script) is not checked, as in core.
    """
    if call.context.user_id is None:
        return
    user = await hass.auth.async_get_user(call.context.user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    for entity_id in controller.switched_ids:
        if not user.permissions.check_entity(entity_id, permission):
            raise Unauthorized(context=call.context, entity_id=entity_id, permission=permission)


def _check_force(call: ServiceCall, controller: ResetController) -> None:
    """Refuse force from a call without a user: only a person may go over the daily limit."""
    if call.data[ATTR_FORCE] and call.context.user_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="force_needs_person",
            translation_placeholders={"name": controller.entry.title},
        )


def _controllers(hass: HomeAssistant, call: ServiceCall) -> list[ResetController]:
    """Return the loaded heat pumps a call names (at least one), or raise a translated error."""
    entry_ids = _resolve_entry_ids(hass, dict(call.data))
    if not entry_ids:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="no_heat_pump")
    return [_controller(hass, entry_id) for entry_id in entry_ids]


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for the integration."""

    async def _start(call: ServiceCall) -> ServiceResponse:
        controllers = _controllers(hass, call)
        if len(controllers) > 1:
            # One reset at a time: cutting the power of several heat pumps is never implied.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="several_heat_pumps",
                translation_placeholders={"names": ", ".join(c.entry.title for c in controllers)},
            )
        controller = controllers[0]
        await _check_permission(hass, call, controller)
        _check_force(call, controller)
        # A call that carries a user was made by a person; one without came from an automation,
        # a script or a blueprint.
        trigger = Trigger.PERSON if call.context.user_id is not None else Trigger.AUTOMATION
        run_id = controller.async_start(
            trigger,
            call.data.get(ATTR_REASON),
            call.data.get(ATTR_DISCHARGE_MINUTES),
            force=call.data[ATTR_FORCE],
        )
        return {ATTR_RUN_ID: run_id} if call.return_response else None

    async def _cancel(call: ServiceCall) -> None:
        controllers = _controllers(hass, call)
        for controller in controllers:
            # Every one checked before any is touched.
            await _check_permission(hass, call, controller)
        if len(controllers) == 1:
            controllers[0].async_cancel()
            return
        # Several heat pumps: cancel each that runs a reset; refused only if none does.
        cancelled = 0
        for controller in controllers:
            try:
                controller.async_cancel()
            except ServiceValidationError:
                continue  # nothing to cancel on this one
            cancelled += 1
        if not cancelled:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="nothing_running",
                translation_placeholders={"name": ", ".join(c.entry.title for c in controllers)},
            )

    async def _history(call: ServiceCall) -> ServiceResponse:
        limit: int = call.data[ATTR_LIMIT]
        controllers = _controllers(hass, call)
        for controller in controllers:
            # When the power was cut, and why, is no less private than the entities' states.
            await _check_permission(hass, call, controller, POLICY_READ)
        heat_pumps = [
            {
                ATTR_CONFIG_ENTRY_ID: controller.entry.entry_id,
                "name": controller.entry.title,
                "runs": [dict(record) for record in controller.history[:limit]],
            }
            for controller in controllers
        ]
        response: dict[str, Any] = {"heat_pumps": heat_pumps}
        if len(heat_pumps) == 1:
            # One heat pump: its runs also at the top, as before targets existed.
            response["runs"] = heat_pumps[0]["runs"]
        return response

    hass.services.async_register(
        DOMAIN,
        SERVICE_START_RESET,
        _start,
        schema=ha_schema(START_SCHEMA),
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CANCEL_RESET, _cancel, schema=ha_schema(CANCEL_SCHEMA)
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_HISTORY,
        _history,
        schema=ha_schema(HISTORY_SCHEMA),
        supports_response=SupportsResponse.ONLY,
    )

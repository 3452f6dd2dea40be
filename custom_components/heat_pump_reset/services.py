"""The heat_pump_reset actions: start and cancel a reset, read the history."""

from __future__ import annotations

import math

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError, Unauthorized, UnknownUser
from homeassistant.helpers import config_validation as cv
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
from .history import HISTORY_LIMIT
from .orchestrator import ResetController
from .runtime import HeatPumpResetConfigEntry
from .sequence import Trigger


def _whole_number(value: object) -> int:
    """Return `value` as int; `.inf`, `-.inf` and `.nan` (from YAML) are invalid, not a crash."""
    if isinstance(value, float) and not math.isfinite(value):
        raise vol.Invalid("expected a finite number")
    result: int = vol.Coerce(int)(value)
    return result


START_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DISCHARGE_MINUTES): _whole_number,
        vol.Optional(ATTR_REASON): vol.All(cv.string, vol.Length(max=255)),
        vol.Optional(ATTR_FORCE, default=False): cv.boolean,
    }
)
CANCEL_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})
HISTORY_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_LIMIT, default=HISTORY_LIMIT): vol.All(
            _whole_number, vol.Range(min=1, max=HISTORY_LIMIT)
        ),
    }
)


def _controller(hass: HomeAssistant, call: ServiceCall) -> ResetController:
    """Return the loaded heat pump the call names, or raise a translated error."""
    entry_id: str = call.data[ATTR_CONFIG_ENTRY_ID]
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
    hass: HomeAssistant, call: ServiceCall, controller: ResetController
) -> None:
    """Refuse a person who may not control every entity the action switches, as core would.

    A call without a user (an automation, a script) is not checked, as in core.
    """
    if call.context.user_id is None:
        return
    user = await hass.auth.async_get_user(call.context.user_id)
    if user is None:
        raise UnknownUser(context=call.context)
    for entity_id in controller.switched_ids:
        if not user.permissions.check_entity(entity_id, POLICY_CONTROL):
            raise Unauthorized(context=call.context, entity_id=entity_id, permission=POLICY_CONTROL)


def _check_force(call: ServiceCall, controller: ResetController) -> None:
    """Refuse force from a call without a user: only a person may go over the daily limit."""
    if call.data[ATTR_FORCE] and call.context.user_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="force_needs_person",
            translation_placeholders={"name": controller.entry.title},
        )


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for the integration."""

    async def _start(call: ServiceCall) -> ServiceResponse:
        controller = _controller(hass, call)
        await _check_permission(hass, call, controller)
        _check_force(call, controller)
        # A call that carries a user was made by a person; one without came from an automation,
        # a script or a blueprint.
        trigger = Trigger.ACTION if call.context.user_id is not None else Trigger.AUTOMATION
        run_id = controller.async_start(
            trigger,
            call.data.get(ATTR_REASON),
            call.data.get(ATTR_DISCHARGE_MINUTES),
            force=call.data[ATTR_FORCE],
        )
        return {ATTR_RUN_ID: run_id} if call.return_response else None

    async def _cancel(call: ServiceCall) -> None:
        controller = _controller(hass, call)
        await _check_permission(hass, call, controller)
        controller.async_cancel()

    async def _history(call: ServiceCall) -> ServiceResponse:
        controller = _controller(hass, call)
        runs = controller.history[: call.data[ATTR_LIMIT]]
        return {"runs": [dict(record) for record in runs]}

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

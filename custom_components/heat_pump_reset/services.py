"""The heat_pump_reset actions: start and cancel a reset."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .compat import ha_schema
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DISCHARGE_MINUTES,
    ATTR_REASON,
    ATTR_RUN_ID,
    DOMAIN,
    SERVICE_CANCEL_RESET,
    SERVICE_START_RESET,
)
from .orchestrator import ResetController
from .runtime import HeatPumpResetConfigEntry
from .sequence import Trigger

START_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DISCHARGE_MINUTES): vol.Coerce(int),
        vol.Optional(ATTR_REASON): vol.All(cv.string, vol.Length(max=255)),
    }
)
CANCEL_SCHEMA = vol.Schema({vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string})


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


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for the integration."""

    async def _start(call: ServiceCall) -> ServiceResponse:
        controller = _controller(hass, call)
        run_id = controller.async_start(
            Trigger.ACTION, call.data.get(ATTR_REASON), call.data.get(ATTR_DISCHARGE_MINUTES)
        )
        return {ATTR_RUN_ID: run_id} if call.return_response else None

    async def _cancel(call: ServiceCall) -> None:
        _controller(hass, call).async_cancel()

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

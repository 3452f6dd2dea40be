"""Repairs: the fix flows of a heat pump's issues (acknowledge advice, replace a removed entity)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from homeassistant.components.repairs import RepairsFlow
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, split_entity_id
from homeassistant.helpers import issue_registry as ir, selector
import voluptuous as vol

from . import thermostat, wrapped
from .compat import FixFlowResult, ha_schema
from .const import DOMAIN, ISSUE_MISSING_ENTITY, ISSUE_RECURRING_RESETS
from .issues import CONF_ENTITY_ID

if TYPE_CHECKING:
    from .runtime import HeatPumpResetConfigEntry

CONF_CHECKED: Final = "checked"


class _EntryFlow(RepairsFlow):
    """A fix flow for one heat pump's issue."""

    def __init__(self, entry_id: str, placeholders: dict[str, str]) -> None:
        """Remember the heat pump and the issue's wording."""
        self._entry_id = entry_id
        self._placeholders = placeholders

    def _entry(self) -> HeatPumpResetConfigEntry | None:
        """Return the heat pump's entry when it is loaded."""
        entry = self.hass.config_entries.async_get_entry(self._entry_id)
        if entry is None or entry.state is not ConfigEntryState.LOADED:
            return None
        return entry


class AcknowledgeFlow(_EntryFlow):
    """The user confirms they read the advice; earlier runs stop counting towards the issue."""

    def __init__(self, entry_id: str, placeholders: dict[str, str], key: str) -> None:
        """Set up for the issue `key`."""
        super().__init__(entry_id, placeholders)
        self._key = key

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FixFlowResult:
        """Open the flow (Repairs passes the issue here, not a user's input)."""
        return await self.async_step_confirm()

    async def async_step_confirm(self, user_input: dict[str, Any] | None = None) -> FixFlowResult:
        """Show the advice and ask for the confirmation."""
        entry = self._entry()
        if entry is None:
            return self.async_abort(reason="entry_not_loaded")
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_CHECKED) or self._key != ISSUE_RECURRING_RESETS:
                await entry.runtime_data.async_acknowledge(self._key)
                return self.async_create_entry(data={})
            errors[CONF_CHECKED] = "not_checked"
        fields: dict[Any, Any] = {}
        if self._key == ISSUE_RECURRING_RESETS:
            # Recurring resets need a technician: ask for an explicit "I have arranged a check".
            fields[vol.Required(CONF_CHECKED, default=False)] = selector.BooleanSelector()
        return self.async_show_form(
            step_id="confirm",
            data_schema=ha_schema(vol.Schema(fields)),
            description_placeholders=self._placeholders,
            errors=errors,
        )


class ReplaceEntityFlow(_EntryFlow):
    """The user picks a replacement for a wrapped entity that was removed."""

    def __init__(self, entry_id: str, placeholders: dict[str, str], entity_id: str) -> None:
        """Set up for the missing `entity_id`."""
        super().__init__(entry_id, placeholders)
        self._missing = entity_id

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> FixFlowResult:
        """Open the flow (Repairs passes the issue here, not a user's input)."""
        return await self.async_step_replace()

    async def async_step_replace(self, user_input: dict[str, Any] | None = None) -> FixFlowResult:
        """Ask for the replacement, check it like the config flow does, then apply it."""
        entry = self._entry()
        if entry is None:
            return self.async_abort(reason="entry_not_loaded")
        domain = split_entity_id(self._missing)[0]
        errors: dict[str, str] = {}
        placeholders = dict(self._placeholders)
        if user_input is not None:
            new = user_input[CONF_ENTITY_ID]
            state = self.hass.states.get(new)
            if state is None:
                errors[CONF_ENTITY_ID] = "entity_not_found"
            elif domain == "climate" and not thermostat.supports_off(state):
                errors[CONF_ENTITY_ID] = "thermostat_no_off"
            elif new in wrapped.wrapped_ids(dict(entry.options)):
                errors[CONF_ENTITY_ID] = "already_wrapped"
            elif domain != "sensor" and (
                owner := wrapped.owner_elsewhere(self.hass, new, entry.entry_id)
            ):
                # A switch or thermostat belongs to one heat pump (a sensor may be read by several).
                errors[CONF_ENTITY_ID] = "in_use"
                placeholders["owner"] = owner
            else:
                await wrapped.async_replace(self.hass, entry, self._missing, new)
                return self.async_create_entry(data={})
        schema = vol.Schema(
            {
                vol.Required(CONF_ENTITY_ID): selector.EntitySelector(
                    selector.EntitySelectorConfig(domain=domain)
                )
            }
        )
        return self.async_show_form(
            step_id="replace",
            data_schema=ha_schema(schema),
            description_placeholders=placeholders,
            errors=errors,
        )


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, str | int | float | None] | None
) -> RepairsFlow:
    """Return the fix flow of one of our issues."""
    data = data or {}
    entry_id = str(data.get("entry_id"))
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    placeholders = dict(issue.translation_placeholders or {}) if issue else {}
    if data.get("key") == ISSUE_MISSING_ENTITY:
        return ReplaceEntityFlow(entry_id, placeholders, str(data.get(CONF_ENTITY_ID)))
    return AcknowledgeFlow(entry_id, placeholders, str(data.get("key")))

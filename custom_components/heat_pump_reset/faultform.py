"""The fault entities' fields of the set-up, Reconfigure and options forms (issue 13)."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.const import ATTR_DEVICE_CLASS
from homeassistant.core import HomeAssistant
from homeassistant.helpers import selector
import voluptuous as vol

from .const import CONF_FAULT_ENTITIES, CONF_NO_FAULT_STATES
from .faults import DEFAULT_NO_FAULT_STATES, usable


def fault_entities_field(defaults: dict[str, Any]) -> dict[Any, Any]:
    """Return the optional fault entities field: error code sensors, problem binary sensors."""
    default = defaults.get(CONF_FAULT_ENTITIES)
    key = vol.Optional(
        CONF_FAULT_ENTITIES, description={"suggested_value": default} if default else None
    )
    config = cast(
        "selector.EntitySelectorConfig",
        {
            "multiple": True,
            "filter": [
                {"domain": "sensor"},
                {"domain": "binary_sensor", "device_class": "problem"},
            ],
        },
    )
    return {key: selector.EntitySelector(config)}


def faults_schema(options: dict[str, Any]) -> vol.Schema:
    """Return the fault section: the fault entities, and the states that mean no fault.

    The states are a list to pick from and add to (a unit's own "no fault" code), as chips.
    """
    states = list(options.get(CONF_NO_FAULT_STATES, DEFAULT_NO_FAULT_STATES))
    return vol.Schema(
        {
            **fault_entities_field(options),
            vol.Optional(CONF_NO_FAULT_STATES, default=states): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=list(dict.fromkeys([*DEFAULT_NO_FAULT_STATES, *states])),
                    multiple=True,
                    custom_value=True,
                    mode=selector.SelectSelectorMode.DROPDOWN,
                )
            ),
        }
    )


def refused_fault_entities(hass: HomeAssistant, entity_ids: list[str] | None) -> bool:
    """Whether any picked fault entity is neither a sensor nor a problem binary sensor.

    The form's filter offers only those; a submission through the API is checked here.
    """
    return any(
        not usable(
            entity_id,
            state.attributes.get(ATTR_DEVICE_CLASS)
            if (state := hass.states.get(entity_id))
            else None,
            known=state is not None,
        )
        for entity_id in entity_ids or []
    )


def fault_options(submitted: dict[str, Any]) -> dict[str, Any]:
    """Return the fault options of the submitted fault section."""
    # An emptied entity field is left out of the submission: no fault entity any more.
    options: dict[str, Any] = {CONF_FAULT_ENTITIES: list(submitted.get(CONF_FAULT_ENTITIES) or [])}
    if CONF_NO_FAULT_STATES in submitted:
        options[CONF_NO_FAULT_STATES] = [str(s).strip() for s in submitted[CONF_NO_FAULT_STATES]]
    return options


def tidy(options: dict[str, Any]) -> dict[str, Any]:
    """Return options without the fault options that say only what their absence says.

    No fault entities, and the default "no fault" states: a form saved unchanged stores the
    options exactly as before.
    """
    return {
        key: value
        for key, value in options.items()
        if not (key == CONF_FAULT_ENTITIES and not value)
        and not (key == CONF_NO_FAULT_STATES and value == list(DEFAULT_NO_FAULT_STATES))
    }

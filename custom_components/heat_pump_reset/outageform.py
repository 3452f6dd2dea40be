"""The options form's "Outages" section (issue 14): outage protection and the mains entity."""

from __future__ import annotations

from typing import Any, cast

from homeassistant.helpers import selector
import voluptuous as vol

from .const import CONF_MAINS_ENTITY, CONF_OUTAGE_PROTECTION


def outages_schema(options: dict[str, Any]) -> vol.Schema:
    """Return the section: protection on or off (off by default), and the optional mains entity."""
    mains = options.get(CONF_MAINS_ENTITY)
    config = cast(
        "selector.EntitySelectorConfig",
        {"filter": [{"domain": "binary_sensor"}, {"domain": "sensor"}]},
    )
    return vol.Schema(
        {
            vol.Required(
                CONF_OUTAGE_PROTECTION, default=bool(options.get(CONF_OUTAGE_PROTECTION, False))
            ): selector.BooleanSelector(),
            vol.Optional(
                CONF_MAINS_ENTITY, description={"suggested_value": mains} if mains else None
            ): selector.EntitySelector(config),
        }
    )


def refused_mains_entity(submitted: dict[str, Any] | None) -> bool:
    """Whether the submitted mains entity is neither a binary sensor nor a sensor.

    The form's filter offers only those; a submission through the API is checked here.
    """
    mains = (submitted or {}).get(CONF_MAINS_ENTITY)
    return bool(mains) and str(mains).split(".")[0] not in ("binary_sensor", "sensor")


def outage_options(submitted: dict[str, Any]) -> dict[str, Any]:
    """Return the outage options of the submitted section (an emptied entity field: none)."""
    return {
        CONF_OUTAGE_PROTECTION: bool(submitted.get(CONF_OUTAGE_PROTECTION, False)),
        CONF_MAINS_ENTITY: submitted.get(CONF_MAINS_ENTITY) or None,
    }


def tidy_outages(options: dict[str, Any]) -> dict[str, Any]:
    """Return options without outage options that say only what their absence says.

    Protection off and no mains entity: a form saved unchanged stores the options as before.
    """
    return {
        key: value
        for key, value in options.items()
        if not (key in (CONF_OUTAGE_PROTECTION, CONF_MAINS_ENTITY) and not value)
    }

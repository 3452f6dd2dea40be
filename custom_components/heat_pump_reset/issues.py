"""The repair issues of a heat pump: raised while their cause lasts, removed once it is gone."""

from __future__ import annotations

from typing import Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import (
    DOMAIN,
    ISSUE_DISABLED_ENTITY,
    ISSUE_MISSING_ENTITY,
    ISSUE_NO_START,
    ISSUE_POWER_NOT_RESTORED,
    ISSUE_RECURRING_RESETS,
)

CONF_ENTITY_ID: Final = "entity_id"


def issue_id(key: str, entry_id: str, entity_id: str | None = None) -> str:
    """Return the id of one heat pump's issue (one per wrapped entity for a missing entity)."""
    return f"{key}_{entry_id}" if entity_id is None else f"{key}_{entry_id}_{entity_id}"


@callback
def _manage(
    hass: HomeAssistant,
    key: str,
    entry_id: str,
    placeholders: dict[str, str] | None,
    severity: ir.IssueSeverity,
    *,
    entity_id: str | None = None,
    fixable: bool = True,
) -> None:
    """Raise the issue with `placeholders`, or remove it when they are None (its cause is gone)."""
    ident = issue_id(key, entry_id, entity_id)
    if placeholders is None:
        ir.async_delete_issue(hass, DOMAIN, ident)
        return
    data: dict[str, str | int | float | None] = {"entry_id": entry_id, "key": key}
    if entity_id is not None:
        data[CONF_ENTITY_ID] = entity_id
    ir.async_create_issue(
        hass,
        DOMAIN,
        ident,
        data=data,
        is_fixable=fixable,
        severity=severity,
        translation_key=key,
        translation_placeholders=placeholders,
    )


@callback
def async_manage_recurring(
    hass: HomeAssistant, entry_id: str, name: str, count: int | None, days: int
) -> None:
    """Raise or remove the recurring-resets warning (`count`: resets to report, None: not due)."""
    placeholders = None if count is None else {"name": name, "count": str(count), "days": str(days)}
    _manage(hass, ISSUE_RECURRING_RESETS, entry_id, placeholders, ir.IssueSeverity.WARNING)


@callback
def async_manage_no_start(hass: HomeAssistant, entry_id: str, name: str, due: bool) -> None:
    """Raise or remove the error that the unit did not start after a reset."""
    placeholders = {"name": name} if due else None
    _manage(hass, ISSUE_NO_START, entry_id, placeholders, ir.IssueSeverity.ERROR)


@callback
def async_manage_power(
    hass: HomeAssistant, entry_id: str, name: str, switches_off: list[str]
) -> None:
    """Raise the critical issue while power switches stay off after a reset; remove it once on."""
    placeholders = {"name": name, "entity_ids": ", ".join(switches_off)} if switches_off else None
    _manage(
        hass,
        ISSUE_POWER_NOT_RESTORED,
        entry_id,
        placeholders,
        ir.IssueSeverity.CRITICAL,
        fixable=False,
    )


@callback
def async_manage_missing(
    hass: HomeAssistant, entry_id: str, name: str, entity_id: str, missing: bool
) -> None:
    """Raise or remove the issue that a wrapped entity was removed from Home Assistant."""
    placeholders = {"name": name, "entity_id": entity_id} if missing else None
    _manage(
        hass,
        ISSUE_MISSING_ENTITY,
        entry_id,
        placeholders,
        ir.IssueSeverity.ERROR,
        entity_id=entity_id,
    )


@callback
def async_manage_disabled(
    hass: HomeAssistant, entry_id: str, name: str, entity_id: str, disabled: bool
) -> None:
    """Raise or remove the issue that a wrapped entity was disabled (it has no state, takes no command)."""
    placeholders = {"name": name, "entity_id": entity_id} if disabled else None
    _manage(
        hass,
        ISSUE_DISABLED_ENTITY,
        entry_id,
        placeholders,
        ir.IssueSeverity.ERROR,
        entity_id=entity_id,
        fixable=False,
    )


@callback
def async_delete_all(hass: HomeAssistant, entry_id: str) -> None:
    """Remove every issue of a heat pump (the entry is being removed)."""
    registry = ir.async_get(hass)
    for (domain, ident), issue in list(registry.issues.items()):
        if domain == DOMAIN and issue.data is not None and issue.data.get("entry_id") == entry_id:
            ir.async_delete_issue(hass, DOMAIN, ident)

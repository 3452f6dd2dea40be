"""The wrapped entities over time: an entity dropped by Reconfigure, ids renamed in quick succession."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from custom_components.heat_pump_reset.const import CONF_SWITCHES, DOMAIN

from .conftest import SWITCH_A, SWITCH_B, HeatPump, settle


def missing_issues(hass: HomeAssistant, entry: ConfigEntry) -> set[str]:
    """Return the entities our missing-entity issues of `entry` name."""
    return {
        str(issue.translation_placeholders["entity_id"])
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
        and issue.translation_key == "missing_entity"
        and issue.data is not None
        and issue.data.get("entry_id") == entry.entry_id
        and issue.translation_placeholders is not None
    }


async def test_an_entity_dropped_from_the_heat_pump_takes_its_removal_issue_along(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Breaker b is removed (issue raised), then dropped from the heat pump: the issue goes."""
    er.async_get(hass).async_remove(SWITCH_B)
    await hass.async_block_till_done()
    assert missing_issues(hass, entry) == {SWITCH_B}
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_SWITCHES: [SWITCH_A]}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await settle(hass)
    assert entry.options[CONF_SWITCHES] == [SWITCH_A]
    assert missing_issues(hass, entry) == set()

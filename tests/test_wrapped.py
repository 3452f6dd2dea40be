"""The wrapped entities over time: an entity dropped by Reconfigure, ids renamed in quick succession."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_RECONFIGURE, ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from custom_components.heat_pump_reset.const import (
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)

from .harness.driving import advance, settle, start, store_key
from .harness.entity_ids import SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import HeatPump


def missing_issues(hass: HomeAssistant, entry: ConfigEntry) -> set[str]:
    """Return the entities our missing-entity issues of `entry` name."""
    return {
        str(issue.data["entity_id"])
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


async def test_reconfigure_mid_run_resumes_the_run_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Reconfigure reloads the entry once: a run under way is stopped and resumed once, not twice."""
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=1), step=timedelta(seconds=5))
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_RECONFIGURE, "entry_id": entry.entry_id}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_THERMOSTAT: THERMOSTAT, CONF_SWITCHES: [SWITCH_B, SWITCH_A]},
    )
    assert result["reason"] == "reconfigure_successful"
    await settle(hass)
    assert entry.options[CONF_SWITCHES] == [SWITCH_B, SWITCH_A]
    assert hass_storage[store_key(entry)]["data"]["active"]["resumed"] == 1


async def test_two_switch_ids_swapped_in_quick_succession_are_followed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """a and b swap ids through a temporary one before any reload runs: each device is followed.

    Mid-run: the run must turn both devices back on under their new ids.
    """
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=1), step=timedelta(seconds=5))
    registry = er.async_get(hass)
    registry.async_update_entity(SWITCH_A, new_entity_id="switch.temporary")
    registry.async_update_entity(SWITCH_B, new_entity_id=SWITCH_A)
    registry.async_update_entity("switch.temporary", new_entity_id=SWITCH_B)
    await settle(hass)
    # Device a (cut first) is now called breaker_b, device b breaker_a.
    assert entry.options[CONF_SWITCHES] == [SWITCH_B, SWITCH_A]
    assert entry.runtime_data.run is not None
    assert entry.runtime_data.run.switches == [SWITCH_B, SWITCH_A]
    await advance(hass, freezer, timedelta(minutes=45), step=timedelta(seconds=10))
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]
    assert entry.runtime_data.last is not None
    assert entry.runtime_data.last["outcome"] == "succeeded"

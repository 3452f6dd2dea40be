"""The documented reset after an outage run that ended `no_start` (issue 14).

The outage run put the thermostat back and saw it call for heat or cooling, but no start: the
reset follows on its own, with the trigger `outage` and a reason saying why, through the admission
any start goes through without `force` (the day's limit, the repairs that block resets, a run under
way, a shared entity, an unavailable switch). A refusal is logged and touches nothing; the outage
run's no-start repair stands. Which records call for it is decided in `outage.reset_follows`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.exceptions import HomeAssistantError

from .lines import no_start_after_outage_reason
from .mainsout import mains_said
from .outage import reset_follows
from .run import Outcome, Trigger

if TYPE_CHECKING:
    from .controller import ResetController

_LOGGER = logging.getLogger(__name__)
# An entry being unloaded starts no run.
_LIVE = (ConfigEntryState.LOADED, ConfigEntryState.SETUP_IN_PROGRESS)


@callback
def async_reset_after_outages(controller: ResetController) -> CALLBACK_TYPE:
    """Start the documented reset after each outage run of `controller` that ends `no_start`."""
    hass = controller.hass

    @callback
    def _start() -> None:
        entry = controller.entry
        if entry.state not in _LIVE:
            return
        if mains_said(hass, controller.settings.mains_entity) is False:
            # Out again: a reset now could tell nothing; the outage is an outage run's.
            _LOGGER.info("%s: the mains are out again; no reset after the outage", entry.title)
            return
        try:
            controller.async_start(Trigger.OUTAGE, no_start_after_outage_reason(hass))
        except HomeAssistantError as err:
            _LOGGER.warning(
                "%s did not start after the power outage; the reset that should follow did not"
                " start: %s",
                entry.title,
                err,
            )

    @callback
    def _ended(event_type: str, data: dict[str, Any]) -> None:
        last = controller.last
        if (
            event_type != Outcome.NO_START
            or last is None
            or last.get("run_id") != data.get("run_id")
            or not reset_follows(last)
        ):
            return
        # Once every listener has heard of the outage run's end: its end is told before the
        # reset's start, in the event entity and in the logbook alike.
        hass.loop.call_soon(_start)

    return controller.async_add_event_listener(_ended)

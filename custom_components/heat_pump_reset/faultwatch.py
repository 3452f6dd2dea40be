"""The unit's fault entities as a run sees them: their states at the start, a fault that returns.

The rules (which states are a fault, same code or not) are in `faults`; this module reads the
states. A fault counts as returned only when reported after power came back: a code still shown
from before the cut (an integration that has not polled the unit since) is not one.
"""

from __future__ import annotations

from collections.abc import Iterable
import logging

from homeassistant.core import HomeAssistant

from .faults import MISSING, returned_detail, showing
from .run import Outcome, Run

_LOGGER = logging.getLogger(__name__)


def fault_states(hass: HomeAssistant, entity_ids: Iterable[str]) -> dict[str, str]:
    """Return the fault entities' states now (a missing entity as `unavailable`)."""
    return {
        entity_id: state.state if (state := hass.states.get(entity_id)) else MISSING
        for entity_id in entity_ids
    }


class FaultWatch:
    """Notes a fault that shows again after power is back, and ends the run `fault_returned`."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Read the states from `hass`."""
        self._hass = hass

    def returned(self, run: Run) -> bool:
        """Whether a fault shows, reported after power came back; the first ends the run.

        Only a run whose outcome is not yet decided ends so (a cancel, a restart decided first).
        Power must be on (the run never ends before the staged restore and the thermostat: the
        phases only end it after those, whatever the outcome).
        """
        if run.faults_returned:
            return True
        if not run.fault_entities or run.power_on_at is None or run.ending is not None:
            return False
        fresh = {
            entity_id: state.state
            for entity_id in run.fault_entities
            if (state := self._hass.states.get(entity_id)) is not None
            and state.last_reported >= run.power_on_at
        }
        found = showing(fresh, run.no_fault_states)
        if not found:
            return False
        run.faults_returned = found
        run.end_early(Outcome.FAULT_RETURNED, returned_detail(run.faults_at_start, found))
        _LOGGER.warning(
            "The fault of reset %s came back after power was restored: %s", run.run_id, found
        )
        return True

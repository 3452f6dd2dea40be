"""How long Home Assistant was down before it last started, for automations that tell an outage.

Home Assistant saves its restorable states every 15 minutes and when it stops, each stamped with
when it was last seen running; the newest stamp, read before this start saves them again, is when
Home Assistant last ran: exact after a clean stop, up to 15 minutes early after a crash or a power
cut (so such a start looks longer, never shorter).
"""

from __future__ import annotations

from typing import Final

from homeassistant.core import CoreState, HomeAssistant, callback
from homeassistant.helpers import restore_state
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .sequence import downtime_minutes

_DATA_DOWNTIME: Final = f"{DOMAIN}_downtime_minutes"
# The heat pumps that have looked at this start's downtime for an outage (issue 14).
_DATA_CLAIMED: Final = f"{DOMAIN}_downtime_claimed"


@callback
def async_note_start(hass: HomeAssistant) -> None:
    """Note how long Home Assistant was down; unknown when it was already running (a late set-up)."""
    minutes: int | None = None
    if hass.state is CoreState.not_running:
        stored = restore_state.async_get(hass).last_states.values()
        last_seen = max((s.last_seen for s in stored), default=None)
        minutes = downtime_minutes(last_seen, dt_util.utcnow())
    hass.data[_DATA_DOWNTIME] = minutes
    hass.data[_DATA_CLAIMED] = set()


@callback
def downtime(hass: HomeAssistant) -> int | None:
    """Return the minutes Home Assistant was down before this start, or None when unknown."""
    minutes: int | None = hass.data.get(_DATA_DOWNTIME)
    return minutes


@callback
def claim_downtime(hass: HomeAssistant, entry_id: str) -> int | None:
    """Return the downtime before this start once per heat pump: a reload does not see it again."""
    claimed: set[str] = hass.data.setdefault(_DATA_CLAIMED, set())
    if entry_id in claimed:
        return None
    claimed.add(entry_id)
    return downtime(hass)

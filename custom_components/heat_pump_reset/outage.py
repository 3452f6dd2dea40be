"""Outages: what the mains entity's states mean, and when other sources tell of an outage.

Which state means mains present, absent or unknown; when a start of Home Assistant, or the wrapped
switches, tell of an outage that has ended; which recorded run the documented reset follows.

This module is pure: no Home Assistant import. `outages` watches the entities and starts the
outage run (trigger `outage`, first phase `mains_out`), which never touches a power switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from .const import OUTAGE_DOWN_MINUTES
from .run import Outcome, Phase, Run
from .stored import aware_time

# Every wrapped switch unavailable within this window of the first counts as one outage.
TOGETHER_WINDOW: Final = timedelta(seconds=60)

_UNKNOWN_STATES: Final = frozenset({"unavailable", "unknown", "none", ""})


class OutageSource(StrEnum):
    """How the outage became known."""

    MAINS = "mains"  # the mains entity said absent (Home Assistant on a UPS)
    HOME_ASSISTANT_DOWN = "home_assistant_down"  # Home Assistant started after being down
    SWITCHES_UNAVAILABLE = "switches_unavailable"  # every wrapped switch went away together


def mains_present(domain: str, state: str | None) -> bool | None:
    """Whether the mains entity's `state` says mains present (True), absent (False), or nothing.

    A binary sensor is on while the mains are present. A UPS status sensor (Network UPS Tools'
    `ups.status`) holds words: `OB` (on battery) means absent, `OL` (online) present, whatever else
    it says (`OL CHRG`, `OB DISCHRG LB`). Unavailable, unknown or any other state tells nothing.
    """
    if state is None or state.strip().lower() in _UNKNOWN_STATES:
        return None
    if domain == "binary_sensor":
        return {"on": True, "off": False}.get(state)
    words = state.upper().replace(",", " ").split()
    if "OB" in words:
        return False
    if "OL" in words:
        return True
    return None


def mains_entity_present(entity_id: str, state: str | None) -> bool | None:
    """Whether the mains entity `entity_id`, in `state`, says the mains are present (see above)."""
    return mains_present(entity_id.split(".", maxsplit=1)[0], state)


def downtime_outage(minutes: int | None, threshold: int = OUTAGE_DOWN_MINUTES) -> bool:
    """Whether Home Assistant, down `minutes` before it started, tells of an outage."""
    return minutes is not None and minutes >= threshold


def together(went_away: dict[str, datetime], switches: list[str]) -> datetime | None:
    """Return when every switch went away, if all did within `TOGETHER_WINDOW`; else None."""
    if not switches or any(e not in went_away for e in switches):
        return None
    times = [went_away[e] for e in switches]
    return min(times) if max(times) - min(times) <= TOGETHER_WINDOW else None


def outage_record(source: str, started_at: datetime, ended_at: datetime | None) -> dict[str, Any]:
    """Return the outage part of a record, the event and `get_history`: start, end, duration."""
    minutes = (
        None if ended_at is None else max(0, round((ended_at - started_at).total_seconds() / 60))
    )
    return {
        "source": source,
        "started_at": started_at.isoformat(),
        "ended_at": ended_at.isoformat() if ended_at is not None else None,
        "minutes": minutes,
    }


def reset_follows(record: Mapping[str, Any]) -> bool:
    """Whether the documented reset follows a recorded run: an outage run that ended `no_start`.

    Its verification saw the thermostat call for heat or cooling, but no start. Only an outage run
    (its record holds the outage) calls for it: a reset, the one after an outage included, never
    starts another.
    """
    return record.get("outage") is not None and record.get("outcome") == Outcome.NO_START


def outage_recovered(run: Run, found: dict[str, Any]) -> None:
    """Make the recovery of an unreadable outage run hold or put back the thermostat only.

    An outage run never cut power: no switch is turned on. The outage is kept as far as the stored
    data `found` tells; with its mains entity still named, the run waits for the mains again (the
    thermostat stays off if it was set off and its settings can be read), else the thermostat is
    put back at once.
    """
    source, mains = found.get("outage_source"), found.get("mains_entity")
    run.mains_entity = mains if isinstance(mains, str) and mains else None
    run.phase = Phase.MAINS_OUT if run.mains_entity else Phase.RESTORING_THERMOSTAT
    run.thermostat_held = found.get("thermostat_held") is True and bool(run.settings_to_restore)
    run.switches_sent_off = 0
    run.off_sent_at = None
    run.outage_source = source if isinstance(source, str) and source else None
    run.outage_started_at = aware_time(found.get("outage_started_at"))
    run.outage_ended_at = aware_time(found.get("outage_ended_at"))

"""The run that puts things back after a stored run that cannot be read (issue 11).

This module is pure: no Home Assistant import. `recovery` reads the store and drives this run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from .outage import outage_recovered
from .run import MAX_STORED_MINUTES, Outcome, Phase, Run, Trigger
from .sequence import Detail
from .stored import aware_time, is_count

# What the run of a stored file that cannot be read ends as.
UNREADABLE_DETAIL: Final = Detail.STORED_RUN_UNREADABLE.value


def recovery_run(
    data: Any,
    *,
    new_id: str,
    thermostat: str,
    switches: list[str],
    discharge_minutes: int,
    now: datetime,
) -> Run:
    """Return the run that puts things back after a stored run that cannot be read.

    Power may be off: every switch, those configured (`switches`) and any the damaged data still
    names, is turned on like in a restore, retried until it is. Its discharge wait is kept when the
    data still tells when power went off; otherwise power comes back at once. The thermostat gets the
    saved settings the data still holds, if any. The run ends `failed`, `stored_run_unreadable`.

    An outage run (issue 14: trigger `outage`, no off command ever sent) never cut power: no switch
    is turned on, and the outage is kept as far as the data tells (`outage.outage_recovered`).
    """
    found: dict[str, Any] = data if isinstance(data, dict) else {}
    named = found.get("switches")
    extra = [
        e
        for e in (named if isinstance(named, list) else [])
        if isinstance(e, str) and e.startswith("switch.") and e not in switches
    ]
    saved = found.get("saved")
    stored_wait: Any = found.get("discharge_minutes")
    wait = (
        stored_wait
        if is_count(stored_wait) and discharge_minutes <= stored_wait <= MAX_STORED_MINUTES
        else discharge_minutes
    )
    off_at = aware_time(found.get("confirmed_off_at")) or aware_time(found.get("off_sent_at"))
    run_id = found.get("run_id")
    try:
        # Unknown: not a person's action (nothing tells what started it).
        trigger = Trigger(str(found.get("trigger")))
    except ValueError:
        trigger = Trigger.AUTOMATION
    all_switches = [*switches, *dict.fromkeys(extra)]
    run = Run(
        run_id=run_id if isinstance(run_id, str) and run_id else new_id,
        trigger=trigger,
        reason=None,
        thermostat=thermostat,
        switches=all_switches,
        discharge_minutes=wait,
        started_at=aware_time(found.get("started_at")) or now,
        phase=Phase.RESTORING_POWER,
        settings_to_restore=(
            {k: v for k, v in saved.items() if isinstance(k, str)}
            if isinstance(saved, dict)
            else {}
        ),
        # Every switch counts as sent off: each gets an on command, even one that reports on.
        switches_sent_off=len(all_switches),
        off_sent_at=off_at or now,
    )
    if trigger is Trigger.OUTAGE and off_at is None and found.get("switches_cut") == 0:
        outage_recovered(run, found)
    elif off_at is not None and aware_time(found.get("power_on_at")) is None:
        # Power went off at a known time and never came back: the discharge wait still holds.
        run.phase = Phase.DISCHARGING
        run.confirmed_off_at = off_at
    run.end_early(Outcome.FAILED, UNREADABLE_DETAIL)
    return run

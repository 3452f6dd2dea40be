"""The reset history's rules: what a finished run's record holds, how long the list is, what counts.

Pure like `sequence`: no Home Assistant import. Records are plain JSON-able dicts, newest first, so
the store, the `get_history` action and diagnostics share one shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from .outage import outage_record
from .run import Outcome, Run, iso
from .stored import aware_time

# The newest runs kept per heat pump; older ones are dropped as new ones finish.
HISTORY_LIMIT: Final = 200
# Window of the "recent resets" count until a recurrence window is configured.
DEFAULT_RECENT_DAYS: Final = 30

type Record = dict[str, Any]


def make_record(run: Run, outcome: Outcome, finished_at: datetime) -> Record:
    """Return the history record of a run that ended with `outcome` at `finished_at`."""
    return {
        "run_id": run.run_id,
        "trigger": run.trigger.value,
        "reason": run.reason,
        "started_at": iso(run.started_at),
        "finished_at": iso(finished_at),
        "outcome": outcome.value,
        "detail": run.detail,
        "phases": dict(run.phase_log),
        "power_cut": run.power_was_cut,
        "power_off_at": iso(run.confirmed_off_at),
        "power_on_at": iso(run.power_on_at),
        "discharge_minutes": run.discharge_minutes,
        "thermostat": run.thermostat,
        "switches": list(run.switches),
        # What was put back; None when a person changed the thermostat and their setting was kept.
        "restored_settings": None if run.thermostat_overridden else dict(run.settings_to_restore),
        "resumed": run.resumed,
        # False when the thermostat could not be put back (`thermostat_detail` says why), whatever
        # the outcome; None when a person's setting was kept instead.
        "thermostat_restored": None if run.thermostat_overridden else run.thermostat_detail is None,
        "thermostat_detail": run.thermostat_detail,
        # The fault entities' states at the start, and the faults seen after power was back.
        "faults_at_start": dict(run.faults_at_start),
        "faults_returned": dict(run.faults_returned),
        # An outage run's outage (issue 14): source, start, end, minutes; None for a reset.
        "outage": outage_of(run),
    }


def outage_of(run: Run) -> dict[str, Any] | None:
    """Return an outage run's outage (source, start, end, minutes, warm-up), or None for a reset."""
    if run.outage_source is None or run.outage_started_at is None:
        return None
    outage = outage_record(run.outage_source, run.outage_started_at, run.outage_ended_at)
    # The compressor's warm-up after it: until when (None: no hold), and why it ended.
    return {**outage, "warmup_until": iso(run.warmup_ends_at), "warmup_ended": run.warmup_ended}


def record_from_last(last: dict[str, Any]) -> Record:
    """Return a record from the one-run summary that store version 1.1 kept (fields it lacked: None)."""
    # Read with get: a summary that lacks a field makes a record that `record_problem` sets aside.
    return {
        "run_id": last.get("run_id"),
        "trigger": None,
        "reason": None,
        "started_at": None,
        "finished_at": last.get("finished_at"),
        "outcome": last.get("outcome"),
        "detail": last.get("detail"),
        "phases": {},
        "power_cut": None,
        "power_off_at": None,
        "power_on_at": None,
        "discharge_minutes": None,
        "thermostat": None,
        "switches": [],
        "restored_settings": None,
        "resumed": 0,
        "thermostat_restored": None,
        "thermostat_detail": None,
        "faults_at_start": {},
        "faults_returned": {},
        "outage": None,
    }


# Times a record may hold; each is an ISO string with a UTC offset, or None.
_RECORD_TIMES: Final = ("started_at", "finished_at", "power_off_at", "power_on_at")


def record_problem(record: Any) -> str | None:
    """Return why a stored record cannot be used (the field at fault), or None when it can.

    A record another release wrote, or a damaged one, is set aside rather than read: the rules
    below, the sensors and the repair issues would fail on it, or count it wrongly.
    """
    if not isinstance(record, dict):
        return "not_a_record"
    run_id = record.get("run_id")
    if not isinstance(run_id, str) or not run_id:
        return "run_id"
    outcome = record.get("outcome")
    if not isinstance(outcome, str) or outcome not in {o.value for o in Outcome}:
        return "outcome"
    for key in _RECORD_TIMES:
        if record.get(key) is not None and aware_time(record[key]) is None:
            return key
    if not isinstance(record.get("power_cut"), bool | None):
        return "power_cut"
    return None


def readable_acknowledgements(acknowledged: Any) -> dict[str, str]:
    """Return the acknowledgement times that can be read (issue key: aware ISO time)."""
    if not isinstance(acknowledged, dict):
        return {}
    return {
        key: when
        for key, when in acknowledged.items()
        if isinstance(key, str) and aware_time(when) is not None
    }


def prepend(history: Sequence[Record], record: Record, limit: int = HISTORY_LIMIT) -> list[Record]:
    """Return `history` with `record` as its newest entry, bounded to `limit` entries."""
    return [record, *history][:limit]


def started(record: Record) -> datetime | None:
    """Return when a recorded run started (or finished, for records that lack the start)."""
    value = record.get("started_at") or record.get("finished_at")
    return datetime.fromisoformat(value) if value else None


def cut_power(record: Record) -> bool:
    """Whether a recorded run cut power: only those are resets that strain the equipment."""
    if record.get("power_cut") is None:
        # Records migrated from the one-run summary: a reset unless it ended before the cut.
        return record.get("outcome") not in (Outcome.INTERRUPTED, Outcome.FAILED)
    return bool(record["power_cut"])


def resets_since(records: Iterable[Record], since: datetime) -> list[datetime]:
    """Return the start times, newest first, of the recorded resets that started after `since`.

    Strictly after: a reset leaves a window at the moment it is exactly the window's length old.
    """
    times = [
        when
        for record in records
        if cut_power(record) and (when := started(record)) is not None and when > since
    ]
    return sorted(times, reverse=True)


def next_expiry(records: Iterable[Record], now: datetime, window: timedelta) -> datetime | None:
    """Return when the oldest reset inside the window leaves it, so a count can be refreshed then."""
    times = resets_since(records, now - window)
    return times[-1] + window if times else None


# The rate limit counts resets that started within this window before a new start.
RATE_WINDOW: Final = timedelta(hours=24)


def rate_limited(records: Iterable[Record], now: datetime, limit: int) -> int | None:
    """Return the count of resets in the last 24 h when it has reached `limit`, else None."""
    count = recurring_resets(records, now, RATE_WINDOW, None)
    return count if count >= limit else None


def recurring_resets(
    records: Iterable[Record],
    now: datetime,
    window: timedelta,
    acknowledged_at: datetime | None,
) -> int:
    """Return how many resets started within `window` before `now` and after the acknowledgement."""
    since = now - window
    if acknowledged_at is not None and acknowledged_at > since:
        since = acknowledged_at
    return len(resets_since(records, since))


@dataclass(frozen=True, slots=True)
class RecurringDue:
    """Why the recurring-resets issue is due, with the figures its text states.

    `by_day_limit`: due only because the day's limit of resets is used up, with fewer than the
    recurrence setting inside the recurrence window: the text must then speak of the day, not of
    "{count} resets in {days} days" (which would read as below the setting).
    """

    count: int
    day_count: int
    day_limit: int
    by_day_limit: bool


def recurring_due(
    records: Sequence[Record],
    now: datetime,
    *,
    window: timedelta,
    threshold: int,
    day_limit: int,
    acknowledged_at: datetime | None,
) -> RecurringDue | None:
    """Return why the recurring-resets issue is due, else None.

    Due when, counting only runs after the acknowledgement, at least `threshold` resets started
    within `window`, or the day's limit of resets is used up (so a refused start can point to it).
    """
    in_window = recurring_resets(records, now, window, acknowledged_at)
    in_day = recurring_resets(records, now, RATE_WINDOW, acknowledged_at)
    if in_window < threshold and in_day < day_limit:
        return None
    return RecurringDue(
        count=in_window, day_count=in_day, day_limit=day_limit, by_day_limit=in_window < threshold
    )


def next_change(records: Sequence[Record], now: datetime, window: timedelta) -> datetime | None:
    """Return when the next reset leaves `window` or the 24-hour rate window, whichever is first."""
    times = [
        when
        for span in (window, RATE_WINDOW)
        if (when := next_expiry(records, now, span)) is not None
    ]
    return min(times, default=None)


def acknowledged_at(acknowledged: Mapping[str, str] | None, key: str) -> datetime | None:
    """Return when the repair `key` was last acknowledged (the store's `acknowledged`), if ever."""
    when = (acknowledged or {}).get(key)
    return datetime.fromisoformat(when) if when else None


def stands(record: Record, acknowledged_at: datetime | None) -> bool:
    """Whether a repair a record raised still stands: it ended after the last acknowledgement."""
    finished = record.get("finished_at")
    return acknowledged_at is None or (
        isinstance(finished, str) and datetime.fromisoformat(finished) > acknowledged_at
    )


def _newest_standing(
    records: Sequence[Record], outcome: Outcome, acknowledged_at: datetime | None
) -> Record | None:
    """Return the newest run that ended `outcome` while its repair stands, else None.

    A later succeeded run clears it (the unit works again); other outcomes neither raise nor
    clear it.
    """
    for record in records:
        ended = record.get("outcome")
        if ended == Outcome.SUCCEEDED:
            return None
        if ended == outcome:
            return record if stands(record, acknowledged_at) else None
    return None


def unacknowledged_no_start(
    records: Sequence[Record], acknowledged_at: datetime | None
) -> Record | None:
    """Return the newest run that ended `no_start`, if no run succeeded since and it is unacknowledged.

    A later succeeded run clears it; cancelled, failed or interrupted runs neither raise nor clear it.
    """
    return _newest_standing(records, Outcome.NO_START, acknowledged_at)


def unacknowledged_fault(
    records: Sequence[Record], acknowledged_at: datetime | None
) -> Record | None:
    """Return the newest run that ended `fault_returned`, while it stands; else None.

    It stands until it is acknowledged or a later run succeeds (the unit works again, say after a
    technician's visit and a forced reset); other outcomes neither raise nor clear it. A record
    written before issue 13 never ended so.
    """
    return _newest_standing(records, Outcome.FAULT_RETURNED, acknowledged_at)


def returned_faults(record: Record) -> dict[str, str]:
    """Return the faults a record saw after power was back (none in a record from before)."""
    found = record.get("faults_returned")
    return (
        {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}
        if isinstance(found, dict)
        else {}
    )


# How many of the newest runs the Last reset sensor lists in its `runs` attribute (for a dashboard).
RECENT_RUNS_SHOWN: Final = 5


def power_off_minutes(record: Record) -> int | None:
    """Return how many whole minutes (rounded) power was off in a recorded run, if it is known."""
    off, on = record.get("power_off_at"), record.get("power_on_at")
    if not off or not on:
        return None
    seconds = (datetime.fromisoformat(on) - datetime.fromisoformat(off)).total_seconds()
    return max(0, round(seconds / 60))


def summary(record: Record) -> Record:
    """Return the few fields of a recorded run that say when, why, how long and how it ended."""
    return {
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "trigger": record.get("trigger"),
        "reason": record.get("reason"),
        "outcome": record.get("outcome"),
        "detail": record.get("detail"),
        "power_cut": cut_power(record),
        "power_off_minutes": power_off_minutes(record),
        # An outage run's source (issue 14); None for a reset.
        "outage_source": outage.get("source")
        if isinstance(outage := record.get("outage"), dict)
        else None,
    }

"""The reset procedure's rules: phases, outcomes, what follows what, deadlines and restart resumption.

This module is pure: no Home Assistant import. The orchestrator performs what it decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final


class Phase(StrEnum):
    """Where a run is; `idle` when none is active."""

    IDLE = "idle"
    STOPPING_THERMOSTAT = "stopping_thermostat"
    CUTTING_POWER = "cutting_power"
    DISCHARGING = "discharging"
    RESTORING_POWER = "restoring_power"
    STARTING_UP = "starting_up"
    RESTORING_THERMOSTAT = "restoring_thermostat"
    VERIFYING = "verifying"


class Outcome(StrEnum):
    """How a run ended."""

    SUCCEEDED = "succeeded"
    UNVERIFIED = "unverified"
    NO_START = "no_start"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


class Trigger(StrEnum):
    """What started a run."""

    ACTION = "action"  # a person called the action (the call carries a user)
    BUTTON = "button"
    AUTOMATION = "automation"  # an automation, script or blueprint called the action


class Detail(StrEnum):
    """Why a run ended as it did: the `detail` and `thermostat_detail` of a run and its record.

    The ones marked (ids) are followed by a colon and the entities concerned
    (`switch_unavailable:switch.outdoor`); an internal error is `internal_error_in_<phase>`. Each
    value is translated under the attributes `detail` and `thermostat_detail` in strings.json.
    """

    VERIFICATION = "verification"  # the verification window decided the outcome
    CANCELLED = "cancelled"
    ENTRY_DISABLED = "entry_disabled"
    ENTRY_REMOVED = "entry_removed"
    STORED_RUN_UNREADABLE = "stored_run_unreadable"
    RESTARTED_BEFORE_POWER_CUT = "restarted_before_power_cut"
    RESTARTED_WHILE_CUTTING_POWER = "restarted_while_cutting_power"
    POWER_RESTORED_BY_HAND = "power_restored_by_hand"
    POWER_RESTORED_OUTSIDE = "power_restored_outside"
    STORE_WRITE_FAILED = "store_write_failed"
    THERMOSTAT_REFUSED_OFF = "thermostat_refused_off"
    THERMOSTAT_DID_NOT_STOP = "thermostat_did_not_stop"
    THERMOSTAT_UNAVAILABLE_BEFORE_CUT = "thermostat_unavailable_before_cut"
    UNIT_STARTED_BEFORE_CUT = "unit_started_before_cut"
    THERMOSTAT_DID_NOT_RETURN = "thermostat_did_not_return"
    SWITCH_DID_NOT_TURN_OFF = "switch_did_not_turn_off"  # (ids)
    SWITCH_UNAVAILABLE = "switch_unavailable"  # (ids)
    THERMOSTAT_NOT_RESTORED = "thermostat_not_restored"  # (ids: the settings not put back)


INTERNAL_ERROR_PREFIX: Final = "internal_error_in_"


def detail_codes() -> list[str]:
    """Return every code a detail can start with (before any colon), internal errors included."""
    return [
        *(detail.value for detail in Detail),
        *(f"{INTERNAL_ERROR_PREFIX}{phase}" for phase in Phase if phase is not Phase.IDLE),
    ]


# hvac_action values meaning the unit is doing work: power must not be cut during them.
ACTIVE_ACTIONS: Final = frozenset({"heating", "cooling", "drying", "defrosting", "preheating"})
# hvac_action values that show the unit started after the reset.
START_ACTIONS: Final = frozenset({"heating", "cooling"})
# HVAC modes in which a thermostat can call for heating or cooling.
DEMAND_MODES: Final = frozenset({"heat", "cool", "heat_cool", "auto"})
# A room this close to its target gives the thermostat no reason to start (its own hysteresis).
DEMAND_MARGIN: Final = 0.5

BACKOFF_FIRST: Final = timedelta(seconds=10)
BACKOFF_MAX: Final = timedelta(minutes=5)


@dataclass(frozen=True, kw_only=True, slots=True)
class Timing:
    """The configured durations a run follows."""

    discharge: timedelta
    startup_delay: timedelta
    stop_timeout: timedelta
    switch_timeout: timedelta
    stagger: timedelta
    verify_window: timedelta
    thermostat_return: timedelta


def _iso(value: datetime | None) -> str | None:
    """Serialise an aware datetime."""
    return value.isoformat() if value is not None else None


@dataclass(kw_only=True)
class Run:
    """One reset run, as persisted before each action it takes."""

    run_id: str
    trigger: Trigger
    reason: str | None
    thermostat: str
    switches: list[str]
    discharge_minutes: int
    started_at: datetime
    phase: Phase = Phase.IDLE
    phase_started_at: datetime | None = None
    phase_ends_at: datetime | None = None
    phase_log: dict[str, str] = field(default_factory=dict)
    saved: dict[str, Any] = field(default_factory=dict)
    switches_cut: int = 0
    off_sent_at: datetime | None = None
    confirmed_off_at: datetime | None = None
    power_on_at: datetime | None = None
    ending: Outcome | None = None
    detail: str | None = None
    thermostat_overridden: bool = False
    resumed: int = 0
    # The power or current sensor and the running thresholds (W, A) the run started with: a
    # Reconfigure or an options change mid-run applies from the next run. False in a run stored by
    # a release that did not keep them: the entry's current ones are filled in when it loads.
    power_sensor: str | None = None
    power_threshold: float = 0.0
    current_threshold: float = 0.0
    sensor_kept: bool = False
    # The first this many switches were sent off and confirmed off by the run (issue 11 item 5).
    switches_confirmed_off: int = 0
    # Switches a person turned off in Home Assistant during the restore: left off, also after a
    # reload or restart (issue 11 item 7).
    switches_left_off: list[str] = field(default_factory=list)
    # Why the thermostat was not put back, whatever outcome was decided first (issue 11 item 19).
    thermostat_detail: str | None = None
    # A cancel was asked for, even if another outcome was decided first (a run restarted mid-cut
    # is already `interrupted`): after any restart power comes back at once.
    cancel_asked: bool = False

    def enter(self, phase: Phase, now: datetime, ends_at: datetime | None = None) -> None:
        """Move to `phase` at `now`; `ends_at` is when its wait ends, if it has one."""
        self.phase = phase
        self.phase_started_at = now
        self.phase_ends_at = ends_at
        self.phase_log.setdefault(phase.value, now.isoformat())

    def cancel(self) -> None:
        """Note a cancel: the outcome `cancelled` unless one was decided, and the wait ends."""
        self.cancel_asked = True
        self.end_early(Outcome.CANCELLED, "cancelled")

    @property
    def cancelled(self) -> bool:
        """Whether a cancel was asked for, whatever outcome was decided first."""
        return self.cancel_asked or self.ending is Outcome.CANCELLED

    def end_early(self, outcome: Outcome, detail: str) -> None:
        """Decide the outcome now; the first decision wins."""
        if self.ending is None:
            self.ending = outcome
            self.detail = detail

    def thermostat_not_restored(self, detail: str) -> None:
        """Note that the thermostat was not put back.

        The run fails unless its outcome was decided before (a cancel, a restart); the detail is
        kept beside that outcome either way, so a record never says the heating is back when not.
        """
        if self.thermostat_detail is None:
            self.thermostat_detail = detail
        self.end_early(Outcome.FAILED, detail)

    @property
    def power_was_cut(self) -> bool:
        """Whether an off command went to any power switch."""
        return self.switches_cut > 0

    def confirmed_cut(self) -> list[str]:
        """Return the switches the run sent off and saw off: one of them on again is power back."""
        return self.switches[: self.switches_confirmed_off]

    def discharge_deadline(self) -> datetime | None:
        """When power may come back: the confirmed cut plus the discharge wait."""
        if self.confirmed_off_at is None:
            return None
        return self.confirmed_off_at + timedelta(minutes=self.discharge_minutes)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-able data for the store."""
        data = asdict(self)
        for key in (
            "started_at",
            "phase_started_at",
            "phase_ends_at",
            "off_sent_at",
            "confirmed_off_at",
            "power_on_at",
        ):
            data[key] = _iso(getattr(self, key))
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Run:
        """Rebuild a run from `to_dict` output; raise StoredRunError for anything else.

        Every field is checked: a run written by another release (or damaged) must not be
        half-read, nor fail later in the middle of a phase.
        """
        if not isinstance(data, dict):
            raise StoredRunError("not_a_run")
        read = _Reader(data)
        run = cls(
            run_id=read.text("run_id"),
            trigger=read.enum("trigger", Trigger),
            reason=read.text("reason", optional=True),
            thermostat=read.text("thermostat"),
            switches=read.texts("switches"),
            discharge_minutes=read.integer("discharge_minutes"),
            started_at=read.time("started_at"),
            phase=read.enum("phase", Phase),
            phase_started_at=read.time("phase_started_at", optional=True),
            phase_ends_at=read.time("phase_ends_at", optional=True),
            phase_log=read.mapping("phase_log", str),
            saved=read.mapping("saved", object),
            switches_cut=read.integer("switches_cut", default=0),
            off_sent_at=read.time("off_sent_at", optional=True),
            confirmed_off_at=read.time("confirmed_off_at", optional=True),
            power_on_at=read.time("power_on_at", optional=True),
            ending=read.enum("ending", Outcome, optional=True),
            detail=read.text("detail", optional=True),
            thermostat_overridden=read.flag("thermostat_overridden"),
            resumed=read.integer("resumed", default=0),
            power_sensor=read.text("power_sensor", optional=True),
            power_threshold=read.number("power_threshold", default=0.0),
            current_threshold=read.number("current_threshold", default=0.0),
            sensor_kept=read.flag("sensor_kept"),
            switches_confirmed_off=read.integer("switches_confirmed_off", default=0),
            switches_left_off=read.texts("switches_left_off", default=[]),
            thermostat_detail=read.text("thermostat_detail", optional=True),
            cancel_asked=read.flag("cancel_asked"),
        )
        # What resuming relies on: a cut has its time, a discharge wait its deadline.
        if run.discharge_minutes > MAX_STORED_MINUTES:
            raise StoredRunError("discharge_minutes")
        if not 0 <= run.switches_cut <= len(run.switches):
            raise StoredRunError("switches_cut")
        if run.switches_cut and run.off_sent_at is None:
            raise StoredRunError("off_sent_at")
        if run.phase is Phase.DISCHARGING and run.confirmed_off_at is None:
            raise StoredRunError("confirmed_off_at")
        return run


class StoredRunError(ValueError):
    """A stored run this release cannot read; the message names the field."""


class _Reader:
    """Reads the fields of a stored run, each of the one type it must have."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def _get(self, key: str, optional: bool) -> Any:
        value = self._data.get(key)
        if value is None and not optional:
            raise StoredRunError(key)
        return value

    def text(self, key: str, *, optional: bool = False) -> Any:
        value = self._get(key, optional)
        if value is not None and (not isinstance(value, str) or not value):
            raise StoredRunError(key)
        return value

    def texts(self, key: str, *, default: list[str] | None = None) -> list[str]:
        value = self._get(key, default is not None)
        if value is None and default is not None:
            return list(default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise StoredRunError(key)
        return list(value)

    def integer(self, key: str, *, default: int | None = None) -> int:
        value = self._get(key, default is not None)
        if value is None and default is not None:
            return default
        if not _count(value):
            raise StoredRunError(key)
        return int(value)

    def number(self, key: str, *, default: float) -> float:
        value = self._get(key, True)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise StoredRunError(key)
        return float(value)

    def flag(self, key: str) -> bool:
        value = self._get(key, True)
        if value is not None and not isinstance(value, bool):
            raise StoredRunError(key)
        return bool(value)

    def time(self, key: str, *, optional: bool = False) -> Any:
        value = self._get(key, optional)
        if value is None:
            return None
        parsed = aware_time(value)
        if parsed is None:
            raise StoredRunError(key)
        return parsed

    def enum[E: StrEnum](self, key: str, kind: type[E], *, optional: bool = False) -> Any:
        value = self._get(key, optional)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            raise StoredRunError(key) from None

    def mapping(self, key: str, value_type: type) -> dict[str, Any]:
        value = self._get(key, True)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, value_type) for k, v in value.items()
        ):
            raise StoredRunError(key)
        return dict(value)


def _count(value: Any) -> bool:
    """Whether `value` is a whole number from 0 up (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def aware_time(value: Any) -> datetime | None:
    """Return the time an ISO string with a UTC offset names; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A year this far out would overflow once a wait is added to it.
    return parsed if parsed.utcoffset() is not None and parsed.year < 9000 else None


# What the run of a stored file that cannot be read ends as.
UNREADABLE_DETAIL: Final = Detail.STORED_RUN_UNREADABLE.value
# The longest discharge wait a stored run may ask for (the action allows 240 minutes).
MAX_STORED_MINUTES: Final = 24 * 60


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
        if _count(stored_wait) and discharge_minutes <= stored_wait <= MAX_STORED_MINUTES
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
        saved=(
            {k: v for k, v in saved.items() if isinstance(k, str)}
            if isinstance(saved, dict)
            else {}
        ),
        # Every switch counts as sent off: each gets an on command, even one that reports on.
        switches_cut=len(all_switches),
        off_sent_at=off_at or now,
    )
    if off_at is not None and aware_time(found.get("power_on_at")) is None:
        # Power went off at a known time and never came back: the discharge wait still holds.
        run.phase = Phase.DISCHARGING
        run.confirmed_off_at = off_at
    run.end_early(Outcome.FAILED, UNREADABLE_DETAIL)
    return run


def next_phase(run: Run) -> Phase | None:
    """Return the phase after the current one has finished, or None when the run is over."""
    match run.phase:
        case Phase.STOPPING_THERMOSTAT:
            return Phase.RESTORING_THERMOSTAT if run.ending else Phase.CUTTING_POWER
        case Phase.CUTTING_POWER:
            if run.ending is None:
                return Phase.DISCHARGING
            # Power that went off comes back through the staged restore; otherwise only the thermostat.
            return Phase.RESTORING_POWER if run.power_was_cut else Phase.RESTORING_THERMOSTAT
        case Phase.DISCHARGING:
            return Phase.RESTORING_POWER
        case Phase.RESTORING_POWER:
            return Phase.STARTING_UP
        case Phase.STARTING_UP:
            return Phase.RESTORING_THERMOSTAT
        case Phase.RESTORING_THERMOSTAT:
            return Phase.VERIFYING if run.ending is None else None
        case _:
            return None


# Added to the latest moment a switch could have confirmed off when a restart finds a cut under way:
# the store write before the command, or a device that acts late, must not shorten the wait.
RESUME_CUT_MARGIN: Final = timedelta(minutes=1)
# Phases a reload repeats from their start instead of ending the run.
_REDONE_AFTER_RELOAD: Final = (Phase.STOPPING_THERMOSTAT, Phase.CUTTING_POWER)


def resume(
    run: Run, now: datetime, timing: Timing, *, reloaded: bool = False
) -> tuple[Phase, datetime | None]:
    """Decide where a stored run continues after a restart or reload, and that phase's deadline.

    After a restart, before power was cut the thermostat is put back and the run ends
    `interrupted`: nobody knows what happened while Home Assistant was down. A partial cut counts as
    a cut from the last off command plus the confirm timeout (the latest moment a switch could have
    confirmed off) plus a margin, so the discharge wait is never shortened. After a reload (a moment ago, in this
    process) a run still stopping the thermostat or cutting power carries on with that phase.

    A cancelled run (a cancel accepted while Home Assistant started, or written to disk before a
    restart) resumes as a cancel acts in one process: the discharge wait and the verification end
    at once, so power comes back at once; the staged restore is never cut short.
    """
    run.resumed += 1
    if reloaded and run.ending is None and run.phase in _REDONE_AFTER_RELOAD:
        # Stopping and cutting repeat safely: an off command to what is off changes nothing, and
        # every check before a cut runs again.
        return run.phase, None
    match run.phase:
        case Phase.IDLE | Phase.STOPPING_THERMOSTAT:
            run.end_early(Outcome.INTERRUPTED, "restarted_before_power_cut")
            return Phase.RESTORING_THERMOSTAT, None
        case Phase.CUTTING_POWER:
            if not run.power_was_cut:
                run.end_early(Outcome.INTERRUPTED, "restarted_before_power_cut")
                return Phase.RESTORING_THERMOSTAT, None
            run.end_early(Outcome.INTERRUPTED, "restarted_while_cutting_power")
            assert run.off_sent_at is not None
            run.confirmed_off_at = run.off_sent_at + timing.switch_timeout + RESUME_CUT_MARGIN
            return _discharge_or_restore(run, now, timing)
        case Phase.DISCHARGING:
            return _discharge_or_restore(run, now, timing)
        case Phase.STARTING_UP:
            # Never cut short, cancelled or not: the thermostat must come back.
            return run.phase, _within(run.phase_ends_at, now, timing.startup_delay)
        case Phase.VERIFYING:
            if run.cancelled:
                # A cancel ends the watch at once, as in one process.
                return run.phase, now
            if run.phase_ends_at is None or run.phase_ends_at <= now:
                # The window ended while nobody watched the unit: judging it now would call a unit
                # that started and stopped meanwhile `no_start`. It gets a whole window of its own.
                return run.phase, now + timing.verify_window
            return run.phase, _within(run.phase_ends_at, now, timing.verify_window)
        case _:
            return run.phase, None


def _within(ends_at: datetime | None, now: datetime, longest: timedelta) -> datetime | None:
    """Return a stored deadline, or `now + longest` when it lies further ahead than that.

    A deadline further away than the phase lasts was written while the clock ran ahead (a host
    whose real-time clock was wrong until network time arrived): kept, it would hold the run, and
    power, for as long as the clock was wrong.
    """
    if ends_at is not None and ends_at - now > longest:
        return now + longest
    return ends_at


def _discharge_or_restore(run: Run, now: datetime, timing: Timing) -> tuple[Phase, datetime | None]:
    """Continue the discharge wait, or restore power at once when its deadline passed meanwhile.

    A deadline further away than a whole wait (a clock that ran ahead when the cut was written)
    restarts the wait from now: the whole wait, never less, and never for as long as the clock
    was wrong. A cancelled run restores power at once too, as a cancel ends the wait in one process.
    """
    deadline = run.discharge_deadline()
    longest = timedelta(minutes=run.discharge_minutes) + timing.switch_timeout + RESUME_CUT_MARGIN
    if deadline is not None and deadline - now > longest:
        run.confirmed_off_at = now
        deadline = run.discharge_deadline()
    if run.cancelled or (deadline is not None and deadline <= now):
        # Re-entering the wait would only write the run once more before power can come back.
        return Phase.RESTORING_POWER, None
    return Phase.DISCHARGING, deadline


class NeverCut:
    """Which switches of a discharge wait were never cut, so that their being on is no power back.

    A switch never sent an off was never cut. The last one sent an off may not have been either (a
    restart between the write and the command): it was never cut if it reports on when first seen
    in the wait. First seen means its first real report (`reported` gives None until then): after a
    restart its integration may set up after Home Assistant started, and a switch that does not
    exist yet says nothing.
    """

    def __init__(self, run: Run, reported: Callable[[str], str | None]) -> None:
        """Start deciding, from the switches' reports so far."""
        self._run = run
        self._reported = reported
        self._decided: dict[str, bool] = {}
        for entity_id in run.switches:
            self.holds(entity_id)

    def holds(self, entity_id: str) -> bool:
        """Whether `entity_id` counts as never cut (an undecided one does: it reports nothing)."""
        if entity_id not in self._decided:
            index = self._run.switches.index(entity_id)
            if index >= self._run.switches_cut:
                self._decided[entity_id] = True
            elif entity_id in self._run.confirmed_cut():
                # The run saw it off: on again is power back, whenever and however it came.
                self._decided[entity_id] = False
            elif (state := self._reported(entity_id)) is None:
                return True
            else:
                self._decided[entity_id] = state == "on"
        return self._decided[entity_id]


def overdue_switches(
    off: Iterable[str], due: Mapping[str, datetime], now: datetime, grace: timedelta
) -> list[str]:
    """Return the switches, of those still off, whose own time to be on passed `grace` ago.

    Each switch counts from its own turn in the staggered restore (or its first command), not from
    the start of the restore: a long stagger, or many switches, is no fault.
    """
    return [e for e in off if e in due and due[e] + grace <= now]


def wait_ends_on_cancel(phase: Phase) -> bool:
    """Whether a cancel cuts the current phase's wait short.

    The staged restore is never cut short: power, the start-up delay and putting the thermostat back
    (a cancel must not leave the heating off). A cancel skips only what comes after them.
    """
    return phase not in (Phase.RESTORING_POWER, Phase.STARTING_UP, Phase.RESTORING_THERMOSTAT)


def backoff(attempt: int) -> timedelta:
    """Return the pause before power-restore attempt `attempt` (1-based) is retried."""
    # Capped exponent: the pause stops growing at BACKOFF_MAX, and a huge attempt count must not overflow.
    delay: timedelta = BACKOFF_FIRST * (2 ** min(max(attempt - 1, 0), 16))
    return min(delay, BACKOFF_MAX)


def is_stopped(hvac_mode: str | None, hvac_action: str | None) -> bool:
    """Whether a thermostat reports off and no active work."""
    return hvac_mode == "off" and hvac_action not in ACTIVE_ACTIONS


def has_demand(
    hvac_mode: str | None,
    current: float | None,
    target: float | None,
    low: float | None,
    high: float | None,
) -> bool:
    """Whether the thermostat should be heating or cooling; unknown temperatures count as demand."""
    if hvac_mode not in DEMAND_MODES:
        return False
    if current is None:
        return True
    if hvac_mode == "heat":
        return target is None or current <= target - DEMAND_MARGIN
    if hvac_mode == "cool":
        return target is None or current >= target + DEMAND_MARGIN
    if low is not None and high is not None:
        return current <= low - DEMAND_MARGIN or current >= high + DEMAND_MARGIN
    if target is not None:
        return abs(current - target) >= DEMAND_MARGIN
    return True


def verified_outcome(start_seen: bool, demand_seen: bool, observable: bool) -> Outcome:
    """Return the outcome of the verification window."""
    if start_seen:
        return Outcome.SUCCEEDED
    if demand_seen and observable:
        return Outcome.NO_START
    return Outcome.UNVERIFIED


def shared_entities(wrapped: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Return each entity two or more heat pumps switch, with those heat pumps (keys of `wrapped`).

    A power switch or a thermostat belongs to one heat pump: a reset of one would cut the power of
    the other while it runs, and turn it back on during the other's discharge wait.
    """
    users: dict[str, list[str]] = {}
    for heat_pump, entity_ids in wrapped.items():
        for entity_id in dict.fromkeys(entity_ids):
            users.setdefault(entity_id, []).append(heat_pump)
    return {entity_id: found for entity_id, found in users.items() if len(found) > 1}


def above_threshold(reading: float | None, threshold: float) -> bool | None:
    """Whether a sensor reading (in W or A) shows the unit running; None when it is unreadable.

    A negative reading (a reversed clamp, a meter that counts both ways) is judged by its size.
    Before a cut only False lets it proceed (unreadable counts as running); after the restore only
    True counts as a start.
    """
    if reading is None:
        return None
    return abs(reading) > threshold


def migrated_threshold(
    old: float, old_default: float, default: float, in_unit: float | None, *, kind_known: bool
) -> float:
    """Return a running threshold (W or A) for one kept from before thresholds had a unit.

    `old` was compared with the raw reading, in whatever unit the sensor had. `in_unit` is `old`
    read in the sensor's unit and converted to this threshold's unit, None when the sensor is not
    of this kind; `kind_known` whether the sensor's kind (power or current) is known at all.
    Never higher than a reading of the old value, so nothing the old threshold took for running is
    taken for idle now:
    - the old default, never changed: the new default;
    - a sensor of this kind: the lower of `old` in the sensor's unit and `old` in W or A;
    - a sensor of the other kind: the new default (the old value was not meant for this one);
    - a sensor of unknown kind (or none): `old`, but at most the new default.
    """
    if old == old_default:
        return default
    if in_unit is not None:
        return min(in_unit, old)
    if kind_known:
        return default
    return min(old, default)


def unit_working(hvac_action: str | None, above: bool | None) -> bool:
    """Whether the unit does work now: an active hvac_action, or its sensor above the threshold.

    Defrosting and preheating count. An unreadable reading (`above` None) proves nothing here
    (before a cut the reset counts it as running instead).
    """
    return hvac_action in ACTIVE_ACTIONS or above is True


def downtime_minutes(last_seen: datetime | None, started: datetime) -> int | None:
    """Return the whole minutes Home Assistant was down before it started, if known."""
    if last_seen is None:
        return None
    return max(0, int((started - last_seen).total_seconds() // 60))

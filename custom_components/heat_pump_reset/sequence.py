"""The reset procedure's rules: what follows what, deadlines, restart resumption and outcomes.

This module is pure: no Home Assistant import. The controller drives a run through its phases,
and `phases` performs each one, as this module decides. The three rules it keeps:

1. Power is never cut while the unit runs: each switch is cut only after the thermostat is off
   and idle and, with a sensor, the unit draws no power (`refused_cut`).
2. Power never comes back before the discharge wait ends, unless a person cancels or power comes
   back from outside (`resume`, `next_phase`, `wait_ends_on_cancel`).
3. Once cut, power always comes back: every path out of a cut goes through the staged restore,
   which no cancel cuts short, across restarts and reloads (`next_phase`, `resume`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from .const import MAX_WARMUP_MINUTES
from .run import (
    CYCLE_PENDING,
    Outcome,
    Phase,
    Run,
    Timing,
)


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
    POWER_STILL_FLOWING = "power_still_flowing"  # the reading proved no cut (issue 13)
    NO_POWER_AFTER_RESTORE = "no_power_after_restore"  # switches on, circuit dead (issue 13)
    # The unit's fault showed again after power was back: the code it showed at the start, or
    # another (ids: the fault entities; outcome `fault_returned`, issue 13).
    SAME_FAULT = "same_fault"
    DIFFERENT_FAULT = "different_fault"


INTERNAL_ERROR_PREFIX: Final = "internal_error_in_"


def detail_codes() -> list[str]:
    """Return every code a detail can start with (before any colon), internal errors included."""
    return [
        *(detail.value for detail in Detail),
        *(f"{INTERNAL_ERROR_PREFIX}{phase}" for phase in Phase if phase is not Phase.IDLE),
    ]


BACKOFF_FIRST: Final = timedelta(seconds=10)
BACKOFF_MAX: Final = timedelta(minutes=5)


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
            # A contactor that did not close gets one more off and on (issue 13).
            if run.power_cycle == CYCLE_PENDING:
                return Phase.RESTORING_POWER
            return Phase.RESTORING_THERMOSTAT
        case Phase.RESTORING_THERMOSTAT:
            return Phase.VERIFYING if run.ending is None else None
        case Phase.MAINS_OUT:
            # The outage is over: after a long one in the cold the compressor warms up first.
            # Then a thermostat the run set off goes back after the start-up delay, as after a
            # reset; a person's own setting is kept (issue 14).
            if run.warmup_ends_at is not None and not run.cancelled:
                return Phase.WARMING_UP if not run.thermostat_overridden else None
            return _back_after_outage(run)
        case Phase.WARMING_UP:
            # The mains out again during the hold: the outage goes on.
            if run.outage_ended_at is None and not run.cancelled:
                return Phase.MAINS_OUT
            return _back_after_outage(run)
        case _:
            return None


def _back_after_outage(run: Run) -> Phase | None:
    """Return what follows an outage (or its warm-up): the staged restore, if the run set it off."""
    held = run.thermostat_held and not run.thermostat_overridden
    return Phase.STARTING_UP if held else None


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
        case Phase.WARMING_UP:
            # The hold keeps its deadline across restarts; a cancel ends it at once.
            if run.cancelled:
                return run.phase, now
            return run.phase, _within(run.phase_ends_at, now, timedelta(minutes=MAX_WARMUP_MINUTES))
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
            if index >= self._run.switches_sent_off:
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


def cancel_ends_waits(run: Run | None) -> bool:
    """Whether the run under way is cancelled in a phase whose waits a cancel cuts short."""
    return run is not None and run.cancelled and wait_ends_on_cancel(run.phase)


def backoff(attempt: int) -> timedelta:
    """Return the pause before power-restore attempt `attempt` (1-based) is retried."""
    # Capped exponent: the pause stops growing at BACKOFF_MAX, and a huge attempt count must not overflow.
    delay: timedelta = BACKOFF_FIRST * (2 ** min(max(attempt - 1, 0), 16))
    return min(delay, BACKOFF_MAX)


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


def downtime_minutes(last_seen: datetime | None, started: datetime) -> int | None:
    """Return the whole minutes Home Assistant was down before it started, if known."""
    if last_seen is None:
        return None
    return max(0, int((started - last_seen).total_seconds() // 60))


def refused_cut(
    *, thermostat_available: bool, unit_idle: bool, switch_commandable: bool, entity_id: str
) -> str | None:
    """Rule 1: whether the next switch may be cut now; if not, the detail the run fails with.

    A thermostat gone (often powered by a switch cut before this one) cannot show the unit is
    idle, so nothing more is cut (README: put that switch last). A unit running again (the
    thermostat or the sensor says so) is never cut. A switch that cannot take a command ends the
    run; `unknown` can take one (the checks above passed, so an off is safe, and the switch's
    report confirms it like any other).
    """
    if not thermostat_available:
        return "thermostat_unavailable_before_cut"
    if not unit_idle:
        return "unit_started_before_cut"
    if not switch_commandable:
        return f"switch_unavailable:{entity_id}"
    return None


def thermostat_failure_detail(*, returned: bool, missing: list[str]) -> str:
    """Return why the thermostat was not put back: it never returned, or the settings that differ."""
    if not returned:
        return "thermostat_did_not_return"
    return "thermostat_not_restored:" + ",".join(missing)


def discharge_in_range(minutes: int, shortest: int, longest: int) -> bool:
    """Whether an action's discharge wait is allowed: never below the configured one."""
    return shortest <= minutes <= longest

"""The pure rules of a reset: what follows what, restart resumption, persistence and verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.heat_pump_reset.run import (
    Outcome,
    Phase,
    Run,
    StoredRunError,
    Timing,
    Trigger,
)
from custom_components.heat_pump_reset.running import (
    ACTIVE_ACTIONS,
    has_demand,
    is_stopped,
    unit_working,
)
from custom_components.heat_pump_reset.salvage import recovery_run
from custom_components.heat_pump_reset.sequence import (
    BACKOFF_FIRST,
    BACKOFF_MAX,
    RESUME_CUT_MARGIN,
    NeverCut,
    backoff,
    downtime_minutes,
    next_phase,
    overdue_switches,
    resume,
    verified_outcome,
    wait_ends_on_cancel,
)

T0 = datetime(2025, 1, 15, 6, 0, tzinfo=UTC)
TIMING = Timing(
    discharge=timedelta(minutes=30),
    startup_delay=timedelta(minutes=5),
    stop_timeout=timedelta(seconds=120),
    switch_timeout=timedelta(seconds=30),
    stagger=timedelta(seconds=10),
    verify_window=timedelta(minutes=15),
    thermostat_return=timedelta(minutes=60),
)


def make_run(**changes: Any) -> Run:
    """Return a run on two breakers with a 30-minute wait, with `changes` applied."""
    fields: dict[str, Any] = {
        "run_id": "abc",
        "trigger": Trigger.PERSON,
        "reason": None,
        "thermostat": "climate.living_room",
        "switches": ["switch.breaker_a", "switch.breaker_b"],
        "discharge_minutes": 30,
        "started_at": T0,
    }
    fields.update(changes)
    return Run(**fields)


# --- What follows what -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "ending", "switches_sent_off", "expected"),
    [
        (Phase.STOPPING_THERMOSTAT, None, 0, Phase.CUTTING_POWER),
        (Phase.STOPPING_THERMOSTAT, Outcome.FAILED, 0, Phase.RESTORING_THERMOSTAT),
        (Phase.STOPPING_THERMOSTAT, Outcome.CANCELLED, 0, Phase.RESTORING_THERMOSTAT),
        (Phase.CUTTING_POWER, None, 2, Phase.DISCHARGING),
        (Phase.CUTTING_POWER, Outcome.FAILED, 1, Phase.RESTORING_POWER),
        (Phase.CUTTING_POWER, Outcome.CANCELLED, 2, Phase.RESTORING_POWER),
        (Phase.CUTTING_POWER, Outcome.FAILED, 0, Phase.RESTORING_THERMOSTAT),
        (Phase.CUTTING_POWER, Outcome.CANCELLED, 0, Phase.RESTORING_THERMOSTAT),
        (Phase.DISCHARGING, None, 2, Phase.RESTORING_POWER),
        (Phase.DISCHARGING, Outcome.CANCELLED, 2, Phase.RESTORING_POWER),
        (Phase.RESTORING_POWER, None, 2, Phase.STARTING_UP),
        (Phase.RESTORING_POWER, Outcome.CANCELLED, 2, Phase.STARTING_UP),
        (Phase.STARTING_UP, None, 2, Phase.RESTORING_THERMOSTAT),
        (Phase.STARTING_UP, Outcome.CANCELLED, 2, Phase.RESTORING_THERMOSTAT),
        (Phase.RESTORING_THERMOSTAT, None, 2, Phase.VERIFYING),
        (Phase.RESTORING_THERMOSTAT, Outcome.CANCELLED, 2, None),
        (Phase.RESTORING_THERMOSTAT, Outcome.FAILED, 0, None),
        (Phase.VERIFYING, None, 2, None),
        (Phase.VERIFYING, Outcome.SUCCEEDED, 2, None),
        (Phase.IDLE, None, 0, None),
    ],
)
def test_next_phase(
    phase: Phase, ending: Outcome | None, switches_sent_off: int, expected: Phase | None
) -> None:
    """Each phase leads to the documented next one; power that went off always comes back staged."""
    run = make_run(phase=phase, ending=ending, switches_sent_off=switches_sent_off)
    assert next_phase(run) is expected


@pytest.mark.parametrize(
    ("phase", "ends"),
    [
        (Phase.IDLE, True),
        (Phase.STOPPING_THERMOSTAT, True),
        (Phase.CUTTING_POWER, True),
        (Phase.DISCHARGING, True),
        (Phase.RESTORING_POWER, False),
        (Phase.STARTING_UP, False),
        (Phase.RESTORING_THERMOSTAT, False),
        (Phase.VERIFYING, True),
    ],
)
def test_wait_ends_on_cancel(phase: Phase, ends: bool) -> None:
    """A cancel cuts every wait short except the staged restore: power, start-up delay, thermostat."""
    assert wait_ends_on_cancel(phase) is ends


# --- Restart resumption ------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [Phase.IDLE, Phase.STOPPING_THERMOSTAT])
def test_resume_before_the_cut_puts_the_thermostat_back(phase: Phase) -> None:
    """A run stopped before any power was cut resumes into the thermostat restore, interrupted."""
    run = make_run(phase=phase)
    assert resume(run, T0 + timedelta(hours=1), TIMING) == (Phase.RESTORING_THERMOSTAT, None)
    assert run.ending is Outcome.INTERRUPTED
    assert run.detail == "restarted_before_power_cut"
    assert run.resumed == 1


def test_resume_in_cutting_power_before_any_off_command() -> None:
    """Restarted in cutting_power before any off command: only the thermostat goes back."""
    run = make_run(phase=Phase.CUTTING_POWER, switches_sent_off=0)
    assert resume(run, T0, TIMING) == (Phase.RESTORING_THERMOSTAT, None)
    assert run.ending is Outcome.INTERRUPTED
    assert run.detail == "restarted_before_power_cut"
    assert run.confirmed_off_at is None


@pytest.mark.parametrize("switches_sent_off", [1, 2])
def test_resume_after_a_partial_cut_waits_from_the_latest_possible_cut(
    switches_sent_off: int,
) -> None:
    """A partial cut counts from the last off command plus the confirm timeout: never a short wait."""
    off_sent_at = T0 + timedelta(seconds=40)
    run = make_run(
        phase=Phase.CUTTING_POWER, switches_sent_off=switches_sent_off, off_sent_at=off_sent_at
    )
    phase, ends_at = resume(run, T0 + timedelta(minutes=2), TIMING)
    assert phase is Phase.DISCHARGING
    latest = off_sent_at + timedelta(seconds=30) + RESUME_CUT_MARGIN
    assert run.confirmed_off_at == latest
    assert ends_at == latest + timedelta(minutes=30)
    assert run.ending is Outcome.INTERRUPTED
    assert run.detail == "restarted_while_cutting_power"


@pytest.mark.parametrize(
    ("phase", "switches_sent_off", "ending", "expected", "ending_after"),
    [
        (
            Phase.STOPPING_THERMOSTAT,
            0,
            None,
            (Phase.STOPPING_THERMOSTAT, None),
            None,
        ),
        (Phase.CUTTING_POWER, 0, None, (Phase.CUTTING_POWER, None), None),
        (Phase.CUTTING_POWER, 1, None, (Phase.CUTTING_POWER, None), None),
        # Already decided (here a cancel): the reload changes nothing about that.
        (
            Phase.STOPPING_THERMOSTAT,
            0,
            Outcome.CANCELLED,
            (Phase.RESTORING_THERMOSTAT, None),
            Outcome.CANCELLED,
        ),
        # Stored before it started stopping: nothing to repeat, the thermostat goes back.
        (Phase.IDLE, 0, None, (Phase.RESTORING_THERMOSTAT, None), Outcome.INTERRUPTED),
    ],
)
def test_resume_after_a_reload_repeats_stopping_and_cutting(
    phase: Phase,
    switches_sent_off: int,
    ending: Outcome | None,
    expected: tuple[Phase, datetime | None],
    ending_after: Outcome | None,
) -> None:
    """A reload (not a restart) repeats the stop or the cut of an undecided run instead of ending it."""
    run = make_run(
        phase=phase,
        switches_sent_off=switches_sent_off,
        off_sent_at=T0 if switches_sent_off else None,
    )
    if ending is not None:
        run.end_early(ending, "cancelled")
    assert resume(run, T0 + timedelta(seconds=5), TIMING, reloaded=True) == expected
    assert run.ending is ending_after
    assert run.confirmed_off_at is None
    assert run.resumed == 1


def test_resume_after_a_reload_mid_discharge_keeps_the_deadline() -> None:
    """A reload in the discharge wait resumes it with the deadline a restart would keep."""
    confirmed = T0 + timedelta(minutes=1)
    run = make_run(phase=Phase.DISCHARGING, switches_sent_off=2, confirmed_off_at=confirmed)
    assert resume(run, T0 + timedelta(minutes=5), TIMING, reloaded=True) == (
        Phase.DISCHARGING,
        confirmed + timedelta(minutes=30),
    )


def test_resume_after_a_failed_cut_keeps_the_failure() -> None:
    """A cut that had already failed stays failed after a restart: the first decision wins."""
    off_sent_at = T0 + timedelta(seconds=40)
    run = make_run(
        phase=Phase.CUTTING_POWER,
        switches_sent_off=2,
        off_sent_at=off_sent_at,
        ending=Outcome.FAILED,
        detail="switch_did_not_turn_off:switch.breaker_b",
    )
    assert resume(run, T0, TIMING)[0] is Phase.DISCHARGING
    assert run.ending is Outcome.FAILED
    assert run.detail == "switch_did_not_turn_off:switch.breaker_b"


@pytest.mark.parametrize(
    ("downtime", "expected"),
    [
        (timedelta(minutes=1), Phase.DISCHARGING),
        (timedelta(minutes=44, seconds=59), Phase.DISCHARGING),
        (timedelta(minutes=45), Phase.RESTORING_POWER),
        (timedelta(hours=2), Phase.RESTORING_POWER),
    ],
)
def test_resume_discharging_keeps_the_original_deadline(
    downtime: timedelta, expected: Phase
) -> None:
    """The wait ends at the confirmed cut plus the run's minutes, however long the restart took.

    Once that deadline has passed, power is restored at once, without re-entering the wait.
    """
    confirmed = T0 + timedelta(minutes=1)
    run = make_run(
        phase=Phase.DISCHARGING,
        switches_sent_off=2,
        confirmed_off_at=confirmed,
        discharge_minutes=45,
        phase_ends_at=confirmed + timedelta(minutes=45),
    )
    deadline = confirmed + timedelta(minutes=45)
    assert resume(run, confirmed + downtime, TIMING) == (
        expected,
        deadline if expected is Phase.DISCHARGING else None,
    )
    assert run.ending is None


@pytest.mark.parametrize("phase", [Phase.STARTING_UP, Phase.VERIFYING])
def test_resume_timed_phases_keep_their_deadline(phase: Phase) -> None:
    """Start-up and verification continue to the deadline they had before the restart."""
    ends = T0 + timedelta(minutes=40)
    run = make_run(phase=phase, switches_sent_off=2, phase_ends_at=ends)
    assert resume(run, T0 + timedelta(minutes=38), TIMING) == (phase, ends)
    assert run.ending is None


def test_resume_verifying_after_its_window_passed_watches_a_whole_window() -> None:
    """A window that ended while nobody watched is not judged: a whole new one starts now."""
    run = make_run(phase=Phase.VERIFYING, switches_sent_off=2, phase_ends_at=T0)
    now = T0 + timedelta(hours=2)
    assert resume(run, now, TIMING) == (Phase.VERIFYING, now + TIMING.verify_window)
    assert run.ending is None


@pytest.mark.parametrize(
    ("phase", "longest"),
    [(Phase.STARTING_UP, TIMING.startup_delay), (Phase.VERIFYING, TIMING.verify_window)],
)
def test_resume_never_waits_longer_than_the_phase_lasts(phase: Phase, longest: timedelta) -> None:
    """A deadline written while the clock ran a year ahead is cut to the phase's own length."""
    run = make_run(phase=phase, switches_sent_off=2, phase_ends_at=T0 + timedelta(days=365))
    assert resume(run, T0, TIMING) == (phase, T0 + longest)


def test_resume_discharging_written_while_the_clock_ran_ahead_waits_a_whole_wait() -> None:
    """A cut confirmed at a time a year ahead: the whole wait from now, not a year."""
    run = make_run(
        phase=Phase.DISCHARGING, switches_sent_off=2, confirmed_off_at=T0 + timedelta(days=365)
    )
    assert resume(run, T0, TIMING) == (Phase.DISCHARGING, T0 + TIMING.discharge)
    assert run.confirmed_off_at == T0


@pytest.mark.parametrize("phase", [Phase.RESTORING_POWER, Phase.RESTORING_THERMOSTAT])
def test_resume_restoring_phases_start_over(phase: Phase) -> None:
    """Restoring power or the thermostat simply continues, without a deadline."""
    run = make_run(phase=phase, switches_sent_off=2, phase_ends_at=T0)
    assert resume(run, T0, TIMING) == (phase, None)
    assert run.ending is None


# A cancelled run (stored `ending == cancelled`) resumes as a cancel acts in one process: the
# discharge wait and the verification end at once; the staged restore is never cut short.
CANCELLED_RESUME: list[tuple[Phase, int, bool, Phase, str | None]] = [
    # phase, switches cut, reloaded, phase it resumes in, its deadline ("now", "kept" or None)
    (Phase.STOPPING_THERMOSTAT, 0, False, Phase.RESTORING_THERMOSTAT, None),
    (Phase.STOPPING_THERMOSTAT, 0, True, Phase.RESTORING_THERMOSTAT, None),
    (Phase.CUTTING_POWER, 0, False, Phase.RESTORING_THERMOSTAT, None),
    (Phase.CUTTING_POWER, 1, False, Phase.RESTORING_POWER, None),
    (Phase.CUTTING_POWER, 2, True, Phase.RESTORING_POWER, None),
    (Phase.DISCHARGING, 2, False, Phase.RESTORING_POWER, None),
    (Phase.DISCHARGING, 2, True, Phase.RESTORING_POWER, None),
    (Phase.RESTORING_POWER, 2, False, Phase.RESTORING_POWER, None),
    (Phase.STARTING_UP, 2, False, Phase.STARTING_UP, "kept"),
    (Phase.RESTORING_THERMOSTAT, 2, False, Phase.RESTORING_THERMOSTAT, None),
    (Phase.VERIFYING, 2, False, Phase.VERIFYING, "now"),
]


@pytest.mark.parametrize(
    ("phase", "switches_sent_off", "reloaded", "expected", "deadline"), CANCELLED_RESUME
)
def test_resume_a_cancelled_run_ends_its_wait_at_once(
    phase: Phase, switches_sent_off: int, reloaded: bool, expected: Phase, deadline: str | None
) -> None:
    """A cancel on disk (accepted while HA started, or written before a restart) is not lost."""
    confirmed = T0 + timedelta(minutes=1)
    # Within a start-up delay of `now`: a deadline further away would be cut to one.
    ends = confirmed + timedelta(minutes=13)
    run = make_run(
        phase=phase,
        switches_sent_off=switches_sent_off,
        off_sent_at=T0 + timedelta(seconds=50) if switches_sent_off else None,
        confirmed_off_at=confirmed if phase is Phase.DISCHARGING else None,
        phase_ends_at=ends,
        ending=Outcome.CANCELLED,
        detail="cancelled",
    )
    now = confirmed + timedelta(minutes=10)
    deadlines = {None: None, "now": now, "kept": ends}
    assert resume(run, now, TIMING, reloaded=reloaded) == (expected, deadlines[deadline])
    assert (run.ending, run.detail) == (Outcome.CANCELLED, "cancelled")


def test_resume_counts_restarts() -> None:
    """Every resumption is counted on the run."""
    run = make_run(phase=Phase.STARTING_UP, phase_ends_at=T0)
    resume(run, T0, TIMING)
    resume(run, T0, TIMING)
    assert run.resumed == 2


# --- The run record ---------------------------------------------------------------------------


def test_enter_records_the_first_entry_of_each_phase() -> None:
    """Entering a phase sets its start and deadline; the log keeps the first time it was entered."""
    run = make_run()
    run.enter(Phase.RESTORING_POWER, T0, None)
    later = T0 + timedelta(minutes=3)
    run.enter(Phase.RESTORING_POWER, later, later + timedelta(minutes=1))
    assert run.phase is Phase.RESTORING_POWER
    assert run.phase_started_at == later
    assert run.phase_ends_at == later + timedelta(minutes=1)
    assert run.phase_log == {"restoring_power": T0.isoformat()}


def test_end_early_first_decision_wins() -> None:
    """The first outcome decided is kept, with its detail; later ones are ignored."""
    run = make_run()
    run.end_early(Outcome.CANCELLED, "cancelled")
    run.end_early(Outcome.FAILED, "thermostat_did_not_return")
    run.end_early(Outcome.INTERRUPTED, "restarted_before_power_cut")
    assert run.ending is Outcome.CANCELLED
    assert run.detail == "cancelled"


def test_confirmed_cut_lists_the_switches_sent_off_and_seen_off() -> None:
    """Only the switches the run saw off count as cut: one of them on again is power restored."""
    run = make_run(switches_sent_off=2, switches_confirmed_off=1)
    assert run.confirmed_cut() == ["switch.breaker_a"]
    run.switches_confirmed_off = 2
    assert run.confirmed_cut() == ["switch.breaker_a", "switch.breaker_b"]


def test_thermostat_not_restored_is_kept_beside_the_first_outcome() -> None:
    """Issue 11 item 19: a cancelled run keeps `cancelled`, and the reason the thermostat is off."""
    run = make_run()
    run.end_early(Outcome.CANCELLED, "cancelled")
    run.thermostat_not_restored("thermostat_did_not_return")
    run.thermostat_not_restored("thermostat_not_restored:hvac_mode")
    assert (run.ending, run.detail) == (Outcome.CANCELLED, "cancelled")
    assert run.thermostat_detail == "thermostat_did_not_return"
    fresh = make_run()
    fresh.thermostat_not_restored("thermostat_not_restored:hvac_mode")
    assert (fresh.ending, fresh.detail) == (Outcome.FAILED, "thermostat_not_restored:hvac_mode")


def test_power_was_cut_and_discharge_deadline() -> None:
    """No deadline before a confirmed cut; power counts as cut once any off command went out."""
    run = make_run()
    assert not run.power_was_cut
    assert run.discharge_deadline() is None
    run.switches_sent_off = 1
    assert run.power_was_cut
    run.confirmed_off_at = T0
    assert run.discharge_deadline() == T0 + timedelta(minutes=30)


def test_run_round_trip_with_every_field() -> None:
    """A run with every field set survives to_dict/from_dict unchanged, and to_dict is JSON-able."""
    run = make_run(
        trigger=Trigger.BUTTON,
        reason="E5 after defrost",
        discharge_minutes=45,
        phase=Phase.VERIFYING,
        phase_started_at=T0 + timedelta(minutes=40),
        phase_ends_at=T0 + timedelta(minutes=55),
        phase_log={"stopping_thermostat": T0.isoformat()},
        settings_to_restore={"hvac_mode": "heat", "temperature": 21.5, "fan_mode": "low"},
        switches_sent_off=2,
        off_sent_at=T0 + timedelta(seconds=5),
        confirmed_off_at=T0 + timedelta(seconds=6),
        power_on_at=T0 + timedelta(minutes=31),
        ending=Outcome.CANCELLED,
        detail="cancelled",
        thermostat_overridden=True,
        resumed=3,
        switches_confirmed_off=2,
        switches_left_off=["switch.breaker_b"],
        thermostat_detail="thermostat_did_not_return",
    )
    data = run.to_dict()
    assert data["started_at"] == T0.isoformat()
    assert data["confirmed_off_at"] == (T0 + timedelta(seconds=6)).isoformat()
    assert data["phase"] == "verifying"
    assert data["trigger"] == "button"
    assert data["ending"] == "cancelled"
    assert Run.from_dict(json.loads(json.dumps(data))) == run


def test_run_round_trip_with_defaults() -> None:
    """A fresh run round-trips with its empty fields left empty."""
    run = make_run()
    data = run.to_dict()
    for key in ("phase_started_at", "phase_ends_at", "off_sent_at", "confirmed_off_at"):
        assert data[key] is None
    assert data["ending"] is None
    assert Run.from_dict(data) == run


def test_run_from_minimal_data() -> None:
    """Data missing the optional keys (an older store) loads with defaults."""
    run = Run.from_dict(
        {
            "run_id": "abc",
            "trigger": "action",
            "thermostat": "climate.living_room",
            "switches": ["switch.breaker_a"],
            "discharge_minutes": 30,
            "started_at": T0.isoformat(),
            "phase": "stopping_thermostat",
            "ending": None,
        }
    )
    assert run.switches == ["switch.breaker_a"]
    assert run.discharge_minutes == 30
    assert run.phase is Phase.STOPPING_THERMOSTAT
    assert run.reason is None
    assert run.ending is None
    assert run.settings_to_restore == {}
    assert run.phase_log == {}
    assert run.switches_sent_off == 0
    assert run.confirmed_off_at is None
    assert not run.thermostat_overridden
    assert run.resumed == 0
    assert run.switches_confirmed_off == 0
    assert run.confirmed_cut() == []
    assert run.switches_left_off == []
    assert run.thermostat_detail is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"switches": ("switch.breaker_a",)}, "switches"),
        ({"switches": "switch.breaker_a"}, "switches"),
        ({"discharge_minutes": "30"}, "discharge_minutes"),
        ({"discharge_minutes": True}, "discharge_minutes"),
        ({"discharge_minutes": 10**9}, "discharge_minutes"),
        ({"ending": ""}, "ending"),
        ({"started_at": "2025-01-15T06:00:00"}, "started_at"),
        ({"started_at": "9999-12-31T23:59:59+00:00"}, "started_at"),
        ({"saved": ["hvac_mode"]}, "saved"),
        ({"phase_log": {"discharging": 5}}, "phase_log"),
        ({"thermostat_overridden": "yes"}, "thermostat_overridden"),
        ({"switches_cut": 3}, "switches_cut"),
        ({"switches_cut": 1, "off_sent_at": None}, "off_sent_at"),
        ({"phase": "discharging", "confirmed_off_at": None}, "confirmed_off_at"),
    ],
)
def test_run_from_data_it_cannot_trust(changes: dict[str, Any], field: str) -> None:
    """Anything but what `to_dict` writes is refused, naming the field, rather than half-read."""
    data = {**make_run().to_dict(), **changes}
    with pytest.raises(StoredRunError, match=field):
        Run.from_dict(data)


def test_recovery_run_from_nothing() -> None:
    """No data at all: every configured switch comes back at once, nothing to put on the thermostat."""
    run = recovery_run(
        None,
        new_id="new",
        thermostat="climate.living_room",
        switches=["switch.breaker_a", "switch.breaker_b"],
        discharge_minutes=30,
        now=T0,
    )
    assert (run.run_id, run.phase, run.settings_to_restore) == ("new", Phase.RESTORING_POWER, {})
    assert (run.ending, run.detail) == (Outcome.FAILED, "stored_run_unreadable")
    assert run.switches_sent_off == 2
    assert run.trigger is Trigger.AUTOMATION
    assert resume(run, T0, TIMING) == (Phase.RESTORING_POWER, None)


def test_recovery_run_keeps_what_it_can_read() -> None:
    """Readable parts are used: its id, extra switches, the settings, and the wait still running."""
    data = {
        "run_id": "old",
        "trigger": "button",
        "phase": "exploding",
        "switches": ["switch.breaker_b", "switch.old_breaker", 5, "light.not_a_switch"],
        "saved": {"hvac_mode": "heat"},
        "discharge_minutes": 45,
        "confirmed_off_at": T0.isoformat(),
    }
    run = recovery_run(
        data,
        new_id="new",
        thermostat="climate.living_room",
        switches=["switch.breaker_a", "switch.breaker_b"],
        discharge_minutes=30,
        now=T0 + timedelta(minutes=10),
    )
    assert run.run_id == "old"
    assert run.trigger is Trigger.BUTTON
    assert run.switches == ["switch.breaker_a", "switch.breaker_b", "switch.old_breaker"]
    assert run.switches_sent_off == 3
    assert run.settings_to_restore == {"hvac_mode": "heat"}
    assert resume(run, T0 + timedelta(minutes=10), TIMING) == (
        Phase.DISCHARGING,
        T0 + timedelta(minutes=45),
    )


# --- Backoff, stop and demand ------------------------------------------------------------------


def test_never_cut_is_decided_from_each_switchs_first_real_report() -> None:
    """Never sent an off: never cut. The last one sent an off: never cut if first seen on, and
    nothing is decided before it reports. The ones before it confirmed off: on is power back."""
    reports: dict[str, str | None] = {"a": "off", "b": None, "c": "on"}
    run = Run(
        run_id="r",
        trigger=Trigger.BUTTON,
        reason=None,
        thermostat="climate.x",
        switches=["a", "b", "c"],
        discharge_minutes=30,
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        switches_sent_off=2,
    )
    never_cut = NeverCut(run, reports.get)
    assert (never_cut.holds("a"), never_cut.holds("c")) == (False, True)
    assert never_cut.holds("b")  # not there yet: undecided
    reports["b"] = "on"  # its integration set up at last: it was never cut
    assert never_cut.holds("b")
    reports["b"] = "off"
    reports["a"] = "on"
    assert never_cut.holds("b")
    assert not never_cut.holds("a")
    other = NeverCut(run, {"a": "off", "b": "off", "c": "on"}.get)
    assert not other.holds("b")


def test_a_switch_is_overdue_from_its_own_turn() -> None:
    """Each switch counts its grace from its own time; one not yet due, or on, is never overdue."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    grace = timedelta(minutes=2)
    due = {"a": t0, "b": t0 + timedelta(minutes=3)}
    assert overdue_switches(["b"], due, t0 + timedelta(minutes=4), grace) == []
    assert overdue_switches(["a", "b"], due, t0 + timedelta(minutes=4), grace) == ["a"]
    assert overdue_switches(["a", "b"], due, t0 + timedelta(minutes=5), grace) == ["a", "b"]
    assert overdue_switches(["c"], due, t0 + timedelta(hours=1), grace) == []


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [
        (0, 10),
        (1, 10),
        (2, 20),
        (3, 40),
        (4, 80),
        (5, 160),
        (6, 300),
        (7, 300),
        (43, 300),
        (10_000, 300),
    ],
)
def test_backoff_doubles_up_to_the_cap(attempt: int, seconds: int) -> None:
    """Retries start at 10 s and double each attempt, capped at 5 minutes."""
    assert backoff(attempt) == timedelta(seconds=seconds)
    assert BACKOFF_FIRST <= backoff(attempt) <= BACKOFF_MAX


@pytest.mark.parametrize(
    ("mode", "action", "stopped"),
    [
        ("off", None, True),
        ("off", "off", True),
        ("off", "idle", True),
        ("off", "fan", True),
        *[("off", action, False) for action in sorted(ACTIVE_ACTIONS)],
        ("heat", "idle", False),
        ("heat", None, False),
        ("cool", "off", False),
        (None, None, False),
        ("unavailable", None, False),
    ],
)
def test_is_stopped(mode: str | None, action: str | None, stopped: bool) -> None:
    """Stopped means mode off and no active work (heating, cooling, drying, defrosting, preheating)."""
    assert is_stopped(mode, action) is stopped


@pytest.mark.parametrize(
    ("mode", "current", "target", "low", "high", "demand"),
    [
        # Modes that never call for heat or cold.
        ("off", 10.0, 21.0, None, None, False),
        ("fan_only", 10.0, 21.0, None, None, False),
        ("dry", 30.0, 21.0, None, None, False),
        (None, 10.0, 21.0, None, None, False),
        # No room temperature: assume demand.
        ("heat", None, 21.0, None, None, True),
        ("heat_cool", None, None, 19.0, 24.0, True),
        # Heat: demand at or below target minus the margin.
        ("heat", 18.0, 21.0, None, None, True),
        ("heat", 20.5, 21.0, None, None, True),
        ("heat", 20.6, 21.0, None, None, False),
        ("heat", 23.0, 21.0, None, None, False),
        ("heat", 23.0, None, None, None, True),
        # Cool: demand at or above target plus the margin.
        ("cool", 25.5, 25.0, None, None, True),
        ("cool", 25.4, 25.0, None, None, False),
        ("cool", 20.0, 25.0, None, None, False),
        ("cool", 20.0, None, None, None, True),
        # A range: demand outside it by the margin.
        ("heat_cool", 18.5, None, 19.0, 24.0, True),
        ("heat_cool", 18.6, 21.0, 19.0, 24.0, False),
        ("heat_cool", 21.0, None, 19.0, 24.0, False),
        ("heat_cool", 24.4, None, 19.0, 24.0, False),
        ("heat_cool", 24.5, None, 19.0, 24.0, True),
        ("auto", 30.0, None, 19.0, 24.0, True),
        # A half range falls back to the single target.
        ("heat_cool", 21.5, 21.0, 19.0, None, True),
        ("auto", 21.2, 21.0, None, 24.0, False),
        ("auto", 20.5, 21.0, None, None, True),
        # Neither target nor range: assume demand.
        ("auto", 21.0, None, None, None, True),
        ("heat_cool", 21.0, None, None, None, True),
    ],
)
def test_has_demand(
    mode: str | None,
    current: float | None,
    target: float | None,
    low: float | None,
    high: float | None,
    demand: bool,
) -> None:
    """Demand follows the mode, the room and the target or range, with a 0.5 degree margin."""
    assert has_demand(mode, current, target, low, high) is demand


@pytest.mark.parametrize(
    ("start_seen", "demand_seen", "observable", "outcome"),
    [
        (True, True, True, Outcome.SUCCEEDED),
        (True, True, False, Outcome.SUCCEEDED),
        (True, False, True, Outcome.SUCCEEDED),
        (True, False, False, Outcome.SUCCEEDED),
        (False, True, True, Outcome.NO_START),
        (False, True, False, Outcome.UNVERIFIED),
        (False, False, True, Outcome.UNVERIFIED),
        (False, False, False, Outcome.UNVERIFIED),
    ],
)
def test_verified_outcome(
    start_seen: bool, demand_seen: bool, observable: bool, outcome: Outcome
) -> None:
    """A seen start succeeds; no start despite observable demand is no_start; anything else unverified."""
    assert verified_outcome(start_seen, demand_seen, observable) is outcome


@pytest.mark.parametrize(
    ("action", "above", "working"),
    [
        ("heating", None, True),
        ("defrosting", None, True),
        ("preheating", None, True),
        ("idle", None, False),
        (None, None, False),
        ("idle", True, True),
        ("idle", False, False),
        ("off", False, False),
    ],
)
def test_unit_working(action: str | None, above: bool | None, working: bool) -> None:
    """An active hvac_action (defrosting and preheating too) or the sensor above its threshold."""
    assert unit_working(action, above) is working


def test_downtime_minutes() -> None:
    """Whole minutes from the last time Home Assistant was seen to its start; unknown stays unknown."""
    assert downtime_minutes(T0, T0 + timedelta(minutes=4, seconds=59)) == 4
    assert downtime_minutes(T0, T0 + timedelta(hours=2)) == 120
    assert downtime_minutes(T0 + timedelta(seconds=5), T0) == 0
    assert downtime_minutes(None, T0) is None


def test_resume_a_cancel_after_another_outcome_still_ends_the_wait() -> None:
    """Restarted mid-cut (`interrupted`), then cancelled: the outcome stays, the wait ends at once."""
    run = make_run(
        phase=Phase.DISCHARGING,
        switches_sent_off=2,
        off_sent_at=T0,
        confirmed_off_at=T0 + timedelta(minutes=1),
        ending=Outcome.INTERRUPTED,
        detail="restarted_while_cutting_power",
    )
    run.cancel()
    restored = Run.from_dict(json.loads(json.dumps(run.to_dict())))
    assert resume(restored, T0 + timedelta(minutes=5), TIMING) == (Phase.RESTORING_POWER, None)
    assert (restored.ending, restored.detail) == (
        Outcome.INTERRUPTED,
        "restarted_while_cutting_power",
    )

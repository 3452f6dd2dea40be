"""The reset procedure's rules: phases, outcomes, what follows what, deadlines and restart resumption.

This module is pure: no Home Assistant import. The orchestrator performs what it decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
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


def _dt(value: str | None) -> datetime | None:
    """Parse what `_iso` wrote."""
    return datetime.fromisoformat(value) if value is not None else None


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

    def enter(self, phase: Phase, now: datetime, ends_at: datetime | None = None) -> None:
        """Move to `phase` at `now`; `ends_at` is when its wait ends, if it has one."""
        self.phase = phase
        self.phase_started_at = now
        self.phase_ends_at = ends_at
        self.phase_log.setdefault(phase.value, now.isoformat())

    def end_early(self, outcome: Outcome, detail: str) -> None:
        """Decide the outcome now; the first decision wins."""
        if self.ending is None:
            self.ending = outcome
            self.detail = detail

    @property
    def power_was_cut(self) -> bool:
        """Whether an off command went to any power switch."""
        return self.switches_cut > 0

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
    def from_dict(cls, data: dict[str, Any]) -> Run:
        """Rebuild a run from `to_dict` output."""
        started_at = _dt(data["started_at"])
        assert started_at is not None
        return cls(
            run_id=data["run_id"],
            trigger=Trigger(data["trigger"]),
            reason=data.get("reason"),
            thermostat=data["thermostat"],
            switches=list(data["switches"]),
            discharge_minutes=int(data["discharge_minutes"]),
            started_at=started_at,
            phase=Phase(data["phase"]),
            phase_started_at=_dt(data.get("phase_started_at")),
            phase_ends_at=_dt(data.get("phase_ends_at")),
            phase_log=dict(data.get("phase_log", {})),
            saved=dict(data.get("saved", {})),
            switches_cut=int(data.get("switches_cut", 0)),
            off_sent_at=_dt(data.get("off_sent_at")),
            confirmed_off_at=_dt(data.get("confirmed_off_at")),
            power_on_at=_dt(data.get("power_on_at")),
            ending=Outcome(data["ending"]) if data.get("ending") else None,
            detail=data.get("detail"),
            thermostat_overridden=bool(data.get("thermostat_overridden", False)),
            resumed=int(data.get("resumed", 0)),
        )


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
            return _discharge_or_restore(run, now)
        case Phase.DISCHARGING:
            return _discharge_or_restore(run, now)
        case Phase.STARTING_UP | Phase.VERIFYING:
            return run.phase, run.phase_ends_at
        case _:
            return run.phase, None


def _discharge_or_restore(run: Run, now: datetime) -> tuple[Phase, datetime | None]:
    """Continue the discharge wait, or restore power at once when its deadline passed meanwhile."""
    deadline = run.discharge_deadline()
    if deadline is not None and deadline <= now:
        # Re-entering the wait would only write the run once more before power can come back.
        return Phase.RESTORING_POWER, None
    return Phase.DISCHARGING, deadline


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


def unit_working(hvac_action: str | None, power: float | None, threshold: float) -> bool:
    """Whether the unit does work now: an active hvac_action or power above the threshold.

    Defrosting and preheating count. An unreadable reading proves nothing here (before a cut the
    reset counts it as running instead).
    """
    return hvac_action in ACTIVE_ACTIONS or (power is not None and power > threshold)


def downtime_minutes(last_seen: datetime | None, started: datetime) -> int | None:
    """Return the whole minutes Home Assistant was down before it started, if known."""
    if last_seen is None:
        return None
    return max(0, int((started - last_seen).total_seconds() // 60))

"""Following one run phase by phase: when each phase started, and each phase's physical floor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from custom_components.heat_pump_reset.run import Phase

from .fleet import LATENCY, Pump, controller

PHASE_ORDER = [
    Phase.STOPPING_THERMOSTAT,
    Phase.CUTTING_POWER,
    Phase.DISCHARGING,
    Phase.RESTORING_POWER,
    Phase.STARTING_UP,
    Phase.RESTORING_THERMOSTAT,
    Phase.VERIFYING,
]


@dataclass
class Trace:
    """What the bench saw of one run: phase start times, the cut and the end (simulated)."""

    phases: dict[str, datetime] = field(default_factory=dict)
    confirmed_off_at: datetime | None = None
    discharge: timedelta | None = None
    ended: datetime | None = None


def trace(pump: Pump) -> Trace:
    """Follow the controller's run through its change listener."""
    seen = Trace()
    ctl = controller(pump)

    @callback
    def _changed() -> None:
        run = ctl.run
        now = dt_util.utcnow()
        if run is None:
            if seen.phases and seen.ended is None:
                seen.ended = now
            return
        seen.phases.setdefault(str(run.phase), now)
        if run.confirmed_off_at is not None:
            seen.confirmed_off_at = run.confirmed_off_at
            seen.discharge = timedelta(minutes=run.discharge_minutes)

    ctl.async_add_listener(_changed)
    return seen


def floors(pump: Pump, seen: Trace) -> dict[str, float]:
    """Each phase's physical floor (simulated s): device latencies plus the configured waits."""
    timing = controller(pump).settings.timing
    switches = len(pump.switches)
    discharge_floor = 0.0
    if seen.confirmed_off_at and seen.discharge and Phase.DISCHARGING in seen.phases:
        discharge_floor = (
            seen.confirmed_off_at + seen.discharge - seen.phases[Phase.DISCHARGING]
        ).total_seconds()
    return {
        Phase.STOPPING_THERMOSTAT: max(LATENCY.thermostat_command, LATENCY.compressor_rundown),
        Phase.CUTTING_POWER: switches * LATENCY.switch,
        Phase.DISCHARGING: discharge_floor,
        # Each on command goes a stagger after the one before it was sent (or once that switch
        # confirmed, if slower); the last one then takes its own latency to confirm.
        Phase.RESTORING_POWER: (switches - 1) * max(timing.stagger.total_seconds(), LATENCY.switch)
        + LATENCY.switch,
        Phase.STARTING_UP: timing.startup_delay.total_seconds(),
        Phase.RESTORING_THERMOSTAT: LATENCY.thermostat_command,
        Phase.VERIFYING: LATENCY.compressor_start,
    }


def durations(seen: Trace) -> dict[str, float]:
    """Each phase's simulated duration, from its start to the next one's (or the run's end)."""
    starts = [(p, seen.phases[p]) for p in PHASE_ORDER if p in seen.phases]
    out: dict[str, float] = {}
    for i, (phase, at) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else seen.ended
        if end is not None:
            out[phase] = (end - at).total_seconds()
    return out


def restore_gap(pump: Pump, seen: Trace) -> float | None:
    """Seconds between `confirmed_off_at + discharge` and the first power-on command."""
    ons = [c.sim for c in pump.switches[0].sent if c.value == "on"]
    if not ons or seen.confirmed_off_at is None or seen.discharge is None:
        return None
    return (ons[0] - (seen.confirmed_off_at + seen.discharge)).total_seconds()


def outcomes(pumps: list[Pump]) -> dict[str, int]:
    """How the newest recorded run of each heat pump ended."""
    counts: dict[str, int] = {}
    for pump in pumps:
        last = controller(pump).last
        key = str(last["outcome"]) if last else "none"
        counts[key] = counts.get(key, 0) + 1
    return counts

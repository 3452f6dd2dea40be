"""The drive loop: each phase in turn, the run written before each, as `sequence` orders them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
import logging

from homeassistant.util import dt as dt_util

from .phases import Phases
from .run import Outcome, Phase, Run, Timing
from .sequence import backoff, next_phase
from .waiting import Waiter
from .writing import RunWriter

_LOGGER = logging.getLogger(__name__)


async def drive(
    run: Run,
    phase: Phase | None,
    ends_at: datetime | None,
    *,
    phases: Phases,
    writer: RunWriter,
    waiter: Waiter,
    changed: Callable[[], None],
) -> None:
    """Perform each phase from `phase` (its deadline `ends_at`, if known) until the run is over.

    Write before act: each phase is on disk before it touches the equipment, so a restart knows
    what it may have done. An unexpected error ends the run `failed`, except that power is never
    abandoned (the restore goes round again) and the discharge wait is kept.
    """
    steps: dict[Phase, Callable[[Run], Awaitable[None]]] = {
        Phase.STOPPING_THERMOSTAT: phases.stop_thermostat,
        Phase.CUTTING_POWER: phases.cut_power,
        Phase.DISCHARGING: phases.discharge,
        Phase.RESTORING_POWER: phases.restore_power,
        Phase.STARTING_UP: phases.start_up,
        Phase.RESTORING_THERMOSTAT: phases.restore_thermostat,
        Phase.VERIFYING: phases.verify,
        Phase.MAINS_OUT: phases.mains_out,
        Phase.WARMING_UP: phases.warm_up,
    }
    while phase is not None:
        now = dt_util.utcnow()
        if ends_at is None:
            ends_at = _deadline(run, phase, now, phases.timing)
        run.enter(phase, now, ends_at)
        saved = await writer.save(run)
        if not saved and not run.power_was_cut and run.ending is None:
            # Write before act: a restart could not tell what this phase did to the
            # equipment, so nothing is touched; the thermostat goes back as it was.
            run.end_early(Outcome.FAILED, "store_write_failed")
            changed()
            phase, ends_at = next_phase(run), None
            continue
        changed()
        try:
            await steps[phase](run)
        except Exception:
            _LOGGER.exception("Heat pump reset %s failed in phase %s", run.run_id, phase)
            if phase is Phase.RESTORING_POWER:
                # Power is never abandoned: go round again after a pause.
                await waiter.wait(dt_util.utcnow() + backoff(1))
                ends_at = None
                continue
            if phase is Phase.RESTORING_THERMOSTAT:
                # Said beside an outcome decided before (a cancel): not put back.
                run.thermostat_not_restored(f"internal_error_in_{phase}")
            run.end_early(Outcome.FAILED, f"internal_error_in_{phase}")
            if phase is Phase.DISCHARGING:
                # An error is no reason to put power back early: the wait is kept (a
                # cancel still ends it).
                await waiter.wait(run.discharge_deadline())
        phase, ends_at = next_phase(run), None


def _deadline(run: Run, phase: Phase, now: datetime, timing: Timing) -> datetime | None:
    """Return when a waiting phase ends, for the countdown sensor."""
    if phase is Phase.DISCHARGING:
        return run.discharge_deadline()
    if phase is Phase.STARTING_UP:
        return now + timing.startup_delay
    if phase is Phase.VERIFYING:
        return now + timing.verify_window
    if phase is Phase.WARMING_UP:
        return run.warmup_ends_at
    return None

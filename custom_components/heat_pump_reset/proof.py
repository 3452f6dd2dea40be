"""Proof that the cut really cut: what the circuit's reading says about the switches (issue 13).

This module is pure: no Home Assistant import. With a power or current sensor, a switch that
reports `off` is not taken at its word: the reading must fall to "no power" (a level below the
running threshold). `proving` performs the waits; this module decides what a reading means.

- Power still flowing: every switch reports `off` and the reading is above "no power". Power was
  not cut (a welded relay, the wrong circuit wrapped) or came back by another path. The run fails
  `power_still_flowing`, power and the thermostat go back, and no reset starts until a person
  acknowledges the repair.
- No power after the restore: every switch reports `on` and the reading stays at "no power" for
  the whole start-up delay. The contactor did not close: one more on command to each switch
  (never an off: no cut without a discharge wait), and the run fails `no_power_after_restore`
  (it cannot end `succeeded`).
- An unreadable reading (absent, unavailable, unknown, no number, a unit that cannot be
  converted) proves nothing either way: the run goes on as it would without a sensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from .history import stands
from .run import Outcome, Run
from .sequence import Detail


def power_flowing(above_no_power: bool | None, switch_states: Iterable[str | None]) -> bool:
    """Whether power flows though every switch reports `off` (the reading is above "no power")."""
    return above_no_power is True and all(state == "off" for state in switch_states)


def dead_after_restore(above_no_power: bool | None, switch_states: Iterable[str | None]) -> bool:
    """Whether the circuit shows no power though every switch reports `on`."""
    return above_no_power is False and all(state == "on" for state in switch_states)


def fail_flowing(run: Run) -> None:
    """End the run `failed`, `power_still_flowing`.

    It takes the place of `interrupted` (a restart while the cut was proven): the power flowing is
    what the record and the repair must say. A cancel, or another failure decided first, stays.
    """
    detail = Detail.POWER_STILL_FLOWING.value
    if run.ending in (None, Outcome.INTERRUPTED):
        run.ending, run.detail = Outcome.FAILED, detail


def flowing_unacknowledged(
    records: Sequence[dict[str, object]], acknowledged_at: datetime | None
) -> bool:
    """Whether a run ended `power_still_flowing` after the repair was last acknowledged.

    Unlike a unit that did not start, no later run clears it: a welded relay stays welded until a
    person had it looked at and says so.
    """
    return any(
        isinstance(detail := record.get("detail"), str)
        and detail.partition(":")[0] == Detail.POWER_STILL_FLOWING
        and stands(record, acknowledged_at)
        for record in records
    )

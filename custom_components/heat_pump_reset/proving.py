"""Proving the cut with the circuit's reading: the waits of issue 13 (`proof` decides).

With a power or current sensor, after every switch confirmed `off` the reading must fall to "no
power" within the switch confirm timeout; during the discharge wait it must stay there; after the
restore it must rise above it within the start-up delay. Every wait has an absolute deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import logging

from homeassistant.util import dt as dt_util

from .crew import Crew
from .equipment import sensor_above
from .proof import dead_after_restore, fail_flowing, power_flowing
from .run import CYCLE_PENDING, Outcome, Run
from .sequence import Detail
from .waiting import WaitResult

_LOGGER = logging.getLogger(__name__)


class CutProof:
    """Reads one heat pump's circuit against the "no power" level of its run."""

    def __init__(self, crew: Crew) -> None:
        """Wait with `crew`'s waiter, within its switch confirm timeout."""
        self._timing = crew.timing
        self._kit = crew.equipment
        self._waiter = crew.waiter

    def above(self, run: Run) -> bool | None:
        """Whether the run's sensor reads above "no power" (None: no sensor, or unreadable)."""
        if run.power_sensor is None:
            return None
        state = self._kit.state(run.power_sensor)
        return sensor_above(state, run.no_power_threshold, run.no_power_current)

    def flowing(self, run: Run) -> bool:
        """Whether power flows though every switch reports `off`."""
        return power_flowing(self.above(run), (self._kit.reported(e) for e in run.switches))

    async def prove_cut(self, run: Run) -> None:
        """After every switch confirmed off: wait for the reading to fall to "no power".

        Proven, the discharge wait counts from now (never shorter). Not proven within the switch
        confirm timeout while every switch still reports off: the run fails `power_still_flowing`
        and does not start the discharge wait. An unreadable sensor proves nothing: the run goes
        on as without one (README, "Proof of the cut").
        """
        if run.power_sensor is None:
            return
        result = await self._waiter.wait(
            dt_util.utcnow() + self._timing.switch_timeout,
            self._kit.watched(run, *run.switches),
            lambda: self.above(run) is False,
        )
        if result is WaitResult.MET:
            run.confirmed_off_at = dt_util.utcnow()
        elif result is WaitResult.TIMEOUT and self.flowing(run):
            self._fail(run, "the switches report off")
        elif result is WaitResult.TIMEOUT and self.above(run) is None:
            _LOGGER.warning(
                "Sensor %s cannot be read: the power cut of reset %s is not proven",
                run.power_sensor,
                run.run_id,
            )

    async def still_flowing(self, run: Run, back_on: Callable[[], list[str]]) -> bool:
        """Power shows though every switch says off: whether it lasts the switch confirm timeout.

        A switch that reports on meanwhile is power back through it (the run's own path: by hand or
        from outside); a reading that falls back is a spike. Lasting, the run fails.
        """
        result = await self._waiter.wait(
            dt_util.utcnow() + self._timing.switch_timeout,
            self._kit.watched(run, *run.switches),
            lambda: bool(back_on()) or not self.flowing(run),
        )
        if result is WaitResult.TIMEOUT and self.flowing(run) and not back_on():
            self._fail(run, "came back while every switch reports off")
            return True
        return False

    def _fail(self, run: Run, how: str) -> None:
        _LOGGER.error(
            "Power still flows on the circuit of reset %s (%s, reading above no power): a welded"
            " relay or the wrong circuit; power and the thermostat go back",
            run.run_id,
            how,
        )
        fail_flowing(run)

    async def start_up(
        self, run: Run, also: Sequence[str] = (), note: Callable[[], object] = bool
    ) -> None:
        """Wait out the start-up delay; a circuit dead all along with every switch on is a fault.

        The contactor did not close: the run fails `no_power_after_restore` (first decision wins)
        and, once per run, the restore goes round once more: every switch gets another on command
        (a switch that reports on by assumption may have lost its command), with the restore's
        retries. No off: a circuit is never cut and restored without a discharge wait.
        `note` is called at every change of the entities `also` (the unit's fault entities) and
        of the sensor; it never ends the delay.
        """

        def noted() -> bool:
            note()
            return False

        def rises() -> bool:
            note()
            return self.above(run) is True

        if run.power_sensor is None:
            await self._waiter.wait(run.phase_ends_at, list(also), noted)
            return
        watched, since = [run.power_sensor, *also], dt_util.utcnow()
        result = await self._waiter.wait(run.phase_ends_at, watched, rises)
        if result is not WaitResult.TIMEOUT:
            await self._waiter.wait(run.phase_ends_at, list(also), noted)
            return
        if dt_util.utcnow() < since + self._timing.switch_timeout:
            # A start-up delay shorter than a meter takes to report (or what a restart left of
            # it): the reading gets a switch confirm timeout to rise before anything is decided.
            result = await self._waiter.wait(since + self._timing.switch_timeout, watched, rises)
            if result is not WaitResult.TIMEOUT:
                return
        if not dead_after_restore(self.above(run), (self._kit.reported(e) for e in run.switches)):
            return
        _LOGGER.error(
            "Every power switch of reset %s reports on, but %s shows no power: the contactor did"
            " not close",
            run.run_id,
            run.power_sensor,
        )
        run.end_early(Outcome.FAILED, Detail.NO_POWER_AFTER_RESTORE.value)
        if run.power_cycle == 0:
            run.power_cycle = CYCLE_PENDING

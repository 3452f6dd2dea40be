"""Performing a run's phases on the equipment.

What to do and what it means is decided in `sequence`; this module sends the commands, waits, and
reports what it saw to the run.
"""

from __future__ import annotations

import logging

from homeassistant.components.climate.const import SERVICE_SET_HVAC_MODE
from homeassistant.const import SERVICE_TURN_OFF, STATE_OFF, STATE_ON, Platform
from homeassistant.util import dt as dt_util

from . import thermostat
from .crew import Crew
from .faultwatch import FaultWatch
from .mainsout import MainsOut
from .power import PowerRestore
from .proving import CutProof
from .run import CYCLE_DONE, CYCLE_PENDING, Outcome, Run
from .running import DEMAND_MODES, START_ACTIONS, has_demand
from .sequence import NeverCut, backoff, refused_cut, verified_outcome
from .waiting import WaitResult
from .warming import WarmUp

_LOGGER = logging.getLogger(__name__)


class Phases:
    """The seven phases of a run, each performed on the run it is given."""

    def __init__(self, crew: Crew) -> None:
        """Perform the phases with `crew`."""
        self.timing = crew.timing
        self.equipment = crew.equipment
        self.waiter = crew.waiter
        self.notifier = crew.notifier
        self.writer = crew.writer
        self.power = PowerRestore(crew)
        self.proof = CutProof(crew)
        self.faults = FaultWatch(crew.hass)
        # An outage run's first phase (issue 14).
        self.mains_out = MainsOut(crew, crew.outage_ended)
        # The compressor's warm-up after a long outage in the cold.
        self.warm_up = WarmUp(crew, self.mains_out)

    async def stop_thermostat(self, run: Run) -> None:
        """Turn the thermostat off and wait until it and the unit are idle."""
        kit = self.equipment
        if not await kit.call(
            Platform.CLIMATE, SERVICE_SET_HVAC_MODE, run.thermostat, {"hvac_mode": "off"}
        ) and not (
            # Some thermostats list `off` but go off only through `climate.turn_off`.
            thermostat.supports_turn_off(kit.state(run.thermostat))
            and await kit.call(Platform.CLIMATE, SERVICE_TURN_OFF, run.thermostat, {})
        ):
            run.end_early(Outcome.FAILED, "thermostat_refused_off")
            return
        result = await self.waiter.wait(
            dt_util.utcnow() + self.timing.stop_timeout,
            kit.watched(run, run.thermostat),
            lambda: kit.unit_idle(run),
        )
        if result is WaitResult.TIMEOUT:
            run.end_early(Outcome.FAILED, "thermostat_did_not_stop")

    async def cut_power(self, run: Run) -> None:
        """Turn the power switches off in order, confirming each; any failure ends the run.

        Repeated after a reload, the switches sent off before it that report off are kept as
        they are: their checks were made before the cut, and the unit (or a thermostat it powers)
        may well look different once it lost power. The count of switches sent off never drops
        below what it was, so the restore turns every one of them back on.
        """
        kit = self.equipment
        already = run.switches_sent_off
        for index, entity_id in enumerate(run.switches):
            if index < already and kit.is_(entity_id, STATE_OFF):
                run.switches_confirmed_off = max(run.switches_confirmed_off, index + 1)
                continue
            if run.ending is not None or not self._may_cut(run, entity_id):
                return
            run.switches_sent_off = max(already, index + 1)
            run.off_sent_at = dt_util.utcnow()
            if not await self.writer.save(run):
                # No cut that a restart could not find on disk.
                run.switches_sent_off = max(already, index)
                run.end_early(Outcome.FAILED, "store_write_failed")
                return
            # The write awaited: check again right before the command (the stored count may now
            # be one too many, which a restart reads as a cut: the discharge wait is only longer).
            if run.ending is not None or not self._may_cut(run, entity_id):
                run.switches_sent_off = max(already, index)
                return
            if not await kit.switch_to(entity_id, STATE_OFF, since=run.off_sent_at):
                run.end_early(Outcome.FAILED, f"switch_did_not_turn_off:{entity_id}")
                return
            run.switches_confirmed_off = max(run.switches_confirmed_off, index + 1)
        run.confirmed_off_at = dt_util.utcnow()
        # The switches say off: the circuit's reading must say so too (issue 13).
        await self.proof.prove_cut(run)

    def _may_cut(self, run: Run, entity_id: str) -> bool:
        """Whether `entity_id` may be turned off now (rule 1); if not, end the run saying why."""
        kit = self.equipment
        detail = refused_cut(
            thermostat_available=kit.present(run.thermostat),
            unit_idle=kit.unit_idle(run),
            switch_commandable=kit.can_take_command(entity_id),
            entity_id=entity_id,
        )
        if detail is not None:
            run.end_early(Outcome.FAILED, detail)
        return detail is None

    async def discharge(self, run: Run) -> None:
        """Wait out the discharge deadline unless cancelled or someone restores power."""
        kit = self.equipment
        # A switch already on when the wait starts may never have been cut (a restart during the
        # cut); one the run saw off is power restored, even if it came back while HA was down.
        never_cut = NeverCut(run, kit.reported)

        def _back_on() -> list[str]:
            return [e for e in run.switches if not never_cut.holds(e) and kit.is_(e, STATE_ON)]

        while True:
            result = await self.waiter.wait(
                run.discharge_deadline(),
                kit.watched(run, *run.switches),
                lambda: bool(_back_on()) or self.proof.flowing(run),
            )
            if result is not WaitResult.MET or _back_on():
                break
            # Power shows while every switch says off: by another path, if it lasts (issue 13).
            if await self.proof.still_flowing(run, _back_on):
                return
        if result is WaitResult.MET:
            # A person in Home Assistant, or anything else: the device itself, its own button,
            # another integration. Either way power is back, and the staged restore follows.
            by_person = any(kit.changed_by_person(e) for e in _back_on())
            detail = "power_restored_by_hand" if by_person else "power_restored_outside"
            _LOGGER.warning(
                "Power came back during the discharge wait of reset %s (%s)", run.run_id, detail
            )
            run.end_early(Outcome.CANCELLED, detail)

    async def restore_power(self, run: Run) -> None:
        """Turn every switch back on, retrying each until it is (see `power`)."""
        await self.power.restore(run)
        if run.power_cycle == CYCLE_PENDING:
            # The one more round for a contactor that did not close is done (issue 13).
            run.power_cycle = CYCLE_DONE
        run.power_on_at = dt_util.utcnow()
        # Power is back: the notice of a switch gone during the wait is moot.
        await self.notifier.forget_away(run)

    async def start_up(self, run: Run) -> None:
        """Give the unit's control board its start-up delay before the thermostat calls.

        Never cut short, not even by the unit's fault showing again: the thermostat comes back
        first, and the run ends `fault_returned` after that (`next_phase`). The fault is noted
        as it shows, while the circuit's reading is watched (`CutProof.start_up`).
        """
        faults = self.faults
        if run.is_outage_run:
            # The grid, not our switches, brought power back: no contactor of ours to judge.
            await self.waiter.wait(run.phase_ends_at)
            return
        await self.proof.start_up(run, run.fault_entities, lambda: faults.returned(run))
        # A code reported again unchanged wakes no wait: looked at once more.
        faults.returned(run)

    async def restore_thermostat(self, run: Run) -> None:
        """Wait for the thermostat to return, then put every saved setting back and confirm it.

        Never cut short by a cancel: a cancel must not leave the heating off.
        """

        def _taken_over() -> bool:
            # A person's new mode, at any await: the run leaves the thermostat as they set it.
            return run.thermostat_overridden

        if _taken_over():
            _LOGGER.info("Thermostat %s was changed by a person; leaving it as set", run.thermostat)
            return
        kit = self.equipment
        # A thermostat that just regained power may drop commands or go away again: keep trying,
        # with growing pauses, until it has had the whole return window (power is on meanwhile).
        deadline = dt_util.utcnow() + self.timing.thermostat_return
        attempt = 0
        while True:
            result = await self.waiter.wait(
                deadline, [run.thermostat], lambda: kit.present(run.thermostat)
            )
            if _taken_over():
                return
            if result is WaitResult.TIMEOUT:
                break
            if await kit.apply_settings(run):
                return
            attempt += 1
            await self.waiter.wait(min(deadline, dt_util.utcnow() + backoff(attempt)))
            if dt_util.utcnow() >= deadline:
                break
        # Kept beside an outcome decided before (a cancel, a restart): the record says it.
        run.thermostat_not_restored(kit.thermostat_failure(run, returned=attempt > 0))
        await self.notifier.thermostat_not_restored(run)

    async def verify(self, run: Run) -> None:
        """Watch for the unit starting, and for its fault returning, within the verification window.

        With fault entities the window is watched to its end, a start seen or not.
        """
        await self._verify_start(run)
        if run.ending is None and run.fault_entities and not run.cancelled:
            # The start was not watched (the thermostat off, taken over or gone): the faults are.
            await self.waiter.wait(
                run.phase_ends_at, run.fault_entities, lambda: self.faults.returned(run)
            )
            self.faults.returned(run)

    async def _verify_start(self, run: Run) -> None:
        """Watch for the unit starting within the verification window."""
        kit = self.equipment
        if kit.state(run.thermostat) is None and not run.thermostat_overridden:
            # After a restart its integration may set up after Home Assistant started: nothing is
            # decided from a thermostat that does not exist yet, within the window.
            await self.waiter.wait(
                run.phase_ends_at,
                [run.thermostat],
                lambda: kit.state(run.thermostat) is not None,
            )
        climate = kit.state(run.thermostat)
        if climate is None or run.thermostat_overridden:
            return
        observable = thermostat.reports_action(climate) or run.power_sensor is not None
        demand_seen = False

        def _started() -> bool:
            nonlocal demand_seen
            state = kit.state(run.thermostat)
            if state is not None:
                attrs = state.attributes
                demand_seen = demand_seen or has_demand(
                    state.state,
                    attrs.get("current_temperature"),
                    attrs.get("temperature"),
                    attrs.get("target_temp_low"),
                    attrs.get("target_temp_high"),
                )
            return (
                thermostat.hvac_action(state) in START_ACTIONS or kit.run_sensor_above(run) is True
            )

        if climate.state not in DEMAND_MODES:
            return
        start_seen = False

        def _done() -> bool:
            nonlocal start_seen
            start_seen = _started() or start_seen
            return self.faults.returned(run) or (start_seen and not run.fault_entities)

        result = await self.waiter.wait(
            run.phase_ends_at, [*kit.watched(run, run.thermostat), *run.fault_entities], _done
        )
        if result is WaitResult.CANCELLED or self.faults.returned(run):
            return
        run.end_early(verified_outcome(start_seen, demand_seen, observable), "verification")

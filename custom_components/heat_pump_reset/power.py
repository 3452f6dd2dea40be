"""Putting power back after the discharge wait: every switch on, each retried until it is.

A switch still off two minutes after its own turn (POWER_RESTORE_GRACE after it was due in the
stagger) is named in a critical repair issue, removed the moment every switch is on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
import logging

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    EventStateChangedData,
    callback,
)
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.util import dt as dt_util

from .const import POWER_RESTORE_GRACE
from .crew import Crew
from .equipment import by_person
from .issues import async_manage_power, async_stop_following_power
from .run import Run
from .sequence import backoff, overdue_switches

_LOGGER = logging.getLogger(__name__)


@dataclass(kw_only=True)
class _Attempts:
    """One power restore's bookkeeping: the last command, and each failing switch's retries."""

    last_command: datetime | None = None
    # Switches that confirmed on in this restore (one found off again fell back off).
    confirmed: set[str] = field(default_factory=set)
    # For each switch not back on: since when, failed rounds, its next try, on commands sent since.
    since: dict[str, datetime] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    next_try: dict[str, datetime] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)

    def failed(self, entity_id: str, now: datetime) -> None:
        """Note a switch found not on; its next try comes after a growing pause of its own."""
        if entity_id in self.next_try and now < self.next_try[entity_id]:
            return  # still in its pause: woken early for another switch
        if entity_id in self.confirmed:
            self.confirmed.discard(entity_id)
            _LOGGER.warning(
                "Power switch %s went off again during the restore; turning it on again", entity_id
            )
        elif entity_id not in self.since:
            # Logged once when a switch fails to come back, and once when it does (not per retry).
            _LOGGER.warning("Power switch %s is not back on; retrying until it is", entity_id)
        self.since.setdefault(entity_id, now)
        self.attempts[entity_id] = self.attempts.get(entity_id, 0) + 1
        self.next_try[entity_id] = now + backoff(self.attempts[entity_id])

    def log_back_on(self, on: Iterable[str], now: datetime) -> None:
        """Log each switch back on after failing, with how long it took and the commands it took."""
        for entity_id in on:
            if (since := self.since.pop(entity_id, None)) is None:
                continue
            self.attempts.pop(entity_id, None)
            self.next_try.pop(entity_id, None)
            _LOGGER.info(
                "Power switch %s is back on after %s (on commands sent while retrying: %s)",
                entity_id,
                now - since,
                self.sent.pop(entity_id, 0),
            )


class PowerRestore:
    """Restores one heat pump's power switches."""

    def __init__(self, crew: Crew) -> None:
        """Restore with `crew`; raise repairs for its config entry."""
        self._hass = crew.hass
        self._entry_id = crew.entry_id
        self._name = crew.name
        self._timing = crew.timing
        self._kit = crew.equipment
        self._waiter = crew.waiter
        self._notifier = crew.notifier
        self._writer = crew.writer
        # When each switch was due on in the restore under way, and the timers that look again.
        self._due: dict[str, datetime] = {}
        self._timers: list[CALLBACK_TYPE] = []

    async def restore(self, run: Run) -> None:
        """Turn every switch back on; return once all are on (or left off by a person)."""
        self._due.clear()
        watch = async_track_state_change_event(
            self._hass, run.switches, partial(self._watch_switch, run)
        )
        try:
            await self._all_on(run)
        finally:
            for unsub in self._timers:
                unsub()
            self._timers.clear()
            watch()
        self._notifier.dismiss_power()
        async_manage_power(self._hass, self._entry_id, self._name, [])
        # Removed here: nothing more to follow for an issue left from before a reload.
        async_stop_following_power(self._hass, self._entry_id)

    @callback
    def _watch_switch(self, run: Run, event: Event[EventStateChangedData]) -> None:
        """Note on disk a switch a person turns off during the restore: a reload must honour it."""
        entity_id, new_state = event.data["entity_id"], event.data["new_state"]
        if new_state is None:
            return
        if new_state.state == STATE_OFF and by_person(event.context):
            if entity_id not in run.switches_left_off:
                _LOGGER.info("Power switch %s turned off by a person; leaving it off", entity_id)
                run.switches_left_off.append(entity_id)
                self._writer.save_soon(run)
        elif new_state.state == STATE_ON and entity_id in run.switches_left_off:
            run.switches_left_off.remove(entity_id)
            self._writer.save_soon(run)

    async def _all_on(self, run: Run) -> None:
        """Turn the switches on until all are on together; a dead one never holds up the others.

        The first pass goes in order, a stagger apart; a switch that cannot take its command
        (absent, unavailable, disabled) or does not confirm it is left for the retries and the next
        one goes on. Then every switch not on (still dead, or fallen back off: a contactor that did
        not latch) is commanded again after a growing pause of its own, or as soon as it returns;
        one a person turned off in Home Assistant is left off.
        """
        kit = self._kit
        attempts = _Attempts()
        for entity_id in run.switches:
            if entity_id in run.switches_left_off:
                continue
            # A switch sent an off command that still reports on (a refused cut, or a cut cancelled
            # or restarted before it confirmed) gets an on command all the same: a slow or queued
            # off could land after the run, and an on sent after it puts that right.
            resend = run.sent_off(entity_id) and kit.is_(entity_id, STATE_ON)
            if not resend and kit.is_(entity_id, STATE_ON):
                continue
            if await self._command_on(attempts, run, entity_id, force=resend) or not resend:
                continue
            if kit.is_(entity_id, STATE_ON):
                _LOGGER.warning(
                    "Power switch %s reports on but did not confirm an on command; if its"
                    " earlier off command still lands, turn it back on by hand",
                    entity_id,
                )
        while True:
            pending = [
                e
                for e in run.switches
                if not kit.is_(e, STATE_ON)
                and not kit.off_by_person(e)
                and e not in run.switches_left_off
            ]
            self._overdue(run)
            now = dt_util.utcnow()
            attempts.log_back_on([e for e in run.switches if kit.is_(e, STATE_ON)], now)
            if not pending:
                return
            for entity_id in pending:
                attempts.failed(entity_id, now)
            await self._notifier.power_not_restored(pending)
            # Retry early when a person turns one on, or when one that could not take a command
            # can now; a switch that refuses or raises waits out its pause (no busy loop).
            could = {e: kit.can_take_command(e) for e in pending}
            await self._waiter.wait(
                min(attempts.next_try[e] for e in pending),
                pending,
                partial(self._worth_retrying, could),
                cancellable=False,
            )
            for entity_id in pending:
                if kit.is_(entity_id, STATE_ON) or kit.off_by_person(entity_id):
                    continue
                returned = not could[entity_id] and kit.can_take_command(entity_id)
                if returned or dt_util.utcnow() >= attempts.next_try[entity_id]:
                    await self._command_on(attempts, run, entity_id)

    async def _command_on(
        self, attempts: _Attempts, run: Run, entity_id: str, *, force: bool = False
    ) -> bool:
        """Send one on command a stagger after the last one, and confirm it; False if it is not on.

        A switch already on by then is not commanded, unless `force` (its off may still land). It is
        due on at its turn (its first time here) and overdue POWER_RESTORE_GRACE later. `unknown`
        takes the command (a relay whose state is not retained); only an absent or unavailable
        switch cannot.
        """
        kit = self._kit
        if attempts.last_command is not None:
            await self._waiter.wait(attempts.last_command + self._timing.stagger, cancellable=False)
        if not force and kit.is_(entity_id, STATE_ON):
            return True
        now = dt_util.utcnow()
        if entity_id not in self._due:
            self._due[entity_id] = now
            self._timers.append(
                async_track_point_in_utc_time(
                    self._hass, partial(self._overdue_at, run), now + POWER_RESTORE_GRACE
                )
            )
        if not kit.can_take_command(entity_id):
            return False
        attempts.last_command = now
        if entity_id in attempts.since:
            attempts.sent[entity_id] = attempts.sent.get(entity_id, 0) + 1
        if await kit.switch_to(entity_id, STATE_ON):
            attempts.confirmed.add(entity_id)
            return True
        return False

    def _worth_retrying(self, could: dict[str, bool]) -> bool:
        """Whether a switch not on is on now, or can take a command when it could not (`could`)."""
        kit = self._kit
        return any(
            kit.is_(e, STATE_ON) or (not was and kit.can_take_command(e))
            for e, was in could.items()
        )

    @callback
    def _overdue_at(self, run: Run, _now: datetime) -> None:
        self._overdue(run)

    @callback
    def _overdue(self, run: Run) -> None:
        """Raise, update or remove the critical issue: the switches still off past their grace."""
        off = [e for e in run.switches if not self._kit.is_(e, STATE_ON)]
        overdue = overdue_switches(off, self._due, dt_util.utcnow(), POWER_RESTORE_GRACE)
        async_manage_power(self._hass, self._entry_id, self._name, overdue)

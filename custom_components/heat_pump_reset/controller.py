"""One heat pump's resets: life cycle, admission, the drive loop and the finish.

The rules are in `sequence`; the phases are performed by `phases` and `power`, through `equipment`
(the wrapped entities), `waiting` (deadlines and cancels), `writing` (the active run on disk),
`watching` (what others do meanwhile), `notify` and `issues`. DEVELOPERS.md shows how a run flows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
import contextlib
from datetime import datetime, timedelta
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CALLBACK_TYPE, CoreState, Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .admission import admit
from .const import DOMAIN
from .crew import Crew
from .driving import drive
from .equipment import Equipment
from .history import Record, resets_since
from .issues import HistoryIssues, async_follow_power, async_stop_following_power
from .notify import Notifier
from .phases import Phases
from .publishing import EventListener, Publisher
from .recovery import put_back_now, read_stored_run
from .run import Outcome, Phase, Run, Trigger
from .sequence import cancel_ends_waits, resume
from .settings import Settings
from .storage import RunStore
from .waiting import Waiter
from .watching import RunWatch
from .wrapped import async_update_shared
from .writing import RunWriter

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

# When each entry was unloaded with a run under way, in this process: its next set-up within
# RELOAD_GRACE is a reload (the run carries on), not a restart.
_UNLOADED_MID_RUN: HassKey[dict[str, datetime]] = HassKey("heat_pump_reset_unloaded_mid_run")
RELOAD_GRACE: Final = timedelta(minutes=1)


class ResetController:
    """Runs resets for one heat pump (one config entry) and keeps them durable."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Set up the controller from the entry's options."""
        self.hass = hass
        self.entry = entry
        self.settings = settings = Settings.from_options(entry.options)
        self.run: Run | None = None
        name = entry.title
        self.store = RunStore(hass, entry.entry_id)
        self._writer = RunWriter(hass, self.store, name)
        self._waiter = Waiter(hass, lambda: cancel_ends_waits(self.run))
        self._equipment = Equipment(hass, settings.timing, self._waiter)
        self._notifier = Notifier(hass, entry.entry_id, name)
        self._issues = HistoryIssues(
            hass, entry.entry_id, name, settings=settings, store=self.store, on_tick=self._changed
        )
        self._watch = RunWatch(
            hass,
            waiter=self._waiter,
            notifier=self._notifier,
            writer=self._writer,
            background=self._background,
        )
        self._publisher = Publisher(hass, entry.entry_id, name)
        self._phases = Phases(
            Crew(
                hass=hass,
                entry_id=entry.entry_id,
                name=name,
                timing=settings.timing,
                equipment=self._equipment,
                waiter=self._waiter,
                notifier=self._notifier,
                writer=self._writer,
                outage_ended=self._publisher.outage_ended,
                warmup=settings.warmup,
            )
        )
        self._task: asyncio.Task[None] | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self._reloaded = False

    # --- Life cycle -------------------------------------------------------------------------

    async def async_load(self) -> None:
        """Load the stored run and resume it once Home Assistant is running."""
        unloaded_at = self.hass.data.setdefault(_UNLOADED_MID_RUN, {}).pop(
            self.entry.entry_id, None
        )
        # A reload, not a restart: this process unloaded the entry mid-run a moment ago.
        self._reloaded = (
            unloaded_at is not None
            and self.hass.state is CoreState.running
            and dt_util.utcnow() - unloaded_at <= RELOAD_GRACE
        )
        await self._read_stored_run()
        self._issues.start()
        # A power issue left from before (the entry was disabled, or reloaded mid-restore) goes
        # once every switch is on, whoever turned them on.
        async_follow_power(self.hass, self.entry.entry_id, self.settings.switches)
        if self.run is None:
            return
        _LOGGER.info("Resuming heat pump reset %s in phase %s", self.run.run_id, self.run.phase)
        if self.hass.state is CoreState.running:
            self._resume()
            return

        @callback
        def _started(_event: Event) -> None:
            """Resume once every integration has set up its entities."""
            self._unsubs.remove(unsub)
            self._resume()

        unsub = self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, _started)
        self._unsubs.append(unsub)

    async def _read_stored_run(self) -> None:
        """Read the stored run (an unreadable one becomes a run that puts everything back)."""
        self.run = await read_stored_run(
            self.store, self.settings, self._notifier, self.entry.title
        )
        if self.run is not None and not self.run.sensor_kept:
            # Stored by an older release (or a recovery run): the entry's sensor and thresholds.
            s = self.settings
            self.run.keep_sensor(s.sensor, s.power_threshold, s.current_threshold)

    @callback
    def _resume(self) -> None:
        """Continue the stored run where the rules say it continues."""
        run = self.run
        assert run is not None
        phase, ends_at = resume(
            run, dt_util.utcnow(), self.settings.timing, reloaded=self._reloaded
        )
        self._spawn(phase, ends_at)

    async def async_unload(self) -> None:
        """Stop driving the run; it stays stored and resumes on the next set-up."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._issues.stop()
        async_stop_following_power(self.hass, self.entry.entry_id)
        await self.async_wait_recorded()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        # The next controller reads the file: a cancel or a person's change must be in it.
        await self._writer.settle()
        if self.run is not None:
            self.hass.data.setdefault(_UNLOADED_MID_RUN, {})[self.entry.entry_id] = dt_util.utcnow()

    async def async_wait_recorded(self) -> None:
        """Let a run that has ended finish being recorded; called before the entry unloads.

        Cut short, it would stay stored, and be resumed, recorded and announced a second time.
        """
        task = self._task
        if task is not None and self._writer.recording and not task.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    @classmethod
    async def async_restore_stored(cls, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Put back what a stored run took (the entry is being removed), then delete its data."""
        controller = cls(hass, entry)
        await controller._read_stored_run()
        await controller.async_restore_now("entry_removed")
        await controller.store.async_remove()

    async def async_restore_now(self, detail: str) -> None:
        """Put power and the thermostat back at once; used when the entry goes away mid-run."""
        if self.run is None:
            return
        await put_back_now(
            self.hass,
            self.run,
            detail,
            entry_id=self.entry.entry_id,
            equipment=self._equipment,
            notifier=self._notifier,
        )
        await self._finish()

    async def async_acknowledge(self, key: str) -> None:
        """Record that the user read repair issue `key`: runs before now no longer count for it."""
        await self.store.async_acknowledge(key, dt_util.utcnow())
        self._issues.update()

    async def async_replace_entity(self, old: str, new: str) -> None:
        """Name `new` instead of `old` in a run under way, and wait until that is on disk."""
        self.replace_entity(old, new)
        await self._writer.settle()

    @property
    def wrapped_now(self) -> set[str]:
        """Return the entities the run under way names (empty without one)."""
        return self.run.entities() if self.run is not None else set()

    @callback
    def replace_entity(self, old: str, new: str) -> None:
        """Name `new` instead of `old` in a run under way at once (written to disk soon).

        At once, not after a write: renames in quick succession (two ids swapped through a
        temporary one) must apply in the order they were made.
        """
        run = self.run
        if run is None:
            return
        run.replace_entity(old, new)
        # Through the one path that knows when the run is being recorded: no write lands then.
        self._writer.save_soon(run)

    async def async_remove_store(self) -> None:
        """Delete this heat pump's stored data."""
        await self.store.async_remove()

    # --- What the entities show ------------------------------------------------------------

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` whenever the run changes; return the function that stops it."""
        return self._publisher.add_listener(update)

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Call `listener(event_type, data)` when a run starts or ends; return the remover."""
        return self._publisher.add_event_listener(listener)

    @callback
    def _changed(self) -> None:
        self._publisher.changed()

    @property
    def history(self) -> list[Record]:
        """Return the finished runs, newest first."""
        return self.store.history

    def recent_resets(self, now: datetime) -> int:
        """Return how many recorded runs cut power within the window before `now`."""
        return len(resets_since(self.history, now - self.settings.recent_window))

    @property
    def last(self) -> Record | None:
        """Return the newest finished run."""
        return self.history[0] if self.history else None

    @property
    def phase(self) -> Phase:
        """Return the active run's phase, or idle."""
        return self.run.phase if self.run is not None else Phase.IDLE

    @property
    def switched_ids(self) -> list[str]:
        """Return the thermostat and power switches this heat pump switches (a run's under way too)."""
        run = [self.run.thermostat, *self.run.switches] if self.run is not None else []
        return list(dict.fromkeys([self.settings.thermostat, *self.settings.switches, *run]))

    def sensor_above(self) -> bool | None:
        """Whether the heat pump's sensor shows the unit running now (None: none, or unreadable)."""
        settings = self.settings
        if settings.sensor is None:
            return None
        return self._equipment.above(
            settings.sensor, settings.power_threshold, settings.current_threshold
        )

    # --- Starting and cancelling -----------------------------------------------------------

    @callback
    def async_start(
        self,
        trigger: Trigger,
        reason: str | None = None,
        discharge_minutes: int | None = None,
        *,
        force: bool = False,
    ) -> str:
        """Validate, then start a run in the background; return its id. Touches nothing on refusal."""
        run = self.run = admit(
            self.hass,
            self.entry.entry_id,
            self.entry.title,
            settings=self.settings,
            running=self.run,
            history=self.history,
            trigger=trigger,
            reason=reason,
            discharge_minutes=discharge_minutes,
            force=force,
            acknowledged=self.store.acknowledged,
        )
        _LOGGER.info(
            "Starting heat pump reset %s for %s (%s)",
            run.run_id,
            self.entry.title,
            reason or trigger,
        )
        # Told before the run is driven: a run that ends at once (its first step may finish it
        # before the task yields) must not be announced as started after it ended.
        self.begin(run, Phase.STOPPING_THERMOSTAT)
        return run.run_id

    @callback
    def begin(self, run: Run, phase: Phase) -> None:
        """Announce `run` as started, then drive it from `phase` (an outage run too: issue 14)."""
        self.run = run
        self._publisher.started(run)
        self._spawn(phase, None)

    @callback
    def async_cancel(self) -> None:
        """Ask the active run to end as soon as it safely can; power always comes back."""
        run = self.run
        if run is None or self._writer.recording:
            # A run being recorded has ended already: there is nothing left to cancel.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="nothing_running",
                translation_placeholders={"name": self.entry.title},
            )
        run.cancel()
        _LOGGER.info("Cancelling heat pump reset %s in phase %s", run.run_id, run.phase)
        # Written now, not at the next phase: a restart before then must still know of the cancel.
        self._writer.save_soon(run)
        self._waiter.reconsider()

    # --- Driving the run -------------------------------------------------------------------

    @callback
    def _spawn(self, phase: Phase, ends_at: datetime | None) -> None:
        """Drive the run from `phase` in a task that unloading the entry cancels."""
        self._changed()
        self._task = self.entry.async_create_background_task(
            self.hass, self._drive(phase, ends_at), f"{DOMAIN} run {self.entry.title}"
        )

    @callback
    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        self.entry.async_create_background_task(self.hass, work, f"{DOMAIN} {self.entry.title}")

    async def _drive(self, phase: Phase | None, ends_at: datetime | None) -> None:
        """Drive the run through its phases while watching its equipment, then record it."""
        run = self.run
        assert run is not None
        stop_watching = self._watch.start(run)
        try:
            await drive(
                run,
                phase,
                ends_at,
                phases=self._phases,
                writer=self._writer,
                waiter=self._waiter,
                changed=self._changed,
            )
        finally:
            stop_watching()
        await self._finish()

    async def _finish(self) -> None:
        """Record the outcome, clear the active run, and tell everyone."""
        run = self.run
        assert run is not None
        outcome = run.ending or Outcome.UNVERIFIED
        self._writer.recording = True
        await self._notifier.forget_away(run)
        if outcome is Outcome.FAILED and run.power_was_cut:
            # Told before the run is recorded, so that a failing write cannot swallow it.
            await self._notifier.run_failed(run)
        record = await self._writer.record(run, outcome)
        self._notifier.dismiss_power()
        self.run = None
        self._task = None
        self._issues.update()
        if self._issues.active:
            # The run may have switched entities the options no longer name (a reconfigure mid-run).
            async_update_shared(self.hass)
        _LOGGER.info("Heat pump reset %s ended: %s (%s)", run.run_id, outcome, run.detail or "-")
        self._changed()
        self._publisher.ended(run, outcome, record)

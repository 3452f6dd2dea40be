"""Performs reset runs on the wrapped thermostat and power switches, following `sequence`."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import partial
import logging
from typing import TYPE_CHECKING, Any, Final
from uuid import uuid4

from homeassistant.components import persistent_notification
from homeassistant.components.climate.const import SERVICE_SET_HVAC_MODE
from homeassistant.const import (
    ATTR_DOMAIN,
    ATTR_ENTITY_ID,
    ATTR_NAME,
    ATTR_SERVICE_DATA,
    EVENT_CALL_SERVICE,
    EVENT_HOMEASSISTANT_STARTED,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from . import thermostat
from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_CURRENT_THRESHOLD,
    CONF_DISCHARGE_MINUTES,
    CONF_MAX_RESETS_PER_DAY,
    CONF_POWER_SENSOR,
    CONF_POWER_THRESHOLD,
    CONF_RECURRENCE_COUNT,
    CONF_RECURRENCE_DAYS,
    CONF_STAGGER_SECONDS,
    CONF_STARTUP_DELAY_MINUTES,
    CONF_STOP_TIMEOUT_SECONDS,
    CONF_SWITCH_TIMEOUT_SECONDS,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    CONF_VERIFY_MINUTES,
    DEFAULT_CURRENT_THRESHOLD,
    DEFAULT_DISCHARGE_MINUTES,
    DEFAULT_MAX_RESETS_PER_DAY,
    DEFAULT_POWER_THRESHOLD,
    DEFAULT_RECURRENCE_COUNT,
    DEFAULT_RECURRENCE_DAYS,
    DEFAULT_STAGGER_SECONDS,
    DEFAULT_STARTUP_DELAY_MINUTES,
    DEFAULT_STOP_TIMEOUT_SECONDS,
    DEFAULT_SWITCH_TIMEOUT_SECONDS,
    DEFAULT_VERIFY_MINUTES,
    DOMAIN,
    EVENT_RUN_ENDED,
    EVENT_RUN_STARTED,
    ISSUE_NO_START,
    ISSUE_RECURRING_RESETS,
    MAX_DISCHARGE_MINUTES,
    POWER_RESTORE_GRACE,
    THERMOSTAT_RETURN_TIMEOUT_MINUTES,
)
from .history import (
    Record,
    make_record,
    next_change,
    rate_limited,
    recurring_due,
    resets_since,
    summary,
    unacknowledged_no_start,
)
from .issues import (
    async_follow_power,
    async_manage_no_start,
    async_manage_power,
    async_manage_recurring,
    async_stop_following_power,
)
from .reading import SensorKind, reading
from .sequence import (
    DEMAND_MODES,
    START_ACTIONS,
    NeverCut,
    Outcome,
    Phase,
    Run,
    Timing,
    Trigger,
    above_threshold,
    backoff,
    has_demand,
    is_stopped,
    next_phase,
    overdue_switches,
    recovery_run,
    resume,
    verified_outcome,
    wait_ends_on_cancel,
)
from .storage import RunStore, UnreadableRun
from .wrapped import async_update_shared

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

_MISSING_STATES: Final = frozenset({STATE_UNAVAILABLE, STATE_UNKNOWN})
# Contexts of our own service calls, to tell our changes from a person's; a run makes a few dozen.
_OWN_CONTEXTS_KEPT: Final = 200
# When each entry was unloaded with a run under way, in this process: its next set-up within
# RELOAD_GRACE is a reload (the run carries on), not a restart.
_UNLOADED_MID_RUN: HassKey[dict[str, datetime]] = HassKey("heat_pump_reset_unloaded_mid_run")
RELOAD_GRACE: Final = timedelta(minutes=1)


# Event types of the `reset` event entity: a run started, or ended with one of the outcomes.
EVENT_STARTED: Final = "started"
EVENT_TYPES: Final = [EVENT_STARTED, *(outcome.value for outcome in Outcome)]

type EventListener = Callable[[str, dict[str, Any]], None]
# A translated text for a notification: its key under `exceptions` and its placeholders.
type Notice = tuple[str, dict[str, str]]


class WaitResult(Enum):
    """Why a wait ended."""

    MET = "met"
    TIMEOUT = "timeout"
    WOKEN = "woken"


def timing_from_options(options: dict[str, Any]) -> Timing:
    """Build the run's durations from entry options."""
    return Timing(
        discharge=timedelta(minutes=options.get(CONF_DISCHARGE_MINUTES, DEFAULT_DISCHARGE_MINUTES)),
        startup_delay=timedelta(
            minutes=options.get(CONF_STARTUP_DELAY_MINUTES, DEFAULT_STARTUP_DELAY_MINUTES)
        ),
        stop_timeout=timedelta(
            seconds=options.get(CONF_STOP_TIMEOUT_SECONDS, DEFAULT_STOP_TIMEOUT_SECONDS)
        ),
        switch_timeout=timedelta(
            seconds=options.get(CONF_SWITCH_TIMEOUT_SECONDS, DEFAULT_SWITCH_TIMEOUT_SECONDS)
        ),
        stagger=timedelta(seconds=options.get(CONF_STAGGER_SECONDS, DEFAULT_STAGGER_SECONDS)),
        verify_window=timedelta(minutes=options.get(CONF_VERIFY_MINUTES, DEFAULT_VERIFY_MINUTES)),
        thermostat_return=timedelta(minutes=THERMOSTAT_RETURN_TIMEOUT_MINUTES),
    )


def _available(state: State | None) -> bool:
    """Whether an entity exists and reports a real state."""
    return state is not None and state.state not in _MISSING_STATES


def _commandable(state: State | None) -> bool:
    """Whether a switch can take a command: it exists and is not unavailable.

    `unknown` can: a relay whose state topic is not retained (Tasmota over MQTT) reports it after a
    restart, and Home Assistant sends it commands all the same; its report then confirms them.
    """
    return state is not None and state.state != STATE_UNAVAILABLE


@dataclass(kw_only=True)
class _Restore:
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


class ResetController:
    """Runs resets for one heat pump (one config entry) and keeps them durable."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry[Any]) -> None:
        """Set up the controller from the entry's options."""
        self.hass = hass
        self.entry = entry
        options = dict(entry.options)
        self.thermostat_id: str = options[CONF_THERMOSTAT]
        self.switch_ids: list[str] = list(options[CONF_SWITCHES])
        self.sensor_id: str | None = options.get(CONF_POWER_SENSOR) or None
        # Running thresholds: in W for a power sensor, in A for a current sensor.
        self.power_threshold: float = float(
            options.get(CONF_POWER_THRESHOLD, DEFAULT_POWER_THRESHOLD)
        )
        self.current_threshold: float = float(
            options.get(CONF_CURRENT_THRESHOLD, DEFAULT_CURRENT_THRESHOLD)
        )
        self.timing = timing_from_options(options)
        self.max_resets_per_day: int = int(
            options.get(CONF_MAX_RESETS_PER_DAY, DEFAULT_MAX_RESETS_PER_DAY)
        )
        self.recurrence_count: int = int(
            options.get(CONF_RECURRENCE_COUNT, DEFAULT_RECURRENCE_COUNT)
        )
        self.run: Run | None = None
        self._unsub_issue_refresh: CALLBACK_TYPE | None = None
        # Repair issues are kept up to date only while the entry is loaded (not while it is removed).
        self._keeps_issues = False
        self._store = RunStore(hass, entry.entry_id)
        self._listeners: list[CALLBACK_TYPE] = []
        self._event_listeners: list[EventListener] = []
        self._task: asyncio.Task[None] | None = None
        self._wake: Callable[[], None] | None = None
        self._own_contexts: deque[str] = deque(maxlen=_OWN_CONTEXTS_KEPT)
        self._unsubs: list[CALLBACK_TYPE] = []
        self._notified = False
        # When each switch was due on in the restore under way, and the timers that look again.
        self._power_due: dict[str, datetime] = {}
        self._power_timers: list[CALLBACK_TYPE] = []
        # Switches gone (unavailable or removed) during the discharge wait, told to the household.
        self._away: set[str] = set()
        self._cancel_pending = False
        # A write of the run between phases (a cancel, a person's thermostat change), and whether
        # another is due; _finish waits for it, so it cannot land after the run is recorded.
        self._saving: asyncio.Task[None] | None = None
        self._save_again = False
        self._finishing = False
        self._reloaded = False

    @property
    def notification_id(self) -> str:
        """Return the id of this heat pump's power notification."""
        return f"{DOMAIN}_{self.entry.entry_id}_power"

    # --- Life cycle -------------------------------------------------------------------------

    async def async_load(self, *, resume_run: bool = True) -> None:
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
        stored = await self._store.async_load()
        if isinstance(stored, UnreadableRun):
            # Power may be off: it comes back (and the thermostat, as far as the data tells).
            self.run = self._recovery_run(stored)
            await self._tell_unreadable(self.run)
        else:
            self.run = stored
        if self.run is not None and not self.run.sensor_kept:
            # Stored by a release that did not keep them (or a recovery run): the entry's sensor
            # and thresholds.
            self._keep_sensor(self.run)
        if not resume_run:
            return
        self._keeps_issues = True
        self._update_issues()
        # A power issue left from before (the entry was disabled, or reloaded mid-restore) goes
        # once every switch is on, whoever turned them on.
        async_follow_power(self.hass, self.entry.entry_id, self.switch_ids)
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

    def _recovery_run(self, stored: UnreadableRun) -> Run:
        """Return the run that puts power and the thermostat back after an unreadable stored run."""
        run = recovery_run(
            stored.data,
            new_id=uuid4().hex,
            thermostat=self.thermostat_id,
            switches=self.switch_ids,
            discharge_minutes=int(self.timing.discharge.total_seconds() // 60),
            now=dt_util.utcnow(),
        )
        _LOGGER.error(
            "The stored reset of %s cannot be read (%s); turning %s back on and recording it as"
            " failed. What it held is kept in the diagnostics",
            self.entry.title,
            stored.reason,
            ", ".join(run.switches),
        )
        return run

    async def _tell_unreadable(self, run: Run) -> None:
        """Say what to check by hand when the saved thermostat settings could not be read."""
        if run.saved:
            return
        await self._post(
            f"{DOMAIN}_{self.entry.entry_id}_unreadable",
            notice(
                "stored_run_unreadable",
                name=self.entry.title,
                entity_ids=", ".join(run.switches),
                entity_id=run.thermostat,
            ),
        )

    @callback
    def _resume(self) -> None:
        """Continue the stored run where the rules say it continues."""
        run = self.run
        assert run is not None
        phase, ends_at = resume(run, dt_util.utcnow(), self.timing, reloaded=self._reloaded)
        self._spawn(phase, ends_at)

    async def async_unload(self) -> None:
        """Stop driving the run; it stays stored and resumes on the next set-up."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._keeps_issues = False
        async_stop_following_power(self.hass, self.entry.entry_id)
        if self._unsub_issue_refresh is not None:
            self._unsub_issue_refresh()
            self._unsub_issue_refresh = None
        await self.async_wait_recorded()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        # The next controller reads the file: a cancel or a person's change must be in it.
        await self._await_saving()
        if self.run is not None:
            self.hass.data.setdefault(_UNLOADED_MID_RUN, {})[self.entry.entry_id] = dt_util.utcnow()

    async def async_wait_recorded(self) -> None:
        """Let a run that has ended finish being recorded; called before the entry unloads.

        Cut short, it would stay stored, and be resumed, recorded and announced a second time.
        """
        task = self._task
        if task is not None and self._finishing and not task.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(task)

    async def async_restore_now(self, detail: str) -> None:
        """Put power and the thermostat back at once; used when the entry goes away mid-run.

        There is no later retry (the entry is going away), so what could not be put back is left
        to the household in a notification that stays until dismissed.
        """
        run = self.run
        if run is None:
            return
        run.end_early(Outcome.CANCELLED, detail)
        left_off: list[str] = []
        if run.power_was_cut and run.power_on_at is None:
            # No stagger: the thermostat is still off, so nothing calls for the compressor yet.
            # A switch a person turned off during the restore stays off (their decision).
            left_off = [
                e
                for e in run.switches
                if e not in run.switches_left_off and not await self._switch_to(e, STATE_ON)
            ]
            run.power_on_at = dt_util.utcnow()
        # The critical power issue goes now if every switch is on, or later when they are.
        async_follow_power(
            self.hass,
            self.entry.entry_id,
            [e for e in run.switches if e not in run.switches_left_off],
        )
        thermostat_back = True
        if run.saved and not run.thermostat_overridden:
            thermostat_back = _available(self._state(run.thermostat)) and (
                await self._apply_settings(run)
            )
        if not thermostat_back:
            state = self._state(run.thermostat)
            run.thermostat_not_restored(
                "thermostat_not_restored:" + ",".join(thermostat.mismatched(run.saved, state))
                if state is not None and _available(state)
                else "thermostat_did_not_return"
            )
        if left_off or not thermostat_back:
            # Told before the run is recorded, so that a failing write cannot swallow it.
            _LOGGER.error(
                "Heat pump reset %s ended (%s) with %s; put them back by hand",
                run.run_id,
                detail,
                ", ".join([*left_off, *([] if thermostat_back else [run.thermostat])]),
            )
            await self._notify_left_behind(run, left_off, thermostat_back)
        await self._finish()

    async def async_acknowledge(self, key: str) -> None:
        """Record that the user read repair issue `key`: runs before now no longer count for it."""
        await self._store.async_acknowledge(key, dt_util.utcnow())
        self._update_issues()

    async def async_replace_entity(self, old: str, new: str) -> None:
        """Name `new` instead of `old` in a run under way, and wait until that is on disk."""
        self.replace_entity(old, new)
        await self._await_saving()

    @property
    def wrapped_now(self) -> set[str]:
        """Return the entities the run under way names (empty without one)."""
        run = self.run
        if run is None:
            return set()
        return {run.thermostat, *run.switches, *([run.power_sensor] if run.power_sensor else [])}

    @callback
    def replace_entity(self, old: str, new: str) -> None:
        """Name `new` instead of `old` in a run under way at once (written to disk soon).

        At once, not after a write: renames in quick succession (two ids swapped through a
        temporary one) must apply in the order they were made.
        """
        run = self.run
        if run is None:
            return
        if run.thermostat == old:
            run.thermostat = new
        run.switches = [new if entity_id == old else entity_id for entity_id in run.switches]
        if run.power_sensor == old:
            run.power_sensor = new
        run.switches_left_off = [
            new if entity_id == old else entity_id for entity_id in run.switches_left_off
        ]
        # Through the one path that knows when the run is being recorded: no write lands then.
        self._save_soon()

    async def async_remove_store(self) -> None:
        """Delete this heat pump's stored data."""
        await self._store.async_remove()

    # --- Listeners for entities ------------------------------------------------------------

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` whenever the run changes; return the function that stops it."""
        self._listeners.append(update)

        @callback
        def _remove() -> None:
            self._listeners.remove(update)

        return _remove

    @callback
    def _changed(self) -> None:
        """Tell the entities; one that fails is logged, and never stops the run."""
        for update in list(self._listeners):
            try:
                update()
            except Exception:
                _LOGGER.exception("An entity of %s failed to update", self.entry.title)

    @callback
    def async_add_event_listener(self, listener: EventListener) -> CALLBACK_TYPE:
        """Call `listener(event_type, data)` when a run starts or ends; return the remover."""
        self._event_listeners.append(listener)

        @callback
        def _remove() -> None:
            self._event_listeners.remove(listener)

        return _remove

    @callback
    def _fire(self, event_type: str, data: dict[str, Any]) -> None:
        """Tell the event entity (when loaded) that a run started or ended."""
        for listener in list(self._event_listeners):
            try:
                listener(event_type, data)
            except Exception:
                _LOGGER.exception("The reset event of %s failed", self.entry.title)

    @callback
    def _fire_bus(self, event_type: str, data: dict[str, Any]) -> None:
        """Fire a run's start or end on the bus, for the logbook (logbook.py describes it)."""
        entity_id = er.async_get(self.hass).async_get_entity_id(
            Platform.EVENT, DOMAIN, f"{self.entry.entry_id}_reset"
        )
        self.hass.bus.async_fire(
            event_type,
            {
                ATTR_CONFIG_ENTRY_ID: self.entry.entry_id,
                ATTR_NAME: self.entry.title,
                ATTR_ENTITY_ID: entity_id,
                **data,
            },
        )

    @property
    def history(self) -> list[Record]:
        """Return the finished runs, newest first."""
        return self._store.history

    @property
    def unreadable(self) -> list[dict[str, Any]]:
        """Return the stored data this release could not read, newest first (for diagnostics)."""
        return self._store.unreadable

    @property
    def acknowledged(self) -> dict[str, str]:
        """Return the acknowledgement times of repair issues, by issue key."""
        return self._store.acknowledged

    @property
    def recent_window(self) -> timedelta:
        """Return the window the recent-resets count looks back over."""
        return timedelta(days=self.entry.options.get(CONF_RECURRENCE_DAYS, DEFAULT_RECURRENCE_DAYS))

    def recent_resets(self, now: datetime) -> int:
        """Return how many recorded runs cut power within the window before `now`."""
        return len(resets_since(self.history, now - self.recent_window))

    def _acknowledged_at(self, key: str) -> datetime | None:
        """Return when the user acknowledged repair issue `key`, if ever."""
        when = self.acknowledged.get(key)
        return datetime.fromisoformat(when) if when else None

    @callback
    def _update_issues(self, now_: datetime | None = None) -> None:
        """Raise or remove the issues the history calls for; look again when a reset ages out.

        That one timer also tells the entities (Recent resets drops a reset leaving its window).
        """
        if not self._keeps_issues:
            return
        if now_ is not None:
            self._changed()
        now = dt_util.utcnow()
        entry_id, name = self.entry.entry_id, self.entry.title
        count = recurring_due(
            self.history,
            now,
            window=self.recent_window,
            threshold=self.recurrence_count,
            day_limit=self.max_resets_per_day,
            acknowledged_at=self._acknowledged_at(ISSUE_RECURRING_RESETS),
        )
        async_manage_recurring(self.hass, entry_id, name, count, self.recent_window.days)
        no_start = unacknowledged_no_start(self.history, self._acknowledged_at(ISSUE_NO_START))
        async_manage_no_start(self.hass, entry_id, name, no_start)
        if self._unsub_issue_refresh is not None:
            self._unsub_issue_refresh()
            self._unsub_issue_refresh = None
        if (when := next_change(self.history, now, self.recent_window)) is not None:
            self._unsub_issue_refresh = async_track_point_in_utc_time(
                self.hass, self._update_issues, when
            )

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
        ids = [self.thermostat_id, *self.switch_ids]
        if self.run is not None:
            ids += [self.run.thermostat, *self.run.switches]
        return list(dict.fromkeys(ids))

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
        minimum = int(self.timing.discharge.total_seconds() // 60)
        if (
            discharge_minutes is not None
            and not minimum <= discharge_minutes <= MAX_DISCHARGE_MINUTES
        ):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="discharge_out_of_range",
                translation_placeholders={
                    "value": str(discharge_minutes),
                    "minimum": str(minimum),
                    "maximum": str(MAX_DISCHARGE_MINUTES),
                },
            )
        if self.run is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="already_running",
                translation_placeholders={
                    "name": self.entry.title,
                    "phase": phase_words(self.hass, self.run.phase),
                },
            )
        self._refuse_shared()
        now = dt_util.utcnow()
        if (
            not force
            and (count := rate_limited(self.history, now, self.max_resets_per_day)) is not None
        ):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={
                    "name": self.entry.title,
                    "count": str(count),
                    "limit": str(self.max_resets_per_day),
                },
            )
        for entity_id in (self.thermostat_id, *self.switch_ids):
            if not _available(self._state(entity_id)):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="entity_unavailable",
                    translation_placeholders={"entity_id": entity_id},
                )
        climate = self._state(self.thermostat_id)
        assert climate is not None
        run = self.run = Run(
            run_id=uuid4().hex,
            trigger=trigger,
            reason=reason,
            thermostat=self.thermostat_id,
            switches=list(self.switch_ids),
            discharge_minutes=discharge_minutes or minimum,
            started_at=now,
            saved=thermostat.capture(climate),
        )
        self._keep_sensor(self.run)
        _LOGGER.info(
            "Starting heat pump reset %s for %s (%s)",
            run.run_id,
            self.entry.title,
            reason or trigger,
        )
        # Told before the run is driven: a run that ends at once (its first step may finish it
        # before the task yields) must not be announced as started after it ended.
        self._fire(
            EVENT_STARTED,
            {"run_id": run.run_id, "trigger": trigger.value, "reason": reason},
        )
        self._fire_bus(
            EVENT_RUN_STARTED,
            {"run_id": run.run_id, "trigger": trigger.value, "reason": reason},
        )
        self._spawn(Phase.STOPPING_THERMOSTAT, None)
        return run.run_id

    @callback
    def _refuse_shared(self) -> None:
        """Refuse a start while another loaded heat pump switches one of our entities.

        Its reset would cut our power while we run, or bring it back during our discharge wait.
        The flows refuse such a pick; this catches an entry edited by hand or by an older release.
        """
        for entity_id, entries in async_update_shared(self.hass).items():
            others = [e.title for e in entries if e.entry_id != self.entry.entry_id]
            if len(others) < len(entries):
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="shared_entity",
                    translation_placeholders={
                        "name": self.entry.title,
                        "entity_id": entity_id,
                        "others": ", ".join(sorted(others)),
                    },
                )

    @callback
    def async_cancel(self) -> None:
        """Ask the active run to end as soon as it safely can; power always comes back."""
        run = self.run
        if run is None or self._finishing:
            # A run being recorded has ended already: there is nothing left to cancel.
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="nothing_running",
                translation_placeholders={"name": self.entry.title},
            )
        run.cancel()
        _LOGGER.info("Cancelling heat pump reset %s in phase %s", run.run_id, run.phase)
        # Written now, not at the next phase: a restart before then must still know of the cancel.
        self._save_soon()
        if wait_ends_on_cancel(run.phase):
            if self._wake is not None:
                self._wake()
            else:
                # Between two waits: the phase's next wait ends at once.
                self._cancel_pending = True

    # --- Driving the run -------------------------------------------------------------------

    @callback
    def _spawn(self, phase: Phase, ends_at: datetime | None) -> None:
        """Drive the run from `phase` in a task that unloading the entry cancels."""
        self._changed()
        self._task = self.entry.async_create_background_task(
            self.hass, self._drive(phase, ends_at), f"{DOMAIN} run {self.entry.title}"
        )

    async def _drive(self, phase: Phase | None, ends_at: datetime | None) -> None:
        """Perform each phase in turn, persisting before each, then record the outcome."""
        run = self.run
        assert run is not None
        steps: dict[Phase, Callable[[Run], Awaitable[None]]] = {
            Phase.STOPPING_THERMOSTAT: self._stop_thermostat,
            Phase.CUTTING_POWER: self._cut_power,
            Phase.DISCHARGING: self._discharge,
            Phase.RESTORING_POWER: self._restore_power,
            Phase.STARTING_UP: self._start_up,
            Phase.RESTORING_THERMOSTAT: self._restore_thermostat,
            Phase.VERIFYING: self._verify,
        }
        unsubs = [
            async_track_state_change_event(self.hass, [run.thermostat], self._watch_thermostat),
            # Issue 11: a person's climate call, and every switch report, seen as it happens.
            self.hass.bus.async_listen(EVENT_CALL_SERVICE, self._watch_calls),
            async_track_state_change_event(self.hass, run.switches, self._watch_switches),
        ]
        try:
            while phase is not None:
                now = dt_util.utcnow()
                if ends_at is None:
                    ends_at = self._phase_deadline(run, phase, now)
                run.enter(phase, now, ends_at)
                self._cancel_pending = False
                if not await self._save(run) and not run.power_was_cut and run.ending is None:
                    # Write before act: a restart could not tell what this phase did to the
                    # equipment, so nothing is touched; the thermostat goes back as it was.
                    run.end_early(Outcome.FAILED, "store_write_failed")
                    self._changed()
                    phase = next_phase(run)
                    ends_at = None
                    continue
                self._changed()
                try:
                    await steps[phase](run)
                except Exception:
                    _LOGGER.exception("Heat pump reset %s failed in phase %s", run.run_id, phase)
                    if phase is Phase.RESTORING_POWER:
                        # Power is never abandoned: go round again after a pause.
                        await self._wait(dt_util.utcnow() + backoff(1))
                        ends_at = None
                        continue
                    if phase is Phase.RESTORING_THERMOSTAT:
                        # Said beside an outcome decided before (a cancel): not put back.
                        run.thermostat_not_restored(f"internal_error_in_{phase}")
                    run.end_early(Outcome.FAILED, f"internal_error_in_{phase}")
                    if phase is Phase.DISCHARGING:
                        # An error is no reason to put power back early: the wait is kept (a
                        # cancel still ends it).
                        await self._wait(run.discharge_deadline())
                phase = next_phase(run)
                ends_at = None
        finally:
            for unsub in unsubs:
                unsub()
        await self._finish()

    async def _save(self, run: Run) -> bool:
        """Write the run now; return False (logged, never raised) when the disk refuses it.

        Once power is cut nothing stops for a failed write: power must come back all the same.
        """
        try:
            await self._store.async_save_active(run)
        except Exception as err:  # noqa: BLE001
            # Handled: a full or read-only disk is no crash of ours, and the run decides on.
            _LOGGER.error("Could not write heat pump reset %s to disk: %s", run.run_id, err)
            return False
        return True

    @callback
    def _save_soon(self) -> None:
        """Write the run to disk now, between phases; a change while it writes is written after."""
        self._save_again = True
        if self._saving is None or self._saving.done():
            self._saving = self.hass.async_create_task(
                self._save_while_asked(), f"{DOMAIN} save {self.entry.title}"
            )

    async def _save_while_asked(self) -> None:
        """Write the run until no change is left unwritten (never once it is being recorded)."""
        while self._save_again and self.run is not None and not self._finishing:
            self._save_again = False
            await self._store.async_save_active(self.run)

    async def _await_saving(self) -> None:
        """Wait for a write `_save_soon` started; a failed write is logged, never raised."""
        task = self._saving
        if task is None:
            return
        try:
            # Shielded: cancelling the run's task (an unload) must not cancel the write.
            await asyncio.shield(task)
        except Exception:
            _LOGGER.exception("Could not write a heat pump reset to disk")
        finally:
            # Kept until done: anyone else waiting (the run being recorded) waits for it too.
            if self._saving is task:
                self._saving = None

    def _phase_deadline(self, run: Run, phase: Phase, now: datetime) -> datetime | None:
        """Return when a waiting phase ends, for the countdown sensor."""
        if phase is Phase.DISCHARGING:
            return run.discharge_deadline()
        if phase is Phase.STARTING_UP:
            return now + self.timing.startup_delay
        if phase is Phase.VERIFYING:
            return now + self.timing.verify_window
        return None

    async def _finish(self) -> None:
        """Record the outcome and clear the active run."""
        run = self.run
        assert run is not None
        outcome = run.ending or Outcome.UNVERIFIED
        self._finishing = True
        self._away.clear()
        await self._tell_away()
        if outcome is Outcome.FAILED and run.power_was_cut:
            # Power was cut and the reset did not do its job: more than the outcome sensor should
            # say so (told before the run is recorded, so that a failing write cannot swallow it).
            await self._post(
                f"{DOMAIN}_{self.entry.entry_id}_failed",
                notice("run_failed", name=self.entry.title, detail=run.detail or "-"),
            )
        # That write must not land after the one below that clears the active run.
        await self._await_saving()
        finished_at = dt_util.utcnow()
        try:
            record = await self._store.async_finish(run, outcome, finished_at)
        except Exception as err:  # noqa: BLE001
            # The run is over all the same; the file still holds it active, so a restart finishes
            # it again (its record replaces, never doubles, this one).
            _LOGGER.error("Could not record heat pump reset %s on disk: %s", run.run_id, err)
            record = make_record(run, outcome, finished_at)
        self._dismiss_power_notification()
        self.run = None
        self._finishing = False
        self._task = None
        self._update_issues()
        if self._keeps_issues:
            # The run may have switched entities the options no longer name (a reconfigure mid-run).
            async_update_shared(self.hass)
        _LOGGER.info("Heat pump reset %s ended: %s (%s)", run.run_id, outcome, run.detail or "-")
        self._changed()
        self._fire(
            outcome.value,
            {
                "run_id": run.run_id,
                "trigger": run.trigger.value,
                "reason": run.reason,
                "detail": run.detail,
                "thermostat_restored": record["thermostat_restored"],
                "thermostat_detail": record["thermostat_detail"],
            },
        )
        self._fire_bus(
            EVENT_RUN_ENDED,
            {"run_id": run.run_id, **summary(make_record(run, outcome, dt_util.utcnow()))},
        )

    # --- Phases ----------------------------------------------------------------------------

    async def _stop_thermostat(self, run: Run) -> None:
        """Turn the thermostat off and wait until it and the unit are idle."""
        if not await self._call(
            Platform.CLIMATE, SERVICE_SET_HVAC_MODE, run.thermostat, {"hvac_mode": "off"}
        ) and not (
            # Some thermostats list `off` but go off only through `climate.turn_off`.
            thermostat.supports_turn_off(self._state(run.thermostat))
            and await self._call(Platform.CLIMATE, SERVICE_TURN_OFF, run.thermostat, {})
        ):
            run.end_early(Outcome.FAILED, "thermostat_refused_off")
            return
        result = await self._wait(
            dt_util.utcnow() + self.timing.stop_timeout,
            self._watched(run.thermostat),
            self._unit_idle,
        )
        if result is WaitResult.TIMEOUT:
            run.end_early(Outcome.FAILED, "thermostat_did_not_stop")

    async def _cut_power(self, run: Run) -> None:
        """Turn the power switches off in order, confirming each; any failure ends the run.

        Repeated after a reload, the switches sent off before it that report off are kept as
        they are: their checks were made before the cut, and the unit (or a thermostat it powers)
        may well look different once it lost power. The count of switches sent off never drops
        below what it was, so the restore turns every one of them back on.
        """
        already = run.switches_cut
        for index, entity_id in enumerate(run.switches):
            if index < already and self._is(entity_id, STATE_OFF):
                run.switches_confirmed_off = max(run.switches_confirmed_off, index + 1)
                continue
            if run.ending is not None or not self._may_cut(run, entity_id):
                return
            run.switches_cut = max(already, index + 1)
            run.off_sent_at = dt_util.utcnow()
            if not await self._save(run):
                # No cut that a restart could not find on disk.
                run.switches_cut = max(already, index)
                run.end_early(Outcome.FAILED, "store_write_failed")
                return
            # The write awaited: check again right before the command (the stored count may now
            # be one too many, which a restart reads as a cut: the discharge wait is only longer).
            if run.ending is not None or not self._may_cut(run, entity_id):
                run.switches_cut = max(already, index)
                return
            if not await self._switch_to(entity_id, STATE_OFF, since=run.off_sent_at):
                run.end_early(Outcome.FAILED, f"switch_did_not_turn_off:{entity_id}")
                return
            run.switches_confirmed_off = max(run.switches_confirmed_off, index + 1)
        run.confirmed_off_at = dt_util.utcnow()

    def _may_cut(self, run: Run, entity_id: str) -> bool:
        """Whether `entity_id` may be turned off now; if not, end the run saying why."""
        if not _available(self._state(run.thermostat)):
            # Often a thermostat powered by a switch cut before this one: it cannot show the unit
            # is idle, so nothing more is cut (README: put that switch last).
            run.end_early(Outcome.FAILED, "thermostat_unavailable_before_cut")
            return False
        if not self._unit_idle():
            # Safety invariant I1: the thermostat or the unit came back on; do not cut under load.
            run.end_early(Outcome.FAILED, "unit_started_before_cut")
            return False
        if not _commandable(self._state(entity_id)):
            # `unknown` is no reason to stop: the checks above passed, so an off command is safe,
            # and the switch's report confirms it like any other.
            run.end_early(Outcome.FAILED, f"switch_unavailable:{entity_id}")
            return False
        return True

    async def _discharge(self, run: Run) -> None:
        """Wait out the discharge deadline unless cancelled or someone restores power."""

        # A switch already on when the wait starts may never have been cut (a restart during the
        # cut); one the run saw off is power restored, even if it came back while HA was down.
        never_cut = NeverCut(run, self._reported)  # issue 11: decided from real reports only

        def _back_on() -> list[str]:
            return [e for e in run.switches if not never_cut.holds(e) and self._is(e, STATE_ON)]

        result = await self._wait(run.discharge_deadline(), run.switches, lambda: bool(_back_on()))
        if result is WaitResult.MET:
            # A person in Home Assistant, or anything else: the device itself, its own button,
            # another integration. Either way power is back, and the staged restore follows.
            by_person = any(self._changed_by_person(e) for e in _back_on())
            detail = "power_restored_by_hand" if by_person else "power_restored_outside"
            _LOGGER.warning(
                "Power came back during the discharge wait of reset %s (%s)", run.run_id, detail
            )
            run.end_early(Outcome.CANCELLED, detail)

    async def _restore_power(self, run: Run) -> None:
        """Turn every switch back on; retry each one that does not confirm until it does.

        A switch still off two minutes after its own turn (POWER_RESTORE_GRACE after it was due in
        the stagger) is named in a critical repair issue, removed the moment every switch is on.
        """
        self._power_due.clear()
        watch = async_track_state_change_event(
            self.hass, run.switches, partial(self._watch_switch, run)
        )
        try:
            await self._switch_all_on(run)
        finally:
            for unsub in self._power_timers:
                unsub()
            self._power_timers.clear()
            watch()
        run.power_on_at = dt_util.utcnow()
        self._dismiss_power_notification()
        async_manage_power(self.hass, self.entry.entry_id, self.entry.title, [])
        # Removed here: nothing more to follow for an issue left from before a reload.
        async_stop_following_power(self.hass, self.entry.entry_id)
        # Power is back: the notice of a switch gone during the wait is moot.
        self._away.clear()
        await self._tell_away()

    @callback
    def _watch_switch(self, run: Run, event: Event[EventStateChangedData]) -> None:
        """Note on disk a switch a person turns off during the restore: a reload must honour it."""
        entity_id, new_state = event.data["entity_id"], event.data["new_state"]
        if new_state is None:
            return
        if new_state.state == STATE_OFF and self._by_person(event.context):
            if entity_id not in run.switches_left_off:
                _LOGGER.info("Power switch %s turned off by a person; leaving it off", entity_id)
                run.switches_left_off.append(entity_id)
                self._save_soon()
        elif new_state.state == STATE_ON and entity_id in run.switches_left_off:
            run.switches_left_off.remove(entity_id)
            self._save_soon()

    async def _switch_all_on(self, run: Run) -> None:
        """Turn the switches on until all are on together; a dead one never holds up the others.

        The first pass goes in order, a stagger apart; a switch that cannot take its command
        (absent, unavailable, disabled) or does not confirm it is left for the retries and the next
        one goes on. Then every switch not on (still dead, or fallen back off: a contactor that did
        not latch) is commanded again after a growing pause of its own, or as soon as it returns;
        one a person turned off in Home Assistant is left off.
        """
        restore = _Restore()
        for index, entity_id in enumerate(run.switches):
            if entity_id in run.switches_left_off:
                continue
            # A switch sent an off command that still reports on (a refused cut, or a cut cancelled
            # or restarted before it confirmed) gets an on command all the same: a slow or queued
            # off could land after the run, and an on sent after it puts that right.
            resend = index < run.switches_cut and self._is(entity_id, STATE_ON)
            if not resend and self._is(entity_id, STATE_ON):
                continue
            if await self._command_on(restore, entity_id, force=resend) or not resend:
                continue
            if self._is(entity_id, STATE_ON):
                _LOGGER.warning(
                    "Power switch %s reports on but did not confirm an on command; if its"
                    " earlier off command still lands, turn it back on by hand",
                    entity_id,
                )
        while True:
            pending = [
                e
                for e in run.switches
                if not self._is(e, STATE_ON)
                and not self._off_by_person(e)
                and e not in run.switches_left_off
            ]
            self._power_overdue()
            now = dt_util.utcnow()
            restore.log_back_on([e for e in run.switches if self._is(e, STATE_ON)], now)
            if not pending:
                return
            for entity_id in pending:
                restore.failed(entity_id, now)
            await self._notify_power_off(", ".join(pending))
            # Retry early when a person turns one on, or when one that could not take a command
            # can now; a switch that refuses or raises waits out its pause (no busy loop).
            could = {e: _commandable(self._state(e)) for e in pending}
            await self._wait(
                min(restore.next_try[e] for e in pending),
                pending,
                partial(self._worth_retrying, could),
                wakeable=False,
            )
            for entity_id in pending:
                if self._is(entity_id, STATE_ON) or self._off_by_person(entity_id):
                    continue
                returned = not could[entity_id] and _commandable(self._state(entity_id))
                if returned or dt_util.utcnow() >= restore.next_try[entity_id]:
                    await self._command_on(restore, entity_id)

    async def _command_on(self, restore: _Restore, entity_id: str, *, force: bool = False) -> bool:
        """Send one on command a stagger after the last one, and confirm it; False if it is not on.

        A switch already on by then is not commanded, unless `force` (its off may still land). It is
        due on at its turn (its first time here) and overdue POWER_RESTORE_GRACE later. `unknown`
        takes the command (a relay whose state is not retained); only an absent or unavailable
        switch cannot.
        """
        if restore.last_command is not None:
            await self._wait(restore.last_command + self.timing.stagger, wakeable=False)
        if not force and self._is(entity_id, STATE_ON):
            return True
        now = dt_util.utcnow()
        if entity_id not in self._power_due:
            self._power_due[entity_id] = now
            self._power_timers.append(
                async_track_point_in_utc_time(
                    self.hass, self._power_overdue, now + POWER_RESTORE_GRACE
                )
            )
        if not _commandable(self._state(entity_id)):
            return False
        restore.last_command = now
        if entity_id in restore.since:
            restore.sent[entity_id] = restore.sent.get(entity_id, 0) + 1
        if await self._switch_to(entity_id, STATE_ON):
            restore.confirmed.add(entity_id)
            return True
        return False

    def _worth_retrying(self, could: dict[str, bool]) -> bool:
        """Whether a switch not on is on now, or can take a command when it could not (`could`)."""
        return any(
            self._is(e, STATE_ON) or (not was and _commandable(self._state(e)))
            for e, was in could.items()
        )

    @callback
    def _power_overdue(self, _now: datetime | None = None) -> None:
        """Raise, update or remove the critical issue: the switches still off past their grace."""
        run = self.run
        if run is None:
            return
        off = [e for e in run.switches if not self._is(e, STATE_ON)]
        overdue = overdue_switches(off, self._power_due, dt_util.utcnow(), POWER_RESTORE_GRACE)
        async_manage_power(self.hass, self.entry.entry_id, self.entry.title, overdue)

    async def _start_up(self, run: Run) -> None:
        """Give the unit's control board its start-up delay before the thermostat calls."""
        await self._wait(run.phase_ends_at)

    async def _restore_thermostat(self, run: Run) -> None:
        """Wait for the thermostat to return, then put every saved setting back and confirm it."""
        if run.thermostat_overridden:
            _LOGGER.info("Thermostat %s was changed by a person; leaving it as set", run.thermostat)
            return
        # A thermostat that just regained power may drop commands or go away again: keep trying,
        # with growing pauses, until it has had the whole return window (power is on meanwhile).
        deadline = dt_util.utcnow() + self.timing.thermostat_return
        attempt = 0
        while True:
            result = await self._wait(
                deadline, [run.thermostat], partial(self._present, run.thermostat)
            )
            if result is WaitResult.WOKEN or run.thermostat_overridden:
                return
            if result is WaitResult.TIMEOUT:
                break
            if await self._apply_settings(run):
                return
            attempt += 1
            pause = min(deadline, dt_util.utcnow() + backoff(attempt))
            if await self._wait(pause) is WaitResult.WOKEN:
                return
            if dt_util.utcnow() >= deadline:
                break
        # Kept beside an outcome decided before (a cancel, a restart): the record says it.
        if attempt == 0:
            run.thermostat_not_restored("thermostat_did_not_return")
        else:
            state = self._state(run.thermostat)
            missing = thermostat.mismatched(run.saved, state) if state else list(run.saved)
            run.thermostat_not_restored("thermostat_not_restored:" + ",".join(missing))
        # Power is on but the heating may be off: the household must hear of it.
        await self._post(
            f"{DOMAIN}_{self.entry.entry_id}_thermostat",
            notice(
                "thermostat_not_restored",
                name=self.entry.title,
                entity_id=run.thermostat,
                settings=_settings_text(run),
            ),
        )

    async def _verify(self, run: Run) -> None:
        """Watch for the unit starting within the verification window."""
        if self._state(run.thermostat) is None and not run.thermostat_overridden:
            # After a restart its integration may set up after Home Assistant started: nothing is
            # decided from a thermostat that does not exist yet, within the window.
            await self._wait(
                run.phase_ends_at,
                [run.thermostat],
                lambda: self._state(run.thermostat) is not None,
            )
        climate = self._state(run.thermostat)
        if climate is None or run.thermostat_overridden:
            return
        observable = thermostat.reports_action(climate) or run.power_sensor is not None
        demand_seen = False

        def _started() -> bool:
            nonlocal demand_seen
            state = self._state(run.thermostat)
            if state is not None:
                attrs = state.attributes
                demand_seen = demand_seen or has_demand(
                    state.state,
                    attrs.get("current_temperature"),
                    attrs.get("temperature"),
                    attrs.get("target_temp_low"),
                    attrs.get("target_temp_high"),
                )
            return thermostat.hvac_action(state) in START_ACTIONS or self._power_above()

        if climate.state not in DEMAND_MODES:
            return
        result = await self._wait(run.phase_ends_at, self._watched(run.thermostat), _started)
        if result is WaitResult.WOKEN:
            return
        run.end_early(
            verified_outcome(result is WaitResult.MET, demand_seen, observable),
            "verification",
        )

    # --- Helpers ---------------------------------------------------------------------------

    def _state(self, entity_id: str) -> State | None:
        """Return an entity's current state."""
        return self.hass.states.get(entity_id)

    def _present(self, entity_id: str) -> bool:
        """Whether an entity is available."""
        return _available(self._state(entity_id))

    def _reported(self, entity_id: str) -> str | None:
        """Return an entity's real state, or None while it is absent, unavailable or unknown."""
        state = self._state(entity_id)
        return state.state if state is not None and _available(state) else None

    def _is(self, entity_id: str, value: str) -> bool:
        """Whether an entity reports exactly `value`."""
        state = self._state(entity_id)
        return state is not None and state.state == value

    def _keep_sensor(self, run: Run) -> None:
        """Give the run the entry's sensor and thresholds: it keeps them to its end."""
        run.power_sensor = self.sensor_id
        run.power_threshold = self.power_threshold
        run.current_threshold = self.current_threshold
        run.sensor_kept = True

    def _watched(self, entity_id: str) -> list[str]:
        """Return the entity plus the run's power sensor, when it has one."""
        sensor = self.run.power_sensor if self.run else self.sensor_id
        return [entity_id, *([sensor] if sensor else [])]

    def _sensor_running(self) -> bool | None:
        """Whether the run's sensor shows the unit running; None when it cannot be read.

        The reading is converted to W or A (by its own unit) and compared with that threshold.
        """
        run = self.run
        assert run is not None
        assert run.power_sensor is not None
        return self._above(run.power_sensor, run.power_threshold, run.current_threshold)

    def sensor_above(self) -> bool | None:
        """Whether the heat pump's sensor shows the unit running now (None: none, or unreadable)."""
        if self.sensor_id is None:
            return None
        return self._above(self.sensor_id, self.power_threshold, self.current_threshold)

    def _above(self, sensor_id: str, power: float, current: float) -> bool | None:
        """Whether a sensor's reading, converted to W or A by its unit, is above that threshold."""
        converted = reading(self._state(sensor_id))
        if converted is None:
            return None
        kind, value = converted
        return above_threshold(value, power if kind is SensorKind.POWER else current)

    def _power_above(self) -> bool:
        """Whether the run's sensor shows the unit running (unreadable is not a start)."""
        if self.run is None or self.run.power_sensor is None:
            return False
        return self._sensor_running() is True

    def _unit_idle(self) -> bool:
        """Whether the thermostat is off and idle and, with a sensor, the unit draws no power."""
        climate = self._state(self.run.thermostat if self.run else self.thermostat_id)
        if climate is None or not is_stopped(climate.state, thermostat.hvac_action(climate)):
            return False
        if self.run is None:
            return self.sensor_id is None
        if self.run.power_sensor is None:
            return True
        # An unreadable sensor (or one in a unit that cannot be converted) cannot prove the
        # compressor stopped: treat it as running.
        return self._sensor_running() is False

    @callback
    def _watch_thermostat(self, event: Event[EventStateChangedData]) -> None:
        """Note a person changing the thermostat while the run holds it off."""
        run = self.run
        if (
            run is None
            or not self._by_person(event.context)
            or run.phase in (Phase.IDLE, Phase.VERIFYING)
        ):
            return
        new_state, old_state = event.data["new_state"], event.data["old_state"]
        if new_state is None or not _available(new_state):
            return
        # Only what the person changed: the rest of the state may be the run's own off.
        self._note_person_change(run, thermostat.changed_settings(old_state, new_state))

    @callback
    def _note_person_change(self, run: Run, changed: dict[str, Any]) -> None:
        """Keep what a person set on the thermostat: a new mode means they took over."""
        if run.phase is Phase.RESTORING_THERMOSTAT:
            # The run is sending the saved settings: a report of one of them may be the run's own
            # write under the person's context. Only what differs from them is the person's.
            changed = thermostat.differing(run.saved, changed)
            if not changed:
                return
        if run.phase is Phase.STOPPING_THERMOSTAT or "hvac_mode" not in changed:
            # Our off may still be on its way, or the person left the mode as the run set it
            # (say, a new set point): what they changed goes back with the rest.
            _LOGGER.info("Thermostat %s: a person set %s", run.thermostat, sorted(changed))
            run.saved.update(changed)
        else:
            _LOGGER.info(
                "Thermostat %s changed by a person during reset %s", run.thermostat, run.run_id
            )
            run.thermostat_overridden = True
        self._save_soon()

    @callback
    def _watch_calls(self, event: Event[Any]) -> None:
        """Note a person's climate call to the thermostat the moment it is made.

        The thermostat's report of it may come later, under the run's context (the run's own calls
        to put the settings back are in flight): the call itself says what the person wanted.
        """
        run = self.run
        data = event.data
        if (
            run is None
            or data.get(ATTR_DOMAIN) != Platform.CLIMATE
            or not self._by_person(event.context)
            or run.phase in (Phase.IDLE, Phase.VERIFYING)
        ):
            return
        service_data = data.get(ATTR_SERVICE_DATA) or {}
        targets = service_data.get(ATTR_ENTITY_ID)
        if run.thermostat not in ([targets] if isinstance(targets, str) else targets or ()):
            return
        changed = thermostat.requested(service_data, run.saved)
        if changed:
            self._note_person_change(run, changed)

    @callback
    def _watch_switches(self, event: Event[EventStateChangedData]) -> None:
        """Decide from each switch report as it comes, during the cut and the discharge wait.

        Power back (a switch sent an off turned on), or a switch gone during the wait (the
        household is told at once).
        """
        run = self.run
        if run is None or run.phase not in (Phase.CUTTING_POWER, Phase.DISCHARGING):
            return
        entity_id = event.data["entity_id"]
        new_state, old_state = event.data["new_state"], event.data["old_state"]
        if run.phase is Phase.DISCHARGING:
            away = not _commandable(new_state)
            if away != (entity_id in self._away):
                (self._away.add if away else self._away.discard)(entity_id)
                self.entry.async_create_background_task(
                    self.hass, self._tell_away(), f"{DOMAIN} switch away {self.entry.title}"
                )
        # A switch sent an off that reported off, now on: power came back, even if it goes off
        # again before the run looks at it (the capacitors charged again). Decided from the event,
        # not from the state found afterwards. A switch never sent an off is not power back.
        index = run.switches.index(entity_id) if entity_id in run.switches else len(run.switches)
        if (
            index < run.switches_cut
            and old_state is not None
            and old_state.state == STATE_OFF
            and new_state is not None
            and new_state.state == STATE_ON
            and run.ending is None
        ):
            detail = (
                "power_restored_by_hand"
                if self._by_person(event.context)
                else "power_restored_outside"
            )
            _LOGGER.warning(
                "Power switch %s came back on during %s of reset %s (%s)",
                entity_id,
                run.phase,
                run.run_id,
                detail,
            )
            run.end_early(Outcome.CANCELLED, detail)
            self._save_soon()
            if self._wake is not None:
                self._wake()
            else:
                self._cancel_pending = True

    async def _tell_away(self) -> None:
        """Post (or remove) the notice naming the switches gone during the discharge wait."""
        notification_id = f"{DOMAIN}_{self.entry.entry_id}_switch_away"
        run = self.run
        if not self._away or run is None:
            persistent_notification.async_dismiss(self.hass, notification_id)
            return
        deadline = run.discharge_deadline() or dt_util.utcnow()
        await self._post(
            notification_id,
            notice(
                "switch_away_during_wait",
                name=self.entry.title,
                entity_ids=", ".join(e for e in run.switches if e in self._away),
                time=dt_util.as_local(deadline).strftime("%H:%M"),
            ),
        )
        if not self._away:
            # It came back while the text was being looked up.
            persistent_notification.async_dismiss(self.hass, notification_id)

    def _by_person(self, context: Context) -> bool:
        """Whether a change came from a person in Home Assistant (not from the run, not a device)."""
        return context.user_id is not None and context.id not in self._own_contexts

    def _changed_by_person(self, entity_id: str) -> bool:
        """Whether a person in Home Assistant made the entity's last change."""
        state = self._state(entity_id)
        return state is not None and self._by_person(state.context)

    def _off_by_person(self, entity_id: str) -> bool:
        """Whether a person in Home Assistant turned the switch off (not the run, not the device)."""
        return self._is(entity_id, STATE_OFF) and self._changed_by_person(entity_id)

    def _context(self) -> Context:
        """Return a fresh context for our own service calls and remember it."""
        context = Context()
        self._own_contexts.append(context.id)
        return context

    async def _call(
        self,
        domain: str,
        service: str,
        entity_id: str,
        data: dict[str, Any],
        deadline: datetime | None = None,
    ) -> bool:
        """Call an entity service, blocking, until `deadline` at most; return False when it raised."""
        timeout = self.timing.switch_timeout
        if deadline is not None:
            timeout = max(deadline - dt_util.utcnow(), timedelta(0))
        try:
            async with asyncio.timeout(timeout.total_seconds()):
                await self.hass.services.async_call(
                    domain,
                    service,
                    {ATTR_ENTITY_ID: entity_id, **data},
                    blocking=True,
                    context=self._context(),
                )
        except Exception as err:  # noqa: BLE001
            # A wrapped integration may raise anything; the run must carry on and decide, not crash.
            _LOGGER.warning("%s.%s on %s failed: %s", domain, service, entity_id, err)
            return False
        return True

    async def _switch_to(self, entity_id: str, value: str, since: datetime | None = None) -> bool:
        """Switch a power switch; confirm it reports `value` within the confirm timeout of `since`.

        The call and the confirmation share that one timeout, counted from `since` (default: now),
        so a restart mid-cut knows the latest moment a switch could have gone off.
        """
        service = SERVICE_TURN_ON if value == STATE_ON else SERVICE_TURN_OFF
        deadline = (since or dt_util.utcnow()) + self.timing.switch_timeout
        if not await self._call(Platform.SWITCH, service, entity_id, {}, deadline):
            return False
        result = await self._wait(
            deadline,
            [entity_id],
            lambda: self._is(entity_id, value),
            wakeable=False,
        )
        return result is WaitResult.MET

    async def _apply_settings(self, run: Run) -> bool:
        """Send the saved thermostat settings and confirm them; return whether they all hold.

        The calls are worked out again before each one: a person's change that lands between them
        joins the saved settings (or, a new mode, ends the restore) and is not overwritten.
        """
        sent = 0
        while not run.thermostat_overridden:
            calls = thermostat.restore_calls(run.saved)
            if sent >= len(calls):
                break
            service, data = calls[sent]
            await self._call(Platform.CLIMATE, service, run.thermostat, data)
            sent += 1

        def _restored() -> bool:
            if run.thermostat_overridden:
                return True
            state = self._state(run.thermostat)
            return state is not None and not thermostat.mismatched(run.saved, state)

        result = await self._wait(
            dt_util.utcnow() + self.timing.stop_timeout, [run.thermostat], _restored, wakeable=False
        )
        return result is WaitResult.MET

    async def _wait(
        self,
        deadline: datetime | None,
        entity_ids: Iterable[str] = (),
        condition: Callable[[], bool] | None = None,
        *,
        wakeable: bool = True,
    ) -> WaitResult:
        """Wait until `condition` holds (checked on each state change), the deadline, or a cancel.

        Deadlines are absolute and scheduled on Home Assistant's clock, so restarts and time travel
        in tests behave like real time.
        """
        if condition is not None and condition():
            return WaitResult.MET
        if deadline is not None and dt_util.utcnow() >= deadline:
            return WaitResult.TIMEOUT
        if wakeable and self._cancel_pending:
            self._cancel_pending = False
            return WaitResult.WOKEN
        future: asyncio.Future[WaitResult] = self.hass.loop.create_future()

        @callback
        def _resolve(result: WaitResult) -> None:
            if not future.done():
                future.set_result(result)

        @callback
        def _state_changed(_event: Event[EventStateChangedData]) -> None:
            if condition is not None and condition():
                _resolve(WaitResult.MET)

        @callback
        def _timed_out(_now: datetime) -> None:
            _resolve(WaitResult.TIMEOUT)

        unsubs: list[CALLBACK_TYPE] = []
        entity_list = list(entity_ids)
        if entity_list:
            unsubs.append(async_track_state_change_event(self.hass, entity_list, _state_changed))
        if deadline is not None:
            unsubs.append(async_track_point_in_utc_time(self.hass, _timed_out, deadline))
        previous_wake = self._wake
        if wakeable:
            self._wake = lambda: _resolve(WaitResult.WOKEN)
        try:
            return await future
        finally:
            for unsub in unsubs:
                unsub()
            self._wake = previous_wake

    async def _notify_power_off(self, entity_id: str) -> None:
        """Tell the household in plain words that power could not be put back yet."""
        if self._notified:
            return
        self._notified = True
        await self._post(
            self.notification_id,
            notice("power_not_restored", name=self.entry.title, entity_id=entity_id),
        )

    async def _notify_left_behind(
        self, run: Run, left_off: list[str], thermostat_back: bool
    ) -> None:
        """Say in plain words what a run ended early could not put back, and what it was."""
        notices = []
        if left_off:
            notices.append(
                notice("power_left_off", name=self.entry.title, entity_ids=", ".join(left_off))
            )
        if not thermostat_back:
            notices.append(
                notice(
                    "thermostat_left_off",
                    name=self.entry.title,
                    entity_id=run.thermostat,
                    settings=_settings_text(run),
                )
            )
        await self._post(f"{DOMAIN}_{self.entry.entry_id}_left_behind", *notices)

    async def _post(self, notification_id: str, *notices: Notice) -> None:
        """Post a persistent notification of translated texts, a paragraph each."""
        strings = await async_get_translations(
            self.hass, self.hass.config.language, "exceptions", [DOMAIN]
        )
        persistent_notification.async_create(
            self.hass,
            "\n\n".join(
                strings.get(
                    f"component.{DOMAIN}.exceptions.{key}.message", "{name}: " + key
                ).format(**placeholders)
                for key, placeholders in notices
            ),
            title=self.entry.title,
            notification_id=notification_id,
        )

    @callback
    def _dismiss_power_notification(self) -> None:
        """Remove the notification once power is back, or the run is over.

        Whoever posted it: an earlier controller of the entry (before a reload, or the loaded one
        before a removal) may have, so what this one remembers does not decide.
        """
        self._notified = False
        persistent_notification.async_dismiss(self.hass, self.notification_id)


@callback
def phase_words(hass: HomeAssistant, phase: Phase) -> str:
    """Return a phase as the phase sensor shows it, in Home Assistant's language (else English)."""
    key = f"component.{DOMAIN}.entity.sensor.phase.state.{phase.value}"
    for language in (hass.config.language, "en"):
        if words := async_get_cached_translations(hass, language, "entity", DOMAIN).get(key):
            return words
    return phase.value


def notice(key: str, **placeholders: str) -> Notice:
    """Return the exceptions text `key` of strings.json with its placeholders, for `_post`."""
    return key, placeholders


def _settings_text(run: Run) -> str:
    """Return the run's saved thermostat settings in words a person can set by hand."""
    return ", ".join(f"{setting} {value}" for setting, value in run.saved.items())

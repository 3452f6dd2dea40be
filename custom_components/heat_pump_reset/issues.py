"""The repair issues of a heat pump: raised while their cause lasts, removed once it is gone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Final

from homeassistant.const import STATE_ON
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import (
    DOMAIN,
    ISSUE_DAILY_LIMIT,
    ISSUE_DISABLED_ENTITY,
    ISSUE_FAULT_RETURNED,
    ISSUE_MISSING_ENTITY,
    ISSUE_NO_START,
    ISSUE_NO_START_AFTER_OUTAGE,
    ISSUE_POWER_NOT_RESTORED,
    ISSUE_POWER_STILL_FLOWING,
    ISSUE_RECURRING_RESETS,
    ISSUE_SHARED_ENTITY,
)
from .faults import codes
from .history import (
    Record,
    RecurringDue,
    acknowledged_at,
    next_change,
    recurring_due,
    returned_faults,
    unacknowledged_fault,
    unacknowledged_no_start,
)
from .naming import friendly_list, friendly_name, name_and_id
from .proof import flowing_unacknowledged

if TYPE_CHECKING:
    from .settings import Settings
    from .storage import RunStore

CONF_ENTITY_ID: Final = "entity_id"
# Per entry: the listener that removes the power issue once every switch is on (see below).
_POWER_WATCH: HassKey[dict[str, CALLBACK_TYPE]] = HassKey("heat_pump_reset_power_watch")


def issue_id(key: str, entry_id: str, entity_id: str | None = None) -> str:
    """Return the id of one heat pump's issue (one per wrapped entity for a missing entity)."""
    return f"{key}_{entry_id}" if entity_id is None else f"{key}_{entry_id}_{entity_id}"


@callback
def _manage(
    hass: HomeAssistant,
    key: str,
    entry_id: str,
    placeholders: dict[str, str] | None,
    severity: ir.IssueSeverity,
    *,
    entity_id: str | None = None,
    fixable: bool = True,
    translation_key: str | None = None,
) -> None:
    """Raise the issue with `placeholders`, or remove it when they are None (its cause is gone).

    Its texts are those of `key` unless another `translation_key` words the same issue.
    """
    ident = issue_id(key, entry_id, entity_id)
    if placeholders is None:
        ir.async_delete_issue(hass, DOMAIN, ident)
        return
    data: dict[str, str | int | float | None] = {"entry_id": entry_id, "key": key}
    if entity_id is not None:
        data[CONF_ENTITY_ID] = entity_id
    ir.async_create_issue(
        hass,
        DOMAIN,
        ident,
        data=data,
        is_fixable=fixable,
        severity=severity,
        translation_key=translation_key or key,
        translation_placeholders=placeholders,
    )


@callback
def async_manage_recurring(
    hass: HomeAssistant, entry_id: str, name: str, due: RecurringDue | None, days: int
) -> None:
    """Raise or remove the recurring-resets warning (`due`: why it is due, None: not due).

    Due by the day's limit alone (fewer resets in `days` than the recurrence setting), it says
    so in its own words; either way it is the one issue, acknowledged by the one fix flow.
    """
    if due is None:
        _manage(hass, ISSUE_RECURRING_RESETS, entry_id, None, ir.IssueSeverity.WARNING)
    elif due.by_day_limit:
        _manage(
            hass,
            ISSUE_RECURRING_RESETS,
            entry_id,
            {"name": name, "count": str(due.day_count), "limit": str(due.day_limit)},
            ir.IssueSeverity.WARNING,
            translation_key=ISSUE_DAILY_LIMIT,
        )
    else:
        placeholders = {"name": name, "count": str(due.count), "days": str(days)}
        _manage(hass, ISSUE_RECURRING_RESETS, entry_id, placeholders, ir.IssueSeverity.WARNING)


@callback
def async_manage_no_start(
    hass: HomeAssistant, entry_id: str, name: str, due: Record | None
) -> None:
    """Raise or remove the error that the unit did not start (`due`: the run that saw it).

    After an outage run (the reset that should have followed did not start) in its own words.
    """
    placeholders = {"name": name} if due is not None else None
    after_outage = due is not None and due.get("outage") is not None
    _manage(
        hass,
        ISSUE_NO_START,
        entry_id,
        placeholders,
        ir.IssueSeverity.ERROR,
        translation_key=ISSUE_NO_START_AFTER_OUTAGE if after_outage else None,
    )


@callback
def async_manage_power_flowing(hass: HomeAssistant, entry_id: str, name: str, due: bool) -> None:
    """Raise or remove the critical issue that power still flowed after a cut (issue 13)."""
    placeholders = {"name": name} if due else None
    _manage(hass, ISSUE_POWER_STILL_FLOWING, entry_id, placeholders, ir.IssueSeverity.CRITICAL)


def async_manage_fault_returned(
    hass: HomeAssistant, entry_id: str, name: str, record: Record | None
) -> None:
    """Raise or remove the error that the unit's fault came back after a reset (`record`: that run)."""
    found = returned_faults(record) if record is not None else {}
    placeholders = (
        {"name": name, "code": codes(found) or "?", "entities": friendly_list(hass, found)}
        if record is not None
        else None
    )
    _manage(hass, ISSUE_FAULT_RETURNED, entry_id, placeholders, ir.IssueSeverity.ERROR)


@callback
def async_manage_power(
    hass: HomeAssistant, entry_id: str, name: str, switches_off: list[str]
) -> None:
    """Raise the critical issue while power switches stay off after a reset; remove it once on."""
    # By the names people know them by: someone may have to go and turn them on by hand.
    placeholders = (
        {"name": name, "entities": friendly_list(hass, switches_off)} if switches_off else None
    )
    _manage(
        hass,
        ISSUE_POWER_NOT_RESTORED,
        entry_id,
        placeholders,
        ir.IssueSeverity.CRITICAL,
        fixable=False,
    )


@callback
def async_follow_power(hass: HomeAssistant, entry_id: str, switches: list[str]) -> None:
    """Remove the power issue as soon as every switch is on, whoever turned them on.

    Decided from the switches' states, not from what a controller remembers: the entry may have
    been disabled, removed or reloaded since the issue was raised. Follows the switches until then
    (the entry need not be loaded); a later call, the entry set up again, or removed, replaces it.
    """
    async_stop_following_power(hass, entry_id)
    ident = issue_id(ISSUE_POWER_NOT_RESTORED, entry_id)
    if ir.async_get(hass).async_get_issue(DOMAIN, ident) is None:
        return

    def _all_on() -> bool:
        return all(
            (state := hass.states.get(entity_id)) is not None and state.state == STATE_ON
            for entity_id in switches
        )

    if _all_on():
        ir.async_delete_issue(hass, DOMAIN, ident)
        return

    @callback
    def _changed(_event: Event[EventStateChangedData]) -> None:
        if _all_on():
            async_stop_following_power(hass, entry_id)
            ir.async_delete_issue(hass, DOMAIN, ident)

    hass.data.setdefault(_POWER_WATCH, {})[entry_id] = async_track_state_change_event(
        hass, switches, _changed
    )


@callback
def async_stop_following_power(hass: HomeAssistant, entry_id: str) -> None:
    """Stop what `async_follow_power` started for the entry, if anything."""
    if (unsub := hass.data.get(_POWER_WATCH, {}).pop(entry_id, None)) is not None:
        unsub()


@callback
def async_manage_missing(
    hass: HomeAssistant, entry_id: str, name: str, entity_id: str, missing: bool
) -> None:
    """Raise or remove the issue that a wrapped entity was removed from Home Assistant."""
    # With its id: a removed entity's name is rarely known any more, and the id is what it was.
    placeholders = {"name": name, "entity": name_and_id(hass, entity_id)} if missing else None
    _manage(
        hass,
        ISSUE_MISSING_ENTITY,
        entry_id,
        placeholders,
        ir.IssueSeverity.ERROR,
        entity_id=entity_id,
    )


@callback
def async_forget_unwrapped(hass: HomeAssistant, entry_id: str, wrapped: list[str]) -> None:
    """Remove missing- and disabled-entity issues of entities no longer wrapped (Reconfigure dropped them)."""
    registry = ir.async_get(hass)
    for (domain, ident), issue in list(registry.issues.items()):
        data = issue.data
        if (
            domain == DOMAIN
            and data is not None
            and data.get("entry_id") == entry_id
            and data.get("key") in (ISSUE_MISSING_ENTITY, ISSUE_DISABLED_ENTITY)
            and data.get(CONF_ENTITY_ID) not in wrapped
        ):
            ir.async_delete_issue(hass, DOMAIN, ident)


@callback
def async_manage_shared(hass: HomeAssistant, shared: dict[str, list[str]]) -> None:
    """Raise an issue per entity that heat pumps share (`shared`: entity id -> their names).

    Every other sharing issue is removed: its heat pumps no longer share it (or are not loaded).
    """
    registry = ir.async_get(hass)
    for (domain, ident), issue in list(registry.issues.items()):
        data = issue.data or {}
        if (
            domain == DOMAIN
            and data.get("key") == ISSUE_SHARED_ENTITY
            and data.get(CONF_ENTITY_ID) not in shared
        ):
            ir.async_delete_issue(hass, DOMAIN, ident)
    for entity_id, names in shared.items():
        ir.async_create_issue(
            hass,
            DOMAIN,
            f"{ISSUE_SHARED_ENTITY}_{entity_id}",
            data={"key": ISSUE_SHARED_ENTITY, CONF_ENTITY_ID: entity_id},
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_SHARED_ENTITY,
            translation_placeholders={
                "entity": friendly_name(hass, entity_id),
                "names": ", ".join(names),
            },
        )


def async_manage_disabled(
    hass: HomeAssistant, entry_id: str, name: str, entity_id: str, disabled: bool
) -> None:
    """Raise or remove the issue that a wrapped entity was disabled (it has no state, takes no command)."""
    # With its id: the entity list hides disabled entities, and its search finds them by either.
    placeholders = {"name": name, "entity": name_and_id(hass, entity_id)} if disabled else None
    _manage(
        hass,
        ISSUE_DISABLED_ENTITY,
        entry_id,
        placeholders,
        ir.IssueSeverity.ERROR,
        entity_id=entity_id,
        fixable=False,
    )


@callback
def async_delete_all(hass: HomeAssistant, entry_id: str) -> None:
    """Remove every issue of a heat pump (the entry is being removed)."""
    async_stop_following_power(hass, entry_id)
    registry = ir.async_get(hass)
    for (domain, ident), issue in list(registry.issues.items()):
        if domain == DOMAIN and issue.data is not None and issue.data.get("entry_id") == entry_id:
            ir.async_delete_issue(hass, DOMAIN, ident)


class HistoryIssues:
    """The repairs one heat pump's history calls for: resets recurring, a unit that did not start.

    Kept up to date only while the entry is loaded (`start` to `stop`), with one timer that looks
    again when a reset leaves the window (and tells the entities: Recent resets drops it too).
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        name: str,
        *,
        settings: Settings,
        store: RunStore,
        on_tick: Callable[[], None],
    ) -> None:
        """Look at `store`'s history with `settings`' limits; `on_tick` when a reset ages out."""
        self._hass = hass
        self._entry_id = entry_id
        self._name = name
        self._settings = settings
        self._store = store
        self._on_tick = on_tick
        self._timer: CALLBACK_TYPE | None = None
        self.active = False

    @callback
    def start(self) -> None:
        """Keep the issues up to date from now on."""
        self.active = True
        self.update()

    @callback
    def stop(self) -> None:
        """Stop keeping them (the entry unloads; a removal deletes them)."""
        self.active = False
        self._cancel_timer()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    def _acknowledged_at(self, key: str) -> datetime | None:
        return acknowledged_at(self._store.acknowledged, key)

    @callback
    def update(self) -> None:
        """Raise or remove the issues the history calls for; look again when a reset ages out."""
        if not self.active:
            return
        now = dt_util.utcnow()
        history, window = self._store.history, self._settings.recent_window
        count = recurring_due(
            history,
            now,
            window=window,
            threshold=self._settings.recurrence_count,
            day_limit=self._settings.max_resets_per_day,
            acknowledged_at=self._acknowledged_at(ISSUE_RECURRING_RESETS),
        )
        async_manage_recurring(self._hass, self._entry_id, self._name, count, window.days)
        no_start = unacknowledged_no_start(history, self._acknowledged_at(ISSUE_NO_START))
        async_manage_no_start(self._hass, self._entry_id, self._name, no_start)
        flowing = flowing_unacknowledged(history, self._acknowledged_at(ISSUE_POWER_STILL_FLOWING))
        async_manage_power_flowing(self._hass, self._entry_id, self._name, flowing)
        fault = unacknowledged_fault(history, self._acknowledged_at(ISSUE_FAULT_RETURNED))
        async_manage_fault_returned(self._hass, self._entry_id, self._name, fault)
        self._cancel_timer()
        if (when := next_change(history, now, window)) is not None:
            self._timer = async_track_point_in_utc_time(self._hass, self._tick, when)

    @callback
    def _tick(self, _now: datetime) -> None:
        self._on_tick()
        self.update()

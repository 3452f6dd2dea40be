"""Waiting on Home Assistant's clock and on state changes, and the one way a cancel ends a wait.

Deadlines are absolute and scheduled on Home Assistant's clock, so restarts and time travel in the
tests behave like real time. A wait ends when its condition holds (checked on each state change of
the entities it watches), at its deadline, or, when it may be cut short, as soon as `cancelled()`
says the run is cancelled: at its start, or when `reconsider()` is called after a cancel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import Enum

from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, HomeAssistant, callback
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.util import dt as dt_util


class WaitResult(Enum):
    """Why a wait ended."""

    MET = "met"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class Waiter:
    """Waits of one heat pump's runs; `cancelled()` says whether a cancel ends them now."""

    def __init__(self, hass: HomeAssistant, cancelled: Callable[[], bool]) -> None:
        """Wait on `hass`; a wait that may be cut short ends once `cancelled()` holds."""
        self._hass = hass
        self._cancelled = cancelled
        # The waits under way that a cancel ends: each one's way to end it.
        self._cancellable: set[Callable[[], None]] = set()

    @callback
    def reconsider(self) -> None:
        """Look at the cancel again (it was just asked): the waits it ends, end."""
        if self._cancelled():
            for end in list(self._cancellable):
                end()

    async def wait(
        self,
        deadline: datetime | None,
        entity_ids: Iterable[str] = (),
        condition: Callable[[], bool] | None = None,
        *,
        cancellable: bool = True,
    ) -> WaitResult:
        """Wait until `condition` holds, the deadline passes, or (if `cancellable`) a cancel."""
        if condition is not None and condition():
            return WaitResult.MET
        if deadline is not None and dt_util.utcnow() >= deadline:
            return WaitResult.TIMEOUT
        if cancellable and self._cancelled():
            return WaitResult.CANCELLED
        future: asyncio.Future[WaitResult] = self._hass.loop.create_future()

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

        def _cancel() -> None:
            _resolve(WaitResult.CANCELLED)

        unsubs: list[CALLBACK_TYPE] = []
        entity_list = list(entity_ids)
        if entity_list:
            unsubs.append(async_track_state_change_event(self._hass, entity_list, _state_changed))
        if deadline is not None:
            unsubs.append(async_track_point_in_utc_time(self._hass, _timed_out, deadline))
        if cancellable:
            self._cancellable.add(_cancel)
        try:
            return await future
        finally:
            self._cancellable.discard(_cancel)
            for unsub in unsubs:
                unsub()

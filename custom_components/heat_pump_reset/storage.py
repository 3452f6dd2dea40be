"""Durable state of one heat pump: the active run (written before each action) and the history.

Two files per config entry, so the small active run that is written before every action does not
rewrite the whole history each time:
- `heat_pump_reset.run.<entry_id>`: the active run.
- `heat_pump_reset.history.<entry_id>`: finished runs (newest first, bounded) and acknowledgements.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Final, TypedDict, cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import (
    HISTORY_KEY_PREFIX,
    HISTORY_STORAGE_MINOR_VERSION,
    HISTORY_STORAGE_VERSION,
    STORAGE_KEY_PREFIX,
    STORAGE_VERSION,
)
from .history import Record, make_record, prepend, record_from_last
from .sequence import Outcome, Run

# Store writes in flight at once, across all heat pumps. Each write runs in an executor thread; 200
# heat pumps writing together hold the interpreter lock long enough to stall the event loop for
# tens of milliseconds (scripts/bench). Every write still finishes before the action it protects.
_WRITES_AT_ONCE: Final = 4
_WRITE_LIMIT: HassKey[asyncio.Semaphore] = HassKey("heat_pump_reset_write_limit")


class _RunData(TypedDict, total=False):
    """What the active-run file holds (`last`: only in files written before the history existed)."""

    active: dict[str, Any] | None
    last: dict[str, Any] | None


class HistoryData(TypedDict):
    """What the history file holds."""

    runs: list[Record]
    # Acknowledgement times (ISO) by repair issue key: runs before them no longer count.
    acknowledged: dict[str, str]


class _HistoryStore(Store[HistoryData]):
    """The history file, migrated from older layouts when loaded."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> HistoryData:
        """Bring data written by another release to this layout.

        A newer major version is refused (its records are kept on disk, the entry does not load);
        a newer minor version only adds keys, which are kept; older layouts get what they lack.
        """
        if old_major_version > HISTORY_STORAGE_VERSION:
            raise NotImplementedError
        data = dict(old_data)
        data.setdefault("runs", [])
        data.setdefault("acknowledged", {})
        return cast("HistoryData", data)


class RunStore:
    """Persists one heat pump's active run, its finished runs and acknowledgements."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the stores for a config entry."""
        self._active: Store[_RunData] = Store(hass, STORAGE_VERSION, STORAGE_KEY_PREFIX + entry_id)
        self._limit = hass.data.setdefault(_WRITE_LIMIT, asyncio.Semaphore(_WRITES_AT_ONCE))
        self._history = _HistoryStore(
            hass,
            HISTORY_STORAGE_VERSION,
            HISTORY_KEY_PREFIX + entry_id,
            minor_version=HISTORY_STORAGE_MINOR_VERSION,
        )
        self.history: list[Record] = []
        self.acknowledged: dict[str, str] = {}

    async def async_load(self) -> Run | None:
        """Load the history and acknowledgements; return the stored active run."""
        run_data = await self._active.async_load() or _RunData()
        history = await self._history.async_load()
        if history is not None:
            self.history = list(history["runs"])
            self.acknowledged = dict(history["acknowledged"])
        elif last := run_data.get("last"):
            # Written before the history existed: its one-run summary starts the history.
            self.history = [record_from_last(last)]
            await self._save_history()
        active = run_data.get("active")
        return Run.from_dict(active) if active else None

    async def async_save_active(self, run: Run) -> None:
        """Write the active run to disk now."""
        async with self._limit:
            await self._active.async_save({"active": run.to_dict()})

    async def async_finish(self, run: Run, outcome: Outcome, now: datetime) -> Record:
        """Record how `run` ended, then clear the active run.

        The history is written first: a crash in between leaves the run active, it resumes and
        finishes again, and the record is replaced rather than added twice.
        """
        record = make_record(run, outcome, now)
        others = [r for r in self.history if r["run_id"] != run.run_id]
        self.history = prepend(others, record)
        await self._save_history()
        async with self._limit:
            await self._active.async_save({"active": None})
        return record

    async def async_acknowledge(self, key: str, when: datetime) -> None:
        """Remember that the user acknowledged repair issue `key` at `when`."""
        self.acknowledged[key] = when.isoformat()
        await self._save_history()

    async def _save_history(self) -> None:
        """Write the history file now."""
        async with self._limit:
            await self._history.async_save(
                {"runs": self.history, "acknowledged": dict(self.acknowledged)}
            )

    async def async_remove(self) -> None:
        """Delete both files when the entry is removed."""
        await self._active.async_remove()
        await self._history.async_remove()

"""Durable state of one heat pump: the active run (written before each action) and the history.

Two files per config entry, so the small active run that is written before every action does not
rewrite the whole history each time:
- `heat_pump_reset.run.<entry_id>`: the active run.
- `heat_pump_reset.history.<entry_id>`: finished runs (newest first, bounded) and acknowledgements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
import json
from pathlib import Path
import re
from typing import Any, Final, NotRequired, TypedDict, cast

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .compat import STORE_READS_NEWER_VERSIONS
from .const import (
    HISTORY_KEY_PREFIX,
    HISTORY_STORAGE_MINOR_VERSION,
    HISTORY_STORAGE_VERSION,
    STORAGE_KEY_PREFIX,
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
)
from .history import (
    Record,
    make_record,
    prepend,
    readable_acknowledgements,
    record_from_last,
    record_problem,
)
from .run import Outcome, Run
from .stored import StoredRunError

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
    # Stored data this release could not read, kept for diagnostics (newest first, bounded).
    unreadable: NotRequired[list[dict[str, Any]]]


# Pieces of unreadable data kept, and how much of one piece of text.
_UNREADABLE_KEPT: Final = 10
_TEXT_KEPT: Final = 100_000


class UnreadableDataError(Exception):
    """A store's file this release cannot read; `content` is what it held."""

    def __init__(self, reason: str, content: Any) -> None:
        """Say why, and keep what was read."""
        super().__init__(reason)
        self.reason = reason
        self.content = content


@dataclass(frozen=True, slots=True)
class UnreadableRun:
    """A stored active run this release cannot read: why, and what it held (None: no JSON)."""

    reason: str
    data: Any


class _VersionedStore[T: Mapping[str, Any]](Store[T]):
    """A store that refuses data of a newer major version as unreadable, keeping what it held.

    Every write replaces the file atomically: a power cut mid-write leaves the old file or the new
    one, never half of one.
    """

    def __init__(self, hass: HomeAssistant, version: int, minor_version: int, key: str) -> None:
        """Create the store; newer major versions reach `_async_migrate_func` (see compat)."""
        super().__init__(
            hass,
            version,
            key,
            atomic_writes=True,
            minor_version=minor_version,
            **STORE_READS_NEWER_VERSIONS,
        )

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> T:
        """Bring data written by another release to this layout.

        A newer major version cannot be read: what it holds is kept (see RunStore). A newer minor
        version only adds keys, which are kept; older layouts get what they lack.
        """
        if old_major_version > self.version:
            raise UnreadableDataError(
                "newer_version",
                {
                    "version": old_major_version,
                    "minor_version": old_minor_version,
                    "data": old_data,
                },
            )
        return self._upgrade(dict(old_data))

    def _upgrade(self, data: dict[str, Any]) -> T:
        """Give data of an older or same major version what this layout needs."""
        return cast("T", data)


class _RunStore(_VersionedStore[_RunData]):
    """The active-run file."""


class _HistoryStore(_VersionedStore[HistoryData]):
    """The history file, migrated from older layouts when loaded."""

    def _upgrade(self, data: dict[str, Any]) -> HistoryData:
        """Give older layouts the keys they lack."""
        data.setdefault("runs", [])
        data.setdefault("acknowledged", {})
        data.setdefault("unreadable", [])
        return cast("HistoryData", data)


def _read_file(path: str) -> tuple[str | None, str | None]:
    """Return a store file's text and, when it is no JSON (say, cut short), why; (None, None): none."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as err:
        return "", f"read_error: {err}"
    try:
        json.loads(text)
    except ValueError:
        return text, "invalid_json"
    return text, None


async def _load[T: Mapping[str, Any]](store: _VersionedStore[T]) -> T | None:
    """Load a store; raise UnreadableDataError when its file cannot be read."""
    # Home Assistant renames a file that is no JSON and returns nothing, as if it never existed:
    # read it first, so that a run cut short by a power outage is known to exist.
    text, problem = await store.hass.async_add_executor_job(_read_file, store.path)
    if problem is not None:
        raise UnreadableDataError(problem, text)
    try:
        return await store.async_load()
    except UnreadableDataError:
        raise
    except Exception as err:
        # Anything else Home Assistant's loader raises: not the layout it expects.
        raise UnreadableDataError(f"{type(err).__name__}: {err}", text) from err


class RunStore:
    """Persists one heat pump's active run, its finished runs and acknowledgements."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the stores for a config entry."""
        self._active = _RunStore(
            hass, STORAGE_VERSION, STORAGE_MINOR_VERSION, STORAGE_KEY_PREFIX + entry_id
        )
        self._limit = hass.data.setdefault(_WRITE_LIMIT, asyncio.Semaphore(_WRITES_AT_ONCE))
        self._history = _HistoryStore(
            hass,
            HISTORY_STORAGE_VERSION,
            HISTORY_STORAGE_MINOR_VERSION,
            HISTORY_KEY_PREFIX + entry_id,
        )
        self.history: list[Record] = []
        self.acknowledged: dict[str, str] = {}
        self.unreadable: list[dict[str, Any]] = []

    async def async_load(self) -> Run | UnreadableRun | None:
        """Load the history and acknowledgements; return the stored active run.

        Nothing stored stops the entry from loading: what cannot be read is set aside (kept in
        the history file, shown by diagnostics), and an active run that cannot be read is
        returned as such, for the controller to put power back.
        """
        found: list[tuple[str, str, Any]] = []
        active: Run | UnreadableRun | None = None
        run_data: Any
        try:
            run_data = await _load(self._active) or _RunData()
        except UnreadableDataError as err:
            run_data = _RunData()
            found.append(("active_run", err.reason, err.content))
            active = UnreadableRun(err.reason, _parsed(err.content))
        if not isinstance(run_data, dict):
            found.append(("active_run", "not_a_dict", run_data))
            active = UnreadableRun("not_a_dict", run_data)
            run_data = _RunData()
        elif (stored := run_data.get("active")) is not None:
            try:
                active = Run.from_dict(stored)
            except StoredRunError as err:
                found.append(("active_run", f"field: {err}", stored))
                active = UnreadableRun(f"field: {err}", stored)
        try:
            history = await _load(self._history)
        except UnreadableDataError as err:
            found.append(("history", err.reason, err.content))
            history = HistoryData(runs=[], acknowledged={})
        migrated = False
        if history is None and isinstance(last := run_data.get("last"), dict):
            # Written before the history existed: its one-run summary starts the history.
            history = HistoryData(runs=[record_from_last(last)], acknowledged={})
            migrated = True
        if history is not None:
            self._read_history(history, found)
        if found:
            now = dt_util.utcnow().isoformat()
            kept = [
                {"found_at": now, "what": what, "reason": reason, "content": _kept(content)}
                for what, reason, content in found
            ]
            self.unreadable = [*kept, *self.unreadable][:_UNREADABLE_KEPT]
        if found or migrated:
            await self._save_history()
        return active

    def _read_history(self, history: Any, found: list[tuple[str, str, Any]]) -> None:
        """Take the readable records and acknowledgements; note the rest in `found`."""
        if not isinstance(history, dict):
            found.append(("history", "not_a_dict", history))
            history = HistoryData(runs=[], acknowledged={})
        runs: Any = history.get("runs") or []
        if not isinstance(runs, list):
            found.append(("history", "runs", runs))
            runs = []
        self.history = []
        for record in runs:
            if (problem := record_problem(record)) is None:
                self.history.append(record)
            else:
                found.append(("history_record", problem, record))
        acknowledged: Any = history.get("acknowledged") or {}
        self.acknowledged = readable_acknowledgements(acknowledged)
        if acknowledged != self.acknowledged:
            found.append(("acknowledged", "acknowledged", acknowledged))
        unreadable: Any = history.get("unreadable")
        if isinstance(unreadable, list):
            self.unreadable = [u for u in unreadable if isinstance(u, dict)]

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
                {
                    "runs": self.history,
                    "acknowledged": dict(self.acknowledged),
                    "unreadable": list(self.unreadable),
                }
            )

    async def async_remove(self) -> None:
        """Delete both files when the entry is removed."""
        await self._active.async_remove()
        await self._history.async_remove()


def _parsed(content: Any) -> Any:
    """Return the run in what a file held (text that is no JSON: None), unwrapping the layout."""
    if isinstance(content, str):
        try:
            content = json.loads(content)
        except ValueError:
            # Cut short: the switch ids it still names get power back too.
            return {"switches": re.findall(r'"(switch\.[a-z0-9_]+)"', content)}
    if isinstance(content, dict) and "version" in content and "data" in content:
        content = content["data"]
    if isinstance(content, dict) and "active" in content:
        return content["active"]
    return content


def _kept(content: Any) -> Any:
    """Return what to keep of unreadable content: text is cut to a bounded length."""
    if isinstance(content, str) and len(content) > _TEXT_KEPT:
        return content[:_TEXT_KEPT]
    return content

"""Durable record of the active run and the last finished one, written before each action."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import STORAGE_KEY_PREFIX, STORAGE_VERSION
from .sequence import Outcome, Run


class _LastRunData(TypedDict):
    """The stored summary of the last finished run."""

    run_id: str
    outcome: str
    finished_at: str
    detail: str | None


class _StoreData(TypedDict):
    """What the store file holds."""

    active: dict[str, Any] | None
    last: _LastRunData | None


@dataclass(frozen=True, kw_only=True, slots=True)
class LastRun:
    """How the last finished run ended."""

    run_id: str
    outcome: Outcome
    finished_at: datetime
    detail: str | None


class RunStore:
    """Persists one heat pump's active run and last outcome."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Create the store for a config entry."""
        self._store: Store[_StoreData] = Store(hass, STORAGE_VERSION, STORAGE_KEY_PREFIX + entry_id)
        self._last: _LastRunData | None = None

    async def async_load(self) -> tuple[Run | None, LastRun | None]:
        """Return the stored active run and the last finished run."""
        data = await self._store.async_load()
        if data is None:
            return None, None
        self._last = data.get("last")
        active = data.get("active")
        return (Run.from_dict(active) if active else None), self._last_run()

    def _last_run(self) -> LastRun | None:
        """Return the last finished run as an object."""
        if self._last is None:
            return None
        return LastRun(
            run_id=self._last["run_id"],
            outcome=Outcome(self._last["outcome"]),
            finished_at=datetime.fromisoformat(self._last["finished_at"]),
            detail=self._last["detail"],
        )

    async def async_save_active(self, run: Run) -> None:
        """Write the active run to disk now."""
        await self._store.async_save({"active": run.to_dict(), "last": self._last})

    async def async_finish(self, run: Run, outcome: Outcome, now: datetime) -> LastRun:
        """Record how `run` ended and clear the active run."""
        self._last = {
            "run_id": run.run_id,
            "outcome": outcome.value,
            "finished_at": now.isoformat(),
            "detail": run.detail,
        }
        await self._store.async_save({"active": None, "last": self._last})
        last = self._last_run()
        assert last is not None
        return last

    async def async_remove(self) -> None:
        """Delete the file when the entry is removed."""
        await self._store.async_remove()

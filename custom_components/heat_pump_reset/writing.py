"""Writing a heat pump's active run: now, or soon (coalesced), and never once it is recorded.

A write of the run after its record would bring a finished run back to life after a restart.
"""

from __future__ import annotations

import asyncio
import logging

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .history import Record, make_record
from .run import Outcome, Run
from .storage import RunStore

_LOGGER = logging.getLogger(__name__)


class RunWriter:
    """Writes one heat pump's active run (see the module's docstring)."""

    def __init__(self, hass: HomeAssistant, store: RunStore, name: str) -> None:
        """Write through `store` for the heat pump `name`."""
        self._hass = hass
        self._store = store
        self._name = name
        self._run: Run | None = None
        self._writing: asyncio.Task[None] | None = None
        self._again = False
        self.recording = False

    async def save(self, run: Run) -> bool:
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

    def save_soon(self, run: Run) -> None:
        """Write the run soon; a change made while it is being written is written after."""
        self._run, self._again = run, True
        if self._writing is None or self._writing.done():
            self._writing = self._hass.async_create_task(
                self._write_while_asked(), f"{DOMAIN} save {self._name}"
            )

    async def _write_while_asked(self) -> None:
        while self._again and self._run is not None and not self.recording:
            self._again = False
            await self._store.async_save_active(self._run)

    async def settle(self) -> None:
        """Wait for a write `save_soon` started; a failed write is logged, never raised."""
        task = self._writing
        if task is None:
            return
        try:
            # Shielded: cancelling the run's task (an unload) must not cancel the write.
            await asyncio.shield(task)
        except Exception:
            _LOGGER.exception("Could not write a heat pump reset to disk")
        finally:
            # Kept until done: anyone else waiting (the run being recorded) waits for it too.
            if self._writing is task:
                self._writing = None

    async def record(self, run: Run, outcome: Outcome) -> Record:
        """Record the ended run in the history and clear the active run, after any write of it.

        A failed write is logged: the run is over all the same; the file still holds it active,
        so a restart finishes it again (its record replaces, never doubles, this one).
        """
        self.recording = True
        try:
            await self.settle()
            finished_at = dt_util.utcnow()
            try:
                return await self._store.async_finish(run, outcome, finished_at)
            except Exception as err:  # noqa: BLE001
                _LOGGER.error("Could not record heat pump reset %s on disk: %s", run.run_id, err)
                return make_record(run, outcome, finished_at)
        finally:
            self._run = None
            self.recording = False

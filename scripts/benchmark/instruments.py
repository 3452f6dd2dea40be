"""Measuring instruments: the event-loop probe, the log capture and the store write counter."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
import gc
import heapq
import logging
from pathlib import Path
import time
from typing import Any

from homeassistant.helpers.storage import Store

from custom_components.heat_pump_reset.const import DOMAIN

from .clock import wall


class LoopProbe:
    """Times every callback the event loop runs (real time): the longest is the longest block."""

    def __init__(self) -> None:
        """Create an idle probe."""
        self.active = False
        self.exclude: asyncio.Task[Any] | None = None
        self.slowest: list[tuple[float, int, str]] = []  # min-heap of the 5 slowest
        self.count = 0
        self.longest_cpu = 0.0  # the most CPU (loop thread) one callback used
        self.longest_cpu_what = "-"
        self.longest_gc: tuple[float, int] = (0.0, -1)  # the longest collection, its generation
        self._gc_start: float | None = None
        self._seq = 0
        original = asyncio.events.Handle._run
        probe = self

        def _run(handle: asyncio.Handle) -> None:
            if not probe.active:
                original(handle)
                return
            start, cpu = wall(), time.thread_time()
            try:
                original(handle)
            finally:
                probe.record(handle, wall() - start, time.thread_time() - cpu)

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        """Time garbage collections: a long one stalls whatever callback it lands in."""
        if not self.active:
            return
        if phase == "start":
            self._gc_start = wall()
        elif self._gc_start is not None:
            pause = wall() - self._gc_start
            self._gc_start = None
            if pause > self.longest_gc[0]:
                self.longest_gc = (pause, info.get("generation", -1))

    def record(self, handle: asyncio.Handle, seconds: float, cpu: float) -> None:
        """Keep the slowest callbacks; the harness's own task does not count."""
        self.count += 1
        if cpu > self.longest_cpu:
            self.longest_cpu = cpu
            self.longest_cpu_what = describe(handle._callback)  # type: ignore[attr-defined]
        if len(self.slowest) == 5 and seconds <= self.slowest[0][0]:
            return
        callback_ = handle._callback  # type: ignore[attr-defined]
        owner = getattr(callback_, "__self__", None)
        if owner is not None and owner is self.exclude:
            return
        self._seq += 1
        item = (seconds, self._seq, f"{describe(callback_)} ({cpu * 1000:.1f} ms CPU)")
        if len(self.slowest) < 5:
            heapq.heappush(self.slowest, item)
        else:
            heapq.heapreplace(self.slowest, item)

    @contextlib.contextmanager
    def measure(self, exclude: asyncio.Task[Any] | None) -> Iterator[LoopProbe]:
        """Record callbacks while the block runs."""
        self.slowest, self.count, self.exclude, self.active = [], 0, exclude, True
        self.longest_cpu, self.longest_cpu_what = 0.0, "-"
        self.longest_gc = (0.0, -1)
        try:
            yield self
        finally:
            self.active = False

    @property
    def longest(self) -> tuple[float, str]:
        """The longest callback and what it was."""
        if not self.slowest:
            return 0.0, "-"
        seconds, _, what = max(self.slowest)
        return seconds, what


def describe(callback_: Any) -> str:
    """Name a loop callback: the coroutine of a task step, else the function."""
    owner = getattr(callback_, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        return f"task {getattr(coro, '__qualname__', coro)}"
    func = getattr(callback_, "func", callback_)  # functools.partial
    return getattr(func, "__qualname__", repr(func))


class LogCapture(logging.Handler):
    """Keeps warnings and errors, and counts the blocking-call detector's reports."""

    def __init__(self) -> None:
        """Capture from WARNING up."""
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record."""
        self.records.append(record)

    def blocking(self) -> tuple[list[str], list[str]]:
        """Return the reports of HA's blocking-call detector: (ours, elsewhere).

        The detector logs `Detected blocking call to <func> ... inside the event loop` as a warning
        and names the integration when one is on the stack (`by custom integration '<domain>'`).
        """
        ours: list[str] = []
        others: list[str] = []
        for record in self.records:
            message = record.getMessage()
            if not message.startswith("Detected blocking call"):
                continue
            short = message.split(" inside the event loop")[0]
            if f"integration '{DOMAIN}'" in message or f"custom_components/{DOMAIN}/" in message:
                ours.append(short)
            else:
                others.append(short)
        return ours, others


class StoreCounter:
    """Counts Store writes (and the size of each file written) by key prefix."""

    def __init__(self) -> None:
        """Patch `Store._write_data` (it runs in the executor)."""
        self.writes: list[tuple[str, int]] = []
        original = Store._write_data
        counter = self

        def _write_data(store: Store[Any], path: str, data: dict[str, Any]) -> None:
            original(store, path, data)
            if store.key.startswith(DOMAIN):
                counter.writes.append((store.key, Path(path).stat().st_size))

        Store._write_data = _write_data  # type: ignore[method-assign]

    def since(self, mark: int, prefix: str) -> list[int]:
        """Sizes of the writes to keys starting with `prefix` after write number `mark`."""
        return [size for key, size in self.writes[mark:] if key.startswith(prefix)]

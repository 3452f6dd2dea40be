"""The simulated clock: moves from one timer to the next, only when everything else is idle."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import math
import time
from typing import Any

import freezegun.api
from homeassistant.util import dt as dt_util


def wall() -> float:
    """Real (not simulated) seconds: freezegun keeps the real clock in its own module only."""
    return freezegun.api.real_perf_counter()  # type: ignore[no-any-return]


START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


class StalledError(RuntimeError):
    """Nothing left to happen, or the simulated time limit passed, before the goal was reached."""


_RESOLUTION = time.get_clock_info("monotonic").resolution


class Clock:
    """Moves simulated time from one timer to the next, only when everything else is idle."""

    def __init__(self, loop: asyncio.AbstractEventLoop, freezer: Any) -> None:
        """Track executor jobs (store writes run there) so idleness can be told apart."""
        self.loop = loop
        self.freezer = freezer
        self.inflight: set[asyncio.Future[Any]] = set()
        self.ticks: list[tuple[datetime, float]] = []  # (simulated time reached, real time)
        original = loop.run_in_executor

        def run_in_executor(executor: Any, func: Any, *args: Any) -> asyncio.Future[Any]:
            future = original(executor, func, *args)
            self.inflight.add(future)
            future.add_done_callback(self.inflight.discard)
            return future

        loop.run_in_executor = run_in_executor  # type: ignore[method-assign]

    def _next_timer(self) -> float | None:
        live = [h.when() for h in self.loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
        return min(live) if live else None

    async def settle(self) -> None:
        """Return once no callback is ready, no timer is due and no executor job runs."""
        calm = 0
        while calm < 2:
            if self.inflight:
                await asyncio.wait(set(self.inflight), return_when=asyncio.FIRST_COMPLETED)
                calm = 0
                continue
            await asyncio.sleep(0)
            nxt = self._next_timer()
            # Due as asyncio decides it (`when < time() + resolution`).
            busy = self.loop._ready or (nxt is not None and nxt < self.loop.time() + _RESOLUTION)  # type: ignore[attr-defined]
            calm = 0 if busy else calm + 1

    async def run_until(self, goal: Callable[[], bool], limit: timedelta) -> None:
        """Let simulated time pass, timer by timer, until `goal()` holds."""
        end = dt_util.utcnow() + limit
        while True:
            await self.settle()
            if goal():
                return
            nxt = self._next_timer()
            if nxt is None:
                raise StalledError("nothing is scheduled and the goal is not reached")
            # One microsecond past the timer: the frozen monotonic clock counts from 1970, where a
            # float cannot tell `when` from `when + resolution`, and asyncio would not run it.
            micros = max(math.ceil((nxt - self.loop.time()) * 1e6), 0) + 1
            if dt_util.utcnow() + timedelta(microseconds=micros) > end:
                raise StalledError(f"goal not reached within {limit} of simulated time")
            self.freezer.tick(timedelta(microseconds=micros))
            self.ticks.append((dt_util.utcnow(), wall()))

"""Benchmark of heat_pump_reset: added delay, scale, event loop, resume after a restart, storage.

Run it with `scripts/bench` (full) or `scripts/bench --short` (a quick pass that only checks it runs).
A real Home Assistant core runs in this process with simulated thermostats and power switches, as
real entities, on a simulated clock (freezegun). Time only moves when every run, entity and store
write is idle: the clock then jumps to the next scheduled timer (a discrete-event simulation), so the
simulated durations hold the integration's own delays and nothing of the harness. Real time and CPU
time (not simulated) give setup, CPU, event-loop and resume figures. See docs/performance.md.
"""

from __future__ import annotations

# Before Home Assistant is imported: make its clocks patchable by freezegun (as the test plugin does).
import pytest_homeassistant_custom_component.patch_time  # noqa: F401  # isort: skip

import argparse
import asyncio
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import faulthandler
import gc
import heapq
from importlib.metadata import version
import json
import logging
import math
import os
from pathlib import Path
import platform
import shutil
import sys
import tempfile
import time
import tracemalloc
from typing import Any

import freezegun
import freezegun.api
from homeassistant import block_async_io, runner
from homeassistant.components.climate import ClimateEntity
from homeassistant.components.climate.const import ClimateEntityFeature, HVACAction, HVACMode
from homeassistant.components.switch import SwitchEntity
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigFlow
from homeassistant.const import (
    ATTR_TEMPERATURE,
    EVENT_HOMEASSISTANT_STARTED,
    Platform,
    UnitOfTemperature,
)
from homeassistant.core import Context, CoreState, HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    MockUser,
    async_test_home_assistant,
    mock_config_flow,
    mock_integration,
    mock_platform,
)

from custom_components.heat_pump_reset import const
from custom_components.heat_pump_reset.config_flow import DEFAULT_OPTIONS
from custom_components.heat_pump_reset.const import (
    CONF_POWER_SENSOR,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
)
from custom_components.heat_pump_reset.sequence import Phase
from custom_components.heat_pump_reset.storage import RunStore


def wall() -> float:
    """Real (not simulated) seconds: freezegun keeps the real clock in its own module only."""
    return freezegun.api.real_perf_counter()  # type: ignore[no-any-return]


SIM = "sim"  # the made-up integration that owns the simulated equipment
START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
_LOGGER = logging.getLogger("bench")


# --- The simulated equipment ------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """How long the simulated equipment takes to report what it was told (simulated seconds)."""

    thermostat_command: float = 1.0  # a thermostat setting shows in its state
    compressor_rundown: float = 20.0  # the unit stops heating, counted from the "off" command
    compressor_start: float = 30.0  # the unit starts heating once the mode is back to heat
    switch: float = 2.0  # a breaker reports its new state


LATENCY = Latency()


@dataclass
class Command:
    """A command a simulated device received."""

    value: str
    sim: datetime
    real: float


class SimSwitch(SwitchEntity):
    """A breaker that reports its new state `LATENCY.switch` after a command."""

    _attr_should_poll = False

    def __init__(self, pump: int, key: str, *, is_on: bool = True) -> None:
        """Create breaker `key` of heat pump `pump`."""
        self.entity_id = f"switch.hp_{pump:03d}_{key}"
        self._attr_unique_id = f"sim_hp_{pump:03d}_{key}"
        self._attr_name = f"HP {pump:03d} {key}"
        self._attr_is_on = is_on
        self.commands: list[Command] = []

    def _command(self, is_on: bool) -> None:
        self.commands.append(Command("on" if is_on else "off", dt_util.utcnow(), wall()))

        @callback
        def _apply(_now: datetime) -> None:
            self._attr_is_on = is_on
            self.async_write_ha_state()

        async_call_later(self.hass, LATENCY.switch, _apply)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Close the breaker."""
        self._command(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Open the breaker."""
        self._command(False)


class SimThermostat(ClimateEntity):
    """A heat pump thermostat whose settings and compressor follow commands after a latency."""

    _attr_should_poll = False
    _attr_temperature_unit = UnitOfTemperature.CELSIUS

    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.FAN_MODE
        | ClimateEntityFeature.TURN_OFF
        | ClimateEntityFeature.TURN_ON
    )

    def __init__(self, pump: int, *, mode: HVACMode = HVACMode.HEAT) -> None:
        """Create the thermostat of heat pump `pump`, heating a cold room."""
        self.entity_id = f"climate.hp_{pump:03d}"
        self._attr_unique_id = f"sim_hp_{pump:03d}_thermostat"
        self._attr_name = f"HP {pump:03d}"
        self._attr_device_info = DeviceInfo(
            identifiers={(SIM, f"hp_{pump:03d}")}, name=f"HP {pump:03d}"
        )
        self._attr_hvac_modes = [HVACMode.OFF, HVACMode.HEAT, HVACMode.COOL]
        self._attr_fan_modes = ["auto", "low", "high"]
        self._attr_hvac_mode = mode
        self._attr_target_temperature = 21.0
        self._attr_current_temperature = 18.0
        self._attr_fan_mode = "low"
        self.compressor = mode is HVACMode.HEAT

    @property
    def hvac_action(self) -> HVACAction:
        """Heating while the compressor runs."""
        if self.compressor:
            return HVACAction.HEATING
        return HVACAction.OFF if self._attr_hvac_mode == HVACMode.OFF else HVACAction.IDLE

    def _later(self, delay: float, change: Callable[[], None]) -> None:
        @callback
        def _apply(_now: datetime) -> None:
            change()
            self.async_write_ha_state()

        async_call_later(self.hass, delay, _apply)

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Change mode; the compressor follows (stops after its rundown, starts after a delay)."""

        def _mode() -> None:
            self._attr_hvac_mode = hvac_mode
            if hvac_mode == HVACMode.HEAT:
                self._later(LATENCY.compressor_start, self._start_compressor)

        self._later(LATENCY.thermostat_command, _mode)
        if hvac_mode == HVACMode.OFF:
            self._later(LATENCY.compressor_rundown, self._stop_compressor)

    def _start_compressor(self) -> None:
        if self._attr_hvac_mode == HVACMode.HEAT:
            self.compressor = True

    def _stop_compressor(self) -> None:
        if self._attr_hvac_mode == HVACMode.OFF:
            self.compressor = False

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Change the set point."""
        value = kwargs.get(ATTR_TEMPERATURE)
        if value is not None:
            self._later(
                LATENCY.thermostat_command,
                lambda: setattr(self, "_attr_target_temperature", value),
            )

    async def async_set_fan_mode(self, fan_mode: str) -> None:
        """Change the fan mode."""
        self._later(LATENCY.thermostat_command, lambda: setattr(self, "_attr_fan_mode", fan_mode))


@dataclass
class Pump:
    """One simulated heat pump: a thermostat and two breakers (outdoor unit, air handler)."""

    index: int
    thermostat: SimThermostat
    switches: list[SimSwitch]
    entry: ConfigEntry | None = None

    @property
    def entry_id(self) -> str:
        """The id of its heat_pump_reset entry (fixed, so a restarted core finds the same files)."""
        return f"bench{self.index:05d}"


def make_pumps(count: int, *, power_cut: bool = False) -> list[Pump]:
    """Return `count` heat pumps; `power_cut`: as a restart finds them mid-run (all off)."""
    return [
        Pump(
            i,
            SimThermostat(i, mode=HVACMode.OFF if power_cut else HVACMode.HEAT),
            [SimSwitch(i, key, is_on=not power_cut) for key in ("outdoor", "indoor")],
        )
        for i in range(count)
    ]


class _SimFlow(ConfigFlow):
    """Config flow of the made-up integration that owns the simulated equipment."""

    VERSION = 1


# --- Measuring instruments ---------------------------------------------------------------------


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


# --- The simulated clock -------------------------------------------------------------------------


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


# --- One Home Assistant with N heat pumps ------------------------------------------------------


@dataclass
class Bench:
    """What every scenario shares."""

    short: bool
    config_root: Path
    probe: LoopProbe
    logs: LogCapture
    stores: StoreCounter
    freezer: Any
    clock: Clock | None = None
    results: dict[str, Any] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def hass(
        self, name: str, *, state: CoreState = CoreState.running
    ) -> Any:  # AsyncIterator[HomeAssistant]
        """Yield a fresh Home Assistant core with its own config folder (kept for a restart)."""
        config_dir = self.config_root / name
        config_dir.mkdir(exist_ok=True)
        async with async_test_home_assistant(
            config_dir=str(config_dir), initial_state=state
        ) as hass:
            # Our integration is a custom one: let the loader find it (the test plugin's switch).
            hass.data.pop("custom_components", None)
            if self.clock is None:
                self.clock = Clock(hass.loop, self.freezer)
            try:
                yield hass
            finally:
                await hass.async_stop(force=True)

    async def add_equipment(self, hass: HomeAssistant, pumps: list[Pump]) -> None:
        """Set up the simulated thermostats and breakers, as entities of a config entry."""

        async def _setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
            await hass.config_entries.async_forward_entry_setups(
                entry, [Platform.CLIMATE, Platform.SWITCH]
            )
            return True

        def _platform(entities: list[Any]) -> MockPlatform:
            async def _add(
                hass: HomeAssistant, entry: ConfigEntry, add: AddEntitiesCallback
            ) -> None:
                add(entities)

            return MockPlatform(async_setup_entry=_add)

        mock_integration(hass, MockModule(SIM, async_setup_entry=_setup_entry))
        mock_platform(hass, f"{SIM}.config_flow", None)
        mock_platform(hass, f"{SIM}.climate", _platform([p.thermostat for p in pumps]))
        mock_platform(hass, f"{SIM}.switch", _platform([s for p in pumps for s in p.switches]))
        source = MockConfigEntry(domain=SIM)
        source.add_to_hass(hass)
        assert await hass.config_entries.async_setup(source.entry_id)
        await hass.async_block_till_done()
        assert await async_setup_component(hass, "persistent_notification", {})

    @staticmethod
    def add_entries(hass: HomeAssistant, pumps: list[Pump]) -> None:
        """Add (not set up) one heat_pump_reset entry per heat pump, default options."""
        for pump in pumps:
            options = {
                **DEFAULT_OPTIONS,
                CONF_THERMOSTAT: pump.thermostat.entity_id,
                CONF_SWITCHES: [s.entity_id for s in pump.switches],
                CONF_POWER_SENSOR: None,
            }
            pump.entry = MockConfigEntry(
                domain=DOMAIN,
                title=f"HP {pump.index:03d}",
                data={},
                options=options,
                unique_id=pump.thermostat.entity_id,
                entry_id=pump.entry_id,
            )
            pump.entry.add_to_hass(hass)

    @staticmethod
    async def setup_entries(hass: HomeAssistant, pumps: list[Pump]) -> float:
        """Set up the integration with all its entries, as Home Assistant does; return real seconds."""
        start = wall()
        assert await async_setup_component(hass, DOMAIN, {})
        await hass.async_block_till_done()
        elapsed = wall() - start
        for pump in pumps:
            assert pump.entry is not None
            assert pump.entry.state is ConfigEntryState.LOADED, pump.entry.state
        return elapsed

    async def start_all(self, hass: HomeAssistant, pumps: list[Pump]) -> None:
        """Start a reset on every heat pump at once, each call in its own task (as a person would)."""
        loop = asyncio.get_running_loop()
        # force: one heat pump runs many times a simulated day, over the daily limit; only a call
        # with a user (a person) may force, so the calls carry the owner's.
        person = Context(user_id=MockUser(is_owner=True).add_to_hass(hass).id)
        calls = [
            loop.create_task(
                hass.services.async_call(
                    DOMAIN,
                    const.SERVICE_START_RESET,
                    {const.ATTR_CONFIG_ENTRY_ID: p.entry_id, "reason": "bench", "force": True},
                    blocking=True,
                    context=person,
                )
            )
            for p in pumps
        ]
        await asyncio.gather(*calls)


def controller(pump: Pump) -> Any:
    """Return the entry's ResetController."""
    assert pump.entry is not None
    return pump.entry.runtime_data


# --- Scenario: one run, phase by phase -----------------------------------------------------------

PHASE_ORDER = [
    Phase.STOPPING_THERMOSTAT,
    Phase.CUTTING_POWER,
    Phase.DISCHARGING,
    Phase.RESTORING_POWER,
    Phase.STARTING_UP,
    Phase.RESTORING_THERMOSTAT,
    Phase.VERIFYING,
]


@dataclass
class Trace:
    """What the bench saw of one run: phase start times, the cut and the end (simulated)."""

    phases: dict[str, datetime] = field(default_factory=dict)
    confirmed_off_at: datetime | None = None
    discharge: timedelta | None = None
    ended: datetime | None = None


def trace(pump: Pump) -> Trace:
    """Follow the controller's run through its change listener."""
    seen = Trace()
    ctl = controller(pump)

    @callback
    def _changed() -> None:
        run = ctl.run
        now = dt_util.utcnow()
        if run is None:
            if seen.phases and seen.ended is None:
                seen.ended = now
            return
        seen.phases.setdefault(str(run.phase), now)
        if run.confirmed_off_at is not None:
            seen.confirmed_off_at = run.confirmed_off_at
            seen.discharge = timedelta(minutes=run.discharge_minutes)

    ctl.async_add_listener(_changed)
    return seen


def floors(pump: Pump, seen: Trace) -> dict[str, float]:
    """Each phase's physical floor (simulated s): device latencies plus the configured waits."""
    timing = controller(pump).timing
    switches = len(pump.switches)
    discharge_floor = 0.0
    if seen.confirmed_off_at and seen.discharge and Phase.DISCHARGING in seen.phases:
        discharge_floor = (
            seen.confirmed_off_at + seen.discharge - seen.phases[Phase.DISCHARGING]
        ).total_seconds()
    return {
        Phase.STOPPING_THERMOSTAT: max(LATENCY.thermostat_command, LATENCY.compressor_rundown),
        Phase.CUTTING_POWER: switches * LATENCY.switch,
        Phase.DISCHARGING: discharge_floor,
        Phase.RESTORING_POWER: switches * LATENCY.switch
        + (switches - 1) * timing.stagger.total_seconds(),
        Phase.STARTING_UP: timing.startup_delay.total_seconds(),
        Phase.RESTORING_THERMOSTAT: LATENCY.thermostat_command,
        Phase.VERIFYING: LATENCY.compressor_start,
    }


def durations(seen: Trace) -> dict[str, float]:
    """Each phase's simulated duration, from its start to the next one's (or the run's end)."""
    starts = [(p, seen.phases[p]) for p in PHASE_ORDER if p in seen.phases]
    out: dict[str, float] = {}
    for i, (phase, at) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else seen.ended
        if end is not None:
            out[phase] = (end - at).total_seconds()
    return out


def restore_gap(pump: Pump, seen: Trace) -> float | None:
    """Seconds between `confirmed_off_at + discharge` and the first power-on command."""
    ons = [c.sim for c in pump.switches[0].commands if c.value == "on"]
    if not ons or seen.confirmed_off_at is None or seen.discharge is None:
        return None
    return (ons[0] - (seen.confirmed_off_at + seen.discharge)).total_seconds()


def outcomes(pumps: list[Pump]) -> dict[str, int]:
    """How the newest recorded run of each heat pump ended."""
    counts: dict[str, int] = {}
    for pump in pumps:
        last = controller(pump).last
        key = str(last["outcome"]) if last else "none"
        counts[key] = counts.get(key, 0) + 1
    return counts


# --- Scenario: N heat pumps resetting at once ----------------------------------------------------


async def scale(bench: Bench, count: int) -> dict[str, Any]:
    """Set up N entries, then run a reset on all of them at once."""
    pumps = make_pumps(count)
    async with bench.hass(f"scale{count}") as hass:
        await bench.add_equipment(hass, pumps)
        bench.add_entries(hass, pumps)
        gc.collect()
        setup = await bench.setup_entries(hass, pumps)
        traces = [trace(p) for p in pumps]
        clock = bench.clock
        assert clock is not None
        task = asyncio.current_task()
        writes_mark = len(bench.stores.writes)
        # Collect what setting up left behind, as before the setup: otherwise the full collection
        # that setup's allocations make due lands inside the measured runs (docs/performance.md).
        gc.collect()
        cpu0, wall0 = time.process_time(), wall()
        with bench.probe.measure(exclude=task) as probe:
            await bench.start_all(hass, pumps)
            await clock.run_until(
                lambda: all(t.ended is not None for t in traces), timedelta(hours=2)
            )
        cpu, elapsed = time.process_time() - cpu0, wall() - wall0
        longest, what = probe.longest
        # Real time from the discharge deadline (the clock reaching it) to each power-on command.
        deadline = traces[0].confirmed_off_at + traces[0].discharge  # type: ignore[operator]
        reached = next(real for sim, real in clock.ticks if sim >= deadline)
        burst = max(next(c.real for c in p.switches[0].commands if c.value == "on") for p in pumps)
        added = [
            sum(durations(t).values()) - sum(floors(p, t).values())
            for p, t in zip(pumps, traces, strict=True)
        ]
        gaps = [
            g for p, t in zip(pumps, traces, strict=True) if (g := restore_gap(p, t)) is not None
        ]
        active = bench.stores.since(writes_mark, const.STORAGE_KEY_PREFIX)
        history = bench.stores.since(writes_mark, getattr(const, "HISTORY_KEY_PREFIX", "\0"))
        result = {
            "count": count,
            "setup_s": setup,
            "setup_per_entry_ms": setup / count * 1000,
            "cpu_per_run_ms": cpu / count * 1000,
            "wall_s": elapsed,
            "loop_longest_ms": longest * 1000,
            "loop_longest_what": what,
            "loop_longest_cpu_ms": probe.longest_cpu * 1000,
            "loop_longest_cpu_what": probe.longest_cpu_what,
            "gc_longest_ms": probe.longest_gc[0] * 1000,
            "gc_longest_generation": probe.longest_gc[1],
            "loop_slowest": [
                f"{sec * 1000:.1f} ms {w}" for sec, _, w in sorted(probe.slowest, reverse=True)
            ],
            "loop_callbacks": probe.count,
            "restore_burst_ms": (burst - reached) * 1000,
            "added_delay_max_s": max(added),
            "restore_gap_max_s": max(gaps) if gaps else None,
            "active_writes_per_run": len(active) / count,
            "active_bytes_per_write": sum(active) / max(len(active), 1),
            "history_writes_per_run": len(history) / count,
            "outcomes": outcomes(pumps),
        }
        if count == 1:
            seen = traces[0]
            result["phases"] = {
                phase: {
                    "actual": durations(seen).get(phase),
                    "floor": floors(pumps[0], seen)[phase],
                }
                for phase in PHASE_ORDER
            }
    return result


async def memory(bench: Bench, count: int) -> float:
    """Bytes added per entry by setting up N entries (tracemalloc; a separate core, untimed)."""
    pumps = make_pumps(count)
    async with bench.hass(f"memory{count}") as hass:
        await bench.add_equipment(hass, pumps)
        bench.add_entries(hass, pumps)
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        await bench.setup_entries(hass, pumps)
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    return (after - before) / count


# --- Scenario: restart with pending runs -------------------------------------------------------


async def resume(bench: Bench, count: int) -> dict[str, Any]:
    """Stop a core while N runs discharge, let the deadline pass while it is down, start again."""
    clock = bench.clock
    assert clock is not None
    pumps = make_pumps(count)
    async with bench.hass("resume") as hass:
        await bench.add_equipment(hass, pumps)
        bench.add_entries(hass, pumps)
        await bench.setup_entries(hass, pumps)
        await bench.start_all(hass, pumps)
        await clock.run_until(
            lambda: all(controller(p).phase is Phase.DISCHARGING for p in pumps),
            timedelta(hours=1),
        )
        await clock.settle()
    # Down for longer than the discharge wait: every run is due the moment the core is back.
    bench.freezer.tick(timedelta(minutes=45))
    pumps = make_pumps(count, power_cut=True)
    async with bench.hass("resume", state=CoreState.not_running) as hass:
        await bench.add_equipment(hass, pumps)
        bench.add_entries(hass, pumps)
        await bench.setup_entries(hass, pumps)
        assert all(controller(p).run is not None for p in pumps), "runs were not stored"

        def _restored() -> bool:
            return all(any(c.value == "on" for c in p.switches[0].commands) for p in pumps)

        hass.set_state(CoreState.running)
        running_at = wall()
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
        await clock.run_until(_restored, timedelta(minutes=5))
        ons = [next(c.real for c in p.switches[0].commands if c.value == "on") for p in pumps]
        late = [
            (next(c.sim for c in p.switches[0].commands if c.value == "on") - START).total_seconds()
            for p in pumps
        ]
    return {
        "count": count,
        "first_restore_s": min(ons) - running_at,
        "last_restore_s": max(ons) - running_at,
        "simulated_wait_s": max(late) - min(late),
    }


# --- Scenario: storage -------------------------------------------------------------------------


def _copy_history(source: Path, config_dir: Path, entry_ids: list[str]) -> None:
    """Give every entry the same full history file (runs in the executor, not the loop)."""
    data = json.loads(source.read_text())
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    prefix = const.HISTORY_KEY_PREFIX
    for entry_id in entry_ids:
        data["key"] = prefix + entry_id
        (storage / (prefix + entry_id)).write_text(json.dumps(data))


async def storage(bench: Bench, runs: int, entries: int) -> dict[str, Any]:
    """Fill one history with `runs` real runs, then load `entries` copies of it."""
    clock = bench.clock
    assert clock is not None
    pumps = make_pumps(1)
    pump = pumps[0]
    has_history = hasattr(const, "HISTORY_KEY_PREFIX")
    result: dict[str, Any] = {"history": has_history, "runs": runs, "entries": entries}
    async with bench.hass("storage") as hass:
        await bench.add_equipment(hass, pumps)
        bench.add_entries(hass, pumps)
        await bench.setup_entries(hass, pumps)
        ctl = controller(pump)
        last_mark = 0
        for i in range(runs):
            last_mark = len(bench.stores.writes)
            cpu0 = time.process_time()
            await bench.start_all(hass, pumps)
            await clock.run_until(lambda: ctl.run is None, timedelta(hours=2))
            result["cpu_last_run_ms"] = (time.process_time() - cpu0) * 1000
            if i == 0:
                result["cpu_first_run_ms"] = result["cpu_last_run_ms"]
        active = bench.stores.since(last_mark, const.STORAGE_KEY_PREFIX)
        result["active_writes_per_run"] = len(active)
        result["active_bytes_per_write"] = sum(active) / max(len(active), 1)
        if not has_history:
            return result
        history = bench.stores.since(last_mark, const.HISTORY_KEY_PREFIX)
        result["history_writes_per_run"] = len(history)
        result["history_bytes_per_run"] = sum(history)
        path = Path(hass.config.path(".storage", const.HISTORY_KEY_PREFIX + pump.entry_id))
        size = await hass.async_add_executor_job(lambda: path.stat().st_size)
        records = len(ctl.history)
        result["records"] = records
        result["file_bytes"] = size
        result["bytes_per_record"] = size / max(records, 1)
        source = bench.config_root / "history.json"
        await hass.async_add_executor_job(shutil.copyfile, path, source)

    loaded = make_pumps(entries)
    async with bench.hass("history") as hass:
        config_dir = Path(hass.config.config_dir)
        ids = [p.entry_id for p in loaded]
        await hass.async_add_executor_job(_copy_history, source, config_dir, ids)
        await bench.add_equipment(hass, loaded)
        start = wall()
        stores = [RunStore(hass, entry_id) for entry_id in ids]
        await asyncio.gather(*(s.async_load() for s in stores))
        result["load_all_s"] = wall() - start
        assert all(len(s.history) == records for s in stores)
        bench.add_entries(hass, loaded)
        result["setup_full_history_s"] = await bench.setup_entries(hass, loaded)
    return result


# --- Report --------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """Describe the machine the figures ran on."""
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": model,
        "python": platform.python_version(),
        "home_assistant": version("homeassistant"),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def fmt(value: float | None, digits: int = 1) -> str:
    """Format a number for the table, or n/a."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def verdict(ok: bool) -> str:
    """Say whether a target is met."""
    return "met" if ok else "**missed**"


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    """Print the tables (Markdown)."""
    info = results["machine"]
    print(f"\n## Results ({'--short' if args.short else 'full'} run)\n")
    print(
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"Home Assistant {info['home_assistant']}; load average at start {info['loadavg']}, "
        f"at end {results['loadavg_end']}; took {results['elapsed_s']:.0f} s.\n"
    )
    one = results["scale"][0]
    print("### Added delay (one run, simulated seconds)\n")
    print("| phase | actual | floor | added |")
    print("| --- | ---: | ---: | ---: |")
    total_added = 0.0
    for phase, row in one["phases"].items():
        actual, floor = row["actual"], row["floor"]
        added = None if actual is None else actual - floor
        total_added += added or 0.0
        print(f"| {phase} | {fmt(actual, 3)} | {fmt(floor, 3)} | {fmt(added, 3)} |")
    print(f"| **total** | | | **{total_added:.3f}** ({verdict(total_added < 1)}: < 1 s) |")
    gap = one["restore_gap_max_s"]
    print(
        f"\nPower-restore command at `confirmed_off_at + discharge` + {fmt(gap, 3)} s "
        f"({verdict(gap is not None and 0 <= gap < 1)}: within 1 s). Largest added delay of any "
        f"run with {results['scale'][-1]['count']} at once: "
        f"{fmt(results['scale'][-1]['added_delay_max_s'], 3)} s; largest restore offset "
        f"{fmt(results['scale'][-1]['restore_gap_max_s'], 3)} s.\n"
    )
    print("### Scale (all heat pumps resetting at once; real time and CPU)\n")
    print(
        "| heat pumps | setup, all entries | setup per entry | memory per entry | "
        "CPU per run | longest loop block | restore burst | outcomes |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in results["scale"]:
        mem = results["memory"].get(str(row["count"]))
        print(
            f"| {row['count']} | {row['setup_s'] * 1000:.0f} ms | "
            f"{row['setup_per_entry_ms']:.1f} ms | {fmt(mem and mem / 1024)} KiB | "
            f"{row['cpu_per_run_ms']:.1f} ms | {row['loop_longest_ms']:.1f} ms | "
            f"{row['restore_burst_ms']:.0f} ms | "
            + ", ".join(f"{k} {v}" for k, v in sorted(row["outcomes"].items()))
            + " |"
        )
    by = {row["count"]: row for row in results["scale"]}
    top = max(by)
    if 10 in by and top > 10:
        mem10, memtop = results["memory"].get("10"), results["memory"].get(str(top))
        print(
            f"\nRatio {top}/10 (1.0 = linear): setup per entry "
            f"{by[top]['setup_per_entry_ms'] / by[10]['setup_per_entry_ms']:.2f}, memory per entry "
            f"{fmt(memtop / mem10 if mem10 and memtop else None, 2)}, CPU per run "
            f"{by[top]['cpu_per_run_ms'] / by[10]['cpu_per_run_ms']:.2f}."
        )
        print(
            f"Targets at {top}: setup per entry {by[top]['setup_per_entry_ms']:.1f} ms "
            f"({verdict(by[top]['setup_per_entry_ms'] < 50)}: < 50 ms), CPU per run "
            f"{by[top]['cpu_per_run_ms']:.1f} ms ({verdict(by[top]['cpu_per_run_ms'] < 20)}: < 20 ms)."
        )
    print("\n### Event loop\n")
    row = results["scale"][-1]
    print(
        f"Longest callback while {row['count']} runs go: {row['loop_longest_ms']:.1f} ms "
        f"({verdict(row['loop_longest_ms'] < 20)}: < 20 ms), in `{row['loop_longest_what']}` "
        f"({row['loop_callbacks']} callbacks timed; the most CPU one callback used: "
        f"{row['loop_longest_cpu_ms']:.1f} ms in `{row['loop_longest_cpu_what']}`; longest garbage "
        f"collection: {row['gc_longest_ms']:.1f} ms (generation {row['gc_longest_generation']}); slowest: {'; '.join(row['loop_slowest'])}). "
        f"Blocking calls reported by Home "
        f"Assistant's detector in heat_pump_reset: {len(results['blocking'])}"
        + ("" if not results["blocking"] else ": " + "; ".join(results["blocking"][:3]))
        + f"; elsewhere (core, libraries, the harness): {len(results['blocking_elsewhere'])}.\n"
    )
    res = results["resume"]
    print("### Resume after a restart\n")
    print(
        f"{res['count']} runs stored mid-discharge, core down past their deadline: first power "
        f"restore {res['first_restore_s'] * 1000:.0f} ms and last {res['last_restore_s'] * 1000:.0f} ms "
        f"after the core reached `running` ({verdict(res['last_restore_s'] < 1)}: < 1 s); "
        f"simulated time spent waiting: {res['simulated_wait_s']:.3f} s.\n"
    )
    st = results["storage"]
    print("### Storage\n")
    run_row = results["scale"][-1]
    print("| figure | value |")
    print("| --- | ---: |")
    print(f"| active-run writes per run | {run_row['active_writes_per_run']:.1f} |")
    print(f"| active-run file size per write | {run_row['active_bytes_per_write']:.0f} B |")
    if st["history"]:
        print(f"| history writes per run | {run_row['history_writes_per_run']:.1f} |")
        print(
            f"| history bytes written per run, history full ({st['records']} records) | "
            f"{st['history_bytes_per_run'] / 1024:.0f} KiB |"
        )
        print(f"| bytes per history record (Store JSON) | {st['bytes_per_record']:.0f} B |")
        print(
            f"| CPU per run, empty vs full history | {st['cpu_first_run_ms']:.1f} ms vs "
            f"{st['cpu_last_run_ms']:.1f} ms |"
        )
        print(
            f"| load {st['entries']} histories x {st['records']} records (RunStore.async_load) | "
            f"{st['load_all_s'] * 1000:.0f} ms |"
        )
        print(
            f"| set up {st['entries']} entries with full histories | "
            f"{st['setup_full_history_s'] * 1000:.0f} ms |"
        )
    else:
        print("| history | not in storage.py yet: active-run record only |")
    if results["warnings"]:
        print(f"\nWarnings and errors logged: {results['warnings']}")


# --- Main ------------------------------------------------------------------------------------------


async def main(args: argparse.Namespace, info: dict[str, str], root: Path) -> dict[str, Any]:
    """Run every scenario and return the figures."""
    counts = [1, 10] if args.short else [1, 10, 50, 200]
    logs = LogCapture()
    logging.basicConfig(level=logging.WARNING, handlers=[logs])
    # HA's detector of blocking calls in the event loop, with every check on: the test plugin
    # (imported here) would otherwise skip the checks of open(), listdir and friends.
    # Freeze first: freezegun's scan of every module's attributes would import lazy submodules.
    frozen = freezegun.freeze_time(START, tick=False)
    freezer = frozen.start()
    block_async_io._IN_TESTS = False
    block_async_io.enable()
    started = wall()
    with mock_config_flow(SIM, _SimFlow):
        bench = Bench(args.short, root, LoopProbe(), logs, StoreCounter(), freezer)
        results: dict[str, Any] = {"machine": info, "scale": [], "memory": {}}
        for count in counts:
            print(f"bench: {count} heat pumps ...", file=sys.stderr, flush=True)
            results["scale"].append(await scale(bench, count))
        for count in counts:
            results["memory"][str(count)] = await memory(bench, count)
        print("bench: resume ...", file=sys.stderr, flush=True)
        results["resume"] = await resume(bench, counts[-1])
        print("bench: storage ...", file=sys.stderr, flush=True)
        results["storage"] = await storage(bench, runs=5 if args.short else 200, entries=counts[-1])
    frozen.stop()
    results["blocking"], results["blocking_elsewhere"] = logs.blocking()
    warned: dict[str, int] = {}
    for record in logs.records:
        warned[f"{record.levelname} {record.name}"] = (
            warned.get(f"{record.levelname} {record.name}", 0) + 1
        )
    results["warnings"] = warned
    # The loader's "custom integration not tested by Home Assistant" warning is expected noise.
    for record in [r for r in logs.records if r.name != "homeassistant.loader"][:5]:
        print(
            f"bench: logged {record.levelname} {record.name}: {record.getMessage()[:300]}",
            file=sys.stderr,
        )
    results["elapsed_s"] = wall() - started
    results["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return results


def cli() -> int:
    """Parse arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="quick pass: checks it runs")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    info = machine()
    print(
        f"bench: Python {info['python']}, Home Assistant {info['home_assistant']}, "
        f"{info['nproc']} CPUs ({info['cpu']})",
        flush=True,
    )
    # A hang (a wait that the simulated clock never ends) must not stall CI: dump and exit.
    faulthandler.dump_traceback_later(int(os.environ.get("HPR_BENCH_WATCHDOG", "600")), exit=True)
    policy = runner.HassEventLoopPolicy(False)
    with (
        tempfile.TemporaryDirectory(prefix="hpr-bench-") as root,
        asyncio.Runner(loop_factory=policy.new_event_loop) as run,
    ):
        results = run.run(main(args, info, Path(root)))
    faulthandler.cancel_dump_traceback_later()
    report(results, args)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(cli())

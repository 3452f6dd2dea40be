"""The scenarios: N heat pumps resetting at once, memory, resume after a restart, storage."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import gc
import json
from pathlib import Path
import shutil
import time
import tracemalloc
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState

from custom_components.heat_pump_reset import const
from custom_components.heat_pump_reset.run import Phase
from custom_components.heat_pump_reset.storage import RunStore

from .clock import START, wall
from .fleet import controller, make_pumps
from .harness import Bench
from .phases import PHASE_ORDER, durations, floors, outcomes, restore_gap, trace

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
        burst = max(next(c.real for c in p.switches[0].sent if c.value == "on") for p in pumps)
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
            return all(any(c.value == "on" for c in p.switches[0].sent) for p in pumps)

        hass.set_state(CoreState.running)
        running_at = wall()
        hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
        await clock.run_until(_restored, timedelta(minutes=5))
        ons = [next(c.real for c in p.switches[0].sent if c.value == "on") for p in pumps]
        late = [
            (next(c.sim for c in p.switches[0].sent if c.value == "on") - START).total_seconds()
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

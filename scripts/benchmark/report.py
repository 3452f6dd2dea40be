"""The report: the machine, and the figures as Markdown tables (docs/performance.md)."""

from __future__ import annotations

import argparse
import contextlib
from importlib.metadata import version
import os
from pathlib import Path
import platform
from typing import Any


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

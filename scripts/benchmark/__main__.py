"""The command line of the benchmark: `python -m scripts.benchmark [--short] [--json FILE]`.

Python imported the package (__init__.py) first, so Home Assistant's clocks are patchable by freezegun.
"""

from __future__ import annotations

import argparse
import asyncio
import faulthandler
import json
import logging
import os
from pathlib import Path
import sys
import tempfile
from typing import Any

import freezegun
from homeassistant import block_async_io, runner
from pytest_homeassistant_custom_component.common import mock_config_flow

from . import __doc__ as package_doc
from .clock import START, wall
from .fleet import SIM, _SimFlow
from .harness import Bench
from .instruments import LogCapture, LoopProbe, StoreCounter
from .report import machine, report
from .scenarios import memory, resume, scale, storage


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
    parser = argparse.ArgumentParser(
        prog="scripts/bench", description=(package_doc or "").splitlines()[0]
    )
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

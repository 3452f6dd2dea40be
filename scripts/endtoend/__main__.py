"""The whole end-to-end run, in order: `python -m scripts.endtoend [--keep]` (see scripts/e2e)."""

from __future__ import annotations

import argparse
from functools import partial
import os
from pathlib import Path
import shutil
import signal
import sys
import tempfile
import time

import aiohttp

from . import __doc__ as package_doc, mqtt_scenarios, outage_scenarios, scenarios
from .harness import PEER_THERMOSTAT, Harness
from .hass import HarnessError
from .mqtt import Family, enabled
from .report import report


def main() -> int:
    """Run the whole end-to-end check."""
    parser = argparse.ArgumentParser(
        prog="scripts/e2e", description=(package_doc or "").splitlines()[0]
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    speed = float(os.environ.get("E2E_SPEED", "60"))
    libfaketime = os.environ.get("E2E_LIBFAKETIME") or None
    if speed != 1 and libfaketime is None:
        print("e2e: E2E_LIBFAKETIME is not set (scripts/e2e sets it)", file=sys.stderr)
        return 2
    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="hpr-e2e."))
    harness = Harness(workdir, speed, libfaketime)
    # The MQTT family (mqtt.py, mqtt_scenarios.py): its own heat pump on MQTT devices, same Home
    # Assistant.
    mqtt = Family(harness) if enabled() else None
    error = None

    def _terminate(signum: int, _frame: object) -> None:
        # `timeout` and scripts/e2e signal the whole group, so more may follow: stop once.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        msg = f"stopped by {signal.Signals(signum).name} (time limit or Ctrl-C)"
        raise HarnessError(msg)

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        print(f"e2e: work folder {workdir}, port {harness.port}")
        harness.prepare()
        if mqtt:
            mqtt.prepare()
        print("e2e: first start (real time): onboarding and the config flow")
        harness.hass.start(None)
        harness.onboard()
        harness.wait_running()
        harness.add_entry()
        if mqtt:
            mqtt.setup()
        harness.api.call(
            "climate.set_hvac_mode", {"entity_id": PEER_THERMOSTAT, "hvac_mode": "heat"}
        )
        harness.wait_for("the peer heating", partial(harness.since, PEER_THERMOSTAT, "heat"), 10)
        harness.drop_onboarding_entries()
        code = harness.hass.stop()
        harness.check("setup", "clean stop after set-up", code == 0, f"exit code {code}")
        print(f"e2e: starting again with the clock x{speed:g}")
        harness.start_fast()
        scenarios.restart(harness)
        scenarios.offline(harness)
        if mqtt:
            mqtt_scenarios.run(mqtt)
        # Last: it turns outage protection on for the demo heat pump.
        outage_scenarios.outage(harness)
        code = harness.hass.stop()
        harness.check("outage", "clean stop at the end", code == 0, f"exit code {code}")
    except (HarnessError, OSError, aiohttp.ClientError, TimeoutError, KeyError) as err:
        error = f"{type(err).__name__}: {err}"
    finally:
        if harness.hass.alive:
            harness.hass.stop(timeout=20)
        if mqtt:
            mqtt.close()
    ok = report(harness, error, time.monotonic() - began)
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"e2e: kept {workdir} (Home Assistant's output: {harness.hass.log})")
        if not ok and harness.hass.log.exists():
            print("e2e: last lines of hass.out:")
            print("\n".join(harness.hass.log.read_text(errors="replace").splitlines()[-25:]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

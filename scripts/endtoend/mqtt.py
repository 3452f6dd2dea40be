"""The MQTT family of scripts/e2e: a heat pump on real devices over a real Mosquitto broker.

Called by the driver (`__main__`: prepare, setup, then `mqtt_scenarios.run`, close) on the same Home
Assistant as the other scenarios; the scenarios are in `mqtt_scenarios`. What it adds:

- a Mosquitto broker on a free port of 127.0.0.1 (`E2E_MOSQUITTO`, else `mosquitto` on PATH or in
  /usr/sbin; scripts/e2e installs the Debian package when missing);
- three device processes (scripts/endtoend/mqtt_device.py, run with this Python, which needs paho-mqtt):
  two Tasmota-like relays (state NOT retained, last will `Offline`, answers in 0.5-2 s on Home
  Assistant's clock) and a thermostat that heats only while both relays are on;
- Home Assistant's own MQTT switch and climate platforms (scripts/e2e_config/mqtt_heat_pump.yaml)
  and the broker connection, a config entry added through the mqtt config flow;
- a Heat Pump Reset entry for them (config flow; options flow: 10 resets a day allowed, and a
  confirm timeout of 120 s: see CONFIRM_TIMEOUT), then four
  scenarios, one reset each, checked like the others:
  - mqtt-happy: a reset end to end over MQTT;
  - mqtt-restart: `kill -9` of Home Assistant during the wait; after the start the relays are
    `unknown` (their state is not retained), and power must still come back at the deadline;
  - mqtt-offline: relay A drops off the network (its process killed: the broker sends its last
    will) during the wait, and comes back 3 min after power was due back;
  - mqtt-slow: relay B answers in 150-160 s, slower than the confirm timeout (120 s here), at the
    restore.

`E2E_MQTT=0` leaves the family out.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any
import urllib.parse

from .hass import REPO, HarnessError, free_port

if TYPE_CHECKING:
    from .harness import Harness

DOMAIN = "heat_pump_reset"
SCENARIOS = ("mqtt", "mqtt-happy", "mqtt-restart", "mqtt-offline", "mqtt-slow")
TITLE = "MQTT heat pump"
THERMOSTAT = "climate.mqtt_heat_pump"
RELAY_A = "switch.mqtt_heat_pump_relay_a"
RELAY_B = "switch.mqtt_heat_pump_relay_b"
RELAYS = (RELAY_A, RELAY_B)
# Device names (MQTT topics) of the entities.
DEVICE = {RELAY_A: "e2e_relay_a", RELAY_B: "e2e_relay_b", THERMOSTAT: "e2e_thermostat"}
NORMAL_DELAY = "0.5 2"
# The switches' confirm timeout of the MQTT heat pump. The default, 30 s, is half a real second on
# the clock x60: less than Home Assistant's event loop stalls now and then on a busy 2-core machine
# (seen: a relay that switched in time, confirmed too late, and the cut ended `failed`). 120 s is 2 s.
CONFIRM_TIMEOUT = timedelta(seconds=120)


def enabled() -> bool:
    """Whether the family runs (E2E_MQTT=0 leaves it out)."""
    return os.environ.get("E2E_MQTT", "1") != "0"


class Family:
    """The broker, the devices, the entries and the scenarios of the MQTT family."""

    def __init__(self, harness: Harness) -> None:
        """Remember the harness; nothing starts."""
        self.h = harness
        self.dir = harness.workdir / "mqtt"
        self.port = free_port()
        self.broker: subprocess.Popen[bytes] | None = None
        self.devices: dict[str, subprocess.Popen[bytes]] = {}
        self.entry_id = ""
        self.entities: dict[str, str] = {}
        self.records = 0

    # --- Processes -------------------------------------------------------------------------

    def prepare(self) -> None:
        """Start the broker and the devices; put the MQTT entities into the configuration."""
        try:
            import paho.mqtt.client  # noqa: F401
        except ImportError as err:
            msg = f"the MQTT family needs paho-mqtt in {sys.executable} ({err}); or E2E_MQTT=0"
            raise HarnessError(msg) from err

        self.dir.mkdir(parents=True)
        mosquitto = (
            os.environ.get("E2E_MOSQUITTO")
            or shutil.which("mosquitto")
            or shutil.which("mosquitto", path="/usr/sbin:/usr/local/sbin")
        )
        if not mosquitto or not os.access(mosquitto, os.X_OK):
            msg = f"mosquitto not found ({mosquitto}; apt-get install mosquitto, or E2E_MOSQUITTO)"
            raise HarnessError(msg)
        conf = self.dir / "mosquitto.conf"
        conf.write_text(
            "# Written by scripts/endtoend/mqtt.py.\n"
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stdout\nlog_type error\nlog_type warning\nlog_type notice\n"
            "log_type information\nconnection_messages true\n",
            encoding="utf-8",
        )
        conf.chmod(0o644)
        with (self.dir / "mosquitto.log").open("ab") as log:
            self.broker = subprocess.Popen(
                [mosquitto, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 20
        while True:
            if self.broker.poll() is not None:
                msg = (
                    f"mosquitto exited with {self.broker.returncode} (see {self.dir}/mosquitto.log)"
                )
                raise HarnessError(msg)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.start_device(THERMOSTAT)
        for relay in RELAYS:
            self.start_device(relay)
        shutil.copy(REPO / "scripts/e2e_config/mqtt_heat_pump.yaml", self.h.config / "packages")
        print(f"e2e: mqtt: Mosquitto on port {self.port}, devices {', '.join(DEVICE.values())}")

    def start_device(self, entity_id: str) -> None:
        """Start (or start again) the process of one device."""
        name = DEVICE[entity_id]
        args = [str(Path(__file__).with_name("mqtt_device.py"))]
        if entity_id == THERMOSTAT:
            args += ["thermostat", name, "--relays", *(DEVICE[r] for r in RELAYS)]
        else:
            args += ["relay", name, "--state-file", str(self.dir / f"{name}.state")]
        args += ["--port", str(self.port), "--speed", f"{self.h.speed:g}"]
        args += ["--delay", *NORMAL_DELAY.split()]
        with (self.dir / "devices.log").open("ab") as log:
            self.devices[entity_id] = subprocess.Popen(
                [sys.executable, *args], stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

    def kill_device(self, entity_id: str) -> None:
        """Kill a device outright: its connection drops, and the broker publishes its last will."""
        proc = self.devices.pop(entity_id)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def control(self, entity_id: str, command: str, payload: str = "") -> None:
        """Send a device a control message (delay, report)."""
        from paho.mqtt import publish

        publish.single(
            f"e2e-ctl/{DEVICE[entity_id]}/{command}",
            payload,
            qos=1,
            hostname="127.0.0.1",
            port=self.port,
        )

    def close(self) -> None:
        """Stop the devices and the broker."""
        for proc in [*self.devices.values(), self.broker]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*self.devices.values(), self.broker]:
            if proc is None:
                continue
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.devices.clear()

    # --- Home Assistant --------------------------------------------------------------------

    def value(self, entity_id: str) -> str | None:
        """Return an entity's state string."""
        return self.h.api.value(entity_id)

    def phase(self) -> str | None:
        """Return the reset phase of the MQTT heat pump."""
        return self.value(self.entities["phase"])

    def flow(self, path: str, start: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        """Run a one-form flow (config or options) over the REST API; return the last answer."""
        form = self.h.api.post(path, start)
        if form.get("type") != "form":
            msg = f"{path}: no form: {form}"
            raise HarnessError(msg)
        result: dict[str, Any] = self.h.api.post(f"{path}/{form['flow_id']}", answer)
        return result

    def setup(self) -> None:
        """On the first start (real time): the broker entry, the devices' entities, our entry."""
        result = self.flow(
            "/api/config/config_entries/flow",
            {"handler": "mqtt", "show_advanced_options": False},
            {"broker": "127.0.0.1", "port": self.port},
        )
        self.h.check(
            "mqtt",
            "mqtt config flow: broker entry created",
            result.get("type") == "create_entry",
            f"{result.get('title')}:{self.port}",
        )
        present = self.h.wait_for(
            "the MQTT entities",
            lambda: all(self.value(e) not in (None, "unavailable") for e in DEVICE) or None,
            60,
            0.2,
        )
        before = {e: self.value(e) for e in RELAYS}
        # The relays reported their state once when they connected, before Home Assistant
        # subscribed; with the state not retained it learns it at the next report.
        for relay in RELAYS:
            self.control(relay, "report")
        self.h.wait_for(
            "the relays on and the thermostat heating",
            lambda: all(self.value(e) == "on" for e in RELAYS) and self.heating(),
            30,
        )
        self.h.check(
            "mqtt",
            "MQTT switches and climate there; relays unknown until they report, then on",
            bool(present) and all(v == "unknown" for v in before.values()),
            ", ".join(f"{e} {v}" for e, v in before.items()) + " before the report",
        )
        result = self.flow(
            "/api/config/config_entries/flow",
            {"handler": DOMAIN, "show_advanced_options": False},
            {"name": TITLE, "thermostat": THERMOSTAT, "switches": list(RELAYS)},
        )
        if result.get("type") != "create_entry":
            msg = f"config flow refused the MQTT heat pump: {result}"
            raise HarnessError(msg)
        self.entry_id = result["result"]["entry_id"]
        options = self.flow(
            "/api/config/config_entries/options/flow",
            {"handler": self.entry_id},
            # The form's sections, as the frontend submits them (each field left out keeps its
            # current value).
            {
                "timings": {"switch_timeout_seconds": int(CONFIRM_TIMEOUT.total_seconds())},
                "running": {},
                "limits": {"max_resets_per_day": 10},
            },
        )
        self.h.wait_for("the MQTT heat pump's entities", self._find_entities, 30)
        self.h.check(
            "mqtt",
            "config flow: Heat Pump Reset for the MQTT thermostat and both relays; options flow",
            options.get("type") == "create_entry",
            f"entry {self.entry_id}, phase sensor {self.entities.get('phase')}; options flow "
            f"{options.get('type')}: 10 resets a day, confirm timeout "
            f"{CONFIRM_TIMEOUT.total_seconds():.0f} s",
        )

    def _find_entities(self) -> bool:
        """Find our entry's sensors in the entity registry, once they are there."""
        (registry,) = self.h.api.ws({"type": "config/entity_registry/list"})
        prefix = f"{self.entry_id}_"
        self.entities = {
            row["unique_id"].removeprefix(prefix): row["entity_id"]
            for row in registry
            if row.get("config_entry_id") == self.entry_id
            and row["entity_id"].startswith("sensor.")
        }
        return "phase" in self.entities and self.value(self.entities["phase"]) == "idle"

    def heating(self) -> bool:
        """Whether the thermostat heats (mode and action)."""
        state = self.h.api.state(THERMOSTAT) or {}
        return (
            state.get("state") == "heat"
            and state.get("attributes", {}).get("hvac_action") == "heating"
        )

    def stored_run(self) -> dict[str, Any] | None:
        """Return the active run of the MQTT heat pump as stored on disk."""
        return self.h.stored_run(self.entry_id)

    def stored_deadline(self) -> datetime | None:
        """Return the stored run's discharge deadline."""
        return self.h.stored_deadline(self.entry_id)

    def history(self) -> list[dict[str, Any]]:
        """Return the MQTT heat pump's recorded runs."""
        return self.h.history(self.entry_id)

    def changes(self, entity_id: str, start: datetime) -> list[tuple[str, datetime]]:
        """Return the recorded states of an entity since `start`."""
        query = urllib.parse.urlencode(
            {
                "filter_entity_id": entity_id,
                "end_time": (self.h.clock.now() + timedelta(hours=1)).isoformat(),
                "no_attributes": "",
                "significant_changes_only": "0",
            }
        )
        path = f"/api/history/period/{urllib.parse.quote(start.isoformat())}?{query}"
        rows = self.h.api.get(path)
        return [(row["state"], datetime.fromisoformat(row["last_changed"])) for row in rows[0]]

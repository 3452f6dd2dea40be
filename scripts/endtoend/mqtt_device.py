"""A simulated MQTT device for the MQTT family of scripts/e2e (scripts/endtoend/mqtt.py): a Tasmota-like relay, or a heat pump thermostat.

Started by scripts/endtoend/mqtt.py (one process per device) with the driver's Python; needs paho-mqtt
(a dependency of Home Assistant's mqtt integration and of the test plugin). It answers commands after
a random delay of `--delay MIN MAX` seconds on Home Assistant's clock, which runs `--speed` times
fast (libfaketime), so the device is as slow relative to Home Assistant's timeouts as a real one.

relay NAME (Tasmota's default topics and payloads):
  cmnd/NAME/POWER   ON | OFF (a command); anything else: report the state
  stat/NAME/POWER   ON | OFF, NOT retained (Tasmota's default): a client that subscribes later
                    (Home Assistant after a restart) does not learn the state until the next report
  tele/NAME/LWT     Online (retained, at connect) / Offline (retained, the last will: published by
                    the broker when the connection drops without a goodbye, e.g. on `kill -9`)
  At connect the relay reports its state once, as Tasmota does. The state is kept in --state-file,
  so a relay that drops off the network comes back with the state it had (the contact stays put).

thermostat NAME (Home Assistant's MQTT climate platform; every report retained):
  e2e/NAME/mode/set, e2e/NAME/mode                  off | heat
  e2e/NAME/temperature/set, e2e/NAME/temperature    the set point
  e2e/NAME/current_temperature                      19.0 (below the set point: it wants heat)
  e2e/NAME/action                                   off | heating | idle (heat but no power)
  It powers the unit from the relays in --relays: heating only while every one of them is ON.

Control (from the driver): e2e-ctl/NAME/delay "MIN MAX" changes the delay; e2e-ctl/NAME/report
makes the device report its state (as Tasmota's TelePeriod or a restart of the device would).
"""

from __future__ import annotations

import argparse
from pathlib import Path
import random
import signal
import sys
import threading
from typing import Any

import paho.mqtt.client as mqtt


class Device:
    """One device on its own MQTT connection."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Connect settings, the last will, and the starting state."""
        self.args = args
        self.name: str = args.name
        self.delay: tuple[float, float] = (args.delay[0], args.delay[1])
        self.lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-{self.name}", clean_session=True
        )
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message
        self.will_topic: str | None = None

    def later(self, action: Any) -> None:
        """Run `action` after the device's answer delay (scaled to the real clock)."""
        seconds = random.uniform(*self.delay) / self.args.speed
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        timer.start()

    def on_connect(self, client: mqtt.Client, *_: Any) -> None:
        """Subscribe and announce (again after a reconnect)."""
        client.subscribe([(f"e2e-ctl/{self.name}/#", 1), *self.subscriptions()])
        self.connected()

    def on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        """Dispatch a message."""
        payload = msg.payload.decode(errors="replace").strip()
        if msg.topic == f"e2e-ctl/{self.name}/delay":
            low, high = (float(x) for x in payload.split())
            self.delay = (low, high)
            print(f"{self.name}: delay now {low:g}-{high:g} s", flush=True)
        elif msg.topic == f"e2e-ctl/{self.name}/report":
            self.report()
        else:
            self.handle(msg.topic, payload)

    def publish(self, topic: str, payload: str, *, retain: bool) -> None:
        """Publish with QoS 1."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    def run(self) -> None:
        """Connect and serve until killed."""
        if self.will_topic is not None:
            self.client.will_set(self.will_topic, "Offline", qos=1, retain=True)
        self.client.connect("127.0.0.1", self.args.port, keepalive=30)
        self.client.loop_forever(retry_first_connection=True)

    # Overridden below.
    def subscriptions(self) -> list[tuple[str, int]]:
        """Topics besides the control topics."""
        return []

    def connected(self) -> None:
        """Announce the device."""

    def report(self) -> None:
        """Report the state."""

    def handle(self, topic: str, payload: str) -> None:
        """Handle a message on a device topic."""


class Relay(Device):
    """A Tasmota-like relay: state not retained, last will Offline."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Start from the state file, or on."""
        super().__init__(args)
        self.state_file = Path(args.state_file)
        self.state = (
            self.state_file.read_text().strip() if self.state_file.exists() else args.state.upper()
        )
        self.will_topic = f"tele/{self.name}/LWT"

    def subscriptions(self) -> list[tuple[str, int]]:
        """Return the command topic."""
        return [(f"cmnd/{self.name}/POWER", 1)]

    def connected(self) -> None:
        """Online, then the state once (Tasmota asks itself for POWER at connect)."""
        self.publish(f"tele/{self.name}/LWT", "Online", retain=True)
        self.report()

    def report(self) -> None:
        """Publish the state, not retained."""
        self.publish(f"stat/{self.name}/POWER", self.state, retain=False)

    def handle(self, topic: str, payload: str) -> None:
        """Switch after the delay, then report."""
        command = payload.upper()
        if command not in ("ON", "OFF"):
            self.report()
            return
        print(f"{self.name}: command {command}", flush=True)

        def _switch() -> None:
            with self.lock:
                self.state = command
                self.state_file.write_text(command)
            print(f"{self.name}: now {command}", flush=True)
            self.report()

        self.later(_switch)


class Thermostat(Device):
    """A heat pump's thermostat, heating only while every relay is on."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Heat at 21 in a room at 19; the relays' states as last seen (on until told)."""
        super().__init__(args)
        self.mode = "heat"
        self.target = 21.0
        self.power = dict.fromkeys(args.relays, "ON")
        self.base = f"e2e/{self.name}"

    def subscriptions(self) -> list[tuple[str, int]]:
        """Commands, and the relays' states."""
        own = [(f"{self.base}/mode/set", 1), (f"{self.base}/temperature/set", 1)]
        return own + [(f"stat/{relay}/POWER", 1) for relay in self.power]

    def connected(self) -> None:
        """Report everything."""
        self.report()

    def action(self) -> str:
        """Return what the unit does."""
        if self.mode == "off":
            return "off"
        return "heating" if all(v == "ON" for v in self.power.values()) else "idle"

    def report(self) -> None:
        """Publish mode, set point, room temperature and action, retained."""
        self.publish(f"{self.base}/mode", self.mode, retain=True)
        self.publish(f"{self.base}/temperature", f"{self.target:.1f}", retain=True)
        self.publish(f"{self.base}/current_temperature", "19.0", retain=True)
        self.publish(f"{self.base}/action", self.action(), retain=True)

    def handle(self, topic: str, payload: str) -> None:
        """Follow a command after the delay; follow the relays at once."""
        if topic.startswith("stat/"):
            relay = topic.split("/")[1]
            with self.lock:
                self.power[relay] = payload.upper()
            self.publish(f"{self.base}/action", self.action(), retain=True)
            return
        print(f"{self.name}: {topic} {payload}", flush=True)

        def _apply() -> None:
            with self.lock:
                if topic.endswith("/mode/set") and payload in ("off", "heat"):
                    self.mode = payload
                elif topic.endswith("/temperature/set"):
                    self.target = float(payload)
            self.report()

        self.later(_apply)


def main() -> int:
    """Parse the arguments and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("relay", "thermostat"))
    parser.add_argument("name")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--speed", type=float, default=1.0, help="Home Assistant's clock speed")
    parser.add_argument("--delay", type=float, nargs=2, default=(0.5, 2.0), metavar=("MIN", "MAX"))
    parser.add_argument("--state", default="on", help="a relay's state without a state file")
    parser.add_argument("--state-file", default="", help="where a relay keeps its state")
    parser.add_argument("--relays", nargs="*", default=[], help="the relays powering the unit")
    args = parser.parse_args()
    device: Device = Relay(args) if args.kind == "relay" else Thermostat(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    device.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

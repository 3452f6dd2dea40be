"""End-to-end check of Heat Pump Reset in a real Home Assistant, beside the script users write instead.

Run by scripts/e2e (which sets PYTHONPATH to scripts/demo_config, installs libfaketime if needed and
bounds the run). It drives the `hass` program only through its REST and WebSocket APIs, as a client:

1. a fresh configuration from the demo's (scripts/demo_config) plus a second simulated heat pump with
   the usual script (scripts/e2e_config/peer_heat_pump.yaml); one plain start: onboarding (a user and
   tokens), Heat Pump Reset added through the config flow for the demo thermostat and breaker;
2. Home Assistant started again under libfaketime (its clock E2E_SPEED times fast, default 60), then
   two scenarios, each for both heat pumps at once:
   - restart: a reset and the script start, `kill -9` during the discharge wait, start again;
   - offline: a reset and the script start, both breakers go unavailable during the wait and come
     back some minutes after power was due back.
3. the MQTT family (scripts/e2e_mqtt.py; E2E_MQTT=0 leaves it out): a third heat pump on simulated
   Tasmota-like relays and a thermostat behind a real Mosquitto, through Home Assistant's MQTT
   platforms, with its own four scenarios; main() calls it at four marked points;
4. checks on Heat Pump Reset (exit 1 if any fails) and observations of the script, printed as a
   result block.

Times in the output are Home Assistant's (faked) clock; "fake min" is a minute on that clock.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
import importlib.util
import json
import os
from pathlib import Path
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

import aiohttp
import client
import e2e_mqtt
import seed

REPO = Path(__file__).resolve().parent.parent
DOMAIN = "heat_pump_reset"
DEMO_OFFLINE = "input_boolean.demo_breaker_offline"
PEER_SCRIPT = "script.peer_power_cycle"
PEER_THERMOSTAT = "climate.peer_heat_pump"
PEER_BREAKER = "switch.peer_heat_pump_breaker"
PEER_OFFLINE = "input_boolean.peer_breaker_offline"
# The script's delay (scripts/e2e_config/peer_heat_pump.yaml) and Heat Pump Reset's default wait.
SCRIPT_DELAY = timedelta(minutes=30)
# How long the breakers stay unavailable after power was due back, in the offline scenario.
OFFLINE_PAST_DUE = timedelta(minutes=5)
# Time on Home Assistant's clock (after power is back) for the start-up delay, the thermostat and
# the verification window (5 + 15 min by default), with room to spare.
RUN_TAIL = timedelta(minutes=30)
USERNAME = "e2e"
# The integrations onboarding sets up (core_config step), in 2025.4.4 and 2026.10.4 alike.
ONBOARDING_DOMAINS = frozenset({"google_translate", "met", "radio_browser", "shopping_list"})


class HarnessError(Exception):
    """The harness could not go on (Home Assistant died, a wait timed out)."""


@dataclass
class Result:
    """One check on Heat Pump Reset, or one observation of the script."""

    scenario: str
    subject: str  # "ours" or "script"
    name: str
    ok: bool | None  # None: an observation, not a check
    detail: str = ""


class Clock:
    """Home Assistant's clock as the driver knows it: real time, or libfaketime's faster one."""

    def __init__(self) -> None:
        """Start on real time."""
        self.speed = 1.0
        self._real0 = time.time()
        self._fake0 = self._real0

    def now(self) -> datetime:
        """Return the time on Home Assistant's clock (also while it is down: the world goes on)."""
        return datetime.fromtimestamp(self._fake0 + (time.time() - self._real0) * self.speed, UTC)

    def faketime(self, speed: float) -> str:
        """Return a FAKETIME value that continues this clock at `speed`, from now on."""
        fake = int(self._fake0 + (time.time() - self._real0) * self.speed)
        self._fake0, self._real0, self.speed = fake, time.time(), speed
        start = datetime.fromtimestamp(fake, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"@{start} x{speed:g}"

    def real(self, span: timedelta) -> float:
        """Return how many real seconds `span` on Home Assistant's clock takes."""
        return span.total_seconds() / self.speed


class Hass:
    """The `hass` process: started, stopped, killed."""

    def __init__(self, config: Path, libfaketime: str | None, port: int, speed: float) -> None:
        """Remember where the configuration and the log go, the port and the clock's speed."""
        self.config = config
        self.libfaketime = libfaketime
        self.port = port
        self.speed = speed
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "hass.out"
        self.starts = 0

    def start(self, faketime: str | None) -> None:
        """Start Home Assistant, under libfaketime when `faketime` is given."""
        # SETUP_PORT: the port of a Home Assistant that keeps its HTTP settings in a store
        # (see _http_in_store); older ones ignore it and read the port from YAML.
        env = dict(os.environ, TZ="UTC", SETUP_PORT=str(self.port))
        env.pop("LD_PRELOAD", None)
        if faketime is not None:
            assert self.libfaketime is not None
            env |= {"LD_PRELOAD": self.libfaketime, "FAKETIME": faketime}
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"\n===== e2e: start {self.starts} (FAKETIME={faketime}) =====\n".encode())
            log.flush()
            args = [str(Path(sys.executable).parent / "hass"), "-c", str(self.config)]
            if faketime is not None:
                # Its start-up time-outs stretched by the clock's speed (see the script).
                slow_start = REPO / "scripts/demo_config/hass_slow_start.py"
                args[:1] = [sys.executable, str(slow_start), str(self.speed)]
            if skip := os.environ.get("HPR_SKIP_PIP_PACKAGES"):  # see scripts/sid_chroot.bash
                args += ["--skip-pip-packages", skip]
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    @property
    def alive(self) -> bool:
        """Whether the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """Kill the process outright, as a power cut or a crash would, and reap it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 90) -> int | None:
        """Stop Home Assistant as a service manager would; kill it if it hangs. Return its code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            return None


class Api:
    """Home Assistant's REST and WebSocket APIs with a user's tokens (refreshed when they expire)."""

    def __init__(self, base: str, clock: Clock) -> None:
        """Point at Home Assistant; tokens come from onboarding."""
        self.base = base
        self.clock = clock
        self.access = ""
        self.refresh_token = ""
        self._renew_at = datetime.max.replace(tzinfo=UTC)

    def set_tokens(self, tokens: dict[str, Any]) -> None:
        """Keep the tokens of a token answer and plan their renewal."""
        self.access = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        # Renew well before expiry: an expired token would make Home Assistant report a failed
        # login (an `http-login` notification) each time.
        lifetime = timedelta(seconds=int(tokens.get("expires_in", 1800)))
        self._renew_at = self.clock.now() + lifetime / 2

    def renew(self) -> None:
        """Get a new access token with the refresh token."""
        self.set_tokens(client.refresh(self.base, self.refresh_token))

    def token(self) -> str:
        """Return a valid access token, renewed when half its life is over."""
        if self.clock.now() >= self._renew_at:
            self.renew()
        return self.access

    def _authed(self, send: Callable[[str], Any]) -> Any:
        """Send a request; on 401 (a token outlived by the fast clock) renew it and send again."""
        try:
            return send(self.token())
        except urllib.error.HTTPError as err:
            if err.code != 401:
                raise
        self.renew()
        return send(self.access)

    def get(self, path: str) -> Any:
        """GET a path."""
        return self._authed(lambda token: client.request(self.base + path, token=token))

    def post(self, path: str, data: dict[str, Any]) -> Any:
        """POST JSON to a path."""
        return self._authed(
            lambda token: client.request(self.base + path, data=data, token=token, timeout=30)
        )

    def delete(self, path: str) -> Any:
        """DELETE a path."""

        def _send(token: str) -> Any:
            req = urllib.request.Request(
                self.base + path, method="DELETE", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
            return json.loads(raw) if raw else None

        return self._authed(_send)

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """Return an entity's state, or None when it has none."""
        try:
            result: dict[str, Any] = self.get(f"/api/states/{entity_id}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise
        return result

    def value(self, entity_id: str) -> str | None:
        """Return an entity's state string."""
        state = self.state(entity_id)
        return None if state is None else str(state["state"])

    def call(self, action: str, data: dict[str, Any], *, response: bool = False) -> Any:
        """Call an action over REST; with `response`, return its response data."""
        domain, service = action.split(".", 1)
        path = f"/api/services/{domain}/{service}" + ("?return_response" if response else "")
        result = self.post(path, data)
        return result["service_response"] if response else result

    def ws(self, *messages: dict[str, Any]) -> list[Any]:
        """Send commands over a fresh WebSocket connection; return their results in order.

        Short connections: a connection left idle would miss the server's heartbeat pings, which
        come 60 times as often on the fast clock.
        """
        for attempt in range(3):
            try:
                return asyncio.run(self._ws(list(messages)))
            except PermissionError:
                self.renew()
            except (aiohttp.ClientError, TimeoutError):
                if attempt == 2:
                    raise
        return asyncio.run(self._ws(list(messages)))

    async def _ws(self, messages: list[dict[str, Any]]) -> list[Any]:
        """Authenticate, then send each command and collect its result."""
        url = "ws" + self.base.removeprefix("http") + "/api/websocket"
        results: list[Any] = []
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as sock:
            await sock.receive_json(timeout=10)  # auth_required
            await sock.send_json({"type": "auth", "access_token": self.token()})
            reply = await sock.receive_json(timeout=10)
            if reply.get("type") != "auth_ok":
                raise PermissionError(reply.get("message", "auth refused"))
            for number, message in enumerate(messages, 1):
                await sock.send_json({"id": number, **message})
                while (reply := await sock.receive_json(timeout=30)).get("id") != number:
                    pass
                if not reply.get("success"):
                    msg = f"{message['type']} failed: {reply.get('error')}"
                    raise HarnessError(msg)
                results.append(reply.get("result"))
        return results


def _parse(value: str | None) -> datetime | None:
    """Parse an ISO time from Home Assistant."""
    return datetime.fromisoformat(value) if value else None


def _hm(value: datetime | None) -> str:
    """Format a time on Home Assistant's clock, to the millisecond."""
    return value.strftime("%H:%M:%S.%f")[:-3] if value else "-"


def _on_after_off(changes: list[tuple[str, datetime]]) -> datetime | None:
    """Return when a switch first reported on after it first reported off."""
    off = next((when for state, when in changes if state == "off"), None)
    if off is None:
        return None
    return next((when for state, when in changes if state == "on" and when > off), None)


def _http_in_store() -> bool:
    """Return whether this Home Assistant keeps its HTTP settings in a store (2026.x)."""
    return importlib.util.find_spec("homeassistant.components.http.config") is not None


def _free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Harness:
    """Runs the scenarios against one Home Assistant and collects the results."""

    workdir: Path
    speed: float
    libfaketime: str | None
    results: list[Result] = field(default_factory=list)
    clock: Clock = field(default_factory=Clock)
    entities: dict[str, str] = field(default_factory=dict)
    entry_id: str = ""

    def __post_init__(self) -> None:
        """Lay out the configuration folder and the API client."""
        self.config = self.workdir / "config"
        self.port = _free_port()
        self.api = Api(f"http://127.0.0.1:{self.port}", self.clock)
        self.hass = Hass(self.config, self.libfaketime, self.port, self.speed)

    # --- Bookkeeping -----------------------------------------------------------------------

    def check(self, scenario: str, name: str, ok: bool, detail: str = "") -> bool:
        """Record a check on Heat Pump Reset."""
        self.results.append(Result(scenario, "ours", name, ok, detail))
        print(
            f"e2e: [{scenario}] {'PASS' if ok else 'FAIL'}: {name}{': ' if detail else ''}{detail}"
        )
        return ok

    def observe(self, scenario: str, name: str, detail: str) -> None:
        """Record what the script did."""
        self.results.append(Result(scenario, "script", name, None, detail))
        print(f"e2e: [{scenario}] script: {name}: {detail}")

    def wait_for[T](
        self, what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.1
    ) -> T:
        """Poll `probe` until it returns something truthy; fail after `timeout` real seconds."""
        deadline = time.monotonic() + timeout
        error: Exception | None = None
        while True:
            if not self.hass.alive:
                msg = f"Home Assistant exited while waiting for {what} (see {self.hass.log})"
                raise HarnessError(msg)
            try:
                if value := probe():
                    return value
            except (OSError, aiohttp.ClientError, TimeoutError) as err:
                error = err
            if time.monotonic() > deadline:
                msg = f"timed out after {timeout:.0f} s waiting for {what}"
                raise HarnessError(msg + (f" (last error: {error})" if error else ""))
            time.sleep(interval)

    def wait_fake(self, what: str, until: datetime) -> None:
        """Wait until Home Assistant's clock reaches `until`."""
        span = until - self.clock.now()
        self.wait_for(what, lambda: self.clock.now() >= until, self.clock.real(span) + 5, 0.05)

    def stored_run(self) -> dict[str, Any] | None:
        """Return the active run as Heat Pump Reset stored it on disk."""
        path = self.config / ".storage" / f"{DOMAIN}.run.{self.entry_id}"
        if not path.exists():
            return None
        active: dict[str, Any] | None = json.loads(path.read_text())["data"].get("active")
        return active

    def stored_deadline(self) -> datetime | None:
        """Return the stored run's discharge deadline (confirmed off + discharge wait)."""
        run = self.stored_run()
        if run is None or not run.get("confirmed_off_at"):
            return None
        off = datetime.fromisoformat(run["confirmed_off_at"])
        return off + timedelta(minutes=run["discharge_minutes"])

    def history(self) -> list[dict[str, Any]]:
        """Return Heat Pump Reset's recorded runs (get_history over the WebSocket API)."""
        (result,) = self.api.ws(
            {
                "type": "call_service",
                "domain": DOMAIN,
                "service": "get_history",
                "service_data": {"config_entry_id": self.entry_id},
                "return_response": True,
            }
        )
        runs: list[dict[str, Any]] = result["response"]["runs"]
        return runs

    def notifications(self) -> list[str]:
        """Return the ids of the persistent notifications shown."""
        (result,) = self.api.ws({"type": "persistent_notification/get"})
        return [str(item["notification_id"]) for item in result]

    def repairs(self) -> list[str]:
        """Return the ids of our issues in the Repairs dashboard."""
        (result,) = self.api.ws({"type": "repairs/list_issues"})
        return [str(i["issue_id"]) for i in result["issues"] if i["domain"] == DOMAIN]

    def changes(self, entity_id: str, start: datetime) -> list[tuple[str, datetime]]:
        """Return the recorded states of an entity since `start` (recorder history over REST)."""
        query = urllib.parse.urlencode(
            {
                "filter_entity_id": entity_id,
                "end_time": (self.clock.now() + timedelta(hours=1)).isoformat(),
                "no_attributes": "",
                "significant_changes_only": "0",
            }
        )
        path = f"/api/history/period/{urllib.parse.quote(start.isoformat())}?{query}"
        rows = self.api.get(path)
        return [(row["state"], datetime.fromisoformat(row["last_changed"])) for row in rows[0]]

    # --- Set-up ----------------------------------------------------------------------------

    def prepare(self) -> None:
        """Write the configuration: the demo's, the peer heat pump, the port; no stores seeded."""
        (self.config / "packages").mkdir(parents=True)
        (self.config / "custom_components").mkdir()
        (self.config / "custom_components" / DOMAIN).symlink_to(REPO / "custom_components" / DOMAIN)
        text = (REPO / "scripts/demo_config/configuration.yaml").read_text(encoding="utf-8")
        # Packages bring the peer heat pump and the port in. The frontend goes: the e2e uses the
        # APIs only, and its package (not in the test requirements) would be installed at start.
        for old, new in (
            ("\nhomeassistant:\n", "\nhomeassistant:\n  packages: !include_dir_named packages\n"),
            ("\nfrontend:\n", "\n"),
        ):
            if text.count(old) != 1:
                msg = f"scripts/demo_config/configuration.yaml changed: {old.strip()!r} not found once"
                raise HarnessError(msg)
            text = text.replace(old, new)
        (self.config / "configuration.yaml").write_text(text, encoding="utf-8")
        (self.config / "auth_providers.yaml").write_text("- type: homeassistant\n")
        shutil.copy(REPO / "scripts/e2e_config/peer_heat_pump.yaml", self.config / "packages")
        # HA 2025.4.4 reads the port from YAML only. Newer ones keep it in a store and take a
        # YAML `http:` block as a trial that they revert, with a restart, 5 minutes later (5 s on
        # the fast clock): there the port comes from SETUP_PORT (Hass.start), on every address.
        http = (
            ""
            if _http_in_store()
            else f"http:\n  server_host: 127.0.0.1\n  server_port: {self.port}\n"
        )
        (self.config / "packages" / "e2e_http.yaml").write_text(
            f"# Written by scripts/e2e.py.\n{http}onboarding:\n", encoding="utf-8"
        )

    def onboard(self) -> None:
        """Create the owner through the onboarding API, keep its tokens, finish onboarding."""
        base = self.api.base
        client_id = f"{base}/"
        steps = self.wait_for(
            "the onboarding API", lambda: client.request(f"{base}/api/onboarding"), 120, 0.5
        )
        if any(step["done"] for step in steps):
            msg = f"a fresh configuration is already (partly) onboarded: {steps}"
            raise HarnessError(msg)
        password = secrets.token_urlsafe(16)
        created = client.request(
            f"{base}/api/onboarding/users",
            data={
                "client_id": client_id,
                "name": "E2E",
                "username": USERNAME,
                "password": password,
                "language": "en",
            },
        )
        self.api.set_tokens(client.tokens_from_code(base, created["auth_code"]))
        self.api.post("/api/onboarding/core_config", {})
        self.api.post("/api/onboarding/analytics", {})
        self.api.post(
            "/api/onboarding/integration",
            {"client_id": client_id, "redirect_uri": f"{client_id}?auth_callback=1"},
        )
        steps = client.request(f"{base}/api/onboarding")
        # The owner can also log in like the frontend does (the login flow the demo uses).
        client.login(base, USERNAME, password)
        self.check(
            "setup",
            "onboarding API: owner created, tokens issued, every step done; login flow works",
            all(step["done"] for step in steps),
            ", ".join(f"{s['step']}={s['done']}" for s in steps),
        )

    def drop_onboarding_entries(self) -> None:
        """Remove the entries onboarding adds (weather, radio, text-to-speech, shopping list).

        They need the network and packages the test environment lacks; on the fast clock their
        retries and time-outs (and on Python 3.14 the voice packages they pull in, which need a
        C++ compiler) stall Home Assistant's start. Nothing here uses them.
        """
        path = "/api/config/config_entries/entry"

        def _all_there() -> list[dict[str, Any]] | None:
            entries = [e for e in self.api.get(path) if e["domain"] in ONBOARDING_DOMAINS]
            return entries if len(entries) == len(ONBOARDING_DOMAINS) else None

        try:
            entries = self.wait_for("onboarding's entries", _all_there, 30, 0.5)
        except HarnessError:  # one did not come (no network, a missing package): drop the rest
            entries = [e for e in self.api.get(path) if e["domain"] in ONBOARDING_DOMAINS]
        for entry in entries:
            self.api.delete(f"{path}/{entry['entry_id']}")
        print(f"e2e: removed onboarding's entries: {', '.join(e['domain'] for e in entries)}")

    def wait_running(self, timeout: float = 120) -> None:
        """Wait until Home Assistant runs and the heat pumps' entities are there."""
        required = [seed.THERMOSTAT, seed.BREAKER, PEER_THERMOSTAT, PEER_BREAKER, PEER_SCRIPT]
        required += [self.entities["phase"]] if self.entities else []

        def _ready() -> bool:
            if self.api.get("/api/config").get("state") != "RUNNING":
                return False
            return all(self.value(e) not in (None, "unavailable", "unknown") for e in required)

        self.wait_for("Home Assistant to run with the heat pumps' entities", _ready, timeout, 0.2)

    def value(self, entity_id: str) -> str | None:
        """Return an entity's state string."""
        return self.api.value(entity_id)

    def since(self, entity_id: str, value: str) -> datetime | None:
        """Return when an entity took its state, if that state is `value`."""
        state = self.api.state(entity_id)
        if state is None or state["state"] != value:
            return None
        return datetime.fromisoformat(state["last_changed"])

    def add_entry(self) -> None:
        """Add Heat Pump Reset for the demo heat pump through the config flow API."""
        flow = self.api.post(
            "/api/config/config_entries/flow", {"handler": DOMAIN, "show_advanced_options": False}
        )
        if flow.get("type") != "form" or flow.get("step_id") != "user":
            msg = f"config flow did not show its form: {flow}"
            raise HarnessError(msg)
        result = self.api.post(
            f"/api/config/config_entries/flow/{flow['flow_id']}",
            {
                "name": seed.ENTRY_TITLE,
                "thermostat": seed.THERMOSTAT,
                "switches": [seed.BREAKER],
                "power_sensor": seed.POWER_SENSOR,
            },
        )
        ok = result.get("type") == "create_entry"
        self.check("setup", "config flow API: entry created", ok, str(result.get("title")))
        if not ok:
            msg = f"config flow refused: {result}"
            raise HarnessError(msg)
        self.entry_id = result["result"]["entry_id"]

        def _loaded() -> bool:
            entries = self.api.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
            return bool(entries) and entries[0]["state"] == "loaded"

        self.wait_for("the entry to load", _loaded, 30)
        (registry,) = self.api.ws({"type": "config/entity_registry/list"})
        prefix = f"{self.entry_id}_"
        ours = [row for row in registry if row.get("config_entry_id") == self.entry_id]
        self.entities = {
            row["unique_id"].removeprefix(prefix): row["entity_id"]
            for row in ours
            if row["entity_id"].startswith("sensor.")
        }
        self.check(
            "setup",
            f"{len(ours)} entities registered",
            {"phase", "phase_ends_at", "last_outcome"} <= self.entities.keys(),
            ", ".join(sorted(row["entity_id"] for row in ours)),
        )

    def start_fast(self) -> None:
        """Start Home Assistant with its clock `speed` times fast, continuing from now."""
        self.hass.start(self.clock.faketime(self.speed) if self.speed != 1 else None)
        self.wait_running()

    # --- Scenarios -------------------------------------------------------------------------

    def phase(self) -> str | None:
        """Return the reset phase."""
        return self.value(self.entities["phase"])

    def start_both(self, scenario: str, reason: str) -> tuple[str, datetime, datetime]:
        """Start a reset and the script; wait until both have cut power.

        Return the run id, the stored discharge deadline and when the script started.
        """
        for entity_id, want in (
            (seed.THERMOSTAT, "heat"),
            (seed.BREAKER, "on"),
            (PEER_THERMOSTAT, "heat"),
            (PEER_BREAKER, "on"),
            (self.entities["phase"], "idle"),
        ):
            self.wait_for(f"{entity_id} {want}", partial(self.since, entity_id, want), 30)
        response = self.api.call(
            f"{DOMAIN}.start_reset",
            {"config_entry_id": self.entry_id, "reason": reason},
            response=True,
        )
        self.api.call("script.turn_on", {"entity_id": PEER_SCRIPT})
        self.wait_for(
            "the reset to reach discharging",
            lambda: self.phase() == "discharging" and self.value(seed.BREAKER) == "off",
            self.clock.real(timedelta(minutes=5)) + 10,
        )
        self.wait_for("the script to cut its breaker", partial(self.since, PEER_BREAKER, "off"), 30)
        script = self.api.state(PEER_SCRIPT) or {}
        script_start = _parse(script.get("attributes", {}).get("last_triggered"))
        if script_start is None:
            msg = f"the script has not run: {script}"
            raise HarnessError(msg)
        deadline = self.wait_for("the stored deadline", self.stored_deadline, 10)
        sensor = _parse(self.value(self.entities["phase_ends_at"]))
        self.check(
            scenario,
            "stored deadline = phase_ends sensor = power off + 30 min",
            sensor is not None
            and abs((sensor - deadline).total_seconds()) < 1
            and (self.stored_run() or {}).get("discharge_minutes") == 30,
            f"deadline {_hm(deadline)}, sensor {_hm(sensor)}",
        )
        self.check(
            scenario,
            "script running in its delay",
            self.value(PEER_SCRIPT) == "on",
            f"started {_hm(script_start)}",
        )
        return str(response["run_id"]), deadline, script_start

    def scenario_restart(self) -> None:
        """`kill -9` during the discharge wait, then start again."""
        name = "restart"
        t0 = self.clock.now()
        run_id, deadline, script_start = self.start_both(name, "e2e: kill -9 during the wait")
        # The simulated devices are input_booleans that Home Assistant restores from its own
        # state file, written every 15 min and at a clean stop. Real breakers keep their state
        # through a crash by themselves; save it now so the simulation does too.
        self.api.call("homeassistant.save_persistent_states", {})
        killed_at = self.clock.now()
        self.hass.kill9()
        self.check(
            name,
            "killed (SIGKILL) during the discharge wait",
            killed_at < deadline,
            f"at {_hm(killed_at)}, {(deadline - killed_at).total_seconds() / 60:.1f} fake min "
            "before the deadline",
        )
        stored = self.stored_run() or {}
        self.check(
            name,
            "run on disk after the kill: discharging",
            stored.get("run_id") == run_id and stored.get("phase") == "discharging",
            f"phase {stored.get('phase')}",
        )
        self.start_fast()
        back_at = self.clock.now()
        phase = self.phase()
        ends = _parse(self.value(self.entities["phase_ends_at"]))
        self.check(
            name,
            "resumed in discharging with the ORIGINAL deadline",
            phase == "discharging"
            and ends is not None
            and abs((ends - deadline).total_seconds()) < 1,
            f"running again at {_hm(back_at)}: phase {phase}, ends {_hm(ends)}, "
            f"original {_hm(deadline)}",
        )
        stored = self.stored_run() or {}
        self.check(
            name,
            "stored deadline unchanged, resumed once",
            self.stored_deadline() == deadline and stored.get("resumed") == 1,
            f"resumed {stored.get('resumed')}",
        )
        self.observe(
            name,
            "after the restart",
            f"script {self.value(PEER_SCRIPT)}, breaker {self.value(PEER_BREAKER)}, "
            f"thermostat {self.value(PEER_THERMOSTAT)}",
        )
        self.finish_run(name, run_id, deadline, 1, t0)
        # The script would have turned its breaker on at script_start + 30 min: well past now.
        self.wait_fake(
            "the script's turn-on time", script_start + SCRIPT_DELAY + timedelta(minutes=2)
        )
        peer_on = _on_after_off(self.changes(PEER_BREAKER, t0))
        now = self.clock.now()
        self.observe(
            name,
            "breaker",
            f"off at {_hm(script_start)}; "
            + (
                f"on at {_hm(peer_on)}"
                if peer_on
                else f"still {self.value(PEER_BREAKER)} at {_hm(now)}, "
                f"{(now - script_start).total_seconds() / 60:.0f} fake min after the script started"
            ),
        )
        self.observe(
            name,
            "thermostat",
            f"{self.value(PEER_THERMOSTAT)} (was heat); script {self.value(PEER_SCRIPT)}",
        )
        # Put the peer back by hand, as its owner would once they notice.
        self.api.call("switch.turn_on", {"entity_id": PEER_BREAKER})
        self.api.call("climate.set_hvac_mode", {"entity_id": PEER_THERMOSTAT, "hvac_mode": "heat"})

    def scenario_offline(self) -> None:
        """Both breakers unavailable from the wait until some minutes after power was due back."""
        name = "offline"
        t0 = self.clock.now()
        run_id, deadline, script_start = self.start_both(name, "e2e: breaker offline at restore")
        for entity_id in (DEMO_OFFLINE, PEER_OFFLINE):
            self.api.call("input_boolean.turn_on", {"entity_id": entity_id})
        self.wait_for(
            "both breakers unavailable",
            lambda: self.value(seed.BREAKER) == self.value(PEER_BREAKER) == "unavailable",
            10,
        )
        offline_at = self.clock.now()
        self.check(
            name,
            "breaker unavailable during the wait",
            offline_at < deadline,
            f"from {_hm(offline_at)}, deadline {_hm(deadline)}",
        )
        due = max(deadline, script_start + SCRIPT_DELAY)
        self.wait_fake("power to be due back", due + OFFLINE_PAST_DUE)
        self.wait_for("the script to end", lambda: self.value(PEER_SCRIPT) == "off", 10)
        phase = self.phase()
        notes = self.notifications()
        self.check(
            name,
            "waits in restoring_power while the breaker is unavailable, with a notification",
            phase == "restoring_power" and f"{DOMAIN}_{self.entry_id}_power" in notes,
            f"phase {phase} at {_hm(self.clock.now())}; notifications {notes}",
        )
        self.check(
            name,
            "power still off past the deadline is a critical repair issue",
            f"power_not_restored_{self.entry_id}" in self.repairs(),
            f"issues {self.repairs()}",
        )
        self.check(
            name,
            "thermostat kept off while power cannot come back",
            self.value(seed.THERMOSTAT) == "off",
            f"thermostat {self.value(seed.THERMOSTAT)}",
        )
        (traces,) = self.api.ws(
            {"type": "trace/list", "domain": "script", "item_id": "peer_power_cycle"}
        )
        last = max(traces, key=lambda t: t["timestamp"]["start"])
        (trace,) = self.api.ws(
            {
                "type": "trace/get",
                "domain": "script",
                "item_id": "peer_power_cycle",
                "run_id": last["run_id"],
            }
        )
        turn_on = trace["trace"].get("sequence/3", [{}])[0]
        self.observe(
            name,
            "script run",
            f"{last['state']}, execution {last['script_execution']}, "
            f"error {last.get('error', 'none')}; its switch.turn_on step ran at "
            f"{_hm(_parse(turn_on.get('timestamp')))}, error {turn_on.get('error', 'none')}",
        )
        self.observe(
            name,
            "while the breaker is unavailable",
            f"breaker {self.value(PEER_BREAKER)}, thermostat {self.value(PEER_THERMOSTAT)}",
        )
        for entity_id in (DEMO_OFFLINE, PEER_OFFLINE):
            self.api.call("input_boolean.turn_off", {"entity_id": entity_id})
        back_at = self.wait_for(
            "the breaker back online", lambda: self.since(DEMO_OFFLINE, "off"), 10
        )
        on_at = self.wait_for(
            "our breaker back on",
            lambda: self.since(seed.BREAKER, "on"),
            self.clock.real(timedelta(minutes=5)) + 10,
        )
        self.check(
            name,
            "breaker turned on as soon as it came back",
            timedelta(0) <= on_at - back_at <= timedelta(minutes=1),
            f"back online {_hm(back_at)}, on {_hm(on_at)}",
        )
        self.finish_run(name, run_id, deadline, 2, t0)
        self.check(
            name,
            "notification dismissed and the repair issue gone",
            f"{DOMAIN}_{self.entry_id}_power" not in self.notifications()
            and f"power_not_restored_{self.entry_id}" not in self.repairs(),
            f"issues {self.repairs()}",
        )
        self.observe(
            name,
            "after the breaker came back",
            f"breaker {self.value(PEER_BREAKER)}, thermostat {self.value(PEER_THERMOSTAT)} "
            f"(hvac_action {(self.api.state(PEER_THERMOSTAT) or {}).get('attributes', {}).get('hvac_action')}) "
            f"at {_hm(self.clock.now())}",
        )

    def finish_run(
        self, scenario: str, run_id: str, deadline: datetime, records: int, since: datetime
    ) -> None:
        """Wait for the run to end; check power, thermostat and the history record."""
        span = max(deadline - self.clock.now(), timedelta(0)) + RUN_TAIL

        def _ended() -> list[dict[str, Any]] | None:
            runs = self.history()
            return runs if runs and runs[0]["run_id"] == run_id else None

        runs = self.wait_for("the run to end", _ended, self.clock.real(span) + 30, 0.5)
        record = runs[0]
        self.check(
            scenario,
            f"history: {records} record(s), this run newest, outcome succeeded",
            len(runs) == records and record["outcome"] == "succeeded",
            f"{len(runs)} record(s); outcome {record['outcome']} ({record['detail']}), "
            f"resumed {record['resumed']}",
        )
        first_on = _on_after_off(self.changes(seed.BREAKER, since))
        power_on = _parse(record["power_on_at"])
        self.check(
            scenario,
            "power not restored before the deadline",
            first_on is not None
            and first_on >= deadline
            and power_on is not None
            and power_on >= deadline,
            f"breaker first on after the cut at {_hm(first_on)} (recorder), "
            f"power_on_at {_hm(power_on)}, deadline {_hm(deadline)}",
        )
        climate = self.api.state(seed.THERMOSTAT) or {}
        saved = record.get("restored_settings") or {}
        target = climate.get("attributes", {}).get("temperature")
        self.check(
            scenario,
            "ended with the breaker on and the thermostat back to heat at its set point",
            self.value(seed.BREAKER) == "on"
            and climate.get("state") == saved.get("hvac_mode") == "heat"
            and target == saved.get("temperature"),
            f"breaker {self.value(seed.BREAKER)}, thermostat {climate.get('state')} at {target} "
            f"(saved {saved.get('hvac_mode')} at {saved.get('temperature')})",
        )


def _report(harness: Harness, error: str | None, seconds: float) -> bool:
    """Print the result block; return whether everything passed."""
    import homeassistant.const as ha_const

    checks = [r for r in harness.results if r.ok is not None]
    failed = [r for r in checks if not r.ok]
    ok = error is None and not failed and bool(checks)
    print("\n===== e2e result =====")
    print(f"command:  scripts/e2e   date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"machine:  Python {platform.python_version()}, Home Assistant {ha_const.__version__}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; clock x{harness.speed:g}"
    )
    for scenario in ("setup", "restart", "offline", *e2e_mqtt.SCENARIOS):
        rows = [r for r in harness.results if r.scenario == scenario]
        if rows:
            print(f"-- {scenario}")
        for row in rows:
            tag = "script" if row.ok is None else ("PASS" if row.ok else "FAIL")
            print(f"  {tag:6} {row.name}{': ' if row.detail else ''}{row.detail}")
    if error:
        print(f"ERROR: {error}")
    print(
        f"e2e: {'PASS' if ok else 'FAIL'}: {len(checks) - len(failed)}/{len(checks)} checks passed"
        f" in {seconds:.0f} s"
    )
    return ok


def main() -> int:
    """Run the whole end-to-end check."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
    # The MQTT family (scripts/e2e_mqtt.py): its own heat pump on MQTT devices, same Home Assistant.
    mqtt = e2e_mqtt.Family(harness, HarnessError) if e2e_mqtt.enabled() else None
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
        harness.scenario_restart()
        harness.scenario_offline()
        if mqtt:
            mqtt.run()
        code = harness.hass.stop()
        harness.check("offline", "clean stop at the end", code == 0, f"exit code {code}")
    except (HarnessError, OSError, aiohttp.ClientError, TimeoutError, KeyError) as err:
        error = f"{type(err).__name__}: {err}"
    finally:
        if harness.hass.alive:
            harness.hass.stop(timeout=20)
        if mqtt:
            mqtt.close()
    ok = _report(harness, error, time.monotonic() - began)
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

"""The driver's state: its checks and waits, what it reads from Home Assistant, and the set-up.

The set-up: the configuration (the demo's plus the peer heat pump), onboarding (a user and its
tokens), Heat Pump Reset added through the config flow, and the starts on the fast clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import json
from pathlib import Path
import secrets
import shutil
import time
from typing import Any
import urllib.parse

import aiohttp
import client
import seed

from .api import Api
from .hass import REPO, Clock, HarnessError, Hass, free_port, http_in_store
from .report import Result

DOMAIN = "heat_pump_reset"
PEER_SCRIPT = "script.peer_power_cycle"
PEER_THERMOSTAT = "climate.peer_heat_pump"
PEER_BREAKER = "switch.peer_heat_pump_breaker"
USERNAME = "e2e"
# The integrations onboarding sets up (core_config step), in 2025.4.4 and 2026.10.4 alike.
ONBOARDING_DOMAINS = frozenset({"google_translate", "met", "radio_browser", "shopping_list"})


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
        self.port = free_port()
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

    def stored_run(self, entry_id: str | None = None) -> dict[str, Any] | None:
        """Return the active run of a heat pump (default: the demo's) as stored on disk."""
        path = self.config / ".storage" / f"{DOMAIN}.run.{entry_id or self.entry_id}"
        if not path.exists():
            return None
        active: dict[str, Any] | None = json.loads(path.read_text())["data"].get("active")
        return active

    def stored_deadline(self, entry_id: str | None = None) -> datetime | None:
        """Return the stored run's discharge deadline (confirmed off + discharge wait)."""
        run = self.stored_run(entry_id)
        if run is None or not run.get("confirmed_off_at"):
            return None
        off = datetime.fromisoformat(run["confirmed_off_at"])
        return off + timedelta(minutes=run["discharge_minutes"])

    def history(self, entry_id: str | None = None) -> list[dict[str, Any]]:
        """Return a heat pump's recorded runs (get_history over the WebSocket API)."""
        (result,) = self.api.ws(
            {
                "type": "call_service",
                "domain": DOMAIN,
                "service": "get_history",
                "service_data": {"config_entry_id": entry_id or self.entry_id},
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
            if http_in_store()
            else f"http:\n  server_host: 127.0.0.1\n  server_port: {self.port}\n"
        )
        (self.config / "packages" / "e2e_http.yaml").write_text(
            f"# Written by scripts/endtoend (scripts/e2e).\n{http}onboarding:\n", encoding="utf-8"
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

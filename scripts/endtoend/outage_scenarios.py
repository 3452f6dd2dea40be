"""The outage scenario (issue 14): a power outage with Home Assistant on a UPS, its warm-up, and a kill.

Outage protection is turned on through the options flow API, with the demo's Mains toggle as the
mains entity and its outdoor temperature slider at -5 °C. The mains go out for 70 minutes (Home
Assistant's clock): the thermostat must be set off at once; when they return the compressor's
warm-up holds it off for 70 minutes more, shown on the countdown sensor. `kill -9` during the hold:
after the start it must go on to its ORIGINAL end, then the thermostat comes back to heat. The
breaker must never be commanded (it goes unavailable with the mains, never `off`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import seed

from .harness import DOMAIN, Harness
from .hass import HarnessError
from .times import hm, parse_time

MAINS_TOGGLE = "input_boolean.demo_mains"
OUTDOOR_SLIDER = "input_number.demo_outdoor_temperature"
TRIPPED = "input_boolean.demo_breaker_tripped"
OUTAGE = timedelta(minutes=70)
# Into the hold when Home Assistant is killed.
KILLED_INTO_HOLD = timedelta(minutes=20)
# After the hold: the start-up delay, the thermostat and the verification window, with room.
TAIL = timedelta(minutes=30)
# The demo's options as the options form submits them (the defaults), and the Outages section.
SECTIONS: dict[str, dict[str, Any]] = {
    "timings": {
        "discharge_minutes": 30,
        "startup_delay_minutes": 5,
        "stop_timeout_seconds": 120,
        "switch_timeout_seconds": 30,
        "stagger_seconds": 10,
        "verify_minutes": 15,
    },
    "running": {"power_threshold": 100.0, "no_power_threshold": 5.0},
    "limits": {"max_resets_per_day": 2, "recurrence_count": 3, "recurrence_days": 30},
    "outages": {
        "outage_protection": True,
        "mains_entity": seed.MAINS,
        "outdoor_temperature_entity": seed.OUTDOOR_SENSOR,
    },
}


def turn_protection_on(h: Harness, name: str) -> None:
    """Turn outage protection on through the options flow API, as the options form does."""
    flow = h.api.post("/api/config/config_entries/options/flow", {"handler": h.entry_id})
    if flow.get("type") != "form":
        msg = f"options flow did not show its form: {flow}"
        raise HarnessError(msg)
    result = h.api.post(f"/api/config/config_entries/options/flow/{flow['flow_id']}", SECTIONS)
    h.check(
        name,
        "options flow API: outage protection on",
        result.get("type") == "create_entry",
        str(result.get("errors") or result.get("type")),
    )

    def _loaded() -> bool:
        entries = h.api.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
        return any(e["entry_id"] == h.entry_id and e["state"] == "loaded" for e in entries)

    h.wait_for("the entry to reload", _loaded, 30)


def outage(h: Harness) -> None:
    """Run a 70-minute outage at -5 °C: thermostat off, warm-up, `kill -9` during it, heat back."""
    name = "outage"
    turn_protection_on(h, name)
    h.api.call("input_number.set_value", {"entity_id": OUTDOOR_SLIDER, "value": -5})
    h.wait_for("the thermostat heating", partial(h.since, seed.THERMOSTAT, "heat"), 30)
    h.wait_for("no run", lambda: h.phase() == "idle", 30)
    t0 = h.clock.now()
    h.api.call("input_boolean.turn_off", {"entity_id": MAINS_TOGGLE})
    h.wait_for(
        "the outage run to hold the thermostat off",
        lambda: h.phase() == "mains_out" and h.value(seed.THERMOSTAT) == "off",
        h.clock.real(timedelta(minutes=2)) + 10,
    )
    h.check(name, "mains out: phase mains_out, thermostat off", True, f"at {hm(h.clock.now())}")
    h.wait_fake("the outage's end", t0 + OUTAGE)
    h.api.call("input_boolean.turn_on", {"entity_id": MAINS_TOGGLE})
    back = h.clock.now()
    h.wait_for("the warm-up", lambda: h.phase() == "warming_up", 30)
    ends = parse_time(h.value(h.entities["phase_ends_at"]))
    # The hold lasts as long as the outage did (less than the longest warm-up, 4 hours).
    h.check(
        name,
        "mains back at -5 °C after 70 min: warming_up, ends about 70 min later",
        ends is not None and abs((ends - back) - OUTAGE) < timedelta(minutes=3),
        f"mains back at {hm(back)}, hold ends {hm(ends)}",
    )
    if ends is None:
        return
    h.wait_fake("well into the hold", back + KILLED_INTO_HOLD)
    h.api.call("homeassistant.save_persistent_states", {})
    h.hass.kill9()
    stored = h.stored_run() or {}
    h.check(
        name,
        "run on disk after the kill: warming_up, its end stored",
        stored.get("phase") == "warming_up" and parse_time(stored.get("phase_ends_at")) is not None,
        f"phase {stored.get('phase')}, ends {stored.get('phase_ends_at')}",
    )
    h.start_fast()
    resumed = parse_time(h.value(h.entities["phase_ends_at"]))
    h.check(
        name,
        "resumed in warming_up with the ORIGINAL end, thermostat still off",
        h.phase() == "warming_up"
        and resumed is not None
        and abs((resumed - ends).total_seconds()) < 1
        and h.value(seed.THERMOSTAT) == "off",
        f"phase {h.phase()}, ends {hm(resumed)} (was {hm(ends)}), thermostat "
        f"{h.value(seed.THERMOSTAT)}",
    )
    h.wait_fake("a minute before the hold's end", ends - timedelta(minutes=1))
    h.check(
        name,
        "held to its end: thermostat off a minute before",
        h.phase() == "warming_up" and h.value(seed.THERMOSTAT) == "off",
        f"phase {h.phase()}, thermostat {h.value(seed.THERMOSTAT)}",
    )
    finish_outage(h, name, t0, ends)


def finish_outage(h: Harness, name: str, t0: datetime, ends: datetime) -> None:
    """Wait for the outage run's end; check the record, the heating and the untouched breaker."""

    def _ended() -> list[dict[str, Any]] | None:
        runs = h.history()
        return runs if runs and runs[0].get("trigger") == "outage" else None

    runs = h.wait_for("the outage run to end", _ended, h.clock.real(TAIL) + 30, 0.5)
    record = runs[0]
    outage_part = record.get("outage") or {}
    h.check(
        name,
        "history: the outage (mains, 70 min), the warm-up ran out, power never cut",
        outage_part.get("source") == "mains"
        and abs((outage_part.get("minutes") or 0) - 70) <= 2
        and outage_part.get("warmup_ended") == "elapsed"
        and record.get("power_cut") is False,
        f"outcome {record.get('outcome')}, outage {outage_part}, power_cut "
        f"{record.get('power_cut')}",
    )
    came_back = h.since(seed.THERMOSTAT, "heat")
    h.check(
        name,
        "thermostat back to heat after the hold, not before",
        came_back is not None and came_back >= ends and h.value(seed.THERMOSTAT) == "heat",
        f"heat since {hm(came_back)}, hold ended {hm(ends)}",
    )
    # Commanded off, the demo's breaker trips its input_boolean. Its switch may report off for a
    # moment while Home Assistant starts (the template before what it reads is restored).
    tripped = [state for state, _ in h.changes(TRIPPED, t0)]
    breaker = [state for state, _ in h.changes(seed.BREAKER, t0)]
    h.check(
        name,
        "the breaker was never commanded off (never tripped), and is on",
        "on" not in tripped and h.value(seed.BREAKER) == "on",
        f"tripped: {' -> '.join(tripped)}; switch: {' -> '.join(breaker)}",
    )

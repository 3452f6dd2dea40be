"""The scenarios, each for Heat Pump Reset and the script users write instead, at the same time.

- restart: a reset and the script start, `kill -9` during the discharge wait, start again;
- offline: a reset and the script start, both breakers go unavailable during the wait and come back
  some minutes after power was due back.

Checks on Heat Pump Reset (`h.check`) decide the exit code; what the script did is observed only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

import seed

from .harness import DOMAIN, PEER_BREAKER, PEER_SCRIPT, PEER_THERMOSTAT, Harness
from .hass import HarnessError
from .times import hm, on_after_off, parse_time

DEMO_OFFLINE = "input_boolean.demo_breaker_offline"
PEER_OFFLINE = "input_boolean.peer_breaker_offline"
# The script's delay (scripts/e2e_config/peer_heat_pump.yaml) and Heat Pump Reset's default wait.
SCRIPT_DELAY = timedelta(minutes=30)
# How long the breakers stay unavailable after power was due back, in the offline scenario.
OFFLINE_PAST_DUE = timedelta(minutes=5)
# Time on Home Assistant's clock (after power is back) for the start-up delay, the thermostat and
# the verification window (5 + 15 min by default), with room to spare.
RUN_TAIL = timedelta(minutes=30)


def start_both(h: Harness, scenario: str, reason: str) -> tuple[str, datetime, datetime]:
    """Start a reset and the script; wait until both have cut power.

    Return the run id, the stored discharge deadline and when the script started.
    """
    for entity_id, want in (
        (seed.THERMOSTAT, "heat"),
        (seed.BREAKER, "on"),
        (PEER_THERMOSTAT, "heat"),
        (PEER_BREAKER, "on"),
        (h.entities["phase"], "idle"),
    ):
        h.wait_for(f"{entity_id} {want}", partial(h.since, entity_id, want), 30)
    response = h.api.call(
        f"{DOMAIN}.start_reset",
        {"config_entry_id": h.entry_id, "reason": reason},
        response=True,
    )
    h.api.call("script.turn_on", {"entity_id": PEER_SCRIPT})
    h.wait_for(
        "the reset to reach discharging",
        lambda: h.phase() == "discharging" and h.value(seed.BREAKER) == "off",
        h.clock.real(timedelta(minutes=5)) + 10,
    )
    h.wait_for("the script to cut its breaker", partial(h.since, PEER_BREAKER, "off"), 30)
    script = h.api.state(PEER_SCRIPT) or {}
    script_start = parse_time(script.get("attributes", {}).get("last_triggered"))
    if script_start is None:
        msg = f"the script has not run: {script}"
        raise HarnessError(msg)
    deadline = h.wait_for("the stored deadline", h.stored_deadline, 10)
    sensor = parse_time(h.value(h.entities["phase_ends_at"]))
    h.check(
        scenario,
        "stored deadline = phase_ends sensor = power off + 30 min",
        sensor is not None
        and abs((sensor - deadline).total_seconds()) < 1
        and (h.stored_run() or {}).get("discharge_minutes") == 30,
        f"deadline {hm(deadline)}, sensor {hm(sensor)}",
    )
    h.check(
        scenario,
        "script running in its delay",
        h.value(PEER_SCRIPT) == "on",
        f"started {hm(script_start)}",
    )
    return str(response["run_id"]), deadline, script_start


def restart(h: Harness) -> None:
    """`kill -9` during the discharge wait, then start again."""
    name = "restart"
    t0 = h.clock.now()
    run_id, deadline, script_start = start_both(h, name, "e2e: kill -9 during the wait")
    # The simulated devices are input_booleans that Home Assistant restores from its own
    # state file, written every 15 min and at a clean stop. Real breakers keep their state
    # through a crash by themselves; save it now so the simulation does too.
    h.api.call("homeassistant.save_persistent_states", {})
    killed_at = h.clock.now()
    h.hass.kill9()
    h.check(
        name,
        "killed (SIGKILL) during the discharge wait",
        killed_at < deadline,
        f"at {hm(killed_at)}, {(deadline - killed_at).total_seconds() / 60:.1f} fake min "
        "before the deadline",
    )
    stored = h.stored_run() or {}
    h.check(
        name,
        "run on disk after the kill: discharging",
        stored.get("run_id") == run_id and stored.get("phase") == "discharging",
        f"phase {stored.get('phase')}",
    )
    h.start_fast()
    back_at = h.clock.now()
    phase = h.phase()
    ends = parse_time(h.value(h.entities["phase_ends_at"]))
    h.check(
        name,
        "resumed in discharging with the ORIGINAL deadline",
        phase == "discharging" and ends is not None and abs((ends - deadline).total_seconds()) < 1,
        f"running again at {hm(back_at)}: phase {phase}, ends {hm(ends)}, original {hm(deadline)}",
    )
    stored = h.stored_run() or {}
    h.check(
        name,
        "stored deadline unchanged, resumed once",
        h.stored_deadline() == deadline and stored.get("resumed") == 1,
        f"resumed {stored.get('resumed')}",
    )
    h.observe(
        name,
        "after the restart",
        f"script {h.value(PEER_SCRIPT)}, breaker {h.value(PEER_BREAKER)}, "
        f"thermostat {h.value(PEER_THERMOSTAT)}",
    )
    finish_run(h, name, run_id, deadline, records=1, since=t0)
    # The script would have turned its breaker on at script_start + 30 min: well past now.
    h.wait_fake("the script's turn-on time", script_start + SCRIPT_DELAY + timedelta(minutes=2))
    peer_on = on_after_off(h.changes(PEER_BREAKER, t0))
    now = h.clock.now()
    h.observe(
        name,
        "breaker",
        f"off at {hm(script_start)}; "
        + (
            f"on at {hm(peer_on)}"
            if peer_on
            else f"still {h.value(PEER_BREAKER)} at {hm(now)}, "
            f"{(now - script_start).total_seconds() / 60:.0f} fake min after the script started"
        ),
    )
    h.observe(
        name,
        "thermostat",
        f"{h.value(PEER_THERMOSTAT)} (was heat); script {h.value(PEER_SCRIPT)}",
    )
    # Put the peer back by hand, as its owner would once they notice.
    h.api.call("switch.turn_on", {"entity_id": PEER_BREAKER})
    h.api.call("climate.set_hvac_mode", {"entity_id": PEER_THERMOSTAT, "hvac_mode": "heat"})


def offline(h: Harness) -> None:
    """Both breakers unavailable from the wait until some minutes after power was due back."""
    name = "offline"
    t0 = h.clock.now()
    run_id, deadline, script_start = start_both(h, name, "e2e: breaker offline at restore")
    for entity_id in (DEMO_OFFLINE, PEER_OFFLINE):
        h.api.call("input_boolean.turn_on", {"entity_id": entity_id})
    h.wait_for(
        "both breakers unavailable",
        lambda: h.value(seed.BREAKER) == h.value(PEER_BREAKER) == "unavailable",
        10,
    )
    offline_at = h.clock.now()
    h.check(
        name,
        "breaker unavailable during the wait",
        offline_at < deadline,
        f"from {hm(offline_at)}, deadline {hm(deadline)}",
    )
    due = max(deadline, script_start + SCRIPT_DELAY)
    h.wait_fake("power to be due back", due + OFFLINE_PAST_DUE)
    h.wait_for("the script to end", lambda: h.value(PEER_SCRIPT) == "off", 10)
    phase = h.phase()
    notes = h.notifications()
    h.check(
        name,
        "waits in restoring_power while the breaker is unavailable, with a notification",
        phase == "restoring_power" and f"{DOMAIN}_{h.entry_id}_power" in notes,
        f"phase {phase} at {hm(h.clock.now())}; notifications {notes}",
    )
    h.check(
        name,
        "power still off past the deadline is a critical repair issue",
        f"power_not_restored_{h.entry_id}" in h.repairs(),
        f"issues {h.repairs()}",
    )
    h.check(
        name,
        "thermostat kept off while power cannot come back",
        h.value(seed.THERMOSTAT) == "off",
        f"thermostat {h.value(seed.THERMOSTAT)}",
    )
    (traces,) = h.api.ws({"type": "trace/list", "domain": "script", "item_id": "peer_power_cycle"})
    last = max(traces, key=lambda t: t["timestamp"]["start"])
    (trace,) = h.api.ws(
        {
            "type": "trace/get",
            "domain": "script",
            "item_id": "peer_power_cycle",
            "run_id": last["run_id"],
        }
    )
    turn_on = trace["trace"].get("sequence/3", [{}])[0]
    h.observe(
        name,
        "script run",
        f"{last['state']}, execution {last['script_execution']}, "
        f"error {last.get('error', 'none')}; its switch.turn_on step ran at "
        f"{hm(parse_time(turn_on.get('timestamp')))}, error {turn_on.get('error', 'none')}",
    )
    h.observe(
        name,
        "while the breaker is unavailable",
        f"breaker {h.value(PEER_BREAKER)}, thermostat {h.value(PEER_THERMOSTAT)}",
    )
    for entity_id in (DEMO_OFFLINE, PEER_OFFLINE):
        h.api.call("input_boolean.turn_off", {"entity_id": entity_id})
    back_at = h.wait_for("the breaker back online", lambda: h.since(DEMO_OFFLINE, "off"), 10)
    on_at = h.wait_for(
        "our breaker back on",
        lambda: h.since(seed.BREAKER, "on"),
        h.clock.real(timedelta(minutes=5)) + 10,
    )
    h.check(
        name,
        "breaker turned on as soon as it came back",
        timedelta(0) <= on_at - back_at <= timedelta(minutes=1),
        f"back online {hm(back_at)}, on {hm(on_at)}",
    )
    finish_run(h, name, run_id, deadline, records=2, since=t0)
    h.check(
        name,
        "notification dismissed and the repair issue gone",
        f"{DOMAIN}_{h.entry_id}_power" not in h.notifications()
        and f"power_not_restored_{h.entry_id}" not in h.repairs(),
        f"issues {h.repairs()}",
    )
    h.observe(
        name,
        "after the breaker came back",
        f"breaker {h.value(PEER_BREAKER)}, thermostat {h.value(PEER_THERMOSTAT)} "
        f"(hvac_action {(h.api.state(PEER_THERMOSTAT) or {}).get('attributes', {}).get('hvac_action')}) "
        f"at {hm(h.clock.now())}",
    )


def finish_run(
    h: Harness, scenario: str, run_id: str, deadline: datetime, *, records: int, since: datetime
) -> None:
    """Wait for the run to end; check power, thermostat and the history record."""
    span = max(deadline - h.clock.now(), timedelta(0)) + RUN_TAIL

    def _ended() -> list[dict[str, Any]] | None:
        runs = h.history()
        return runs if runs and runs[0]["run_id"] == run_id else None

    runs = h.wait_for("the run to end", _ended, h.clock.real(span) + 30, 0.5)
    record = runs[0]
    h.check(
        scenario,
        f"history: {records} record(s), this run newest, outcome succeeded",
        len(runs) == records and record["outcome"] == "succeeded",
        f"{len(runs)} record(s); outcome {record['outcome']} ({record['detail']}), "
        f"resumed {record['resumed']}",
    )
    first_on = on_after_off(h.changes(seed.BREAKER, since))
    power_on = parse_time(record["power_on_at"])
    h.check(
        scenario,
        "power not restored before the deadline",
        first_on is not None
        and first_on >= deadline
        and power_on is not None
        and power_on >= deadline,
        f"breaker first on after the cut at {hm(first_on)} (recorder), "
        f"power_on_at {hm(power_on)}, deadline {hm(deadline)}",
    )
    climate = h.api.state(seed.THERMOSTAT) or {}
    saved = record.get("restored_settings") or {}
    target = climate.get("attributes", {}).get("temperature")
    h.check(
        scenario,
        "ended with the breaker on and the thermostat back to heat at its set point",
        h.value(seed.BREAKER) == "on"
        and climate.get("state") == saved.get("hvac_mode") == "heat"
        and target == saved.get("temperature"),
        f"breaker {h.value(seed.BREAKER)}, thermostat {climate.get('state')} at {target} "
        f"(saved {saved.get('hvac_mode')} at {saved.get('temperature')})",
    )

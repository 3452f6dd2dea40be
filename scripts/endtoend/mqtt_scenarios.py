"""The four scenarios of the MQTT family (see `mqtt`), one reset each, checked like the others.

- mqtt-happy: a reset end to end over MQTT;
- mqtt-restart: `kill -9` of Home Assistant during the wait; the relays are `unknown` after the start;
- mqtt-offline: relay A drops off the network (last will) during the wait, back 3 min after power
  was due back;
- mqtt-slow: relay B answers in 150-160 s, slower than the confirm timeout, at the restore.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .hass import HarnessError
from .mqtt import (
    CONFIRM_TIMEOUT,
    DEVICE,
    DOMAIN,
    NORMAL_DELAY,
    RELAY_A,
    RELAY_B,
    RELAYS,
    THERMOSTAT,
    Family,
)
from .times import back_from_unavailable, hm, on_after_off, parse_time

SLOW_DELAY = "150 160"  # seconds on Home Assistant's clock: slower than CONFIRM_TIMEOUT
STAGGER = timedelta(seconds=10)
# How long relay A stays offline after power was due back, in mqtt-offline.
OFFLINE_PAST_DUE = timedelta(minutes=3)
# How late after the deadline (or after Home Assistant is back, if later) power may come back.
POWER_GRACE = timedelta(minutes=2)
# Time after power is back for the start-up delay, the thermostat and the verification window.
RUN_TAIL = timedelta(minutes=30)


def run(f: Family) -> None:
    """Run the four scenarios (the clock is fast)."""
    happy(f)
    restart(f)
    offline(f)
    slow(f)


def start_reset(f: Family, scenario: str, reason: str) -> tuple[str, datetime, datetime]:
    """Start a reset once the unit heats with power on; wait for the cut.

    Return the run id, the stored discharge deadline and when it started.
    """
    # Each start of Home Assistant leaves the relays `unknown` (state not retained) until they
    # report: make them report, as a relay does when someone switches it by hand.
    for relay in RELAYS:
        f.control(relay, "report")
    f.h.wait_for(
        "the MQTT heat pump heating with both relays on, idle",
        lambda: all(f.value(e) == "on" for e in RELAYS) and f.heating() and f.phase() == "idle",
        30,
    )
    t0 = f.h.clock.now()
    response = f.h.api.call(
        f"{DOMAIN}.start_reset",
        {"config_entry_id": f.entry_id, "reason": reason},
        response=True,
    )
    run_id = str(response["run_id"])

    def _cut_or_ended() -> str | None:
        if f.phase() == "discharging" and all(f.value(e) == "off" for e in RELAYS):
            return "cut"
        runs = f.history()
        return "ended" if runs and runs[0]["run_id"] == run_id else None

    if (
        f.h.wait_for(
            "the cut over MQTT",
            _cut_or_ended,
            f.h.clock.real(timedelta(minutes=5)) + 20,
            0.3,
        )
        == "ended"
    ):
        record = f.history()[0]
        msg = f"the run ended before the discharge wait: {record['outcome']} ({record['detail']})"
        raise HarnessError(msg)
    deadline = f.h.wait_for("the stored deadline", f.stored_deadline, 10)
    climate = f.h.api.state(THERMOSTAT) or {}
    f.h.check(
        scenario,
        "cut over MQTT: thermostat off and idle, both relays off, discharge wait 30 min",
        climate.get("state") == "off"
        and climate.get("attributes", {}).get("hvac_action") == "off"
        and (f.stored_run() or {}).get("discharge_minutes") == 30,
        f"started {hm(t0)}, deadline {hm(deadline)}",
    )
    return run_id, deadline, t0


def wait_power(f: Family, after: datetime) -> dict[str, datetime | None]:
    """Wait (bounded) until both relays are on, up to `after` + POWER_GRACE; return when."""
    until = after + POWER_GRACE
    try:
        f.h.wait_for(
            "both relays on",
            lambda: all(f.value(e) == "on" for e in RELAYS),
            f.h.clock.real(max(until - f.h.clock.now(), timedelta(0))) + 5,
            0.1,
        )
    except HarnessError:
        if not f.h.hass.alive:
            raise
    return {e: parse_time((f.h.api.state(e) or {}).get("last_changed")) for e in RELAYS}


def finish(f: Family, scenario: str, run_id: str, deadline: datetime, since: datetime) -> None:
    """Wait for the run to end; check power, thermostat and the history record."""
    f.records += 1
    span = max(deadline - f.h.clock.now(), timedelta(0)) + RUN_TAIL

    def _ended() -> list[dict[str, Any]] | None:
        runs = f.history()
        return runs if runs and runs[0]["run_id"] == run_id else None

    runs = f.h.wait_for("the run to end", _ended, f.h.clock.real(span) + 30, 0.5)
    record = runs[0]
    f.h.check(
        scenario,
        f"history: {f.records} record(s), this run newest, outcome succeeded",
        len(runs) == f.records and record["outcome"] == "succeeded",
        f"{len(runs)} record(s); outcome {record['outcome']} ({record['detail']}), "
        f"resumed {record['resumed']}",
    )
    first_on = {e: on_after_off(f.changes(e, since)) for e in RELAYS}
    f.h.check(
        scenario,
        "no relay on before the deadline",
        all(on is not None and on >= deadline for on in first_on.values()),
        ", ".join(f"{DEVICE[e]} on at {hm(on)}" for e, on in first_on.items())
        + f" (recorder), deadline {hm(deadline)}",
    )
    climate = f.h.api.state(THERMOSTAT) or {}
    saved = record.get("restored_settings") or {}
    f.h.check(
        scenario,
        "ended with both relays on and the thermostat heating at its set point",
        all(f.value(e) == "on" for e in RELAYS)
        and climate.get("state") == saved.get("hvac_mode") == "heat"
        and climate.get("attributes", {}).get("temperature") == saved.get("temperature"),
        f"relays {[f.value(e) for e in RELAYS]}, thermostat {climate.get('state')} at "
        f"{climate.get('attributes', {}).get('temperature')} "
        f"({climate.get('attributes', {}).get('hvac_action')})",
    )


def happy(f: Family) -> None:
    """Run a reset end to end over MQTT."""
    name = "mqtt-happy"
    run_id, deadline, t0 = start_reset(f, name, "e2e: MQTT happy path")
    on = wait_power(f, deadline)
    f.h.check(
        name,
        "power back at the deadline, relay A then relay B",
        on[RELAY_A] is not None
        and on[RELAY_B] is not None
        and deadline <= on[RELAY_A] <= on[RELAY_B] <= deadline + POWER_GRACE,
        ", ".join(f"{DEVICE[e]} on {hm(w)}" for e, w in on.items()) + f", deadline {hm(deadline)}",
    )
    finish(f, name, run_id, deadline, t0)


def restart(f: Family) -> None:
    """`kill -9` during the wait; after the start the relays are `unknown`; power at the deadline."""
    name = "mqtt-restart"
    run_id, deadline, t0 = start_reset(f, name, "e2e: MQTT kill -9, relay state not retained")
    killed_at = f.h.clock.now()
    f.h.hass.kill9()
    f.h.check(
        name,
        "Home Assistant killed (SIGKILL) during the discharge wait",
        killed_at < deadline and (f.stored_run() or {}).get("phase") == "discharging",
        f"at {hm(killed_at)}, {(deadline - killed_at).total_seconds() / 60:.1f} fake min "
        "before the deadline",
    )
    f.h.start_fast()
    back_at = f.h.clock.now()
    f.h.wait_for(
        "the relays' availability (retained last will topic)",
        lambda: all(f.value(e) not in (None, "unavailable") for e in RELAYS),
        30,
    )

    def _after() -> dict[str, list[tuple[str, datetime]]] | None:
        # The recorder's rows since the kill, once each relay has one after `unavailable`
        # (its state at the start, until the mqtt entry gets the retained availability topic).
        rows = {e: f.changes(e, killed_at) for e in RELAYS}
        return rows if all(map(back_from_unavailable, rows.values())) else None

    rows = f.h.wait_for("the relays' states after the start (recorder)", _after, 60, 0.5)
    after = {e: [s for s, _ in v] for e, v in rows.items()}
    available_at = max(w for w in map(back_from_unavailable, rows.values()) if w)
    f.h.check(
        name,
        "after the start the relays are unknown (state not retained), not off",
        all("unknown" in states for states in after.values()),
        ", ".join(f"{DEVICE[e]} {' > '.join(s)}" for e, s in after.items())
        + f"; running again at {hm(back_at)}, relays available {hm(available_at)}",
    )
    # On a slow machine Home Assistant may be back (and its mqtt entry connected) only after
    # the deadline: then power is due as soon as the relays are available again.
    due = max(deadline, available_at)
    on = wait_power(f, due)
    ok = all(w is not None and w >= deadline for w in on.values()) and all(
        f.value(e) == "on" for e in RELAYS
    )
    f.h.check(
        name,
        "power back at the deadline although the relays were unknown",
        ok,
        ", ".join(f"{DEVICE[e]} {f.value(e)} since {hm(w)}" for e, w in on.items())
        + f"; deadline {hm(deadline)}, phase {f.phase()} at {hm(f.h.clock.now())}",
    )
    if not ok:
        # What ends the wait in real life: the relays report (Tasmota's TelePeriod, a restart).
        print(f"e2e: [{name}] the relays report their state now, so the run can end")
        for relay in RELAYS:
            f.control(relay, "report")
    finish(f, name, run_id, deadline, t0)


def offline(f: Family) -> None:
    """Relay A offline (last will) from the wait until 3 min after power was due back."""
    name = "mqtt-offline"
    run_id, deadline, t0 = start_reset(f, name, "e2e: MQTT relay offline at restore")
    f.kill_device(RELAY_A)
    f.h.wait_for("relay A unavailable (last will)", lambda: f.value(RELAY_A) == "unavailable", 10)
    offline_at = f.h.clock.now()
    f.h.check(
        name,
        "relay A offline by its last will during the wait",
        offline_at < deadline,
        f"unavailable from {hm(offline_at)}, deadline {hm(deadline)}",
    )
    f.h.wait_fake("power to be due back", deadline + OFFLINE_PAST_DUE)
    phase = f.phase()
    f.h.check(
        name,
        "waits in restoring_power while relay A is offline; thermostat kept off",
        phase == "restoring_power"
        and f.value(RELAY_A) == "unavailable"
        and f.value(THERMOSTAT) == "off",
        f"phase {phase}, relay A {f.value(RELAY_A)}, relay B {f.value(RELAY_B)}, "
        f"thermostat {f.value(THERMOSTAT)} at {hm(f.h.clock.now())}",
    )
    f.start_device(RELAY_A)
    back = f.h.wait_for(
        "relay A back online (recorder)",
        lambda: back_from_unavailable(f.changes(RELAY_A, offline_at - timedelta(minutes=1))),
        30,
        0.2,
    )
    on = wait_power(f, back)
    f.h.check(
        name,
        "relay A turned on as soon as it came back; relay B on",
        on[RELAY_A] is not None
        and on[RELAY_B] is not None
        and timedelta(0) <= on[RELAY_A] - back <= timedelta(minutes=1),
        f"back online {hm(back)}; " + ", ".join(f"{DEVICE[e]} on {hm(w)}" for e, w in on.items()),
    )
    finish(f, name, run_id, deadline, t0)


def slow(f: Family) -> None:
    """Relay B answers in 150-160 s at the restore, slower than the confirm timeout."""
    name = "mqtt-slow"
    run_id, deadline, t0 = start_reset(f, name, "e2e: MQTT relay slower than the timeout")
    f.control(RELAY_B, "delay", SLOW_DELAY)
    on = wait_power(f, deadline + CONFIRM_TIMEOUT + STAGGER + timedelta(minutes=1))
    a, b = on[RELAY_A], on[RELAY_B]
    f.h.check(
        name,
        "relay B confirmed after the confirm timeout; the restore waited for it",
        a is not None and b is not None and b - a > CONFIRM_TIMEOUT + STAGGER,
        f"relay A on {hm(a)}, relay B on {hm(b)} "
        f"({(b - a).total_seconds() if a and b else float('nan'):.0f} s later; stagger "
        f"{STAGGER.total_seconds():.0f} s, confirm timeout {CONFIRM_TIMEOUT.total_seconds():.0f} s)",
    )
    f.control(RELAY_B, "delay", NORMAL_DELAY)
    finish(f, name, run_id, deadline, t0)

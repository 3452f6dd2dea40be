"""Fault matrix: every fault injected in every phase of a run, checked against the safety invariants.

I1: power is never cut unless the thermostat reports off and idle (and, with a sensor, no load).
I2: power is never restored before the discharge deadline, except after a cancel, a person (or the
    device itself) turning a breaker on, the entry being removed, or a run that found power still
    flowing (the sensor above "no power" with the breakers off: power was already there, issue 13).
I3: every run ends with every breaker on, the thermostat settings back (unless a person changed
    them) and exactly one history record; and nothing logs an unhandled exception.
I4: an outage run (issue 14: outage protection on, the mains entity going off) never commands a
    power switch (no switch action from our context, no switch state changed by us), and ends
    with the thermostat settings back (unless a person changed them), exactly one history record,
    and the outage recorded in it (source `mains`, its start); a warm-up hold after a long outage
    in the cold keeps the thermostat off until its deadline (across restarts), unless a person
    changed the thermostat, a cancel or the entry's removal came first, or the run failed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator, Iterator
import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)
import voluptuous as vol

from custom_components.heat_pump_reset import power, waiting, watching
from custom_components.heat_pump_reset.const import (
    CONF_FAULT_ENTITIES,
    CONF_MAINS_ENTITY,
    CONF_OUTAGE_PROTECTION,
    CONF_OUTDOOR_TEMPERATURE,
    CONF_POWER_SENSOR,
    CONF_STAGGER_SECONDS,
    CONF_STARTUP_DELAY_MINUTES,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    DOMAIN,
    MAX_WARMUP_MINUTES,
)
from custom_components.heat_pump_reset.run import Phase, Run, Trigger
from custom_components.heat_pump_reset.running import ACTIVE_ACTIONS

from .harness import restarts
from .harness.circuit import Circuit
from .harness.driving import advance, set_power, settle, store_key, stored_history
from .harness.entity_ids import SENSOR, SWITCH_A, SWITCH_B, THERMOSTAT
from .harness.equipment import SAVED, HeatPump, thermostat_settings, touched
from .harness.fault_tally import FAULT_MATRIX, FAULT_MATRIX_CELLS
from .harness.forms import sectioned
from .harness.holding import Scene, StorePause
from .harness.timings import DISCHARGE

THRESHOLD = 100.0
FAULT_SENSOR = "sensor.outdoor_unit_error"
# The oracle's own reading of the sensor, written here from the units' definitions (not the
# integration's converter): each unit's size in W or A, and the default threshold of each kind.
_UNITS: dict[str, tuple[str, float]] = {
    "W": ("power", 1.0),
    "kW": ("power", 1000.0),
    "mW": ("power", 0.001),
    "A": ("current", 1.0),
    "mA": ("current", 0.001),
}
_THRESHOLDS = {"power": THRESHOLD, "current": 0.5}
# The default "no power" level of each kind (issue 13).
_NO_POWER = {"power": 5.0, "current": 0.05}


def _size(reading: Any) -> tuple[str, float] | None:
    """Return a sensor state's kind and size in W or A; None when it is not a number in a known unit."""
    if reading is None or reading.attributes.get("unit_of_measurement") not in _UNITS:
        return None
    kind, size = _UNITS[reading.attributes["unit_of_measurement"]]
    try:
        value = float(reading.state) * size
    except ValueError:
        return None
    return (kind, abs(value)) if value == value else None


def _idle_reading(reading: Any) -> bool:
    """Whether a sensor state proves the unit idle: a number in a known unit, small in size."""
    found = _size(reading)
    return found is not None and found[1] <= _THRESHOLDS[found[0]]


def _power_reading(reading: Any) -> bool:
    """Whether a sensor state shows power on the circuit: above the "no power" level."""
    found = _size(reading)
    return found is not None and found[1] > _NO_POWER[found[0]]


STEP = timedelta(minutes=1)
# A fault that makes a device misbehave lasts this long, then the device recovers.
HOLD = timedelta(minutes=3)
# A thermostat that refuses or raises recovers within the integration's two restore attempts.
SHORT_HOLD = timedelta(seconds=60)
# Longest any scenario may take to end once its faults are cleared (thermostat return is 60 min).
MAX_RUN = timedelta(hours=3)
# The test clock fires timers up to 0.5 s early (async_fire_time_changed): allow one second.
TOLERANCE = timedelta(seconds=1)
# Details of a cut that did not complete: those breakers already off come back at once by design.
CUT_ROLLBACK = (
    "switch_did_not_turn_off",
    "switch_unavailable",
    "unit_started_before_cut",
    "thermostat_unavailable_before_cut",
)
MISSING = ("unavailable", "unknown")


# --- The timeline: every state change of the equipment, and the invariants on it ---------------


@dataclass
class Change:
    """One recorded state change."""

    when: datetime
    entity_id: str
    old: str | None
    new: str | None
    source: str  # "integration", "person" or "external" (the device itself, injected by the test)


@dataclass
class Timeline:
    """Records the equipment's state changes; checks I1 as they happen."""

    hass: HomeAssistant
    sensor: bool
    person: Context
    changes: list[Change] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    excuses: list[tuple[datetime, str]] = field(default_factory=list)
    person_settings: dict[str, Any] | None = None
    injecting: bool = False
    # When the sensor changed, and whether it then showed power on the circuit.
    readings: list[tuple[datetime, bool]] = field(default_factory=list)

    @contextlib.contextmanager
    def external(self) -> Iterator[None]:
        """Label the (synchronous) state changes made inside as the device's own."""
        self.injecting = True
        try:
            yield
        finally:
            self.injecting = False

    def excuse(self, why: str) -> None:
        """Note something that allows power back before the deadline (cancel, removal)."""
        self.excuses.append((dt_util.utcnow(), why))

    @callback
    def record(self, event: Event) -> None:
        """Record a change of the equipment; check I1 on every cut."""
        entity_id = event.data["entity_id"]
        if entity_id not in (SWITCH_A, SWITCH_B, THERMOSTAT, SENSOR):
            return
        old, new = event.data["old_state"], event.data["new_state"]
        if entity_id == SENSOR:
            self.readings.append((dt_util.utcnow(), _power_reading(new)))
        if event.context.user_id == self.person.user_id:
            source = "person"
        elif self.injecting:
            source = "external"
        else:
            source = "integration"
        change = Change(
            dt_util.utcnow(),
            entity_id,
            old.state if old else None,
            new.state if new else None,
            source,
        )
        self.changes.append(change)
        if source == "integration" and change.new == "off" and change.old != "off":
            if entity_id == THERMOSTAT:
                return
            self._check_cut(change)

    def _check_cut(self, change: Change) -> None:
        """I1: at the moment a breaker goes off, the thermostat is off and idle, the unit unloaded."""
        climate = self.hass.states.get(THERMOSTAT)
        action = climate.attributes.get("hvac_action") if climate else None
        if climate is None or climate.state != "off" or action in ACTIVE_ACTIONS:
            self.violations.append(
                f"I1: {change.entity_id} cut while the thermostat was "
                f"{climate.state if climate else None}/{action}"
            )
        if self.sensor and not _idle_reading(self.hass.states.get(SENSOR)):
            reading = self.hass.states.get(SENSOR)
            self.violations.append(f"I1: {change.entity_id} cut with the sensor at {reading}")

    def check_i2(self, outcome: str | None, detail: str | None) -> None:
        """I2: no breaker back on by the integration before the last cut plus the discharge wait."""
        switches = (SWITCH_A, SWITCH_B)
        cuts = [
            c
            for c in self.changes
            if c.source == "integration" and c.entity_id in switches and c.new == "off"
        ]
        if not cuts:
            return
        cut_entities = {c.entity_id for c in cuts}
        if (
            outcome == "failed"
            and (detail or "").startswith(CUT_ROLLBACK)
            and cut_entities != set(switches)
        ):
            # The cut never completed: no discharge wait began, the breakers off come back at once.
            return
        deadline = max(c.when for c in cuts) + DISCHARGE
        excuses = [when for when, _why in self.excuses] + [
            c.when
            for c in self.changes
            if c.source != "integration" and c.entity_id in switches and c.new == "on"
        ]
        for change in self.changes:
            if not (
                change.source == "integration"
                and change.entity_id in switches
                and change.new == "on"
                and change.old != "on"
            ):
                continue
            if change.when + TOLERANCE >= deadline:
                continue
            if any(when <= change.when for when in excuses):
                continue
            if detail == "power_still_flowing" and self._power_before(change.when):
                # The cut did not cut, or power came back by another path: it was already there.
                continue
            self.violations.append(
                f"I2: {change.entity_id} on at {change.when}, deadline {deadline}"
            )

    def _power_before(self, when: datetime) -> bool:
        """Whether the sensor's last reading before `when` showed power on the circuit."""
        before = [shown for at, shown in self.readings if at <= when]
        return bool(before) and before[-1]

    def expected_switch_on(self, entity_id: str) -> bool:
        """Whether a breaker must end on: unless a person turned it off last."""
        own = [c for c in self.changes if c.entity_id == entity_id and c.new in ("on", "off")]
        return not (own and own[-1].source == "person" and own[-1].new == "off")


@pytest.fixture
def timeline(
    hass: HomeAssistant, entry: ConfigEntry, options: dict[str, Any], hass_admin_user: MockUser
) -> Generator[Timeline]:
    """Record the equipment's state changes from the moment our entry is loaded."""
    recorded = Timeline(
        hass,
        sensor=bool(options.get(CONF_POWER_SENSOR)),
        person=Context(user_id=hass_admin_user.id),
    )
    unsub = hass.bus.async_listen("state_changed", recorded.record)
    yield recorded
    unsub()


# --- Holding a run at the start of a phase ------------------------------------------------------


@pytest.fixture
def gate(store_pause: StorePause, monkeypatch: pytest.MonkeyPatch) -> StorePause:
    """The store pause (conftest.py) stops a run once, after its write: the fault comes there."""
    _RAISE_ONCE["armed"] = False
    track = waiting.async_track_state_change_event

    def _track(*args: Any, **kwargs: Any) -> Any:
        if _RAISE_ONCE["armed"]:
            _RAISE_ONCE["armed"] = False
            raise RuntimeError("unexpected (injected)")
        return track(*args, **kwargs)

    # Every module of the run that follows state changes: the waits, the watchers, the restore.
    for module in (waiting, watching, power):
        monkeypatch.setattr(module, "async_track_state_change_event", _track)
    return store_pause


def _disk_full(full: bool) -> Callable[[FaultScene], None]:
    """A full or failing disk: every write of the active run raises while this is set."""

    def _set(sc: FaultScene) -> None:
        sc.store.full = full

    return _set


# Where a fault is injected: the stored state the run just wrote, and the breaker the fault hits
# (the next one the run commands there).
POINTS: dict[str, tuple[Callable[[Run], bool], str]] = {
    "stopping_thermostat": (lambda r: r.phase is Phase.STOPPING_THERMOSTAT, SWITCH_A),
    "cutting_power": (
        lambda r: r.phase is Phase.CUTTING_POWER and r.switches_sent_off == 0,
        SWITCH_A,
    ),
    "cutting_power_partial": (
        lambda r: r.phase is Phase.CUTTING_POWER and r.switches_sent_off == 2,
        SWITCH_B,
    ),
    "discharging": (lambda r: r.phase is Phase.DISCHARGING, SWITCH_A),
    "restoring_power": (lambda r: r.phase is Phase.RESTORING_POWER, SWITCH_A),
    "starting_up": (lambda r: r.phase is Phase.STARTING_UP, SWITCH_A),
    "restoring_thermostat": (lambda r: r.phase is Phase.RESTORING_THERMOSTAT, SWITCH_A),
    "verifying": (lambda r: r.phase is Phase.VERIFYING, SWITCH_A),
}


# --- The faults ---------------------------------------------------------------------------------


@dataclass
class FaultScene(Scene):
    """What a fault needs: the scene of every test, its timeline and the breaker the fault hits."""

    timeline: Timeline = field(kw_only=True)
    target: str = field(kw_only=True)
    removed: bool = False
    # With a sensor: the circuit it reads (standby with the breakers on, no power without).
    circuit: Circuit | None = None
    # An outage run (issue 14): the mains' real state, whether a fault hides it (the entity shows
    # something else), and when the mains come back (None: they are back, or not out).
    mains: str = "on"
    mains_masked: bool = False
    mains_due: datetime | None = None

    @property
    def switch(self) -> Any:
        """The fake breaker the fault hits."""
        return self.pump.switch_a if self.target == SWITCH_A else self.pump.switch_b


type Action = Callable[[FaultScene], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Fault:
    """How to inject a fault, and how (and when) the equipment recovers from it."""

    inject: Action
    clear: Callable[[FaultScene], None] | None = None
    hold: timedelta = HOLD
    # Clear once power is back on both breakers (a thermostat powered by them).
    clear_when_powered: bool = False
    # Inject once the run waits in the phase, not at the gate before the phase's first step.
    after_release: bool = False
    sensor: bool = False
    # The heat pump has a fault entity (issue 13): the unit's error code sensor.
    fault_entity: bool = False
    # The mains go out again (issue 14): a later outage may be a run, and a record, of its own.
    second_outage: bool = False


async def _restart(
    sc: FaultScene,
    downtime: timedelta,
    *,
    crash: bool,
    damage: Callable[[FaultScene], None] | None = None,
    during: Callable[[], None] = lambda: None,
) -> None:
    """Stop HA (a crash keeps only what the store had written) and start it after `downtime`."""
    if crash:
        await restarts.crash(sc.hass, sc.entry, sc.storage)
    else:
        await restarts.kill(sc.hass, sc.entry)
    if damage is not None:
        damage(sc)
    await restarts.boot(sc.hass, sc.freezer, sc.entry, sc.pump, downtime, during)


async def _reload(sc: FaultScene) -> None:
    assert await sc.hass.config_entries.async_reload(sc.entry.entry_id)


async def _remove(sc: FaultScene) -> None:
    sc.timeline.excuse("entry removed")
    sc.removed = True
    await sc.hass.config_entries.async_remove(sc.entry.entry_id)


async def _options(sc: FaultScene) -> None:
    flow = await sc.hass.config_entries.options.async_init(sc.entry.entry_id)
    result = await sc.hass.config_entries.options.async_configure(
        flow["flow_id"], sectioned({CONF_STAGGER_SECONDS: 20, CONF_STARTUP_DELAY_MINUTES: 3})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def _clock_jump(sc: FaultScene) -> None:
    sc.freezer.move_to(dt_util.utcnow() + timedelta(hours=3))
    async_fire_time_changed(sc.hass)


def _device(change: Callable[[FaultScene], None]) -> Action:
    """Return an injection that the device itself makes, synchronously."""

    async def _inject(sc: FaultScene) -> None:
        with sc.timeline.external():
            change(sc)

    return _inject


def _switch_available(available: bool) -> Callable[[FaultScene], None]:
    def _set(sc: FaultScene) -> None:
        with sc.timeline.external():
            sc.switch.set_available(available)

    return _set


def _switch_flag(name: str, value: bool) -> Callable[[FaultScene], None]:
    def _set(sc: FaultScene) -> None:
        setattr(sc.switch, name, value)

    return _set


async def _flap(sc: FaultScene) -> None:
    """The breaker reports unavailable, the opposite state, unavailable, then its real state."""
    real = bool(sc.switch.is_on)
    for available, is_on in ((False, real), (True, not real), (False, real), (True, real)):
        with sc.timeline.external():
            sc.switch._attr_available = available
            sc.switch.set_on(is_on)
        await settle(sc.hass)


def _person_switch(service: str) -> Action:
    async def _inject(sc: FaultScene) -> None:
        await sc.hass.services.async_call(
            "switch", service, {"entity_id": sc.target}, blocking=True, context=sc.timeline.person
        )

    return _inject


def _thermostat_available(available: bool) -> Callable[[FaultScene], None]:
    def _set(sc: FaultScene) -> None:
        with sc.timeline.external():
            sc.pump.thermostat.powered = available
            sc.pump.thermostat.set_available(available)

    return _set


def _thermostat_refuses(modes: set[str]) -> Callable[[FaultScene], None]:
    def _set(sc: FaultScene) -> None:
        sc.pump.thermostat.refuse_modes = set(modes)

    return _set


def _thermostat_fails(value: bool) -> Callable[[FaultScene], None]:
    def _set(sc: FaultScene) -> None:
        sc.pump.thermostat.fail = value

    return _set


async def _person_thermostat(sc: FaultScene) -> None:
    """A person turns the heat back on, with a faster fan and the eco preset."""
    for service, data in (
        ("set_hvac_mode", {"hvac_mode": "heat"}),
        ("set_fan_mode", {"fan_mode": "high"}),
        ("set_preset_mode", {"preset_mode": "eco"}),
    ):
        await sc.hass.services.async_call(
            "climate",
            service,
            {"entity_id": THERMOSTAT, **data},
            blocking=True,
            context=sc.timeline.person,
        )
    sc.timeline.person_settings = thermostat_settings(sc.pump)


def _sensor(value: str | None, unit: str | None = "W") -> Callable[[FaultScene], None]:
    """The sensor shows `value` (None: it is removed), no longer what the circuit carries."""

    def _set(sc: FaultScene) -> None:
        with sc.timeline.external():
            if sc.circuit is not None:
                sc.circuit.stop()
            if value is None:
                sc.hass.states.async_remove(SENSOR)
            else:
                set_power(sc.hass, value, unit)

    return _set


def _sensor_back(sc: FaultScene) -> None:
    """The sensor reads the circuit again."""
    with sc.timeline.external():
        assert sc.circuit is not None
        sc.circuit.start()


def _fault_code(value: str) -> Callable[[FaultScene], None]:
    """The unit's error code sensor reports `value` (issue 13)."""

    def _set(sc: FaultScene) -> None:
        with sc.timeline.external():
            sc.hass.states.async_set(FAULT_SENSOR, value)

    return _set


def _second_heat_pump(sc: FaultScene) -> Callable[[], Awaitable[None]]:
    async def _add() -> None:
        # An entry edited by hand (or made by an older release) that wraps breaker a as well.
        other = MockConfigEntry(
            domain=DOMAIN,
            title="Second",
            data={},
            options={
                **sc.entry.options,
                CONF_THERMOSTAT: "climate.second",
                CONF_SWITCHES: [SWITCH_A],
            },
            unique_id="climate.second",
            version=sc.entry.version,
            minor_version=sc.entry.minor_version,
        )
        sc.hass.states.async_set("climate.second", "heat", {"hvac_modes": ["off", "heat"]})
        other.add_to_hass(sc.hass)
        await sc.hass.config_entries.async_setup(other.entry_id)
        await settle(sc.hass)

    return _add


async def _shared_switch(sc: FaultScene) -> None:
    """A second heat pump wrapping the same breaker is loaded mid-run; it must not start a reset."""
    await _second_heat_pump(sc)()
    others = [e for e in sc.hass.config_entries.async_entries(DOMAIN) if e is not sc.entry]
    with contextlib.suppress(ServiceValidationError):
        await sc.hass.services.async_call(
            DOMAIN, "start_reset", {"config_entry_id": others[0].entry_id}, blocking=True
        )
        sc.timeline.violations.append("a heat pump sharing a breaker started a reset")


def _damage_store(sc: FaultScene) -> None:
    """What the store holds becomes unreadable: a phase this release does not know."""
    active = sc.storage[store_key(sc.entry)]["data"]["active"]
    if active is not None:
        active["phase"] = "exploding"


async def _cancel_then_crash(sc: FaultScene) -> None:
    """A person cancels, and Home Assistant dies at once (the cancel may or may not be on disk)."""
    sc.timeline.excuse("cancelled")
    with contextlib.suppress(ServiceValidationError):
        await sc.hass.services.async_call(
            DOMAIN,
            "cancel_reset",
            {"config_entry_id": sc.entry.entry_id},
            blocking=True,
            context=sc.timeline.person,
        )
    await _restart(sc, timedelta(minutes=1), crash=True)


def _while_down(change: Callable[[FaultScene], None]) -> Action:
    """Restart Home Assistant (killed) with `change` happening to the equipment while it is down."""

    async def _inject(sc: FaultScene) -> None:
        await _restart(sc, timedelta(minutes=1), crash=True, during=lambda: change(sc))

    return _inject


def _switch_found_on(sc: FaultScene) -> None:
    """The breaker is on when Home Assistant comes back (at the panel, or its power-on default)."""
    with sc.timeline.external():
        sc.switch.set_on(True)


def _switch_reports_unknown(sc: FaultScene) -> None:
    """The breaker's state is not retained: after the restart it reports unknown (its relay is off)."""
    with sc.timeline.external():
        real = sc.switch._attr_is_on
        sc.switch._attr_is_on = None
        sc.switch.async_write_ha_state()
        sc.switch._attr_is_on = real


# One unexpected exception from the next wait on state changes the run sets up (any phase).
_RAISE_ONCE = {"armed": False}


def _step_raises(_sc: FaultScene) -> None:
    _RAISE_ONCE["armed"] = True


FAULTS: dict[str, Fault] = {
    # Home Assistant and the entry.
    "ha_stopped": Fault(inject=lambda sc: _restart(sc, timedelta(minutes=1), crash=False)),
    "ha_killed": Fault(inject=lambda sc: _restart(sc, timedelta(minutes=1), crash=True)),
    "entry_reloaded": Fault(inject=_reload),
    "entry_removed": Fault(inject=_remove),
    "options_changed": Fault(inject=_options),
    # A power switch.
    "switch_unavailable": Fault(
        inject=_device(_switch_available(False)), clear=_switch_available(True)
    ),
    "switch_refuses": Fault(
        inject=_device(_switch_flag("refuse", True)), clear=_switch_flag("refuse", False)
    ),
    "switch_raises": Fault(
        inject=_device(_switch_flag("fail", True)), clear=_switch_flag("fail", False)
    ),
    "switch_flaps": Fault(inject=_flap),
    "switch_on_by_person": Fault(inject=_person_switch("turn_on")),
    "switch_off_by_person": Fault(inject=_person_switch("turn_off")),
    # The thermostat.
    "thermostat_unavailable": Fault(
        inject=_device(_thermostat_available(False)), clear=_thermostat_available(True)
    ),
    "thermostat_refuses_modes": Fault(
        inject=_device(_thermostat_refuses({"off", "heat"})),
        clear=_thermostat_refuses(set()),
        hold=SHORT_HOLD,
    ),
    "thermostat_raises": Fault(
        inject=_device(_thermostat_fails(True)), clear=_thermostat_fails(False), hold=SHORT_HOLD
    ),
    "thermostat_changed_by_person": Fault(inject=_person_thermostat),
    "thermostat_loses_power": Fault(
        inject=_device(_thermostat_available(False)),
        clear=_thermostat_available(True),
        clear_when_powered=True,
    ),
    # The power sensor.
    "sensor_unavailable": Fault(
        inject=_device(_sensor("unavailable")), clear=_sensor_back, sensor=True
    ),
    "sensor_stuck_high": Fault(inject=_device(_sensor("1500")), clear=_sensor_back, sensor=True),
    "sensor_missing": Fault(inject=_device(_sensor(None)), clear=_sensor_back, sensor=True),
    # Sensor units and signs: a running compressor in kW or A, a reversed clamp, a unit no one knows.
    "sensor_kw_running": Fault(
        inject=_device(_sensor("2.5", "kW")), clear=_sensor_back, sensor=True
    ),
    "sensor_amps_running": Fault(
        inject=_device(_sensor("15", "A")), clear=_sensor_back, sensor=True
    ),
    "sensor_milliamps_idle": Fault(
        inject=_device(_sensor("120", "mA")), clear=_sensor_back, sensor=True
    ),
    "sensor_negative_running": Fault(
        inject=_device(_sensor("-2500", "W")), clear=_sensor_back, sensor=True
    ),
    "sensor_unknown_unit": Fault(
        inject=_device(_sensor("0", "%")), clear=_sensor_back, sensor=True
    ),
    # Power on the circuit with the breakers off: a welded relay, or power back by another path
    # (issue 13); in W, and in mA.
    "sensor_shows_power_flowing": Fault(
        inject=_device(_sensor("20")), clear=_sensor_back, sensor=True
    ),
    "sensor_shows_current_flowing": Fault(
        inject=_device(_sensor("200", "mA")), clear=_sensor_back, sensor=True
    ),
    # No power with the breakers on, past the start-up delay: a contactor that does not close
    # (issue 13): one more restore round, never an off.
    "sensor_shows_no_power": Fault(
        inject=_device(_sensor("0")), clear=_sensor_back, hold=timedelta(minutes=12), sensor=True
    ),
    # Equipment shared with a second heat pump (an entry edited by hand).
    "second_heat_pump_shares_a_breaker": Fault(inject=_shared_switch),
    # What is on disk: the stored run becomes unreadable, then Home Assistant restarts.
    "stored_run_unreadable": Fault(
        inject=lambda sc: _restart(sc, timedelta(minutes=1), crash=True, damage=_damage_store)
    ),
    # A restart combined with a pending cancel, or with the breaker found otherwise afterwards.
    "cancel_then_killed": Fault(inject=_cancel_then_crash),
    "restart_breaker_found_on": Fault(inject=_while_down(_switch_found_on)),
    "restart_breaker_unknown": Fault(inject=_while_down(_switch_reports_unknown)),
    "restart_breaker_unavailable": Fault(
        inject=_while_down(_switch_available(False)), clear=_switch_available(True)
    ),
    # An exception nobody expected from the run's next wait on state changes, in any phase.
    "step_raises": Fault(inject=_device(_step_raises), after_release=False),
    # The disk (full, read-only, failing): writes of the active run raise.
    "disk_full": Fault(inject=_device(_disk_full(True)), clear=_disk_full(False)),
    # Time.
    "deadline_passes_while_down": Fault(
        inject=lambda sc: _restart(sc, timedelta(minutes=40), crash=True)
    ),
    "ha_starts_hours_after_deadline": Fault(
        inject=lambda sc: _restart(sc, timedelta(hours=5), crash=True)
    ),
    "clock_jumps_forward": Fault(inject=_clock_jump, after_release=True),
    # The unit's own fault code shows (issue 13): in any phase, power and the thermostat come back.
    "unit_fault_code": Fault(
        inject=_device(_fault_code("E5")), clear=_fault_code("0"), fault_entity=True
    ),
}

SCENARIOS = [
    pytest.param(
        {
            **({CONF_POWER_SENSOR: SENSOR} if FAULTS[fault].sensor else {}),
            **({CONF_FAULT_ENTITIES: [FAULT_SENSOR]} if FAULTS[fault].fault_entity else {}),
        },
        point,
        fault,
        id=f"{point}-{fault}",
    )
    for point in POINTS
    for fault in FAULTS
]


# --- Driving a scenario -------------------------------------------------------------------------


def _finished(sc: FaultScene) -> bool:
    """Whether the run is over (the entry loaded with no run, or removed)."""
    if sc.removed:
        return True
    entry = sc.hass.config_entries.async_get_entry(sc.entry.entry_id)
    return (
        entry is not None
        and entry.state is ConfigEntryState.LOADED
        and entry.runtime_data.run is None
    )


def _unhandled(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the log records that show an exception nobody handled."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.ERROR
        # The exception the `step_raises` fault injects is expected in the log, with its traceback.
        and not (record.exc_info and "(injected)" in str(record.exc_info[1]))
        and (
            record.exc_info is not None
            or "Error doing job" in record.getMessage()
            or "Task exception was never retrieved" in record.getMessage()
        )
    ]


def _check_end(
    sc: FaultScene, caplog: pytest.LogCaptureFixture, run_id: str, *, later_outages: bool = False
) -> list[str]:
    """I2 on the whole timeline, and I3 and the log at the end.

    `later_outages`: the records of outage runs that started after this run are another outage's.
    """
    tl = sc.timeline
    problems = list(tl.violations)
    record: dict[str, Any] | None = None
    if sc.removed:
        # Removal deletes the heat pump's files by design: there is no history left to count.
        if store_key(sc.entry) in sc.storage:
            problems.append("I3: the store outlived the removed entry")
    else:
        runs = stored_history(sc.storage, sc.entry)
        if later_outages and (own := [r for r in runs if r["run_id"] == run_id]):
            runs = [
                r
                for r in runs
                if not (r["trigger"] == "outage" and r["started_at"] > own[0]["started_at"])
            ]
        if [r["run_id"] for r in runs] != [run_id]:
            problems.append(f"I3: history {[(r['run_id'], r['outcome']) for r in runs]}")
        else:
            record = runs[0]
        if sc.storage[store_key(sc.entry)]["data"]["active"] is not None:
            problems.append("I3: a run is still stored as active")
    tl.check_i2(record["outcome"] if record else None, record["detail"] if record else None)
    problems.extend(v for v in tl.violations if v not in problems)
    for switch, entity_id in ((sc.pump.switch_a, SWITCH_A), (sc.pump.switch_b, SWITCH_B)):
        want = tl.expected_switch_on(entity_id)
        if not switch.available or bool(switch.is_on) != want:
            problems.append(f"I3: {entity_id} ends {switch.is_on}/{switch.available}, want {want}")
    want_settings = tl.person_settings if tl.person_settings is not None else SAVED
    if thermostat_settings(sc.pump) != want_settings:
        problems.append(f"I3: thermostat ends {thermostat_settings(sc.pump)}, want {want_settings}")
    problems.extend(f"log: {message}" for message in _unhandled(caplog))
    return problems


@pytest.mark.parametrize(("options", "point", "fault"), SCENARIOS, indirect=["options"])
async def test_fault_in_phase(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    timeline: Timeline,
    gate: StorePause,
    caplog: pytest.LogCaptureFixture,
    point: str,
    fault: str,
) -> None:
    """Inject the fault as the run enters the phase; the run keeps I1-I3 and logs no crash."""
    FAULT_MATRIX["scenarios"] += 1
    FAULT_MATRIX_CELLS[fault, point] = None
    spec = FAULTS[fault]
    match, target = POINTS[point]
    sc = FaultScene(
        hass, freezer, heat_pump, entry, hass_storage, gate, timeline=timeline, target=target
    )
    if spec.sensor:
        sc.circuit = Circuit(hass).start()
    gate.match = match
    response = await hass.services.async_call(
        DOMAIN,
        "start_reset",
        {"config_entry_id": entry.entry_id},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    run_id = str(response["run_id"])
    await settle(hass)
    for _ in range(int(MAX_RUN / STEP)):
        if gate.reached.is_set():
            break
        await advance(hass, freezer, STEP, step=STEP)
    assert gate.reached.is_set(), f"the run never reached {point}"

    if not spec.after_release:
        await spec.inject(sc)
    gate.release.set()
    await settle(hass)
    if spec.after_release:
        await spec.inject(sc)
        await settle(hass)
    injected_at = dt_util.utcnow()

    cleared = spec.clear is None
    for _ in range(int(MAX_RUN / STEP)):
        if not cleared:
            powered = heat_pump.switch_a.is_on and heat_pump.switch_b.is_on
            due = (
                powered if spec.clear_when_powered else dt_util.utcnow() >= injected_at + spec.hold
            )
            if due:
                assert spec.clear is not None
                spec.clear(sc)
                cleared = True
        if cleared and _finished(sc):
            break
        await advance(hass, freezer, STEP, step=STEP)
    # Nothing may happen after the end.
    await advance(hass, freezer, timedelta(minutes=5), step=STEP)
    problems = _check_end(sc, caplog, run_id) if _finished(sc) else ["the run never ended"]
    FAULT_MATRIX["violations"] += len(problems)
    FAULT_MATRIX_CELLS[fault, point] = len(problems)
    assert problems == []


# --- Outage runs (issue 14) ---------------------------------------------------------------------

MAINS = "binary_sensor.mains"
OUTDOOR = "sensor.outdoor_temperature"
ON_MAINS = {CONF_OUTAGE_PROTECTION: True, CONF_MAINS_ENTITY: MAINS}
# With the outdoor sensor (at -5 °C): an outage of an hour or more is followed by a warm-up hold.
WARM_UP = {**ON_MAINS, CONF_OUTDOOR_TEMPERATURE: OUTDOOR}
# How long the mains stay out, unless a fault says otherwise: no warm-up after it; a warm-up of
# as long after the longer one.
OUTAGE = timedelta(minutes=20)
WARM_OUTAGE = timedelta(minutes=70)
# Longest an outage run may take once its faults are cleared: a long outage (Home Assistant down
# for hours) may be followed by the longest warm-up.
MAX_OUTAGE_RUN = MAX_RUN + timedelta(minutes=MAX_WARMUP_MINUTES)


def _outage(phase: Phase) -> Callable[[Run], bool]:
    return lambda r: r.trigger is Trigger.OUTAGE and r.phase is phase


# Where a fault hits an outage run: the stored state the run just wrote, whether the fault comes
# once the run waits there (after the gate) rather than before the phase's first step, and whether
# the outage is long and cold enough for a warm-up.
OUTAGE_POINTS: dict[str, tuple[Callable[[Run], bool], bool, bool]] = {
    # Before the thermostat is set off; then with it off, waiting for the mains.
    "mains_out": (
        lambda r: _outage(Phase.MAINS_OUT)(r) and not r.thermostat_held,
        False,
        False,
    ),
    "mains_out_waiting": (
        lambda r: _outage(Phase.MAINS_OUT)(r) and not r.thermostat_held,
        True,
        False,
    ),
    # The outage's end written, before it is announced.
    "mains_returned": (
        lambda r: _outage(Phase.MAINS_OUT)(r) and r.outage_ended_at is not None,
        False,
        False,
    ),
    # The warm-up hold after a long outage in the cold: as it starts, and while it holds.
    "warming_up": (_outage(Phase.WARMING_UP), False, True),
    "warming_up_waiting": (_outage(Phase.WARMING_UP), True, True),
    "outage_starting_up": (_outage(Phase.STARTING_UP), False, False),
    "outage_restoring_thermostat": (_outage(Phase.RESTORING_THERMOSTAT), False, False),
    "outage_verifying": (_outage(Phase.VERIFYING), False, False),
}


def _show_mains(sc: FaultScene) -> None:
    """The mains entity shows the mains' real state (unless a fault hides it)."""
    if not sc.mains_masked:
        with sc.timeline.external():
            sc.hass.states.async_set(MAINS, sc.mains)


def _set_mains(sc: FaultScene, value: str, due: datetime | None = None) -> None:
    """The mains go `value` (off: they come back at `due`)."""
    sc.mains, sc.mains_due = value, due
    _show_mains(sc)


def _mains_shows(value: str | None) -> Callable[[FaultScene], None]:
    """The mains entity shows `value` (None: it is removed) whatever the mains do."""

    def _set(sc: FaultScene) -> None:
        sc.mains_masked = True
        with sc.timeline.external():
            if value is None:
                sc.hass.states.async_remove(MAINS)
            else:
                sc.hass.states.async_set(MAINS, value)

    return _set


def _mains_truthful(sc: FaultScene) -> None:
    sc.mains_masked = False
    _show_mains(sc)


async def _mains_flap(sc: FaultScene) -> None:
    """The mains come and go within seconds, and stay out for another outage."""
    for value in ("on", "off", "on", "off"):
        _set_mains(sc, value)
        await settle(sc.hass)
    _set_mains(sc, "off", dt_util.utcnow() + OUTAGE)


async def _mains_out_again(sc: FaultScene) -> None:
    """The mains go out again (a second outage right after the first)."""
    _set_mains(sc, "off", dt_util.utcnow() + OUTAGE)
    await settle(sc.hass)


def _mains_while_down(value: str, downtime: timedelta) -> Action:
    """Restart Home Assistant (killed) with the mains going `value` while it is down."""

    async def _inject(sc: FaultScene) -> None:
        due = dt_util.utcnow() + downtime + OUTAGE if value == "off" else None
        await _restart(sc, downtime, crash=True, during=lambda: _set_mains(sc, value, due))

    return _inject


def _breakers_available(available: bool) -> Callable[[FaultScene], None]:
    """Both breakers drop off the network (their supply is gone), or come back."""

    def _set(sc: FaultScene) -> None:
        with sc.timeline.external():
            for switch in sc.pump.switches:
                switch.set_available(available)

    return _set


async def _cancel(sc: FaultScene) -> None:
    """A person cancels the run (nothing to cancel once it has ended)."""
    sc.timeline.excuse("cancelled")
    with contextlib.suppress(ServiceValidationError):
        await sc.hass.services.async_call(
            DOMAIN,
            "cancel_reset",
            {"config_entry_id": sc.entry.entry_id},
            blocking=True,
            context=sc.timeline.person,
        )


OUTAGE_FAULTS: dict[str, Fault] = {
    # Home Assistant and the entry.
    "ha_stopped": FAULTS["ha_stopped"],
    "ha_killed": FAULTS["ha_killed"],
    "ha_down_for_hours": Fault(inject=lambda sc: _restart(sc, timedelta(hours=5), crash=True)),
    "entry_reloaded": FAULTS["entry_reloaded"],
    "entry_removed": FAULTS["entry_removed"],
    "options_changed": FAULTS["options_changed"],
    "stored_run_unreadable": FAULTS["stored_run_unreadable"],
    "cancel": Fault(inject=_cancel),
    "cancel_then_killed": FAULTS["cancel_then_killed"],
    "step_raises": FAULTS["step_raises"],
    "disk_full": FAULTS["disk_full"],
    "clock_jumps_forward": FAULTS["clock_jumps_forward"],
    # The thermostat.
    "thermostat_unavailable": FAULTS["thermostat_unavailable"],
    "thermostat_refuses_modes": FAULTS["thermostat_refuses_modes"],
    "thermostat_raises": FAULTS["thermostat_raises"],
    "thermostat_changed_by_person": FAULTS["thermostat_changed_by_person"],
    # The breakers, which an outage run never commands.
    "breakers_unavailable": Fault(
        inject=_device(_breakers_available(False)), clear=_breakers_available(True)
    ),
    "switch_off_by_person": FAULTS["switch_off_by_person"],
    # The mains entity.
    "mains_flaps": Fault(inject=_mains_flap, second_outage=True),
    "mains_out_again": Fault(inject=_mains_out_again, second_outage=True),
    "mains_unavailable": Fault(inject=_device(_mains_shows("unavailable")), clear=_mains_truthful),
    "mains_unknown": Fault(inject=_device(_mains_shows("unknown")), clear=_mains_truthful),
    "mains_removed": Fault(inject=_device(_mains_shows(None)), clear=_mains_truthful),
    # The mains return (or go out again) while Home Assistant is down.
    "mains_back_while_down": Fault(inject=_mains_while_down("on", timedelta(minutes=1))),
    "mains_back_hours_later_while_down": Fault(inject=_mains_while_down("on", timedelta(hours=5))),
    "mains_out_again_while_down": Fault(
        inject=_mains_while_down("off", timedelta(minutes=1)), second_outage=True
    ),
}

OUTAGE_SCENARIOS = [
    pytest.param(
        WARM_UP if OUTAGE_POINTS[point][2] else ON_MAINS, point, fault, id=f"{point}-{fault}"
    )
    for point in OUTAGE_POINTS
    for fault in OUTAGE_FAULTS
]


def _check_outage(
    sc: FaultScene, switch_calls: list[str], hold_until: datetime | None
) -> list[str]:
    """I4: no switch commanded or changed by us; the outage in the run's one record.

    With a warm-up hold under way (`hold_until`: its deadline), the thermostat is not put back
    before it, unless a person changed the thermostat, a cancel or the entry's removal came first,
    or the run failed (a failing run puts the thermostat back at once).
    """
    problems = [f"I4: switch action {call}" for call in switch_calls]
    runs = [] if sc.removed else stored_history(sc.storage, sc.entry)
    tl = sc.timeline
    failed = any(r["outcome"] == "failed" for r in runs)
    if hold_until is not None and tl.person_settings is None and not failed:
        early = [
            c
            for c in tl.changes
            if c.entity_id == THERMOSTAT
            and c.source == "integration"
            and c.old == "off"
            and c.new not in ("off", *MISSING)
            and c.when + TOLERANCE < hold_until
            and not any(when <= c.when for when, _why in tl.excuses)
        ]
        problems += [f"I4: thermostat {c.new} at {c.when}, hold until {hold_until}" for c in early]
    problems += [
        f"I4: {c.entity_id} {c.old} -> {c.new} by us"
        for c in sc.timeline.changes
        if c.entity_id in (SWITCH_A, SWITCH_B) and c.source == "integration"
    ]
    problems += [
        f"I4: the outage is not recorded: {r['trigger']} {r['outage']}"
        for r in runs
        if r["trigger"] != "outage"
        or (r["outage"] or {}).get("source") != "mains"
        or not r["outage"]["started_at"]
        or r["power_cut"]
    ]
    return problems


@pytest.mark.parametrize(("options", "point", "fault"), OUTAGE_SCENARIOS, indirect=["options"])
async def test_fault_in_outage_phase(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    timeline: Timeline,
    gate: StorePause,
    caplog: pytest.LogCaptureFixture,
    point: str,
    fault: str,
) -> None:
    """Inject the fault as the outage run enters the phase; the run keeps I1-I4, logs no crash."""
    FAULT_MATRIX["scenarios"] += 1
    FAULT_MATRIX_CELLS[fault, point] = None
    spec = OUTAGE_FAULTS[fault]
    match, waiting_there, warm = OUTAGE_POINTS[point]
    after = spec.after_release or waiting_there
    sc = FaultScene(
        hass, freezer, heat_pump, entry, hass_storage, gate, timeline=timeline, target=SWITCH_A
    )
    switch_calls: list[str] = []

    @callback
    def _call(event: Event) -> None:
        if event.data.get("domain") in ("switch", "homeassistant") and (
            event.context.user_id != timeline.person.user_id
        ):
            switch_calls.append(f"{event.data.get('service')} {event.data.get('service_data')}")

    unsub = hass.bus.async_listen("call_service", _call)
    hass.states.async_set(OUTDOOR, "-5", {"unit_of_measurement": "°C"})
    _set_mains(sc, "on")
    await settle(hass)
    gate.match = match
    _set_mains(sc, "off", dt_util.utcnow() + (WARM_OUTAGE if warm else OUTAGE))
    await settle(hass)
    run = entry.runtime_data.run
    assert run is not None
    assert run.trigger is Trigger.OUTAGE
    run_id = run.run_id

    def _mains_due() -> None:
        if sc.mains_due is not None and dt_util.utcnow() >= sc.mains_due:
            _set_mains(sc, "on")

    for _ in range(int(MAX_RUN / STEP)):
        if gate.reached.is_set():
            break
        _mains_due()
        await advance(hass, freezer, STEP, step=STEP)
    assert gate.reached.is_set(), f"the outage run never reached {point}"
    held = entry.runtime_data.run
    hold_until = held.phase_ends_at if warm and held is not None else None
    assert not warm or hold_until is not None, "the warm-up hold has no deadline"

    if not after:
        await spec.inject(sc)
    gate.release.set()
    await settle(hass)
    if after:
        await spec.inject(sc)
        await settle(hass)
    injected_at = dt_util.utcnow()

    cleared = spec.clear is None
    for _ in range(int(MAX_OUTAGE_RUN / STEP)):
        if not cleared and dt_util.utcnow() >= injected_at + spec.hold:
            assert spec.clear is not None
            spec.clear(sc)
            cleared = True
        _mains_due()
        if cleared and sc.mains_due is None and _finished(sc):
            break
        await advance(hass, freezer, STEP, step=STEP)
    # Nothing may happen after the end.
    await advance(hass, freezer, timedelta(minutes=5), step=STEP)
    unsub()
    problems = (
        [
            *_check_end(sc, caplog, run_id, later_outages=spec.second_outage),
            *_check_outage(sc, switch_calls, hold_until),
        ]
        if _finished(sc)
        else ["the run never ended"]
    )
    FAULT_MATRIX["violations"] += len(problems)
    FAULT_MATRIX_CELLS[fault, point] = len(problems)
    assert problems == []


# --- Bad input ------------------------------------------------------------------------------------


def _other_domain(hass: HomeAssistant) -> str:
    other = MockConfigEntry(domain="test")
    other.add_to_hass(hass)
    return other.entry_id


# id: (action, data builder, expected translation key, or None for Home Assistant's schema error)
BAD_INPUT: dict[str, tuple[str, Callable[[HomeAssistant, str], dict[str, Any]], str | None]] = {
    "start_no_entry_id": ("start_reset", lambda h, e: {}, "no_heat_pump"),
    "start_entry_id_none": ("start_reset", lambda h, e: {"config_entry_id": None}, None),
    "start_entry_id_list": ("start_reset", lambda h, e: {"config_entry_id": [e]}, None),
    "start_entry_id_int": ("start_reset", lambda h, e: {"config_entry_id": 7}, "entry_not_found"),
    "start_unknown_entry": (
        "start_reset",
        lambda h, e: {"config_entry_id": "nope"},
        "entry_not_found",
    ),
    "start_other_domain": (
        "start_reset",
        lambda h, e: {"config_entry_id": _other_domain(h)},
        "entry_not_found",
    ),
    "start_discharge_text": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "discharge_minutes": "soon"},
        None,
    ),
    "start_discharge_list": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "discharge_minutes": [45]},
        None,
    ),
    "start_discharge_too_short": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "discharge_minutes": 29},
        "discharge_out_of_range",
    ),
    "start_discharge_zero": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "discharge_minutes": 0},
        "discharge_out_of_range",
    ),
    "start_discharge_negative": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "discharge_minutes": -30},
        "discharge_out_of_range",
    ),
    "start_discharge_too_long": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "discharge_minutes": 241},
        "discharge_out_of_range",
    ),
    "start_reason_too_long": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "reason": "x" * 256},
        None,
    ),
    "start_reason_dict": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "reason": {"why": "x"}},
        None,
    ),
    "start_unknown_field": (
        "start_reset",
        lambda h, e: {"config_entry_id": e, "power": "off"},
        None,
    ),
    "cancel_no_entry_id": ("cancel_reset", lambda h, e: {}, "no_heat_pump"),
    "cancel_unknown_entry": (
        "cancel_reset",
        lambda h, e: {"config_entry_id": "nope"},
        "entry_not_found",
    ),
    "cancel_nothing_running": (
        "cancel_reset",
        lambda h, e: {"config_entry_id": e},
        "nothing_running",
    ),
    "history_no_entry_id": ("get_history", lambda h, e: {}, "no_heat_pump"),
    "history_unknown_entry": (
        "get_history",
        lambda h, e: {"config_entry_id": "nope"},
        "entry_not_found",
    ),
    "history_limit_zero": ("get_history", lambda h, e: {"config_entry_id": e, "limit": 0}, None),
    "history_limit_too_big": (
        "get_history",
        lambda h, e: {"config_entry_id": e, "limit": 201},
        None,
    ),
    "history_limit_text": (
        "get_history",
        lambda h, e: {"config_entry_id": e, "limit": "all"},
        None,
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
@pytest.mark.parametrize("loaded", [True, False], ids=["loaded", "unloaded"])
async def test_bad_input_is_refused_and_touches_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    case: str,
    loaded: bool,
) -> None:
    """Every malformed or impossible call is refused before anything is touched.

    Wrong types and out-of-schema values are refused by Home Assistant's schema check (vol.Invalid,
    shown by the UI as an invalid-format error); everything the schema accepts but we cannot do
    raises our translated ServiceValidationError. An unloaded entry is refused as such.
    """
    FAULT_MATRIX["scenarios"] += 1
    action, build, key = BAD_INPUT[case]
    data = build(hass, entry.entry_id)
    if not loaded:
        assert await hass.config_entries.async_unload(entry.entry_id)
        if key is not None and data.get("config_entry_id") == entry.entry_id:
            key = "entry_not_loaded"
    with pytest.raises((ServiceValidationError, vol.Invalid)) as err:
        await hass.services.async_call(
            DOMAIN, action, data, blocking=True, return_response=action != "cancel_reset"
        )
    if key is None:
        assert isinstance(err.value, vol.Invalid)
    else:
        assert isinstance(err.value, ServiceValidationError)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == key
    await advance(hass, freezer, timedelta(minutes=5), step=STEP)
    assert touched(heat_pump) == ([], [], [])
    assert stored_history(hass_storage, entry) == []
    assert _unhandled(caplog) == []


async def test_twenty_concurrent_starts_make_one_safe_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_storage: dict[str, Any],
    store_pause: StorePause,
    timeline: Timeline,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Twenty starts at once: one run, nineteen translated refusals, and the run keeps I1-I3."""
    FAULT_MATRIX["scenarios"] += 1
    results = await asyncio.gather(
        *(
            hass.services.async_call(
                DOMAIN,
                "start_reset",
                {"config_entry_id": entry.entry_id},
                blocking=True,
                return_response=True,
            )
            for _ in range(20)
        ),
        return_exceptions=True,
    )
    run_ids = [r["run_id"] for r in results if isinstance(r, dict)]
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(run_ids) == 1
    assert all(
        isinstance(e, ServiceValidationError) and e.translation_key == "already_running"
        for e in errors
    )
    assert len(errors) == 19
    await advance(hass, freezer, timedelta(hours=1), step=STEP)
    sc = FaultScene(
        hass,
        freezer,
        heat_pump,
        entry,
        hass_storage,
        store_pause,
        timeline=timeline,
        target=SWITCH_A,
    )
    problems = _check_end(sc, caplog, str(run_ids[0]))
    FAULT_MATRIX["violations"] += len(problems)
    assert problems == []
    assert [s.commands for s in heat_pump.switches] == [["off", "on"], ["off", "on"]]

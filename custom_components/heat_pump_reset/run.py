"""A reset run: its phases, outcomes and triggers, what it holds, and how it is read back from disk.

The strict reading of each stored value is in `stored`.

This module is pure: no Home Assistant import. `sequence` decides what a run does next.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from .const import DEFAULT_NO_POWER_CURRENT, DEFAULT_NO_POWER_THRESHOLD
from .stored import Reader, StoredRunError

# The longest discharge wait a stored run may ask for (the action allows 240 minutes).
MAX_STORED_MINUTES: Final = 24 * 60
# A run's `power_cycle`: the one more restore of a contactor that did not close (issue 13).
CYCLE_PENDING: Final = 1
CYCLE_DONE: Final = 2


class Phase(StrEnum):
    """Where a run is; `idle` when none is active."""

    IDLE = "idle"
    STOPPING_THERMOSTAT = "stopping_thermostat"
    CUTTING_POWER = "cutting_power"
    DISCHARGING = "discharging"
    RESTORING_POWER = "restoring_power"
    STARTING_UP = "starting_up"
    RESTORING_THERMOSTAT = "restoring_thermostat"
    VERIFYING = "verifying"
    # An outage run's first phase: the mains are out, the thermostat held off (issue 14).
    MAINS_OUT = "mains_out"
    # After a long outage in the cold: the thermostat held off while the compressor warms (issue 14).
    WARMING_UP = "warming_up"


class Outcome(StrEnum):
    """How a run ended."""

    SUCCEEDED = "succeeded"
    UNVERIFIED = "unverified"
    NO_START = "no_start"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    FAULT_RETURNED = "fault_returned"  # the unit's fault showed again after power was back


class Trigger(StrEnum):
    """What started a run."""

    PERSON = "action"  # a person called the action (the call carries a user)
    BUTTON = "button"
    AUTOMATION = "automation"  # an automation, script or blueprint called the action
    # A power outage (issue 14): an outage run (`Run.is_outage_run`: never cuts power, never counts
    # as a reset), or the reset that follows one that ended `no_start` (cuts power, counts).
    OUTAGE = "outage"


class PersonChange(StrEnum):
    """What a person's change of the thermostat during a run does to it."""

    NONE = "none"  # nothing the run needs to know
    KEPT = "kept"  # joins the settings the run puts back
    TOOK_OVER = "took_over"  # the run leaves the thermostat as the person set it


@dataclass(frozen=True, kw_only=True, slots=True)
class Timing:
    """The configured durations a run follows."""

    discharge: timedelta
    startup_delay: timedelta
    stop_timeout: timedelta
    switch_timeout: timedelta
    stagger: timedelta
    verify_window: timedelta
    thermostat_return: timedelta


def iso(value: datetime | None) -> str | None:
    """Serialise an aware datetime."""
    return value.isoformat() if value is not None else None


@dataclass(kw_only=True)
class Run:
    """One reset run, as persisted before each action it takes."""

    run_id: str
    trigger: Trigger
    reason: str | None
    thermostat: str
    switches: list[str]
    discharge_minutes: int
    started_at: datetime
    phase: Phase = Phase.IDLE
    phase_started_at: datetime | None = None
    phase_ends_at: datetime | None = None
    phase_log: dict[str, str] = field(default_factory=dict)
    # The thermostat's settings the run puts back (stored as `saved`), a person's changes included.
    settings_to_restore: dict[str, Any] = field(default_factory=dict)
    # The first this many switches were sent an off command (stored as `switches_cut`).
    switches_sent_off: int = 0
    off_sent_at: datetime | None = None
    confirmed_off_at: datetime | None = None
    power_on_at: datetime | None = None
    ending: Outcome | None = None
    detail: str | None = None
    thermostat_overridden: bool = False
    resumed: int = 0
    # The power or current sensor and the running thresholds (W, A) the run started with: a
    # Reconfigure or an options change mid-run applies from the next run. False in a run stored by
    # a release that did not keep them: the entry's current ones are filled in when it loads.
    power_sensor: str | None = None
    power_threshold: float = 0.0
    current_threshold: float = 0.0
    sensor_kept: bool = False
    # The first this many switches were sent off and confirmed off by the run (issue 11 item 5).
    switches_confirmed_off: int = 0
    # Switches a person turned off in Home Assistant during the restore: left off, also after a
    # reload or restart (issue 11 item 7).
    switches_left_off: list[str] = field(default_factory=list)
    # Why the thermostat was not put back, whatever outcome was decided first (issue 11 item 19).
    thermostat_detail: str | None = None
    # A cancel was asked for, even if another outcome was decided first (a run restarted mid-cut
    # is already `interrupted`): after any restart power comes back at once.
    cancel_asked: bool = False
    # The "no power" levels (W, A) the run started with, and its power cycle (issue 13).
    no_power_threshold: float = DEFAULT_NO_POWER_THRESHOLD
    no_power_current: float = DEFAULT_NO_POWER_CURRENT
    power_cycle: int = 0
    # The unit's fault entities and "no fault" states the run started with, their states at the
    # start (entity id: state), and the faults seen after power was back (entity id: code).
    fault_entities: list[str] = field(default_factory=list)
    no_fault_states: list[str] = field(default_factory=list)
    faults_at_start: dict[str, str] = field(default_factory=dict)
    faults_returned: dict[str, str] = field(default_factory=dict)
    # An outage run (issue 14): the mains entity, how the outage became known, when it started
    # and ended, and whether the run set the thermostat off (then its settings go back).
    mains_entity: str | None = None
    outage_source: str | None = None
    outage_started_at: datetime | None = None
    outage_ended_at: datetime | None = None
    thermostat_held: bool = False
    # The warm-up after the outage: when the hold ends (None: no hold), and why it ended (`HoldEnd`).
    warmup_ends_at: datetime | None = None
    warmup_ended: str | None = None

    def enter(self, phase: Phase, now: datetime, ends_at: datetime | None = None) -> None:
        """Move to `phase` at `now`; `ends_at` is when its wait ends, if it has one."""
        self.phase = phase
        self.phase_started_at = now
        self.phase_ends_at = ends_at
        self.phase_log.setdefault(phase.value, now.isoformat())

    def cancel(self) -> None:
        """Note a cancel: the outcome `cancelled` unless one was decided, and the wait ends."""
        self.cancel_asked = True
        self.end_early(Outcome.CANCELLED, "cancelled")

    @property
    def cancelled(self) -> bool:
        """Whether a cancel was asked for, whatever outcome was decided first."""
        return self.cancel_asked or self.ending is Outcome.CANCELLED

    def end_early(self, outcome: Outcome, detail: str) -> None:
        """Decide the outcome now; the first decision wins."""
        if self.ending is None:
            self.ending = outcome
            self.detail = detail

    def thermostat_not_restored(self, detail: str) -> None:
        """Note that the thermostat was not put back.

        The run fails unless its outcome was decided before (a cancel, a restart); the detail is
        kept beside that outcome either way, so a record never says the heating is back when not.
        """
        if self.thermostat_detail is None:
            self.thermostat_detail = detail
        self.end_early(Outcome.FAILED, detail)

    @property
    def is_outage_run(self) -> bool:
        """Whether this is an outage run (issue 14), not a reset: it never cuts power."""
        return self.outage_source is not None

    @property
    def power_was_cut(self) -> bool:
        """Whether an off command went to any power switch."""
        return self.switches_sent_off > 0

    def confirmed_cut(self) -> list[str]:
        """Return the switches the run sent off and saw off: one of them on again is power back."""
        return self.switches[: self.switches_confirmed_off]

    def sent_off(self, entity_id: str) -> bool:
        """Whether the run sent `entity_id` an off command (confirmed or not)."""
        return entity_id in self.switches[: self.switches_sent_off]

    def note_person_change(self, changed: Mapping[str, Any]) -> PersonChange:
        """Keep what a person set on the thermostat while the run holds it; a new mode takes over.

        While the thermostat is being stopped (our off may still be on its way), or when the
        person left the mode as the run set it (say, a new set point), what they changed goes back
        with the rest of the saved settings. A new mode later on means they took the thermostat
        over: the run leaves it as they set it.
        """
        if not changed:
            return PersonChange.NONE
        if self.phase is Phase.STOPPING_THERMOSTAT or "hvac_mode" not in changed:
            self.settings_to_restore.update(changed)
            return PersonChange.KEPT
        self.thermostat_overridden = True
        return PersonChange.TOOK_OVER

    def entities(self) -> set[str]:
        """Return the entities the run names: its thermostat, switches, sensor, fault entities."""
        sensor = [self.power_sensor] if self.power_sensor else []
        return {self.thermostat, *self.switches, *sensor, *self.fault_entities}

    def replace_entity(self, old: str, new: str) -> None:
        """Name `new` wherever the run names `old` (an entity renamed mid-run)."""
        if self.thermostat == old:
            self.thermostat = new
        if self.power_sensor == old:
            self.power_sensor = new
        self.switches = [new if e == old else e for e in self.switches]
        self.switches_left_off = [new if e == old else e for e in self.switches_left_off]
        self.fault_entities = [new if e == old else e for e in self.fault_entities]
        self.faults_at_start = {new if e == old else e: v for e, v in self.faults_at_start.items()}

    def keep_sensor(self, sensor: str | None, power: float, current: float) -> None:
        """Keep the sensor and its running thresholds (W, A) to the run's end."""
        self.power_sensor, self.power_threshold, self.current_threshold = sensor, power, current
        self.sensor_kept = True

    def discharge_deadline(self) -> datetime | None:
        """When power may come back: the confirmed cut plus the discharge wait."""
        if self.confirmed_off_at is None:
            return None
        return self.confirmed_off_at + timedelta(minutes=self.discharge_minutes)

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-able data for the store."""
        data = asdict(self)
        # Stored under the names earlier releases wrote and read.
        data["saved"] = data.pop("settings_to_restore")
        data["switches_cut"] = data.pop("switches_sent_off")
        for key in (
            "started_at",
            "phase_started_at",
            "phase_ends_at",
            "off_sent_at",
            "confirmed_off_at",
            "power_on_at",
            "outage_started_at",
            "outage_ended_at",
            "warmup_ends_at",
        ):
            data[key] = iso(getattr(self, key))
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Run:
        """Rebuild a run from `to_dict` output; raise StoredRunError for anything else.

        Every field is checked: a run written by another release (or damaged) must not be
        half-read, nor fail later in the middle of a phase.
        """
        if not isinstance(data, dict):
            raise StoredRunError("not_a_run")
        read = Reader(data)
        run = cls(
            run_id=read.text("run_id"),
            trigger=read.enum("trigger", Trigger),
            reason=read.text("reason", optional=True),
            thermostat=read.text("thermostat"),
            switches=read.texts("switches"),
            discharge_minutes=read.integer("discharge_minutes"),
            started_at=read.time("started_at"),
            phase=read.enum("phase", Phase),
            phase_started_at=read.time("phase_started_at", optional=True),
            phase_ends_at=read.time("phase_ends_at", optional=True),
            phase_log=read.mapping("phase_log", str),
            settings_to_restore=read.mapping("saved", object),
            switches_sent_off=read.integer("switches_cut", default=0),
            off_sent_at=read.time("off_sent_at", optional=True),
            confirmed_off_at=read.time("confirmed_off_at", optional=True),
            power_on_at=read.time("power_on_at", optional=True),
            ending=read.enum("ending", Outcome, optional=True),
            detail=read.text("detail", optional=True),
            thermostat_overridden=read.flag("thermostat_overridden"),
            resumed=read.integer("resumed", default=0),
            power_sensor=read.text("power_sensor", optional=True),
            power_threshold=read.number("power_threshold", default=0.0),
            current_threshold=read.number("current_threshold", default=0.0),
            sensor_kept=read.flag("sensor_kept"),
            switches_confirmed_off=read.integer("switches_confirmed_off", default=0),
            switches_left_off=read.texts("switches_left_off", default=[]),
            thermostat_detail=read.text("thermostat_detail", optional=True),
            cancel_asked=read.flag("cancel_asked"),
            no_power_threshold=read.number(
                "no_power_threshold", default=DEFAULT_NO_POWER_THRESHOLD
            ),
            no_power_current=read.number("no_power_current", default=DEFAULT_NO_POWER_CURRENT),
            power_cycle=read.integer("power_cycle", default=0),
            fault_entities=read.texts("fault_entities", default=[]),
            no_fault_states=read.any_texts("no_fault_states"),
            faults_at_start=read.mapping("faults_at_start", str),
            faults_returned=read.mapping("faults_returned", str),
            mains_entity=read.text("mains_entity", optional=True),
            outage_source=read.text("outage_source", optional=True),
            outage_started_at=read.time("outage_started_at", optional=True),
            outage_ended_at=read.time("outage_ended_at", optional=True),
            thermostat_held=read.flag("thermostat_held"),
            warmup_ends_at=read.time("warmup_ends_at", optional=True),
            warmup_ended=read.text("warmup_ended", optional=True),
        )
        # What resuming relies on: a cut has its time, a discharge wait its deadline.
        if run.discharge_minutes > MAX_STORED_MINUTES:
            raise StoredRunError("discharge_minutes")
        if not 0 <= run.switches_sent_off <= len(run.switches):
            raise StoredRunError("switches_cut")
        if run.switches_sent_off and run.off_sent_at is None:
            raise StoredRunError("off_sent_at")
        if run.phase is Phase.DISCHARGING and run.confirmed_off_at is None:
            raise StoredRunError("confirmed_off_at")
        return run

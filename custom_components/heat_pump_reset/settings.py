"""A heat pump's options, read in one place: the only reader of the option keys.

This module is pure: no Home Assistant import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .const import (
    CONF_CURRENT_THRESHOLD,
    CONF_DISCHARGE_MINUTES,
    CONF_FAULT_ENTITIES,
    CONF_LONGEST_WARMUP_MINUTES,
    CONF_MAINS_ENTITY,
    CONF_MAX_RESETS_PER_DAY,
    CONF_NO_FAULT_STATES,
    CONF_NO_POWER_CURRENT,
    CONF_NO_POWER_THRESHOLD,
    CONF_OUTAGE_PROTECTION,
    CONF_OUTDOOR_TEMPERATURE,
    CONF_POWER_SENSOR,
    CONF_POWER_THRESHOLD,
    CONF_RECURRENCE_COUNT,
    CONF_RECURRENCE_DAYS,
    CONF_ROOM_FLOOR,
    CONF_ROOM_TEMPERATURE,
    CONF_STAGGER_SECONDS,
    CONF_STARTUP_DELAY_MINUTES,
    CONF_STOP_TIMEOUT_SECONDS,
    CONF_SWITCH_TIMEOUT_SECONDS,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    CONF_VERIFY_MINUTES,
    CONF_WARMUP_AFTER_MINUTES,
    CONF_WARMUP_TEMPERATURE,
    DEFAULT_CURRENT_THRESHOLD,
    DEFAULT_DISCHARGE_MINUTES,
    DEFAULT_LONGEST_WARMUP_MINUTES,
    DEFAULT_MAX_RESETS_PER_DAY,
    DEFAULT_NO_POWER_CURRENT,
    DEFAULT_NO_POWER_THRESHOLD,
    DEFAULT_POWER_THRESHOLD,
    DEFAULT_RECURRENCE_COUNT,
    DEFAULT_RECURRENCE_DAYS,
    DEFAULT_STAGGER_SECONDS,
    DEFAULT_STARTUP_DELAY_MINUTES,
    DEFAULT_STOP_TIMEOUT_SECONDS,
    DEFAULT_SWITCH_TIMEOUT_SECONDS,
    DEFAULT_VERIFY_MINUTES,
    DEFAULT_WARMUP_AFTER_MINUTES,
    DEFAULT_WARMUP_TEMPERATURE,
    THERMOSTAT_RETURN_TIMEOUT_MINUTES,
)
from .faults import DEFAULT_NO_FAULT_STATES
from .run import Timing
from .warmup import WarmupRule

# The options of a new heat pump, besides its entities.
DEFAULT_OPTIONS: dict[str, Any] = {
    CONF_DISCHARGE_MINUTES: DEFAULT_DISCHARGE_MINUTES,
    CONF_STARTUP_DELAY_MINUTES: DEFAULT_STARTUP_DELAY_MINUTES,
    CONF_STOP_TIMEOUT_SECONDS: DEFAULT_STOP_TIMEOUT_SECONDS,
    CONF_SWITCH_TIMEOUT_SECONDS: DEFAULT_SWITCH_TIMEOUT_SECONDS,
    CONF_STAGGER_SECONDS: DEFAULT_STAGGER_SECONDS,
    CONF_VERIFY_MINUTES: DEFAULT_VERIFY_MINUTES,
    CONF_POWER_THRESHOLD: DEFAULT_POWER_THRESHOLD,
    CONF_CURRENT_THRESHOLD: DEFAULT_CURRENT_THRESHOLD,
    CONF_NO_POWER_THRESHOLD: DEFAULT_NO_POWER_THRESHOLD,
    CONF_NO_POWER_CURRENT: DEFAULT_NO_POWER_CURRENT,
    CONF_MAX_RESETS_PER_DAY: DEFAULT_MAX_RESETS_PER_DAY,
    CONF_RECURRENCE_COUNT: DEFAULT_RECURRENCE_COUNT,
    CONF_RECURRENCE_DAYS: DEFAULT_RECURRENCE_DAYS,
}


def timing_from_options(options: Mapping[str, Any]) -> Timing:
    """Return a run's durations from the options (a missing option takes its default)."""

    def _get(key: str) -> Any:
        return options.get(key, DEFAULT_OPTIONS[key])

    return Timing(
        discharge=timedelta(minutes=_get(CONF_DISCHARGE_MINUTES)),
        startup_delay=timedelta(minutes=_get(CONF_STARTUP_DELAY_MINUTES)),
        stop_timeout=timedelta(seconds=_get(CONF_STOP_TIMEOUT_SECONDS)),
        switch_timeout=timedelta(seconds=_get(CONF_SWITCH_TIMEOUT_SECONDS)),
        stagger=timedelta(seconds=_get(CONF_STAGGER_SECONDS)),
        verify_window=timedelta(minutes=_get(CONF_VERIFY_MINUTES)),
        thermostat_return=timedelta(minutes=THERMOSTAT_RETURN_TIMEOUT_MINUTES),
    )


def warmup_from_options(options: Mapping[str, Any]) -> WarmupRule:
    """Return the warm-up rule from the options (temperatures stored in °C)."""
    floor = options.get(CONF_ROOM_FLOOR)
    return WarmupRule(
        after_minutes=int(options.get(CONF_WARMUP_AFTER_MINUTES, DEFAULT_WARMUP_AFTER_MINUTES)),
        at_or_below=float(options.get(CONF_WARMUP_TEMPERATURE, DEFAULT_WARMUP_TEMPERATURE)),
        longest_minutes=int(
            options.get(CONF_LONGEST_WARMUP_MINUTES, DEFAULT_LONGEST_WARMUP_MINUTES)
        ),
        outdoor_entity=options.get(CONF_OUTDOOR_TEMPERATURE) or None,
        room_floor=None if floor is None else float(floor),
        room_entity=options.get(CONF_ROOM_TEMPERATURE) or None,
    )


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What one heat pump's options say: its entities, timings, limits and running thresholds."""

    thermostat: str
    switches: list[str]
    # A power (W) or current (A) sensor, and the reading above which the unit counts as running.
    sensor: str | None
    power_threshold: float
    current_threshold: float
    # The "no power" levels (W, A), below the running thresholds: the reading that proves a cut.
    no_power_threshold: float
    no_power_current: float
    timing: Timing
    max_resets_per_day: int
    recurrence_count: int
    recurrence_days: int
    # The unit's fault entities and the states that mean "no fault" (issue 13).
    fault_entities: list[str]
    no_fault_states: list[str]
    # Outage protection (issue 14): off by default; the mains entity, if any.
    outage_protection: bool = False
    mains_entity: str | None = None
    # The compressor warm-up after a long outage (issue 14).
    warmup: WarmupRule = field(default_factory=WarmupRule)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Settings:
        """Read the options of a config entry (a missing option takes its default)."""

        def _get(key: str) -> Any:
            return options.get(key, DEFAULT_OPTIONS[key])

        return cls(
            thermostat=options[CONF_THERMOSTAT],
            switches=list(options[CONF_SWITCHES]),
            sensor=options.get(CONF_POWER_SENSOR) or None,
            power_threshold=float(_get(CONF_POWER_THRESHOLD)),
            current_threshold=float(_get(CONF_CURRENT_THRESHOLD)),
            no_power_threshold=float(_get(CONF_NO_POWER_THRESHOLD)),
            no_power_current=float(_get(CONF_NO_POWER_CURRENT)),
            timing=timing_from_options(options),
            max_resets_per_day=int(_get(CONF_MAX_RESETS_PER_DAY)),
            recurrence_count=int(_get(CONF_RECURRENCE_COUNT)),
            recurrence_days=int(_get(CONF_RECURRENCE_DAYS)),
            fault_entities=list(options.get(CONF_FAULT_ENTITIES) or []),
            no_fault_states=[
                str(s) for s in options.get(CONF_NO_FAULT_STATES, DEFAULT_NO_FAULT_STATES)
            ],
            outage_protection=bool(options.get(CONF_OUTAGE_PROTECTION, False)),
            mains_entity=options.get(CONF_MAINS_ENTITY) or None,
            warmup=warmup_from_options(options),
        )

    @property
    def recent_window(self) -> timedelta:
        """Return the window the recent-resets count and the recurring repair look back over."""
        return timedelta(days=self.recurrence_days)

    @property
    def shortest_discharge_minutes(self) -> int:
        """Return the discharge wait a run takes unless an action asks for a longer one."""
        return int(self.timing.discharge.total_seconds() // 60)

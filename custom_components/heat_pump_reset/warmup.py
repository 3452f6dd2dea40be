"""The compressor warm-up after a long outage (issue 14): whether to hold the thermostat off, and how long.

Installers' advice: after a long outage in the cold, leave the compressor off with power on so the
crankcase heater can warm its oil, about as long as the outage lasted (Ruud: up to 8 hours; Ducane:
6 hours or more below 10 °C / 50 °F). The hold counts from the outage's end (power back) and lasts
min(outage, longest warm-up). Temperatures are in °C here; `celsius` converts a reading.

This module is pure: no Home Assistant import. `warming` performs the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final

from .const import (
    DEFAULT_LONGEST_WARMUP_MINUTES,
    DEFAULT_WARMUP_AFTER_MINUTES,
    DEFAULT_WARMUP_TEMPERATURE,
)

_TO_CELSIUS: Final = {
    "°C": (1.0, 0.0),
    "°F": (5 / 9, -32 * 5 / 9),
    "K": (1.0, -273.15),
}


class HoldEnd(StrEnum):
    """Why a warm-up hold ended (a run's `warmup_ended`, and its record's outage)."""

    ELAPSED = "elapsed"  # its time was up
    ROOM_FLOOR = "room_floor"  # the room got as cold as the floor
    PERSON = "person"  # a person changed the thermostat
    CANCELLED = "cancelled"  # the run was cancelled
    NOTHING_HELD = "nothing_held"  # the thermostat was off already, or did not answer the off


def celsius(value: Any, unit: Any) -> float | None:
    """Return a temperature reading in °C, or None when it is not one (unit unknown, not a number)."""
    factor = _TO_CELSIUS.get(str(unit).strip()) if unit is not None else None
    if factor is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return number * factor[0] + factor[1]


def from_celsius(value: float, unit: str) -> float:
    """Return `value` (°C) in `unit` (°C, °F or K), rounded to a tenth, for a form."""
    scale, offset = _TO_CELSIUS.get(unit, (1.0, 0.0))
    return round((value - offset) / scale, 1)


@dataclass(frozen=True, kw_only=True)
class WarmupRule:
    """When and how long an outage run holds the thermostat off, and what ends the hold early."""

    after_minutes: int = DEFAULT_WARMUP_AFTER_MINUTES
    at_or_below: float = DEFAULT_WARMUP_TEMPERATURE  # °C
    longest_minutes: int = DEFAULT_LONGEST_WARMUP_MINUTES  # 0: never a hold
    outdoor_entity: str | None = None
    room_floor: float | None = None  # °C; None: no floor
    room_entity: str | None = None  # None: the thermostat's current temperature

    def minutes(self, outage_minutes: int | None, outdoor: float | None) -> int:
        """Return how many minutes to hold after an outage of `outage_minutes` (0: no hold).

        `outdoor` is the outdoor sensor's reading in °C, None when it cannot be read. Without an
        outdoor sensor the outage's length alone decides; with one that cannot be read, too: it
        cannot say the weather is warm, and the compressor's side is the safe one.
        """
        if outage_minutes is None or self.longest_minutes <= 0:
            return 0
        if outage_minutes < self.after_minutes:
            return 0
        if self.outdoor_entity is not None and outdoor is not None and outdoor > self.at_or_below:
            return 0
        return max(0, min(outage_minutes, self.longest_minutes))

    def ends_at(
        self, ended_at: datetime, outage_minutes: int | None, outdoor: float | None
    ) -> datetime | None:
        """Return when the hold ends, counted from the outage's end, or None for no hold."""
        minutes = self.minutes(outage_minutes, outdoor)
        return ended_at + timedelta(minutes=minutes) if minutes else None

    def too_cold(self, room: float | None) -> bool:
        """Whether the room (°C; None: unreadable) is at or below the floor, which ends the hold."""
        return self.room_floor is not None and room is not None and room <= self.room_floor

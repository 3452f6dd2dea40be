"""When the unit counts as running, stopped, or called for: from its thermostat and its sensor.

This module is pure: no Home Assistant import.
"""

from __future__ import annotations

from typing import Final

# hvac_action values meaning the unit is doing work: power must not be cut during them.
ACTIVE_ACTIONS: Final = frozenset({"heating", "cooling", "drying", "defrosting", "preheating"})
# hvac_action values that show the unit started after the reset.
START_ACTIONS: Final = frozenset({"heating", "cooling"})
# HVAC modes in which a thermostat can call for heating or cooling.
DEMAND_MODES: Final = frozenset({"heat", "cool", "heat_cool", "auto"})
# A room this close to its target gives the thermostat no reason to start (its own hysteresis).
DEMAND_MARGIN: Final = 0.5


def is_stopped(hvac_mode: str | None, hvac_action: str | None) -> bool:
    """Whether a thermostat reports off and no active work."""
    return hvac_mode == "off" and hvac_action not in ACTIVE_ACTIONS


def has_demand(
    hvac_mode: str | None,
    current: float | None,
    target: float | None,
    low: float | None,
    high: float | None,
) -> bool:
    """Whether the thermostat should be heating or cooling; unknown temperatures count as demand."""
    if hvac_mode not in DEMAND_MODES:
        return False
    if current is None:
        return True
    if hvac_mode == "heat":
        return target is None or current <= target - DEMAND_MARGIN
    if hvac_mode == "cool":
        return target is None or current >= target + DEMAND_MARGIN
    if low is not None and high is not None:
        return current <= low - DEMAND_MARGIN or current >= high + DEMAND_MARGIN
    if target is not None:
        return abs(current - target) >= DEMAND_MARGIN
    return True


def above_threshold(reading: float | None, threshold: float) -> bool | None:
    """Whether a sensor reading (in W or A) shows the unit running; None when it is unreadable.

    A negative reading (a reversed clamp, a meter that counts both ways) is judged by its size.
    Before a cut only False lets it proceed (unreadable counts as running); after the restore only
    True counts as a start.
    """
    if reading is None:
        return None
    return abs(reading) > threshold


def migrated_threshold(
    old: float, old_default: float, default: float, in_unit: float | None, *, kind_known: bool
) -> float:
    """Return a running threshold (W or A) for one kept from before thresholds had a unit.

    `old` was compared with the raw reading, in whatever unit the sensor had. `in_unit` is `old`
    read in the sensor's unit and converted to this threshold's unit, None when the sensor is not
    of this kind; `kind_known` whether the sensor's kind (power or current) is known at all.
    Never higher than a reading of the old value, so nothing the old threshold took for running is
    taken for idle now:
    - the old default, never changed: the new default;
    - a sensor of this kind: the lower of `old` in the sensor's unit and `old` in W or A;
    - a sensor of the other kind: the new default (the old value was not meant for this one);
    - a sensor of unknown kind (or none): `old`, but at most the new default.
    """
    if old == old_default:
        return default
    if in_unit is not None:
        return min(in_unit, old)
    if kind_known:
        return default
    return min(old, default)


def unit_working(hvac_action: str | None, above: bool | None) -> bool:
    """Whether the unit does work now: an active hvac_action, or its sensor above the threshold.

    Defrosting and preheating count. An unreadable reading (`above` None) proves nothing here
    (before a cut the reset counts it as running instead).
    """
    return hvac_action in ACTIVE_ACTIONS or above is True

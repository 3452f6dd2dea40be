"""The unit's own fault code: which states of a fault entity mean a fault, and comparing codes.

This module is pure: no Home Assistant import. A fault entity is a sensor whose state is the
unit's error code (numeric or text), or a binary sensor of device class `problem`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
import math
from typing import Final

from .sequence import Detail

# The states of an error-code sensor that mean "no fault" unless the options say otherwise; an
# empty state always does (a sensor that reports nothing shows no code).
DEFAULT_NO_FAULT_STATES: Final = ("0", "none", "ok", "no_error", "no error")
# States that tell nothing either way: neither a fault nor its absence.
_CANNOT_TELL: Final = frozenset({"unknown", "unavailable"})
# How a missing fault entity is recorded.
MISSING: Final = "unavailable"
PROBLEM_DOMAIN: Final = "binary_sensor"


class Reading(StrEnum):
    """What a fault entity's state says."""

    CLEAR = "clear"
    FAULT = "fault"
    CANNOT_TELL = "cannot_tell"


def normal(state: str) -> str:
    """Return a state as it is compared: trimmed, case-insensitive."""
    return state.strip().casefold()


def is_problem_sensor(entity_id: str) -> bool:
    """Whether the entity is a binary sensor (of device class problem: the forms offer no other)."""
    return entity_id.partition(".")[0] == PROBLEM_DOMAIN


def usable(entity_id: str, device_class: str | None, *, known: bool) -> bool:
    """Whether the forms accept `entity_id` as a fault entity.

    A sensor (any: a code is numeric or text), or a binary sensor of device class problem (one not
    loaded yet, whose class is not `known`, is taken at its word).
    """
    domain = entity_id.partition(".")[0]
    if domain == "sensor":
        return True
    return domain == PROBLEM_DOMAIN and (not known or device_class == "problem")


def reading(entity_id: str, state: str | None, no_fault_states: Iterable[str]) -> Reading:
    """Return what `state` of the fault entity `entity_id` says (None: the entity is missing)."""
    if state is None:
        return Reading.CANNOT_TELL
    value = normal(state)
    if value in _CANNOT_TELL:
        return Reading.CANNOT_TELL
    if is_problem_sensor(entity_id):
        return {"on": Reading.FAULT, "off": Reading.CLEAR}.get(value, Reading.CANNOT_TELL)
    clear = {normal(s) for s in no_fault_states}
    if not value or value in clear:
        return Reading.CLEAR
    # A numeric code compares as a number: `0.0` or `00` is the `0` of the list.
    number = _number(value)
    if number is not None and number in {_number(s) for s in clear}:
        return Reading.CLEAR
    return Reading.FAULT


def _number(value: str) -> float | None:
    """Return `value` as a finite number, or None when it is not one."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def showing(states: Mapping[str, str], no_fault_states: Iterable[str]) -> dict[str, str]:
    """Return the entities of `states` (entity id: state) that show a fault, with their codes."""
    kept = list(no_fault_states)
    return {e: s for e, s in states.items() if reading(e, s, kept) is Reading.FAULT}


def returned_detail(at_start: Mapping[str, str], returned: Mapping[str, str]) -> str:
    """Return the detail of a fault that came back: the same code as at the start, or another."""
    same = all(
        normal(at_start.get(entity_id, "")) == normal(code) for entity_id, code in returned.items()
    )
    detail = Detail.SAME_FAULT if same else Detail.DIFFERENT_FAULT
    return f"{detail}:{','.join(returned)}"


def codes(faults: Mapping[str, str]) -> str:
    """Return the codes of `faults` for a text ("E5", or "E5, on" with several)."""
    return ", ".join(code.strip() for code in faults.values())

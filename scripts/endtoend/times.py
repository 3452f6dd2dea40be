"""Times in Home Assistant's answers: parsing, printing, and reading a switch's recorded states."""

from __future__ import annotations

from datetime import datetime


def parse_time(value: str | None) -> datetime | None:
    """Parse an ISO time from Home Assistant (None when absent or not a time, as `unknown`)."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def hm(value: datetime | None) -> str:
    """Format a time on Home Assistant's clock, to the millisecond."""
    return value.strftime("%H:%M:%S.%f")[:-3] if value else "-"


def on_after_off(changes: list[tuple[str, datetime]]) -> datetime | None:
    """Return when a switch first reported on after it first reported off."""
    off = next((when for state, when in changes if state == "off"), None)
    if off is None:
        return None
    return next((when for state, when in changes if state == "on" and when > off), None)


def back_from_unavailable(changes: list[tuple[str, datetime]]) -> datetime | None:
    """Return when a switch first reported something after it first reported unavailable."""
    states = [state for state, _ in changes]
    if "unavailable" not in states:
        return None
    return next(
        (
            when
            for state, when in changes[states.index("unavailable") + 1 :]
            if state != "unavailable"
        ),
        None,
    )

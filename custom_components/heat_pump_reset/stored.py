"""Reading a stored run or record strictly: each value checked for its kind, nothing half-read.

This module is pure: no Home Assistant import. `run` and `history` read what is on disk with it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
import math
from typing import Any


class StoredRunError(ValueError):
    """A stored run this release cannot read; the message names the field."""


class Reader:
    """Reads the fields of a stored run, each of the one type it must have."""

    def __init__(self, data: dict[str, Any]) -> None:
        """Read `data`, a stored run as a dict."""
        self._data = data

    def _get(self, key: str, optional: bool) -> Any:
        value = self._data.get(key)
        if value is None and not optional:
            raise StoredRunError(key)
        return value

    def text(self, key: str, *, optional: bool = False) -> Any:
        """Return a non-empty text (or None when optional and absent)."""
        value = self._get(key, optional)
        if value is not None and (not isinstance(value, str) or not value):
            raise StoredRunError(key)
        return value

    def texts(self, key: str, *, default: list[str] | None = None) -> list[str]:
        """Return a list of non-empty texts (`default` when absent, if given)."""
        value = self._get(key, default is not None)
        if value is None and default is not None:
            return list(default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise StoredRunError(key)
        return list(value)

    def any_texts(self, key: str) -> list[str]:
        """Read a list of strings, empty ones allowed (an empty list when missing)."""
        value = self._get(key, True)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise StoredRunError(key)
        return list(value)

    def integer(self, key: str, *, default: int | None = None) -> int:
        """Return a count: an int, not a bool, not negative (`default` when absent, if given)."""
        value = self._get(key, default is not None)
        if value is None and default is not None:
            return default
        if not is_count(value):
            raise StoredRunError(key)
        return int(value)

    def number(self, key: str, *, default: float) -> float:
        """Return a finite, non-negative number, `default` when absent."""
        value = self._get(key, True)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise StoredRunError(key)
        return float(value)

    def flag(self, key: str) -> bool:
        """Return a bool, False when absent."""
        value = self._get(key, True)
        if value is not None and not isinstance(value, bool):
            raise StoredRunError(key)
        return bool(value)

    def time(self, key: str, *, optional: bool = False) -> Any:
        """Return an aware datetime from ISO text (or None when optional and absent)."""
        value = self._get(key, optional)
        if value is None:
            return None
        parsed = aware_time(value)
        if parsed is None:
            raise StoredRunError(key)
        return parsed

    def enum[E: StrEnum](self, key: str, kind: type[E], *, optional: bool = False) -> Any:
        """Return a member of `kind` (or None when optional and absent)."""
        value = self._get(key, optional)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            raise StoredRunError(key) from None

    def mapping(self, key: str, value_type: type) -> dict[str, Any]:
        """Return a dict of texts to `value_type` values, empty when absent."""
        value = self._get(key, True)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, value_type) for k, v in value.items()
        ):
            raise StoredRunError(key)
        return dict(value)


def is_count(value: Any) -> bool:
    """Whether `value` is a whole number from 0 up (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def aware_time(value: Any) -> datetime | None:
    """Return the time an ISO string with a UTC offset names; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # A year this far out would overflow once a wait is added to it.
    return parsed if parsed.utcoffset() is not None and parsed.year < 9000 else None

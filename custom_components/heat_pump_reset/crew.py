"""What performing a run's phases works with: one heat pump's collaborators, made once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from homeassistant.core import HomeAssistant

from .equipment import Equipment
from .notify import Notifier
from .run import Run, Timing
from .waiting import Waiter
from .warmup import WarmupRule
from .writing import RunWriter


@dataclass(frozen=True, kw_only=True)
class Crew:
    """One heat pump's collaborators: its entry, timings, equipment, waits, notices and writes."""

    hass: HomeAssistant
    entry_id: str
    name: str
    timing: Timing
    equipment: Equipment
    waiter: Waiter
    notifier: Notifier
    writer: RunWriter
    # Told when an outage run's outage has ended (issue 14): the event and the logbook line.
    outage_ended: Callable[[Run], None] = field(default=lambda _run: None)
    # The compressor warm-up after a long outage (issue 14).
    warmup: WarmupRule = field(default_factory=WarmupRule)

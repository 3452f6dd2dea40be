"""Whether a reset may start now: each refusal is a translated error, and touches nothing."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from uuid import uuid4

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from . import thermostat
from .const import DOMAIN, ISSUE_FAULT_RETURNED, ISSUE_POWER_STILL_FLOWING, MAX_DISCHARGE_MINUTES
from .equipment import available
from .faults import codes, showing
from .faultwatch import fault_states
from .history import (
    Record,
    acknowledged_at,
    rate_limited,
    returned_faults,
    unacknowledged_fault,
)
from .lines import fault_reason
from .naming import friendly_list
from .notify import phase_words
from .proof import flowing_unacknowledged
from .run import Run, Trigger
from .sequence import discharge_in_range
from .settings import Settings
from .wrapped import async_update_shared


@callback
def admit(
    hass: HomeAssistant,
    entry_id: str,
    name: str,
    *,
    settings: Settings,
    running: Run | None,
    history: list[Record],
    trigger: Trigger,
    reason: str | None,
    discharge_minutes: int | None,
    force: bool,
    acknowledged: Mapping[str, str] | None = None,
) -> Run:
    """Return the new run, with the thermostat's settings to restore; or raise why not."""
    now = dt_util.utcnow()
    # Before all else, `force` or not: the last cut did not cut (issue 13).
    _refuse_flowing(name, history, acknowledged_at(acknowledged, ISSUE_POWER_STILL_FLOWING))
    _check(
        hass, entry_id, name, settings, running, history, discharge_minutes, force=force, now=now
    )
    if not force:
        _refuse_fault(hass, name, history, acknowledged_at(acknowledged, ISSUE_FAULT_RETURNED))
    faults = fault_states(hass, settings.fault_entities)
    if reason is None and (shown := showing(faults, settings.no_fault_states)):
        # Started while the unit shows a fault: that is why it is reset.
        reason = fault_reason(hass, shown)
    climate = hass.states.get(settings.thermostat)
    assert climate is not None
    run = Run(
        run_id=uuid4().hex,
        trigger=trigger,
        reason=reason,
        thermostat=settings.thermostat,
        switches=list(settings.switches),
        discharge_minutes=discharge_minutes or settings.shortest_discharge_minutes,
        started_at=now,
        settings_to_restore=thermostat.capture(climate),
    )
    run.keep_sensor(settings.sensor, settings.power_threshold, settings.current_threshold)
    run.no_power_threshold = settings.no_power_threshold
    run.no_power_current = settings.no_power_current
    run.fault_entities = list(settings.fault_entities)
    run.no_fault_states = list(settings.no_fault_states)
    run.faults_at_start = faults
    return run


def _refuse_flowing(name: str, history: list[Record], acknowledged: datetime | None) -> None:
    """Refuse every start, `force` too, while the power-still-flowing repair is unacknowledged.

    The last cut did not cut: another reset would only pretend to (issue 13).
    """
    if flowing_unacknowledged(history, acknowledged):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="power_still_flowing",
            translation_placeholders={"name": name},
        )


@callback
def _refuse_fault(
    hass: HomeAssistant, name: str, history: list[Record], acknowledged: datetime | None
) -> None:
    """Refuse a start without `force` while the repair of a fault that came back stands."""
    record = unacknowledged_fault(history, acknowledged)
    if record is None:
        return
    found = returned_faults(record)
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="fault_returned",
        translation_placeholders={
            "name": name,
            "code": codes(found) or "?",
            "entities": friendly_list(hass, found),
        },
    )


def _check(  # noqa: PLR0917
    hass: HomeAssistant,
    entry_id: str,
    name: str,
    settings: Settings,
    run: Run | None,
    history: list[Record],
    discharge_minutes: int | None,
    *,
    force: bool,
    now: datetime,
) -> None:
    """Raise the reason a start is refused, if any: in the order a person would fix them."""
    shortest = settings.shortest_discharge_minutes
    if discharge_minutes is not None and not discharge_in_range(
        discharge_minutes, shortest, MAX_DISCHARGE_MINUTES
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="discharge_out_of_range",
            translation_placeholders={
                "value": str(discharge_minutes),
                "minimum": str(shortest),
                "maximum": str(MAX_DISCHARGE_MINUTES),
            },
        )
    if run is not None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="already_running",
            translation_placeholders={"name": name, "phase": phase_words(hass, run.phase)},
        )
    _refuse_shared(hass, entry_id, name)
    limit = settings.max_resets_per_day
    if not force and (count := rate_limited(history, now, limit)) is not None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="rate_limited",
            translation_placeholders={"name": name, "count": str(count), "limit": str(limit)},
        )
    for entity_id in (settings.thermostat, *settings.switches):
        if not available(hass.states.get(entity_id)):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entity_unavailable",
                translation_placeholders={"entity_id": entity_id},
            )


@callback
def _refuse_shared(hass: HomeAssistant, entry_id: str, name: str) -> None:
    """Refuse a start while another loaded heat pump switches one of our entities.

    Its reset would cut our power while we run, or bring it back during our discharge wait.
    The flows refuse such a pick; this catches an entry edited by hand or by an older release.
    """
    for entity_id, entries in async_update_shared(hass).items():
        others = [e.title for e in entries if e.entry_id != entry_id]
        if len(others) < len(entries):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="shared_entity",
                translation_placeholders={
                    "name": name,
                    "entity_id": entity_id,
                    "others": ", ".join(sorted(others)),
                },
            )

"""Putting everything back: after an unreadable stored run, and when a heat pump goes away.

A heat pump goes away mid-run when its entry is disabled or removed: everything goes back at once.
"""

from __future__ import annotations

import logging
from uuid import uuid4

from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .equipment import Equipment
from .issues import async_follow_power
from .notify import Notifier
from .run import Outcome, Run
from .salvage import recovery_run
from .settings import Settings
from .storage import RunStore, UnreadableRun

_LOGGER = logging.getLogger(__name__)


async def read_stored_run(
    store: RunStore, settings: Settings, notifier: Notifier, name: str
) -> Run | None:
    """Return the stored run; one that cannot be read becomes a run that puts everything back.

    Power may be off: it comes back (after the discharge wait, if the data still says when it
    started), and the thermostat settings too, as far as the data tells.
    """
    stored = await store.async_load()
    if not isinstance(stored, UnreadableRun):
        return stored
    run = recovery_run(
        stored.data,
        new_id=uuid4().hex,
        thermostat=settings.thermostat,
        switches=list(settings.switches),
        discharge_minutes=settings.shortest_discharge_minutes,
        now=dt_util.utcnow(),
    )
    _LOGGER.error(
        "The stored reset of %s cannot be read (%s); %s and recording it as failed. What it"
        " held is kept in the diagnostics",
        name,
        stored.reason,
        # An outage run never cut power (issue 14): only its thermostat goes back.
        f"turning {', '.join(run.switches)} back on"
        if run.power_was_cut
        else "putting the thermostat back",
    )
    if not run.settings_to_restore:
        await notifier.unreadable(run)
    return run


async def put_back_now(
    hass: HomeAssistant,
    run: Run,
    detail: str,
    *,
    entry_id: str,
    equipment: Equipment,
    notifier: Notifier,
) -> None:
    """End `run` (`cancelled`, `detail`) with power and the thermostat back, as far as they go.

    There is no later retry (the entry is going away), so what could not be put back is left to
    the household in a notification that stays until dismissed.
    """
    kit = equipment
    run.end_early(Outcome.CANCELLED, detail)
    left_off: list[str] = []
    if run.power_was_cut and run.power_on_at is None:
        # No stagger: the thermostat is still off, so nothing calls for the compressor yet.
        # A switch a person turned off during the restore stays off (their decision).
        left_off = [
            e
            for e in run.switches
            if e not in run.switches_left_off and not await kit.switch_to(e, STATE_ON)
        ]
        run.power_on_at = dt_util.utcnow()
    # The critical power issue goes now if every switch is on, or later when they are.
    async_follow_power(
        hass,
        entry_id,
        [e for e in run.switches if e not in run.switches_left_off],
    )
    thermostat_back = True
    if run.settings_to_restore and not run.thermostat_overridden:
        thermostat_back = kit.present(run.thermostat) and await kit.apply_settings(run)
    if not thermostat_back:
        run.thermostat_not_restored(
            kit.thermostat_failure(run, returned=kit.present(run.thermostat))
        )
    if left_off or not thermostat_back:
        # Told before the run is recorded, so that a failing write cannot swallow it.
        _LOGGER.error(
            "Heat pump reset %s ended (%s) with %s; put them back by hand",
            run.run_id,
            detail,
            ", ".join([*left_off, *([] if thermostat_back else [run.thermostat])]),
        )
        await notifier.left_behind(run, left_off, thermostat_back)

"""Driving a run from the outside: simulated time, the actions, the states and the stores on 'disk'."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant, State
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.heat_pump_reset.const import DOMAIN

from .entity_ids import PHASE, SENSOR
from .timings import COARSE, FULL_RUN

# --- Time -------------------------------------------------------------------------------------

# Loop turns a run needs between two waits (state write, store save, service call, confirmation).
SETTLE_ROUNDS = 5


# How long a file read in the executor (a translation, a store) may take on a loaded machine.
EXECUTOR_SECONDS = 30


async def settle(hass: HomeAssistant) -> None:
    """Let the run's background task catch up: block_till_done does not wait for background tasks.

    Nor for the executor jobs they start (Home Assistant files them with the background tasks):
    a notification that loads a language's translations from disk would otherwise land after the
    test looked, on a loaded machine only. Those jobs are awaited here (the run's own task is not:
    it waits for simulated time).
    """
    for _ in range(SETTLE_ROUNDS):
        await hass.async_block_till_done()
        jobs = [
            job
            for job in hass._background_tasks
            if not isinstance(job, asyncio.Task) and not job.done()
        ]
        if jobs:
            await asyncio.wait(jobs, timeout=EXECUTOR_SECONDS)
        await asyncio.sleep(0)


async def advance(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    delta: timedelta,
    step: timedelta = timedelta(seconds=1),
) -> None:
    """Move simulated time forward in small steps, letting each due timer and task run."""
    remaining = delta
    while remaining > timedelta(0):
        tick = min(step, remaining)
        freezer.tick(tick)
        async_fire_time_changed(hass)
        await settle(hass)
        remaining -= tick


async def advance_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: datetime) -> None:
    """Move simulated time to exactly `when`, in coarse steps."""
    delta = when - dt_util.utcnow()
    assert delta >= timedelta(0)
    await advance(hass, freezer, delta, step=COARSE)


# --- States -----------------------------------------------------------------------------------


def state(hass: HomeAssistant, entity_id: str) -> State:
    """Return an entity's state, failing clearly when it does not exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current


def set_power(
    hass: HomeAssistant, reading: str, unit: str | None = "W", entity_id: str = SENSOR
) -> None:
    """Set the power (or current) sensor's reading, in `unit` (None: a sensor without a unit)."""
    hass.states.async_set(entity_id, reading, {} if unit is None else {"unit_of_measurement": unit})


# --- The actions ------------------------------------------------------------------------------


async def start(
    hass: HomeAssistant, entry: ConfigEntry, context: Context | None = None, **data: Any
) -> str:
    """Start a reset through the action, let it run until its first wait and return its id."""
    response = await hass.services.async_call(
        DOMAIN,
        "start_reset",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
        context=context,
    )
    await settle(hass)
    assert response is not None
    return str(response["run_id"])


async def cancel(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Cancel the running reset through the action and let the run react."""
    await hass.services.async_call(
        DOMAIN, "cancel_reset", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await settle(hass)


async def run_once(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: ConfigEntry,
    context: Context | None = None,
    **data: Any,
) -> str:
    """Start a reset through the action and let it run to its end; return its run id."""
    run_id = await start(hass, entry, context, **data)
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert state(hass, PHASE).state == "idle"
    return run_id


# --- The stores on "disk" (hass_storage) ------------------------------------------------------


async def get_history(
    hass: HomeAssistant, entry: ConfigEntry, context: Context | None = None, **data: Any
) -> list[dict[str, Any]]:
    """Return the runs the get_history action answers (as `context`'s user, if given)."""
    response = await hass.services.async_call(
        DOMAIN,
        "get_history",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
        context=context,
    )
    assert response is not None
    runs: list[dict[str, Any]] = response["runs"]  # type: ignore[assignment]
    return runs


def store_key(entry: ConfigEntry) -> str:
    """Return the store key of the entry's active run."""
    return f"{DOMAIN}.run.{entry.entry_id}"


def stored(hass_storage: dict[str, Any], entry: ConfigEntry) -> dict[str, Any]:
    """Return what the entry's store holds on 'disk'."""
    data: dict[str, Any] = hass_storage[store_key(entry)]["data"]
    return data


def stored_time(hass_storage: dict[str, Any], entry: ConfigEntry, key: str) -> datetime:
    """Return a time of the stored active run."""
    value = stored(hass_storage, entry)["active"][key]
    assert value is not None, key
    return datetime.fromisoformat(value)


def stored_history(hass_storage: dict[str, Any], entry: ConfigEntry) -> list[dict[str, Any]]:
    """Return the entry's finished runs as written to 'disk', newest first."""
    history = hass_storage.get(f"{DOMAIN}.history.{entry.entry_id}")
    runs: list[dict[str, Any]] = history["data"]["runs"] if history else []
    return runs

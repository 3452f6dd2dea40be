"""Sensors: the run's phase and countdown, and the history: last outcome, last reset, recent count."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.util import dt as dt_util

from .controller import ResetController
from .entity import HeatPumpResetEntity
from .history import RECENT_RUNS_SHOWN, summary
from .lines import history_line
from .run import Outcome, Phase
from .runtime import HeatPumpResetConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ResetSensorDescription(SensorEntityDescription):
    """Describes a sensor by how it reads the controller."""

    value_fn: Callable[[ResetController], str | int | datetime | None]
    attributes_fn: Callable[[ResetController], Mapping[str, Any] | None] = lambda _c: None
    # When the value next changes by itself (time passing), if it can.


def _run_attributes(controller: ResetController) -> Mapping[str, Any] | None:
    """Describe the active run."""
    run = controller.run
    if run is None:
        return None
    return {"run_id": run.run_id, "trigger": run.trigger.value, "reason": run.reason}


def _last_attributes(controller: ResetController) -> Mapping[str, Any] | None:
    """Describe the last finished run."""
    last = controller.last
    if last is None:
        return None
    return {
        "run_id": last["run_id"],
        "finished_at": last.get("finished_at"),
        "detail": last.get("detail"),
        "thermostat_restored": last.get("thermostat_restored"),
        "thermostat_detail": last.get("thermostat_detail"),
    }


def _last_finished(controller: ResetController) -> datetime | None:
    """Return when the last run finished; during a reset that has cut power, when that one started."""
    run = controller.run
    if run is not None and run.power_was_cut:
        return run.started_at
    last = controller.last
    if last is None or not last.get("finished_at"):
        return None
    return dt_util.parse_datetime(last["finished_at"])


def _recent_runs(controller: ResetController) -> Mapping[str, Any]:
    """List the newest finished runs in a few fields each, for a dashboard (not recorded).

    `text` says the run in one line in Home Assistant's language, so a card shows it as it is.
    """
    runs = [summary(record) for record in controller.history[:RECENT_RUNS_SHOWN]]
    return {"runs": [{**run, "text": history_line(controller.hass, run)} for run in runs]}


def _recent_count(controller: ResetController) -> int:
    """Count the resets in the window, the one under way too once it has cut power."""
    running = controller.run is not None and controller.run.power_was_cut
    return controller.recent_resets(dt_util.utcnow()) + int(running)


def _recent_attributes(controller: ResetController) -> Mapping[str, Any]:
    """Say which window the count covers."""
    return {"window_days": controller.settings.recent_window.days}


SENSORS: tuple[ResetSensorDescription, ...] = (
    ResetSensorDescription(
        key="phase",
        translation_key="phase",
        device_class=SensorDeviceClass.ENUM,
        options=[phase.value for phase in Phase],
        value_fn=lambda c: c.phase.value,
        attributes_fn=_run_attributes,
    ),
    ResetSensorDescription(
        key="phase_ends_at",
        translation_key="phase_ends_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda c: c.run.phase_ends_at if c.run is not None else None,
    ),
    ResetSensorDescription(
        key="last_outcome",
        translation_key="last_outcome",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.ENUM,
        options=[outcome.value for outcome in Outcome],
        value_fn=lambda c: c.last["outcome"] if c.last is not None else None,
        attributes_fn=_last_attributes,
    ),
    ResetSensorDescription(
        key="last_reset",
        translation_key="last_reset",
        entity_category=EntityCategory.DIAGNOSTIC,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_last_finished,
        attributes_fn=_recent_runs,
    ),
    ResetSensorDescription(
        key="recent_resets",
        translation_key="recent_resets",
        entity_category=EntityCategory.DIAGNOSTIC,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_recent_count,
        attributes_fn=_recent_attributes,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: HeatPumpResetConfigEntry,
    async_add_entities: AddEntitiesCallback,
) -> None:
    """Add the sensors of one heat pump."""
    async_add_entities(ResetSensor(entry, description) for description in SENSORS)


class ResetSensor(HeatPumpResetEntity, SensorEntity):
    """A sensor reading the reset controller."""

    entity_description: ResetSensorDescription
    # The Last reset sensor's list of recent runs is for dashboards; the history keeps them anyway.
    _unrecorded_attributes = frozenset({"runs"})

    def __init__(
        self, entry: HeatPumpResetConfigEntry, description: ResetSensorDescription
    ) -> None:
        """Create the sensor described by `description`."""
        super().__init__(entry, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> str | int | datetime | None:
        """Return the value read from the controller."""
        return self.entity_description.value_fn(self.controller)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return details of the run the value belongs to."""
        return self.entity_description.attributes_fn(self.controller)

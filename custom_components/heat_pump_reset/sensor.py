"""Sensors: the run's phase, when the current wait ends, and how the last run ended."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback

from .entity import HeatPumpResetEntity
from .orchestrator import ResetController
from .runtime import HeatPumpResetConfigEntry
from .sequence import Outcome, Phase

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ResetSensorDescription(SensorEntityDescription):
    """Describes a sensor by how it reads the controller."""

    value_fn: Callable[[ResetController], str | datetime | None]
    attributes_fn: Callable[[ResetController], Mapping[str, Any] | None] = lambda _c: None


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
        "run_id": last.run_id,
        "finished_at": last.finished_at.isoformat(),
        "detail": last.detail,
    }


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
        device_class=SensorDeviceClass.ENUM,
        options=[outcome.value for outcome in Outcome],
        value_fn=lambda c: c.last.outcome.value if c.last is not None else None,
        attributes_fn=_last_attributes,
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

    def __init__(
        self, entry: HeatPumpResetConfigEntry, description: ResetSensorDescription
    ) -> None:
        """Create the sensor described by `description`."""
        super().__init__(entry, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> str | datetime | None:
        """Return the value read from the controller."""
        return self.entity_description.value_fn(self.controller)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return details of the run the value belongs to."""
        return self.entity_description.attributes_fn(self.controller)

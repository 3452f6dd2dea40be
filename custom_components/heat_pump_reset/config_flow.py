"""Config, options and reconfigure flows: pick the thermostat, power switches and timings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import selector
import voluptuous as vol

from . import thermostat, wrapped
from .compat import ENTITY_SELECTOR_REORDER, OPTIONS_FLOW_BASE, OPTIONS_FLOW_RELOADS, ha_schema
from .const import (
    CONF_CURRENT_THRESHOLD,
    CONF_DISCHARGE_MINUTES,
    CONF_FAULT_ENTITIES,
    CONF_MAX_RESETS_PER_DAY,
    CONF_NO_FAULT_STATES,
    CONF_NO_POWER_CURRENT,
    CONF_NO_POWER_THRESHOLD,
    CONF_POWER_SENSOR,
    CONF_POWER_THRESHOLD,
    CONF_RECURRENCE_COUNT,
    CONF_RECURRENCE_DAYS,
    CONF_STAGGER_SECONDS,
    CONF_STARTUP_DELAY_MINUTES,
    CONF_STOP_TIMEOUT_SECONDS,
    CONF_SWITCH_TIMEOUT_SECONDS,
    CONF_SWITCHES,
    CONF_THERMOSTAT,
    CONF_VERIFY_MINUTES,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_VERSION,
    MAX_DISCHARGE_MINUTES,
    MIN_DISCHARGE_MINUTES,
)
from .faultform import (
    fault_entities_field,
    fault_options,
    faults_schema,
    refused_fault_entities,
    tidy,
)
from .naming import friendly_name
from .outageform import outage_options, outages_schema, refused_outage_entity, tidy_outages
from .reading import THRESHOLD_UNITS, SensorKind, kind_of, sensor_unit
from .settings import DEFAULT_OPTIONS

# Each whole-number option: its bounds and unit (None: a plain count) as the form shows them.
_TIMING_BOUNDS: dict[str, tuple[float, float, str | None]] = {
    CONF_DISCHARGE_MINUTES: (MIN_DISCHARGE_MINUTES, MAX_DISCHARGE_MINUTES, "min"),
    CONF_STARTUP_DELAY_MINUTES: (0, 30, "min"),
    CONF_STOP_TIMEOUT_SECONDS: (10, 900, "s"),
    CONF_SWITCH_TIMEOUT_SECONDS: (5, 300, "s"),
    CONF_STAGGER_SECONDS: (0, 300, "s"),
    CONF_VERIFY_MINUTES: (1, 120, "min"),
}
# Each running threshold and "no power" level: the sensor kind it is for, and its upper bound in
# its unit (W, A).
_THRESHOLDS: dict[str, tuple[SensorKind, float]] = {
    CONF_POWER_THRESHOLD: (SensorKind.POWER, 100000),
    CONF_NO_POWER_THRESHOLD: (SensorKind.POWER, 1000),
    CONF_CURRENT_THRESHOLD: (SensorKind.CURRENT, 1000),
    CONF_NO_POWER_CURRENT: (SensorKind.CURRENT, 10),
}
# Each "no power" level and the running threshold it must stay below (issue 13).
_NO_POWER_BELOW: dict[str, str] = {
    CONF_NO_POWER_THRESHOLD: CONF_POWER_THRESHOLD,
    CONF_NO_POWER_CURRENT: CONF_CURRENT_THRESHOLD,
}
# The limits on how often resets run, shown after the running threshold.
_LIMIT_BOUNDS: dict[str, tuple[float, float, str | None]] = {
    CONF_MAX_RESETS_PER_DAY: (1, 10, None),
    CONF_RECURRENCE_COUNT: (2, 10, None),
    CONF_RECURRENCE_DAYS: (1, 365, "d"),
}


def _whole_number(low: float, high: float, unit: str | None) -> Any:
    """Return the validator of a whole-number option: a number box, stored as int."""
    config = selector.NumberSelectorConfig(
        min=low, max=high, step=1, mode=selector.NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return vol.All(selector.NumberSelector(config), vol.Coerce(int), vol.Range(min=low, max=high))


def _entities_schema(defaults: dict[str, Any], in_use: list[str]) -> vol.Schema:
    """Return the form for the wrapped entities, prefilled with `defaults`.

    It does not offer `in_use`, the thermostats and switches other heat pumps switch (the form's
    `in_use` errors still catch one taken while the form was open). The switches can be put in
    order where the frontend can (2026.x).
    """
    sensor_default = defaults.get(CONF_POWER_SENSOR)
    sensor_key = vol.Optional(
        CONF_POWER_SENSOR,
        description={"suggested_value": sensor_default} if sensor_default else None,
    )
    thermostat_config = selector.EntitySelectorConfig(domain="climate", exclude_entities=in_use)
    # 2025.4's type has no `reorder` key (compat decides whether to pass it).
    switches_config = cast(
        "selector.EntitySelectorConfig",
        {
            "domain": "switch",
            "multiple": True,
            "exclude_entities": in_use,
            **ENTITY_SELECTOR_REORDER,
        },
    )
    return vol.Schema(
        {
            vol.Required(CONF_THERMOSTAT, default=defaults.get(CONF_THERMOSTAT, vol.UNDEFINED)): (
                selector.EntitySelector(thermostat_config)
            ),
            vol.Required(CONF_SWITCHES, default=defaults.get(CONF_SWITCHES, vol.UNDEFINED)): (
                selector.EntitySelector(switches_config)
            ),
            sensor_key: selector.EntitySelector(
                selector.EntitySelectorConfig(
                    domain="sensor",
                    device_class=[SensorDeviceClass.POWER, SensorDeviceClass.CURRENT],
                )
            ),
            **fault_entities_field(defaults),
        }
    )


# The options form's sections, in order: what each groups. The saved options stay flat.
SECTION_TIMINGS = "timings"
SECTION_RUNNING = "running"
SECTION_LIMITS = "limits"
# The unit's fault entities and its "no fault" states (issue 13).
SECTION_FAULTS = "faults"
# Outage protection and the mains entity (issue 14).
SECTION_OUTAGES = "outages"
OPTION_SECTIONS: dict[str, tuple[str, ...]] = {
    SECTION_TIMINGS: tuple(_TIMING_BOUNDS),
    SECTION_RUNNING: tuple(_THRESHOLDS),
    SECTION_LIMITS: tuple(_LIMIT_BOUNDS),
    SECTION_FAULTS: (CONF_FAULT_ENTITIES, CONF_NO_FAULT_STATES),
}


def _options_schema(options: dict[str, Any], kind: SensorKind | None, degrees: str) -> vol.Schema:
    """Return the timings form with the current values as defaults, in its sections.

    It shows the running threshold of the sensor's kind, in W or A; both when the kind is not
    known (no sensor, or a sensor not loaded yet). Temperatures in `degrees` (°C or °F).
    """
    timings: dict[Any, Any] = {}
    for key, bounds in _TIMING_BOUNDS.items():
        timings[vol.Required(key, default=options.get(key, DEFAULT_OPTIONS[key]))] = _whole_number(
            *bounds
        )
    running: dict[Any, Any] = {}
    for key, (of_kind, high) in _THRESHOLDS.items():
        if kind is not None and of_kind is not kind:
            continue
        running[vol.Required(key, default=options.get(key, DEFAULT_OPTIONS[key]))] = vol.All(
            selector.NumberSelector(
                selector.NumberSelectorConfig(
                    min=0,
                    max=high,
                    step="any",
                    mode=selector.NumberSelectorMode.BOX,
                    unit_of_measurement=THRESHOLD_UNITS[of_kind],
                )
            ),
            vol.Coerce(float),
            vol.Range(min=0, max=high),
        )
    limits: dict[Any, Any] = {}
    for key, bounds in _LIMIT_BOUNDS.items():
        limits[vol.Required(key, default=options.get(key, DEFAULT_OPTIONS[key]))] = _whole_number(
            *bounds
        )
    return vol.Schema(
        {
            vol.Required(SECTION_TIMINGS): section(
                ha_schema(vol.Schema(timings)), {"collapsed": False}
            ),
            vol.Required(SECTION_RUNNING): section(
                ha_schema(vol.Schema(running)), {"collapsed": False}
            ),
            vol.Required(SECTION_LIMITS): section(
                ha_schema(vol.Schema(limits)), {"collapsed": False}
            ),
            # Optional: a form submitted without it (an older client) keeps the fault options.
            vol.Optional(SECTION_FAULTS): section(
                ha_schema(faults_schema(options)), {"collapsed": False}
            ),
            vol.Optional(SECTION_OUTAGES): section(
                ha_schema(outages_schema(options, degrees)), {"collapsed": True}
            ),
        }
    )


def _flatten(user_input: dict[str, Any], degrees: str) -> dict[str, Any]:
    """Return the options of a submitted sectioned form, flat, as they have always been stored."""
    flat: dict[str, Any] = {}
    for name in OPTION_SECTIONS:
        flat.update(user_input.get(name, {}))
    if SECTION_FAULTS in user_input:
        flat.update(fault_options(user_input[SECTION_FAULTS]))
    if SECTION_OUTAGES in user_input:
        flat.update(outage_options(user_input[SECTION_OUTAGES], degrees))
    return flat


class HeatPumpResetConfigFlow(ConfigFlow, domain=DOMAIN):
    """Adds one heat pump per thermostat."""

    VERSION = ENTRY_VERSION
    MINOR_VERSION = ENTRY_MINOR_VERSION

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: Any) -> OptionsFlow:
        """Return the timings editor."""
        return HeatPumpResetOptionsFlow()

    def _validate(
        self, user_input: dict[str, Any], entry_id: str | None = None
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Return form errors for the picked entities, and the placeholders their texts use.

        A thermostat or switch another heat pump (any entry but `entry_id`) switches is refused:
        a reset of one would cut the other's power while it runs.
        """
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        thermostat_id = user_input[CONF_THERMOSTAT]
        state = self.hass.states.get(thermostat_id)
        if state is None:
            errors[CONF_THERMOSTAT] = "thermostat_not_found"
        elif not thermostat.supports_off(state):
            errors[CONF_THERMOSTAT] = "thermostat_no_off"
        elif owner := wrapped.owner_elsewhere(self.hass, thermostat_id, entry_id):
            errors[CONF_THERMOSTAT] = "thermostat_in_use"
            placeholders["thermostat_owner"] = owner
        switches = user_input.get(CONF_SWITCHES) or []
        in_use = (
            (switch, owner)
            for switch in switches
            if (owner := wrapped.owner_elsewhere(self.hass, switch, entry_id))
        )
        if not switches:
            errors[CONF_SWITCHES] = "no_switches"
        elif len(set(switches)) != len(switches):
            errors[CONF_SWITCHES] = "duplicate_switches"
        elif shared := next(in_use, None):
            errors[CONF_SWITCHES] = "switch_in_use"
            placeholders["switch"] = friendly_name(self.hass, shared[0])
            placeholders["switch_owner"] = shared[1]
        sensor = user_input.get(CONF_POWER_SENSOR)
        if sensor and kind_of(sensor_unit(self.hass, sensor)) is None:
            # Its readings could not be converted to W or A: it could never show the unit idle.
            errors[CONF_POWER_SENSOR] = "sensor_unit"
        if refused_fault_entities(self.hass, user_input.get(CONF_FAULT_ENTITIES)):
            errors[CONF_FAULT_ENTITIES] = "fault_entity_kind"
        return errors, placeholders

    @staticmethod
    def _entities(user_input: dict[str, Any]) -> dict[str, Any]:
        """Return the entity options from a submitted form."""
        return {
            CONF_THERMOSTAT: user_input[CONF_THERMOSTAT],
            CONF_SWITCHES: list(user_input[CONF_SWITCHES]),
            CONF_POWER_SENSOR: user_input.get(CONF_POWER_SENSOR) or None,
            CONF_FAULT_ENTITIES: list(user_input.get(CONF_FAULT_ENTITIES) or []),
        }

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a name, the thermostat, the power switches and an optional power sensor."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            await self.async_set_unique_id(user_input[CONF_THERMOSTAT])
            self._abort_if_unique_id_configured()
            errors, placeholders = self._validate(user_input)
            if not errors:
                return self.async_create_entry(
                    title=user_input[CONF_NAME],
                    data={},
                    options=tidy({**DEFAULT_OPTIONS, **self._entities(user_input)}),
                )
        schema = vol.Schema(
            {vol.Required(CONF_NAME, default="Heat pump"): selector.TextSelector()}
        ).extend(_entities_schema(user_input or {}, wrapped.used_elsewhere(self.hass, None)).schema)
        return self.async_show_form(
            step_id="user",
            data_schema=ha_schema(schema),
            errors=errors,
            description_placeholders=placeholders or None,
        )

    def _update_and_reload(
        self, entry: ConfigEntry[Any], *, unique_id: str, options: dict[str, Any]
    ) -> ConfigFlowResult:
        """Save the entry and reload it once.

        Before 2025.8 the entry's update listener reloads it on any change, so a reload scheduled
        here as well would stop and resume a run under way twice.
        """
        if OPTIONS_FLOW_RELOADS:
            return self.async_update_reload_and_abort(entry, unique_id=unique_id, options=options)
        if not self.hass.config_entries.async_update_entry(
            entry, unique_id=unique_id, options=options
        ):
            # Nothing changed, so no listener reloads: reload as the newer releases do.
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return self.async_abort(reason="reconfigure_successful")

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the wrapped entities of an existing heat pump."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            await self.async_set_unique_id(user_input[CONF_THERMOSTAT])
            if user_input[CONF_THERMOSTAT] != entry.unique_id:
                self._abort_if_unique_id_configured()
            errors, placeholders = self._validate(user_input, entry.entry_id)
            if not errors:
                return self._update_and_reload(
                    entry,
                    unique_id=user_input[CONF_THERMOSTAT],
                    options=tidy({**entry.options, **self._entities(user_input)}),
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=ha_schema(
                _entities_schema(
                    user_input or dict(entry.options),
                    wrapped.used_elsewhere(self.hass, entry.entry_id),
                )
            ),
            errors=errors,
            description_placeholders=placeholders or None,
        )


if TYPE_CHECKING:
    _OptionsFlowBase = OptionsFlow
else:
    _OptionsFlowBase = OPTIONS_FLOW_BASE


class HeatPumpResetOptionsFlow(_OptionsFlowBase):
    """Edits the timings and the running threshold; the entry reloads and a run carries on."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Show and save the timings."""
        options = dict(self.config_entry.options)
        sensor = options.get(CONF_POWER_SENSOR)
        unit = sensor_unit(self.hass, sensor) if sensor else None
        errors: dict[str, str] = {}
        degrees = self.hass.config.units.temperature_unit
        if user_input is not None:
            merged = {**options, **_flatten(user_input, degrees)}
            if unit is not None and kind_of(unit) is None:
                # The sensor's unit changed to one that cannot be converted: pick another sensor.
                errors["base"] = "sensor_unit"
            elif any(
                0
                < float(merged.get(low, DEFAULT_OPTIONS[low]))
                >= float(merged.get(high, DEFAULT_OPTIONS[high]))
                for low, high in _NO_POWER_BELOW.items()
            ):
                # Below, or 0 (only a reading of exactly 0 is no power, whatever the threshold).
                errors["base"] = "no_power_not_below"
            elif refused_fault_entities(
                self.hass, user_input.get(SECTION_FAULTS, {}).get(CONF_FAULT_ENTITIES)
            ):
                errors["base"] = "fault_entity_kind"
            elif (wrong := refused_outage_entity(user_input.get(SECTION_OUTAGES))) is not None:
                errors["base"] = "mains_entity_kind"
                if wrong == "temperature_entity_kind":
                    errors["base"] = "temperature_entity_kind"
            else:
                data = tidy_outages(tidy(merged))
                return self.async_create_entry(data=data)
        return self.async_show_form(
            step_id="init",
            data_schema=ha_schema(_options_schema(options, kind_of(unit), degrees)),
            errors=errors,
        )

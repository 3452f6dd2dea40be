"""The entities a heat pump wraps: renames are followed, removals raise a repair issue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import (
    CALLBACK_TYPE,
    CoreState,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import (
    async_track_state_change_event,
)

from .compat import OPTIONS_FLOW_RELOADS
from .const import CONF_FAULT_ENTITIES, CONF_POWER_SENSOR, CONF_SWITCHES, CONF_THERMOSTAT, DOMAIN
from .issues import (
    async_forget_unwrapped,
    async_manage_disabled,
    async_manage_missing,
    async_manage_shared,
)
from .sequence import shared_entities

if TYPE_CHECKING:
    from .runtime import HeatPumpResetConfigEntry


def wrapped_ids(options: dict[str, Any]) -> list[str]:
    """Return the thermostat, the power switches, the sensor (when set) and the fault entities."""
    sensor = options.get(CONF_POWER_SENSOR)
    return [
        options[CONF_THERMOSTAT],
        *options[CONF_SWITCHES],
        *([sensor] if sensor else []),
        *options.get(CONF_FAULT_ENTITIES, []),
    ]


def switched_ids(options: dict[str, Any]) -> list[str]:
    """Return the entities a heat pump switches: its thermostat and power switches (not the sensor)."""
    thermostat_id = options.get(CONF_THERMOSTAT)
    return [*([thermostat_id] if thermostat_id else []), *options.get(CONF_SWITCHES, [])]


@callback
def owner_elsewhere(hass: HomeAssistant, entity_id: str, entry_id: str | None) -> str | None:
    """Return the name of another heat pump (any entry but `entry_id`) that switches `entity_id`."""
    for other in hass.config_entries.async_entries(DOMAIN):
        if other.entry_id != entry_id and entity_id in switched_ids(dict(other.options)):
            return other.title
    return None


@callback
def used_elsewhere(hass: HomeAssistant, entry_id: str | None) -> list[str]:
    """Return the thermostats and switches other heat pumps (any entry but `entry_id`) switch."""
    used: dict[str, None] = {}
    for other in hass.config_entries.async_entries(DOMAIN):
        if other.entry_id != entry_id:
            used.update(dict.fromkeys(switched_ids(dict(other.options))))
    return list(used)


@callback
def async_update_shared(hass: HomeAssistant) -> dict[str, list[ConfigEntry[Any]]]:
    """Return the entities loaded heat pumps share, with those heat pumps; raise or clear the issues."""
    loaded = {
        entry.entry_id: entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.state is ConfigEntryState.LOADED
    }
    switched: dict[str, list[str]] = {
        entry_id: entry.runtime_data.switched_ids for entry_id, entry in loaded.items()
    }
    shared = {
        entity_id: [loaded[entry_id] for entry_id in entry_ids]
        for entity_id, entry_ids in shared_entities(switched).items()
    }
    async_manage_shared(
        hass,
        {
            entity_id: sorted(entry.title for entry in entries)
            for entity_id, entries in shared.items()
        },
    )
    return shared


@callback
def async_watch_shared(hass: HomeAssistant, entry: ConfigEntry[Any]) -> CALLBACK_TYPE:
    """Update the sharing issues whenever `entry` is loaded or starts unloading; return the remover."""

    @callback
    def _state_changed() -> None:
        async_update_shared(hass)

    return entry.async_on_state_change(_state_changed)


def replace_in_options(options: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """Return the options with entity `old` replaced by `new` wherever it is wrapped."""
    updated = dict(options)
    if updated.get(CONF_THERMOSTAT) == old:
        updated[CONF_THERMOSTAT] = new
    updated[CONF_SWITCHES] = [new if e == old else e for e in updated[CONF_SWITCHES]]
    if updated.get(CONF_POWER_SENSOR) == old:
        updated[CONF_POWER_SENSOR] = new
    if CONF_FAULT_ENTITIES in updated:
        updated[CONF_FAULT_ENTITIES] = [
            new if e == old else e for e in updated[CONF_FAULT_ENTITIES]
        ]
    return updated


async def async_replace(
    hass: HomeAssistant, entry: HeatPumpResetConfigEntry, old: str, new: str
) -> None:
    """Wrap `new` instead of `old`, in the options and in a run under way, then reload."""
    # The run resumes from its stored copy after the reload: it must name the new entity too.
    await entry.runtime_data.async_replace_entity(old, new)
    _replace_in_entry(hass, entry, old, new)


@callback
def _replace_in_entry(
    hass: HomeAssistant, entry: HeatPumpResetConfigEntry, old: str, new: str
) -> None:
    """Wrap `new` instead of `old` in the options, and reload (the run is changed by the caller)."""
    options = replace_in_options(dict(entry.options), old, new)
    unique_id = new if entry.unique_id == old else entry.unique_id
    hass.config_entries.async_update_entry(entry, options=options, unique_id=unique_id)
    if OPTIONS_FLOW_RELOADS:
        # 2025.8+: no update listener reloads the entry (older releases reload through it).
        hass.config_entries.async_schedule_reload(entry.entry_id)


@callback
def async_follow(hass: HomeAssistant, entry: HeatPumpResetConfigEntry) -> CALLBACK_TYPE:
    """Follow the wrapped entities until the entry unloads; return the function that stops it."""
    ids = wrapped_ids(dict(entry.options))
    registry = er.async_get(hass)
    async_forget_unwrapped(hass, entry.entry_id, ids)

    @callback
    def _check(entity_id: str) -> None:
        """Raise or remove the missing-entity and disabled-entity issues of one wrapped entity."""
        missing = hass.states.get(entity_id) is None and registry.async_get(entity_id) is None
        async_manage_missing(hass, entry.entry_id, entry.title, entity_id, missing)
        _check_disabled(entity_id)

    @callback
    def _check_disabled(entity_id: str) -> None:
        """Raise or remove the disabled-entity issue of one wrapped entity."""
        registered = registry.async_get(entity_id)
        # A disabled entity has no state and takes no command: a run cannot turn it back on.
        disabled = (
            hass.states.get(entity_id) is None
            and registered is not None
            and registered.disabled_by is not None
        )
        async_manage_disabled(hass, entry.entry_id, entry.title, entity_id, disabled)

    @callback
    def _check_all() -> None:
        for entity_id in ids:
            _check(entity_id)

    @callback
    def _started(_event: Event) -> None:
        unsubs.remove(unsub_started)
        _check_all()

    @callback
    def _registry_updated(event: Event[er.EventEntityRegistryUpdatedData]) -> None:
        data = event.data
        # The ids wrapped now, not at set-up: a renamed entity keeps being followed, and renames in
        # quick succession (two ids swapped through a temporary one) each apply, in order.
        now_wrapped = {*wrapped_ids(dict(entry.options)), *entry.runtime_data.wrapped_now}
        if data["action"] == "update" and "old_entity_id" in data:
            old, new = data["old_entity_id"], data["entity_id"]
            if old in now_wrapped:
                # The same device under its new name: the run and the options at once.
                entry.runtime_data.replace_entity(old, new)
                _replace_in_entry(hass, entry, old, new)
        elif data["entity_id"] not in now_wrapped:
            return
        elif data["action"] == "remove" or (
            data["action"] == "update" and "disabled_by" in data["changes"]
        ):
            _check(data["entity_id"])

    @callback
    def _state_changed(event: Event[EventStateChangedData]) -> None:
        if event.data["new_state"] is not None:
            # The entity is back (re-added, enabled again, or its integration loaded after all).
            async_manage_missing(hass, entry.entry_id, entry.title, event.data["entity_id"], False)
            async_manage_disabled(hass, entry.entry_id, entry.title, event.data["entity_id"], False)
        else:
            # Its state went away. Disabled (mid-run too): the household must know. A removal is
            # checked on the registry's event (a renamed entity's old id goes away too).
            _check_disabled(event.data["entity_id"])

    unsubs = [
        hass.bus.async_listen(er.EVENT_ENTITY_REGISTRY_UPDATED, _registry_updated),
        async_track_state_change_event(hass, ids, _state_changed),
    ]
    if hass.state is CoreState.running:
        _check_all()
    else:
        # Entities of integrations that set up later only exist once Home Assistant has started.
        unsub_started = hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, _started)
        unsubs.append(unsub_started)

    @callback
    def _stop() -> None:
        for unsub in unsubs:
            unsub()

    return _stop

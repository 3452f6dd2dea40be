"""The persistent notifications a heat pump's runs post.

Their texts are strings.json's `exceptions`, in Home Assistant's language.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components import persistent_notification
from homeassistant.components.climate.const import ATTR_HVAC_MODE
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .lines import detail_words
from .naming import friendly_list, friendly_name
from .run import Phase, Run

# A translated text for a notification: its key under `exceptions` and its placeholders.
type Notice = tuple[str, dict[str, str]]


def notice(key: str, **placeholders: str) -> Notice:
    """Return the exceptions text `key` of strings.json with its placeholders."""
    return key, placeholders


@callback
def phase_words(hass: HomeAssistant, phase: Phase) -> str:
    """Return a phase as the phase sensor shows it, in Home Assistant's language (else English)."""
    key = f"component.{DOMAIN}.entity.sensor.phase.state.{phase.value}"
    for language in (hass.config.language, "en"):
        if words := async_get_cached_translations(hass, language, "entity", DOMAIN).get(key):
            return words
    return phase.value


async def settings_words(hass: HomeAssistant, saved: dict[str, Any]) -> str:
    """Return thermostat settings as a person sets them by hand, in Home Assistant's language.

    The mode and each setting by the names and values the climate card shows (HA's own climate
    texts), temperatures with their unit: "Heat, Target temperature 21 °C, Fan mode Low".
    """
    texts = await async_get_translations(
        hass, hass.config.language, "entity_component", [Platform.CLIMATE]
    )
    prefix = f"component.{Platform.CLIMATE}.entity_component._."
    unit = hass.config.units.temperature_unit
    words = []
    for setting, value in saved.items():
        if setting == ATTR_HVAC_MODE:
            words.append(texts.get(f"{prefix}state.{value}", str(value)))
            continue
        name = texts.get(f"{prefix}state_attributes.{setting}.name", setting)
        shown = texts.get(f"{prefix}state_attributes.{setting}.state.{value}", str(value))
        if isinstance(value, int | float) and "temp" in setting:
            shown = f"{value} {unit}"
        elif isinstance(value, int | float) and "humidity" in setting:
            shown = f"{value} %"
        words.append(f"{name} {shown}")
    return ", ".join(words)


class Notifier:
    """Posts and removes one heat pump's notifications."""

    def __init__(self, hass: HomeAssistant, entry_id: str, name: str) -> None:
        """Post for the heat pump `name` (config entry `entry_id`)."""
        self._hass = hass
        self._entry_id = entry_id
        self._name = name
        self._power_posted = False
        # Switches gone (unavailable or removed) during the discharge wait, told to the household.
        self.away: set[str] = set()

    @property
    def power_notification_id(self) -> str:
        """Return the id of this heat pump's power notification."""
        return f"{DOMAIN}_{self._entry_id}_power"

    def _id(self, what: str) -> str:
        return f"{DOMAIN}_{self._entry_id}_{what}"

    async def post(self, notification_id: str, *notices: Notice) -> None:
        """Post a persistent notification of translated texts, a paragraph each."""
        hass = self._hass
        strings = await async_get_translations(hass, hass.config.language, "exceptions", [DOMAIN])
        persistent_notification.async_create(
            hass,
            "\n\n".join(
                strings.get(
                    f"component.{DOMAIN}.exceptions.{key}.message", "{name}: " + key
                ).format(**placeholders)
                for key, placeholders in notices
            ),
            title=self._name,
            notification_id=notification_id,
        )

    async def power_not_restored(self, entity_ids: list[str]) -> None:
        """Tell the household in plain words that power could not be put back yet (once a run)."""
        if self._power_posted:
            return
        self._power_posted = True
        await self.post(
            self.power_notification_id,
            notice(
                "power_not_restored",
                name=self._name,
                entities=friendly_list(self._hass, entity_ids),
            ),
        )

    @callback
    def dismiss_power(self) -> None:
        """Remove the power notification once power is back, or the run is over.

        Whoever posted it: an earlier controller of the entry (before a reload, or the loaded one
        before a removal) may have, so what this one remembers does not decide.
        """
        self._power_posted = False
        persistent_notification.async_dismiss(self._hass, self.power_notification_id)

    async def left_behind(self, run: Run, left_off: list[str], thermostat_back: bool) -> None:
        """Say in plain words what a run ended early could not put back, and what it was."""
        notices = []
        if left_off:
            notices.append(
                notice(
                    "power_left_off", name=self._name, entities=friendly_list(self._hass, left_off)
                )
            )
        if not thermostat_back:
            notices.append(
                notice(
                    "thermostat_left_off",
                    name=self._name,
                    entity=friendly_name(self._hass, run.thermostat),
                    settings=await settings_words(self._hass, run.settings_to_restore),
                )
            )
        await self.post(self._id("left_behind"), *notices)

    async def thermostat_not_restored(self, run: Run) -> None:
        """Power is on but the heating may be off: the household must hear of it."""
        await self.post(
            self._id("thermostat"),
            notice(
                "thermostat_not_restored",
                name=self._name,
                entity=friendly_name(self._hass, run.thermostat),
                settings=await settings_words(self._hass, run.settings_to_restore),
            ),
        )

    async def run_failed(self, run: Run) -> None:
        """Power was cut and the reset did not do its job: more than a sensor should say so."""
        await self.post(
            self._id("failed"),
            notice(
                "run_failed",
                name=self._name,
                detail=detail_words(self._hass, run.detail) if run.detail else "-",
            ),
        )

    async def unreadable(self, run: Run) -> None:
        """Say what to check by hand when the saved thermostat settings could not be read."""
        await self.post(
            self._id("unreadable"),
            notice(
                "stored_run_unreadable",
                name=self._name,
                entities=friendly_list(self._hass, run.switches),
                entity=friendly_name(self._hass, run.thermostat),
            ),
        )

    @callback
    def note_away(self, entity_id: str, away: bool) -> bool:
        """Note a switch gone (or back) during the discharge wait; return whether that changed."""
        if away == (entity_id in self.away):
            return False
        (self.away.add if away else self.away.discard)(entity_id)
        return True

    async def tell_away(self, run: Run | None) -> None:
        """Post (or remove) the notice naming the switches gone during the discharge wait."""
        notification_id = self._id("switch_away")
        if not self.away or run is None:
            persistent_notification.async_dismiss(self._hass, notification_id)
            return
        deadline = run.discharge_deadline() or dt_util.utcnow()
        await self.post(
            notification_id,
            notice(
                "switch_away_during_wait",
                name=self._name,
                entities=friendly_list(self._hass, [e for e in run.switches if e in self.away]),
                time=dt_util.as_local(deadline).strftime("%H:%M"),
            ),
        )
        if not self.away:
            # It came back while the text was being looked up.
            persistent_notification.async_dismiss(self._hass, notification_id)

    async def forget_away(self, run: Run | None) -> None:
        """Power is back or the run is over: the notice of a switch gone during the wait goes."""
        self.away.clear()
        await self.tell_away(run)

"""Describe each reset run in the logbook: one line when it starts, one when it ends.

The line says how the run was started and why, and at its end how it ended and how long power was off,
in Home Assistant's language. Logbook descriptions are synchronous, so they read the translations
Home Assistant caches for every loaded integration (it loads them at set-up and when the language
changes), falling back on English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_CONTEXT_ID,
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.components.logbook.models import LazyEventPartialState
from homeassistant.const import ATTR_ENTITY_ID, ATTR_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations

from .const import DOMAIN, EVENT_RUN_ENDED, EVENT_RUN_STARTED
from .sequence import Outcome, Trigger

# A text under `exceptions` in strings.json and its placeholders.
type Phrase = tuple[str, dict[str, str]]


def phrase(key: str, **placeholders: str) -> Phrase:
    """Return the logbook text `key` (under `exceptions` in strings.json) with its placeholders."""
    return key, placeholders


OUTCOMES: Final[dict[str, Phrase]] = {
    Outcome.SUCCEEDED: phrase("logbook_outcome_succeeded"),
    Outcome.UNVERIFIED: phrase("logbook_outcome_unverified"),
    Outcome.NO_START: phrase("logbook_outcome_no_start"),
    Outcome.FAILED: phrase("logbook_outcome_failed"),
    Outcome.CANCELLED: phrase("logbook_outcome_cancelled"),
    Outcome.INTERRUPTED: phrase("logbook_outcome_interrupted"),
}
TRIGGERS: Final[dict[str, Phrase]] = {
    Trigger.ACTION: phrase("logbook_trigger_action"),
    Trigger.BUTTON: phrase("logbook_trigger_button"),
    Trigger.AUTOMATION: phrase("logbook_trigger_automation"),
}
# Outcomes whose detail says what went wrong (the others' detail is only "verification").
_EXPLAINED: Final = frozenset({Outcome.FAILED, Outcome.CANCELLED, Outcome.INTERRUPTED})


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[LazyEventPartialState], dict[str, Any]]], None
    ],
) -> None:
    """Describe the start and the end of reset runs."""

    @callback
    def async_describe_run(event: LazyEventPartialState) -> dict[str, Any]:
        """Describe a run's start or end in one line."""
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: data.get(ATTR_NAME),
            LOGBOOK_ENTRY_MESSAGE: describe(hass, str(event.event_type), data),
            LOGBOOK_ENTRY_ENTITY_ID: data.get(ATTR_ENTITY_ID),
            LOGBOOK_ENTRY_CONTEXT_ID: event.context_id,
        }

    async_describe_event(DOMAIN, EVENT_RUN_STARTED, async_describe_run)
    async_describe_event(DOMAIN, EVENT_RUN_ENDED, async_describe_run)


@callback
def describe(hass: HomeAssistant, event_type: str, data: Mapping[str, Any]) -> str:
    """Return the line for a run's start or end, in Home Assistant's language."""
    texts = _texts(hass)

    def say(item: Phrase) -> str:
        key, placeholders = item
        text = texts.get(f"component.{DOMAIN}.exceptions.{key}.message") or key
        return text.format(**placeholders)

    trigger = say(TRIGGERS[data["trigger"]]) if data.get("trigger") in TRIGGERS else None
    reason = (
        say(phrase("logbook_reason", reason=str(data["reason"]))) if data.get("reason") else None
    )
    if event_type == EVENT_RUN_STARTED:
        parts = [say(phrase("logbook_started", trigger=trigger or "")).strip(), reason]
        return ", ".join(part for part in parts if part)
    outcome = data.get("outcome")
    said = say(OUTCOMES[outcome]) if outcome in OUTCOMES else str(outcome)
    if outcome in _EXPLAINED and data.get("detail") not in (None, "", outcome):
        detail = _detail_words(hass, str(data["detail"]), say)
        ended = say(phrase("logbook_ended_detail", outcome=said, detail=detail))
    else:
        ended = say(phrase("logbook_ended", outcome=said))
    if not data.get("power_cut"):
        power = say(phrase("logbook_power_kept"))
    elif (minutes := data.get("power_off_minutes")) is not None:
        power = say(phrase("logbook_power_off", minutes=str(minutes)))
    else:
        power = None
    return ", ".join(part for part in (ended, power, trigger, reason) if part)


@callback
def _detail_words(hass: HomeAssistant, detail: str, say: Callable[[Phrase], str]) -> str:
    """Return a run's detail in words, as the entities show it; the entities it names follow."""
    code, _colon, names = detail.partition(":")
    key = f"component.{DOMAIN}.entity.event.reset.state_attributes.detail.state.{code}"
    for language in (hass.config.language, "en"):
        if text := async_get_cached_translations(hass, language, "entity", DOMAIN).get(key):
            break
    else:
        return detail
    if not names:
        return text
    # Entity ids by their names where Home Assistant knows them (settings stay as they are).
    named = [state.name if (state := hass.states.get(name)) else name for name in names.split(",")]
    return say(phrase("logbook_detail_entities", detail=text, entities=", ".join(named)))


@callback
def _texts(hass: HomeAssistant) -> dict[str, str]:
    """Return the cached texts in Home Assistant's language, else in English."""
    for language in (hass.config.language, "en"):
        if texts := async_get_cached_translations(hass, language, "exceptions", DOMAIN):
            return texts
    return {}

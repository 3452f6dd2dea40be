"""A reset run in one line of words, in Home Assistant's language: for the logbook and the history.

The line says how the run was started and why, and at its end how it ended and how long power was
off. The callers are synchronous (logbook descriptions, entity attributes), so they read the
translations Home Assistant caches for every loaded integration (it loads them at set-up and when the
language changes), falling back on English.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.translation import async_get_cached_translations

from .const import DOMAIN, EVENT_OUTAGE_ENDED, EVENT_RUN_STARTED
from .faults import is_problem_sensor
from .naming import friendly_name
from .outage import OutageSource
from .run import Outcome, Trigger

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
    Outcome.FAULT_RETURNED: phrase("logbook_outcome_fault_returned"),
}
TRIGGERS: Final[dict[str, Phrase]] = {
    Trigger.PERSON: phrase("logbook_trigger_action"),
    Trigger.BUTTON: phrase("logbook_trigger_button"),
    Trigger.AUTOMATION: phrase("logbook_trigger_automation"),
    Trigger.OUTAGE: phrase("logbook_trigger_outage"),
}
OUTAGE_SOURCES: Final[dict[str, Phrase]] = {
    OutageSource.MAINS: phrase("logbook_outage_source_mains"),
    OutageSource.HOME_ASSISTANT_DOWN: phrase("logbook_outage_source_home_assistant_down"),
    OutageSource.SWITCHES_UNAVAILABLE: phrase("logbook_outage_source_switches_unavailable"),
}
# Outcomes whose detail says what went wrong (the others' detail is only "verification").
_EXPLAINED: Final = frozenset(
    {Outcome.FAILED, Outcome.CANCELLED, Outcome.INTERRUPTED, Outcome.FAULT_RETURNED}
)


type Say = Callable[[Phrase], str]


@callback
def describe(hass: HomeAssistant, event_type: str, data: Mapping[str, Any]) -> str:
    """Return the logbook line for a run's start or end, in Home Assistant's language."""
    say = _sayer(hass)
    if event_type == EVENT_RUN_STARTED:
        if data.get("outage_source"):
            # An outage run (issue 14): an outage noticed, not a reset.
            return say(phrase("logbook_outage_noticed", source=_source(say, data["outage_source"])))
        trigger = _trigger(say, data)
        parts = [say(phrase("logbook_started", trigger=trigger or "")).strip(), _reason(say, data)]
        return ", ".join(part for part in parts if part)
    if event_type == EVENT_OUTAGE_ENDED:
        # An outage's end (issue 14): how long, and how it became known.
        source = _source(say, data.get("source"))
        return say(phrase("logbook_outage_ended", minutes=str(data.get("minutes")), source=source))
    return _ended(hass, say, data, in_logbook=True)


def _source(say: Say, source: Any) -> str:
    """Say how an outage became known (an unknown source as it is)."""
    found = OUTAGE_SOURCES.get(str(source))
    return say(found) if found else str(source)


@callback
def history_line(hass: HomeAssistant, data: Mapping[str, Any]) -> str:
    """Return a finished run (its record's summary) in one line for a list of runs.

    As the logbook says its end, without "reset ended": how it ended and why, how long power was
    off, who started it and why.
    """
    return _ended(hass, _sayer(hass), data, in_logbook=False)


@callback
def _ended(hass: HomeAssistant, say: Say, data: Mapping[str, Any], *, in_logbook: bool) -> str:
    """Say how a run ended ("reset ended: …" in the logbook, the outcome alone in a list), and the rest."""
    outcome = data.get("outcome")
    said = say(OUTCOMES[outcome]) if outcome in OUTCOMES else str(outcome)
    detail = None
    if outcome in _EXPLAINED and data.get("detail") not in (None, "", outcome):
        detail = _detail_words(hass, str(data["detail"]), say)
    if source := data.get("outage_source"):
        # An outage run (issue 14): what became of the heating after the outage, not a reset.
        words = (
            say(phrase("logbook_outcome_detail", outcome=said, detail=detail)) if detail else said
        )
        return say(phrase("logbook_outage_run_ended", source=_source(say, source), outcome=words))
    if detail is not None:
        ended = say(
            phrase("logbook_ended_detail", outcome=said, detail=detail)
            if in_logbook
            else phrase("logbook_outcome_detail", outcome=said, detail=detail)
        )
    else:
        ended = say(phrase("logbook_ended", outcome=said)) if in_logbook else said
    if not data.get("power_cut"):
        power = say(phrase("logbook_power_kept"))
    elif (minutes := data.get("power_off_minutes")) is not None:
        power = say(phrase("logbook_power_off", minutes=str(minutes)))
    else:
        power = None
    parts = (ended, power, _trigger(say, data), _reason(say, data))
    return ", ".join(part for part in parts if part)


def _trigger(say: Say, data: Mapping[str, Any]) -> str | None:
    """Say who or what started the run."""
    return say(TRIGGERS[data["trigger"]]) if data.get("trigger") in TRIGGERS else None


def _reason(say: Say, data: Mapping[str, Any]) -> str | None:
    """Say the reason given with the run, if any."""
    return say(phrase("logbook_reason", reason=str(data["reason"]))) if data.get("reason") else None


@callback
def _sayer(hass: HomeAssistant) -> Say:
    """Return what words a phrase in Home Assistant's language (else English, else its key)."""
    texts = _texts(hass)

    def say(item: Phrase) -> str:
        key, placeholders = item
        text = texts.get(f"component.{DOMAIN}.exceptions.{key}.message") or key
        return text.format(**placeholders)

    return say


@callback
def _detail_words(hass: HomeAssistant, detail: str, say: Say) -> str:
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
def detail_words(hass: HomeAssistant, detail: str) -> str:
    """Return a run's detail in words, the entities it names by their names (for notifications)."""
    return _detail_words(hass, detail, _sayer(hass))


@callback
def fault_reason(hass: HomeAssistant, faults: Mapping[str, str]) -> str:
    """Return the reason of a run started while the unit shows `faults` (entity id: code)."""
    say = _sayer(hass)
    parts = [
        say(phrase("logbook_reason_problem", entity=friendly_name(hass, entity_id)))
        if is_problem_sensor(entity_id)
        else say(
            phrase("logbook_reason_fault", code=code.strip(), entity=friendly_name(hass, entity_id))
        )
        for entity_id, code in faults.items()
    ]
    return "; ".join(parts)


@callback
def no_start_after_outage_reason(hass: HomeAssistant) -> str:
    """Return the reason of the reset that follows an outage run that ended `no_start`."""
    return _sayer(hass)(phrase("logbook_reason_no_start_after_outage"))


@callback
def _texts(hass: HomeAssistant) -> dict[str, str]:
    """Return the cached texts in Home Assistant's language, else in English."""
    for language in (hass.config.language, "en"):
        if texts := async_get_cached_translations(hass, language, "exceptions", DOMAIN):
            return texts
    return {}

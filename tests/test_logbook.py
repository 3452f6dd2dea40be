"""The reset history in the logbook: one translated line at each run's start and end."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta
import logging
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.logbook.helpers import async_determine_event_types
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import translation
from homeassistant.helpers.template import Template
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
import yaml

from custom_components.heat_pump_reset.const import DOMAIN

from .harness.driving import advance, cancel, settle, start, state
from .harness.entity_ids import BUTTON, EVENT, LAST_RESET, OUTCOME, PHASE, RECENT, SWITCH_B
from .harness.equipment import HeatPump
from .harness.timings import FULL_RUN

ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def quiet_sqlalchemy() -> Generator[None]:
    """Keep the recorder's SQL (logged at INFO by the test plugin) out of the test output."""
    engine = logging.getLogger("sqlalchemy.engine")
    level = engine.level
    engine.setLevel(logging.WARNING)
    yield
    engine.setLevel(level)


@pytest.fixture
def mock_recorder_before_hass(async_test_recorder: Any) -> None:
    """Let the tests that ask for `recorder_mock` set it up before `hass` (the plugin's rule)."""


async def setup_logbook(hass: HomeAssistant) -> None:
    """Set up the logbook (without the frontend, which the test environment lacks)."""
    hass.config.components.add("frontend")
    assert await async_setup_component(hass, "logbook", {})


async def logbook_lines(
    hass: HomeAssistant, since: datetime, *entity_ids: str
) -> list[dict[str, Any]]:
    """Return the logbook rows since `since` as the logbook card asks for them (by entity).

    The same query as the `logbook/get_events` WebSocket command of the card (a WebSocket client
    would be logged out by the simulated clock: its access token expires after 30 minutes).
    """
    await async_wait_recording_done(hass)
    ids = list(entity_ids or (EVENT,))
    processor = EventProcessor(
        hass,
        async_determine_event_types(hass, ids, None),
        ids,
        None,
        None,
        timestamp=True,
        include_entity_name=False,
    )
    end = dt_util.utcnow() + timedelta(minutes=1)
    return await get_instance(hass).async_add_executor_job(processor.get_events, since, end)


async def change_language(hass: HomeAssistant, language: str) -> None:
    """Change Home Assistant's language; load its texts as Home Assistant's own listener does.

    (The test instance has the translation cache but not bootstrap's listener on language changes.)
    """
    await hass.config.async_update(language=language)
    await translation.async_load_integrations(hass, hass.config.components)
    await hass.async_block_till_done()


def run_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Return the messages of our described rows (the event entity's own rows have a state)."""
    return [row["message"] for row in rows if row.get("domain") == DOMAIN]


async def test_a_succeeded_run_in_one_line(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """Started by an automation with a reason; ended succeeded after 30 minutes without power."""
    await setup_logbook(hass)
    since = dt_util.utcnow() - timedelta(seconds=1)
    await start(hass, entry, reason="power outage")
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    rows = await logbook_lines(hass, since)
    assert run_lines(rows) == [
        "reset started by an automation, reason: power outage",
        "reset ended: succeeded, power off 30 min, started by an automation, reason: power outage",
    ]
    ours = [row for row in rows if row.get("domain") == DOMAIN]
    assert {row["name"] for row in ours} == {"Heat pump"}
    assert {row["entity_id"] for row in ours} == {EVENT}


async def test_a_cancelled_run_says_how_long_power_was_off(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """A person starts it, cancels it 12 minutes into the wait: power was off 12 minutes."""
    await setup_logbook(hass)
    since = dt_util.utcnow() - timedelta(seconds=1)
    await start(hass, entry, Context(user_id=hass_admin_user.id))
    await advance(hass, freezer, timedelta(minutes=12), step=timedelta(seconds=30))
    await cancel(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(seconds=10))
    assert run_lines(await logbook_lines(hass, since)) == [
        "reset started by a person",
        "reset ended: cancelled, power off 12 min, started by a person",
    ]


async def test_a_run_that_never_cut_power(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """The button starts it, the thermostat refuses off: failed, with why, and power kept on."""
    await setup_logbook(hass)
    since = dt_util.utcnow() - timedelta(seconds=1)
    heat_pump.thermostat.refuse_modes = {"off"}
    await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=10))
    lines = run_lines(await logbook_lines(hass, since))
    assert lines == [
        "reset started with the button",
        "reset ended: failed (Unit did not stop in time), power not cut, started with the button",
    ]


async def test_lines_in_home_assistant_language(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """After the language changes to German the same run reads in German (and back)."""
    await setup_logbook(hass)
    since = dt_util.utcnow() - timedelta(seconds=1)
    await start(hass, entry, reason="Stromausfall")
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    await change_language(hass, "de")
    assert run_lines(await logbook_lines(hass, since)) == [
        "Zurücksetzen von einer Automatisierung gestartet, Grund: Stromausfall",
        (
            "Zurücksetzen beendet: erfolgreich, Strom 30 Min. aus, "
            "von einer Automatisierung gestartet, Grund: Stromausfall"
        ),
    ]
    await change_language(hass, "en")
    assert run_lines(await logbook_lines(hass, since))[0] == (
        "reset started by an automation, reason: Stromausfall"
    )


@pytest.mark.parametrize(
    ("language", "line"),
    [
        (
            "en",
            (
                "reset ended: failed (A power switch did not turn off: Breaker b),"
                " started by an automation"
            ),
        ),
        (
            "de",
            (
                "Zurücksetzen beendet: fehlgeschlagen (Ein Stromschalter hat nicht ausgeschaltet:"
                " Breaker b), von einer Automatisierung gestartet"
            ),
        ),
        (
            "fr",
            (
                "réinitialisation terminée : échouée (Un interrupteur d'alimentation ne s'est pas"
                " éteint : Breaker b), lancée par une automatisation"
            ),
        ),
    ],
)
async def test_the_detail_reads_in_words_with_the_entity_named(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    language: str,
    line: str,
) -> None:
    """Issue 15 item 8: why a run failed is said in words, naming the switch by its name."""
    await setup_logbook(hass)
    since = dt_util.utcnow() - timedelta(seconds=1)
    heat_pump.switch_b.refuse = True
    await start(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10), step=timedelta(seconds=5))
    assert state(hass, OUTCOME).attributes["detail"] == f"switch_did_not_turn_off:{SWITCH_B}"
    await change_language(hass, language)
    assert run_lines(await logbook_lines(hass, since))[-1] == line


async def test_bus_events_carry_the_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """Automations can use the bus events too: who, why, how it ended, how long power was off."""
    seen: list[tuple[str, dict[str, Any]]] = []
    for event_type in (f"{DOMAIN}_run_started", f"{DOMAIN}_run_ended"):
        hass.bus.async_listen(event_type, lambda e: seen.append((e.event_type, dict(e.data))))
    run_id = await start(hass, entry, reason="test")
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert [event_type for event_type, _ in seen] == [
        f"{DOMAIN}_run_started",
        f"{DOMAIN}_run_ended",
    ]
    started, ended = seen[0][1], seen[1][1]
    assert started == {
        "config_entry_id": entry.entry_id,
        "name": "Heat pump",
        "entity_id": EVENT,
        "run_id": run_id,
        "trigger": "automation",
        "reason": "test",
        "faults": {},
        "outage_source": None,
    }
    assert ended["run_id"] == run_id
    assert ended["outcome"] == "succeeded"
    assert ended["power_cut"] is True
    assert ended["power_off_minutes"] == 30
    assert ended["entity_id"] == EVENT


async def test_first_run_shows_in_last_reset_and_recent_resets(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """Item 6: once power is cut, the very first reset counts and shows when it started."""
    started_at = dt_util.utcnow().replace(microsecond=0)
    await start(hass, entry)
    assert state(hass, PHASE).state == "discharging"
    assert state(hass, LAST_RESET).state == started_at.isoformat()
    assert state(hass, RECENT).state == "1"
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert state(hass, RECENT).state == "1"
    assert state(hass, LAST_RESET).state != "unknown"


async def test_last_reset_lists_the_recent_runs_unrecorded(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """The `runs` attribute feeds a dashboard card; the recorder leaves it out (the history has it)."""
    await start(hass, entry, reason="first")
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    heat_pump.thermostat.refuse_modes = {"off"}
    await start(hass, entry, reason="second")
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=10))
    runs = state(hass, LAST_RESET).attributes["runs"]
    assert [(r["reason"], r["outcome"], r["power_off_minutes"]) for r in runs] == [
        ("second", "failed", None),
        ("first", "succeeded", 30),
    ]
    await async_wait_recording_done(hass)
    recorded = await recorder_mock.async_add_executor_job(_recorded_attributes, hass)
    assert recorded
    assert all("runs" not in attributes for attributes in recorded)


async def test_recent_runs_read_in_home_assistant_language(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """Issue 15 item 8: each of the `runs` says itself in words (codes translated), in German too."""
    heat_pump.thermostat.refuse_modes = {"off"}
    await start(hass, entry, reason="Test")
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=10))
    (run,) = state(hass, LAST_RESET).attributes["runs"]
    assert (run["outcome"], run["detail"], run["trigger"]) == (
        "failed",
        "thermostat_did_not_stop",
        "automation",
    )
    assert run["text"] == (
        "failed (Unit did not stop in time), power not cut, started by an automation, reason: Test"
    )
    await change_language(hass, "de")
    heat_pump.thermostat.refuse_modes = set()
    await start(hass, entry)
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    assert [r["text"] for r in state(hass, LAST_RESET).attributes["runs"]] == [
        "erfolgreich, Strom 30 Min. aus, von einer Automatisierung gestartet",
        (
            "fehlgeschlagen (Gerät hat nicht rechtzeitig angehalten), Strom nicht abgeschaltet,"
            " von einer Automatisierung gestartet, Grund: Test"
        ),
    ]


def _recorded_attributes(hass: HomeAssistant) -> list[dict[str, Any]]:
    """Return the attributes the recorder stored for the Last reset sensor."""
    from homeassistant.components.recorder.history import get_significant_states

    states = get_significant_states(
        hass,
        dt_util.utcnow() - timedelta(days=1),
        entity_ids=[LAST_RESET],
        significant_changes_only=False,
    )
    return [dict(s.attributes) for s in states.get(LAST_RESET, [])]


async def test_the_describe_callback_survives_missing_fields(
    hass: HomeAssistant, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """An event of an older version (no trigger, an unknown outcome) still reads as a line."""
    from custom_components.heat_pump_reset.logbook import describe

    await settle(hass)
    assert describe(hass, f"{DOMAIN}_run_started", {}) == "reset"
    assert describe(hass, f"{DOMAIN}_run_ended", {"outcome": "odd", "power_cut": True}) == (
        "reset ended: odd"
    )


async def test_the_demo_history_card_reads_one_line_per_run(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """The demo dashboard's Markdown card over `runs`: newest first, one line each, no duplicate."""
    await start(hass, entry, reason="power outage")
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    heat_pump.thermostat.refuse_modes = {"off"}
    await start(hass, entry, Context(user_id=hass_admin_user.id))
    await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=10))
    dashboard = yaml.safe_load((ROOT / "scripts/demo_config/dashboard.yaml").read_text("utf-8"))
    card = next(
        card
        for stack in dashboard["views"][0]["cards"]
        for card in stack.get("cards", [])
        if card.get("title") == "Reset history"
    )
    content = card["content"].replace("sensor.demo_heat_pump_last_reset", LAST_RESET)
    text = Template(content, hass).async_render(parse_result=False)
    lines = text.strip().splitlines()
    assert len(lines) == 2, text
    assert lines[0].endswith(
        "** failed (Unit did not stop in time), power not cut, started by a person"
    ), lines[0]
    assert lines[1].endswith(
        "** succeeded, power off 30 min, started by an automation, reason: power outage"
    ), lines[1]
    assert all(line.startswith("- **") for line in lines)
    readme = (ROOT / "README.md").read_text("utf-8")
    block = readme.split("title: Reset history\n    content: |\n", 1)[1].split("```", 1)[0]
    content = "\n".join(line.removeprefix("      ") for line in block.splitlines())
    text = Template(content, hass).async_render(parse_result=False)
    assert (
        text.strip()
        .splitlines()[1]
        .endswith("** succeeded, power off 30 min, started by an automation, reason: power outage")
    )


@pytest.mark.parametrize(
    "options",
    [{"outage_protection": True, "mains_entity": "binary_sensor.mains"}],
    indirect=True,
)
async def test_an_outage_in_the_logbook(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
) -> None:
    """An outage's end has its own line: how long, and how it became known (issue 14)."""
    await setup_logbook(hass)
    since = dt_util.utcnow() - timedelta(seconds=1)
    hass.states.async_set("binary_sensor.mains", "off")
    await settle(hass)
    await advance(hass, freezer, timedelta(minutes=40), step=timedelta(minutes=1))
    hass.states.async_set("binary_sensor.mains", "on")
    await advance(hass, freezer, FULL_RUN, step=timedelta(seconds=10))
    lines = run_lines(await logbook_lines(hass, since))
    assert lines[0] == "power outage noticed (Mains entity)"
    assert lines[1] == "outage ended after 40 min (Mains entity)"
    # Its end says what became of the heating after the outage, not that a reset ended.
    assert lines[2] == "after the power outage (Mains entity): succeeded"

"""The warm-up's rules (issue 14): when an outage run holds the thermostat off, for how long, and the units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.heat_pump_reset.run import Outcome, Phase, Run, Trigger
from custom_components.heat_pump_reset.sequence import next_phase, resume
from custom_components.heat_pump_reset.settings import (
    Settings,
    timing_from_options,
    warmup_from_options,
)
from custom_components.heat_pump_reset.warmup import WarmupRule, celsius, from_celsius

NOW = datetime(2026, 1, 10, 6, 0, tzinfo=UTC)
OUTDOOR = "sensor.outdoor"


@pytest.mark.parametrize(
    ("outage_minutes", "outdoor", "expected"),
    [
        # The table: 5 min, 2 h and 10 h, at 15 °C and at -5 °C (defaults: 60 min, 10 °C, 4 h).
        (5, 15.0, 0),
        (5, -5.0, 0),
        (120, 15.0, 0),
        (120, -5.0, 120),
        (600, 15.0, 0),
        (600, -5.0, 240),
        # At the threshold and at the temperature: held.
        (60, 10.0, 60),
        (59, -20.0, 0),
        (61, 10.1, 0),
        # The sensor cannot be read: it cannot say it is warm.
        (120, None, 120),
        # Not known how long (no end): no hold.
        (None, -5.0, 0),
    ],
)
def test_hold_minutes_by_outage_and_outdoor_temperature(
    outage_minutes: int | None, outdoor: float | None, expected: int
) -> None:
    """The hold lasts as long as the outage, at most the longest warm-up, only in the cold."""
    rule = WarmupRule(outdoor_entity=OUTDOOR)
    assert rule.minutes(outage_minutes, outdoor) == expected


def test_without_outdoor_sensor_the_length_alone_decides() -> None:
    """No outdoor sensor: a long outage holds whatever a reading would say (there is none)."""
    rule = WarmupRule()
    assert rule.minutes(120, None) == 120
    assert rule.minutes(120, 30.0) == 120
    assert rule.minutes(30, None) == 0


def test_longest_warm_up_zero_turns_the_hold_off_and_caps_apply() -> None:
    """0 minutes: never a hold; 12 hours at most when configured so."""
    assert WarmupRule(longest_minutes=0).minutes(600, -20.0) == 0
    assert WarmupRule(longest_minutes=720).minutes(900, -20.0) == 720
    ends = WarmupRule().ends_at(NOW, 90, None)
    assert ends == NOW + timedelta(minutes=90)
    assert WarmupRule().ends_at(NOW, 30, None) is None


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("-5", "°C", -5.0),
        ("23", "°F", -5.0),
        ("50", "°F", 10.0),
        ("268.15", "K", -5.0),
        ("12", "%", None),
        ("12", None, None),
        ("unknown", "°C", None),
        ("nan", "°C", None),
        ("inf", "°F", None),
        (True, "°C", None),
    ],
)
def test_celsius_reads_every_temperature_unit(
    value: object, unit: str | None, expected: float | None
) -> None:
    """An outdoor sensor in °F compares right; a reading in no temperature unit is no reading."""
    found = celsius(value, unit)
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(expected)


def test_a_sensor_in_fahrenheit_decides_like_one_in_celsius() -> None:
    """23 °F is -5 °C: held; 59 °F is 15 °C: not held."""
    rule = WarmupRule(outdoor_entity=OUTDOOR)
    assert rule.minutes(120, celsius("23", "°F")) == 120
    assert rule.minutes(120, celsius("59", "°F")) == 0


def test_form_values_round_trip_in_the_users_unit() -> None:
    """10 °C shows as 50 °F; what the form shows converts back to what is stored."""
    assert from_celsius(10.0, "°F") == 50.0
    assert from_celsius(10.0, "°C") == 10.0
    assert celsius(from_celsius(16.0, "°F"), "°F") == pytest.approx(16.0, abs=0.06)


def test_room_floor() -> None:
    """No floor: never too cold; at or below the floor: too cold; unreadable: not."""
    assert not WarmupRule().too_cold(2.0)
    rule = WarmupRule(room_floor=16.0)
    assert rule.too_cold(16.0)
    assert rule.too_cold(15.5)
    assert not rule.too_cold(16.5)
    assert not rule.too_cold(None)


def test_options_give_the_rule_with_defaults() -> None:
    """Missing options take the defaults: 60 min, 10 °C, 4 h, no floor, no sensors."""
    assert warmup_from_options({}) == WarmupRule(
        after_minutes=60, at_or_below=10.0, longest_minutes=240
    )
    settings = Settings.from_options(
        {
            "thermostat": "climate.hp",
            "switches": ["switch.hp"],
            "outdoor_temperature_entity": OUTDOOR,
            "warmup_temperature": -2.5,
            "room_floor": 15,
            "longest_warmup_minutes": 0,
        }
    )
    assert settings.warmup.outdoor_entity == OUTDOOR
    assert settings.warmup.at_or_below == -2.5
    assert settings.warmup.room_floor == 15.0
    assert settings.warmup.longest_minutes == 0


def _outage_run(*, held: bool = True, warmup: datetime | None = None) -> Run:
    run = Run(
        run_id="r",
        trigger=Trigger.OUTAGE,
        reason=None,
        thermostat="climate.hp",
        switches=["switch.hp"],
        discharge_minutes=30,
        started_at=NOW,
        outage_source="mains",
        outage_started_at=NOW - timedelta(hours=2),
        outage_ended_at=NOW,
        thermostat_held=held,
        warmup_ends_at=warmup,
    )
    run.enter(Phase.MAINS_OUT, NOW - timedelta(hours=2))
    return run


def test_mains_out_leads_to_the_warm_up_then_the_staged_restore() -> None:
    """A due hold comes between the outage and the start-up delay; without one, straight on."""
    run = _outage_run(warmup=NOW + timedelta(hours=2))
    assert next_phase(run) is Phase.WARMING_UP
    run.enter(Phase.WARMING_UP, NOW, run.warmup_ends_at)
    assert next_phase(run) is Phase.STARTING_UP
    assert next_phase(_outage_run()) is Phase.STARTING_UP
    # Nothing held (the thermostat was off): the hold has nothing to give back.
    nothing = _outage_run(held=False, warmup=NOW + timedelta(hours=2))
    assert next_phase(nothing) is Phase.WARMING_UP
    nothing.enter(Phase.WARMING_UP, NOW)
    assert next_phase(nothing) is None


def test_a_person_or_a_cancel_skips_or_ends_the_hold() -> None:
    """A person's own setting is kept (no restore); a cancelled run puts the thermostat back now."""
    person = _outage_run(warmup=NOW + timedelta(hours=2))
    person.thermostat_overridden = True
    assert next_phase(person) is None
    cancelled = _outage_run(warmup=NOW + timedelta(hours=2))
    cancelled.cancel()
    assert next_phase(cancelled) is Phase.STARTING_UP
    assert cancelled.ending is Outcome.CANCELLED


def test_a_restart_keeps_the_holds_deadline() -> None:
    """Resumed mid-hold: the stored deadline holds; a clock far ahead is capped; a cancel ends it."""
    timing = timing_from_options({})
    run = _outage_run(warmup=NOW + timedelta(hours=2))
    run.enter(Phase.WARMING_UP, NOW, run.warmup_ends_at)
    assert resume(run, NOW + timedelta(minutes=30), timing) == (
        Phase.WARMING_UP,
        NOW + timedelta(hours=2),
    )
    run.phase_ends_at = NOW + timedelta(days=3)
    assert resume(run, NOW, timing) == (Phase.WARMING_UP, NOW + timedelta(hours=12))
    run.cancel()
    assert resume(run, NOW, timing) == (Phase.WARMING_UP, NOW)


def test_a_stored_hold_round_trips() -> None:
    """The hold's deadline and its end are on disk, read back as written."""
    run = _outage_run(warmup=NOW + timedelta(hours=2))
    run.warmup_ended = "elapsed"
    again = Run.from_dict(run.to_dict())
    assert again.warmup_ends_at == run.warmup_ends_at
    assert again.warmup_ended == "elapsed"

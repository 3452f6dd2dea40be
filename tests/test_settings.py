"""The thermostat's settings: captured before the run, put back exactly, and a person's change respected."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.climate.const import ClimateEntityFeature, HVACMode
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant, State
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.heat_pump_reset import thermostat

from .harness.driving import advance, settle, start, state
from .harness.entity_ids import OUTCOME, PHASE, THERMOSTAT
from .harness.equipment import SAVED, HeatPump, thermostat_settings
from .harness.holding import Release, Scene, hold_discharging, hold_starting_up
from .harness.timings import COARSE, UNTIL_RESTORE, VERIFY

# From the start of a run until the thermostat's settings are sent back, when nothing goes wrong.
# Coarse time steps fire each timer up to one step late: allow for it.
RESTORED = UNTIL_RESTORE + 3 * COARSE
# Long enough for any run in this module to end, verification window included.
WHOLE_RUN = UNTIL_RESTORE + VERIFY + timedelta(minutes=1)

F = ClimateEntityFeature
# The fake thermostat's features, without the optional settings.
BASE_FEATURES = F.TURN_OFF | F.TURN_ON


async def run_to_end(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the run go through every phase and end."""
    await advance(hass, freezer, WHOLE_RUN, step=COARSE)
    assert state(hass, PHASE).state == "idle"


def configure(pump: HeatPump, **attrs: Any) -> None:
    """Set the fake thermostat's `_attr_*` values as a person would have before the run, and publish them."""
    for name, value in attrs.items():
        setattr(pump.thermostat, f"_attr_{name}", value)
    pump.thermostat.async_write_ha_state()


def call_names(pump: HeatPump) -> list[str]:
    """Return the names of the commands the thermostat received."""
    return [name for name, _value in pump.thermostat.calls]


# --- Settings put back exactly --------------------------------------------------------------

SETTINGS = pytest.mark.parametrize(
    "settings",
    [
        {
            "hvac_mode": HVACMode.HEAT_COOL,
            "target_temperature_low": 19.5,
            "target_temperature_high": 23.5,
            "fan_mode": "high",
            "preset_mode": "eco",
            "swing_mode": "off",
        },
        {
            "hvac_mode": HVACMode.COOL,
            "target_temperature": 24.5,
            "fan_mode": "auto",
            "preset_mode": "none",
            "swing_mode": "vertical",
        },
        {"hvac_mode": HVACMode.HEAT, "target_temperature": 22.0, "fan_mode": "low"},
    ],
    ids=["heat_cool_range", "cool", "heat"],
)


@SETTINGS
async def test_settings_restored_exactly(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    settings: dict[str, Any],
) -> None:
    """Mode, set point or range, fan, preset and swing read the same after the run as before it."""
    configure(heat_pump, **settings)
    before = state(hass, THERMOSTAT)
    await start(hass, entry)
    assert heat_pump.thermostat.hvac_mode == "off"
    await advance(hass, freezer, RESTORED, step=COARSE)
    after = state(hass, THERMOSTAT)
    assert after.state == before.state
    assert dict(after.attributes) == dict(before.attributes)
    await run_to_end(hass, freezer)
    assert dict(state(hass, THERMOSTAT).attributes) == dict(before.attributes)


async def test_heat_cool_range_sent_as_a_range(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A heat_cool thermostat gets its mode first, then its low/high range, fan, preset and swing."""
    configure(
        heat_pump,
        hvac_mode=HVACMode.HEAT_COOL,
        target_temperature_low=19.5,
        target_temperature_high=23.5,
    )
    await start(hass, entry)
    await advance(hass, freezer, RESTORED, step=COARSE)
    calls = heat_pump.thermostat.calls
    assert calls[0] == ("hvac_mode", "off")
    assert calls[1] == ("hvac_mode", "heat_cool")
    ranges = [
        value for name, value in calls if name == "temperature" and "target_temp_low" in value
    ]
    assert len(ranges) == 1
    assert ranges[0]["target_temp_low"] == 19.5
    assert ranges[0]["target_temp_high"] == 23.5
    assert {"fan_mode", "preset_mode", "swing_mode"} <= set(call_names(heat_pump)[2:])
    assert "hvac_mode" not in call_names(heat_pump)[2:]


async def test_saved_mode_off_stays_off(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A thermostat that was off before the run is never switched to a working mode, and ends off."""
    configure(heat_pump, hvac_mode=HVACMode.OFF, target_temperature=20.0, preset_mode="eco")
    before = state(hass, THERMOSTAT)
    await start(hass, entry)
    await run_to_end(hass, freezer)
    modes = [value for name, value in heat_pump.thermostat.calls if name == "hvac_mode"]
    assert set(modes) == {"off"}
    # Off comes last, so a preset or fan cannot switch it back on.
    assert heat_pump.thermostat.calls[-1] == ("hvac_mode", "off")
    after = state(hass, THERMOSTAT)
    assert after.state == "off"
    assert dict(after.attributes) == dict(before.attributes)
    assert state(hass, OUTCOME).state == "unverified"
    assert [s.is_on for s in heat_pump.switches] == [True, True]


@pytest.mark.parametrize(
    ("features", "expected"),
    [
        (BASE_FEATURES, ["hvac_mode"]),
        (BASE_FEATURES | F.TARGET_TEMPERATURE, ["hvac_mode", "temperature"]),
        (BASE_FEATURES | F.TARGET_TEMPERATURE_RANGE, ["hvac_mode", "temperature"]),
        (BASE_FEATURES | F.FAN_MODE, ["hvac_mode", "fan_mode"]),
        (
            BASE_FEATURES | F.TARGET_TEMPERATURE | F.PRESET_MODE | F.SWING_MODE,
            ["hvac_mode", "temperature", "preset_mode", "swing_mode"],
        ),
    ],
    ids=["mode_only", "target", "range_only", "fan_only", "target_preset_swing"],
)
async def test_thermostat_lacking_features_gets_only_supported_calls(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    features: ClimateEntityFeature,
    expected: list[str],
) -> None:
    """Only the settings a thermostat supports are captured and sent back; nothing it cannot take."""
    configure(heat_pump, supported_features=features)
    before = state(hass, THERMOSTAT)
    await start(hass, entry)
    await run_to_end(hass, freezer)
    names = call_names(heat_pump)
    assert names[0] == "hvac_mode"
    assert heat_pump.thermostat.calls[0] == ("hvac_mode", "off")
    assert heat_pump.thermostat.calls[1] == ("hvac_mode", "heat")
    assert sorted(set(names[1:])) == sorted(expected)
    assert len(names) == 1 + len(expected)
    after = state(hass, THERMOSTAT)
    assert after.state == "heat"
    assert dict(after.attributes) == dict(before.attributes)
    assert state(hass, OUTCOME).state == "succeeded"


# --- A person changes the thermostat during the run -----------------------------------------


PERSON_CHANGES: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    # id: (service, data, what the thermostat then reports)
    "temperature": ("set_temperature", {"temperature": 23.0}, {"temperature": 23.0}),
    "mode": ("set_hvac_mode", {"hvac_mode": "cool"}, {"state": "cool"}),
    "preset": ("set_preset_mode", {"preset_mode": "eco"}, {"preset_mode": "eco"}),
}


@pytest.mark.parametrize(
    "hold", [hold_discharging, hold_starting_up], ids=["discharging", "starting_up"]
)
@pytest.mark.parametrize("change", list(PERSON_CHANGES))
async def test_person_changing_the_thermostat_mid_run_is_respected(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
    scene: Scene,
    hold: Callable[[Scene], Awaitable[Release]],
    change: str,
) -> None:
    """A person's change while the run holds the thermostat off is kept.

    A new mode means they took over: nothing more is sent. A change that leaves the run's `off`
    (a set point, a preset) goes back with the saved settings, so the heating comes back too.
    """
    service, data, expected = PERSON_CHANGES[change]
    await hold(scene)
    await hass.services.async_call(
        "climate",
        service,
        {"entity_id": THERMOSTAT, **data},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await settle(hass)
    person_set = state(hass, THERMOSTAT)
    calls_after_person = len(heat_pump.thermostat.calls)
    await run_to_end(hass, freezer)
    after = state(hass, THERMOSTAT)
    for key, value in expected.items():
        assert (after.state if key == "state" else after.attributes[key]) == value
    if change == "mode":
        # Nothing more was sent to the thermostat after the person's change.
        assert len(heat_pump.thermostat.calls) == calls_after_person
        assert after.state == person_set.state
        assert dict(after.attributes) == dict(person_set.attributes)
    else:
        key = {"temperature": "target_temperature", "preset": "preset_mode"}[change]
        assert thermostat_settings(heat_pump) == SAVED | {key: next(iter(expected.values()))}
    # Power is still put back in full.
    assert [s.is_on for s in heat_pump.switches] == [True, True]


# --- Unit level: capture, restore_calls, mismatched -----------------------------------------

ALL_FEATURES = (
    F.TARGET_TEMPERATURE
    | F.TARGET_TEMPERATURE_RANGE
    | F.TARGET_HUMIDITY
    | F.FAN_MODE
    | F.PRESET_MODE
    | F.SWING_MODE
    | F.SWING_HORIZONTAL_MODE
    | F.TURN_OFF
    | F.TURN_ON
)
FULL_ATTRS: dict[str, Any] = {
    "supported_features": int(ALL_FEATURES),
    "hvac_modes": ["off", "heat", "cool", "heat_cool"],
    "hvac_action": "idle",
    "current_temperature": 20.0,
    "temperature": 21.0,
    "target_temp_low": 19.0,
    "target_temp_high": 24.0,
    "humidity": 45,
    "fan_mode": "low",
    "preset_mode": "comfort",
    "swing_mode": "vertical",
    "swing_horizontal_mode": "left",
}
FULL_SAVED: dict[str, Any] = {
    "hvac_mode": "heat_cool",
    "temperature": 21.0,
    "target_temp_low": 19.0,
    "target_temp_high": 24.0,
    "humidity": 45,
    "fan_mode": "low",
    "preset_mode": "comfort",
    "swing_mode": "vertical",
    "swing_horizontal_mode": "left",
}


def climate(mode: str = "heat_cool", **attrs: Any) -> State:
    """Return a climate state with FULL_ATTRS overridden by `attrs` (None removes one)."""
    merged = {**FULL_ATTRS, **attrs}
    return State(THERMOSTAT, mode, {k: v for k, v in merged.items() if v is not None})


# In heat_cool the range is the set point in use; a single temperature reported beside it is not.
CAPTURED = {k: v for k, v in FULL_SAVED.items() if k != "temperature"}
RANGE = ["target_temp_low", "target_temp_high"]


def test_capture_every_supported_setting() -> None:
    """Every supported, reported setting is captured, keyed by its attribute, with the mode."""
    assert thermostat.capture(climate()) == CAPTURED


@pytest.mark.parametrize("mode", ["heat", "cool", "off"])
def test_capture_keeps_the_single_set_point_outside_range_modes(mode: str) -> None:
    """A thermostat reporting both keeps the set point its mode uses, so a restore can match it."""
    saved = thermostat.capture(climate(mode))
    assert saved["temperature"] == 21.0
    assert not set(RANGE) & set(saved)
    assert thermostat.mismatched(saved, climate(mode)) == []


@pytest.mark.parametrize(
    ("attrs", "missing"),
    [
        ({"supported_features": int(ALL_FEATURES & ~F.FAN_MODE)}, ["fan_mode"]),
        ({"supported_features": int(ALL_FEATURES & ~F.TARGET_TEMPERATURE)}, []),
        # Without a range, the single set point is the one in use.
        ({"supported_features": int(ALL_FEATURES & ~F.TARGET_TEMPERATURE_RANGE)}, RANGE),
        ({"supported_features": int(ALL_FEATURES & ~F.TARGET_HUMIDITY)}, ["humidity"]),
        (
            {"supported_features": int(ALL_FEATURES & ~F.SWING_HORIZONTAL_MODE)},
            ["swing_horizontal_mode"],
        ),
        # Supported but not reported.
        ({"preset_mode": None}, ["preset_mode"]),
        ({"temperature": None}, []),
        # Half a range is no range: the single set point is kept instead.
        ({"target_temp_high": None}, RANGE),
        ({"target_temp_low": None}, RANGE),
    ],
    ids=[
        "no_fan",
        "no_target",
        "no_range",
        "no_humidity",
        "no_horizontal_swing",
        "preset_unreported",
        "target_unreported",
        "half_range_low",
        "half_range_high",
    ],
)
def test_capture_skips_what_is_unsupported_or_unreported(
    attrs: dict[str, Any], missing: list[str]
) -> None:
    """A setting the thermostat does not support, or does not report, is not captured."""
    saved = thermostat.capture(climate(**attrs))
    expected = {k: v for k, v in CAPTURED.items() if k not in missing}
    if missing == RANGE:
        expected["temperature"] = 21.0
    assert saved == expected


def test_capture_without_features_keeps_the_mode() -> None:
    """A thermostat reporting no features still has its mode saved."""
    state_ = State(THERMOSTAT, "cool", {"temperature": 21.0, "fan_mode": "low"})
    assert thermostat.capture(state_) == {"hvac_mode": "cool"}


def test_restore_calls_order_for_a_working_mode() -> None:
    """The mode goes first, then the set points, then the optional settings in a fixed order."""
    calls = thermostat.restore_calls(FULL_SAVED)
    assert calls[0] == ("set_hvac_mode", {"hvac_mode": "heat_cool"})
    assert (
        "set_temperature",
        {"target_temp_low": 19.0, "target_temp_high": 24.0},
    ) in calls
    assert calls[-5:] == [
        ("set_preset_mode", {"preset_mode": "comfort"}),
        ("set_fan_mode", {"fan_mode": "low"}),
        ("set_swing_mode", {"swing_mode": "vertical"}),
        ("set_swing_horizontal_mode", {"swing_horizontal_mode": "left"}),
        ("set_humidity", {"humidity": 45}),
    ]
    assert {service for service, _data in calls[1:-5]} == {"set_temperature"}


def test_restore_calls_put_off_last() -> None:
    """A thermostat saved off gets its settings first and off last, so nothing switches it back on."""
    saved = {"hvac_mode": "off", "temperature": 20.0, "preset_mode": "eco"}
    assert thermostat.restore_calls(saved) == [
        ("set_temperature", {"temperature": 20.0}),
        ("set_preset_mode", {"preset_mode": "eco"}),
        ("set_hvac_mode", {"hvac_mode": "off"}),
    ]


@pytest.mark.parametrize(
    ("saved", "calls"),
    [
        ({}, []),
        ({"hvac_mode": "heat"}, [("set_hvac_mode", {"hvac_mode": "heat"})]),
        (
            {"hvac_mode": "heat", "temperature": 21.0},
            [
                ("set_hvac_mode", {"hvac_mode": "heat"}),
                ("set_temperature", {"temperature": 21.0}),
            ],
        ),
        ({"fan_mode": "auto"}, [("set_fan_mode", {"fan_mode": "auto"})]),
    ],
    ids=["nothing", "mode", "mode_and_target", "no_mode"],
)
def test_restore_calls_minimal(saved: dict[str, Any], calls: list[Any]) -> None:
    """Only what was saved is sent."""
    assert thermostat.restore_calls(saved) == calls


@pytest.mark.parametrize(
    ("mode", "attrs", "mismatch"),
    [
        ("heat_cool", {}, []),
        ("heat_cool", {"temperature": 21.005}, []),
        ("heat_cool", {"temperature": 21}, []),
        ("heat_cool", {"temperature": 21.5}, ["temperature"]),
        ("heat", {}, ["hvac_mode"]),
        ("off", {"fan_mode": "high"}, ["hvac_mode", "fan_mode"]),
        ("heat_cool", {"preset_mode": None}, ["preset_mode"]),
        ("heat_cool", {"target_temp_low": "19.0"}, ["target_temp_low"]),
        ("heat_cool", {"humidity": 45.0}, []),
    ],
    ids=[
        "same",
        "within_tolerance",
        "int_for_float",
        "other_target",
        "other_mode",
        "mode_and_fan",
        "no_longer_reported",
        "string_is_not_a_number",
        "float_for_int",
    ],
)
def test_mismatched(mode: str, attrs: dict[str, Any], mismatch: list[str]) -> None:
    """Settings compare equal within 0.01 for numbers and exactly otherwise; the mode is the state."""
    assert thermostat.mismatched(FULL_SAVED, climate(mode, **attrs)) == mismatch


@pytest.mark.parametrize(
    ("modes", "supported"),
    [(["off", "heat"], True), (["heat", "cool"], False), ([], False), (None, False)],
)
def test_supports_off(modes: list[str] | None, supported: bool) -> None:
    """A thermostat qualifies only when it offers HVAC mode off."""
    assert thermostat.supports_off(climate(hvac_modes=modes)) is supported


def test_hvac_action_and_reports_action() -> None:
    """The action is read as text; a thermostat without the attribute reports none."""
    assert thermostat.hvac_action(climate(hvac_action="heating")) == "heating"
    assert thermostat.hvac_action(None) is None
    silent = climate(hvac_action=None)
    assert thermostat.hvac_action(silent) is None
    assert not thermostat.reports_action(silent)
    assert thermostat.reports_action(climate())


def test_a_persons_call_and_a_report_are_read_against_the_saved_settings() -> None:
    """A climate call's data names the saved settings it sets; a report equal to them is not new."""
    saved = {"hvac_mode": "heat", "temperature": 21.0, "fan_mode": "low"}
    assert thermostat.requested({"entity_id": "climate.x", "temperature": 23.0}, saved) == {
        "temperature": 23.0
    }
    assert thermostat.requested({"entity_id": "climate.x", "swing_mode": "off"}, saved) == {}
    assert thermostat.differing(saved, {"hvac_mode": "heat", "temperature": 21.004}) == {}
    assert thermostat.differing(saved, {"temperature": 23.0, "preset_mode": "eco"}) == {
        "temperature": 23.0,
        "preset_mode": "eco",
    }

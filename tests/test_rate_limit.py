"""Rate limit: at most `max_resets_per_day` resets that cut power start within 24 hours."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.heat_pump_reset.const import DOMAIN

from .harness.driving import advance, run_once, settle, start, state
from .harness.entity_ids import BUTTON, PHASE
from .harness.equipment import HeatPump
from .harness.timings import T0


async def test_over_the_limit_is_refused_and_touches_nothing(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Two resets within 24 h are allowed; the third start (action or button) is refused untouched."""
    freezer.move_to(T0)
    await run_once(hass, freezer, entry)
    await run_once(hass, freezer, entry)
    for switch in heat_pump.switches:
        switch.commands.clear()
    with pytest.raises(ServiceValidationError) as err:
        await start(hass, entry)
    assert err.value.translation_key == "rate_limited"
    assert err.value.translation_placeholders == {"name": "Heat pump", "count": "2", "limit": "2"}
    rendered = str(err.value)
    assert "2 times in the last 24 hours" in rendered
    assert "technician" in rendered
    # Read on a dashboard too: it does not tell a person to pass `force: true` (issue 15 item 5).
    assert "force" not in rendered
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call("button", "press", {"entity_id": BUTTON}, blocking=True)
    await settle(hass)
    assert state(hass, PHASE).state == "idle"
    assert [switch.commands for switch in heat_pump.switches] == [[], []]
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]


async def test_force_starts_over_the_limit(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    hass_admin_user: MockUser,
) -> None:
    """A person (a call with a user) who passes force: true starts a reset over the limit."""
    freezer.move_to(T0)
    await run_once(hass, freezer, entry)
    await run_once(hass, freezer, entry)
    await start(hass, entry, Context(user_id=hass_admin_user.id), force=True)
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"
    assert [switch.is_on for switch in heat_pump.switches] == [False, False]


@pytest.mark.parametrize("over_the_limit", [True, False], ids=["over", "under"])
async def test_an_automation_cannot_force(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    heat_pump: HeatPump,
    entry: ConfigEntry,
    over_the_limit: bool,
) -> None:
    """force: true from a call without a user (an automation, a script) is refused, touching nothing."""
    freezer.move_to(T0)
    if over_the_limit:
        await run_once(hass, freezer, entry)
        await run_once(hass, freezer, entry)
    for switch in heat_pump.switches:
        switch.commands.clear()
    for context in (None, Context()):
        with pytest.raises(ServiceValidationError) as err:
            await start(hass, entry, context, force=True)
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "force_needs_person"
        assert err.value.translation_placeholders == {"name": "Heat pump"}
        assert "person" in str(err.value)
    await settle(hass)
    assert state(hass, PHASE).state == "idle"
    assert [switch.commands for switch in heat_pump.switches] == [[], []]
    assert [switch.is_on for switch in heat_pump.switches] == [True, True]


async def test_the_window_slides_after_24_hours(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """Once the oldest reset started more than 24 h ago, a new one may start again."""
    freezer.move_to(T0)
    await run_once(hass, freezer, entry)
    await run_once(hass, freezer, entry)
    freezer.move_to(T0 + timedelta(hours=24) - timedelta(seconds=1))
    with pytest.raises(ServiceValidationError):
        await start(hass, entry)
    freezer.move_to(T0 + timedelta(hours=24, seconds=1))
    await start(hass, entry)
    await settle(hass)
    assert state(hass, PHASE).state == "discharging"


async def test_runs_that_did_not_cut_power_do_not_count(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, heat_pump: HeatPump, entry: ConfigEntry
) -> None:
    """A run that ended before the cut is no reset: it does not use up the day's allowance."""
    freezer.move_to(T0)
    heat_pump.thermostat.refuse_modes = {"off"}
    for _ in range(3):
        await start(hass, entry)
        await advance(hass, freezer, timedelta(minutes=5), step=timedelta(seconds=10))
        assert state(hass, PHASE).state == "idle"
    heat_pump.thermostat.refuse_modes = set()
    await run_once(hass, freezer, entry)
    await run_once(hass, freezer, entry)

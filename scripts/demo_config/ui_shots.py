"""Photograph, in a real browser, what issue 15 asked to see working: the forms, the history, a notification.

    PYTHONPATH=scripts/demo_config python -m scripts.demo_config.ui_shots \
        BASE_URL OUT_DIR PROFILE_DIR [NAME.png...]       every picture, or only those named

Used by scripts/ui_screenshots, on a fresh demo (trusted login: no password typed). Each picture is
also a check: it fails (exit 1, with the page's text and a picture beside the PNG) when the page
does not show what it must.

- setup-form.png: Add helper > Heat Pump Reset, the Power switches picker open. It must offer the
  compressor's switch and must NOT offer the breaker, which the demo heat pump already wraps.
- options-form.png: the heat pump's options (the cog): the timings in sections, each range in words.
- history.png: the dashboard after two runs (one that ended, one cancelled): the Reset history card
  shows one line per run.
- notification-de.png: Home Assistant in German (`config/core/update`, and the frontend's own
  language), the breaker gone offline during the discharge wait: the notification that power could
  not be put back, in German, with the breaker's friendly name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import json
from pathlib import Path
import shutil
import sys
import time
from typing import Any

import aiohttp
from browser_page import Page
from browser_shot import PageError, open_tab, with_chromium
import client

from scripts.endtoend.api import Api
from scripts.endtoend.hass import Clock, HarnessError

ENTRY_ID = "01K0DEM0HEATPVMPRESET00000"
PHASE = "sensor.demo_heat_pump_reset_phase"
LAST_RESET = "sensor.demo_heat_pump_last_reset"
BUTTON = "button.demo_heat_pump_reset_heat_pump"
OFFLINE = "input_boolean.demo_breaker_offline"
USER, PASSWORD = "demo", "heatpump"
WIDE = (1280, 900)
TALL = (1280, 1500)
SPEED = 60  # the demo's clock (DEMO_FAKETIME=1)


class Home:
    """The demo's Home Assistant, logged in as the demo user: the e2e's Api, and the browser's door."""

    def __init__(self, base: str) -> None:
        """Log in; tokens are renewed by the demo's 60x clock (the e2e's Api does it)."""
        self.base = base
        clock = Clock()
        clock.faketime(SPEED)  # from now on, 60 seconds of Home Assistant's clock per real one
        self.api = Api(base, clock)
        self.api.set_tokens(client.login_tokens(base, USER, PASSWORD))

    async def let_in(self, page: Page, language: str = "en") -> None:
        """Hand the browser fresh tokens of the demo user, as the frontend keeps them after a login.

        Its own login would trade an authorization code that lives 10 minutes of Home Assistant's
        clock: 10 s under the demo's 60x clock, less than a busy machine takes to load the
        frontend. The page's clock runs as Home Assistant's (`clock_js`), so the frontend renews
        the access token (30 s of real time) by its own clock; it is told it ends at half its life.
        """
        tokens = client.login_tokens(self.base, USER, PASSWORD)
        stored = {**tokens, "hassUrl": self.base, "clientId": f"{self.base}/"}
        await page.tab.send("Page.addScriptToEvaluateOnNewDocument", source=self.clock_js())
        await page.tab.send("Page.navigate", url=f"{self.base}/manifest.json")
        await asyncio.sleep(1)
        await page.evaluate(
            f"const t = {json.dumps(stored)}; t.expires = Date.now() + t.expires_in * 500;"
            "localStorage.setItem('hassTokens', JSON.stringify(t));"
            f"localStorage.setItem('selectedLanguage', {json.dumps(json.dumps(language))})"
        )

    async def open(self, page: Page, path: str, text: str, language: str = "en") -> None:
        """Let the browser in and open `path` until it shows `text`: three tries.

        Now and then the frontend's first websocket is refused ("Unable to connect") although
        its token is fresh, or a cold first load on a busy machine outlasts the token: a new
        token and a reload get it in.
        """
        for attempt in range(3):
            await self.let_in(page, language)
            try:
                await page.goto(f"{self.base}{path}", text, seconds=90)
            except PageError:
                if attempt == 2:
                    raise
            else:
                return

    def clock_js(self) -> str:
        """Return a script that runs the page's clock as Home Assistant's: ahead, and 60x fast.

        Relative times ("2 minutes ago") are the browser's clock against Home Assistant's
        timestamps; a clock behind them says a reset ended "in 12 hours", and one that falls
        behind a minute per second has hung the frontend's history graph (data in its future).
        """
        ha_now = float(self.api.post("/api/template", {"template": "{{ now().timestamp() }}"}))
        ha0, real0 = round(ha_now * 1000), round(time.time() * 1000)
        return (
            f"(() => {{ const Real = window.realDate || Date;"
            " window.realDate = Real;"
            f" const now = () => {ha0} + (Real.now() - {real0}) * {SPEED};"
            " class Shifted extends Real {"
            "  constructor(...a) { a.length ? super(...a) : super(now()); }"
            "  static now() { return now(); } }"
            " window.Date = Shifted; })()"
        )

    def state(self, entity_id: str) -> dict[str, Any]:
        """Return an entity's state object."""
        state = self.api.state(entity_id)
        if state is None:
            msg = f"{entity_id} has no state"
            raise RuntimeError(msg)
        return state

    def call(self, action: str, data: dict[str, Any]) -> None:
        """Call an action."""
        self.api.call(action, data)

    def wait(self, what: str, ready: Callable[[], bool], seconds: float = 180) -> None:
        """Wait until `ready()` holds (the demo's clock runs 60 times fast)."""
        deadline = time.monotonic() + seconds
        while not ready():
            if time.monotonic() > deadline:
                msg = f"waited {seconds:.0f} s for {what}"
                raise RuntimeError(msg)
            time.sleep(0.5)

    def wait_phase(self, *phases: str) -> None:
        """Wait until the phase sensor shows one of `phases`."""
        self.wait(f"phase {phases}", lambda: self.state(PHASE)["state"] in phases)

    async def ws(self, command: dict[str, Any]) -> Any:
        """Send one websocket command and return its result."""
        return (await asyncio.to_thread(self.api.ws, command))[0]


async def setup_form(page: Page, home: Home) -> bytes:
    """Open the set-up form's Power switches picker: the breaker the demo wraps is not offered."""
    await home.open(page, "/config/integrations/integration/heat_pump_reset", "Add helper")
    await page.click("Add helper")
    await page.find("Power switches")
    await page.click("Select an entity", nth=1)  # the second picker: Power switches
    await page.find("Heat pump compressor")
    if await page.find_all("Heat pump breaker"):
        raise await page.failure(["the breaker left out (the demo heat pump wraps it)"])
    return await page.png()


async def options_form(page: Page, home: Home) -> bytes:
    """Open the options form: the timings in sections, each range in words."""
    await home.open(page, "/config/integrations/integration/heat_pump_reset", "Demo heat pump")
    await page.click_until("Configure", "Timings", labelled=True)
    for section in ("Timings", "Running threshold", "Limits"):
        await page.find(section)
    page_text = " ".join((await page.tab.text()).split())
    if "At least 30 minutes" not in page_text or "Allowed: 0 to 30 minutes" not in page_text:
        raise await page.failure(["each range in words"])
    return await page.png()


async def history(page: Page, home: Home) -> bytes:
    """Two runs, one to its end and one cancelled; then the dashboard's Reset history card."""
    await asyncio.to_thread(_two_runs, home)
    await home.open(page, "/lovelace/heat-pump", "Reset history")
    runs = home.state(LAST_RESET)["attributes"].get("runs") or []
    for run in runs[:2]:
        await page.find(run["text"], seconds=30)
    await asyncio.sleep(3)  # the logbook card and icons
    return await page.png()


def _two_runs(home: Home) -> None:
    """Run a reset to its end (the 60x clock: about a minute), then cancel one while discharging."""
    home.call(
        "heat_pump_reset.start_reset",
        {"entity_id": BUTTON, "reason": "Error code E5 after a power cut", "force": True},
    )
    home.wait_phase("discharging")
    home.wait_phase("idle")
    home.call("heat_pump_reset.start_reset", {"entity_id": BUTTON, "force": True})
    home.wait_phase("discharging")
    home.call("heat_pump_reset.cancel_reset", {"entity_id": BUTTON})
    home.wait_phase("idle")
    home.wait(
        "two runs in the history",
        lambda: len(home.state(LAST_RESET)["attributes"].get("runs") or []) >= 2,
    )


async def notification_de(page: Page, home: Home) -> bytes:
    """In German: the breaker offline during the discharge wait; the notification it leaves."""
    await home.ws({"type": "config/core/update", "language": "de"})
    await asyncio.to_thread(_start_and_lose_breaker, home)
    for _ in range(120):
        notices = await home.ws({"type": "persistent_notification/get"})
        if ours := [n for n in notices if ENTRY_ID in n["notification_id"]]:
            break
        await asyncio.sleep(1)
    else:
        msg = f"no notification of the heat pump within 2 minutes; there are {notices}"
        raise RuntimeError(msg)
    # A token refused on the way (see Home.open) leaves Home Assistant's own notice: not ours.
    await asyncio.to_thread(
        home.call, "persistent_notification.dismiss", {"notification_id": "http-login"}
    )
    await home.open(page, "/lovelace/heat-pump", "Benachrichtigungen", "de")
    # The bell beside the sidebar's "Notifications", until the drawer shows the notice.
    await page.click_until("Benachrichtigungen", ours[0]["title"], left_of=28)
    if "Heat pump breaker" not in (text := await page.tab.text()) or "Strom" not in text:
        raise await page.failure(["the German notification naming the breaker by its name"])
    await asyncio.sleep(1)
    picture = await page.png()
    await asyncio.to_thread(home.call, "input_boolean.turn_off", {"entity_id": OFFLINE})
    return picture


def _start_and_lose_breaker(home: Home) -> None:
    """Start a run; take the breaker offline while the power is off, so it cannot come back."""
    home.call("input_boolean.turn_off", {"entity_id": OFFLINE})
    home.wait_phase("idle")
    home.call("heat_pump_reset.start_reset", {"entity_id": BUTTON, "force": True})
    home.wait_phase("discharging")
    home.call("input_boolean.turn_on", {"entity_id": OFFLINE})
    home.wait_phase("restoring_power")


type Scene = Callable[[Page, Home], Awaitable[bytes]]

SCENES: list[tuple[str, tuple[int, int], Scene]] = [
    ("setup-form.png", WIDE, setup_form),
    ("options-form.png", TALL, options_form),
    ("history.png", WIDE, history),
    ("notification-de.png", WIDE, notification_de),
]


def shoot(base: str, out_dir: Path, profile: Path, only: list[str]) -> None:
    """Take every scene's picture (or those in `only`), in order, each in a fresh Chromium."""
    home = Home(base)
    profile.mkdir(parents=True, exist_ok=True)
    for n, (name, size, scene) in enumerate(SCENES):
        if only and name not in only:
            continue
        out = out_dir / name

        async def work(port: int, scene: Scene = scene, size: tuple[int, int] = size) -> bytes:
            async with open_tab(port, size) as tab:
                return await scene(Page(tab), home)

        fresh = profile / str(n)
        shutil.rmtree(fresh, ignore_errors=True)  # a stale DevToolsActivePort would mislead
        out.write_bytes(with_chromium(fresh, size, work, out.with_suffix(".failed.png")))
        print(f"ui_shots: wrote {out}")


def main(argv: list[str]) -> int:
    """Parse the arguments and take the pictures."""
    if len(argv) < 3 or any(a not in [name for name, _, _ in SCENES] for a in argv[3:]):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        shoot(argv[0], Path(argv[1]), Path(argv[2]), argv[3:])
    except (RuntimeError, OSError, aiohttp.ClientError, PageError, HarnessError) as err:
        print(f"ui_shots: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Photograph the target picker of `heat_pump_reset.start_reset` in the action editor.

    action_shot.py BASE_URL OUT.png PROFILE_DIR [WIDTH HEIGHT]

Used by scripts/action_screenshot, on the demo (trusted login: no password typed). Drives headless
Chromium over the DevTools protocol as a person would: Developer tools > Actions in UI mode, types
"start reset" into the action picker and picks Heat Pump Reset's *Start reset*, presses *Add
target*, types "heat pump" into its search, and saves a PNG of what the picker offers. Then it
checks, with the picker's *Devices* filter, that the demo's heat pump device is offered too.
Fails (exit 1, with the page's text and a picture beside OUT) when the picker does not offer the
heat pump: the target selector of services.yaml decides what it lists.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
import sys

import aiohttp
from browser_page import Page
from browser_shot import open_tab, with_chromium

ACTION = "heat_pump_reset.start_reset"
HEAT_PUMP = "Demo heat pump"  # the demo's heat pump: the device, and each entity's subtitle
BUTTON = "Reset heat pump"  # its button, the entity the README says to pick


async def capture(port: int, base_url: str, size: tuple[int, int]) -> bytes:
    """Open the action editor, pick the action, open its target picker; return the picture."""
    async with open_tab(port, size) as tab:
        page = Page(tab)
        url = f"{base_url}/developer-tools/action"
        await page.goto(url, "Perform action")
        # A fresh editor in UI mode (the page keeps its last action and mode in localStorage).
        await page.evaluate(
            "localStorage.removeItem('panel-dev-action-state-service-data');"
            "localStorage.setItem('panel-dev-action-state-yaml-mode', 'false')"
        )
        await tab.send("Page.navigate", url=url)
        await asyncio.sleep(2)
        await page.click("Action")
        await page.type("start reset")
        await page.click(ACTION)
        await page.click("Add target")
        await page.type("heat pump")
        await page.find(BUTTON)
        await page.find(HEAT_PUMP)
        await asyncio.sleep(1)  # icons
        picture = await page.png()
        # The heat pump's device is offered too (the Devices filter lists devices only).
        await page.click("Devices")
        await page.find(HEAT_PUMP)
        return picture


def shoot(base_url: str, out: Path, profile: Path, size: tuple[int, int]) -> None:
    """Photograph the target picker into `out`."""

    async def work(port: int) -> bytes:
        return await capture(port, base_url, size)

    out.write_bytes(with_chromium(profile, size, work, out.with_suffix(".failed.png")))


def main(argv: list[str]) -> int:
    """Parse the arguments and take the picture."""
    if len(argv) not in (3, 5):
        print(__doc__, file=sys.stderr)
        return 2
    size = (int(argv[3]), int(argv[4])) if len(argv) == 5 else (1280, 900)
    try:
        shoot(argv[0], Path(argv[1]), Path(argv[2]), size)
    except (RuntimeError, OSError, aiohttp.ClientError) as err:
        print(f"action_shot: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

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
import base64
import json
from pathlib import Path
import subprocess
import sys
from typing import Any

import aiohttp
from browser_shot import PageError, Tab, _debug_port, _start_chromium

ACTION = "heat_pump_reset.start_reset"
HEAT_PUMP = "Demo heat pump"  # the demo's heat pump: the device, and each entity's subtitle
BUTTON = "Reset heat pump"  # its button, the entity the README says to pick

# The centre of the first visible element (through open shadow roots) whose own text is `text`,
# or null. Text nodes are matched, so a label inside a slot counts where it is drawn.
FIND_JS = """
((text) => {
  const hits = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.textContent.trim() === text && node.parentElement) hits.push(node.parentElement);
      return;
    }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document);
  for (const el of hits) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight) {
      return {x: r.left + r.width / 2, y: r.top + r.height / 2};
    }
  }
  return null;
})
"""


class Page:
    """The action editor, driven like a person: clicks at what is drawn, typed text."""

    def __init__(self, tab: Tab) -> None:
        """Drive one tab."""
        self.tab = tab

    async def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript expression."""
        result = await self.tab.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result.get("result", {}).get("value")

    async def find(self, text: str, seconds: float = 30) -> dict[str, float]:
        """Wait until an element showing `text` is drawn and return its centre."""
        for _ in range(int(seconds / 0.25)):
            where = await self.evaluate(f"{FIND_JS}({json.dumps(text)})")
            if where:
                return dict(where)
            await asyncio.sleep(0.25)
        raise await self.failure([text])

    async def click(self, text: str) -> None:
        """Click the element showing `text`, as the mouse would."""
        where = await self.find(text)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            await self.tab.send(
                "Input.dispatchMouseEvent",
                type=kind,
                x=where["x"],
                y=where["y"],
                button="left",
                clickCount=1,
            )
        await asyncio.sleep(1)

    async def type(self, text: str) -> None:
        """Type into the focused field."""
        await self.tab.send("Input.insertText", text=text)
        await asyncio.sleep(1)

    async def png(self) -> bytes:
        """Return a picture of the page."""
        shot = await self.tab.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])

    async def failure(self, missing: list[str]) -> PageError:
        """Return the error for texts that never showed, with the page's text and picture."""
        return PageError(missing, await self.tab.text(), await self.png())


async def capture(port: int, base_url: str, size: tuple[int, int]) -> bytes:
    """Open the action editor, pick the action, open its target picker; return the picture."""
    width, height = size
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = await resp.json()
        target = next(t for t in targets if t["type"] == "page")
        async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            tab = Tab(ws)
            page = Page(tab)
            await tab.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            await tab.send("Page.enable")
            url = f"{base_url}/developer-tools/action"
            await tab.send("Page.navigate", url=url)
            await page.find("Perform action", seconds=90)
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
    """Photograph the target picker into `out`; Chromium is always stopped."""
    proc = _start_chromium(profile, size)
    try:
        out.write_bytes(asyncio.run(capture(_debug_port(profile, proc), base_url, size)))
    except PageError as err:
        failed = out.with_suffix(".failed.png")
        failed.write_bytes(err.png)
        text = " ".join(err.text.split())
        msg = f"{err}; what it showed is in {failed}; its text: {text[-1500:]}"
        raise RuntimeError(msg) from err
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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

"""A Home Assistant page in headless Chromium, driven as a person would: clicks at what is drawn.

Used by action_shot.py and ui_shots.py (over browser_shot.py's Tab). Texts and labels are searched
through open shadow roots, where Home Assistant's frontend draws everything.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from browser_shot import PageError, Tab

# The centres of the visible elements whose own text is `text` (text nodes are matched, so a label
# inside a slot counts where it is drawn) or, with `labelled`, whose label, aria-label or title is.
FIND_ALL_JS = """
((text, labelled) => {
  const hits = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) {
      if (!labelled && node.textContent.trim() === text && node.parentElement) {
        hits.push(node.parentElement);
      }
      return;
    }
    if (labelled && node.nodeType === Node.ELEMENT_NODE) {
      const label = ['label', 'aria-label', 'title'].map((a) => node.getAttribute(a)).find((l) => l);
      if (label && label.trim() === text) hits.push(node);
    }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document);
  return hits
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight)
    .map((r) => ({x: r.left + r.width / 2, y: r.top + r.height / 2, left: r.left}));
})
"""


class Page:
    """One tab of Home Assistant's frontend: find what is drawn, click it, type, photograph."""

    def __init__(self, tab: Tab) -> None:
        """Drive one tab."""
        self.tab = tab

    async def evaluate(self, expression: str) -> Any:
        """Return the value of a JavaScript expression."""
        result = await self.tab.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result.get("result", {}).get("value")

    async def find_all(self, text: str, *, labelled: bool = False) -> list[dict[str, float]]:
        """Return the centres of the drawn elements showing (or labelled) `text`, now."""
        try:
            found = await self.evaluate(
                f"{FIND_ALL_JS}({json.dumps(text)}, {json.dumps(labelled)})"
            )
        except RuntimeError:  # the page is navigating: nothing drawn yet
            return []
        return [dict(where) for where in found or []]

    async def find(
        self, text: str, seconds: float = 30, *, labelled: bool = False, nth: int = 0
    ) -> dict[str, float]:
        """Wait until the `nth` element showing (or labelled) `text` is drawn; its centre."""
        for _ in range(int(seconds / 0.25)):
            if len(found := await self.find_all(text, labelled=labelled)) > nth:
                return found[nth]
            await asyncio.sleep(0.25)
        raise await self.failure([text])

    async def click(
        self, text: str, *, labelled: bool = False, nth: int = 0, left_of: float = 0
    ) -> None:
        """Click the `nth` element showing (or labelled) `text`, as the mouse would.

        With `left_of`, click that many pixels left of its text instead (an icon beside a label).
        """
        where = await self.find(text, labelled=labelled, nth=nth)
        if left_of:
            where = {"x": where["left"] - left_of, "y": where["y"]}
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

    async def click_until(
        self, text: str, shows: str, *, labelled: bool = False, left_of: float = 0
    ) -> None:
        """Click `text` until `shows` is drawn (three tries): a first click may only focus."""
        for _ in range(3):
            await self.click(text, labelled=labelled, left_of=left_of)
            if await self.find_all(shows):
                return
        await self.find(shows)

    async def type(self, text: str) -> None:
        """Type into the focused field."""
        await self.tab.send("Input.insertText", text=text)
        await asyncio.sleep(1)

    async def goto(self, url: str, text: str, seconds: float = 90) -> None:
        """Open `url` and wait until it shows `text`."""
        await self.tab.send("Page.navigate", url=url)
        await self.find(text, seconds=seconds)

    async def png(self) -> bytes:
        """Return a picture of the page."""
        shot = await self.tab.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])

    async def failure(self, missing: list[str]) -> PageError:
        """Return the error for texts that never showed, with the page's text and picture."""
        return PageError(missing, await self.tab.text(), await self.png())

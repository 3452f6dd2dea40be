"""Photograph a page with headless Chromium once it has rendered (used by scripts/screenshot).

    browser_shot.py URL OUT.png PROFILE_DIR [WIDTH HEIGHT] [TEXT...]

Starts Chromium with the DevTools protocol on a local port, opens URL, waits (up to 90 s) until
every TEXT appears on the page (searched through the shadow DOM, where Home Assistant's frontend
renders), lets it settle, saves a PNG, and always stops Chromium. Chromium's own `--screenshot`
fires at the load event, long before Home Assistant's frontend has drawn anything.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
import itertools
import json
from pathlib import Path
import subprocess
import sys
import time
from typing import Any

import aiohttp

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]

# How long a DevTools command may take (a page stuck in a dialog answers nothing).
ANSWER_SECONDS = 60

# Every text node's text, through open shadow roots, joined.
PAGE_TEXT_JS = """
(() => {
  const out = [];
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) { out.push(node.textContent); return; }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document);
  return out.join(' ');
})()
"""


class PageError(RuntimeError):
    """The page never showed the texts; carries what it showed and a picture of it."""

    def __init__(self, missing: list[str], text: str, png: bytes) -> None:
        """Keep the page's text and picture."""
        super().__init__(f"the page never showed {missing}")
        self.text = text
        self.png = png


class Tab:
    """One page, driven over the DevTools protocol."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Use an open websocket to the page."""
        self.ws = ws
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result, skipping events."""
        msg_id = next(self.ids)
        await self.ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            try:
                msg = json.loads((await asyncio.wait_for(self.ws.receive(), ANSWER_SECONDS)).data)
            except TimeoutError as err:
                msg = f"{method}: Chromium did not answer within {ANSWER_SECONDS} s"
                raise RuntimeError(msg) from err
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    async def text(self) -> str:
        """Return the page's visible text, shadow DOM included."""
        result = await self.send("Runtime.evaluate", expression=PAGE_TEXT_JS, returnByValue=True)
        return str(result.get("result", {}).get("value", ""))


def _start_chromium(profile: Path, size: tuple[int, int]) -> subprocess.Popen[bytes]:
    """Start headless Chromium on about:blank, its output in chromium.log beside the profile."""
    width, height = size
    cmd = ["chromium", *FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"]
    with (profile.parent / "chromium.log").open("wb") as log:
        return subprocess.Popen([*cmd, "about:blank"], stdout=log, stderr=log)


def _debug_port(profile: Path, proc: subprocess.Popen[bytes]) -> int:
    """Wait for Chromium to write the port it listens on."""
    marker = profile / "DevToolsActivePort"
    for _ in range(300):
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with code {proc.returncode}")
        if marker.exists() and (lines := marker.read_text().split()):
            return int(lines[0])
        time.sleep(0.1)
    raise RuntimeError("chromium did not open its debugging port")


@contextlib.asynccontextmanager
async def open_tab(port: int, size: tuple[int, int]) -> AsyncIterator[Tab]:
    """Yield Chromium's page as a Tab of `size` pixels, its page events enabled."""
    width, height = size
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = await resp.json()
        page = next(t for t in targets if t["type"] == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            tab = Tab(ws)
            await tab.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            await tab.send("Page.enable")
            yield tab


async def capture(port: int, url: str, size: tuple[int, int], texts: list[str]) -> bytes:
    """Open `url` in Chromium's page, wait for `texts`, and return a PNG of it."""
    async with open_tab(port, size) as tab:
        await tab.send("Page.navigate", url=url)
        missing = texts
        for _ in range(180):
            await asyncio.sleep(0.5)
            page_text = await tab.text()
            if not (missing := [t for t in texts if t not in page_text]):
                break
        else:
            # Keep what the page showed instead, to see why.
            shot = await tab.send("Page.captureScreenshot", format="png")
            raise PageError(missing, page_text, base64.b64decode(shot["data"]))
        await asyncio.sleep(3)  # let cards, icons and the logbook finish drawing
        shot = await tab.send("Page.captureScreenshot", format="png")
        return base64.b64decode(shot["data"])


def with_chromium[T](
    profile: Path, size: tuple[int, int], work: Callable[[int], Awaitable[T]], failed: Path
) -> T:
    """Run `work` (given Chromium's debugging port) in a fresh headless Chromium; always stop it.

    A page that never showed what `work` waited for leaves its picture in `failed`.
    """
    proc = _start_chromium(profile, size)
    try:
        return asyncio.run(work(_debug_port(profile, proc)))
    except PageError as err:
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


def shoot(url: str, out: Path, profile: Path, size: tuple[int, int], texts: list[str]) -> None:
    """Photograph `url` into `out` once it shows `texts`."""

    async def work(port: int) -> bytes:
        return await capture(port, url, size, texts)

    out.write_bytes(with_chromium(profile, size, work, out.with_suffix(".failed.png")))


def main(argv: list[str]) -> int:
    """Parse the arguments and take the picture."""
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    url, out, profile = argv[0], Path(argv[1]), Path(argv[2])
    rest = argv[3:]
    size = (1280, 900)
    if len(rest) >= 2 and rest[0].isdigit() and rest[1].isdigit():
        size = (int(rest[0]), int(rest[1]))
        rest = rest[2:]
    try:
        shoot(url, out, profile, size, rest)
    except (RuntimeError, OSError, aiohttp.ClientError) as err:
        print(f"screenshot: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The README's pasteable parts work: the dashboard YAML, the blueprint import links."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.template import Template
import yaml

import custom_components.heat_pump_reset as integration

from .harness.driving import advance, cancel, start, state
from .harness.entity_ids import PHASE

REPO = Path(__file__).parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
MANIFEST: dict[str, Any] = json.loads(
    (Path(integration.__file__).parent / "manifest.json").read_text(encoding="utf-8")
)
BLUEPRINTS = sorted((REPO / "blueprints").rglob("*.yaml"))
IMPORT = "https://my.home-assistant.io/redirect/blueprint_import/"


def section(title: str) -> str:
    """Return one `## title` section of the README."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.DOTALL | re.MULTILINE)
    assert match, title
    return match.group(1)


def dashboard_card() -> dict[str, Any]:
    """Return the Dashboard section's card, as pasted."""
    blocks = re.findall(r"```yaml\n(.*?)```", section("Dashboard"), re.DOTALL)
    assert len(blocks) == 1
    card: dict[str, Any] = yaml.safe_load(blocks[0])
    return card


def repository() -> str:
    """Return the repository's GitHub owner/name, from the manifest's documentation link."""
    match = re.fullmatch(r"https://github\.com/([^/]+/[^/#]+)(#.*)?", MANIFEST["documentation"])
    assert match
    return match.group(1)


async def test_dashboard_yaml_names_existing_entities(
    hass: HomeAssistant, entry: ConfigEntry
) -> None:
    """Every entity of the README's card exists (the test thermostat is `living_room`, as there)."""
    card = dashboard_card()
    registry = er.async_get(hass)
    rows = card["cards"][0]["entities"]
    ids = [row if isinstance(row, str) else row["entity"] for row in rows]
    assert ids
    assert [i for i in ids if registry.async_get(i) is None] == []
    # Short row names: without them the rows read "Living room Reset phase ..." and are cut off.
    assert all(isinstance(row, dict) and 0 < len(row["name"]) <= 16 for row in rows), rows
    # The README says how many `living_room` to replace.
    count = yaml.safe_dump(card).count("living_room")
    words = {8: "eight", 9: "nine", 10: "ten", 11: "eleven", 12: "twelve"}
    assert f"replace each `living_room` ({words.get(count, count)} places)" in " ".join(
        section("Dashboard").split()
    )


async def test_dashboard_history_card_renders(
    hass: HomeAssistant, entry: ConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The README's Markdown card renders, before any run and with one."""
    markdown = next(c for c in dashboard_card()["cards"] if c["type"] == "markdown")
    template = Template(markdown["content"], hass)
    assert "No reset yet." in template.async_render(parse_result=False)
    await start(hass, entry, reason="E5 on the display")
    await cancel(hass, entry)
    await advance(hass, freezer, timedelta(minutes=10))  # power back, start-up delay, thermostat
    assert state(hass, PHASE).state == "idle"
    shown = Template(markdown["content"], hass).async_render(parse_result=False)
    assert "No reset yet." not in shown
    assert "cancelled" in shown
    assert "E5 on the display" in shown


def test_each_blueprint_has_an_import_link() -> None:
    """Each blueprint has a my.home-assistant.io import link to its raw file in this repository."""
    links = re.findall(rf"\({re.escape(IMPORT)}\?([^)\s]+)\)", README)
    urls = [parse_qs(query)["blueprint_url"][0] for query in links]
    raw = f"https://raw.githubusercontent.com/{repository()}/main/"
    assert sorted(urls) == sorted(raw + str(path.relative_to(REPO)) for path in BLUEPRINTS)
    for path in BLUEPRINTS:
        source_url = yaml.safe_load(path.read_text(encoding="utf-8").replace("!input", ""))[
            "blueprint"
        ]["source_url"]
        assert urlsplit(source_url).path == f"/{repository()}/blob/main/{path.relative_to(REPO)}"

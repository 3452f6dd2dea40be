"""Pre-seed a fresh demo configuration's .storage: onboarding done, an owner, the entry, a dashboard.

Run by scripts/demo with the .venv's Python, after `hass --script auth add` stored the password:
    seed.py CONFIG_DIR USERNAME DASHBOARD_YAML ENTRY_ID

The formats are Home Assistant's own stores (checked against 2025.4.4 and 2026.10.4, which use the
same versions): .storage/onboarding (4), auth (1), core.config_entries (1.5), lovelace (1).
Existing files are left alone, so a reused demo keeps its users, history and edits.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
from pathlib import Path
import sys
from typing import Any
import uuid

import yaml

THERMOSTAT = "climate.heat_pump"
BREAKER = "switch.heat_pump_breaker"
POWER_SENSOR = "sensor.heat_pump_power"
FAULT_SENSOR = "sensor.heat_pump_error_code"
# Outage protection (issue 14): the Mains toggle and the outdoor temperature slider.
MAINS = "binary_sensor.mains"
OUTDOOR_SENSOR = "sensor.outdoor_temperature"
ENTRY_TITLE = "Demo heat pump"
OPTIONS: dict[str, Any] = {
    "thermostat": THERMOSTAT,
    "switches": [BREAKER],
    "power_sensor": POWER_SENSOR,
    "fault_entities": [FAULT_SENSOR],
    "discharge_minutes": 30,
    "startup_delay_minutes": 5,
    "stop_timeout_seconds": 120,
    "switch_timeout_seconds": 30,
    "stagger_seconds": 10,
    "verify_minutes": 15,
    "power_threshold": 100.0,
    "current_threshold": 0.5,
    "no_power_threshold": 5.0,
    "no_power_current_threshold": 0.05,
    "outage_protection": True,
    "mains_entity": MAINS,
    "outdoor_temperature_entity": OUTDOOR_SENSOR,
}


def _write(storage: Path, key: str, version: int, minor: int, data: dict[str, Any]) -> None:
    """Write one store unless it exists already."""
    path = storage / key
    if path.exists():
        print(f"seed: keeping .storage/{key}")
        return
    body = {"version": version, "minor_version": minor, "key": key, "data": data}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    path.chmod(0o600)
    print(f"seed: wrote .storage/{key}")


def _auth(username: str) -> dict[str, Any]:
    """Return the auth store: one active owner in the admin group, logging in with `username`."""
    user_id = uuid.uuid4().hex
    return {
        "users": [
            {
                "id": user_id,
                "group_ids": ["system-admin"],
                "is_owner": True,
                "is_active": True,
                "name": username.capitalize(),
                "system_generated": False,
                "local_only": False,
            }
        ],
        "groups": [{"id": "system-admin"}, {"id": "system-users"}, {"id": "system-read-only"}],
        "credentials": [
            {
                "id": uuid.uuid4().hex,
                "user_id": user_id,
                "auth_provider_type": "homeassistant",
                "auth_provider_id": None,
                "data": {"username": username},
            }
        ],
        "refresh_tokens": [],
    }


def _config_entries(entry_id: str) -> dict[str, Any]:
    """Return the config entries store holding the demo heat pump."""
    now = datetime.now(UTC).isoformat()
    return {
        "entries": [
            {
                "created_at": now,
                "data": {},
                "disabled_by": None,
                "discovery_keys": {},
                "domain": "heat_pump_reset",
                "entry_id": entry_id,
                "minor_version": 2,
                "modified_at": now,
                "options": OPTIONS,
                "pref_disable_new_entities": False,
                "pref_disable_polling": False,
                "source": "user",
                "subentries": [],
                "title": ENTRY_TITLE,
                "unique_id": THERMOSTAT,
                "version": 1,
            }
        ]
    }


def main(config_dir: str, username: str, dashboard: str, entry_id: str) -> None:
    """Seed the stores a first start needs."""
    storage = Path(config_dir) / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    _write(
        storage, "onboarding", 4, 1, {"done": ["user", "core_config", "analytics", "integration"]}
    )
    # `hass --script auth` stored the password (auth_provider.homeassistant) and may have left
    # an auth store without users: replace it unless it already has one.
    auth = storage / "auth"
    if auth.exists() and not json.loads(auth.read_text(encoding="utf-8"))["data"].get("users"):
        auth.unlink()
    _write(storage, "auth", 1, 1, _auth(username))
    _write(storage, "core.config_entries", 1, 5, _config_entries(entry_id))
    config = yaml.safe_load(Path(dashboard).read_text(encoding="utf-8"))
    _write(storage, "lovelace", 1, 1, {"config": config})


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])

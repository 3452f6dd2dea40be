"""A small client for the demo's Home Assistant: log in like the frontend does, read states, call actions.

Used by scripts/demo (`client.py wait URL USER PASSWORD TIMEOUT PID`: wait until Home Assistant
answers, log in with the printed credentials and wait for the heat pump's entities) and imported by
scripts/screenshot and scripts/e2e (scripts/endtoend). Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any
import urllib.error
import urllib.parse
import urllib.request

# Entities the demo must show before it counts as started.
REQUIRED = ("climate.heat_pump", "switch.heat_pump_breaker", "sensor.demo_heat_pump_reset_phase")


def request(
    url: str,
    *,
    data: dict[str, Any] | None = None,
    form: dict[str, str] | None = None,
    token: str | None = None,
    timeout: float = 10,
) -> Any:
    """Send a GET (or a POST with a JSON or form body) and return the decoded JSON answer."""
    headers = {}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def login(base: str, username: str, password: str) -> str:
    """Log in through the REST login flow, as the frontend does, and return an access token."""
    return str(login_tokens(base, username, password)["access_token"])


def login_tokens(base: str, username: str, password: str) -> dict[str, Any]:
    """Log in through the REST login flow and return the tokens (access, refresh, lifetime)."""
    client_id = f"{base}/"
    flow = request(
        f"{base}/auth/login_flow",
        data={
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id,
        },
    )
    result = request(
        f"{base}/auth/login_flow/{flow['flow_id']}",
        data={"client_id": client_id, "username": username, "password": password},
    )
    if result.get("type") != "create_entry":
        msg = f"login as {username!r} refused: {result.get('errors') or result}"
        raise RuntimeError(msg)
    return tokens_from_code(base, result["result"])


def tokens_from_code(base: str, code: str) -> dict[str, Any]:
    """Exchange an authorization code (login flow or onboarding) for access and refresh tokens."""
    return dict(
        request(
            f"{base}/auth/token",
            form={"grant_type": "authorization_code", "code": code, "client_id": f"{base}/"},
        )
    )


def refresh(base: str, refresh_token: str) -> dict[str, Any]:
    """Return a new access token (with its lifetime, `expires_in`) for a refresh token."""
    return dict(
        request(
            f"{base}/auth/token",
            form={
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": f"{base}/",
            },
        )
    )


def states(base: str, token: str) -> dict[str, dict[str, Any]]:
    """Return all states by entity id."""
    return {s["entity_id"]: s for s in request(f"{base}/api/states", token=token)}


def call(base: str, token: str, action: str, data: dict[str, Any]) -> Any:
    """Call an action (`domain.service`)."""
    domain, service = action.split(".", 1)
    return request(f"{base}/api/services/{domain}/{service}", data=data, token=token)


def _alive(pid: int) -> bool:
    """Return whether the process still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_ready(base: str, username: str, password: str, timeout: float, pid: int) -> str:
    """Wait for the frontend, log in, and wait for the demo's entities; return a token."""
    deadline = time.monotonic() + timeout
    token = None
    missing: list[str] = list(REQUIRED)
    while time.monotonic() < deadline:
        if pid and not _alive(pid):
            msg = "Home Assistant exited during start-up"
            raise RuntimeError(msg)
        try:
            if token is None:
                request(f"{base}/manifest.json")
                token = login(base, username, password)
                config = request(f"{base}/api/config", token=token)
                if config.get("recovery_mode"):
                    msg = "Home Assistant started in recovery mode: the configuration is broken"
                    raise RuntimeError(msg)
            current = states(base, token)
            missing = [e for e in REQUIRED if e not in current]
            if not missing:
                return token
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(1)
    msg = f"Home Assistant did not come up on {base} within {timeout:.0f} s (missing: {missing})"
    raise RuntimeError(msg)


def main(argv: list[str]) -> int:
    """Run `wait URL USER PASSWORD TIMEOUT PID`."""
    if len(argv) != 6 or argv[0] != "wait":
        print(__doc__, file=sys.stderr)
        return 2
    _, base, username, password, timeout, pid = argv
    try:
        wait_ready(base, username, password, float(timeout), int(pid))
    except RuntimeError as err:
        print(f"demo: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

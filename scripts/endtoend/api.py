"""Home Assistant's REST and WebSocket APIs, as a client with a user's tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
import json
from typing import Any
import urllib.error
import urllib.request

import aiohttp
import client

from .hass import Clock, HarnessError


class Api:
    """Home Assistant's REST and WebSocket APIs with a user's tokens (refreshed when they expire)."""

    def __init__(self, base: str, clock: Clock) -> None:
        """Point at Home Assistant; tokens come from onboarding."""
        self.base = base
        self.clock = clock
        self.access = ""
        self.refresh_token = ""
        self._renew_at = datetime.max.replace(tzinfo=UTC)

    def set_tokens(self, tokens: dict[str, Any]) -> None:
        """Keep the tokens of a token answer and plan their renewal."""
        self.access = tokens["access_token"]
        self.refresh_token = tokens.get("refresh_token", self.refresh_token)
        # Renew well before expiry: an expired token would make Home Assistant report a failed
        # login (an `http-login` notification) each time.
        lifetime = timedelta(seconds=int(tokens.get("expires_in", 1800)))
        self._renew_at = self.clock.now() + lifetime / 2

    def renew(self) -> None:
        """Get a new access token with the refresh token."""
        self.set_tokens(client.refresh(self.base, self.refresh_token))

    def token(self) -> str:
        """Return a valid access token, renewed when half its life is over."""
        if self.clock.now() >= self._renew_at:
            self.renew()
        return self.access

    def _authed(self, send: Callable[[str], Any]) -> Any:
        """Send a request; on 401 (a token outlived by the fast clock) renew it and send again."""
        try:
            return send(self.token())
        except urllib.error.HTTPError as err:
            if err.code != 401:
                raise
        self.renew()
        return send(self.access)

    def get(self, path: str) -> Any:
        """GET a path."""
        return self._authed(lambda token: client.request(self.base + path, token=token))

    def post(self, path: str, data: dict[str, Any]) -> Any:
        """POST JSON to a path."""
        return self._authed(
            lambda token: client.request(self.base + path, data=data, token=token, timeout=30)
        )

    def delete(self, path: str) -> Any:
        """DELETE a path."""

        def _send(token: str) -> Any:
            req = urllib.request.Request(
                self.base + path, method="DELETE", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
            return json.loads(raw) if raw else None

        return self._authed(_send)

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """Return an entity's state, or None when it has none."""
        try:
            result: dict[str, Any] = self.get(f"/api/states/{entity_id}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise
        return result

    def value(self, entity_id: str) -> str | None:
        """Return an entity's state string."""
        state = self.state(entity_id)
        return None if state is None else str(state["state"])

    def call(self, action: str, data: dict[str, Any], *, response: bool = False) -> Any:
        """Call an action over REST; with `response`, return its response data."""
        domain, service = action.split(".", 1)
        path = f"/api/services/{domain}/{service}" + ("?return_response" if response else "")
        result = self.post(path, data)
        return result["service_response"] if response else result

    def ws(self, *messages: dict[str, Any]) -> list[Any]:
        """Send commands over a fresh WebSocket connection; return their results in order.

        Short connections: a connection left idle would miss the server's heartbeat pings, which
        come 60 times as often on the fast clock.
        """
        for attempt in range(3):
            try:
                return asyncio.run(self._ws(list(messages)))
            except PermissionError:
                self.renew()
            except (aiohttp.ClientError, TimeoutError):
                if attempt == 2:
                    raise
        return asyncio.run(self._ws(list(messages)))

    async def _ws(self, messages: list[dict[str, Any]]) -> list[Any]:
        """Authenticate, then send each command and collect its result."""
        url = "ws" + self.base.removeprefix("http") + "/api/websocket"
        results: list[Any] = []
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as sock:
            await sock.receive_json(timeout=10)  # auth_required
            await sock.send_json({"type": "auth", "access_token": self.token()})
            reply = await sock.receive_json(timeout=10)
            if reply.get("type") != "auth_ok":
                raise PermissionError(reply.get("message", "auth refused"))
            for number, message in enumerate(messages, 1):
                await sock.send_json({"id": number, **message})
                while (reply := await sock.receive_json(timeout=30)).get("id") != number:
                    pass
                if not reply.get("success"):
                    msg = f"{message['type']} failed: {reply.get('error')}"
                    raise HarnessError(msg)
                results.append(reply.get("result"))
        return results

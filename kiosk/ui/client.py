"""The UI's side of the daemon's local API: plain HTTP calls plus the event stream."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from kiosk import ui_auth

# The daemon answers its own screen in milliseconds; past this the cabin is in trouble
# and the patient should be told rather than left with a frozen screen.
REQUEST_TIMEOUT_S = 10.0


class ApiError(Exception):
    """The daemon refused a request (``code`` is stable; see kiosk/checkin) or is
    unreachable (``code`` == "unreachable")."""

    def __init__(self, status: int, code: str, message: str, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {code}")
        self.status, self.code, self.message, self.body = status, code, message, body


class CabinApi(Protocol):
    async def get(self, path: str) -> dict[str, Any]: ...

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]: ...

    def events(self) -> AsyncIterator[dict[str, Any]]: ...


class DaemonClient:
    """One aiohttp session to the daemon; ``close()`` it when the UI exits."""

    def __init__(self, url: str, token: str, state_dir: Path | None = None) -> None:
        self.url = url.rstrip("/")
        self._token = token
        # The daemon writes a new token at every start: re-read it after a 401.
        self._state_dir = state_dir
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S))

    @classmethod
    def from_state_dir(cls, url: str, state_dir: Path) -> DaemonClient:
        return cls(url, ui_auth.read_token(state_dir), state_dir)

    def _headers(self) -> dict[str, str]:
        return {ui_auth.HEADER: self._token}

    def _reread_token(self) -> bool:
        """True when the token on disk is a new one (the daemon restarted)."""
        if self._state_dir is None:
            return False
        try:
            token = ui_auth.read_token(self._state_dir)
        except OSError:
            return False
        changed = token != self._token
        self._token = token
        return changed

    async def close(self) -> None:
        await self._http.close()

    async def get(self, path: str) -> dict[str, Any]:
        return await self._call("GET", path, None)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self._call("POST", path, body or {})

    async def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        try:
            return await self._call_once(method, path, body)
        except ApiError as exc:
            if exc.status == 401 and self._reread_token():
                return await self._call_once(method, path, body)
            raise

    async def _call_once(
        self, method: str, path: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        try:
            async with self._http.request(
                method, self.url + path, json=body, headers=self._headers()
            ) as resp:
                try:
                    data = await resp.json(content_type=None)
                except (json.JSONDecodeError, aiohttp.ContentTypeError):
                    data = {}
                if not isinstance(data, dict):
                    data = {"value": data}
                if resp.status >= 400:
                    code = str(data.get("code") or f"http_{resp.status}")
                    raise ApiError(resp.status, code, str(data.get("error", "")), data)
                return data
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ApiError(0, "unreachable", type(exc).__name__, {}) from None

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The daemon's events until the stream closes (the caller reconnects)."""
        self._reread_token()
        try:
            async with self._http.ws_connect(
                self.url + "/api/ui/events",
                heartbeat=10.0,
                timeout=aiohttp.ClientWSTimeout(),
                headers=self._headers(),
            ) as ws:
                async for msg in ws:
                    if msg.type is aiohttp.WSMsgType.TEXT:
                        data = json.loads(msg.data)
                        if isinstance(data, dict):
                            yield data
                    elif msg.type in (aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSED):
                        return
        except (aiohttp.ClientError, TimeoutError):
            return

"""How qunyun calls a OneBot implementation's API: over a WebSocket (forward or reverse) or
over its HTTP server. Both answer with the OneBot envelope `{status, retcode, data, …}`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx
import orjson

CALL_TIMEOUT_S = 30.0


class LinkDown(ConnectionError):
    """The call did not reach the implementation, or no answer came in time."""


class ApiLink(Protocol):
    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]: ...


def is_api_answer(payload: dict[str, Any]) -> bool:
    """An API answer on a universal connection (events carry `post_type`, answers do not)."""
    return "post_type" not in payload and ("echo" in payload or "retcode" in payload)


class WsSession:
    """API calls over one WebSocket: each request carries an `echo`, its answer quotes it."""

    def __init__(self, send: Callable[[str], Awaitable[None]],
                 timeout: float = CALL_TIMEOUT_S) -> None:
        self._send = send
        self._timeout = timeout
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._echo = itertools.count(1)
        self.closed = False

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        if self.closed:
            raise LinkDown("the WebSocket connection is closed")
        echo = f"qunyun-{next(self._echo)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[echo] = future
        try:
            await self._send(orjson.dumps({"action": action, "params": params,
                                           "echo": echo}).decode())
            return await asyncio.wait_for(future, self._timeout)
        except TimeoutError as exc:
            raise LinkDown(f"no answer to {action} within {self._timeout:g} s") from exc
        except LinkDown:
            raise
        except Exception as exc:  # the socket failed while sending
            raise LinkDown(f"{action} could not be sent: {type(exc).__name__}: {exc}") from exc
        finally:
            self._pending.pop(echo, None)

    def answer(self, payload: dict[str, Any]) -> None:
        future = self._pending.get(str(payload.get("echo")))
        if future is not None and not future.done():
            future.set_result(payload)

    def close(self) -> None:
        self.closed = True
        for future in self._pending.values():
            if not future.done():
                future.set_exception(LinkDown("the WebSocket connection closed"))


_HTTP_RETCODES = {400: 1400, 401: 1401, 403: 1403, 404: 1404, 406: 1406}


class HttpApi:
    """The implementation's HTTP API: `POST {api_url}/{action}` with a JSON body."""

    def __init__(self, api_url: str, access_token: str | None = None,
                 client: httpx.AsyncClient | None = None,
                 timeout: float = CALL_TIMEOUT_S) -> None:
        headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._base = api_url.rstrip("/")
        self._headers = headers

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client.post(f"{self._base}/{action}", json=params,
                                               headers=self._headers)
        except httpx.HTTPError as exc:
            raise LinkDown(f"{action}: {type(exc).__name__}: {exc}") from exc
        if response.status_code in _HTTP_RETCODES:
            return {"status": "failed", "retcode": _HTTP_RETCODES[response.status_code],
                    "data": None, "msg": f"HTTP {response.status_code}"}
        if response.status_code >= 500:
            raise LinkDown(f"{action}: HTTP {response.status_code}")
        try:
            answer = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise LinkDown(f"{action}: the answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise LinkDown(f"{action}: the answer is not a JSON object")
        return answer

    async def close(self) -> None:
        await self._client.aclose()

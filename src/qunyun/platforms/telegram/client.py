"""A small Bot API client over httpx: `call(method, params)` → the `result`, or BotApiError.

The base URL is configurable (a local Bot API server, or a fake in tests and benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_BASE_URL = "https://api.telegram.org"


@dataclass(slots=True)
class BotApiError(Exception):
    """A Bot API answer with `ok: false`, or no usable answer at all (`code` 0)."""

    code: int
    description: str
    retry_after: float | None = None
    migrate_to_chat_id: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.description}"

    @property
    def transient(self) -> bool:
        """Worth another attempt: flood control, server trouble, no answer."""
        return self.code in (0, 429) or self.code >= 500


class BotApi:
    def __init__(self, token: str, *, base_url: str = DEFAULT_BASE_URL,
                 client: httpx.AsyncClient | None = None, timeout_s: float = 30.0) -> None:
        self._url = f"{base_url.rstrip('/')}/bot{token}/"
        self._client = client or httpx.AsyncClient(timeout=timeout_s)
        self._owns_client = client is None
        self._timeout_s = timeout_s

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   timeout_s: float | None = None) -> Any:
        timeout = self._timeout_s if timeout_s is None else timeout_s
        try:
            response = await self._client.post(self._url + method, json=params or {},
                                               timeout=timeout)
        except httpx.HTTPError as exc:
            raise BotApiError(0, f"{type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise BotApiError(response.status_code or 0,
                              f"not a JSON answer (HTTP {response.status_code})") from exc
        if not isinstance(body, dict):
            raise BotApiError(response.status_code, "not a Bot API answer")
        if body.get("ok") is True:
            return body.get("result")
        raise _error(body, response.status_code)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _error(body: dict[str, Any], status: int) -> BotApiError:
    parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
    assert isinstance(parameters, dict)
    retry_after = parameters.get("retry_after")
    migrate = parameters.get("migrate_to_chat_id")
    code = body.get("error_code")
    return BotApiError(
        code if isinstance(code, int) else status,
        str(body.get("description") or "unknown error"),
        float(retry_after) if isinstance(retry_after, int | float) else None,
        migrate if isinstance(migrate, int) else None)

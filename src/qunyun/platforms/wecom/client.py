"""The WeCom server API (qyapi): access-token caching, metered quotas, real error codes.

The token (gettoken, valid `expires_in` seconds, 7200 today) is cached per corp and refreshed a
few minutes early, or at once when WeCom says it is invalid (40014) or expired (42001). Calls
are metered per API (quota.py); a call that would exceed the quota waits up to `max_wait_s`,
longer waits raise `QuotaExhausted` so the caller can retry later.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from qunyun.platforms.wecom.quota import QuotaMeter

API_BASE = "https://qyapi.weixin.qq.com"
TOKEN_PATH = "/cgi-bin/gettoken"
TOKEN_MARGIN_S = 300
TOKEN_ERRORS = frozenset({40014, 42001, 40082})
QUOTA_ERRORS = frozenset({45009, 45033, 45011})
BUSY = -1


class WecomApiError(Exception):
    def __init__(self, api: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{api}: errcode {errcode} ({errmsg})")
        self.api = api
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def retryable(self) -> bool:
        return self.errcode in QUOTA_ERRORS or self.errcode == BUSY


class QuotaExhausted(Exception):
    def __init__(self, api: str, retry_after: float) -> None:
        super().__init__(f"{api}: quota exhausted, retry in {retry_after:.0f} s")
        self.api = api
        self.retry_after = retry_after


class WecomClient:
    def __init__(self, corp_id: str, secret: str, *, http: httpx.AsyncClient | None = None,
                 base_url: str = API_BASE, meter: QuotaMeter | None = None,
                 monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 max_wait_s: float = 5.0) -> None:
        self.corp_id = corp_id
        self._secret = secret
        self._http = http or httpx.AsyncClient(timeout=10.0)
        self._base = base_url.rstrip("/")
        self.meter = meter or QuotaMeter()
        self._monotonic = monotonic
        self.sleep = sleep
        self._max_wait = max_wait_s
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()
        self.token_fetches = 0
        self.calls = 0

    async def close(self) -> None:
        await self._http.aclose()

    async def _metered(self, api: str) -> None:
        while (wait := self.meter.take(api, self._monotonic())) > 0:
            if wait > self._max_wait:
                raise QuotaExhausted(api, wait)
            await self.sleep(wait)

    async def access_token(self, *, refresh: bool = False) -> str:
        async with self._token_lock:
            if not refresh and self._token and self._monotonic() < self._token_until:
                return self._token
            await self._metered(TOKEN_PATH)
            response = await self._http.get(self._base + TOKEN_PATH, params={
                "corpid": self.corp_id, "corpsecret": self._secret})
            body = _json(TOKEN_PATH, response)
            self.token_fetches += 1
            lifetime = int(body.get("expires_in") or 7200)
            self._token = str(body["access_token"])
            self._token_until = self._monotonic() + max(60, lifetime - TOKEN_MARGIN_S)
            return self._token

    def forget_token(self) -> None:
        self._token, self._token_until = None, 0.0

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST `payload` to `path` (e.g. /cgi-bin/externalcontact/groupchat/get)."""
        for attempt in range(2):
            token = await self.access_token(refresh=attempt > 0)
            await self._metered(path)
            self.calls += 1
            response = await self._http.post(self._base + path, params={"access_token": token},
                                             json=payload)
            try:
                return _json(path, response)
            except WecomApiError as exc:
                if exc.errcode not in TOKEN_ERRORS or attempt:
                    raise
                self.forget_token()
        raise AssertionError("unreachable")

    async def groupchat_get(self, chat_id: str) -> dict[str, Any]:
        body = await self.call("/cgi-bin/externalcontact/groupchat/get",
                               {"chat_id": chat_id, "need_name": 1})
        chat = body.get("group_chat")
        if not isinstance(chat, dict):
            raise WecomApiError("groupchat/get", -2, "no group_chat in the answer")
        return chat

    async def groupchat_ids(self, limit: int = 1000) -> list[str]:
        """Every customer group of the corp (groupchat/list, following next_cursor)."""
        ids: list[str] = []
        cursor = ""
        while True:
            payload: dict[str, Any] = {"status_filter": 0, "limit": limit}
            if cursor:
                payload["cursor"] = cursor
            body = await self.call("/cgi-bin/externalcontact/groupchat/list", payload)
            ids += [str(g["chat_id"]) for g in body.get("group_chat_list") or []
                    if isinstance(g, dict) and g.get("chat_id")]
            cursor = str(body.get("next_cursor") or "")
            if not cursor:
                return list(dict.fromkeys(ids))

    async def add_group_msg_template(self, *, sender: str, chat_id: str,
                                     text: str) -> dict[str, Any]:
        """A mass-send task to one customer group; its owner confirms it in the WeCom app."""
        return await self.call("/cgi-bin/externalcontact/add_msg_template", {
            "chat_type": "group", "sender": sender, "chat_id_list": [chat_id],
            "text": {"content": text}})

    async def add_group_welcome_template(self, text: str) -> str:
        body = await self.call("/cgi-bin/externalcontact/group_welcome_template/add",
                               {"text": {"content": text}, "notify": 1})
        return str(body["template_id"])


def _json(api: str, response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 500:
        raise WecomApiError(api, BUSY, f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise WecomApiError(api, -2, f"not JSON (HTTP {response.status_code})") from exc
    if not isinstance(body, dict):
        raise WecomApiError(api, -2, "not a JSON object")
    errcode = body.get("errcode", 0)
    if errcode:
        raise WecomApiError(api, int(errcode), str(body.get("errmsg", "")))
    return body

"""A Bot API simulator that behaves like Telegram where it matters to qunyun.

It serves `POST|GET /bot<token>/<method>` with JSON, form or query parameters and answers in
the Bot API envelope (`{"ok": true, "result": …}` or `{"ok": false, "error_code": …,
"description": …, "parameters": …}`). It enforces the sending limits (one message per second
per chat, twenty per minute per group, thirty per second overall) in exact sliding windows and
answers 429 with `retry_after`; `getUpdates` honours `offset` (confirming everything below it),
`limit`, `timeout` (long polling) and `allowed_updates` (without it, `chat_member` updates are
not sent, as on Telegram); a group that migrated answers sends with `migrate_to_chat_id`.

Tests and `qunyun bench telegram` use it; it holds everything in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from qunyun.platforms.telegram.guard import SendLimits, Window

DEFAULT_UPDATES = frozenset({"message", "edited_message", "channel_post", "my_chat_member",
                             "chat_join_request", "callback_query", "inline_query"})


@dataclass
class Sent:
    chat_id: str
    params: dict[str, Any]
    at: float
    message_id: int


@dataclass
class FakeState:
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: frozenset[str] = DEFAULT_UPDATES
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refused_429: int = 0
    migrated: dict[str, int] = field(default_factory=dict)
    invite_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_url: str = ""
    fail_next: list[tuple[int, str]] = field(default_factory=list)


class FakeBotApi:
    def __init__(self, token: str = "123:TEST", *, limits: SendLimits | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.limits = limits or SendLimits(margin=1.0)
        self._now = monotonic
        self.state = FakeState()
        self._windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._message_ids: dict[str, int] = defaultdict(int)
        self._arrived = asyncio.Condition()
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint,
                                           methods=["GET", "POST"])])

    # --- what a test does -----------------------------------------------------------------

    async def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update (its `update_id` assigned unless given); long polls wake up."""
        body = dict(update)
        if "update_id" not in body:
            body["update_id"] = self.state.next_update_id
        self.state.next_update_id = max(self.state.next_update_id, body["update_id"] + 1)
        self.state.updates.append(body)
        async with self._arrived:
            self._arrived.notify_all()
        return int(body["update_id"])

    def migrate(self, old: str, new: int) -> None:
        self.state.migrated[old] = new

    def calls_of(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.state.calls if name == method]

    # --- HTTP -------------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _params(request)
        if params is None:
            return _error(400, "Bad Request: can't parse JSON object")
        method = request.path_params["method"]
        self.state.calls.append((method, params))
        if self.state.fail_next:
            code, description = self.state.fail_next.pop(0)
            return _error(code, description)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            response: JSONResponse = await handler(params)
        except (KeyError, ValueError, TypeError) as exc:
            return _error(400, f"Bad Request: {exc}")
        return response

    async def _m_getMe(self, params: dict[str, Any]) -> JSONResponse:
        return _ok({"id": int(self.token.split(":")[0]), "is_bot": True,
                    "first_name": "qunyun test bot", "username": "qunyun_test_bot"})

    async def _m_getUpdates(self, params: dict[str, Any]) -> JSONResponse:
        if self.state.webhook_url:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = min(100, max(1, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self.state.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATES
        if offset:
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
        ready = self._deliverable()[:limit]
        if not ready and timeout > 0:
            async with self._arrived:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), timeout)
            ready = self._deliverable()[:limit]
        return _ok(ready)

    def _deliverable(self) -> list[dict[str, Any]]:
        return [u for u in self.state.updates
                if any(k in self.state.allowed_updates for k in u if k != "update_id")]

    async def _m_setWebhook(self, params: dict[str, Any]) -> JSONResponse:
        self.state.webhook_url = str(params.get("url") or "")
        return _ok(True)

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> JSONResponse:
        self.state.webhook_url = ""
        return _ok(True)

    def _limit_wait(self, chat_id: str) -> float:
        """Seconds until a message to `chat_id` is allowed (0: now), by exact windows."""
        now = self._now()
        checks: list[tuple[tuple[str, str], Window]] = [
            (("chat", chat_id), self.limits.per_chat), (("all", ""), self.limits.overall)]
        if chat_id.startswith("-"):
            checks.append((("group", chat_id), self.limits.per_group))
        wait = 0.0
        for key, window in checks:
            sent = self._windows[key]
            while sent and sent[0] <= now - window.seconds:
                sent.popleft()
            if len(sent) >= window.count:
                wait = max(wait, sent[-window.count] + window.seconds - now)
        if wait == 0.0:
            for key, _ in checks:
                self._windows[key].append(now)
        return wait

    async def _m_sendMessage(self, params: dict[str, Any]) -> JSONResponse:
        chat_id = str(params["chat_id"])
        if chat_id in self.state.migrated:
            return _error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": self.state.migrated[chat_id]})
        if not str(params.get("text") or "").strip():
            return _error(400, "Bad Request: message text is empty")
        wait = self._limit_wait(chat_id)
        if wait > 0:
            self.state.refused_429 += 1
            retry = max(1, math.ceil(wait))
            return _error(429, f"Too Many Requests: retry after {retry}",
                          {"retry_after": retry}, status=429)
        self._message_ids[chat_id] += 1
        message_id = self._message_ids[chat_id]
        self.state.sent.append(Sent(chat_id, params, self._now(), message_id))
        return _ok({"message_id": message_id, "date": int(time.time()),
                    "chat": {"id": int(chat_id)}, "text": params["text"]})

    async def _m_createChatInviteLink(self, params: dict[str, Any]) -> JSONResponse:
        chat_id = str(params["chat_id"])
        link = f"https://t.me/+fake{len(self.state.invite_links) + 1:06d}"
        body = {"invite_link": link, "creator": {"id": int(self.token.split(":")[0]),
                                                 "is_bot": True, "first_name": "bot"},
                "creates_join_request": False, "is_primary": False, "is_revoked": False}
        if params.get("name"):
            body["name"] = str(params["name"])
        self.state.invite_links[link] = {**body, "chat_id": chat_id}
        return _ok(body)

    async def _simple(self, params: dict[str, Any], *required: str) -> JSONResponse:
        for name in ("chat_id", *required):
            if name not in params:
                return _error(400, f"Bad Request: {name} is required")
        chat_id = str(params["chat_id"])
        if chat_id in self.state.migrated:
            return _error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": self.state.migrated[chat_id]})
        return _ok(True)

    async def _m_deleteMessage(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "message_id")

    async def _m_restrictChatMember(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "user_id", "permissions")

    async def _m_banChatMember(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "user_id")

    async def _m_unbanChatMember(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "user_id")

    async def _m_setChatPermissions(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "permissions")

    async def _m_approveChatJoinRequest(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "user_id")

    async def _m_declineChatJoinRequest(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "user_id")

    async def _m_pinChatMessage(self, params: dict[str, Any]) -> JSONResponse:
        return await self._simple(params, "message_id")


async def _params(request: Request) -> dict[str, Any] | None:
    params: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        params.update(body)
    elif content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        params.update((await request.form()).items())
    return params


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _error(code: int, description: str, parameters: dict[str, Any] | None = None, *,
           status: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status or code)

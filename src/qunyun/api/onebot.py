"""OneBot 11 endpoints: events by HTTP POST and the reverse WebSocket.

- `POST /api/v1/onebot/{name}/events`: the implementation's event report. With a `secret`,
  `X-Signature: sha1=<HMAC-SHA1 of the raw body>` is required (401 missing, 403 wrong); with an
  `access_token`, `Authorization: Bearer …` (or `?access_token=`) likewise. The answer comes
  once the events are durable: 204 (no quick operation), or 400 naming why the payload was
  rejected. Nothing is stored for a refused request.
- `WS /api/v1/onebot/{name}/ws`: the reverse WebSocket (Universal, API or Event client).
- `GET /api/v1/onebot/status` (API token): the organization's OneBot connections (payloads taken
  in, rejected with their reasons) and each group's delivery record (failures, retcodes, signs
  of QQ's risk control).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from qunyun.api.bridge_events import read_body
from qunyun.api.deps import ApiCaller, RuntimeDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Organization
from qunyun.core.errors import Forbidden, NotFound, Unauthorized
from qunyun.platforms.onebot import Bot, OneBotPlatform
from qunyun.platforms.onebot.inbound import decode
from qunyun.platforms.onebot.link import WsSession
from qunyun.platforms.onebot.signature import bearer, signature_ok, token_ok
from qunyun.platforms.onebot.translate import Malformed

PREFIX = "/api/v1/onebot"
router = APIRouter(prefix=PREFIX, tags=["onebot"])
log = logging.getLogger(__name__)
POLICY_VIOLATION = 1008


def find_bot(runtime: Runtime, name: str, mode: str) -> Bot | None:
    platform = runtime.platforms.get("onebot")
    if not isinstance(platform, OneBotPlatform):
        return None
    bot = platform.bots.get(name)
    return bot if bot is not None and bot.options.mode == mode else None


def check_token(bot: Bot, authorization: str | None, query_token: str | None) -> None:
    expected = bot.options.access_token
    if not expected:
        return
    offered = bearer(authorization, query_token)
    if offered is None:
        raise Unauthorized("an access token is required")
    if not token_ok(expected, offered):
        raise Forbidden("the access token is wrong")


@router.get("/status")
async def status(caller: ApiCaller, runtime: RuntimeDep) -> dict[str, Any]:
    """The caller's organization's OneBot connections and per-group delivery records."""
    platform = runtime.platforms.get("onebot")
    if not isinstance(platform, OneBotPlatform):
        return {"connections": {}, "groups": {}}
    async with runtime.sessions() as session:
        slug = await session.scalar(select(Organization.slug)
                                    .where(Organization.id == caller.org_id))
    return platform.report(str(slug))


@router.post("/{name}/events", status_code=204)
async def post_event(name: str, request: Request, runtime: RuntimeDep) -> Response:
    """One OneBot event, as the implementation's HTTP POST reports it."""
    bot = find_bot(runtime, name, "http")
    if bot is None:
        raise NotFound("no OneBot HTTP connection named {name}", name=name)
    body = await read_body(request)
    secret = bot.options.secret
    if secret:
        header = request.headers.get("x-signature")
        if header is None:
            raise Unauthorized("the X-Signature header is required")
        if not signature_ok(secret, body, header):
            raise Forbidden("the X-Signature does not match the body")
    check_token(bot, request.headers.get("authorization"),
                request.query_params.get("access_token"))
    excerpt = body[:300].decode("utf-8", "replace")
    stats = bot.inbound.stats
    rejected_before = stats.rejected
    try:
        payload = decode(body)
    except Malformed as exc:
        stats.frames += 1
        stats.reject(str(exc), excerpt)
        return JSONResponse({"status": "rejected", "reason": str(exc)}, status_code=400)
    results = await bot.inbound.ingest(bot.inbound.events_of(payload, excerpt))
    if stats.rejected > rejected_before:
        reasons = [r for s, r in results if s == "rejected"] or \
            [stats.rejections[-1]["reason"]]
        return JSONResponse({"status": "rejected", "reason": "; ".join(map(str, reasons))},
                            status_code=400)
    return Response(status_code=204)


@router.websocket("/{name}/ws")
async def reverse_socket(websocket: WebSocket, name: str) -> None:
    """The implementation connects here (X-Client-Role: Universal, API or Event)."""
    runtime: Runtime = websocket.app.state.runtime
    bot = find_bot(runtime, name, "reverse")
    try:
        if bot is None:
            raise NotFound("no OneBot reverse connection named {name}", name=name)
        check_token(bot, websocket.headers.get("authorization"),
                    websocket.query_params.get("access_token"))
    except (NotFound, Unauthorized, Forbidden) as exc:
        log.warning("OneBot reverse WebSocket %s refused: %s", name, exc)
        await websocket.close(code=POLICY_VIOLATION)
        return
    assert bot is not None
    await websocket.accept()
    role = websocket.headers.get("x-client-role", "Universal").lower()
    session = WsSession(websocket.send_text)
    if role != "event":
        bot.attach(session, websocket.headers.get("x-self-id"))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            frame = message.get("text") or message.get("bytes")
            if frame:
                await bot.receive(frame, session)
    except WebSocketDisconnect:
        pass
    finally:
        session.close()
        bot.detach(session)

"""The chat's live stream (server-sent events): what happens in a playground group, as it
happens, each item rendered as the page renders it.

A page passes the cursor of the history it shows; the stream first sends what came after it
(so nothing falls between the page load and the stream), then follows the playground's feed.
Each item carries the cursor as its event id, so a browser that reconnects (it sends the last
id back) gets what it missed; the page drops an item it already has (each has a stable element
id), so nothing shows twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from jinja2 import Environment
from sqlalchemy import select

from qunyun.api.deps import RuntimeDep
from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Group, Organization
from qunyun.core.events import parse_event
from qunyun.pipeline.models import ActionRecord, EventRecord
from qunyun.platforms.playground import Follower
from qunyun.web.deps import CurrentPrincipal
from qunyun.web.playground.chat import playground_group
from qunyun.web.playground.feed import (
    ChatItem,
    Cursor,
    action_item,
    event_item,
    member_names,
    since,
)
from qunyun.web.templating import DEFAULT_TIMEZONE, base_context, environment

router = APIRouter(include_in_schema=False)
RETRY_MS = 2000


@router.get("/playground/{group_id}/stream", response_class=EventSourceResponse)
async def stream(request: Request, group_id: int, principal: CurrentPrincipal,
                 runtime: RuntimeDep, events: int = 0,
                 actions: int = 0) -> AsyncIterator[ServerSentEvent]:
    async with runtime.sessions() as session:
        group = await playground_group(session, principal, group_id)
        timezone = await session.scalar(select(Organization.timezone)
                                        .where(Organization.id == group.org_id))
    render = _renderer(request, environment(request), timezone or DEFAULT_TIMEZONE)
    stopping: asyncio.Event = request.app.state.stopping
    cursor = Cursor.decode(request.headers.get("last-event-id")) or Cursor(events, actions)
    follower = runtime.playground.subscribe(group.platform_id)  # before catching up
    try:
        yield ServerSentEvent(comment="hello", retry=RETRY_MS)
        async with runtime.sessions() as session:
            missed, cursor = await since(session, group, cursor)
        for n, item in enumerate(missed, start=1):
            yield render(item, cursor if n == len(missed) else None)
        async for raw in _until(follower, stopping):
            live, seen = await _live_item(runtime, group, raw)
            cursor = cursor.after(seen)
            if live is not None:
                yield render(live, cursor)
    finally:
        follower.close()


async def _until(follower: Follower, stopping: asyncio.Event) -> AsyncIterator[dict[str, Any]]:
    """The follower's items until it ends or the server starts shutting down."""
    stop = asyncio.ensure_future(stopping.wait())
    try:
        while True:
            nxt = asyncio.ensure_future(follower.get())
            await asyncio.wait({nxt, stop}, return_when=asyncio.FIRST_COMPLETED)
            if not nxt.done():
                nxt.cancel()
                return
            item = nxt.result()
            if item is None:
                return
            yield item
    finally:
        stop.cancel()


async def _live_item(runtime: Runtime, group: Group,
                     raw: Mapping[str, Any]) -> tuple[ChatItem | None, Cursor]:
    """The item for something published to the group's feed if it is this organization's,
    and how far it moves the cursor."""
    if raw.get("kind") == "event" and raw.get("org") == group.org_id:
        event = parse_event(raw["event"])
        async with runtime.sessions() as session:
            seq = await session.scalar(select(EventRecord.seq).where(
                EventRecord.org_id == group.org_id, EventRecord.platform == event.platform,
                EventRecord.external_id == event.id))
        return (event_item(event.type, event.id, event.member, event.data, event.at,
                           str(raw.get("name") or "")), Cursor(seq or 0, 0))
    if raw.get("kind") != "action":
        return None, Cursor()
    body = raw["action"]
    async with runtime.sessions() as session:
        row = (await session.execute(select(ActionRecord.created_at, ActionRecord.seq).where(
            ActionRecord.id == body["id"], ActionRecord.org_id == group.org_id))).first()
        if row is None:  # another organization's group of the same id
            return None, Cursor()
        member = body.get("member")
        names = await member_names(session, group, [member] if member else [])
    return (action_item(body["type"], body["id"], member, body.get("data", {}), row[0],
                        names.get(member or "", member or "")), Cursor(0, row[1]))


def _renderer(request: Request, env: Environment,
              timezone: str) -> Callable[[ChatItem, Cursor | None], ServerSentEvent]:
    template = env.get_template("playground/_item.html")
    context = {**base_context(request), "timezone": timezone, "deleted": set()}

    def render(item: ChatItem, cursor: Cursor | None) -> ServerSentEvent:
        return ServerSentEvent(raw_data=template.render({**context, "item": item}),
                               event="item", id=cursor.encode() if cursor else None)

    return render

"""The live stream: a served app, a real connection, the bot's reply arriving as it happens."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx

from qunyun.app.bootstrap import Runtime
from qunyun.community.service import do_create_group, do_create_organization
from qunyun.web.playground.acts import KickReporter
from tests.web.playground.conftest import Place, client_for, csrf_of, session_cookie
from tests.web.playground.test_chat import add_member

STREAM = {"Accept": "text/event-stream"}


async def sse_items(response: httpx.Response) -> AsyncIterator[str]:
    """The data of each `item` event of a stream, as it arrives."""
    kind, data = "", []
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line == "":
            if kind == "item":
                yield "\n".join(data)
            kind, data = "", []


async def next_item(items: AsyncIterator[str], containing: str,
                    seen: list[str] | None = None) -> str:
    """The next item containing `containing`; every item read is added to `seen`."""
    async def find() -> str:
        async for item in items:
            if seen is not None:
                seen.append(item)
            if containing in item:
                return item
        raise AssertionError("the stream ended")
    return await asyncio.wait_for(find(), 10)


async def test_the_bot_reply_arrives_live(runtime: Runtime, place: Place, served: str) -> None:
    token = await session_cookie(runtime, place.org_id, "boss", "owner")
    async with client_for(None, token, served) as client:  # type: ignore[arg-type]
        member = await add_member(client, place.shanghai, "小林")
        page = await client.get(f"/playground/{place.shanghai}")
        url = page.text.split('data-stream="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        async with client.stream("GET", url, headers=STREAM) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            items = sse_items(stream)
            started = time.perf_counter()
            posted = await client.post(f"/playground/{place.shanghai}/messages",
                                       headers={"HX-Request": "true"}, data={
                                           "csrf_token": csrf_of(page.text), "member": member,
                                           "text": "你好"})
            assert posted.status_code == 200
            mine = await next_item(items, "pg-msg")
            reply = await next_item(items, "pg-bot")
            elapsed_ms = (time.perf_counter() - started) * 1000
    assert "你好" in mine and "小林" in mine
    assert "收到：你好" in reply
    print(f"\nplayground round trip (post → bot reply on the stream): {elapsed_ms:.0f} ms")


async def test_the_stream_catches_up_on_what_the_page_missed(
        runtime: Runtime, place: Place, served: str) -> None:
    token = await session_cookie(runtime, place.org_id, "boss", "owner")
    async with client_for(None, token, served) as client:  # type: ignore[arg-type]
        member = await add_member(client, place.shanghai, "小林")
        page = await client.get(f"/playground/{place.shanghai}")
        url = page.text.split('data-stream="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        await client.post(f"/playground/{place.shanghai}/messages", data={
            "csrf_token": csrf_of(page.text), "member": member, "text": "页面之后"})
        async with client.stream("GET", url, headers=STREAM) as stream:
            items = sse_items(stream)
            assert "页面之后" in await next_item(items, "pg-msg")
            assert "收到：页面之后" in await next_item(items, "pg-bot")


async def test_another_organizations_group_of_the_same_id_stays_out(
        runtime: Runtime, place: Place, served: str) -> None:
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        other = await do_create_organization(session, name="别家", slug="other", at=now)
        await do_create_group(session, org_id=other.id, platform="playground",
                              platform_id="pg-sh", name="别家的群", at=now)
        await session.commit()
    token = await session_cookie(runtime, place.org_id, "boss", "owner")
    async with client_for(None, token, served) as client:  # type: ignore[arg-type]
        member = await add_member(client, place.shanghai, "小林")
        page = await client.get(f"/playground/{place.shanghai}")
        url = page.text.split('data-stream="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        async with client.stream("GET", url, headers=STREAM) as stream:
            items = sse_items(stream)
            await runtime.pipeline.ingest(other.id, [{
                "v": 1, "id": "x1", "type": "message.posted", "platform": "playground",
                "group": "pg-sh", "member": "spy", "at": now.isoformat(),
                "data": {"message_id": "x1", "kind": "text", "text": "别家的秘密"}}])
            await client.post(f"/playground/{place.shanghai}/messages", data={
                "csrf_token": csrf_of(page.text), "member": member, "text": "自家的话"})
            seen: list[str] = []
            await next_item(items, "收到：自家的话", seen)
    assert len(seen) == 2 and "自家的话" in seen[0]
    assert all("别家" not in item for item in seen)


async def test_a_reconnecting_browser_gets_only_what_it_missed(
        runtime: Runtime, place: Place, served: str) -> None:
    token = await session_cookie(runtime, place.org_id, "boss", "owner")
    async with client_for(None, token, served) as client:  # type: ignore[arg-type]
        member = await add_member(client, place.shanghai, "小林")
        page = await client.get(f"/playground/{place.shanghai}")
        url = page.text.split('data-stream="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        csrf = csrf_of(page.text)
        async with client.stream("GET", url, headers=STREAM) as stream:
            await client.post(f"/playground/{place.shanghai}/messages", data={
                "csrf_token": csrf, "member": member, "text": "第一句"})
            last_id = await last_event_id(stream, "收到：第一句")
        await client.post(f"/playground/{place.shanghai}/messages", data={
            "csrf_token": csrf, "member": member, "text": "断线时说的"})
        async with client.stream("GET", url, headers={**STREAM, "Last-Event-ID": last_id}) \
                as stream:
            seen: list[str] = []
            await next_item(sse_items(stream), "收到：断线时说的", seen)
    assert len(seen) == 2 and "断线时说的" in seen[0]
    assert not any("第一句" in item for item in seen)


async def last_event_id(response: httpx.Response, until: str) -> str:
    """The id of the stream's last event, read until an item containing `until`."""
    async def read() -> str:
        last, data = "", ""
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                last = line[4:]
            elif line.startswith("data: "):
                data += line
            elif line == "" and until in data:
                return last
        raise AssertionError("the stream ended")
    return await asyncio.wait_for(read(), 10)


async def test_serving_answers_kicks_without_a_page_open(runtime: Runtime, served: str) -> None:
    assert any(isinstance(hook, KickReporter) for hook in runtime.playground.on_delivered)

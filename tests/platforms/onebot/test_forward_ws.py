"""The forward WebSocket against the fake OneBot server: events in, roster synced, actions out,
malformed frames rejected with the connection kept, duplicates with one effect, reconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.app.onebot import OneBotConnector, connect
from qunyun.core.actions import Action
from qunyun.core.config import ConnectionConfig
from qunyun.core.errors import InvalidInput
from qunyun.pipeline.models import ActionRecord
from tests.platforms.onebot.conftest import count_events, stored, until
from tests.platforms.onebot.fake_onebot import FakeOneBot, Member, group_message, notice

T = 1_763_776_800  # 2025-11-22T10:00:00+08:00


@dataclass
class Running:
    fake: FakeOneBot
    connector: OneBotConnector
    stop: asyncio.Event
    task: asyncio.Task[None]


@pytest.fixture
async def running(runtime: Runtime) -> AsyncIterator[Running]:
    fake = FakeOneBot(access_token="s3cret", groups={
        123: [Member(5, "甲", role="owner"), Member(6, "乙", card="乙的名片")]})
    url = await fake.start_server()
    connector = connect(runtime, ConnectionConfig(
        platform="onebot", name="qq1",
        options={"mode": "forward", "url": url, "access_token": "s3cret",
                 "reconnect_s": 0.05}))
    stop = asyncio.Event()
    task = asyncio.create_task(connector.run(stop))
    await asyncio.wait_for(fake.connected.wait(), 20)
    yield Running(fake, connector, stop, task)
    stop.set()
    await asyncio.wait_for(task, 20)
    await fake.stop_server()


async def test_events_roster_actions_and_faults(runtime: Runtime, running: Running) -> None:
    fake, bot = running.fake, running.connector.bot
    await until(lambda: bot.inbound.stats.accepted >= 3, "the roster")
    roster = await stored(runtime)
    assert [(r.type, r.imported) for r in roster] == [
        ("member.joined", True), ("member.role_changed", True), ("member.joined", True)]
    assert orjson.loads(roster[2].body)["data"]["name"] == "乙的名片"

    ping = group_message(42, 123, 6, "ping", time=T, napcat_field={"x": 1})
    await fake.push(ping, "{not json", ping, {"post_type": "message", "message_type": "group"},
                    notice("group_increase", 123, 7, time=T, sub_type="invite", operator_id=6))
    await until(lambda: bot.inbound.stats.frames >= 5 and bot.inbound.pending() == 0
                and bot.inbound.stats.accepted + bot.inbound.stats.duplicate >= 6, "the events")
    stats = bot.inbound.stats
    assert (stats.accepted, stats.duplicate, stats.rejected) == (5, 1, 2)
    assert stats.rejections[0]["reason"].startswith("not JSON")
    assert "missing" in stats.rejections[1]["reason"]
    assert await count_events(runtime) == 5  # the repeated ping had one effect

    await runtime.delivery.run_once()  # the feature's "pong" leaves through the socket
    sent = [params for action, params in fake.calls if action == "send_group_msg"]
    assert sent == [{"group_id": 123, "message": [
        {"type": "reply", "data": {"id": "42"}}, {"type": "at", "data": {"qq": "6"}},
        {"type": "text", "data": {"text": " "}}, {"type": "text", "data": {"text": "pong"}}]}]
    async with runtime.sessions() as session:
        assert (await session.scalars(select(ActionRecord.status))).all() == ["done"]


async def test_failed_sends_are_recorded_per_group(runtime: Runtime, running: Running) -> None:
    fake, platform = running.fake, running.connector.platform
    fake.fail_sends_in.add(123)
    await until(lambda: running.connector.bot.link is not None, "the link")
    action = Action(id="x1", type="message.send", platform="onebot", group="123", member=None,
                    caused_by="e", data={"text": "hello"})
    result = await platform.deliver(action)
    assert result.status == "failed" and "retcode 100" in (result.reason or "")
    health = platform.report()["groups"]["123"]
    assert (health["failures"], health["risk_signs"], health["retcodes"]) == (1, 1, {"100": 1})
    fake.fail_sends_in.clear()
    assert (await platform.deliver(action)).status == "done"
    assert (await platform.deliver(action)).status == "done"  # idempotent: sent once
    assert len([c for c in fake.calls if c[0] == "send_group_msg"]) == 2
    kick = Action(id="x2", type="member.kick", platform="onebot", group="123", member="6",
                  caused_by="e", data={"block": True})
    assert (await platform.deliver(kick)).status == "done"
    assert fake.calls[-1] == ("set_group_kick", {"group_id": 123, "user_id": 6,
                                                 "reject_add_request": True})


async def test_reconnects_and_syncs_again(runtime: Runtime, running: Running) -> None:
    bot = running.connector.bot
    await until(lambda: bot.inbound.stats.accepted >= 3, "the roster")
    first = bot.generation
    await running.fake.drop_connections()
    await until(lambda: bot.generation > first and bot.link is not None, "a reconnection")
    await until(lambda: bot.inbound.stats.duplicate >= 3, "the second roster")
    assert await count_events(runtime) == 3


async def test_wrong_token_is_refused_and_retried(runtime: Runtime) -> None:
    fake = FakeOneBot(access_token="right")
    url = await fake.start_server()
    connector = connect(runtime, ConnectionConfig(
        platform="onebot", name="qq2",
        options={"mode": "forward", "url": url, "access_token": "wrong", "reconnect_s": 0.05}))
    stop = asyncio.Event()
    task = asyncio.create_task(connector.run(stop))
    await until(lambda: fake.refused >= 2, "a second attempt")  # refused, and tried again
    assert not fake.connected.is_set() and connector.bot.link is None
    stop.set()
    await asyncio.wait_for(task, 20)
    await fake.stop_server()


def test_options_are_checked(runtime: Runtime) -> None:
    with pytest.raises(InvalidInput) as caught:
        connect(runtime, ConnectionConfig(platform="onebot", name="bad",
                                          options={"mode": "forward", "color": "red"}))
    paths = {e.path for e in caught.value.errors}
    assert "options.color" in paths

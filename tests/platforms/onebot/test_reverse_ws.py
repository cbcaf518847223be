"""The reverse WebSocket: the fake implementation dials qunyun's endpoint (served by uvicorn on
localhost), pushes events and answers the API calls qunyun makes on the same connection."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from websockets.exceptions import InvalidStatus

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.app.onebot import OneBotConnector, connect
from qunyun.core.actions import Action
from qunyun.core.config import ConnectionConfig
from tests.platforms.onebot.conftest import count_events, until
from tests.platforms.onebot.fake_onebot import SELF_ID, FakeOneBot, Member, group_message

T = 1_763_776_800


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served(runtime: Runtime) -> AsyncIterator[tuple[str, OneBotConnector]]:
    connector = connect(runtime, ConnectionConfig(
        platform="onebot", name="qq-rev", options={"mode": "reverse", "access_token": "t0k"}))
    stop = asyncio.Event()
    running = asyncio.create_task(connector.run(stop))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port,
                                           lifespan="off", log_level="warning",
                                           ws="websockets-sansio"))
    serving = asyncio.create_task(server.serve())
    await until(lambda: server.started, "uvicorn")
    yield f"ws://127.0.0.1:{port}/api/v1/onebot", connector
    stop.set()
    await asyncio.wait_for(running, 20)
    server.should_exit = True
    await asyncio.wait_for(serving, 20)


async def test_reverse_connection(runtime: Runtime,
                                  served: tuple[str, OneBotConnector]) -> None:
    base, connector = served
    bot = connector.bot
    fake = FakeOneBot(groups={555: [Member(8, "丙")]})
    talking = await fake.dial(f"{base}/qq-rev/ws", token="t0k")
    await until(lambda: bot.link is not None and bot.inbound.stats.accepted >= 1, "the roster")
    assert bot.self_id == str(SELF_ID)
    await fake.push(group_message(1, 555, 8, "你好", time=T), "[1,2", group_message(
        1, 555, 8, "你好", time=T))
    await until(lambda: bot.inbound.stats.frames >= 3 and bot.inbound.pending() == 0
                and bot.inbound.stats.duplicate >= 1, "the events")
    assert (bot.inbound.stats.accepted, bot.inbound.stats.rejected) == (2, 1)
    assert await count_events(runtime) == 2
    mute = Action(id="m1", type="member.mute", platform="onebot", group="555", member="8",
                  caused_by="e", data={"seconds": 60})
    assert (await connector.platform.deliver(mute)).status == "done"
    assert fake.calls[-1] == ("set_group_ban", {"group_id": 555, "user_id": 8, "duration": 60})
    await fake.drop_connections()
    await talking
    await until(lambda: bot.link is None, "the link to close")
    assert (await connector.platform.deliver(Action(
        id="m2", type="member.mute", platform="onebot", group="555", member="8",
        caused_by="e", data={"seconds": 0}))).status == "retry"


@pytest.mark.parametrize("token", [None, "wrong"])
async def test_reverse_connection_needs_the_token(
        served: tuple[str, OneBotConnector], token: str | None) -> None:
    base, connector = served
    with pytest.raises(InvalidStatus):
        await FakeOneBot().dial(f"{base}/qq-rev/ws", token=token)
    with pytest.raises(InvalidStatus):
        await FakeOneBot().dial(f"{base}/unknown/ws", token="t0k")
    assert connector.bot.link is None

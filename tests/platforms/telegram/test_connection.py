"""The Telegram connection: long polling with a durable offset, migrations, the webhook."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from qunyun.api.app import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.app.telegram import TelegramConnector, connect
from qunyun.community.models import Group
from qunyun.core.actions import SEND_MESSAGE, Action
from qunyun.core.config import ConnectionConfig
from qunyun.core.errors import InvalidInput
from qunyun.pipeline.models import ActionRecord, EventRecord
from qunyun.pipeline.outbox import PENDING, Outbox, OutboxEntry
from qunyun.platforms.telegram import BotApi
from qunyun.platforms.telegram.fake_server import FakeBotApi
from tests.conftest import START
from tests.platforms.telegram.conftest import FAKE_URL
from tests.platforms.telegram.samples import (
    chat_member,
    group_message,
    my_chat_member_samples,
    peer_samples,
    user,
)

ANN, BOB = user(11, "Ann"), user(22, "Bob")
SECRET = "s3cret-Token_1"


def connection(fake: FakeBotApi, **options: Any) -> ConnectionConfig:
    return ConnectionConfig(platform="telegram", name="main", options={
        "token": fake.token, "base_url": FAKE_URL, "poll_timeout_s": 0, **options})


@pytest.fixture
def connector(runtime: Runtime, fake: FakeBotApi, api: BotApi) -> TelegramConnector:
    return connect(runtime, connection(fake), api=api)


async def bodies(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        rows = (await session.scalars(select(EventRecord.body)
                                      .order_by(EventRecord.seq))).all()
    return [orjson.loads(b) for b in rows]


async def test_polling_ingests_then_moves_the_offset(runtime: Runtime, fake: FakeBotApi,
                                                     connector: TelegramConnector) -> None:
    await fake.push_update(group_message(100, 1, ANN, text="hi"))
    await fake.push_update({"update_id": 101, "message": {"chat": "broken"}})
    await fake.push_update(chat_member(102, BOB, "left", "member"))
    outcome = await connector.poll_once()
    assert outcome is not None
    assert [r.status for r in outcome.results] == ["accepted", "accepted"]
    assert len(outcome.malformed) == 1 and "message_id" in outcome.malformed[0][1]
    assert connector.offsets.load() == 103
    assert fake.calls_of("getUpdates")[0]["allowed_updates"] == [
        "message", "chat_member", "my_chat_member", "chat_join_request"]
    assert [b["type"] for b in await bodies(runtime)] == ["message.posted", "member.joined"]
    assert await connector.poll_once() is None  # offset 103 confirmed everything below it
    assert fake.calls_of("getUpdates")[1]["offset"] == 103 and fake.state.updates == []


async def test_a_restart_neither_loses_nor_repeats(runtime: Runtime, fake: FakeBotApi,
                                                   connector: TelegramConnector) -> None:
    await fake.push_update(group_message(7, 1, ANN, text="hi"))
    await connector.poll_once()
    connector.offsets.path.unlink()  # as if the process died before the offset was written
    again = await connector.poll_once()  # Telegram sends the unconfirmed update again …
    assert again is not None and [r.status for r in again.results] == ["duplicate"]
    assert len(await bodies(runtime)) == 1  # … and it has one effect
    assert connector.offsets.load() == 8


async def test_run_keeps_polling_until_stopped(runtime: Runtime, fake: FakeBotApi,
                                               api: BotApi) -> None:
    connector = connect(runtime, connection(fake, poll_timeout_s=5), api=api)
    stop = asyncio.Event()
    task = asyncio.create_task(connector.run(stop))
    await fake.push_update(group_message(1, 1, ANN, text="one"))
    for _ in range(200):
        if await bodies(runtime):
            break
        await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert [b["data"]["text"] for b in await bodies(runtime)] == ["one"]


async def test_migration_keeps_the_group_and_its_history(
        runtime: Runtime, fake: FakeBotApi, connector: TelegramConnector, org_id: int) -> None:
    old, new = -4726613835, -1002352533321
    await fake.push_update(group_message(1, 1, ANN, chat=old, chat_type="group", text="a"))
    await connector.poll_once()
    await _pending_action(runtime, org_id, str(old))
    await fake.push_update(group_message(2, 2, ANN, chat=old, chat_type="group",
                                         migrate_to_chat_id=new))
    await fake.push_update(group_message(3, 1, ANN, chat=new, migrate_from_chat_id=old))
    await fake.push_update(group_message(4, 2, BOB, chat=new, text="b"))
    outcome = await connector.poll_once()
    assert outcome is not None
    assert [m[2] for m in outcome.migrations] == ["migrated", "already"]
    assert [r.status for r in outcome.results] == ["accepted", "duplicate", "accepted"]
    async with runtime.sessions() as session:
        groups = (await session.scalars(select(Group))).all()
        group_ids = set((await session.scalars(select(EventRecord.group_id))).all())
        action = await session.scalar(select(ActionRecord))
    assert [g.platform_id for g in groups] == [str(new)]
    assert group_ids == {groups[0].id}  # history before and after: one group
    assert action is not None and action.group_pid == str(new)
    assert connector.adapter.chat_for(str(old)) == str(new)


async def _pending_action(runtime: Runtime, org_id: int, group: str) -> None:
    outbox = Outbox()
    outbox.add(OutboxEntry(Action("act1", SEND_MESSAGE, "telegram", group, None, "e",
                                  {"text": "hi"}), org_id, None, "test", START, PENDING,
                           "zh_CN"))
    async with runtime.write_sessions() as session:
        await outbox.write(session)
        await session.commit()


async def test_options_are_checked(runtime: Runtime, fake: FakeBotApi) -> None:
    with pytest.raises(InvalidInput) as caught:
        connect(runtime, ConnectionConfig(platform="telegram", name="x",
                                          options={"token": "nope", "colour": "red"}))
    paths = {e.path for e in caught.value.errors}
    assert paths == {"options.token", "options.colour"}
    with pytest.raises(InvalidInput):
        connect(runtime, connection(fake, mode="webhook"))  # a webhook needs its secret


async def test_limits_and_capabilities_are_registered(runtime: Runtime,
                                                      connector: TelegramConnector) -> None:
    limits = runtime.config.platform("telegram")
    assert limits.platform.rate == 30 and limits.group.rate == pytest.approx(19 / 60)
    assert runtime.platform_for("telegram") is connector.adapter


@pytest.fixture
async def webhook(runtime: Runtime, fake: FakeBotApi, api: BotApi
                  ) -> httpx.AsyncClient:
    conn = connection(fake, mode="webhook", webhook_secret=SECRET)
    runtime.config.connections.append(conn)
    connect(runtime, conn, api=api)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime)),
                             base_url="http://qunyun")


async def test_webhook_checks_the_secret_header(runtime: Runtime,
                                                webhook: httpx.AsyncClient) -> None:
    url = "/api/v1/telegram/main/webhook"
    update = group_message(5, 1, ANN, text="hi")
    async with webhook:
        missing = await webhook.post(url, json=update)
        wrong = await webhook.post(url, json=update,
                                   headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert (missing.status_code, wrong.status_code) == (401, 401)
        assert await bodies(runtime) == []
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        first = await webhook.post(url, json=update, headers=headers)
        second = await webhook.post(url, json=update, headers=headers)
        bad = await webhook.post(url, json={"update_id": 6, "message": {}}, headers=headers)
        unknown = await webhook.post("/api/v1/telegram/other/webhook", json=update,
                                     headers=headers)
    assert first.json()["results"][0]["status"] == "accepted"
    assert second.json()["results"][0]["status"] == "duplicate"
    assert bad.status_code == 200 and "message.message_id" in bad.json()["rejected"][0]["reason"]
    assert unknown.status_code == 404
    assert len(await bodies(runtime)) == 1


async def test_webhook_mode_registers_the_webhook_with_its_secret(
        runtime: Runtime, fake: FakeBotApi, api: BotApi) -> None:
    url = "https://qunyun.example/api/v1/telegram/main/webhook"
    connector = connect(runtime, connection(fake, mode="webhook", webhook_url=url,
                                            webhook_secret=SECRET), api=api)
    stop = asyncio.Event()
    stop.set()  # registers, then returns at once
    await connector.run(stop)
    [call] = fake.calls_of("setWebhook")
    assert call["url"] == url and call["secret_token"] == SECRET
    assert "chat_member" in call["allowed_updates"]


async def test_real_samples_flow_into_the_pipeline(runtime: Runtime, fake: FakeBotApi,
                                                   connector: TelegramConnector) -> None:
    updates = [{"update_id": i + 1, **item["update"]}
               for i, item in enumerate(my_chat_member_samples())]
    updates += [{**s["raw"], "update_id": 100 + i}
                for i, s in enumerate(peer_samples("test_message_entity"))]
    for update in updates:
        await fake.push_update(update)
    outcome = await connector.poll_once()
    assert outcome is not None and outcome.malformed == []
    assert {r.status for r in outcome.results} <= {"accepted", "duplicate"}
    types = [b["type"] for b in await bodies(runtime)]
    assert types.count("group.created") == 3 and "message.private" in types

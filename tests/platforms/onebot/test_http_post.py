"""HTTP POST events: X-Signature (HMAC-SHA1 of the raw body) and the access token checked
before anything is read; answers once durable; malformed bodies refused with the reason."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime, ensure_default_org
from qunyun.app.onebot import OneBotConnector, connect
from qunyun.community.service import do_create_token
from qunyun.core.actions import Action
from qunyun.core.config import ConnectionConfig
from qunyun.platforms.onebot.link import HttpApi
from qunyun.platforms.onebot.signature import sign
from tests.platforms.onebot.conftest import count_events
from tests.platforms.onebot.fake_onebot import FakeOneBot, group_message

T = 1_763_776_800
SECRET = "hmac-key"
URL = "/api/v1/onebot/qq-http/events"


@pytest.fixture
def connector(runtime: Runtime) -> OneBotConnector:
    return connect(runtime, ConnectionConfig(
        platform="onebot", name="qq-http",
        options={"mode": "http", "secret": SECRET, "access_token": "tok",
                 "api_url": "http://onebot.local:5700", "roster_sync": False}))


def onebot_http_api(fake: FakeOneBot) -> httpx.MockTransport:
    """The fake's API behind its HTTP server: `POST /<action>` with JSON parameters."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") != "Bearer tok":
            return httpx.Response(401)
        action = request.url.path.rsplit("/", 1)[-1]
        answer = fake.answer({"action": action, "params": orjson.loads(request.content)})
        return httpx.Response(404 if answer["retcode"] == 1404 else 200, json=answer)

    return httpx.MockTransport(handle)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def signed(body: bytes, **extra: str) -> dict[str, str]:
    return {"X-Signature": sign(SECRET, body), "Authorization": "Bearer tok",
            "Content-Type": "application/json", "X-Self-ID": "10001", **extra}


async def test_signed_event_is_stored_once(runtime: Runtime, client: httpx.AsyncClient,
                                           connector: OneBotConnector) -> None:
    body = orjson.dumps(group_message(7, 321, 9, "[CQ:at,qq=all] 通知", time=T))
    assert (await client.post(URL, content=body, headers=signed(body))).status_code == 204
    assert (await client.post(URL, content=body, headers=signed(body))).status_code == 204
    assert await count_events(runtime) == 1
    stats = connector.bot.inbound.stats
    assert (stats.accepted, stats.duplicate) == (1, 1)


@pytest.mark.parametrize(("headers", "status"), [
    ({"X-Signature": None}, 401),
    ({"X-Signature": "sha1=" + "0" * 40}, 403),
    ({"Authorization": None}, 401),
    ({"Authorization": "Bearer nope"}, 403),
])
async def test_forged_or_missing_credentials_store_nothing(
        runtime: Runtime, client: httpx.AsyncClient, connector: OneBotConnector,
        headers: dict[str, str | None], status: int) -> None:
    body = orjson.dumps(group_message(7, 321, 9, "hi", time=T))
    sent = {k: v for k, v in {**signed(body), **headers}.items() if v is not None}
    assert (await client.post(URL, content=body, headers=sent)).status_code == status
    assert await count_events(runtime) == 0


async def test_malformed_bodies_are_rejected_with_the_reason(
        runtime: Runtime, client: httpx.AsyncClient, connector: OneBotConnector) -> None:
    for body, reason in ((b"{broken", "not JSON"),
                         (orjson.dumps({"post_type": "message", "message_type": "group",
                                        "time": T}), "message_id")):
        answer = await client.post(URL, content=body, headers=signed(body))
        assert answer.status_code == 400
        assert reason in answer.json()["reason"]
    assert connector.bot.inbound.stats.rejected == 2
    assert await count_events(runtime) == 0


async def test_unknown_connection(client: httpx.AsyncClient) -> None:
    answer = await client.post("/api/v1/onebot/nobody/events", content=b"{}")
    assert answer.status_code == 404


async def test_actions_go_to_the_http_api(runtime: Runtime,
                                          connector: OneBotConnector) -> None:
    fake = FakeOneBot()
    api = HttpApi("http://onebot.local:5700", "tok",
                  client=httpx.AsyncClient(transport=onebot_http_api(fake)))
    connector.bot.attach(api)
    delete = Action(id="d1", type="message.delete", platform="onebot", group="321",
                    member=None, caused_by="e", data={"message_id": "7"})
    assert (await connector.platform.deliver(delete)).status == "done"
    assert fake.calls == [("delete_msg", {"message_id": 7})]
    approve = Action(id="d2", type="join.approve", platform="onebot", group="321",
                     member="9", caused_by="e", data={"request_id": "flag-9"})
    assert (await connector.platform.deliver(approve)).status == "done"
    assert fake.calls[-1] == ("set_group_add_request",
                              {"flag": "flag-9", "sub_type": "add", "approve": True})
    await api.close()


async def test_status_shows_the_organizations_connections_and_group_health(
        runtime: Runtime, client: httpx.AsyncClient, connector: OneBotConnector) -> None:
    fake = FakeOneBot(fail_sends_in={321})
    api = HttpApi("http://onebot.local:5700", "tok",
                  client=httpx.AsyncClient(transport=onebot_http_api(fake)))
    connector.bot.attach(api)
    body = orjson.dumps(group_message(7, 321, 9, "hi", time=T))
    await client.post(URL, content=body, headers=signed(body))  # the bot serves group 321
    send = Action(id="s1", type="message.send", platform="onebot", group="321", member=None,
                  caused_by="e", data={"text": "hello"})
    assert (await connector.platform.deliver(send)).status == "failed"
    await api.close()
    org_id = await ensure_default_org(runtime.sessions, runtime.clock.now())
    async with runtime.write_sessions() as session:
        token = await do_create_token(session, org_id=org_id, name="ops", kind="api",
                                      at=runtime.clock.now())
        await session.commit()
    answer = await client.get("/api/v1/onebot/status",
                              headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    report = answer.json()
    assert report["connections"]["qq-http"]["accepted"] == 1
    assert report["groups"]["321"]["risk_signs"] == 1
    assert report["groups"]["321"]["retcodes"] == {"100": 1}
    assert (await client.get("/api/v1/onebot/status")).status_code == 401

"""The callback endpoint end to end, the re-fetch after it, and the periodic reconcile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.app.wecom import WecomConnector, connect, wecom_platform
from qunyun.community.models import Group, Membership, PlatformAccount
from qunyun.core.config import ConnectionConfig
from qunyun.core.errors import InvalidInput
from qunyun.pipeline.models import EventRecord
from qunyun.platforms.wecom.crypto import WecomCrypto, signature
from tests.platforms.wecom.conftest import AES_KEY, CHAT, CORP_ID, TOKEN, options
from tests.platforms.wecom.fake_wecom import FakeWecom

URL = "/api/v1/wecom/corp1/callback"


def member(user: str, name: str, join_time: int, scene: int = 1, kind: int = 2,
           **extra: Any) -> dict[str, Any]:
    return {"userid": user, "type": kind, "join_time": join_time, "join_scene": scene,
            "name": name, **extra}


def change(detail: str, users: list[str], *, change_type: str = "update", at: int = 1763800000,
           version: str = "v1") -> str:
    items = "".join(f"<Item><![CDATA[{u}]]></Item>" for u in users)
    return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[sys]]>"
            f"</FromUserName><CreateTime>{at}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[{CHAT}]]></ChatId>"
            f"<ChangeType><![CDATA[{change_type}]]></ChangeType><UpdateDetail><![CDATA[{detail}]]>"
            f"</UpdateDetail><JoinScene>3</JoinScene><QuitScene>0</QuitScene>"
            f"<MemChangeCnt>{len(users)}</MemChangeCnt><MemChangeList>{items}</MemChangeList>"
            f"<CurMemVer>{version}</CurMemVer></xml>")


def envelope(plain: str, *, corp_id: str = CORP_ID, token: str = TOKEN,
             nonce: str = "1372623149") -> tuple[dict[str, str], str]:
    encrypted = WecomCrypto(token, AES_KEY, corp_id).encrypt(plain)
    timestamp = "1763800000"
    query = {"msg_signature": signature(token, timestamp, nonce, encrypted),
             "timestamp": timestamp, "nonce": nonce}
    body = (f"<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>")
    return query, body


async def post(runtime: Runtime, query: dict[str, str], body: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.post(URL, params=query, content=body.encode(),
                               headers={"content-type": "text/xml"})


async def events(runtime: Runtime) -> list[tuple[str, str]]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(EventRecord.type, EventRecord.external_id)
                                     .order_by(EventRecord.seq))
        return [(t, i) for t, i in rows]


async def roster(runtime: Runtime) -> dict[str, str]:
    """Active members of the chat: user id -> display name."""
    async with runtime.sessions() as session:
        rows = await session.execute(
            select(PlatformAccount.platform_user_id, PlatformAccount.display_name)
            .join(Membership, Membership.person_id == PlatformAccount.person_id)
            .join(Group, Group.id == Membership.group_id)
            .where(Group.platform_id == CHAT, Membership.status == "active"))
        return dict(rows.all())


async def test_url_verification(runtime: Runtime, wecom: WecomConnector) -> None:
    crypto = WecomCrypto(TOKEN, AES_KEY, CORP_ID)
    echostr = crypto.encrypt("5927782489442352469")
    query = {"msg_signature": signature(TOKEN, "1411443780", "437374425", echostr),
             "timestamp": "1411443780", "nonce": "437374425", "echostr": echostr}
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ok = await http.get(URL, params=query)
        forged = await http.get(URL, params={**query, "nonce": "437374424"})
        unknown = await http.get("/api/v1/wecom/nobody/callback", params=query)
    assert (ok.status_code, ok.text) == (200, "5927782489442352469")
    assert forged.status_code == 401
    assert unknown.status_code == 404


async def test_callback_is_stored_then_refetched(runtime: Runtime, wecom: WecomConnector,
                                                 fake: FakeWecom) -> None:
    fake.add_group(CHAT, "销售客服群", "ZhuShengBen", [
        member("ZhuShengBen", "朱", 1763700000, kind=1),
        member("wmA", "小王", 1763800000, scene=3, invitor={"userid": "ZhuShengBen"}),
        member("wmB", "小李", 1763800001, scene=3)], notice="文明沟通")
    response = await post(runtime, *envelope(change("add_member", ["wmA", "wmB"])))
    assert (response.status_code, response.text) == (200, "success")
    stored = await events(runtime)
    assert [t for t, _ in stored] == ["member.joined", "member.joined"]  # durable before answer
    await wecom.drain()
    assert await roster(runtime) == {"wmA": "小王", "wmB": "小李", "ZhuShengBen": "朱"}
    kinds = [t for t, _ in await events(runtime)]
    assert kinds.count("member.joined") == 3  # the owner, found by the re-fetch only
    assert "group.updated" in kinds  # name and notice came with the re-fetch
    async with runtime.sessions() as session:
        group = await session.scalar(select(Group).where(Group.platform_id == CHAT))
    assert group is not None and (group.name, group.notice) == ("销售客服群", "文明沟通")


async def test_repeated_callback_is_a_duplicate(runtime: Runtime, wecom: WecomConnector,
                                                fake: FakeWecom) -> None:
    fake.add_group(CHAT, "g", "o", [member("wmA", "小王", 1763800000)])
    query, body = envelope(change("add_member", ["wmA"]))
    for _ in range(3):
        assert (await post(runtime, query, body)).text == "success"
    await wecom.drain()
    assert [t for t, _ in await events(runtime)].count("member.joined") == 1


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"token": "forged"}, 401), ({"corp_id": "wwanother"}, 403)])
async def test_forged_or_foreign_callbacks_store_nothing(runtime: Runtime, wecom: WecomConnector,
                                                         kwargs: dict[str, str],
                                                         status: int) -> None:
    query, body = envelope(change("add_member", ["wmA"]), **kwargs)
    response = await post(runtime, query, body)
    assert response.status_code == status
    assert await events(runtime) == []


async def test_malformed_body_is_400(runtime: Runtime, wecom: WecomConnector) -> None:
    response = await post(runtime, {"msg_signature": "x", "timestamp": "1", "nonce": "2"},
                          "<xml><nope/>")
    assert response.status_code == 400
    assert await events(runtime) == []


async def test_reconcile_finds_lost_joins_and_leaves(runtime: Runtime, wecom: WecomConnector,
                                                     fake: FakeWecom) -> None:
    fake.add_group(CHAT, "g", "o", [member("wmA", "A", 1763700000), member("wmB", "B", 1763700001),
                                    member("wmC", "C", 1763700002, state="poster-7")])
    assert await wecom.reconcile_all() == 4  # created + three joins
    assert await roster(runtime) == {"wmA": "A", "wmB": "B", "wmC": "C"}
    # callbacks lost: B left, D joined, A renamed
    fake.groups[CHAT]["member_list"] = [member("wmA", "A2", 1763700000),
                                        member("wmC", "C", 1763700002),
                                        member("wmD", "D", 1763800000, scene=2)]
    assert await wecom.reconcile_all() == 3
    assert await roster(runtime) == {"wmA": "A2", "wmC": "C", "wmD": "D"}
    assert await wecom.reconcile_all() == 0  # nothing new: nothing happens
    async with runtime.sessions() as session:
        imported = dict((await session.execute(
            select(EventRecord.external_id, EventRecord.imported)
            .where(EventRecord.type == "member.joined"))).all())
    # the first sync records who was there; only the later join is news (welcomed)
    assert sorted(imported.values()) == [False, True, True, True]
    assert imported[f"join:{CHAT}:wmD:j1763800000"] is False
    async with runtime.sessions() as session:
        codes = dict((await session.execute(
            select(PlatformAccount.platform_user_id, Membership.join_code)
            .join(Membership, Membership.person_id == PlatformAccount.person_id))).all())
        via = await session.scalar(select(Membership.join_via).join(
            PlatformAccount, PlatformAccount.person_id == Membership.person_id)
            .where(PlatformAccount.platform_user_id == "wmD"))
    assert codes["wmC"] == "poster-7"
    assert via == "link"


async def test_reconcile_twice_before_storing_has_one_effect(runtime: Runtime,
                                                             wecom: WecomConnector,
                                                             fake: FakeWecom, org_id: int) -> None:
    """Two reconciles that saw the same roster give the same ids: the second is a duplicate."""
    from qunyun.platforms.wecom.roster import diff

    fake.add_group(CHAT, "g", "o", [member("wmA", "A", 1763700000)])
    chat = fake.groups[CHAT]
    known = await wecom.known_group(CHAT)
    first = diff(chat, known, runtime.clock.now())
    second = diff(chat, known, runtime.clock.now())
    results = await runtime.pipeline.ingest(org_id, first + second)
    assert [r.status for r in results] == ["accepted", "accepted", "duplicate", "duplicate"]


async def test_late_callback_after_reconcile_has_no_effect(runtime: Runtime,
                                                           wecom: WecomConnector,
                                                           fake: FakeWecom) -> None:
    fake.add_group(CHAT, "g", "o", [member("wmA", "A", 1763700000)])
    await wecom.reconcile_all()
    before = await events(runtime)
    fake.groups[CHAT]["member_list"] = []
    await wecom.reconcile_all()  # A left; its del_member callback arrives later
    await wecom.receive(change("del_member", ["wmA"], version="late"))
    await wecom.receive(change("add_member", ["wmA"], version="older"))  # out of order
    await wecom.drain()  # the re-fetch puts it right again
    assert await roster(runtime) == {}
    assert len(await events(runtime)) > len(before)


async def test_contact_state_attributes_the_next_join(runtime: Runtime, wecom: WecomConnector,
                                                      fake: FakeWecom) -> None:
    await wecom.receive(
        "<xml><ToUserName>ww</ToUserName><FromUserName>sys</FromUserName>"
        "<CreateTime>1763800000</CreateTime><MsgType>event</MsgType>"
        "<Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType>"
        "<UserID>guide1</UserID><ExternalUserID>wmNEW</ExternalUserID>"
        "<State>store-12</State></xml>")
    fake.add_group(CHAT, "g", "guide1", [member("wmNEW", "新人", 1763800100)])
    await wecom.receive(change("add_member", ["wmNEW"]))
    await wecom.drain()
    async with runtime.sessions() as session:
        code = await session.scalar(select(Membership.join_code))
    assert code == "store-12"


async def test_dismiss(runtime: Runtime, wecom: WecomConnector, fake: FakeWecom) -> None:
    fake.add_group(CHAT, "g", "o", [member("wmA", "A", 1763700000)])
    await wecom.reconcile_all()
    await wecom.receive(change("", [], change_type="dismiss"))
    async with runtime.sessions() as session:
        status = await session.scalar(select(Group.status).where(Group.platform_id == CHAT))
        count = await session.scalar(select(func.count()).select_from(EventRecord))
    assert status == "dismissed"
    assert count == 3


async def test_the_server_connects_configured_corps(runtime: Runtime) -> None:
    from qunyun.app.connections import connect_platforms

    runtime.config.connections = [ConnectionConfig(platform="wecom", name="hq",
                                                   options=options())]
    (connector,) = connect_platforms(runtime)
    assert isinstance(connector, WecomConnector)
    assert "hq" in wecom_platform(runtime).corps
    assert runtime.platform_for("wecom") is wecom_platform(runtime)
    await connector.client.close()


def test_options_are_checked(runtime: Runtime) -> None:
    with pytest.raises(InvalidInput) as info:
        connect(runtime, ConnectionConfig(platform="wecom", name="x",
                                          options=options(encoding_aes_key="short", extra=1)))
    paths = {e.path for e in info.value.errors}
    assert {"options.encoding_aes_key", "options.extra"} <= paths


async def test_reconcile_of_many_groups_waits_for_the_quota(runtime: Runtime, org_id: int,
                                                            fake: FakeWecom) -> None:
    """25 groups, groupchat/get allowed 10 times a minute: the reconcile waits (fake time)
    instead of failing, and WeCom never answers 45009."""
    from qunyun.platforms.wecom.quota import QuotaMeter
    from tests.platforms.wecom.conftest import fake_client

    for index in range(25):
        fake.add_group(f"wr{index:02d}", f"g{index}", "o", [member(f"wm{index}", "x", 1763700000)])
    fake.per_minute = 10
    connector = connect(runtime, ConnectionConfig(platform="wecom", name="corp2",
                                                  options=options()),
                        client=fake_client(fake, QuotaMeter(per_minute=10, per_hour=1000)))
    start = fake.now
    assert await connector.reconcile_all() == 50
    assert fake.refused[45009] == 0
    assert fake.now - start >= 120
    await connector.client.close()


async def test_official_requests_through_the_endpoint(runtime: Runtime, org_id: int,
                                                      fake: FakeWecom) -> None:
    """The official sample's GET and POST, byte for byte, against a corp with its secrets."""
    import json

    from tests.conftest import shared_data
    from tests.platforms.wecom.conftest import fake_client

    vectors = {v["id"]: v for v in json.loads(
        shared_data("wecom", "crypto_vectors.json").read_text(encoding="utf-8"))}
    get, post_ = vectors["official-doc-verifyurl"], vectors["official-doc-decryptmsg"]
    connect(runtime, ConnectionConfig(platform="wecom", name="official", options=options(
        corp_id=get["receiveid"], token=get["token"], encoding_aes_key=get["encoding_aes_key"])),
        client=fake_client(fake))
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        query = get["http_request_line"].split(" ", 1)[1].split("?", 1)[1]
        answer = await http.get(f"/api/v1/wecom/official/callback?{query}")
        unencoded = await http.get(f"/api/v1/wecom/official/callback?{query}".replace(
            "%2B", "+"))
        query = post_["http_request_line"].split(" ", 1)[1].split("?", 1)[1]
        posted = await http.post(f"/api/v1/wecom/official/callback?{query}",
                                 content=post_["post_body_xml"].encode())
    assert (answer.status_code, answer.text) == (200, get["expected_plaintext"])
    assert unencoded.text == get["expected_plaintext"]
    assert (posted.status_code, posted.text) == (200, "success")  # a text message: no event
    assert await events(runtime) == []


async def test_callback_during_a_refetch_is_not_undone(runtime: Runtime, wecom: WecomConnector,
                                                       fake: FakeWecom) -> None:
    """The API answered before a join's callback was stored: that answer is not used to
    remove the newcomer again; the group is fetched anew."""
    fake.add_group(CHAT, "g", "o", [member("wmA", "A", 1763700000)])
    await wecom.reconcile_all()

    class JoinWhileAnswering(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = fake.handle(request)  # the answer is made: wmA only
            members = fake.groups[CHAT]["member_list"]
            if request.url.path.endswith("groupchat/get") and len(members) == 1:
                members.append(member("wmB", "B", 1763800000))
                await wecom.receive(change("add_member", ["wmB"], version="v9"))
            return response

    await wecom.client.close()
    wecom.client._http = httpx.AsyncClient(transport=JoinWhileAnswering())
    await wecom.reconcile_group(CHAT)
    await wecom.drain()
    assert await roster(runtime) == {"wmA": "A", "wmB": "B"}
    assert "member.left" not in [t for t, _ in await events(runtime)]


async def test_default_org_is_created_on_first_callback(runtime: Runtime,
                                                        fake: FakeWecom) -> None:
    from tests.platforms.wecom.conftest import fake_client

    connector = connect(runtime, ConnectionConfig(platform="wecom", name="corp1",
                                                  options=options(refetch_delay_s=3600)),
                        client=fake_client(fake))
    assert (await post(runtime, *envelope(change("add_member", ["wmA"])))).text == "success"
    assert [t for t, _ in await events(runtime)] == ["member.joined"]
    for task in list(connector._refetches):
        task.cancel()
    await connector.drain()
    await connector.client.close()


async def test_unknown_org_refuses_and_stores_nothing(runtime: Runtime, org_id: int,
                                                      fake: FakeWecom) -> None:
    from tests.platforms.wecom.conftest import fake_client

    connector = connect(runtime, ConnectionConfig(platform="wecom", name="corp1", org="nope",
                                                  options=options()), client=fake_client(fake))
    response = await post(runtime, *envelope(change("add_member", ["wmA"])))
    assert response.status_code == 404
    assert await events(runtime) == []
    await connector.client.close()

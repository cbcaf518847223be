"""The chat of a playground group: members join and speak through the real pipeline, the bot's
actions show (deleted messages, mutes, kicks), and the history is read from the database."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import orjson
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.models import Membership
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import FeatureRegistry
from qunyun.pipeline.models import ActionRecord, EventRecord
from tests.web.playground.bot import playground_bot
from tests.web.playground.conftest import Place, client_for, csrf_of, dashboard_app

HTMX = {"HX-Request": "true"}


async def add_member(client: httpx.AsyncClient, group: int, name: str) -> str:
    page = await client.get(f"/playground/{group}")
    response = await client.post(f"/playground/{group}/members",
                                 data={"csrf_token": csrf_of(page.text), "name": name})
    assert response.status_code == 303, response.text
    found = re.search(r"\?as=(pm-[0-9a-f]+)$", response.headers["location"])
    assert found is not None
    return found.group(1)


async def say(client: httpx.AsyncClient, group: int, member: str, text: str,
              **headers: str) -> httpx.Response:
    page = await client.get(f"/playground/{group}")
    return await client.post(f"/playground/{group}/messages", headers=headers, data={
        "csrf_token": csrf_of(page.text), "member": member, "text": text})


async def events_of(runtime: Runtime, kind: str) -> list[dict[str, object]]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(EventRecord.body).where(EventRecord.type == kind)
                                     .order_by(EventRecord.seq))
        return [orjson.loads(body) for body in rows]


async def test_a_member_joins_and_speaks_through_the_pipeline(
        owner: httpx.AsyncClient, runtime: Runtime, place: Place) -> None:
    member = await add_member(owner, place.shanghai, "小林")
    response = await say(owner, place.shanghai, member, "你好，大家好")
    assert response.status_code == 303
    [join] = await events_of(runtime, "member.joined")
    [posted] = await events_of(runtime, "message.posted")
    assert (join["platform"], join["group"], join["member"]) == ("playground", "pg-sh", member)
    assert posted["data"]["text"] == "你好，大家好"  # type: ignore[index]
    assert posted["data"]["kind"] == "text"  # type: ignore[index]
    assert posted["at"] == runtime.clock.now().isoformat()
    async with runtime.sessions() as session:
        audit = await session.scalar(select(AuditEntry.after)
                                     .where(AuditEntry.action == "playground.member.add",
                                            AuditEntry.target_id == str(place.shanghai)))
    assert audit == {"member": member, "name": "小林"}

    await runtime.delivery.run_once()
    page = await owner.get(f"/playground/{place.shanghai}", headers={"Accept-Language": "en"})
    assert page.text.index("小林 joined the group") < page.text.index("你好，大家好") \
        < page.text.index("收到：你好，大家好")


async def test_the_history_survives_a_restart(owner: httpx.AsyncClient, runtime: Runtime,
                                              place: Place, database_url: str,
                                              tmp_path: Path, clock: ManualClock) -> None:
    member = await add_member(owner, place.shanghai, "小林")
    await say(owner, place.shanghai, member, "重启之前")
    await runtime.delivery.run_once()
    token = owner.cookies.get("qunyun_session")
    assert token is not None
    config = Config(data_dir=tmp_path / "data2", database_url=database_url)
    fresh = await build_runtime(config, clock=clock, migrate=False,
                                registry=FeatureRegistry([playground_bot()]))
    try:
        async with client_for(dashboard_app(fresh), token) as client:
            page = await client.get(f"/playground/{place.shanghai}")
        assert "重启之前" in page.text and "收到：重启之前" in page.text
        assert fresh.playground.recent("pg-sh") == []  # the new process's feed is empty
    finally:
        await fresh.close()


async def test_a_deleted_message_and_a_mute_show_and_the_mute_refuses_typing(
        owner: httpx.AsyncClient, runtime: Runtime, place: Place, clock: ManualClock) -> None:
    member = await add_member(owner, place.shanghai, "广告哥")
    await say(owner, place.shanghai, member, "spam 加我微信")
    await runtime.delivery.run_once()
    page = await owner.get(f"/playground/{place.shanghai}", headers={"Accept-Language": "en"})
    assert re.search(r'class="pg-item pg-msg pg-deleted"', page.text)
    assert "The bot muted 广告哥 for 10 min" in page.text
    assert 'data-muted-s="600"' in page.text

    refused = await say(owner, place.shanghai, member, "我又来了", **HTMX,
                        **{"Accept-Language": "en"})
    assert refused.status_code == 422
    assert "广告哥 is muted for another 10 min" in refused.text
    clock.advance(timedelta(minutes=11))
    allowed = await say(owner, place.shanghai, member, "我错了", **HTMX)
    assert allowed.status_code == 200
    assert "field-error" not in allowed.text


async def test_a_kicked_member_leaves_the_group_and_the_picker(
        owner: httpx.AsyncClient, runtime: Runtime, place: Place) -> None:
    member = await add_member(owner, place.shanghai, "捣乱者")
    await say(owner, place.shanghai, member, "kick me")
    page = await owner.get(f"/playground/{place.shanghai}")  # the chat page wires the platform
    await runtime.delivery.run_once()
    async with runtime.sessions() as session:
        status = await session.scalar(select(Membership.status))
        kick = await session.scalar(select(ActionRecord.status)
                                    .where(ActionRecord.type == "member.kick"))
    assert (status, kick) == ("kicked", "done")
    page = await owner.get(f"/playground/{place.shanghai}", headers={"Accept-Language": "en"})
    assert "The bot removed 捣乱者 from the group" in page.text
    assert f'option value="{member}"' not in page.text
    refused = await say(owner, place.shanghai, member, "我还在吗", **HTMX,
                        **{"Accept-Language": "en"})
    assert refused.status_code == 422
    assert "choose a member of this group" in refused.text


async def test_the_whole_group_muted(owner: httpx.AsyncClient, runtime: Runtime,
                                     place: Place) -> None:
    member = await add_member(owner, place.shanghai, "群主")
    await say(owner, place.shanghai, member, "mute all")
    await runtime.delivery.run_once()
    refused = await say(owner, place.shanghai, member, "还能说话吗", **HTMX)
    assert refused.status_code == 422
    await runtime.delivery.run_once()
    page = await owner.get(f"/playground/{place.shanghai}")
    assert 'data-all-muted="1"' in page.text


async def test_mentions_and_bad_input(owner: httpx.AsyncClient, runtime: Runtime,
                                      place: Place) -> None:
    lin = await add_member(owner, place.shanghai, "小林")
    wang = await add_member(owner, place.shanghai, "老王")
    await say(owner, place.shanghai, wang, "@小林 周末跑步吗")
    [posted] = await events_of(runtime, "message.posted")
    assert posted["data"]["mentions"] == [lin]  # type: ignore[index]
    empty = await say(owner, place.shanghai, wang, "   ", **HTMX, **{"Accept-Language": "en"})
    assert empty.status_code == 422 and "type a message first" in empty.text
    page = await owner.get(f"/playground/{place.shanghai}")
    nameless = await owner.post(f"/playground/{place.shanghai}/members", headers=HTMX, data={
        "csrf_token": csrf_of(page.text), "name": " "})
    assert nameless.status_code == 422
    assert nameless.headers["HX-Retarget"] == "#pg-add-member"
    assert len(await events_of(runtime, "member.joined")) == 2


async def test_an_htmx_join_answers_the_picker(owner: httpx.AsyncClient, place: Place) -> None:
    page = await owner.get(f"/playground/{place.shanghai}")
    response = await owner.post(f"/playground/{place.shanghai}/members", headers=HTMX, data={
        "csrf_token": csrf_of(page.text), "name": "阿宝"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<select id="pg-member"')
    assert re.search(r'<option value="pm-[0-9a-f]+" selected\s*data-role="member">阿宝</option>',
                     response.text)


async def test_who_may_do_what(owner: httpx.AsyncClient, guide: httpx.AsyncClient,
                               viewer: httpx.AsyncClient, runtime: Runtime,
                               place: Place) -> None:
    assert (await guide.get(f"/playground/{place.beijing}")).status_code == 403
    assert (await owner.get(f"/playground/{place.bridge}")).status_code == 404
    assert (await guide.get(f"/playground/{place.shanghai}")).status_code == 200
    watching = await viewer.get(f"/playground/{place.shanghai}")
    assert watching.status_code == 200 and 'id="pg-compose"' not in watching.text
    refused = await viewer.post(f"/playground/{place.shanghai}/members", data={
        "csrf_token": csrf_of(watching.text), "name": "看客"})
    assert refused.status_code == 403
    no_token = await owner.post(f"/playground/{place.shanghai}/members", data={"name": "x"})
    assert no_token.status_code == 403
    page = await guide.get(f"/playground/{place.shanghai}")
    other_store = await guide.post(f"/playground/{place.beijing}/members", data={
        "csrf_token": csrf_of(page.text), "name": "越界"})
    assert other_store.status_code == 403
    assert await events_of(runtime, "member.joined") == []


async def test_the_stats_panel_counts_today(owner: httpx.AsyncClient, place: Place) -> None:
    member = await add_member(owner, place.shanghai, "小林")
    await say(owner, place.shanghai, member, "一")
    await say(owner, place.shanghai, member, "二")
    panel = await owner.get(f"/playground/{place.shanghai}/stats", headers=HTMX)
    assert re.search(r'data-stat="messages">2<', panel.text)
    assert re.search(r'data-stat="members">1<', panel.text)
    assert re.search(r'data-stat="joins">1<', panel.text)


async def test_replies_likes_and_roles(owner: httpx.AsyncClient, runtime: Runtime,
                                       place: Place) -> None:
    lin = await add_member(owner, place.shanghai, "小林")
    wang = await add_member(owner, place.shanghai, "老王")
    await say(owner, place.shanghai, lin, "今天的新品不错")
    [first] = await events_of(runtime, "message.posted")
    target = first["data"]["message_id"]  # type: ignore[index]
    page = await owner.get(f"/playground/{place.shanghai}")
    assert f'data-reply="{target}"' in page.text and f'data-like="{target}"' in page.text
    await owner.post(f"/playground/{place.shanghai}/messages", data={
        "csrf_token": csrf_of(page.text), "member": wang, "text": "同意", "reply_to": target})
    reply = (await events_of(runtime, "message.posted"))[-1]
    assert reply["data"]["reply_to"] == target  # type: ignore[index]

    liked = await owner.post(f"/playground/{place.shanghai}/reactions", headers=HTMX, data={
        "csrf_token": csrf_of(page.text), "member": wang, "message_id": target})
    assert liked.status_code == 200
    [reaction] = await events_of(runtime, "reaction.added")
    assert (reaction["member"], reaction["data"]) == (wang, {"message_id": target, "emoji": "👍"})

    made = await owner.post(f"/playground/{place.shanghai}/roles", data={
        "csrf_token": csrf_of(page.text), "member": wang, "role": "admin"})
    assert made.status_code == 303
    async with runtime.sessions() as session:
        roles = (await session.scalars(select(Membership.role).where(
            Membership.group_id == place.shanghai).order_by(Membership.id))).all()
    assert roles == ["member", "admin"]
    page = await owner.get(f"/playground/{place.shanghai}?as={wang}")
    assert re.search(r'data-role="admin">老王（管理员）</option>', page.text)
    bad = await owner.post(f"/playground/{place.shanghai}/roles", data={
        "csrf_token": csrf_of(page.text), "member": wang, "role": "owner"})
    assert bad.status_code == 422

"""The red packet page: packets of visible groups with their claims; staff send one (ACT,
CSRF, audited, announced in the group through the pipeline)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.models import PlatformAccount
from qunyun.community.settings import do_set_layer
from qunyun.core.events import parse_event
from qunyun.features.redpacket.models import RedPacket
from qunyun.pipeline.models import ActionRecord, ScheduledJob
from qunyun.points import service as points
from tests.factories import message
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client

PAGE = "/engagement/redpacket"


async def turn_on(runtime: Runtime, shop: Shop, **values: object) -> None:
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=shop.org_id, scope="organization",
                           scope_id=shop.org_id, feature="redpacket",
                           values={"enabled": True, **values}, at=runtime.clock.now())
        await session.commit()


async def counts(runtime: Runtime) -> list[int]:
    """Packets, their audit entries and scheduled jobs."""
    async with runtime.sessions() as session:
        return [int(await session.scalar(select(func.count()).select_from(t).where(*where))
                    or 0) for t, where in ((RedPacket, ()), (ScheduledJob, ()), (
                        AuditEntry, (AuditEntry.action == "redpacket.send",)))]


async def member_packet(runtime: Runtime, shop: Shop, group: str, member: str) -> None:
    """A member of `group` sends 20 points in 2 shares from the chat."""
    await runtime.pipeline.process(shop.org_id, [parse_event(message(member, "hi", group=group))])
    async with runtime.sessions() as session:
        person_id = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == member))
        assert person_id is not None
        await points.do_award(session, org_id=shop.org_id, community_id=shop.community_id,
                              person_id=person_id, amount=100, reason="adjust",
                              key=f"seed:{member}", at=runtime.clock.now())
        await session.commit()
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message(member, "发红包 20 2", group=group))])


async def test_the_page_lists_packets_of_visible_groups(owner: httpx.AsyncClient,
                                                        guide: httpx.AsyncClient,
                                                        runtime: Runtime, shop: Shop) -> None:
    await turn_on(runtime, shop)
    await member_packet(runtime, shop, "sh1", "s0")
    await member_packet(runtime, shop, "bj1", "b2")
    html = (await owner.get(PAGE)).text
    assert "上海一店会员群" in html and "北京会员群" in html and "上海会员0" in html
    page = (await guide.get(PAGE)).text
    assert "上海一店会员群" in page and "北京会员群" not in page.split('id="packets"')[1]
    async with runtime.sessions() as session:
        beijing = await session.scalar(select(RedPacket.id).where(
            RedPacket.group_id == shop.beijing))
    assert (await guide.get(f"{PAGE}/{beijing}")).status_code == 403


async def test_staff_send_a_packet_announced_by_the_pipeline(owner: httpx.AsyncClient,
                                                             runtime: Runtime,
                                                             shop: Shop) -> None:
    await turn_on(runtime, shop, expire_hours=2)
    token = csrf_of((await owner.get(PAGE)).text)
    sent = await owner.post(f"{PAGE}/send", data={
        "csrf_token": token, "group": str(shop.shanghai), "total": "100", "count": "5",
        "mode": "equal", "keyword": "周年庆"})
    assert sent.status_code == 303
    async with runtime.sessions() as session:
        packet = await session.scalar(select(RedPacket))
        audit = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "redpacket.send"))
    assert packet is not None and sent.headers["location"] == f"{PAGE}/{packet.id}?sent=1"
    assert packet.sender_person_id is None and packet.staff_actor == "staff:hq-owner"
    assert (packet.total, packet.count, packet.mode, packet.keyword) == (100, 5, "equal", "周年庆")
    assert audit is not None and audit.after is not None and audit.after["total"] == 100
    assert await runtime.pipeline.tick() == 1  # the announcement
    async with runtime.sessions() as session:
        [announce] = (await session.scalars(select(ActionRecord).where(
            ActionRecord.feature == "redpacket"))).all()
    assert announce.group_pid == "sh1" and "米粉同城会" in announce.data["text"]
    assert "周年庆" in announce.data["text"]
    await runtime.pipeline.process(shop.org_id, [parse_event(
        message("s1", "周年庆", group="sh1", minutes=5))])
    detail = (await owner.get(f"{PAGE}/{packet.id}")).text
    assert "上海会员1" in detail and ">20<" in detail.replace(" ", "")
    assert await runtime.pipeline.tick(runtime.clock.now() + timedelta(hours=3)) == 1
    async with runtime.sessions() as session:
        expired = await session.get(RedPacket, packet.id, populate_existing=True)
    assert expired is not None and expired.status == "expired" and expired.refunded == 80


async def test_refusals_write_nothing(owner: httpx.AsyncClient, guide: httpx.AsyncClient,
                                      runtime: Runtime, shop: Shop) -> None:
    await turn_on(runtime, shop, max_total=500)
    token = csrf_of((await owner.get(PAGE)).text)
    form = {"csrf_token": token, "group": str(shop.shanghai), "total": "100", "count": "5",
            "mode": "random"}
    before = await counts(runtime)
    assert (await owner.post(f"{PAGE}/send", data={**form, "csrf_token": ""})).status_code == 403
    fewer = await owner.post(f"{PAGE}/send", data={**form, "total": "3"})
    assert fewer.status_code == 422 and 'id="err-total"' in fewer.text
    too_much = await owner.post(f"{PAGE}/send", data={**form, "total": "501"})
    assert too_much.status_code == 422 and "500" in too_much.text
    guide_token = csrf_of((await guide.get(PAGE)).text)
    outside = await guide.post(f"{PAGE}/send", data={**form, "csrf_token": guide_token,
                                                     "group": str(shop.beijing)})
    assert outside.status_code == 403
    async with await signed_in_client(runtime, shop.org_id, "hq-viewer", "viewer") as viewer:
        page = (await viewer.get(PAGE)).text
        assert 'action="/engagement/redpacket/send"' not in page
        refused = await viewer.post(f"{PAGE}/send", data={**form, "csrf_token": csrf_of(page)})
        assert refused.status_code == 403
    assert await counts(runtime) == before


async def test_a_group_with_red_packets_off_is_refused(owner: httpx.AsyncClient,
                                                       runtime: Runtime, shop: Shop) -> None:
    token = csrf_of((await owner.get(PAGE)).text)
    off = await owner.post(f"{PAGE}/send", data={
        "csrf_token": token, "group": str(shop.shanghai), "total": "10", "count": "2"})
    assert off.status_code == 422 and 'id="err-group"' in off.text
    assert (await counts(runtime))[0] == 0

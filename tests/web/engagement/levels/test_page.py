"""The levels page and the member panel: head counts per level, recent moves and badges, a
member's standing; staff of some stores see and count only their groups' members."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Community, PlatformAccount
from qunyun.features.levels.service import Move, do_award_badge, do_move
from qunyun.points import service as ledger
from tests.web.pages.conftest import Shop

PAGE = "/engagement/levels"


async def person(runtime: Runtime, user: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == user))
    assert found is not None
    return int(found)


async def promote(runtime: Runtime, shop: Shop, user: str, level: int, title: str,
                  group: int, badge: str | None = None) -> None:
    now = runtime.clock.now() - timedelta(minutes=5)
    pid = await person(runtime, user)
    async with runtime.sessions() as session:
        await do_move(session, Move(shop.org_id, shop.community_id, pid, group, 0, level, 0,
                                    title, now))
        if badge:
            await do_award_badge(session, org_id=shop.org_id, community_id=shop.community_id,
                                 person_id=pid, badge=badge, at=now, group_id=group)
        await ledger.do_award(session, org_id=shop.org_id, community_id=shop.community_id,
                              person_id=pid, amount=150 * level, reason="message",
                              key=f"t:{user}", at=now, group_id=group)
        await session.commit()


def counts(html: str) -> list[str]:
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [row.rsplit('data-label', 1)[-1].split(">", 1)[1].split("<", 1)[0]
            for row in body.split("<tr>")[1:]]


async def seed(runtime: Runtime, shop: Shop) -> None:
    await promote(runtime, shop, "s0", 2, "主管", shop.shanghai, badge="first_signin")
    await promote(runtime, shop, "s1", 1, "助理", shop.shanghai)
    await promote(runtime, shop, "b2", 1, "助理", shop.beijing, badge="messages_100")


async def test_the_ladder_with_head_counts(owner: httpx.AsyncClient, runtime: Runtime,
                                           shop: Shop) -> None:
    await seed(runtime, shop)
    page = await owner.get(PAGE, params={"community": shop.community_id})
    assert page.status_code == 200, page.text
    # Members now: 上海 s0-s3, 快闪 p1, 北京 b2 (b0 and b1 left).
    assert counts(page.text) == ["3", "2", "1", "0", "0"]
    for name in ("实习生", "总监", "上海会员0", "北京会员2", "主管"):
        assert name in page.text
    assert "米粉同城会" in page.text


async def test_a_guide_counts_her_groups_only(guide: httpx.AsyncClient, runtime: Runtime,
                                              shop: Shop) -> None:
    await seed(runtime, shop)
    page = await guide.get(PAGE)
    assert page.status_code == 200
    assert counts(page.text) == ["3", "1", "1", "0", "0"]
    assert "上海会员1" in page.text and "北京会员2" not in page.text
    async with runtime.sessions() as session:
        other = await session.scalar(select(Community.id).where(
            Community.org_id == shop.org_id, Community.id != shop.community_id))
    assert (await guide.get(PAGE, params={"community": other})).status_code == 403
    assert (await guide.get(PAGE, params={"community": "999999"})).status_code == 404


async def test_the_member_panel(owner: httpx.AsyncClient, guide: httpx.AsyncClient,
                                runtime: Runtime, shop: Shop) -> None:
    await seed(runtime, shop)
    s0 = await person(runtime, "s0")
    page = await owner.get(f"/members/{s0}")
    assert f"/members/{s0}/panels/levels" in page.text
    panel = await owner.get(f"/members/{s0}/panels/levels")
    assert panel.status_code == 200
    assert "主管" in panel.text and "经理" in panel.text  # the level and the next one
    assert 'value="0"' in panel.text  # 300 of the 500 → 2000 way: 0 %
    assert "<progress" in panel.text
    beijing = await person(runtime, "b2")
    assert (await guide.get(f"/members/{beijing}/panels/levels")).status_code == 403
    assert (await guide.get(f"/members/{s0}/panels/levels")).status_code == 200

"""The leaderboard page: boards of visible groups and whole communities, periods, measures."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import PlatformAccount
from qunyun.features.leaderboard.service import MessageCounts, do_write
from qunyun.points import service as ledger
from tests.web.pages.conftest import Shop

PAGE = "/engagement/leaderboard"


async def person(runtime: Runtime, user: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == user))
    assert found is not None
    return int(found)


async def earn(runtime: Runtime, shop: Shop, user: str, group: int, amount: int,
               days_ago: int = 0) -> None:
    at = runtime.clock.now() - timedelta(days=days_ago)
    async with runtime.sessions() as session:
        await ledger.do_award(session, org_id=shop.org_id, community_id=shop.community_id,
                              person_id=await person(runtime, user), amount=amount,
                              reason="message", key=f"t:{user}:{group}:{amount}:{days_ago}",
                              at=at, group_id=group)
        await session.commit()


def rows(html: str) -> list[str]:
    """The names on the board, top first."""
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    return [part.split("</a>")[0].rsplit(">", 1)[-1] for part in body.split("<tr>")[1:]]


async def test_points_of_a_group_and_of_the_community(owner: httpx.AsyncClient,
                                                      runtime: Runtime, shop: Shop) -> None:
    await earn(runtime, shop, "s0", shop.shanghai, 50)
    await earn(runtime, shop, "s1", shop.shanghai, 30)
    await earn(runtime, shop, "b2", shop.beijing, 40)
    await earn(runtime, shop, "s1", shop.shanghai, 90, days_ago=40)  # long ago
    page = await owner.get(PAGE, params={"where": f"g{shop.shanghai}", "period": "week"})
    assert page.status_code == 200, page.text
    assert rows(page.text) == ["上海会员0", "上海会员1"]
    whole = await owner.get(PAGE, params={"where": f"c{shop.community_id}", "period": "month"})
    assert rows(whole.text) == ["上海会员0", "北京会员2", "上海会员1"]
    always = await owner.get(PAGE, params={"where": f"c{shop.community_id}", "period": "all"})
    assert rows(always.text) == ["上海会员1", "上海会员0", "北京会员2"]
    assert f'value="c{shop.community_id}"' in always.text and "米粉同城会" in always.text


async def test_messages_board(owner: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    counts = MessageCounts()
    today = date(2026, 11, 22)
    for user, n in (("s2", 3), ("s3", 5)):
        for _ in range(n):
            counts.count(shop.shanghai, shop.community_id, today, await person(runtime, user))
    async with runtime.sessions() as session:
        await do_write(session, counts)
        await session.commit()
    page = await owner.get(PAGE, params={"where": f"g{shop.shanghai}", "period": "day",
                                         "metric": "messages"})
    assert rows(page.text) == ["上海会员3", "上海会员2"]
    assert "2026-11-22" in page.text  # the day shown


async def test_a_guide_sees_her_groups_only(guide: httpx.AsyncClient, runtime: Runtime,
                                            shop: Shop) -> None:
    await earn(runtime, shop, "s0", shop.shanghai, 10)
    page = await guide.get(PAGE)
    assert page.status_code == 200
    assert f'value="g{shop.shanghai}"' in page.text and f'value="g{shop.popup}"' in page.text
    assert f'value="g{shop.beijing}"' not in page.text
    assert f'value="c{shop.community_id}"' not in page.text
    assert (await guide.get(PAGE, params={"where": f"g{shop.beijing}"})).status_code == 403
    assert (await guide.get(PAGE, params={"where": f"c{shop.community_id}"})).status_code == 403
    assert (await guide.get(PAGE, params={"where": "g999999"})).status_code == 404
    assert (await guide.get(PAGE, params={"where": "x1"})).status_code == 422
    mine = await guide.get(PAGE, params={"where": f"g{shop.shanghai}", "metric": "nonsense"})
    assert rows(mine.text) == ["上海会员0"]

"""The member page: profile, accounts, every period in every visible group, the timeline."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Person
from qunyun.core.events import parse_event
from tests.factories import joined, message
from tests.web.pages.conftest import Shop


async def person_id(runtime: Runtime, name: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(Person.id).where(Person.display_name == name))
    assert found is not None
    return int(found)


async def test_profile_groups_history_and_timeline(owner: httpx.AsyncClient, runtime: Runtime,
                                                   shop: Shop) -> None:
    await runtime.pipeline.process(shop.org_id, [parse_event(e) for e in (
        joined("s4", name="上海会员4", group="sh1", minutes=-30),
        message("s4", text="我又回来了", group="sh1", minutes=-20),
        joined("s4", name="上海会员4", group="bj1", minutes=-10))])
    pid = await person_id(runtime, "上海会员4")
    response = await owner.get(f"/members/{pid}")
    assert response.status_code == 200, response.text
    html = response.text
    assert "<h1>上海会员4</h1>" in html
    assert "<code>s4</code>" in html  # the platform account
    shanghai = html[html.index(">上海一店会员群</a>"):html.index(">北京会员群</a>")]
    assert shanghai.count("<th scope=\"row\">") == 2  # left once, came back: two periods
    assert "quit" in shanghai
    timeline = html[html.index("Timeline") if "Timeline" in html else html.index("时间线"):]
    assert timeline.index("我又回来了") < timeline.index("大家好 4")


async def test_a_guide_sees_members_of_her_groups_only(guide: httpx.AsyncClient,
                                                       runtime: Runtime, shop: Shop) -> None:
    await runtime.pipeline.process(shop.org_id, [parse_event(e) for e in (
        joined("s1", name="上海会员1", group="bj1", minutes=-5),
        message("s1", text="北京这边也很热闹", group="bj1", minutes=-4))])
    shanghai = await guide.get(f"/members/{await person_id(runtime, '上海会员1')}")
    assert shanghai.status_code == 200
    assert "北京会员群" not in shanghai.text and "北京这边也很热闹" not in shanghai.text
    beijing = await guide.get(f"/members/{await person_id(runtime, '北京会员2')}")
    assert beijing.status_code == 403
    assert (await guide.get("/members/999999")).status_code == 404

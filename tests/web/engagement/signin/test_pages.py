"""/engagement/signin and the member panel: what an owner sees, what a guide may not."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Person
from qunyun.community.settings import do_set_layer
from qunyun.core.events import parse_event
from tests.conftest import START
from tests.factories import message
from tests.web.pages.conftest import Shop, csrf_of

DAY = 24 * 60


async def person_id(runtime: Runtime, name: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(Person.id).where(Person.display_name == name))
    assert found is not None
    return int(found)


@pytest.fixture
async def signed(runtime: Runtime, shop: Shop) -> Shop:
    """上海会员0 signed in yesterday and today (a 2-day streak), 上海会员1 today; 北京会员2 three
    days running in Beijing; 上海会员2 bought a card and filled the day before yesterday."""
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=shop.org_id, scope="organization",
                           scope_id=shop.org_id, feature="signin",
                           values={"makeup_card_price": 5}, at=START)
        await session.commit()
    events = [
        message("s0", "签到", group="sh1", minutes=-DAY - 60),
        message("s0", "签到", group="sh1", minutes=-60),
        message("s1", "打卡", group="sh1", minutes=-50),
        *(message("b2", "签到", group="bj1", minutes=-n * DAY - 30) for n in (2, 1, 0)),
        message("s2", "签到", group="sh1", minutes=-3 * DAY),
        message("s2", "签到", group="sh1", minutes=-DAY),
        message("s2", "买补签卡", group="sh1", minutes=-40),
        message("s2", "补签", group="sh1", minutes=-39),
    ]
    await runtime.pipeline.process(shop.org_id, [parse_event(e) for e in events])
    return shop


async def test_the_owner_sees_every_group_and_the_streaks(owner: httpx.AsyncClient,
                                                          signed: Shop) -> None:
    response = await owner.get("/engagement/signin")
    assert response.status_code == 200, response.text
    html = response.text
    assert "上海一店会员群" in html and "北京会员群" in html
    streaks = html[html.index('id="streaks"'):]
    assert streaks.index("北京会员2") < streaks.index("上海会员0")  # 3 days before 2
    assert "signin-trend-data" in html
    hub = await owner.get("/engagement")
    assert 'href="/engagement/signin"' in hub.text


async def test_a_guide_sees_her_groups_only(guide: httpx.AsyncClient, signed: Shop) -> None:
    response = await guide.get("/engagement/signin")
    assert response.status_code == 200
    assert "上海一店会员群" in response.text
    assert "北京会员群" not in response.text and "北京会员2" not in response.text


async def test_the_panel_shows_the_month(owner: httpx.AsyncClient, runtime: Runtime,
                                         signed: Shop) -> None:
    pid = await person_id(runtime, "上海会员2")
    response = await owner.get(f"/members/{pid}/panels/signin", headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text
    html = response.text
    assert html.count('class="signed') == 2 and html.count('class="filled') == 1
    assert "engagement-signin.css" in html and "month=2026-10" in html
    assert "month=2026-12" not in html  # no arrow into the future
    earlier = await owner.get(f"/members/{pid}/panels/signin?month=2026-10")
    assert earlier.status_code == 200 and 'class="signed' not in earlier.text
    assert "month=2026-11" in earlier.text
    assert (await owner.get(f"/members/{pid}/panels/signin?month=2026-13")).status_code == 422
    page = await owner.get(f"/members/{pid}")
    assert "/panels/signin" in page.text


async def test_the_panel_refuses_a_guide_outside_her_groups(guide: httpx.AsyncClient,
                                                            runtime: Runtime,
                                                            signed: Shop) -> None:
    beijing = await guide.get(f"/members/{await person_id(runtime, '北京会员2')}/panels/signin")
    assert beijing.status_code == 403
    assert "✓" not in beijing.text
    shanghai = await guide.get(f"/members/{await person_id(runtime, '上海会员0')}/panels/signin")
    assert shanghai.status_code == 200 and shanghai.text.count('class="signed') == 2
    assert (await guide.get("/members/999999/panels/signin")).status_code == 404


async def test_the_group_page_edits_the_streak_bonus(owner: httpx.AsyncClient,
                                                     shop: Shop) -> None:
    page = await owner.get(f"/groups/{shop.shanghai}")
    assert page.status_code == 200 and 'name="v.streak_bonus"' in page.text
    form = {"csrf_token": csrf_of(page.text), "v.streak_bonus": '{"1": 8}'}
    refused = await owner.post(f"/groups/{shop.shanghai}/settings/signin", data=form)
    assert refused.status_code == 422
    error = refused.text[refused.text.index('class="field-error"'):]
    assert "2" in error[:error.index("</p>")]  # "… at least 2: 1"
    form["v.streak_bonus"] = '{"5": 8}'
    saved = await owner.post(f"/groups/{shop.shanghai}/settings/signin", data=form)
    assert saved.status_code == 303
    again = await owner.get(f"/groups/{shop.shanghai}")
    assert "{&#34;5&#34;: 8}" in again.text or '{"5": 8}' in again.text

"""The overview lists the visible groups with their numbers; filters, sorting, search, paging,
scope and language."""

from __future__ import annotations

import json
import re

import httpx

from qunyun.app.bootstrap import Runtime
from qunyun.community.service import do_create_group
from qunyun.core.i18n import gettext
from tests.web.pages.conftest import Shop

ALL = {"上海一店会员群", "上海快闪群", "北京会员群", "训练营"}


def group_names(html: str) -> list[str]:
    """The group names in table order."""
    return re.findall(r'<th scope="row" class="col-name"><a href="/groups/\d+">([^<]+)</a>', html)


def row_of(html: str, group: str) -> str:
    start = html.index(f">{group}</a>")
    return html[start:html.index("</tr>", start)]


def cell(html: str, group: str, column: str) -> str:
    row = row_of(html, group)
    return re.search(rf'class="[^"]*col-{column}"[^>]*>([^<]*)<', row).group(1)  # type: ignore[union-attr]


async def names(client: httpx.AsyncClient, query: str = "") -> list[str]:
    response = await client.get(f"/overview?{query}")
    assert response.status_code == 200, response.text
    return group_names(response.text)


async def test_root_redirects_to_the_overview(owner: httpx.AsyncClient) -> None:
    response = await owner.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/overview"


async def test_every_group_with_its_numbers(owner: httpx.AsyncClient) -> None:
    html = (await owner.get("/overview")).text
    assert set(group_names(html)) == ALL
    assert group_names(html)[0] == "上海一店会员群"  # default: most messages in 7 days first
    assert cell(html, "上海一店会员群", "members") == "4"  # 5 joined, 1 left
    assert cell(html, "上海一店会员群", "messages") == "6"
    assert cell(html, "上海一店会员群", "speakers") == "5"
    assert (cell(html, "北京会员群", "joins"), cell(html, "北京会员群", "leaves")) == ("0", "2")
    assert "flag-shrinking" in row_of(html, "北京会员群")
    assert "flag-quiet" in row_of(html, "训练营")
    assert "flag-ok" in row_of(html, "上海一店会员群")


async def test_summary_cards_and_month_chart(owner: httpx.AsyncClient) -> None:
    page = (await owner.get("/overview?store=上海店")).text
    assert 'hx-get="/overview/summary?store=' in page and 'hx-trigger="load"' in page
    html = (await owner.get("/overview/summary", headers={"HX-Request": "true"})).text
    assert html.lstrip().startswith('<section id="overview-summary"')
    values = re.findall(r'<div class="card-value">([^<]+)</div>', html)
    assert values[:4] == ["4", "6", "7", "6"]  # groups, members now, messages 7d, speakers 7d
    chart = re.search(r'id="overview-month-data">(.*?)</script>', html, re.S)
    assert chart is not None
    spec = json.loads(chart.group(1))
    assert len(spec["x"]) == 30
    messages, joins, leaves = (s["data"] for s in spec["series"])
    assert (sum(messages), sum(joins), sum(leaves)) == (7, 9, 3)


async def test_filters_filter(owner: httpx.AsyncClient, shop: Shop) -> None:
    assert set(await names(owner, "store=上海店")) == {"上海一店会员群", "上海快闪群"}
    assert await names(owner, "purpose=course") == ["训练营"]
    assert await names(owner, "tag=北京") == ["北京会员群"]
    assert set(await names(owner, f"community={shop.community_id}")) == ALL
    assert await names(owner, "community=999999") == []
    assert await names(owner, "platform=qq") == []
    assert set(await names(owner, "platform=bridge")) == ALL
    assert await names(owner, "q=快闪") == ["上海快闪群"]
    assert await names(owner, "q=%25") == []  # a LIKE wildcard is searched for literally


async def test_sorting_by_columns(owner: httpx.AsyncClient) -> None:
    assert await names(owner, "sort=name&dir=asc") == sorted(ALL)
    assert await names(owner, "sort=name&dir=desc") == sorted(ALL, reverse=True)
    by_members = await names(owner, "sort=members")
    assert by_members[0] == "上海一店会员群" and by_members[-1] == "训练营"
    assert (await names(owner, "sort=leaves"))[0] == "北京会员群"
    by_health = await names(owner, "sort=health")  # the quietest first: never a message
    assert set(by_health[:2]) == {"训练营", "上海快闪群"} and by_health[-1] == "北京会员群"
    assert set(await names(owner, "sort=bogus&dir=sideways&page=x")) == ALL


async def test_htmx_gets_only_the_results(owner: httpx.AsyncClient) -> None:
    sorted_ = await owner.get("/overview?store=北京店&sort=name", headers={
        "HX-Request": "true", "HX-Target": "overview-results"})
    assert sorted_.status_code == 200
    assert "<html" not in sorted_.text and 'id="overview-filters"' not in sorted_.text
    assert group_names(sorted_.text) == ["北京会员群"]
    assert 'name="sort" value="name" form="overview-filters"' in sorted_.text
    assert "overview-summary" not in sorted_.text  # sorting leaves the totals alone
    filtered = await owner.get("/overview?store=北京店", headers={
        "HX-Request": "true", "HX-Target": "overview-results", "HX-Trigger": "overview-filters"})
    assert 'id="overview-summary"' in filtered.text and 'hx-swap-oob="true"' in filtered.text


async def test_without_javascript_the_totals_render_in_place(owner: httpx.AsyncClient) -> None:
    html = (await owner.get("/overview?summary=1")).text
    assert '<div class="card-value">4</div>' in html and 'hx-trigger="load"' not in html


async def test_pages_of_fifty(owner: httpx.AsyncClient, runtime: Runtime, shop: Shop) -> None:
    async with runtime.sessions() as session:
        for i in range(52):
            await do_create_group(session, org_id=shop.org_id, platform="qq",
                                  platform_id=f"q{i}", name=f"QQ群{i:02d}",
                                  at=runtime.clock.now())
        await session.commit()
    first = await names(owner, "sort=name&dir=asc")
    second = await names(owner, "sort=name&dir=asc&page=2")
    assert len(first) == 50 and len(second) == 6
    assert set(first) | set(second) == ALL | {f"QQ群{i:02d}" for i in range(52)}
    assert await names(owner, "sort=name&dir=asc&page=99") == second  # past the end: last page


async def test_a_guide_sees_her_store_only(guide: httpx.AsyncClient) -> None:
    html = (await guide.get("/overview")).text
    assert set(group_names(html)) == {"上海一店会员群", "上海快闪群"}
    assert "北京店" not in html  # not even in the filter menus
    assert await names(guide, "store=北京店") == []


async def test_not_signed_in_goes_to_the_login(owner: httpx.AsyncClient) -> None:
    owner.cookies.clear()
    response = await owner.get("/overview?store=x")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


async def test_language_switch(owner: httpx.AsyncClient) -> None:
    chinese = (await owner.get("/overview")).text
    assert '<html lang="zh-CN">' in chinese
    assert f"<h1>{gettext('Overview', 'zh_CN')}</h1>" in chinese
    switched = await owner.get("/lang/en", headers={"Referer": "http://test/overview?store=x"})
    assert switched.status_code == 303
    assert switched.headers["location"] == "/overview?store=x"
    english = (await owner.get("/overview")).text
    assert '<html lang="en">' in english and "<h1>Overview</h1>" in english
    assert 'href="/lang/zh_CN"' in english
    away = await owner.get("/lang/zh_CN", headers={"Referer": "https://evil.example/x"})
    assert away.headers["location"] == "/x"  # only ever back to this site


async def test_accept_language_without_cookie(owner: httpx.AsyncClient) -> None:
    html = (await owner.get("/overview", headers={"Accept-Language": "en-US,en;q=0.9"})).text
    assert '<html lang="en">' in html

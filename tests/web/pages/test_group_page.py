"""The group page: charts with data, members, events, access, and settings at the group layer."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.audit import AuditEntry
from qunyun.community.models import SettingsLayer
from tests.api.conftest import make_org
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client


def chart(html: str, name: str) -> dict[str, Any]:
    found = re.search(rf'id="group-{name}-data">(.*?)</script>', html, re.S)
    assert found is not None, name
    spec: dict[str, Any] = json.loads(found.group(1))
    return spec


async def test_charts_embed_thirty_days_of_data(owner: httpx.AsyncClient, shop: Shop) -> None:
    response = await owner.get(f"/groups/{shop.shanghai}")
    assert response.status_code == 200, response.text
    html = response.text
    activity = chart(html, "activity")
    assert len(activity["x"]) == 30
    messages, speakers = (s["data"] for s in activity["series"])
    assert (sum(messages), messages[-1], speakers[-1]) == (6, 6, 5)
    joins, leaves = (s["data"] for s in chart(html, "movement")["series"])
    assert (joins[-2], joins[-1], leaves[-1]) == (5, 0, 1)  # joined late yesterday, Shanghai time
    members = chart(html, "members")["series"][0]["data"]
    assert members[-3:] == [0, 5, 4]  # counted back from today's members
    assert "echarts-5.6.0.min.js" in html


async def test_members_events_and_header(owner: httpx.AsyncClient, shop: Shop) -> None:
    html = (await owner.get(f"/groups/{shop.shanghai}")).text
    assert "<h1>上海一店会员群</h1>" in html
    assert "米粉同城会" in html and "上海店" in html
    members = html[html.index('id="group-members"'):html.index('id="events"')]
    assert re.findall(r'href="/members/\d+" class="col-name">([^<]+)<', members) == [
        "上海会员3", "上海会员2", "上海会员1", "上海会员0"]  # newest first; 上海会员4 left
    events = html[html.index('id="events"'):html.index('id="actions"')]
    assert events.index("今天有活动吗") < events.index("大家好 4")  # newest first


async def test_member_list_pages_through_htmx(owner: httpx.AsyncClient, shop: Shop) -> None:
    response = await owner.get(f"/groups/{shop.shanghai}/members?page=1",
                               headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    assert "上海会员0" in response.text
    plain = await owner.get(f"/groups/{shop.shanghai}/members?page=2")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/groups/{shop.shanghai}?members_page=2#members"


async def test_a_guide_is_refused_another_store(guide: httpx.AsyncClient, shop: Shop) -> None:
    assert (await guide.get(f"/groups/{shop.shanghai}")).status_code == 200
    response = await guide.get(f"/groups/{shop.beijing}")
    assert response.status_code == 403
    assert "this group is outside your scope" in response.text or "范围" in response.text
    assert "北京会员群" not in response.text
    assert '<html lang="zh-CN">' in response.text


async def test_unknown_and_foreign_groups_are_not_found(owner: httpx.AsyncClient,
                                                        runtime: Runtime) -> None:
    assert (await owner.get("/groups/424242")).status_code == 404
    other = await make_org(runtime, "other", "别家")
    async with await signed_in_client(runtime, other, "other-owner", "owner") as stranger:
        response = await stranger.get("/groups/1")
    assert response.status_code == 404
    assert (await owner.get("/groups/abc")).status_code == 400


async def post_setting(client: httpx.AsyncClient, group_id: int, section: str,
                       data: dict[str, str], **headers: str) -> httpx.Response:
    page = (await client.get(f"/groups/{group_id}")).text
    return await client.post(f"/groups/{group_id}/settings/{section}",
                             data={"csrf_token": csrf_of(page), **data}, headers=headers)


async def test_a_bad_setting_is_explained_and_kept(owner: httpx.AsyncClient, shop: Shop,
                                                   runtime: Runtime) -> None:
    response = await post_setting(owner, shop.shanghai, "community",
                                  {"v.timezone": "Mars/Olympus", "v.language": "zh_CN"})
    assert response.status_code == 422
    html = response.text
    row = html[html.index('id="s-community-timezone"'):]
    assert 'value="Mars/Olympus"' in row[:200] and 'aria-invalid="true"' in row[:300]
    error = re.search(r'id="s-community-timezone-error"[^>]*>([^<]+)<', html)
    assert error is not None and "Mars/Olympus" in error.group(1)
    stats = await post_setting(owner, shop.shanghai, "stats", {"v.enabled": "maybe"})
    assert stats.status_code == 422 and 'id="s-stats-enabled-error"' in stats.text
    async with runtime.sessions() as session:
        assert (await session.scalars(select(SettingsLayer))).all() == []
        assert (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "settings.set"))).all() == []


async def test_a_good_setting_is_saved_at_the_group_layer(owner: httpx.AsyncClient, shop: Shop,
                                                          runtime: Runtime) -> None:
    response = await post_setting(owner, shop.shanghai, "echo",
                                  {"v.enabled": "true", "v.answer": "乓"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/groups/{shop.shanghai}?saved=echo#settings-echo"
    html = (await owner.get(response.headers["location"])).text
    row = html[html.index('id="s-echo-answer"'):]
    assert 'value="乓"' in row[:200] and "badge-source-group" in row[:1500]
    assert "badge-source-default" in html[html.index('id="s-echo-enabled"'):][:1500]
    async with runtime.sessions() as session:
        layer = await session.scalar(select(SettingsLayer))
        entry = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "settings.set"))
    assert layer is not None and (layer.scope, layer.feature) == ("group", "echo")
    assert layer.values == {"answer": "乓"}  # only what changed: enabled still inherits
    assert entry is not None and entry.actor == "staff:hq-owner"
    assert entry.after == {"section": "echo", "values": {"answer": "乓"}}
    reset = await post_setting(owner, shop.shanghai, "echo", {"unset.answer": "1"})
    assert reset.status_code == 303
    async with runtime.sessions() as session:
        layer = await session.scalar(select(SettingsLayer))
    assert layer is not None and layer.values == {}


async def test_settings_need_configure_and_csrf(runtime: Runtime, shop: Shop,
                                                owner: httpx.AsyncClient) -> None:
    scope = Scope(whole_org=False, stores=frozenset({"上海店"}))
    async with await signed_in_client(runtime, shop.org_id, "sh-viewer", "viewer",
                                      scope) as viewer:
        page = (await viewer.get(f"/groups/{shop.shanghai}")).text
        assert "Save for this group" not in page or "disabled" in page
        refused = await post_setting(viewer, shop.shanghai, "echo", {"v.answer": "x"})
    assert refused.status_code == 403
    no_token = await owner.post(f"/groups/{shop.shanghai}/settings/echo",
                                data={"v.answer": "x"})
    assert no_token.status_code == 403
    async with runtime.sessions() as session:
        assert (await session.scalars(select(SettingsLayer))).all() == []

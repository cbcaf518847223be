"""The playground list: the groups one may see, and creating a playground group."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.audit import AuditEntry
from qunyun.community.models import Group
from tests.web.playground.conftest import Place, csrf_of


async def test_the_list_shows_playground_groups_only(owner: httpx.AsyncClient) -> None:
    page = await owner.get("/playground")
    assert page.status_code == 200
    assert "上海试玩群" in page.text and "北京试玩群" in page.text
    assert "桥接群" not in page.text  # a bridge group is no playground


async def test_a_guide_sees_her_stores_groups(guide: httpx.AsyncClient) -> None:
    page = await guide.get("/playground")
    assert "上海试玩群" in page.text
    assert "北京试玩群" not in page.text


async def test_creating_a_group_opens_its_chat(owner: httpx.AsyncClient, runtime: Runtime,
                                               place: Place) -> None:
    page = await owner.get("/playground")
    response = await owner.post("/playground", data={
        "csrf_token": csrf_of(page.text), "name": "新品体验群", "purpose": "conversion",
        "store": "上海店", "community": str(place.community_id)})
    assert response.status_code == 303
    async with runtime.sessions() as session:
        group = await session.scalar(select(Group).where(Group.name == "新品体验群"))
        assert group is not None
        entry = await session.scalar(select(AuditEntry).where(
            AuditEntry.action == "playground.group.create"))
    assert response.headers["location"] == f"/playground/{group.id}"
    assert (group.platform, group.purpose, group.store, group.community_id) == (
        "playground", "conversion", "上海店", place.community_id)
    assert group.platform_id.startswith("pg-")
    assert entry is not None and entry.after is not None and entry.after["name"] == "新品体验群"


async def test_a_bad_form_says_what_is_wrong_and_keeps_the_input(
        owner: httpx.AsyncClient, runtime: Runtime) -> None:
    page = await owner.get("/playground", headers={"Accept-Language": "en"})
    response = await owner.post("/playground", headers={"Accept-Language": "en"}, data={
        "csrf_token": csrf_of(page.text), "name": "", "purpose": "nonsense", "store": "某店"})
    assert response.status_code == 422
    assert "a group needs a name" in response.text
    assert "choose a type" in response.text
    assert 'value="某店"' in response.text
    async with runtime.sessions() as session:
        assert await session.scalar(select(Group.id).where(Group.store == "某店")) is None


async def test_a_guide_may_not_create_outside_her_stores(guide: httpx.AsyncClient,
                                                         runtime: Runtime) -> None:
    page = await guide.get("/playground")
    response = await guide.post("/playground", data={
        "csrf_token": csrf_of(page.text), "name": "越界群", "purpose": "member",
        "store": "北京店"})
    assert response.status_code == 403
    assert 'value="越界群"' in response.text
    async with runtime.sessions() as session:
        assert await session.scalar(select(Group.id).where(Group.name == "越界群")) is None
    page = await guide.get("/playground")
    ok = await guide.post("/playground", data={
        "csrf_token": csrf_of(page.text), "name": "上海新群", "purpose": "member",
        "store": "上海店"})
    assert ok.status_code == 303


async def test_creating_needs_the_csrf_token_and_the_act_permission(
        owner: httpx.AsyncClient, viewer: httpx.AsyncClient, runtime: Runtime) -> None:
    refused = await owner.post("/playground", data={"name": "x", "purpose": "member"})
    assert refused.status_code == 403
    page = await viewer.get("/playground")
    assert 'action="/playground"' not in page.text  # no form for a viewer
    response = await viewer.post("/playground", data={
        "csrf_token": csrf_of(page.text), "name": "看客群", "purpose": "member"})
    assert response.status_code == 403
    async with runtime.sessions() as session:
        assert await session.scalar(select(Group.id).where(Group.name.in_(["x", "看客群"]))) \
            is None

"""API tokens carry a role and a scope like staff: a guide's token for one store cannot reach
another store's groups, and writes outside its scope change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from qunyun.api import create_app
from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.models import Group
from qunyun.community.staff_service import cli_principal
from qunyun.community.tokens import do_create_scoped_token
from qunyun.pipeline.models import ActionRecord, StaffTask
from tests.web.auth.conftest import SHANGHAI, Org


async def bearer(runtime: Runtime, org_id: int, role: str, scope: Scope) -> dict[str, str]:
    async with runtime.sessions() as session:
        token = await do_create_scoped_token(session, principal=cli_principal(org_id),
                                             name=f"{role} token", kind="api", role=role,
                                             scope=scope, at=runtime.clock.now())
        await session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _task(runtime: Runtime, org_id: int, group_id: int) -> int:
    """A staff task in the group, as the pipeline leaves one for an action it cannot deliver."""
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        action = ActionRecord(id=f"act-{group_id}", org_id=org_id, group_id=group_id,
                              platform="bridge", type="kick_member", data={}, caused_by="test",
                              feature="test", status="task", created_at=now)
        session.add(action)
        await session.flush()
        task = StaffTask(org_id=org_id, group_id=group_id, action_seq=action.seq,
                         kind="kick_member", content="", reason="test", status="open",
                         created_at=now)
        session.add(task)
        await session.commit()
        return task.id


async def test_a_store_guide_token_sees_its_store_only(runtime: Runtime, org: Org,
                                                       api: httpx.AsyncClient) -> None:
    headers = await bearer(runtime, org.org_id, "guide", SHANGHAI)
    listed = await api.get("/api/v1/groups", headers=headers)
    assert {g["id"] for g in listed.json()["items"]} == {org.shanghai, org.popup}
    assert (await api.get(f"/api/v1/groups/{org.shanghai}", headers=headers)).status_code == 200
    other = await api.get(f"/api/v1/groups/{org.beijing}", headers=headers)
    assert other.status_code == 403 and other.json()["code"] == "forbidden"
    members = await api.get(f"/api/v1/groups/{org.beijing}/members", headers=headers)
    assert members.status_code == 403
    assert (await api.get("/api/v1/groups/99999", headers=headers)).status_code == 404
    assert (await api.get("/api/v1/failures", headers=headers)).status_code == 403


async def test_writes_outside_the_scope_change_nothing(runtime: Runtime, org: Org,
                                                       api: httpx.AsyncClient) -> None:
    headers = await bearer(runtime, org.org_id, "guide", SHANGHAI)
    theirs = await _task(runtime, org.org_id, org.beijing)
    ours = await _task(runtime, org.org_id, org.shanghai)
    refused = await api.post(f"/api/v1/tasks/{theirs}/done", headers=headers)
    assert refused.status_code == 403
    listed = await api.get("/api/v1/tasks", headers=headers)
    assert [t["id"] for t in listed.json()["items"]] == [ours]
    assert (await api.post(f"/api/v1/tasks/{ours}/done", headers=headers)).status_code == 200
    created = await api.post("/api/v1/groups", headers=headers, json={
        "platform": "bridge", "platform_id": "bj9", "name": "新群", "store": "北京店"})
    assert created.status_code == 403  # a guide may not configure
    async with runtime.sessions() as session:
        task = await session.get(StaffTask, theirs)
        assert task is not None and task.status == "open"
        assert await session.scalar(select(func.count()).select_from(Group)) == 3


async def test_a_scoped_operator_creates_groups_in_its_scope_only(
        runtime: Runtime, org: Org, api: httpx.AsyncClient) -> None:
    headers = await bearer(runtime, org.org_id, "operator", SHANGHAI)
    outside = await api.post("/api/v1/groups", headers=headers, json={
        "platform": "bridge", "platform_id": "bj9", "name": "新群", "store": "北京店"})
    assert outside.status_code == 403
    inside = await api.post("/api/v1/groups", headers=headers, json={
        "platform": "bridge", "platform_id": "sh9", "name": "新群", "store": "上海店"})
    assert inside.status_code == 201
    viewer = await bearer(runtime, org.org_id, "viewer", SHANGHAI)
    ours = await _task(runtime, org.org_id, org.shanghai)
    assert (await api.post(f"/api/v1/tasks/{ours}/done", headers=viewer)).status_code == 403

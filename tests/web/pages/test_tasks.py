"""Staff tasks: open ones in visible groups, content to copy, marking done (CSRF, ACT, audit)."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.access import Scope
from qunyun.community.audit import AuditEntry
from qunyun.pipeline.models import ActionRecord, StaffTask
from tests.web.pages.conftest import Shop, csrf_of, signed_in_client


async def add_task(runtime: Runtime, shop: Shop, group_id: int, content: str) -> int:
    now: datetime = runtime.clock.now()
    async with runtime.sessions() as session:
        action = ActionRecord(id=f"a-{group_id}-{len(content)}", org_id=shop.org_id,
                              group_id=group_id, platform="bridge", type="group.announce",
                              data={"text": content}, caused_by="test", feature="test",
                              status="task", attempts=0, created_at=now)
        session.add(action)
        await session.flush()
        task = StaffTask(org_id=shop.org_id, group_id=group_id, action_seq=action.seq,
                         kind="group.announce", content=content, assignee_role="owner",
                         reason="the platform cannot perform this action", status="open",
                         created_at=now)
        session.add(task)
        await session.commit()
        return task.id


async def test_open_tasks_with_content_to_copy(owner: httpx.AsyncClient, runtime: Runtime,
                                               shop: Shop) -> None:
    task = await add_task(runtime, shop, shop.shanghai, "周六 10 点门店活动，欢迎来玩")
    await add_task(runtime, shop, shop.beijing, "北京店群公告")
    html = (await owner.get("/tasks")).text
    assert f'id="task-{task}-content">周六 10 点门店活动，欢迎来玩</pre>' in html
    assert f'data-copy="task-{task}-content"' in html
    assert "北京店群公告" in html
    group_page = (await owner.get(f"/groups/{shop.shanghai}")).text
    assert "周六 10 点门店活动" in group_page and "北京店群公告" not in group_page


async def test_marking_done_is_audited(guide: httpx.AsyncClient, runtime: Runtime,
                                       shop: Shop) -> None:
    mine = await add_task(runtime, shop, shop.shanghai, "上海店公告")
    other = await add_task(runtime, shop, shop.beijing, "北京店公告")
    page = (await guide.get("/tasks")).text
    assert "上海店公告" in page and "北京店公告" not in page
    token = csrf_of(page)
    refused = await guide.post(f"/tasks/{other}/done", data={"csrf_token": token})
    assert refused.status_code == 403
    no_csrf = await guide.post(f"/tasks/{mine}/done", data={})
    assert no_csrf.status_code == 403
    done = await guide.post(f"/tasks/{mine}/done", data={"csrf_token": token},
                            headers={"Referer": "http://test/tasks"})
    assert done.status_code == 303 and done.headers["location"] == "/tasks"
    async with runtime.sessions() as session:
        tasks = {t.id: t for t in await session.scalars(select(StaffTask))}
        entries = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "task.done"))).all()
    assert (tasks[mine].status, tasks[mine].done_by) == ("done", "staff:sh-guide")
    assert tasks[other].status == "open"
    assert [(e.target_id, e.before["status"], e.after["status"]) for e in entries] == [
        (str(mine), "open", "done")]
    assert "上海店公告" not in (await guide.get("/tasks")).text
    assert "上海店公告" in (await guide.get("/tasks?status=done")).text


async def test_htmx_mark_done_returns_the_task(owner: httpx.AsyncClient, runtime: Runtime,
                                               shop: Shop) -> None:
    task = await add_task(runtime, shop, shop.popup, "快闪群提醒")
    token = csrf_of((await owner.get("/tasks")).text)
    response = await owner.post(f"/tasks/{task}/done",
                                headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<article class="task" id="task-{task}">')
    assert "badge-done" in response.text and "Mark done" not in response.text


async def test_a_viewer_cannot_mark_done(runtime: Runtime, shop: Shop) -> None:
    task = await add_task(runtime, shop, shop.shanghai, "只能看")
    async with await signed_in_client(runtime, shop.org_id, "looker", "viewer",
                                      Scope()) as viewer:
        page = (await viewer.get("/tasks")).text
        assert "只能看" in page and f'action="/tasks/{task}/done"' not in page
        refused = await viewer.post(f"/tasks/{task}/done", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403

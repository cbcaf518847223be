"""Staff tasks: what a platform could not do by itself, ready to copy; marking one done.

Marking done needs the ACT permission on the task's group and the CSRF token; it is audited.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from qunyun.api.deps import RuntimeDep, SessionDep
from qunyun.api.tasks import do_mark_task_done
from qunyun.community.access import ACT, VIEW
from qunyun.community.audit import do_record
from qunyun.community.models import Group
from qunyun.web.deps import VerifiedCsrf
from qunyun.web.locale import safe_return_path
from qunyun.web.task_data import DONE, OPEN, TASKS_PAGE_SIZE, TaskRow, access_task, visible_tasks
from qunyun.web.templating import is_htmx
from qunyun.web.viewer import ViewerDep, render_page

router = APIRouter(include_in_schema=False)


@router.get("/tasks", response_class=HTMLResponse)
async def tasks_page(request: Request, viewer: ViewerDep, session: SessionDep) -> HTMLResponse:
    viewer.principal.require(VIEW)
    status = DONE if request.query_params.get("status") == DONE else OPEN
    raw_page = request.query_params.get("page", "")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    rows, total = await visible_tasks(session, viewer.principal, status=status, page=page)
    return render_page(request, viewer, "tasks/page.html", {
        "tasks": rows, "total": total, "status": status, "page": page,
        "pages": max(1, -(-total // TASKS_PAGE_SIZE)), "show_group": True})


@router.post("/tasks/{task_id}/done", response_class=HTMLResponse)
async def mark_done(task_id: int, request: Request, viewer: ViewerDep, session: SessionDep,
                    runtime: RuntimeDep, _csrf: VerifiedCsrf) -> Response:
    principal = viewer.principal
    task = await access_task(session, principal, task_id, ACT)
    before = {"status": task.status, "done_at": None, "done_by": task.done_by}
    now = runtime.clock.now()
    task = await do_mark_task_done(session, org_id=principal.org_id, task_id=task.id,
                                   by=principal.actor, at=now)
    if before["status"] != DONE:
        await do_record(session, principal=principal, action="task.done", target_type="task",
                        target_id=task.id, before=before,
                        after={"status": task.status, "done_at": task.done_at.isoformat()
                               if task.done_at else None, "done_by": task.done_by}, at=now)
    await session.commit()
    if is_htmx(request):
        group = await session.get(Group, task.group_id) if task.group_id else None
        return render_page(request, viewer, "tasks/_task.html", {
            "item": TaskRow(task, group.name if group else None),
            "show_group": request.query_params.get("in") != "group"})
    back = safe_return_path(request.headers.get("referer"), "/tasks")
    return RedirectResponse(back, status_code=303)

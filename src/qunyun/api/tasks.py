"""Staff tasks: actions a platform could not perform, for a person to do by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.deps import ApiCaller, RuntimeDep, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import TaskOut
from qunyun.api.scoping import in_scope
from qunyun.community.access import ACT, Principal, access_group
from qunyun.core.errors import Forbidden, NotFound
from qunyun.pipeline.models import StaffTask

router = APIRouter(tags=["tasks"])

DONE = "done"


@router.get("/tasks")
async def list_tasks(caller: ApiCaller, session: SessionDep, page: PageDep,
                     status: Literal["open", "done"] | None = None,
                     group_id: int | None = None) -> Page[TaskOut]:
    query = select(StaffTask).where(StaffTask.org_id == caller.org_id,
                                    in_scope(caller, StaffTask.group_id))
    if status:
        query = query.where(StaffTask.status == status)
    if group_id is not None:
        query = query.where(StaffTask.group_id == group_id)
    rows, total = await fetch_scalars(session, query.order_by(StaffTask.id), page)
    return Page(items=[TaskOut.model_validate(r) for r in rows], total=total)


async def do_mark_task_done(session: AsyncSession, *, org_id: int, task_id: int, by: str,
                            at: datetime, caller: Principal | None = None) -> StaffTask:
    """Mark a task done; a task done already keeps its first `done_at` and `done_by`.

    With a `caller`, the task's group must be one the caller may act in."""
    task = await session.scalar(select(StaffTask).where(StaffTask.org_id == org_id,
                                                        StaffTask.id == task_id))
    if task is None:
        raise NotFound("no such task: {id}", id=task_id)
    if caller is not None:
        await _check_may_act(session, caller, task)
    if task.status != DONE:
        task.status, task.done_at, task.done_by = DONE, at, by
        await session.flush()
    return task


async def _check_may_act(session: AsyncSession, caller: Principal, task: StaffTask) -> None:
    if task.group_id is not None:
        await access_group(session, caller, task.group_id, ACT)
    elif not caller.scope.whole_org:
        raise Forbidden("this task is outside your scope")
    else:
        caller.require(ACT)


@router.post("/tasks/{task_id}/done")
async def mark_task_done(task_id: int, caller: ApiCaller, session: SessionDep,
                         runtime: RuntimeDep) -> TaskOut:
    task = await do_mark_task_done(session, org_id=caller.org_id, task_id=task_id,
                                   by=caller.name, at=runtime.clock.now(), caller=caller)
    await session.commit()
    return TaskOut.model_validate(task)

"""Staff tasks as the dashboard reads them: those of the groups a principal may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal, access_group
from qunyun.community.models import Group
from qunyun.core.errors import Forbidden, NotFound
from qunyun.pipeline.models import StaffTask

OPEN = "open"
DONE = "done"
TASKS_PAGE_SIZE = 50
GROUP_TASKS_LIMIT = 30


@dataclass(frozen=True, slots=True)
class TaskRow:
    task: StaffTask
    group_name: str | None


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Tasks of visible groups; tasks of no group only for those who see the whole org."""
    without_group = and_(StaffTask.group_id.is_(None),
                         true() if principal.scope.whole_org else false())
    return and_(StaffTask.org_id == principal.org_id,
                or_(without_group, principal.group_clause()))


async def visible_tasks(session: AsyncSession, principal: Principal, *, status: str,
                        page: int) -> tuple[list[TaskRow], int]:
    """One page of the tasks with `status`: open ones oldest first, done ones newest first."""
    base = (select(StaffTask, Group.name).outerjoin(Group, Group.id == StaffTask.group_id)
            .where(_visible(principal), StaffTask.status == status))
    order = StaffTask.id.asc() if status == OPEN else StaffTask.id.desc()
    rows = await session.execute(base.order_by(order).limit(TASKS_PAGE_SIZE)
                                 .offset((page - 1) * TASKS_PAGE_SIZE))
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    return [TaskRow(task, name) for task, name in rows], int(total or 0)


async def group_tasks(session: AsyncSession, group: Group) -> list[TaskRow]:
    """A group's open tasks, then its latest done ones."""
    tasks = await session.scalars(
        select(StaffTask).where(StaffTask.group_id == group.id)
        .order_by((StaffTask.status == OPEN).desc(), StaffTask.id.desc())
        .limit(GROUP_TASKS_LIMIT))
    return [TaskRow(task, group.name) for task in tasks]


async def access_task(session: AsyncSession, principal: Principal, task_id: int,
                      permission: str) -> StaffTask:
    """The task, if the principal may `permission` its group (NotFound for another org's)."""
    task = await session.scalar(select(StaffTask).where(StaffTask.org_id == principal.org_id,
                                                        StaffTask.id == task_id))
    if task is None:
        raise NotFound("no such task: {id}", id=task_id)
    if task.group_id is not None:
        await access_group(session, principal, task.group_id, permission)
    elif not principal.scope.whole_org:
        raise Forbidden("this task is outside your scope")
    else:
        principal.require(permission)
    return task

"""The outbox as the API sees it: actions and their delivery state."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from qunyun.api.deps import ApiCaller, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import ActionOut
from qunyun.api.scoping import in_scope
from qunyun.core.errors import NotFound
from qunyun.pipeline.models import ActionRecord

router = APIRouter(tags=["actions"])


@router.get("/actions")
async def list_actions(caller: ApiCaller, session: SessionDep, page: PageDep,
                       status: str | None = None, group_id: int | None = None,
                       platform: str | None = None) -> Page[ActionOut]:
    query = select(ActionRecord).where(ActionRecord.org_id == caller.org_id,
                                       in_scope(caller, ActionRecord.group_id))
    if status:
        query = query.where(ActionRecord.status == status)
    if group_id is not None:
        query = query.where(ActionRecord.group_id == group_id)
    if platform:
        query = query.where(ActionRecord.platform == platform)
    rows, total = await fetch_scalars(session, query.order_by(ActionRecord.seq), page)
    return Page(items=[ActionOut.model_validate(r) for r in rows], total=total)


@router.get("/actions/{action_id}")
async def get_action(action_id: str, caller: ApiCaller, session: SessionDep) -> ActionOut:
    """One action by its id: status, attempts, last error, next attempt, when it finished."""
    row = await session.scalar(select(ActionRecord).where(ActionRecord.org_id == caller.org_id,
                                                          ActionRecord.id == action_id,
                                                          in_scope(caller, ActionRecord.group_id)))
    if row is None:
        raise NotFound("no such action: {id}", id=action_id)
    return ActionOut.model_validate(row)

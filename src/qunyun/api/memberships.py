"""`GET /memberships`: membership periods, filtered by group, person and status."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from qunyun.api.deps import ApiCaller, SessionDep
from qunyun.api.pagination import Page, PageDep, fetch_scalars
from qunyun.api.schemas import MembershipOut
from qunyun.api.scoping import in_scope
from qunyun.community.models import Membership

router = APIRouter(tags=["memberships"])


@router.get("/memberships")
async def list_memberships(caller: ApiCaller, session: SessionDep, page: PageDep,
                           group_id: int | None = None, person_id: int | None = None,
                           status: str | None = None) -> Page[MembershipOut]:
    query = select(Membership).where(Membership.org_id == caller.org_id,
                                     in_scope(caller, Membership.group_id))
    if group_id is not None:
        query = query.where(Membership.group_id == group_id)
    if person_id is not None:
        query = query.where(Membership.person_id == person_id)
    if status:
        query = query.where(Membership.status == status)
    rows, total = await fetch_scalars(session, query.order_by(Membership.id), page)
    return Page(items=[MembershipOut.model_validate(m) for m in rows], total=total)

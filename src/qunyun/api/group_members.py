"""`GET /groups/{id}/members`: the memberships of one group, with each person's name."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from qunyun.api.deps import ApiCaller, SessionDep
from qunyun.api.groups import access_group
from qunyun.api.pagination import Page, PageDep, fetch_rows
from qunyun.api.schemas import GroupMemberOut
from qunyun.community.models import Membership, Person

router = APIRouter(tags=["groups"])


@router.get("/groups/{group_id}/members")
async def list_group_members(group_id: int, caller: ApiCaller, session: SessionDep,
                             page: PageDep, status: str | None = None) -> Page[GroupMemberOut]:
    group = await access_group(session, caller, group_id)
    query = (select(Membership, Person.display_name)
             .join(Person, Person.id == Membership.person_id)
             .where(Membership.org_id == caller.org_id, Membership.group_id == group.id))
    if status:
        query = query.where(Membership.status == status)
    rows, total = await fetch_rows(session, query.order_by(Membership.id), page)
    items = [GroupMemberOut(
        membership_id=m.id, person_id=m.person_id, name=name, role=m.role, status=m.status,
        member_no=m.member_no, joined_at=m.joined_at, left_at=m.left_at,
        last_active_at=m.last_active_at, message_count=m.message_count) for m, name in rows]
    return Page(items=items, total=total)

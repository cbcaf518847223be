"""Read-side queries of the community model shared by the CLI, the API and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group, Membership, Person
from qunyun.core.errors import InvalidInput, NotFound


def group_query(org_id: int, ref: str) -> Select[Group]:
    """The organization's group named by `platform:platform_id` or by its number."""
    query = select(Group).where(Group.org_id == org_id)
    platform, colon, platform_id = ref.strip().partition(":")
    if colon:
        return query.where(Group.platform == platform, Group.platform_id == platform_id)
    if platform.isdigit():
        return query.where(Group.id == int(platform))
    raise InvalidInput("name a group as platform:id or by its number, not {group}", group=ref)


async def find_group(session: AsyncSession, org_id: int, ref: str) -> Group:
    """A group by `platform:platform_id` or by its number; NotFound if the org has none."""
    group = await session.scalar(group_query(org_id, ref))
    if group is None:
        raise NotFound("no group {group} in this organization", group=ref)
    return group


@dataclass(frozen=True, slots=True)
class MemberRow:
    person_id: int
    name: str
    role: str
    status: str
    member_no: int | None
    joined_at: datetime | None
    left_at: datetime | None
    last_active_at: datetime | None
    message_count: int


async def list_members(session: AsyncSession, *, group_id: int, status: str | None = None,
                       limit: int | None = None, offset: int = 0) -> list[MemberRow]:
    """Membership periods of a group, newest first (a re-joined member appears once per period)."""
    query = (select(Membership, Person.display_name)
             .join(Person, Person.id == Membership.person_id)
             .where(Membership.group_id == group_id)
             .order_by(Membership.id.desc()).offset(offset))
    if status:
        query = query.where(Membership.status == status)
    if limit:
        query = query.limit(limit)
    rows = await session.execute(query)
    return [MemberRow(m.person_id, name, m.role, m.status, m.member_no, m.joined_at, m.left_at,
                      m.last_active_at, m.message_count) for m, name in rows]

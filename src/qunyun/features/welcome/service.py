"""Who to welcome, read from the community tables when a window closes (no state of our own)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Community, Membership, PlatformAccount
from qunyun.community.roles import MEMBERSHIP_ACTIVE


@dataclass(frozen=True, slots=True)
class Newcomer:
    person_id: int
    member: str  # the platform user id, for a private message
    name: str
    member_no: int | None


async def newcomers(session: AsyncSession, *, group_id: int, platform: str, start: datetime,
                    end: datetime) -> list[Newcomer]:
    """Members whose period in the group opened by a join in [start, end) and is still open,
    in order of joining; each person once."""
    rows = await session.execute(_NEWCOMERS, {"group_id": group_id, "platform": platform,
                                              "start": start, "end": end})
    found: dict[int, Newcomer] = {}
    for person_id, member_no, member, name in rows:
        found.setdefault(person_id, Newcomer(person_id, member, name or member, member_no))
    return list(found.values())


def _newcomers_statement() -> Select[int, int | None, str, str]:
    """The query of `newcomers`, its values as parameters: built once (building it costs
    more than running it; a window's welcome runs it once). On the tables, not the models:
    a Core query runs with less of SQLAlchemy's work than an ORM one."""
    membership, account = Membership.__table__.c, PlatformAccount.__table__.c
    return (select(membership.person_id, membership.member_no,
                   account.platform_user_id, account.display_name)
            .join(PlatformAccount.__table__, (account.person_id == membership.person_id)
                  & (account.platform == bindparam("platform")))
            .where(membership.group_id == bindparam("group_id"),
                   membership.status == MEMBERSHIP_ACTIVE,
                   membership.seen_before_join.is_(False),
                   membership.joined_at >= bindparam("start"),
                   membership.joined_at < bindparam("end"))
            .order_by(membership.joined_at, membership.id, account.id))


_NEWCOMERS = _newcomers_statement()


async def member_numbers(session: AsyncSession, *, group_id: int,
                         people: list[Newcomer]) -> dict[int, int]:
    """Each newcomer's number: the community's (编号) where it gave one, else their place of
    arrival in the group."""
    missing = [p.person_id for p in people if p.member_no is None]
    arrival = await arrival_numbers(session, group_id=group_id, person_ids=missing) \
        if missing else {}
    return {p.person_id: p.member_no if p.member_no is not None else arrival[p.person_id]
            for p in people}


async def arrival_numbers(session: AsyncSession, *, group_id: int,
                          person_ids: Collection[int]) -> dict[int, int]:
    """Each person's place among everyone who has been in the group, by their first period."""
    firsts = (select(Membership.person_id, func.min(Membership.id).label("first"))
              .where(Membership.group_id == group_id)
              .group_by(Membership.person_id).subquery())
    ranked = select(firsts.c.person_id,
                    func.row_number().over(order_by=firsts.c.first).label("number")).subquery()
    rows = await session.execute(select(ranked.c.person_id, ranked.c.number)
                                 .where(ranked.c.person_id.in_(set(person_ids))))
    return {person_id: number for person_id, number in rows}


async def community_rules(session: AsyncSession, community_id: int | None) -> str:
    if community_id is None:
        return ""
    return await session.scalar(select(Community.rules).where(Community.id == community_id)) or ""

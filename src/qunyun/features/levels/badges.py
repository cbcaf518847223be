"""The badge rules that read the points ledger and the memberships, in bulk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group, Membership
from qunyun.db.dialect import among
from qunyun.features.levels.ladder import STREAK_DAYS
from qunyun.points.models import PointsEntry

SIGNIN = "signin"  # the ledger reason of a daily sign-in
CHUNK = 500
Key = tuple[int, int]  # (community_id, person_id)


@dataclass(frozen=True, slots=True)
class Signin:
    at: datetime
    group_id: int | None


async def signins_since(session: AsyncSession, keys: list[Key],
                        since: datetime) -> dict[Key, list[Signin]]:
    """The sign-ins of `keys` since `since`."""
    found: dict[Key, list[Signin]] = {}
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        rows = await session.execute(
            select(PointsEntry.community_id, PointsEntry.person_id, PointsEntry.created_at,
                   PointsEntry.group_id)
            .where(among(session, PointsEntry.community_id, PointsEntry.person_id,
                         values=ordered[start:start + CHUNK]),
                   PointsEntry.created_at >= since, PointsEntry.reason == SIGNIN))
        for community, person, at, group in rows:
            found.setdefault((community, person), []).append(Signin(at, group))
    return found


def streak_complete(days: set[date], today: date) -> bool:
    return all(today - timedelta(days=n) in days for n in range(STREAK_DAYS))


async def first_signers(session: AsyncSession, group_ids: list[int], start: datetime,
                        end: datetime) -> dict[int, int]:
    """Who signed in first in each group between start and end: group -> person."""
    place = func.row_number().over(partition_by=PointsEntry.group_id,
                                   order_by=(PointsEntry.created_at, PointsEntry.id))
    ranked = (select(PointsEntry.group_id, PointsEntry.person_id, place.label("place"))
              .where(PointsEntry.group_id.in_(sorted(group_ids)), PointsEntry.reason == SIGNIN,
                     PointsEntry.created_at >= start, PointsEntry.created_at < end)
              .subquery())
    rows = await session.execute(select(ranked.c.group_id, ranked.c.person_id)
                                 .where(ranked.c.place == 1))
    return {group: person for group, person in rows if group is not None}


@dataclass(frozen=True, slots=True)
class Inviter:
    person_id: int
    invited: int


async def top_inviters(session: AsyncSession, *, community_id: int, start: datetime,
                       end: datetime) -> list[Inviter]:
    """Whoever brought the most people into the community's groups between start and end
    (everyone tied at the top), counting each invited person once."""
    invited = func.count(func.distinct(Membership.person_id))
    rows = [(int(p or 0), int(c)) for p, c in (await session.execute(
        select(Membership.inviter_person_id, invited)
        .join(Group, Group.id == Membership.group_id)
        .where(Group.community_id == community_id, Membership.inviter_person_id.is_not(None),
               Membership.inviter_person_id != Membership.person_id,
               Membership.joined_at >= start, Membership.joined_at < end)
        .group_by(Membership.inviter_person_id))).all()]
    if not rows:
        return []
    best = max(count for _, count in rows)
    return sorted((Inviter(p, c) for p, c in rows if c == best),
                  key=lambda i: i.person_id)

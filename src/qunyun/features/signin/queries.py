"""Reading `signin` for the dashboard. `visible` is a condition on `Group` (the staff member's
groups); rows of groups outside it are never read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Community, Group, Membership, Person
from qunyun.features.signin.models import FILLED, SIGNED, SigninCards, SigninDaily, SigninRecord
from qunyun.features.signin.service import current_streak


@dataclass(frozen=True, slots=True)
class GroupTrend:
    group_id: int
    name: str
    counts: list[int]  # per day, oldest first

    @property
    def today(self) -> int:
        return self.counts[-1]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class StreakRow:
    person_id: int
    name: str
    streak: int
    last_day: date
    group_id: int
    group_name: str


@dataclass(frozen=True, slots=True)
class PersonSignins:
    """A person's sign-ins in one community: a month of days and the totals."""

    community_id: int
    community: str
    days: dict[date, str]  # the month's recorded days: SIGNED or FILLED
    streak: int  # alive today
    longest: int
    signed: int
    filled: int
    cards_held: int
    cards_bought: int


async def group_trends(session: AsyncSession, *, visible: ColumnElement[bool], today: date,
                       days: int) -> list[GroupTrend]:
    """Sign-ins per visible group and day of the last `days` days, for groups with any."""
    start = today - timedelta(days=days - 1)
    rows = await session.execute(
        select(SigninDaily.group_id, Group.name, SigninDaily.day, SigninDaily.count)
        .join(Group, Group.id == SigninDaily.group_id)
        .where(visible, SigninDaily.day >= start, SigninDaily.day <= today))
    counts: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for group_id, name, day, count in rows:
        names[group_id] = name
        counts.setdefault(group_id, [0] * days)[(day - start).days] = count
    return [GroupTrend(g, names[g], c) for g, c in counts.items()]


async def live_streaks(session: AsyncSession, *, visible: ColumnElement[bool], org_id: int,
                       today: date, limit: int) -> list[StreakRow]:
    """The longest streaks still alive (signed today or yesterday) in visible groups."""
    rows = await session.execute(
        select(SigninRecord.person_id, Person.display_name, SigninRecord.streak,
               SigninRecord.day, SigninRecord.group_id, Group.name)
        .join(Group, Group.id == SigninRecord.group_id)
        .join(Person, Person.id == SigninRecord.person_id)
        .where(SigninRecord.org_id == org_id, visible,
               SigninRecord.day >= today - timedelta(days=1), SigninRecord.day <= today)
        .order_by(SigninRecord.streak.desc(), SigninRecord.day.desc(), SigninRecord.id)
        .limit(limit * 2))  # a person may have both days
    best: dict[int, StreakRow] = {}
    for person_id, name, streak, day, group_id, group_name in rows:
        best.setdefault(person_id, StreakRow(person_id, name, streak, day, group_id,
                                             group_name))
    return list(best.values())[:limit]


async def person_communities(session: AsyncSession, *, person_id: int,
                             visible: ColumnElement[bool]) -> list[int]:
    """Communities of the person's visible groups (sign-ins belong to the community)."""
    rows = await session.scalars(
        select(Group.community_id).join(Membership, Membership.group_id == Group.id)
        .where(Membership.person_id == person_id, visible, Group.community_id.is_not(None))
        .distinct())
    return sorted(c for c in rows if c is not None)


async def signed_communities(session: AsyncSession, person_id: int) -> list[int]:
    rows = await session.scalars(select(SigninRecord.community_id)
                                 .where(SigninRecord.person_id == person_id).distinct())
    return sorted(rows)


async def person_signins(session: AsyncSession, *, community_id: int, person_id: int,
                         month: date, today: date) -> PersonSignins:
    """`month` is its first day."""
    mine = (SigninRecord.community_id == community_id, SigninRecord.person_id == person_id)
    end = (month + timedelta(days=32)).replace(day=1)
    days = {d: kind for d, kind in await session.execute(
        select(SigninRecord.day, SigninRecord.kind)
        .where(*mine, SigninRecord.day >= month, SigninRecord.day < end))}
    kinds = {k: n for k, n in await session.execute(
        select(SigninRecord.kind, func.count()).where(*mine).group_by(SigninRecord.kind))}
    longest = await session.scalar(select(func.max(SigninRecord.streak)).where(*mine))
    cards = (await session.execute(select(SigninCards.held, SigninCards.bought).where(
        SigninCards.community_id == community_id, SigninCards.person_id == person_id))).first()
    name = await session.scalar(select(Community.name).where(Community.id == community_id))
    return PersonSignins(
        community_id, name or "", days,
        await current_streak(session, community_id, person_id, today), int(longest or 0),
        kinds.get(SIGNED, 0), kinds.get(FILLED, 0),
        cards.held if cards else 0, cards.bought if cards else 0)

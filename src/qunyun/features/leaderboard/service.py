"""Messages counted per unit of work and written once before commit; the boards, read from
the points ledger (points, sign-ins) and from those counts (messages)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Person
from qunyun.core.clock import day_start
from qunyun.db.dialect import insert_for
from qunyun.features.leaderboard.models import MessageCount
from qunyun.features.leaderboard.periods import MESSAGES, POINTS, SIGNINS
from qunyun.points.models import PointsBalance, PointsEntry

SIGNIN = "signin"  # the ledger reason of a daily sign-in
MAX_SIZE = 100


@dataclass
class MessageCounts:
    counts: Counter[tuple[int, date, int]] = field(default_factory=Counter)
    communities: dict[int, int | None] = field(default_factory=dict)

    def count(self, group_id: int, community_id: int | None, day: date, person_id: int) -> None:
        self.counts[(group_id, day, person_id)] += 1
        self.communities[group_id] = community_id


async def do_write(session: AsyncSession, acc: MessageCounts) -> None:
    """One upsert of every group-day-person counted since the last write."""
    if not acc.counts:
        return
    rows = [{"group_id": g, "day": d, "person_id": p, "community_id": acc.communities[g],
             "messages": n} for (g, d, p), n in sorted(acc.counts.items())]
    upsert = insert_for(session, MessageCount)
    await session.execute(upsert.on_conflict_do_update(
        index_elements=["group_id", "day", "person_id"],
        set_={"messages": MessageCount.messages + upsert.excluded.messages}), rows)
    acc.counts.clear()


@dataclass(frozen=True, slots=True)
class BoardQuery:
    """One board: a metric over a group or a whole community, in local days [first, end)."""

    metric: str
    timezone: str
    group_id: int | None = None
    community_id: int | None = None
    days: tuple[date, date] | None = None  # None: all time


@dataclass(frozen=True, slots=True)
class Place:
    rank: int
    person_id: int
    name: str
    value: int


def _scores(query: BoardQuery) -> Select[int, int]:
    """person_id, value — one row per person with a positive value."""
    if query.metric == MESSAGES:
        return _message_scores(query)
    if query.metric == POINTS and query.group_id is None and query.days is None:
        return (select(PointsBalance.person_id, PointsBalance.lifetime_earned.label("value"))
                .where(PointsBalance.community_id == query.community_id,
                       PointsBalance.lifetime_earned > 0))
    value = func.sum(PointsEntry.amount) if query.metric == POINTS else func.count()
    statement = select(PointsEntry.person_id, value.label("value"))
    if query.group_id is not None:
        statement = statement.where(PointsEntry.group_id == query.group_id)
    else:
        statement = statement.where(PointsEntry.community_id == query.community_id)
    if query.days is not None:
        statement = statement.where(
            PointsEntry.created_at >= day_start(query.days[0], query.timezone),
            PointsEntry.created_at < day_start(query.days[1], query.timezone))
    if query.metric == SIGNINS:
        statement = statement.where(PointsEntry.reason == SIGNIN)
    else:  # points earned: spending does not lower a place
        statement = statement.where(PointsEntry.amount > 0)
    return statement.group_by(PointsEntry.person_id)


def _message_scores(query: BoardQuery) -> Select[int, int]:
    statement = select(MessageCount.person_id, func.sum(MessageCount.messages).label("value"))
    if query.group_id is not None:
        statement = statement.where(MessageCount.group_id == query.group_id)
    else:
        statement = statement.where(MessageCount.community_id == query.community_id)
    if query.days is not None:
        statement = statement.where(MessageCount.day >= query.days[0],
                                    MessageCount.day < query.days[1])
    return statement.group_by(MessageCount.person_id)


async def top(session: AsyncSession, query: BoardQuery, size: int) -> list[Place]:
    """The first `size` places; equal values share a rank (1, 2, 2, 4)."""
    scores = _scores(query).subquery()
    rows = await session.execute(
        select(scores.c.person_id, scores.c.value, Person.display_name)
        .join(Person, Person.id == scores.c.person_id)
        .where(scores.c.value > 0)
        .order_by(scores.c.value.desc(), scores.c.person_id)
        .limit(min(max(size, 1), MAX_SIZE)))
    places: list[Place] = []
    for index, (person_id, value, name) in enumerate(rows):
        rank = places[-1].rank if places and places[-1].value == value else index + 1
        places.append(Place(rank, person_id, name or "", int(value)))
    return places


async def place_of(session: AsyncSession, query: BoardQuery, person_id: int) -> Place | None:
    """The person's place on the board; None when they have nothing on it."""
    scores = _scores(query).subquery()
    value = await session.scalar(select(scores.c.value).where(scores.c.person_id == person_id))
    if not value or value <= 0:
        return None
    ahead = await session.scalar(select(func.count()).select_from(scores)
                                 .where(scores.c.value > value))
    name = await session.scalar(select(Person.display_name).where(Person.id == person_id))
    return Place(int(ahead or 0) + 1, person_id, name or "", int(value))

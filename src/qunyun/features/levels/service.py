"""The only code that writes levels and badges. Services never commit.

Messages are counted per unit of work (`LevelsBatch`) and written once before commit. People's
levels and badges are read in bulk before commit (`settle`): everyone whose points changed or
who passed the 100-messages mark in the unit of work; one person at a time only for the
`我的等级` command and the jobs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Membership
from qunyun.core.features import GroupInfo
from qunyun.db.dialect import among, insert_for
from qunyun.features.levels.models import (
    BadgeAward,
    LevelActivity,
    LevelAnnouncement,
    LevelChange,
    LevelMember,
)
from qunyun.points.models import PointsBalance

Key = tuple[int, int]  # (community_id, person_id)
CHUNK = 500
ANNOUNCE_WITHIN = timedelta(days=3)


@dataclass(slots=True)
class PersonState:
    """What the unit of work knows about one person in one community."""

    level: int
    best_level: int
    badges: set[str]
    lifetime: int = 0  # lifetime points earned, as last read
    window: int | None = None  # messages in the activity window ending on `window_day`
    window_day: date | None = None


@dataclass(slots=True)
class Seen:
    """A person seen in this unit of work: where and when last, and their messages not yet
    written."""

    group: GroupInfo
    settings: Any  # the levels settings of that group
    at: datetime
    member: str | None
    name: str
    days: Counter[date] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class Invite:
    """A join with an inviter: the inviter's person is read before commit, in bulk."""

    membership_id: int
    seen: Seen  # where and when, with the inviter's platform id


@dataclass(frozen=True, slots=True)
class Crossed:
    """Someone whose messages in a community passed a mark in this unit of work."""

    key: Key
    before: int
    after: int


@dataclass
class LevelsBatch:
    seen: dict[Key, Seen] = field(default_factory=dict)
    states: dict[Key, PersonState] = field(default_factory=dict)
    crossed: list[Crossed] = field(default_factory=list)  # message totals written
    scheduled: set[tuple[int, date]] = field(default_factory=set)  # jobs asked for: community, day
    invites: list[Invite] = field(default_factory=list)  # joins whose inviter may earn points
    # Announcements waiting for their group, read once per unit of work: group -> rows.
    waiting: dict[int, list[LevelAnnouncement]] | None = None
    sent: list[tuple[int, datetime]] = field(default_factory=list)  # (announcement, when)
    announcements: list[dict[str, Any]] = field(default_factory=list)  # found, to write

    def see(self, key: Key, group: GroupInfo, settings: Any, at: datetime, member: str | None,
            name: str | None) -> None:
        """Remember where and when the person was seen last (on every message: kept cheap)."""
        seen = self.seen.get(key)
        if seen is None:
            self.seen[key] = Seen(group, settings, at, member, name or "")
            return
        seen.group, seen.settings, seen.at = group, settings, at
        if member:
            seen.member = member
        if name:
            seen.name = name

    def count_message(self, key: Key, day: date) -> None:
        self.seen[key].days[day] += 1
        state = self.states.get(key)
        if state is not None and state.window_day == day and state.window is not None:
            state.window += 1


async def do_flush(session: AsyncSession, batch: LevelsBatch) -> None:
    """Write the counted messages (one upsert of day rows, one of totals); keep everyone's
    totals before and after in `batch.crossed`."""
    counted = {key: seen for key, seen in sorted(batch.seen.items()) if seen.days}
    if not counted:
        return
    # Day rows serve the activity basis only: kept for the groups that use it.
    days = [{"community_id": c, "person_id": p, "day": d, "messages": n}
            for (c, p), seen in counted.items() if seen.settings.basis == "activity"
            for d, n in sorted(seen.days.items())]
    if days:
        upsert = insert_for(session, LevelActivity)
        await session.execute(upsert.on_conflict_do_update(
            index_elements=["community_id", "person_id", "day"],
            set_={"messages": LevelActivity.messages + upsert.excluded.messages}), days)
    added = {key: sum(seen.days.values()) for key, seen in counted.items()}
    totals = insert_for(session, LevelMember)
    totals = totals.on_conflict_do_update(
        index_elements=["community_id", "person_id"],
        set_={"messages": LevelMember.messages + totals.excluded.messages},
    ).returning(LevelMember.community_id, LevelMember.person_id, LevelMember.messages)
    rows = await session.execute(totals, [
        {"community_id": c, "person_id": p, "org_id": counted[(c, p)].group.org_id,
         "level": 0, "best_level": 0, "messages": n} for (c, p), n in added.items()])
    for seen in counted.values():
        seen.days.clear()
    batch.crossed += [Crossed((c, p), n - added[(c, p)], n) for c, p, n in rows]


async def inviters_of(session: AsyncSession, membership_ids: list[int]) -> dict[int, int]:
    """{membership id: inviter's person id} of those memberships that have one."""
    found: dict[int, int] = {}
    ids = sorted(set(membership_ids))
    for start in range(0, len(ids), CHUNK):
        rows = await session.execute(
            select(Membership.id, Membership.inviter_person_id)
            .where(among(session, Membership.id, values=ids[start:start + CHUNK]),
                   Membership.inviter_person_id.is_not(None)))
        found.update({mid: inviter for mid, inviter in rows if inviter is not None})
    return found


async def load_states(session: AsyncSession, batch: LevelsBatch,
                      keys: Iterable[Key]) -> dict[Key, PersonState]:
    """The states of `keys`, those not known yet read in bulk (three queries per chunk)."""
    wanted = sorted(set(keys) - set(batch.states))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start:start + CHUNK]
        found = {key: PersonState(0, 0, set()) for key in chunk}
        levels = await session.execute(
            select(LevelMember.community_id, LevelMember.person_id, LevelMember.level,
                   LevelMember.best_level)
            .where(among(session, LevelMember.community_id, LevelMember.person_id,
                         values=chunk)))
        for c, p, level, best in levels:
            found[(c, p)].level, found[(c, p)].best_level = level, best
        points = await session.execute(
            select(PointsBalance.community_id, PointsBalance.person_id,
                   PointsBalance.lifetime_earned)
            .where(among(session, PointsBalance.community_id, PointsBalance.person_id,
                         values=chunk)))
        for c, p, lifetime in points:
            found[(c, p)].lifetime = lifetime
        badges = await session.execute(
            select(BadgeAward.community_id, BadgeAward.person_id, BadgeAward.badge)
            .where(among(session, BadgeAward.community_id, BadgeAward.person_id,
                         values=chunk)))
        for c, p, badge in badges:
            found[(c, p)].badges.add(badge)
        batch.states.update(found)
    return {key: batch.states[key] for key in keys}


async def refresh_lifetimes(session: AsyncSession, states: dict[Key, PersonState]) -> None:
    """Read the lifetime points of `states` again (they changed in this unit of work)."""
    keys = sorted(states)
    for start in range(0, len(keys), CHUNK):
        rows = await session.execute(
            select(PointsBalance.community_id, PointsBalance.person_id,
                   PointsBalance.lifetime_earned)
            .where(among(session, PointsBalance.community_id, PointsBalance.person_id,
                         values=keys[start:start + CHUNK])))
        for c, p, lifetime in rows:
            states[(c, p)].lifetime = lifetime


async def load_state(session: AsyncSession, batch: LevelsBatch, key: Key) -> PersonState:
    """One person's state with their lifetime points, read once per unit of work."""
    state = batch.states.get(key)
    if state is not None:
        return state
    community_id, person_id = key
    lifetime = (select(PointsBalance.lifetime_earned)
                .where(PointsBalance.community_id == community_id,
                       PointsBalance.person_id == person_id).scalar_subquery())
    one = select(literal(1).label("one")).subquery()
    rows = (await session.execute(
        select(lifetime, LevelMember.level, LevelMember.best_level, BadgeAward.badge)
        .select_from(one)
        .outerjoin(LevelMember, and_(LevelMember.community_id == community_id,
                                     LevelMember.person_id == person_id))
        .outerjoin(BadgeAward, and_(BadgeAward.community_id == community_id,
                                    BadgeAward.person_id == person_id)))).all()
    first = rows[0]
    state = PersonState(first.level or 0, first.best_level or 0,
                        {r.badge for r in rows if r.badge is not None}, int(first[0] or 0))
    batch.states[key] = state
    return state


async def load_window(session: AsyncSession, batch: LevelsBatch, key: Key, state: PersonState,
                      today: date, days: int) -> int:
    """Messages in the `days` local days ending `today` (written plus counted)."""
    if state.window is not None and state.window_day == today:
        return state.window
    first = today - timedelta(days=days - 1)
    stored = await session.scalar(
        select(func.coalesce(func.sum(LevelActivity.messages), 0))
        .where(LevelActivity.community_id == key[0], LevelActivity.person_id == key[1],
               LevelActivity.day >= first, LevelActivity.day <= today))
    seen = batch.seen.get(key)
    counted = sum(n for d, n in seen.days.items() if first <= d <= today) if seen else 0
    state.window, state.window_day = int(stored or 0) + counted, today
    return state.window


async def window_counts(session: AsyncSession, community_id: int, today: date, days: int,
                        persons: list[int] | None = None) -> dict[int, int]:
    """Written messages per person in the window ending `today` (of `persons`, or all)."""
    first = today - timedelta(days=days - 1)
    query = (select(LevelActivity.person_id, func.sum(LevelActivity.messages))
             .where(LevelActivity.community_id == community_id, LevelActivity.day >= first,
                    LevelActivity.day <= today)
             .group_by(LevelActivity.person_id))
    if persons is not None:
        query = query.where(LevelActivity.person_id.in_(persons))
    return {person: int(total) for person, total in await session.execute(query)}


async def ranked_members(session: AsyncSession, community_id: int) -> dict[int, tuple[int, int]]:
    """person -> (level, best level) of everyone above the first level."""
    rows = await session.execute(
        select(LevelMember.person_id, LevelMember.level, LevelMember.best_level)
        .where(LevelMember.community_id == community_id, LevelMember.level > 0))
    return {person: (level, best) for person, level, best in rows}


@dataclass(frozen=True, slots=True)
class Move:
    """A level change to record."""

    org_id: int
    community_id: int
    person_id: int
    group_id: int | None
    from_level: int
    to_level: int
    best_level: int  # the best level before this move
    title: str
    at: datetime


async def do_move(session: AsyncSession, move: Move) -> None:
    """Record a promotion or demotion: the person's row and a history entry."""
    best = max(move.best_level, move.to_level)
    upsert = insert_for(session, LevelMember).values(
        community_id=move.community_id, person_id=move.person_id, org_id=move.org_id,
        level=move.to_level, best_level=best, level_since=move.at, messages=0)
    await session.execute(upsert.on_conflict_do_update(
        index_elements=["community_id", "person_id"],
        set_={"level": move.to_level, "best_level": best, "level_since": move.at}))
    session.add(LevelChange(org_id=move.org_id, community_id=move.community_id,
                            person_id=move.person_id, group_id=move.group_id,
                            from_level=move.from_level, to_level=move.to_level,
                            title=move.title, at=move.at))


@dataclass(frozen=True, slots=True)
class Earned:
    """A badge rule that came true for someone, where they were last seen."""

    key: Key
    badge: str
    seen: Seen


async def do_award_badges(session: AsyncSession, earned: list[Earned]) -> list[Earned]:
    """Award many badges at once (each once ever); return those that were new."""
    if not earned:
        return []
    members = insert_for(session, LevelMember).on_conflict_do_nothing(
        index_elements=["community_id", "person_id"])
    await session.execute(members, [
        {"community_id": c, "person_id": p, "org_id": e.seen.group.org_id, "level": 0,
         "best_level": 0, "messages": 0}
        for (c, p), e in sorted({e.key: e for e in earned}.items())])
    badges = (insert_for(session, BadgeAward)
              .on_conflict_do_nothing(index_elements=["community_id", "person_id", "badge"])
              .returning(BadgeAward.community_id, BadgeAward.person_id, BadgeAward.badge))
    rows = await session.execute(badges, [
        {"community_id": e.key[0], "person_id": e.key[1], "badge": e.badge,
         "org_id": e.seen.group.org_id, "group_id": e.seen.group.id, "detail": "",
         "awarded_at": e.seen.at} for e in earned])
    new = {((c, p), b) for c, p, b in rows}
    return [e for e in earned if (e.key, e.badge) in new]


async def do_award_badge(session: AsyncSession, *, org_id: int, community_id: int,
                         person_id: int, badge: str, at: datetime, group_id: int | None = None,
                         detail: str = "") -> bool:
    """Award a badge once; False when the person already has it."""
    member = insert_for(session, LevelMember).values(
        community_id=community_id, person_id=person_id, org_id=org_id, level=0, best_level=0,
        messages=0)
    await session.execute(member.on_conflict_do_nothing(
        index_elements=["community_id", "person_id"]))
    statement = (insert_for(session, BadgeAward)
                 .values(community_id=community_id, person_id=person_id, badge=badge,
                         org_id=org_id, group_id=group_id, detail=detail, awarded_at=at)
                 .on_conflict_do_nothing(index_elements=["community_id", "person_id", "badge"])
                 .returning(BadgeAward.badge))
    return (await session.scalar(statement)) is not None


def do_queue_announcement(batch: LevelsBatch, seen: Seen, person_id: int, *, kind: str,
                          subject: str) -> None:
    """Keep an announcement for the next event of the group the person was last seen in
    (written by `do_write_announcements`)."""
    batch.announcements.append({
        "org_id": seen.group.org_id, "group_id": seen.group.id, "person_id": person_id,
        "member": seen.member, "name": seen.name, "kind": kind, "subject": subject,
        "created_at": seen.at, "sent_at": None})


async def do_write_announcements(session: AsyncSession, batch: LevelsBatch) -> None:
    """Write the queued announcements, in order, in one statement."""
    if batch.announcements:
        await session.execute(insert(cast(Table, LevelAnnouncement.__table__)),
                              batch.announcements)
        batch.announcements = []


async def waiting_announcements(session: AsyncSession, org_id: int,
                                now: datetime) -> dict[int, list[LevelAnnouncement]]:
    """Announcements not sent yet, per group, oldest first; those of a group quiet for longer
    than ANNOUNCE_WITHIN are stale and left unsent."""
    rows = await session.scalars(
        select(LevelAnnouncement)
        .where(LevelAnnouncement.org_id == org_id, LevelAnnouncement.sent_at.is_(None),
               LevelAnnouncement.created_at >= now - ANNOUNCE_WITHIN)
        .order_by(LevelAnnouncement.id))
    waiting: dict[int, list[LevelAnnouncement]] = {}
    for row in rows:
        waiting.setdefault(row.group_id, []).append(row)
    return waiting


async def do_mark_sent(session: AsyncSession, sent: list[tuple[int, datetime]]) -> None:
    """Mark announcements sent, each with its time (one statement)."""
    await session.execute(update(LevelAnnouncement).execution_options(
        synchronize_session=False), [{"id": i, "sent_at": at} for i, at in sent])

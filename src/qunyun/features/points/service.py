"""The only code that writes the rules' state. Handlers only queue facts in a `PendingAwards`;
before commit, `do_award_batch` reads the memories of the members the batch mentions (one
query), runs the rules in event order, writes the awards in bulk and the memories back."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Membership
from qunyun.db.dialect import among, insert_for
from qunyun.features.points.models import PointsHeldInvite, PointsMemory, PointsReaction
from qunyun.features.points.rules import (
    Award,
    InviteFact,
    MemberMemory,
    MessageFact,
    ReactionFact,
    Where,
    held_invite_award,
    invite_award,
    message_award,
    reaction_award,
    stayed,
)
from qunyun.features.points.settings import PointsSettings
from qunyun.points.service import NewAward, do_award_many

log = logging.getLogger(__name__)
MemoryKey = tuple[int, int]  # (community id, person id)
CHUNK = 500


@dataclass(frozen=True, slots=True)
class JoinFact:
    """A new membership with an inviter; the inviter's person is read before commit."""

    where: Where
    membership_id: int
    invitee_id: int


Queued = MessageFact | ReactionFact | JoinFact


@dataclass(frozen=True, slots=True)
class HeldInvite:
    """An invite to keep until its hold ends (`do_release_invites`)."""

    where: Where
    membership_id: int
    invitee_id: int
    amount: int
    due: datetime


@dataclass
class PendingAwards:
    """The facts of one unit of work, in event order, with their group's settings; and the
    invites to hold."""

    items: list[tuple[Queued, PointsSettings]] = field(default_factory=list)
    held: list[HeldInvite] = field(default_factory=list)

    def add(self, fact: Queued, settings: PointsSettings) -> None:
        self.items.append((fact, settings))


async def do_award_batch(session: AsyncSession, pending: PendingAwards) -> None:
    """Run the rules over the queued facts and write what they give. A failure is logged and
    leaves nothing behind (a savepoint): the events still commit; `recompute` can catch up."""
    items, pending.items = pending.items, []
    if not items and not pending.held:
        return
    try:
        async with session.begin_nested():
            await do_hold_invites(session, pending)
            await _award(session, items)
    except Exception:
        log.exception("points: awarding a batch of %d facts failed", len(items))


async def _award(session: AsyncSession, items: list[tuple[Queued, PointsSettings]]) -> None:
    if not items:
        return
    memories = await load_memories(session, _memory_keys(items))
    firsts = iter(await claim_reactions(
        session, [f for f, _ in items if isinstance(f, ReactionFact)]))
    inviters = await inviters_of(session, [f.membership_id for f, _ in items
                                           if isinstance(f, JoinFact)])
    awards: list[Award] = []
    touched: set[MemoryKey] = set()
    for fact, settings in items:
        w = fact.where
        award: Award | None = None
        if isinstance(fact, MessageFact):
            key = (w.community_id, fact.person_id)
            award = message_award(fact, settings, memories[key])
            touched.add(key)
        elif isinstance(fact, ReactionFact):
            key = (w.community_id, fact.author_id)
            award = reaction_award(fact, next(firsts), settings, memories[key])
            touched.add(key)
        elif (inviter := inviters.get(fact.membership_id)) is not None:
            award = invite_award(InviteFact(w, inviter, fact.invitee_id), settings, w.at)
        if award is not None:
            awards.append(award)
    await do_award_many(session, [new_award(a) for a in awards])
    await save_memories(session, {key: memories[key] for key in touched})


def _memory_keys(items: list[tuple[Queued, PointsSettings]]) -> set[MemoryKey]:
    keys: set[MemoryKey] = set()
    for fact, _ in items:
        if isinstance(fact, MessageFact):
            keys.add((fact.where.community_id, fact.person_id))
        elif isinstance(fact, ReactionFact):
            keys.add((fact.where.community_id, fact.author_id))
    return keys


def new_award(award: Award) -> NewAward:
    return NewAward(org_id=award.org_id, community_id=award.community_id,
                    person_id=award.person_id, amount=award.amount, reason=award.reason,
                    key=award.key, at=award.at, source_event=award.source_event,
                    group_id=award.group_id)


async def load_memories(session: AsyncSession,
                        keys: set[MemoryKey]) -> dict[MemoryKey, MemberMemory]:
    """The memories of `keys`, fresh ones for members never seen."""
    found = {key: MemberMemory() for key in keys}
    ordered = sorted(keys)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start:start + CHUNK]
        rows = await session.execute(
            select(PointsMemory.community_id, PointsMemory.person_id,
                   PointsMemory.last_award_at, PointsMemory.recent, PointsMemory.day,
                   PointsMemory.message_points, PointsMemory.reaction_points)
            .where(among(session, PointsMemory.community_id, PointsMemory.person_id,
                         values=chunk)))
        for community_id, person_id, last, recent, day, messages, reactions in rows:
            found[(community_id, person_id)] = MemberMemory(
                last, [str(t) for t in recent or []], day, messages, reactions)
    return found


async def save_memories(session: AsyncSession, memories: dict[MemoryKey, MemberMemory]) -> None:
    if not memories:
        return
    upsert = insert_for(session, PointsMemory)
    upsert = upsert.on_conflict_do_update(
        index_elements=["community_id", "person_id"],
        set_={name: getattr(upsert.excluded, name) for name in
              ("last_award_at", "recent", "day", "message_points", "reaction_points")})
    await session.execute(upsert, [
        {"community_id": c, "person_id": p, "last_award_at": m.last_award_at,
         "recent": m.recent, "day": m.day, "message_points": m.message_points,
         "reaction_points": m.reaction_points}
        for (c, p), m in sorted(memories.items())])


async def claim_reactions(session: AsyncSession, facts: list[ReactionFact]) -> list[bool]:
    """Record each reactor's first reaction on a message; per fact, whether it is the first."""
    if not facts:
        return []
    pairs = sorted({(f.where.group_id, f.message_id, f.reactor_id) for f in facts})
    known: set[tuple[int, str, int]] = set()
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start:start + CHUNK]
        rows = await session.execute(
            select(PointsReaction.group_id, PointsReaction.message_id, PointsReaction.reactor_id)
            .where(among(session, PointsReaction.group_id, PointsReaction.message_id,
                         PointsReaction.reactor_id, values=chunk)))
        known.update((g, m, r) for g, m, r in rows)
    fresh = [p for p in pairs if p not in known]
    if fresh:
        await session.execute(insert_for(session, PointsReaction).on_conflict_do_nothing(), [
            {"group_id": g, "message_id": m, "reactor_id": r} for g, m, r in fresh])
    firsts = []
    for fact in facts:
        pair = (fact.where.group_id, fact.message_id, fact.reactor_id)
        firsts.append(pair not in known)
        known.add(pair)
    return firsts


async def inviters_of(session: AsyncSession, membership_ids: list[int]) -> dict[int, int]:
    """{membership id: inviter's person id} of the memberships that have an inviter."""
    if not membership_ids:
        return {}
    rows = await session.execute(
        select(Membership.id, Membership.inviter_person_id)
        .where(among(session, Membership.id, values=sorted(set(membership_ids))),
               Membership.inviter_person_id.is_not(None)))
    return {mid: inviter for mid, inviter in rows if inviter is not None}


async def do_hold_invites(session: AsyncSession, pending: PendingAwards) -> None:
    """Write the invites held in this unit of work (before commit, or before a release job
    of the same unit looks for them)."""
    if pending.held:
        await session.execute(insert_for(session, PointsHeldInvite).on_conflict_do_nothing(), [
            {"membership_id": h.membership_id, "org_id": h.where.org_id,
             "community_id": h.where.community_id, "group_id": h.where.group_id,
             "invitee_id": h.invitee_id, "amount": h.amount, "source_event": h.where.source,
             "due_at": h.due} for h in pending.held])
        pending.held = []


async def do_release_invites(session: AsyncSession, *, community_id: int,
                             until: datetime) -> int:
    """Award the held invites of a community due by `until` whose invitee stayed through the
    hold (the membership was open at its due time); the others lapse. Returns the awards."""
    held = PointsHeldInvite
    rows = (await session.execute(
        select(held, Membership.inviter_person_id, Membership.left_at)
        .join(Membership, Membership.id == held.membership_id)
        .where(held.community_id == community_id, held.due_at <= until)
        .order_by(held.due_at, held.source_event))).all()
    awards = []
    for row, inviter, left_at in rows:
        where = Where(row.org_id, row.community_id, row.group_id, row.due_at, "UTC",
                      row.source_event)
        if inviter is not None and stayed(left_at, row.due_at):
            award = held_invite_award(where, inviter, row.invitee_id, row.amount, row.due_at)
            if award is not None:
                awards.append(new_award(award))
    if rows:
        await session.execute(delete(held).where(
            held.membership_id.in_([row.membership_id for row, _, _ in rows])))
    return await do_award_many(session, awards)

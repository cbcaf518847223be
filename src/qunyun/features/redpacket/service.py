"""The only code that writes red packets. Services never commit.

Money flows only through the points ledger: a member's packet is one debit of the sender when
it is made; each claim one credit of the claimer; expiry one refund of the unclaimed rest.
A staff packet is funded by the community: nobody is debited and its unclaimed rest is simply
never paid out (it "goes back to the community").

Claiming is one conditional UPDATE of the packet row (`claimed_count < count`, status open)
that hands out the next share number, so concurrent claims (also on PostgreSQL, where the row
lock re-checks the condition) never hand out more shares than there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Person
from qunyun.core.errors import ErrorCollector, InvalidInput
from qunyun.core.i18n import N_
from qunyun.features.redpacket.models import (
    EXPIRED,
    FINISHED,
    OPEN,
    RedPacket,
    RedPacketShare,
)
from qunyun.features.redpacket.shares import MODES, split
from qunyun.points.service import do_award, do_spend

MAX_KEYWORD = 16  # characters of a 口令
ALREADY = "already"  # the person already holds a share of this packet
GONE = "gone"  # every share is taken, or the packet expired


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    refused: str | None = None  # ALREADY or GONE; None when a share was claimed
    seq: int = 0
    amount: int = 0
    count: int = 0
    finished: bool = False  # this claim took the last share


@dataclass(frozen=True, slots=True)
class Best:
    """手气最佳: the largest share (the earliest claim of it on a tie)."""

    person_id: int
    amount: int


def check_packet(*, total: int, count: int, mode: str, keyword: str, max_total: int,
                 max_count: int) -> None:
    """InvalidInput naming every field that is wrong; nothing is changed."""
    errors = ErrorCollector()
    if count < 1:
        errors.add("count", N_("a red packet needs at least one share"))
    elif count > max_count:
        errors.add("count", N_("at most {limit} shares per red packet"), limit=max_count)
    if total > max_total:
        errors.add("total", N_("at most {limit} points per red packet"), limit=max_total)
    elif total < max(count, 1):
        errors.add("total", N_("the total must be at least the number of shares ({count}): "
                               "every share gets at least 1 point"), count=max(count, 1))
    if mode not in MODES:
        errors.add("mode", "must be one of: {choices}", choices=", ".join(MODES))
    if len(keyword) > MAX_KEYWORD:
        errors.add("keyword", N_("the password must be at most {limit} characters"),
                   limit=MAX_KEYWORD)
    if errors:
        raise InvalidInput(N_("the red packet is not valid"), errors=errors.errors)


async def do_create_packet(
    session: AsyncSession, *, org_id: int, community_id: int, group_id: int, total: int,
    count: int, mode: str, keyword: str, at: datetime, expires_at: datetime,
    sender_person_id: int | None = None, staff_actor: str | None = None,
    source_event: str | None = None, message_id: str | None = None,
) -> RedPacket:
    """Debit the sender (InsufficientPoints changes nothing), store the packet and its shares.
    Validate with `check_packet` first. The same `source_event` twice makes one packet."""
    if source_event is not None:
        existing = await session.scalar(select(RedPacket).where(
            RedPacket.org_id == org_id, RedPacket.source_event == source_event))
        if existing is not None:
            return existing
    if sender_person_id is not None:
        assert source_event is not None, "a member's packet comes from an event"
        await do_spend(session, org_id=org_id, community_id=community_id,
                       person_id=sender_person_id, amount=total, reason="redpacket_send",
                       key=f"redpacket:send:{source_event}", at=at,
                       source_event=source_event, group_id=group_id)
    packet = RedPacket(org_id=org_id, community_id=community_id, group_id=group_id,
                       sender_person_id=sender_person_id, staff_actor=staff_actor, total=total,
                       count=count, mode=mode, keyword=keyword, status=OPEN, claimed_count=0,
                       refunded=0, source_event=source_event, message_id=message_id,
                       created_at=at, expires_at=expires_at)
    session.add(packet)
    await session.flush()
    # A member's packet is seeded by its event (a replay that lacks dashboard-made packets
    # still cuts it the same); a staff packet by its id.
    amounts = split(mode, total, count, f"redpacket:{source_event or packet.id}")
    await session.execute(insert(RedPacketShare), [
        {"packet_id": packet.id, "seq": seq, "amount": amount}
        for seq, amount in enumerate(amounts, start=1)])
    return packet


async def do_claim(session: AsyncSession, *, packet_id: int, person_id: int, at: datetime,
                   claim_event: str | None = None) -> ClaimOutcome:
    """Give the person the next unclaimed share and credit it; refused when they already hold
    one or none is left."""
    held = await session.scalar(select(RedPacketShare.seq).where(
        RedPacketShare.packet_id == packet_id, RedPacketShare.person_id == person_id))
    if held is not None:
        return ClaimOutcome(ALREADY)
    try:
        async with session.begin_nested():
            taken = await _take_next(session, packet_id, at)
            if taken is None:
                return ClaimOutcome(GONE)
            seq, packet = taken
            amount = await session.scalar(
                update(RedPacketShare)
                .where(RedPacketShare.packet_id == packet_id, RedPacketShare.seq == seq)
                .values(person_id=person_id, claimed_at=at, claim_event=claim_event)
                .returning(RedPacketShare.amount)
                .execution_options(synchronize_session=False))
    except IntegrityError:  # the same person claimed in a concurrent transaction
        return ClaimOutcome(ALREADY)
    assert amount is not None
    await do_award(session, org_id=packet.org_id, community_id=packet.community_id,
                   person_id=person_id, amount=amount, reason="redpacket_claim",
                   key=f"redpacket:{packet_id}:share:{seq}", at=at, source_event=claim_event,
                   group_id=packet.group_id)
    return ClaimOutcome(None, seq, amount, packet.count, seq == packet.count)


@dataclass(frozen=True, slots=True)
class _Taken:
    org_id: int
    community_id: int
    group_id: int
    count: int


async def _take_next(session: AsyncSession, packet_id: int,
                     at: datetime) -> tuple[int, _Taken] | None:
    """The one conditional UPDATE that hands out share number claimed_count + 1."""
    last = RedPacket.claimed_count + 1 >= RedPacket.count
    row = (await session.execute(
        update(RedPacket)
        .where(RedPacket.id == packet_id, RedPacket.status == OPEN,
               RedPacket.claimed_count < RedPacket.count)
        .values(claimed_count=RedPacket.claimed_count + 1,
                status=case((last, FINISHED), else_=RedPacket.status),
                finished_at=case((last, at), else_=RedPacket.finished_at))
        .returning(RedPacket.claimed_count, RedPacket.org_id, RedPacket.community_id,
                   RedPacket.group_id, RedPacket.count)
        .execution_options(synchronize_session=False))).first()
    if row is None:
        return None
    return row[0], _Taken(row[1], row[2], row[3], row[4])


async def do_expire(session: AsyncSession, *, packet_id: int, at: datetime) -> RedPacket | None:
    """Close an open packet and refund exactly the unclaimed rest to its sender (a staff
    packet's rest stays with the community). None when it was already finished or expired."""
    closed = await session.scalar(
        update(RedPacket).where(RedPacket.id == packet_id, RedPacket.status == OPEN)
        .values(status=EXPIRED, finished_at=at).returning(RedPacket.id)
        .execution_options(synchronize_session=False))
    if closed is None:
        return None
    rest = int(await session.scalar(
        select(func.coalesce(func.sum(RedPacketShare.amount), 0))
        .where(RedPacketShare.packet_id == packet_id, RedPacketShare.person_id.is_(None))) or 0)
    await session.execute(update(RedPacket).where(RedPacket.id == packet_id)
                          .values(refunded=rest).execution_options(synchronize_session=False))
    packet = await get_packet(session, packet_id)
    assert packet is not None
    if packet.sender_person_id is not None and rest > 0:
        await do_award(session, org_id=packet.org_id, community_id=packet.community_id,
                       person_id=packet.sender_person_id, amount=rest, reason="redpacket_refund",
                       key=f"redpacket:{packet_id}:refund", at=at, group_id=packet.group_id)
    return packet


async def get_packet(session: AsyncSession, packet_id: int) -> RedPacket | None:
    packet: RedPacket | None = await session.scalar(
        select(RedPacket).where(RedPacket.id == packet_id)
        .execution_options(populate_existing=True))
    return packet


async def open_packets(session: AsyncSession, org_id: int) -> list[tuple[int, int, str]]:
    """(group id, packet id, keyword) of every open packet of the organization, oldest first."""
    rows = await session.execute(
        select(RedPacket.group_id, RedPacket.id, RedPacket.keyword)
        .where(RedPacket.org_id == org_id, RedPacket.status == OPEN).order_by(RedPacket.id))
    return [(g, p, k) for g, p, k in rows]


async def shares(session: AsyncSession, packet_id: int) -> list[RedPacketShare]:
    rows = await session.scalars(select(RedPacketShare)
                                 .where(RedPacketShare.packet_id == packet_id)
                                 .order_by(RedPacketShare.seq))
    return list(rows)


async def best_share(session: AsyncSession, packet_id: int) -> Best | None:
    row = (await session.execute(
        select(RedPacketShare.person_id, RedPacketShare.amount)
        .where(RedPacketShare.packet_id == packet_id, RedPacketShare.person_id.is_not(None))
        .order_by(RedPacketShare.amount.desc(), RedPacketShare.seq).limit(1))).first()
    return None if row is None or row[0] is None else Best(row[0], row[1])


async def display_names(session: AsyncSession, person_ids: list[int]) -> dict[int, str]:
    if not person_ids:
        return {}
    rows = await session.execute(select(Person.id, Person.display_name)
                                 .where(Person.id.in_(sorted(set(person_ids)))))
    return {pid: name for pid, name in rows}

"""Properties of red packets: concurrent claims never over-pay, the ledger always adds up, and
a replay of the same events gives the same shares and balances."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from qunyun.community.models import Person
from qunyun.features.redpacket import service
from qunyun.features.redpacket.models import RedPacketShare
from qunyun.features.redpacket.plugin import FEATURE
from qunyun.points.models import PointsBalance, PointsEntry
from tests import factories as f
from tests.conftest import START
from tests.features.redpacket.conftest import Chat, make_chat


async def staff_packet(chat: Chat, total: int, count: int, mode: str = "random") -> int:
    """A packet funded by the community, as the dashboard makes one."""
    group, community = await chat.group(), await chat.community()
    async with chat.rt.write_sessions() as session:
        packet = await service.do_create_packet(
            session, org_id=chat.org, community_id=community, group_id=group, total=total,
            count=count, mode=mode, keyword="", at=START, expires_at=START + timedelta(hours=1),
            staff_actor="staff:test")
        await session.commit()
        return packet.id


async def new_persons(chat: Chat, n: int) -> list[int]:
    async with chat.rt.sessions() as session:
        people = [Person(org_id=chat.org, display_name=f"p{i}", first_seen_at=START)
                  for i in range(n)]
        session.add_all(people)
        await session.commit()
        return [p.id for p in people]


async def claim(chat: Chat, packet_id: int, person_id: int) -> str | None:
    """One claim in its own transaction, as separate workers would make it."""
    async with chat.rt.write_sessions() as session:
        outcome = await service.do_claim(session, packet_id=packet_id, person_id=person_id,
                                         at=START)
        await session.commit()
        return outcome.refused


async def ledger_adds_up(chat: Chat) -> None:
    async with chat.rt.sessions() as session:
        entries = await session.scalar(select(func.coalesce(func.sum(PointsEntry.amount), 0)))
        balances = await session.scalar(
            select(func.coalesce(func.sum(PointsBalance.balance), 0)))
        negative = await session.scalar(select(func.count()).select_from(PointsBalance)
                                        .where(PointsBalance.balance < 0))
    assert entries == balances and negative == 0


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(min_value=1, max_value=6), extra=st.integers(min_value=0, max_value=8),
       spare=st.integers(min_value=0, max_value=100))
async def test_concurrent_claims_never_over_pay(chat: Chat, count: int, extra: int,
                                                spare: int) -> None:
    await chat.join("anchor")
    packet_id = await staff_packet(chat, count + spare, count)
    people = await new_persons(chat, count + extra)
    outcomes = await asyncio.gather(*(claim(chat, packet_id, p) for p in people))
    assert outcomes.count(None) == count
    assert all(o == service.GONE for o in outcomes if o is not None)
    async with chat.rt.sessions() as session:
        paid = await session.scalar(select(func.sum(PointsEntry.amount)).where(
            PointsEntry.reason == "redpacket_claim", PointsEntry.idempotency_key.like(
                f"redpacket:{packet_id}:%")))
        holders = (await session.scalars(select(RedPacketShare.person_id).where(
            RedPacketShare.packet_id == packet_id))).all()
    assert paid == count + spare
    assert None not in holders and len(set(holders)) == count
    await ledger_adds_up(chat)


async def test_one_person_claiming_concurrently_gets_one_share(chat: Chat) -> None:
    await chat.join("anchor")
    packet_id = await staff_packet(chat, 50, 5)
    [person] = await new_persons(chat, 1)
    outcomes = await asyncio.gather(*(claim(chat, packet_id, person) for _ in range(6)))
    assert outcomes.count(None) == 1
    assert all(o == service.ALREADY for o in outcomes if o is not None)
    await ledger_adds_up(chat)


async def test_a_staff_packet_refunds_nobody(chat: Chat) -> None:
    await chat.join("anchor")
    packet_id = await staff_packet(chat, 30, 3, mode="equal")
    [person] = await new_persons(chat, 1)
    assert await claim(chat, packet_id, person) is None
    async with chat.rt.write_sessions() as session:
        packet = await service.do_expire(session, packet_id=packet_id, at=START)
        await session.commit()
    assert packet is not None and packet.refunded == 20 and packet.status == "expired"
    async with chat.rt.sessions() as session:
        refunds = await session.scalar(select(func.count()).select_from(PointsEntry)
                                       .where(PointsEntry.reason == "redpacket_refund"))
    assert refunds == 0
    await ledger_adds_up(chat)


SCRIPT = [  # a day in a group: two packets, claims, a duplicate, expiry passed by a later event
    ("boss", "发红包 100 4 拼手气", 1), ("a", "抢红包", 2), ("b", "抢红包", 3), ("a", "抢红包", 4),
    ("rich", "发红包 9 3 普通 芝麻开门", 5), ("c", "芝麻开门", 6), ("poor", "发红包 500 2", 7),
    ("d", "抢红包", 8), ("boss", "你好", 60 * 30),
]


async def _run_script(chat: Chat) -> dict[str, int]:
    await chat.enable(expire_hours=24)
    for member in ("boss", "rich", "poor"):
        await chat.grant(member, {"boss": 300, "rich": 50, "poor": 10}[member])
    events = [f.message(m, text, minutes=minutes, name=m, id=f"s{i}")
              for i, (m, text, minutes) in enumerate(SCRIPT)]
    await chat.rt.pipeline.ingest(chat.org, events[:3])
    await chat.rt.pipeline.ingest(chat.org, [events[2], *events[3:]])  # one event twice
    await ledger_adds_up(chat)
    return {m: await chat.balance(m) for m in ("boss", "rich", "poor", "a", "b", "c", "d")}


async def test_a_replay_gives_the_same_balances(twin_url: str, chat: Chat,
                                                tmp_path: Path) -> None:
    live = await _run_script(chat)
    assert live["poor"] == 10 and live["rich"] == 50 - 9 + 6  # refund of two unclaimed shares
    assert sum(live.values()) == 300 + 50 + 10
    replayed = await make_chat(twin_url, tmp_path / "replay", None, FEATURE, replay=True)
    try:
        assert await _run_script(replayed) == live
    finally:
        await replayed.rt.close()

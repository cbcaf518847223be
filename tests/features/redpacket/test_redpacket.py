"""Red packets in the chat: sending pays from points, claims take the stored shares in order,
one per person, expiry refunds exactly the rest, bad input changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from qunyun.features.redpacket.models import RedPacket, RedPacketShare
from qunyun.points.models import PointsEntry
from tests import factories as f
from tests.features.redpacket.conftest import Chat, later


async def packets(chat: Chat) -> list[RedPacket]:
    async with chat.rt.sessions() as session:
        return list((await session.scalars(select(RedPacket).order_by(RedPacket.id))).all())


async def shares_of(chat: Chat, packet_id: int) -> list[RedPacketShare]:
    async with chat.rt.sessions() as session:
        return list((await session.scalars(select(RedPacketShare).where(
            RedPacketShare.packet_id == packet_id).order_by(RedPacketShare.seq))).all())


async def entry_count(chat: Chat, reason: str) -> int:
    async with chat.rt.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PointsEntry)
                                        .where(PointsEntry.reason == reason)) or 0)


async def test_a_member_sends_and_three_members_grab(chat: Chat) -> None:
    await chat.grant("boss", 500)
    [announce] = await chat.say("boss", "发红包 100 3 拼手气", minutes=1)
    assert "100" in announce and "3" in announce and "抢红包" in announce and "random" in announce
    assert await chat.balance("boss") == 400
    [packet] = await packets(chat)
    assert (packet.total, packet.count, packet.mode, packet.status) == (100, 3, "random", "open")
    stored = await shares_of(chat, packet.id)
    assert sum(s.amount for s in stored) == 100 and min(s.amount for s in stored) >= 1
    got = {}
    for i, member in enumerate(("a", "b", "c")):
        [reply] = await chat.say(member, "抢红包", minutes=2 + i)
        got[member] = await chat.balance(member)
        assert str(got[member]) in reply and f"{i + 1}/3" in reply
    assert sorted(got.values()) == sorted(s.amount for s in stored)
    best = max(stored, key=lambda s: (s.amount, -s.seq))
    assert "Luckiest" in reply and str(best.amount) in reply
    assert await chat.say("d", "抢红包", minutes=6) == []
    assert await chat.balance("d") == 0
    [packet] = await packets(chat)
    assert packet.status == "finished" and packet.claimed_count == 3


async def test_one_claim_per_person_and_a_duplicate_event_counts_once(chat: Chat) -> None:
    await chat.grant("boss", 50)
    await chat.say("boss", "发红包 10 2 普通", minutes=1)
    grab = f.message("a", "抢红包", minutes=2)
    [first] = await chat.post(grab)
    assert "5" in first
    sent = len(await chat.actions())
    await chat.post(grab)  # the same event again: a duplicate, nothing happens
    assert len(await chat.actions()) == sent
    [again] = await chat.say("a", "/抢红包", minutes=3)
    assert "already" in again
    assert await chat.balance("a") == 5
    assert await entry_count(chat, "redpacket_claim") == 1


async def test_equal_split_spreads_the_remainder(chat: Chat) -> None:
    await chat.grant("boss", 50)
    await chat.say("boss", "redpacket 11 3 equal", minutes=1)
    [packet] = await packets(chat)
    assert [s.amount for s in await shares_of(chat, packet.id)] == [4, 4, 3]


async def test_not_enough_points_is_refused_with_nothing_created(chat: Chat) -> None:
    await chat.grant("boss", 30)
    [reply] = await chat.say("boss", "发红包 100 5", minutes=1)
    assert "not enough points" in reply and "30" in reply and "100" in reply
    assert await packets(chat) == []
    assert await chat.balance("boss") == 30
    assert await entry_count(chat, "redpacket_send") == 0


async def test_bad_requests_are_explained_and_change_nothing(chat: Chat) -> None:
    await chat.enable(max_total=1000, max_count=10)
    await chat.grant("boss", 5000)
    [fewer] = await chat.say("boss", "发红包 3 5", minutes=1)
    assert "at least the number of shares (5)" in fewer
    [too_many] = await chat.say("boss", "发红包 100 11", minutes=2)
    assert "10" in too_many
    [too_much] = await chat.say("boss", "发红包 2000 10", minutes=3)
    assert "1000" in too_much
    [usage] = await chat.say("boss", "发红包 很多", minutes=4)
    assert "发红包 <total points> <shares>" in usage
    assert await packets(chat) == [] and await chat.balance("boss") == 5000


async def test_a_password_packet_needs_its_password(chat: Chat) -> None:
    await chat.grant("boss", 100)
    [announce] = await chat.say("boss", "发红包 20 2 拼手气 恭喜发财", minutes=1)
    assert "恭喜发财" in announce
    assert await chat.say("a", "抢红包", minutes=2) == []
    [reply] = await chat.say("a", "恭喜发财", minutes=3)
    assert "1/2" in reply and await chat.balance("a") > 0


async def test_expiry_refunds_exactly_the_rest(chat: Chat) -> None:
    await chat.enable(expire_hours=2)
    await chat.grant("boss", 100)
    await chat.say("boss", "发红包 60 4", minutes=1)
    await chat.say("a", "抢红包", minutes=2)
    await chat.say("b", "抢红包", minutes=3)
    claimed = await chat.balance("a") + await chat.balance("b")
    assert await chat.tick(later(2.5)) == 1
    assert await chat.balance("boss") == 100 - claimed
    [packet] = await packets(chat)
    assert packet.status == "expired" and packet.refunded == 60 - claimed
    [notice] = [a.data["text"] for a in await chat.actions() if a.caused_by.startswith("j")]
    assert str(60 - claimed) in notice and "expired" in notice
    assert await chat.say("c", "抢红包", minutes=200) == []  # nothing open any more
    assert await chat.tick(later(5)) == 0  # the refund happens once
    assert await entry_count(chat, "redpacket_refund") == 1


async def test_two_open_packets_are_grabbed_oldest_first(chat: Chat) -> None:
    await chat.grant("boss", 100)
    await chat.say("boss", "发红包 2 1", minutes=1)
    await chat.say("boss", "发红包 3 1", minutes=2)
    await chat.say("a", "抢红包", minutes=3)
    await chat.say("a", "抢红包", minutes=4)  # the second packet
    await chat.say("b", "抢红包", minutes=5)
    assert await chat.balance("a") == 5 and await chat.balance("b") == 0


async def test_off_by_default(chat: Chat) -> None:
    await chat.enable(enabled=False)
    await chat.grant("boss", 100)
    assert await chat.say("boss", "发红包 10 2", minutes=1) == []
    assert await chat.balance("boss") == 100

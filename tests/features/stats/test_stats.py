"""The stats feature: daily rollups per group in the community's local day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Group
from qunyun.features.stats.models import DailyStats
from qunyun.features.stats.service import get_daily
from tests import factories as f


async def daily(rt: Runtime, group: str = "g1") -> dict[date, DailyStats]:
    async with rt.sessions() as session:
        gid = await session.scalar(select(Group.id).where(Group.platform_id == group))
        assert gid is not None
        return {d.day: d for d in await get_daily(session, group_id=gid)}


async def test_counts_a_day(runtime: Runtime, org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [
        f.message("old", "老成员说话", minutes=1),      # inside before qunyun: not a new member
        f.joined("u1", minutes=2),
        f.joined("u2", minutes=3),
        f.message("u1", "大家好", minutes=4),           # u1's first message
        f.message("u1", "又来了", minutes=5),
        f.message("u2", "hi", minutes=6),              # u2's first message
        f.left("u2", minutes=7),
        f.joined("u2", minutes=8),                     # a new period: a join again
        f.message("u2", "我回来了", minutes=9),         # first message of the new period
        f.message("old", "…", minutes=10),
    ])
    day = (await daily(runtime))[date(2026, 11, 22)]
    assert (day.joins, day.leaves, day.messages, day.speakers, day.first_messages) == (
        3, 1, 6, 3, 3)


async def test_counts_add_up_across_batches(runtime: Runtime, org_id: int) -> None:
    for i in range(5):
        await runtime.pipeline.ingest(org_id, [f.message(f"u{i % 2}", minutes=i)])
    day = (await daily(runtime))[date(2026, 11, 22)]
    assert (day.messages, day.speakers) == (5, 2)


async def test_local_day_boundary(runtime: Runtime, org_id: int) -> None:
    # 2026-11-22T15:59Z is 23:59 in Shanghai; 16:00Z is already the 23rd there.
    await runtime.pipeline.ingest(org_id, [f.message("u1", minutes=15 * 60 + 59),
                                           f.message("u1", minutes=16 * 60)])
    days = await daily(runtime)
    assert days[date(2026, 11, 22)].messages == 1
    assert days[date(2026, 11, 23)].messages == 1


async def test_groups_are_counted_apart(runtime: Runtime, org_id: int) -> None:
    await runtime.pipeline.ingest(org_id, [f.message("u1", group="a"), f.message("u1", group="b"),
                                           f.message("u2", group="b")])
    assert (await daily(runtime, "a"))[date(2026, 11, 22)].speakers == 1
    assert (await daily(runtime, "b"))[date(2026, 11, 22)].speakers == 2

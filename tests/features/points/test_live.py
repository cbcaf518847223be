"""The points feature in the pipeline: anti-farming, reactions, invites with a hold, events
seen twice, and live awards equal to a recompute of the same history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.app.points_recompute import plan_recompute
from qunyun.core.config import Config
from qunyun.points.models import PointsEntry
from tests import factories as f
from tests.conftest import START
from tests.features.points.conftest import (
    balances,
    community_of,
    feed,
    mixed_history,
    points_registry,
    post,
    react,
    switch_on,
)


async def reasons(runtime: Runtime) -> list[tuple[str, int]]:
    async with runtime.sessions() as session:
        rows = await session.execute(select(PointsEntry.reason, PointsEntry.amount)
                                     .order_by(PointsEntry.id))
        return [(r, a) for r, a in rows]


async def test_off_by_default(runtime: Runtime, org_id: int) -> None:
    await feed(runtime, org_id, post("u1", "大家早上好，今天天气不错", "m1", 0))
    assert await balances(runtime, org_id) == {}


async def test_messages_earn_with_anti_farming(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id)
    await feed(runtime, org_id,
               post("u1", "大家早上好，今天天气不错", "m1", 0),      # +1
               post("u1", "我先去开个会等会儿聊", "m2", 0.5),        # cooldown
               post("u1", "大家早上好！今天天气不错！", "m3", 2),    # near-duplicate
               post("u1", "好的👌👌👌", "m4", 3),                    # too short
               post("u1", "新品下周二到店，记得来看", "m5", 4),      # +1
               post("u2", "收到，谢谢店长的通知", "m6", 4))          # +1
    assert await balances(runtime, org_id) == {"u1": 2, "u2": 1}


async def test_the_daily_cap_resets_at_local_midnight(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, message_daily_cap=2, message_cooldown_seconds=0)
    # 15:5x UTC is 23:5x in Shanghai; 16:00 UTC starts the next local day.
    await feed(runtime, org_id, *(post("u1", f"第{i}条认真写的不同内容{i * 31}", f"m{i}",
                                       15 * 60 + 50 + i) for i in range(4)))
    await feed(runtime, org_id, post("u1", "新的一天第一条发言", "m9", 16 * 60 + 1))
    assert await balances(runtime, org_id) == {"u1": 3}


async def test_the_same_event_twice_awards_once(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id)
    events = [post("u1", "一条值得奖励的发言内容", "m1", 0, id="dup-1"),
              react("u2", "m1", 1) | {"id": "dup-2"}]
    await feed(runtime, org_id, *events)
    await feed(runtime, org_id, *events)
    await runtime.pipeline.ingest(org_id, events)
    assert await reasons(runtime) == [("message", 1), ("reaction", 1)]


async def test_reactions_pay_the_author_once_per_reactor(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, message_points=0, reaction_daily_cap=3)
    await feed(runtime, org_id, post("u1", "看看我拍的照片", "m1", 0), post("u9", "嗯", "m2", 0),
               react("u2", "m1", 1))                                 # same batch: +1
    await feed(runtime, org_id,
               react("u2", "m1", 2, emoji="❤️"),                     # the same reactor again
               react("u1", "m1", 3),                                 # own message
               react("u3", "m1", 4),                                 # +1
               react("u3", "m404", 5),                               # unknown message
               react("u4", "m1", 6), react("u5", "m1", 7),           # +1, then the cap
               react("u2", "m2", 8))                                 # +1 for u9
    assert await balances(runtime, org_id) == {"u1": 3, "u9": 1}


async def test_invites_count_once_the_invitee_stayed(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, message_points=0, invite_hold_hours=24)
    await feed(runtime, org_id,
               f.joined("u2", inviter="u1", minutes=0),
               f.joined("u3", inviter="u1", minutes=1),
               f.joined("u4", inviter="u4", minutes=2),              # invited themselves
               f.left("u3", minutes=60))                             # left within the hold
    await runtime.pipeline.tick(START + timedelta(hours=23))
    assert await balances(runtime, org_id) == {}
    await runtime.pipeline.tick(START + timedelta(hours=25))
    assert await balances(runtime, org_id) == {"u1": 10}
    # u2 leaves and is invited again, by someone else: a person brings points once.
    await feed(runtime, org_id, f.left("u2", minutes=26 * 60),
               f.joined("u2", inviter="u5", minutes=27 * 60))
    await runtime.pipeline.tick(START + timedelta(hours=60))
    assert await balances(runtime, org_id) == {"u1": 10}


async def test_without_a_hold_the_inviter_earns_at_once(runtime: Runtime,
                                                        org_id: int) -> None:
    await switch_on(runtime, org_id, invite_hold_hours=0, invite_points=5)
    await feed(runtime, org_id, f.joined("u2", inviter="u1", minutes=0),
               f.joined("u2", inviter="u1", minutes=1))  # resent by the platform
    assert await balances(runtime, org_id) == {"u1": 5}


SETTINGS = {"message_daily_cap": 6, "reaction_daily_cap": 3, "invite_hold_hours": 1}


async def test_live_awards_equal_a_recompute(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, **SETTINGS)
    history = mixed_history(seed=3, count=400)
    for start in range(0, len(history), 37):
        await feed(runtime, org_id, *history[start:start + 37])
    until = START + timedelta(days=5)
    await runtime.pipeline.tick(until)
    earned = await balances(runtime, org_id)
    assert len(earned) >= 6 and {r for r, _ in await reasons(runtime)} == {
        "message", "reaction", "invite"}
    async with runtime.sessions() as session:
        plan = await plan_recompute(session, runtime.registry, org_id=org_id,
                                    community_id=await community_of(runtime, org_id),
                                    until=until)
    assert plan.members == [] and plan.current_total == plan.recomputed_total > 0


async def test_replay_gives_identical_balances(runtime: Runtime, org_id: int,
                                               tmp_path: Path) -> None:
    """The same history in other batches, into another database: the same balances."""
    history = mixed_history(seed=5, count=300)
    await switch_on(runtime, org_id, **SETTINGS)
    await feed(runtime, org_id, *history)
    url = f"sqlite+aiosqlite:///{tmp_path / 'again.db'}"
    again = await build_runtime(Config(data_dir=tmp_path, database_url=url), replay=True,
                                registry=points_registry())
    try:
        again_org = await ensure_default_org(again.sessions, START)
        await switch_on(again, again_org, **SETTINGS)
        for start in range(0, len(history), 11):
            await feed(again, again_org, *history[start:start + 11])
        until = START + timedelta(days=5)
        await runtime.pipeline.tick(until)
        await again.pipeline.tick(until)
        assert await balances(again, again_org) == await balances(runtime, org_id)
        async with again.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(PointsEntry)) > 50
    finally:
        await again.close()


async def test_points_expire_at_local_midnight(runtime: Runtime, org_id: int) -> None:
    await switch_on(runtime, org_id, expire_after_days=1)
    await feed(runtime, org_id, post("u1", "早上好，今天也要加油", "m1", 0),  # 08:00 local
               post("u2", "收到，大家一起加油吧", "m2", 0))
    await runtime.pipeline.tick(START + timedelta(hours=17))  # local midnight: too young
    assert await balances(runtime, org_id) == {"u1": 1, "u2": 1}
    await feed(runtime, org_id, post("u2", "今天的新品我已经看过了", "m3", 20 * 60))
    await runtime.pipeline.tick(START + timedelta(days=2))  # the next midnight: expired
    assert await balances(runtime, org_id) == {"u1": 0, "u2": 1}
    assert sorted(await reasons(runtime))[:2] == [("expire", -1), ("expire", -1)]

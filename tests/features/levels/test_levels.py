"""Levels: promotion with one congratulation, no repeats, demotion with hysteresis."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Group
from qunyun.core.i18n import gettext
from qunyun.features.levels.models import LevelChange, LevelMember
from qunyun.pipeline.models import ActionRecord
from qunyun.points import service as ledger
from tests import factories as f
from tests.features.levels.kit import community_of, configure, feed, person_of, texts

DAY = 24 * 60
CONGRATS = "Congratulations {name}, you are now {level}!"
LADDER = [{"name": "新人", "threshold": 0}, {"name": "活跃", "threshold": 10},
          {"name": "达人", "threshold": 20}]


async def level_of(runtime: Runtime, org_id: int, user: str) -> tuple[int, int]:
    """(level, best level) of a user in the default community."""
    person = await person_of(runtime, org_id, user)
    async with runtime.sessions() as session:
        row = (await session.execute(select(LevelMember.level, LevelMember.best_level).where(
            LevelMember.person_id == person))).one()
    return row.level, row.best_level


async def test_crossing_a_threshold_is_congratulated_once(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels")
    await feed(runtime, org_id, f.message("u1", "+60", name="小王", minutes=1),
               f.message("u1", "+30", minutes=2))
    assert await texts(runtime, "levels") == []
    crossing = f.message("u1", "+20", name="小王", minutes=3)
    await feed(runtime, org_id, crossing, f.message("u1", "+5", minutes=4))
    await feed(runtime, org_id, crossing, f.message("u1", "+5", minutes=5))  # a duplicate
    await feed(runtime, org_id, f.message("u2", "恭喜", minutes=6))
    assert await texts(runtime, "levels") == [gettext(CONGRATS, name="小王", level="助理")]
    assert await level_of(runtime, org_id, "u1") == (1, 1)
    async with runtime.sessions() as session:
        [change] = (await session.scalars(select(LevelChange))).all()
    assert (change.from_level, change.to_level, change.title) == (0, 1, "助理")


async def test_points_written_before_commit_are_announced_at_the_next_event(
        runtime: Runtime, org_id: int) -> None:
    """The points of messages are written before commit: the promotion is settled then and
    announced at the group's next event, once."""
    await configure(runtime, org_id, "levels")
    await feed(runtime, org_id, f.message("u1", "*90", name="小王", minutes=1),
               f.message("u1", "*20", name="小王", minutes=2))
    assert await level_of(runtime, org_id, "u1") == (1, 1)
    assert await texts(runtime, "levels") == []
    await feed(runtime, org_id, f.message("u2", "有人吗", group="g2", minutes=3))
    assert await texts(runtime, "levels") == []  # another group: it waits
    await feed(runtime, org_id, f.message("u2", "早", minutes=4), f.message("u2", "早", minutes=5))
    await feed(runtime, org_id, f.message("u1", "*1", minutes=6))
    assert await texts(runtime, "levels") == [gettext(CONGRATS, name="小王", level="助理")]


async def test_an_inviter_is_promoted_by_an_invite(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels")
    await feed(runtime, org_id, f.joined("boss", name="老板", minutes=1),
               f.joined("guest", name="客人", inviter="boss", minutes=2))
    await feed(runtime, org_id, f.message("guest", "谢谢邀请", minutes=3))
    assert await level_of(runtime, org_id, "boss") == (1, 1)
    assert await texts(runtime, "levels") == [gettext(CONGRATS, name="老板", level="助理")]
    async with runtime.sessions() as session:
        [mention] = (await session.scalars(select(ActionRecord.data))).all()
    assert mention["mentions"] == ["boss"]


async def test_a_staff_adjustment_counts_at_the_next_change(runtime: Runtime,
                                                            org_id: int) -> None:
    """A jump over levels is one congratulation, for the level reached."""
    await configure(runtime, org_id, "levels", congratulation="🎉 {name} → {level}")
    await feed(runtime, org_id, f.message("u1", "hi", name="阿明", minutes=1))
    community = await community_of(runtime, org_id)
    person = await person_of(runtime, org_id, "u1")
    async with runtime.sessions() as session:
        await ledger.do_adjust(session, org_id=org_id, community_id=community, person_id=person,
                               amount=600, actor="staff:hq", note="活动奖励", key="adj-1",
                               at=f.BASE + timedelta(minutes=2))
        await session.commit()
    await feed(runtime, org_id, f.message("u1", "+1", name="阿明", minutes=3))
    await feed(runtime, org_id, f.message("u1", "+1", name="阿明", minutes=4))
    assert await texts(runtime, "levels") == ["🎉 阿明 → 主管"]
    assert await level_of(runtime, org_id, "u1") == (2, 2)


async def test_spending_never_demotes_on_points(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels", demotion=True)
    await feed(runtime, org_id, f.message("u1", "+150", minutes=1),
               f.message("u1", "-140", minutes=2))
    await feed(runtime, org_id, f.message("u1", "还在吗", minutes=3))
    assert await level_of(runtime, org_id, "u1") == (1, 1)


async def test_activity_demotion_with_hysteresis(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels", basis="activity", levels=LADDER,
                    activity_days=2, demotion=True, hysteresis=0.9, badges=[])

    async def post(day: int, count: int) -> None:
        await feed(runtime, org_id, *(f.message("u1", f"第{day}天 {i}", name="小李",
                                                minutes=day * DAY + 60 + i)
                                      for i in range(count)))

    async def midnight(day: int) -> None:  # local midnight before `day` (Asia/Shanghai)
        await runtime.pipeline.tick(f.BASE + timedelta(minutes=day * DAY - 8 * 60))

    await post(0, 20)
    assert await level_of(runtime, org_id, "u1") == (2, 2)
    await post(1, 18)  # announces yesterday's promotion
    await midnight(2)  # window: days 1-2 = 18, exactly 90 % of 20: kept
    assert await level_of(runtime, org_id, "u1") == (2, 2)
    await post(2, 17)
    await midnight(3)  # days 2-3 = 17 < 18: down to 活跃
    assert await level_of(runtime, org_id, "u1") == (1, 2)
    await post(3, 3)  # days 2-3 = 20 again: back up, not congratulated twice
    assert await level_of(runtime, org_id, "u1") == (2, 2)
    await midnight(5)  # days 3-4 = 3: everything is gone
    assert await level_of(runtime, org_id, "u1") == (0, 2)
    assert await texts(runtime, "levels") == [gettext(CONGRATS, name="小李", level="达人")]
    async with runtime.sessions() as session:
        moves = (await session.execute(select(LevelChange.from_level, LevelChange.to_level)
                                       .order_by(LevelChange.id))).all()
    assert [tuple(m) for m in moves] == [(0, 2), (2, 1), (1, 2), (2, 0)]


async def test_without_demotion_activity_levels_stay(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels", basis="activity", levels=LADDER,
                    activity_days=1, badges=[])
    await feed(runtime, org_id, *(f.message("u1", f"m{i}", minutes=i) for i in range(12)))
    await feed(runtime, org_id, f.message("u1", "次日", minutes=DAY + 1))
    assert await level_of(runtime, org_id, "u1") == (1, 1)


async def test_my_level_reply(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels")
    await feed(runtime, org_id, f.message("u1", "+120", name="小王", minutes=1))
    ask = f.message("u1", "我的等级", name="小王", minutes=2)
    await feed(runtime, org_id, ask)
    reply = (await texts(runtime, "levels"))[-1]
    assert reply.splitlines() == [
        gettext("{name}: {level} · {value} points earned", name="小王", level="助理", value=120),
        gettext("{missing} more to {next}", missing=380, next="主管"),
        gettext("No badges yet")]
    await feed(runtime, org_id, f.message("u1", "/level", name="小王", minutes=3))
    assert (await texts(runtime, "levels"))[-1] == reply


async def test_a_group_outside_any_community_is_left_alone(runtime: Runtime,
                                                          org_id: int) -> None:
    await configure(runtime, org_id, "levels")
    await feed(runtime, org_id, f.message("u1", "+200", minutes=1))
    async with runtime.sessions() as session:
        await session.execute(update(Group).values(community_id=None))
        await session.commit()
    await feed(runtime, org_id, f.message("u1", "我的等级", minutes=2))
    assert await texts(runtime, "levels") == []  # neither the promotion nor a reply

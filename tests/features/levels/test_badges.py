"""Badges: each awarded once, announced once, by its rule."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.core.i18n import gettext
from qunyun.features.levels.ladder import BADGES
from qunyun.features.levels.models import BadgeAward
from tests import factories as f
from tests.features.levels.kit import configure, feed, person_of, texts

DAY = 24 * 60
EARNED = "{name} earned the badge: {badge}"


def earned(name: str, badge: str) -> str:
    return gettext(EARNED, name=name, badge=gettext(BADGES[badge]))


async def badges_of(runtime: Runtime, org_id: int, user: str) -> list[str]:
    person = await person_of(runtime, org_id, user)
    async with runtime.sessions() as session:
        rows = await session.scalars(select(BadgeAward.badge).where(
            BadgeAward.person_id == person).order_by(BadgeAward.awarded_at, BadgeAward.badge))
        return list(rows)


async def test_first_signin_and_a_seven_day_streak(runtime: Runtime, org_id: int) -> None:
    """Announced at the group's next event (here: the next day's sign-in)."""
    await configure(runtime, org_id, "levels", badges=["first_signin", "streak_7"])
    for day in range(8):
        if day != 1:  # a gap: the streak starts again on day 2
            await feed(runtime, org_id, f.message("u1", "签到", name="小王",
                                                  minutes=day * DAY + 30))
    assert await badges_of(runtime, org_id, "u1") == ["first_signin"]
    await feed(runtime, org_id, f.message("u1", "签到", name="小王", minutes=8 * DAY + 30))
    await feed(runtime, org_id, f.message("u1", "签到", name="小王", minutes=9 * DAY + 30))
    await feed(runtime, org_id, f.message("u2", "恭喜", minutes=9 * DAY + 31))
    assert await badges_of(runtime, org_id, "u1") == ["first_signin", "streak_7"]
    assert await texts(runtime, "levels") == [earned("小王", "first_signin"),
                                              earned("小王", "streak_7")]


async def test_a_second_signin_the_same_day_earns_nothing_new(runtime: Runtime,
                                                              org_id: int) -> None:
    await configure(runtime, org_id, "levels", badges=["first_signin"])
    signin = f.message("u1", "签到", name="小王", minutes=10)
    await feed(runtime, org_id, signin, f.message("u1", "签到", minutes=11))
    await feed(runtime, org_id, signin, f.message("u2", "早", minutes=12))
    assert await texts(runtime, "levels") == [earned("小王", "first_signin")]


async def test_early_bird_goes_to_the_first_of_the_group(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels", badges=["early_bird"])
    await feed(runtime, org_id, f.message("u1", "签到", name="早起", minutes=-7 * 60 + 5),
               f.message("u2", "签到", name="晚到", minutes=-7 * 60 + 6),
               f.message("u2", "签到", name="晚到", group="g2", minutes=-7 * 60 + 7))
    assert await badges_of(runtime, org_id, "u1") == ["early_bird"]
    assert await badges_of(runtime, org_id, "u2") == []  # g2: already signed in today
    await feed(runtime, org_id, f.message("u2", "签到", name="晚到", minutes=DAY - 7 * 60))
    await feed(runtime, org_id, f.message("u1", "签到", name="早起", minutes=DAY - 7 * 60 + 1))
    assert await badges_of(runtime, org_id, "u2") == ["early_bird"]
    assert len(await texts(runtime, "levels")) == 2


async def test_a_hundred_messages(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels", badges=["messages_100"], announce_badges=False)
    await feed(runtime, org_id, *(f.message("u1", f"第{i}条", minutes=i) for i in range(60)))
    await feed(runtime, org_id, *(f.message("u1", f"第{i}条", group="g2", minutes=60 + i)
                                  for i in range(39)))
    assert await badges_of(runtime, org_id, "u1") == []
    await feed(runtime, org_id, f.message("u1", "第一百条", group="g2", minutes=100),
               f.message("u1", "又一条", minutes=101))
    assert await badges_of(runtime, org_id, "u1") == ["messages_100"]
    await feed(runtime, org_id, f.message("u1", "再来", minutes=102))
    assert await texts(runtime, "levels") == []  # not announced when switched off


async def test_a_hundred_messages_announced_in_the_group_of_the_last(runtime: Runtime,
                                                                    org_id: int) -> None:
    await configure(runtime, org_id, "levels", badges=["messages_100"])
    await feed(runtime, org_id, *(f.message("u1", f"第{i}条", group="g2", name="话痨",
                                            minutes=i) for i in range(100)))
    await feed(runtime, org_id, f.message("u2", "路过", minutes=101))
    assert await texts(runtime, "levels") == []
    await feed(runtime, org_id, f.message("u2", "路过", group="g2", minutes=102))
    await feed(runtime, org_id, f.message("u2", "再路过", group="g2", minutes=103))
    assert await texts(runtime, "levels") == [earned("话痨", "messages_100")]


async def test_top_inviter_of_the_month(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "levels", badges=["top_inviter_month"])
    await feed(runtime, org_id,
               f.joined("boss", name="老板", minutes=-100),
               *(f.joined(f"a{i}", name=f"朋友{i}", inviter="boss", minutes=i) for i in range(3)),
               *(f.joined(f"b{i}", name=f"同事{i}", inviter="helper", minutes=10 + i)
                 for i in range(2)),
               f.joined("a0", name="朋友0", inviter="boss", group="g2", minutes=20))
    december = f.BASE + timedelta(days=9)  # 2026-12-01 08:00 in Shanghai
    await runtime.pipeline.tick(december)
    await runtime.pipeline.tick(december + timedelta(days=1))
    assert await badges_of(runtime, org_id, "boss") == ["top_inviter_month"]
    assert await badges_of(runtime, org_id, "helper") == []
    assert await texts(runtime, "levels") == [gettext(
        "{name} is the top inviter of {month}: {count} people invited!", name="老板",
        month="2026-11", count=3)]

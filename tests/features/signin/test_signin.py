"""`signin`: keywords, once per local day, ranks per group, streaks and bonuses, the ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.core.i18n import gettext
from qunyun.features.signin.handlers import ALREADY, BONUS, SIGNED
from qunyun.features.signin.models import SigninDaily, SigninRecord
from qunyun.features.signin.plugin import FEATURE
from qunyun.points.models import PointsEntry
from tests import factories as f
from tests.features.signin.conftest import DAY, balance_of, configure, say, streaks_of

# 2026-11-22T00:00Z is 08:00 of the 22nd in Shanghai (the default community time zone).
FIRST = date(2026, 11, 22)


def signed(rank: int, streak: int, points: int, balance: int) -> str:
    return gettext(SIGNED, "zh_CN", rank=rank, streak=streak, points=points, balance=balance)


def already(streak: int, balance: int) -> str:
    return gettext(ALREADY, "zh_CN", streak=streak, balance=balance)


async def test_a_sign_in_replies_with_rank_streak_points_and_balance(rt: Runtime,
                                                                     org: int) -> None:
    replies = await say(rt, org, f.message("u1", "签到"), f.message("u2", "/打卡", minutes=1),
                        f.message("u3", "signin", minutes=2), f.message("u4", "今天签到了吗"))
    assert replies == [signed(1, 1, 10, 10), signed(2, 1, 10, 10), signed(3, 1, 10, 10)]
    async with rt.sessions() as session:
        entries = (await session.execute(select(PointsEntry.reason, PointsEntry.amount,
                                                PointsEntry.group_id))).all()
        assert sorted(r for r, _, _ in entries) == ["signin"] * 3
        assert {a for _, a, _ in entries} == {10} and None not in {g for _, _, g in entries}


async def test_ordinary_messages_leave_no_trace(rt: Runtime, org: int) -> None:
    assert await say(rt, org, f.message("u1", "大家早"), f.message("u1", "签到签到签到" * 10),
                     f.message("u1", "我签到了")) == []
    async with rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SigninRecord)) == 0


async def test_once_per_person_and_day_across_groups(rt: Runtime, org: int) -> None:
    replies = await say(rt, org, f.message("u1", "签到", group="a"),
                        f.message("u2", "签到", group="b", minutes=1),
                        f.message("u1", "签到", group="b", minutes=2),  # already, in another group
                        f.message("u1", "打卡", group="a", minutes=3))
    assert replies == [signed(1, 1, 10, 10), signed(1, 1, 10, 10), already(1, 10),
                       already(1, 10)]
    async with rt.sessions() as session:
        counts = {g: c for g, c in await session.execute(
            select(SigninDaily.group_id, SigninDaily.count))}
    assert sorted(counts.values()) == [1, 1]  # ranks are per group; u1 counted in a only
    assert await balance_of(rt, org, "u1") == 10


async def test_the_day_is_the_community_local_day(rt: Runtime, org: int) -> None:
    await configure(rt, org, "community", timezone="Europe/Berlin")
    # 2026-11-22T22:59Z is 23:59 in Berlin; 23:01Z is 00:01 of the 23rd there.
    late, early = 22 * 60 + 59, 23 * 60 + 1
    replies = await say(rt, org, f.message("u1", "签到", minutes=late),
                        f.message("u1", "签到", minutes=early))
    assert replies == [signed(1, 1, 10, 10), signed(1, 2, 10, 20)]
    assert await streaks_of(rt, "u1") == {FIRST: ("signin", 1),
                                          date(2026, 11, 23): ("signin", 2)}
    # 23:59 and 00:01 in Shanghai (the default) would be 15:59Z and 16:01Z.
    await configure(rt, org, "community", timezone="Asia/Shanghai")
    replies = await say(rt, org, f.message("u2", "签到", group="g2", minutes=15 * 60 + 59),
                        f.message("u2", "签到", group="g2", minutes=16 * 60 + 1))
    assert replies == [signed(1, 1, 10, 10), signed(1, 2, 10, 20)]


async def test_streak_bonus_and_a_missed_day_breaks_the_streak(rt: Runtime, org: int) -> None:
    await configure(rt, org, points=3, streak_bonus={"2": 1, "3": 7})
    replies = []
    for day in (0, 1, 2, 4):  # the fourth day is missed
        replies += await say(rt, org, f.message("u1", "签到", minutes=day * DAY))
    assert replies == [signed(1, 1, 3, 3),
                       signed(1, 2, 4, 7) + "\n" + gettext(BONUS, "zh_CN", days=2, bonus=1),
                       signed(1, 3, 10, 17) + "\n" + gettext(BONUS, "zh_CN", days=3, bonus=7),
                       signed(1, 1, 3, 20)]
    async with rt.sessions() as session:
        reasons = {r: n for r, n in await session.execute(
            select(PointsEntry.reason, func.sum(PointsEntry.amount))
            .group_by(PointsEntry.reason))}
    assert reasons == {"signin": 12, "signin_bonus": 8}


async def test_the_same_event_twice_awards_once(rt: Runtime, org: int) -> None:
    event = f.message("u1", "签到")
    assert await say(rt, org, event, event) == [signed(1, 1, 10, 10)]
    assert await say(rt, org, event) == [signed(1, 1, 10, 10)]  # the earlier reply, not a new one
    assert await balance_of(rt, org, "u1") == 10
    async with rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PointsEntry)) == 1


async def test_settings_change_keywords_and_points(rt: Runtime, org: int) -> None:
    await configure(rt, org, keywords=["到"], aliases=[], points=5)
    assert await say(rt, org, f.message("u1", "签到"), f.message("u1", "signin")) == []
    assert await say(rt, org, f.message("u1", "到")) == [signed(1, 1, 5, 5)]
    await configure(rt, org, enabled=False)
    assert await say(rt, org, f.message("u2", "签到"), f.message("u2", "到")) == []


def test_usage_names_the_keywords_points_and_cards() -> None:
    lines = FEATURE.usage(FEATURE.default_settings(), "en") if FEATURE.usage else []
    assert lines[0] == "签到 / 打卡 / signin: sign in once a day for 10 points"
    assert "3 days +5" in lines[1] and "30 days +100" in lines[1]
    assert "买补签卡" in lines[2] and "50" in lines[2]
    assert "补签" in lines[3] and "7" in lines[3]

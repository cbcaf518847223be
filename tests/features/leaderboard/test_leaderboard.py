"""The leaderboard command: periods in local time, metrics, group or community, own place."""

from __future__ import annotations

from typing import Any

from qunyun.app.bootstrap import Runtime
from qunyun.core.i18n import gettext
from tests import factories as f
from tests.features.levels.kit import configure, feed, texts

DAY = 24 * 60
# f.BASE is Sunday 2026-11-22 08:00 in Shanghai; 15:30Z is 23:30 that Sunday.
SUNDAY_2330, MONDAY_0010 = 15 * 60 + 30, 16 * 60 + 10


def title(period: str, metric: str, scope: str) -> str:
    return gettext("{period} · {metric} leaderboard · {scope}", period=gettext(period),
                   metric=gettext(metric), scope=gettext(scope))


def mine(rank: int, value: int) -> str:
    return gettext("Your place: {rank} · {value}", rank=rank, value=value)


async def ask(runtime: Runtime, org_id: int, user: str, text: str, minutes: float,
              **kw: Any) -> list[str]:
    await feed(runtime, org_id, f.message(user, text, name=user.upper(), minutes=minutes, **kw))
    return (await texts(runtime, "leaderboard"))[-1].splitlines()


async def test_a_week_ends_on_sunday_night_local_time(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "leaderboard")
    await feed(runtime, org_id,
               f.message("u3", "+20", name="U3", minutes=-DAY),  # Saturday
               f.message("u1", "+50", name="U1", minutes=SUNDAY_2330),
               f.message("u0", "+99", name="U0", minutes=-7 * DAY))  # the week before
    week = title("This week", "Points", "this group")
    assert await ask(runtime, org_id, "u3", "排行榜 周 积分", SUNDAY_2330 + 10) == [
        week, "1. U1 · 50", "2. U3 · 20", mine(2, 20)]
    await feed(runtime, org_id, f.message("u2", "+30", name="U2", minutes=MONDAY_0010))
    assert await ask(runtime, org_id, "u3", "/rank week", MONDAY_0010 + 5) == [
        week, "1. U2 · 30", gettext("You are not on this board yet.")]
    assert await ask(runtime, org_id, "u3", "排行榜 总", MONDAY_0010 + 6) == [
        title("All time", "Points", "this group"), "1. U0 · 99", "2. U1 · 50", "3. U2 · 30",
        "4. U3 · 20", mine(4, 20)]


async def test_day_and_month_follow_the_local_calendar(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "leaderboard", default_period="day")
    await feed(runtime, org_id,
               f.message("u1", "+10", name="U1", minutes=-8 * 60 - 1),  # 23:59 the day before
               f.message("u2", "+10", name="U2", minutes=-8 * 60),  # 00:00 today
               f.message("u3", "+10", name="U3", minutes=-23 * DAY))  # 30 October
    assert await ask(runtime, org_id, "u2", "排行榜", 1) == [
        title("Today", "Points", "this group"), "1. U2 · 10", mine(1, 10)]
    assert await ask(runtime, org_id, "u2", "排行榜 本月", 2) == [
        title("This month", "Points", "this group"), "1. U1 · 10", "1. U2 · 10", mine(1, 10)]


async def test_a_group_or_the_whole_community(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "leaderboard", default_period="all")
    await feed(runtime, org_id, f.message("u1", "+30", name="U1", minutes=1),
               f.message("u2", "+40", name="U2", group="g2", minutes=2),
               f.message("u2", "-35", name="U2", group="g2", minutes=3))  # spending keeps places
    assert await ask(runtime, org_id, "u1", "排行榜", 4) == [
        title("All time", "Points", "this group"), "1. U1 · 30", mine(1, 30)]
    community = title("All time", "Points", "whole community")
    assert await ask(runtime, org_id, "u1", "排行榜 全群", 5) == [
        community, "1. U2 · 40", "2. U1 · 30", mine(2, 30)]
    assert await ask(runtime, org_id, "u1", "排行榜 本周全群", 6) == [
        title("This week", "Points", "whole community"), "1. U2 · 40", "2. U1 · 30",
        mine(2, 30)]


async def test_signins_and_messages(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "leaderboard")
    await feed(runtime, org_id,
               *(f.message("u1", "签到", name="U1", minutes=-d * DAY) for d in range(3)),
               *(f.message("u2", "签到", name="U2", minutes=-d * DAY + 1) for d in range(2)),
               *(f.message("u3", f"hi {i}", name="U3", group="g2", minutes=10 + i)
                 for i in range(5)))
    assert await ask(runtime, org_id, "u2", "排行榜 月 签到", 20) == [
        title("This month", "Sign-ins", "this group"), "1. U1 · 3", "2. U2 · 2", mine(2, 2)]
    assert await ask(runtime, org_id, "u2", "排行榜 今日 签到", 21) == [
        title("Today", "Sign-ins", "this group"), "1. U1 · 1", "1. U2 · 1", mine(1, 1)]
    # Today's messages: u1 signed in once, u2 once plus the two commands and this one.
    assert await ask(runtime, org_id, "u2", "排行榜 日 发言", 22) == [
        title("Today", "Messages posted", "this group"), "1. U2 · 4", "2. U1 · 1", mine(1, 4)]
    await feed(runtime, org_id, f.message("u1", "追上来", name="U1", minutes=23))
    assert await ask(runtime, org_id, "u1", "leaderboard messages community day", 24) == [
        title("Today", "Messages posted", "whole community"), "1. U3 · 5", "2. U2 · 4",
        "3. U1 · 3", mine(3, 3)]


async def test_the_askers_place_below_the_top(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "leaderboard", size=2)
    await feed(runtime, org_id, *(f.message(f"u{i}", f"+{points}", name=f"U{i}", minutes=i)
                                  for i, points in enumerate((40, 30, 30, 10))))
    assert await ask(runtime, org_id, "u3", "排行榜", 9) == [
        title("This week", "Points", "this group"), "1. U0 · 40", "2. U1 · 30", mine(4, 10)]
    assert (await ask(runtime, org_id, "u2", "排行榜", 10))[-1] == mine(2, 30)


async def test_bad_options_and_empty_boards(runtime: Runtime, org_id: int) -> None:
    await configure(runtime, org_id, "leaderboard")
    assert await ask(runtime, org_id, "u1", "排行榜 今年", 1) == [
        gettext("unknown leaderboard option: {word}", word="今年"),
        gettext("Try: {example}", example="排行榜 " + gettext("week signins"))]
    assert await ask(runtime, org_id, "u1", "排行榜 签到", 2) == [
        title("This week", "Sign-ins", "this group"), gettext("Nobody is on this board yet.")]
    await feed(runtime, org_id, f.message("u1", "排行榜123", minutes=3))  # not the command
    assert len(await texts(runtime, "leaderboard")) == 2

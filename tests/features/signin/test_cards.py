"""Make-up cards (补签卡): bought with points, used to fill a missed day and join the streak."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.core.i18n import gettext
from qunyun.features.signin.handlers import BOUGHT, CANNOT_BUY, FILLED, NO_CARD, NOT_SOLD
from qunyun.features.signin.models import SigninCards
from qunyun.points.models import PointsEntry
from qunyun.points.service import InsufficientPoints
from tests import factories as f
from tests.features.signin.conftest import DAY, balance_of, configure, say, streaks_of


def day(n: int) -> date:
    return date(2026, 11, 22 + n)


def bought(price: int, cards: int, balance: int) -> str:
    return gettext(BOUGHT, "zh_CN", price=price, cards=cards, balance=balance)


def filled(on: date, streak: int, cards: int) -> str:
    return gettext(FILLED, "zh_CN", day=on.isoformat(), streak=streak, cards=cards)


async def entries(rt: Runtime) -> int:
    async with rt.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PointsEntry)) or 0)


async def test_buying_without_enough_points_is_refused_and_changes_nothing(
        rt: Runtime, org: int) -> None:
    await say(rt, org, f.message("u1", "签到"))
    before = await entries(rt)
    replies = await say(rt, org, f.message("u1", "买补签卡", minutes=1))
    reason = InsufficientPoints(balance=10, amount=50).render("zh_CN")
    assert replies == [gettext(CANNOT_BUY, "zh_CN", reason=reason)]
    assert await balance_of(rt, org, "u1") == 10 and await entries(rt) == before
    async with rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SigninCards)) == 0


async def test_a_card_fills_the_latest_missed_day_and_joins_the_streak(
        rt: Runtime, org: int) -> None:
    await configure(rt, org, makeup_card_price=15, streak_bonus={})
    for n in (0, 1, 3):  # day 2 missed
        await say(rt, org, f.message("u1", "签到", minutes=n * DAY))
    assert (await streaks_of(rt, "u1"))[day(3)] == ("signin", 1)
    at = 3 * DAY + 5
    assert await say(rt, org, f.message("u1", "buycard", minutes=at)) == [bought(15, 1, 15)]
    assert await say(rt, org, f.message("u1", "补签", minutes=at + 1)) == [filled(day(2), 4, 0)]
    assert await streaks_of(rt, "u1") == {day(0): ("signin", 1), day(1): ("signin", 2),
                                          day(2): ("makeup", 3), day(3): ("signin", 4)}
    assert await balance_of(rt, org, "u1") == 15  # filling earns nothing
    # The next day continues the joined streak.
    replies = await say(rt, org, f.message("u1", "签到", minutes=4 * DAY))
    assert "5" in replies[0] and (await streaks_of(rt, "u1"))[day(4)] == ("signin", 5)


async def test_using_a_card_without_one_or_on_a_signed_day_changes_nothing(
        rt: Runtime, org: int) -> None:
    await configure(rt, org, makeup_card_price=5)
    await say(rt, org, f.message("u1", "签到"), f.message("u1", "签到", minutes=2 * DAY))
    no_card = gettext(NO_CARD, "zh_CN", keyword="买补签卡", price=5)
    assert await say(rt, org, f.message("u1", "补签", minutes=2 * DAY + 1)) == [no_card]
    await say(rt, org, f.message("u1", "买补签卡", minutes=2 * DAY + 2))
    before = await streaks_of(rt, "u1")
    replies = await say(rt, org, f.message("u1", "补签 11-22", minutes=2 * DAY + 3),
                        f.message("u1", "补签 11-02", minutes=2 * DAY + 4),
                        f.message("u1", "补签 明天", minutes=2 * DAY + 5))
    assert replies[0] == gettext("{day} is already signed in", "zh_CN", day="2026-11-22")
    assert replies[1] == gettext("only the {days} days before today can be filled", "zh_CN",
                                 days=7)
    assert "明天" in replies[2]
    assert await streaks_of(rt, "u1") == before
    async with rt.sessions() as session:
        cards = await session.scalar(select(SigninCards))
    assert cards is not None and (cards.held, cards.bought, cards.used) == (1, 1, 0)
    # With a date it fills that day; yesterday was the only gap.
    assert await say(rt, org, f.message("u1", "补签 昨天", minutes=2 * DAY + 6)) == \
        [filled(day(1), 3, 0)]


async def test_no_missed_day_and_cards_not_sold(rt: Runtime, org: int) -> None:
    await configure(rt, org, makeup_card_price=0, makeup_days=1)
    await say(rt, org, f.message("u1", "签到"), f.message("u1", "签到", minutes=DAY))
    replies = await say(rt, org, f.message("u1", "买补签卡", minutes=DAY + 1),
                        f.message("u1", "makeup", minutes=DAY + 2))
    assert replies == [gettext(NOT_SOLD, "zh_CN"),
                       gettext("no missed day in the last {days} days", "zh_CN", days=1)]

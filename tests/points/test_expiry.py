"""Expiry: earned points expire FIFO after N days unless spent; never more than is left."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qunyun.points import service
from qunyun.points.expiry import EXPIRE, Movement, do_expire, expiring
from qunyun.points.models import PointsEntry
from tests.conftest import START
from tests.points.conftest import Ledger

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def test_spending_uses_the_oldest_points_first() -> None:
    moves = [Movement(10, START, "signin"), Movement(10, START + 5 * DAY, "message"),
             Movement(-12, START + 6 * DAY, "spend")]
    assert expiring(moves, START + 8 * DAY, WEEK) == 0  # the old lot was spent
    assert expiring(moves, START + 12 * DAY, WEEK) == 8
    taken = [*moves, Movement(-8, START + 12 * DAY, EXPIRE)]
    assert expiring(taken, START + 30 * DAY, WEEK) == 0


def test_an_expiry_takes_the_expired_lots_not_the_oldest() -> None:
    # Recorded out of time order: the later-dated lot comes first.
    moves = [Movement(5, START + 10 * DAY, "adjust"), Movement(7, START, "message")]
    assert expiring(moves, START + 8 * DAY, WEEK) == 7
    taken = [*moves, Movement(-7, START + 8 * DAY, EXPIRE)]
    assert expiring(taken, START + 8 * DAY, WEEK) == 0
    assert expiring(taken, START + 17 * DAY, WEEK) == 5


Step = tuple[str, int, int]  # (kind, amount, days later)
steps = st.lists(st.tuples(st.sampled_from(("earn", "spend", "expire")),
                           st.integers(1, 50), st.integers(0, 4)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(steps, st.integers(1, 10))
def test_never_negative_never_more_than_unspent(history: list[Step], days: int) -> None:
    after = timedelta(days=days)
    moves: list[Movement] = []
    balance = earned = 0
    at = START
    for kind, amount, later in history:
        at += timedelta(days=later)
        if kind == "earn":
            moves.append(Movement(amount, at, "message"))
            balance += amount
            earned += amount
        elif kind == "spend" and balance:
            taken = min(amount, balance)
            moves.append(Movement(-taken, at, "spend"))
            balance -= taken
        else:
            due = expiring(moves, at, after)
            assert 0 <= due <= balance <= earned
            if due:
                moves.append(Movement(-due, at, EXPIRE))
                balance -= due
            assert expiring(moves, at, after) == 0  # nothing more at the same time
    assert 0 <= expiring(moves, at + after, after) <= balance


async def test_do_expire_writes_expire_entries_once(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        await service.do_award(session, **ledger.who, amount=30, reason="signin", key="a1",
                               at=START)
        await service.do_spend(session, **ledger.who, amount=10, reason="spend", key="s1",
                               at=START + DAY)
        await service.do_award(session, **ledger.who, amount=5, reason="message", key="a2",
                               at=START + 5 * DAY)
        result = await do_expire(session, org_id=ledger.org_id,
                                 community_id=ledger.community_id, after_days=7,
                                 at=START + 8 * DAY)
        assert (result.persons, result.points) == (1, 20)
        again = await do_expire(session, org_id=ledger.org_id,
                                community_id=ledger.community_id, after_days=7,
                                at=START + 9 * DAY)
        assert again.points == 0
        assert await service.balance(session, **ledger.where) == service.Balance(5, 35)
        later = await do_expire(session, org_id=ledger.org_id, community_id=ledger.community_id,
                                after_days=7, at=START + 13 * DAY)
        assert later.points == 5
        await session.commit()
    async with ledger.sessions() as session:
        rows = (await session.execute(select(PointsEntry.reason, PointsEntry.amount)
                                      .order_by(PointsEntry.id))).all()
    assert [tuple(r) for r in rows] == [("signin", 30), ("spend", -10), ("message", 5),
                                        ("expire", -20), ("expire", -5)]

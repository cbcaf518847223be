"""The points ledger: awards, spends, adjustments, idempotency, a balance never negative."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from qunyun.core.errors import InvalidInput
from qunyun.points import service
from qunyun.points.models import PointsEntry
from qunyun.points.service import InsufficientPoints
from tests.conftest import START
from tests.points.conftest import Ledger


async def test_award_spend_and_adjust(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        award = await service.do_award(session, **ledger.who, amount=30, reason="signin",
                                       key="signin:1", at=START, source_event="qq:e1")
        assert award is not None and award.amount == 30 and award.source_event == "qq:e1"
        await service.do_spend(session, **ledger.who, amount=12, reason="spend",
                               key="spend:1", at=START + timedelta(minutes=1))
        await service.do_adjust(session, **ledger.who, amount=-8, actor="staff:1",
                                note="duplicate sign-in", key="adjust:1",
                                at=START + timedelta(minutes=2))
        await session.commit()
    async with ledger.sessions() as session:
        assert await service.balance(session, **ledger.where) == service.Balance(10, 30)
        listed = await service.entries(session, **ledger.where)
        assert [(e.reason, e.amount) for e in listed] == [
            ("adjust", -8), ("spend", -12), ("signin", 30)]
        assert (listed[0].actor, listed[0].note) == ("staff:1", "duplicate sign-in")
        page = await service.entries(session, **ledger.where, limit=2, offset=2)
        assert [e.reason for e in page] == ["signin"]


async def test_positive_adjustment_counts_as_earned(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        await service.do_adjust(session, **ledger.who, amount=5, actor="staff:1", note="gift",
                                key="a1", at=START)
        assert await service.balance(session, **ledger.where) == service.Balance(5, 5)


async def test_same_key_twice_has_one_effect(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        first = await service.do_award(session, **ledger.who, amount=10, reason="message",
                                       key="qq:m1", at=START)
        again = await service.do_award(session, **ledger.who, amount=10, reason="message",
                                       key="qq:m1", at=START)
        await service.do_spend(session, **ledger.who, amount=3, reason="spend", key="s1",
                               at=START)
        spent_again = await service.do_spend(session, **ledger.who, amount=3, reason="spend",
                                             key="s1", at=START)
        assert first is not None and again is None and spent_again is None
        assert await service.balance(session, **ledger.where) == service.Balance(7, 10)


async def test_spend_beyond_balance_changes_nothing(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        await service.do_award(session, **ledger.who, amount=5, reason="signin", key="k1",
                               at=START)
        with pytest.raises(InsufficientPoints) as raised:
            await service.do_spend(session, **ledger.who, amount=6, reason="spend", key="k2",
                                   at=START)
        assert str(raised.value) == "not enough points: 5 available, 6 needed"
        assert raised.value.code == "insufficient_points" and raised.value.status == 409
        with pytest.raises(InsufficientPoints):
            await service.do_adjust(session, **ledger.who, amount=-6, actor="staff:1",
                                    note="", key="k3", at=START)
        await session.commit()
    async with ledger.sessions() as session:
        assert await service.balance(session, **ledger.where) == service.Balance(5, 5)
        count = await session.scalar(select(func.count()).select_from(PointsEntry))
        assert count == 1


async def test_spend_without_any_balance(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        with pytest.raises(InsufficientPoints, match="0 available, 1 needed"):
            await service.do_spend(session, **ledger.who, amount=1, reason="spend", key="k",
                                   at=START)


async def test_bad_amounts_are_refused(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        for amount in (0, -1):
            with pytest.raises(InvalidInput):
                await service.do_award(session, **ledger.who, amount=amount, reason="signin",
                                       key="k", at=START)
            with pytest.raises(InvalidInput):
                await service.do_spend(session, **ledger.who, amount=amount, reason="spend",
                                       key="k", at=START)
        with pytest.raises(InvalidInput):
            await service.do_adjust(session, **ledger.who, amount=0, actor="staff:1",
                                    note="", key="k", at=START)
        with pytest.raises(InvalidInput):
            await service.do_adjust(session, **ledger.who, amount=3, actor="", note="",
                                    key="k", at=START)

"""`do_award_many`: a batch of credits, each key once, balances kept in step."""

from __future__ import annotations

from datetime import timedelta

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.points import service
from qunyun.points.service import NewAward
from tests.conftest import START
from tests.points.conftest import Ledger


def credit(ledger: Ledger, key: str, amount: int = 2, minutes: int = 0) -> NewAward:
    return NewAward(**ledger.who, amount=amount, reason="message", key=key,
                    at=START + timedelta(minutes=minutes), source_event=f"qq:{key}", group_id=7)


async def test_each_key_counts_once(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        await service.do_award(session, **ledger.who, amount=5, reason="signin", key="k0",
                               at=START)
        service.take_changed(session, ledger.community_id, ledger.person_id)
        recorded = await service.do_award_many(session, [
            credit(ledger, "k0"), credit(ledger, "k1"), credit(ledger, "k1", amount=9),
            credit(ledger, "k2", amount=3, minutes=5)])
        assert recorded == 2
        assert service.take_changed(session, ledger.community_id, ledger.person_id)
        assert await service.do_award_many(session, [credit(ledger, "k2")]) == 0
        assert await service.do_award_many(session, []) == 0
        await session.commit()
    async with ledger.sessions() as session:
        assert await service.balance(session, **ledger.where) == service.Balance(10, 10)
        listed = await service.entries(session, **ledger.where)
        assert [(e.reason, e.amount, e.group_id, e.source_event) for e in listed] == [
            ("message", 3, 7, "qq:k2"), ("message", 2, 7, "qq:k1"), ("signin", 5, None, None)]


async def test_only_credits(ledger: Ledger) -> None:
    async with ledger.sessions() as session:
        with pytest.raises(InvalidInput):
            await service.do_award_many(session, [credit(ledger, "bad", amount=0)])

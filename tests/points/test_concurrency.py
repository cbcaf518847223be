"""Concurrent spends in separate transactions never overdraw (PostgreSQL, real concurrency)."""

from __future__ import annotations

import asyncio

import pytest

from qunyun.points import service
from tests.conftest import START
from tests.points.conftest import Ledger


async def _spend(ledger: Ledger, index: int) -> bool:
    async with ledger.sessions() as session:
        try:
            await service.do_spend(session, **ledger.who, amount=10, reason="spend",
                                   key=f"spend:{index}", at=START)
        except service.InsufficientPoints:
            return False
        await session.commit()
        return True


async def test_twenty_concurrent_spends_of_ten_from_a_hundred(ledger: Ledger,
                                                              database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; real concurrency needs PostgreSQL")
    async with ledger.sessions() as session:
        await service.do_award(session, **ledger.who, amount=100, reason="signin", key="seed",
                               at=START)
        await session.commit()
    results = await asyncio.gather(*(_spend(ledger, i) for i in range(20)))
    assert results.count(True) == 10
    async with ledger.sessions() as session:
        assert await service.balance(session, **ledger.where) == service.Balance(0, 100)
        assert len(await service.entries(session, **ledger.where, limit=100)) == 11

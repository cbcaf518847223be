"""`among`: IN over one column or several, the same rows on every backend; on SQLite one
statement for any number of values, and a key of several columns read through its index."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.db.dialect import among
from qunyun.db.engine import create_engine, session_factory

PAIRS = Table("among_pairs", MetaData(), Column("a", Integer, primary_key=True),
              Column("b", String(20), primary_key=True), Column("n", Integer),
              Column("d", Date))
DAY = date(2026, 11, 22)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        await conn.run_sync(PAIRS.create)
        await conn.execute(PAIRS.insert(), [
            {"a": a, "b": b, "n": n, "d": DAY + timedelta(days=n)} for n, (a, b) in
            enumerate([(1, "x"), (1, "y"), (2, "x"), (3, "z"), (4, "它")])])
    async with session_factory(engine)() as session:
        yield session
    await engine.dispose()


async def _ns(session: AsyncSession, condition: Any) -> list[int]:
    return list(await session.scalars(select(PAIRS.c.n).where(condition).order_by(PAIRS.c.n)))


async def test_one_column(session: AsyncSession) -> None:
    assert await _ns(session, among(session, PAIRS.c.a, values={1, 3, 9})) == [0, 1, 3]
    assert await _ns(session, among(session, PAIRS.c.b, values=["它", "y"])) == [1, 4]
    assert await _ns(session, among(session, PAIRS.c.a, values=[])) == []


async def test_several_columns(session: AsyncSession) -> None:
    found = await _ns(session, among(session, PAIRS.c.a, PAIRS.c.b,
                                     values=[(1, "y"), (2, "x"), (2, "y"), (4, "它")]))
    assert found == [1, 2, 4]


async def test_values_stored_by_their_column_type(session: AsyncSession) -> None:
    days = [(1, DAY), (1, DAY + timedelta(days=1)), (2, DAY)]
    assert await _ns(session, among(session, PAIRS.c.a, PAIRS.c.d, values=days)) == [0, 1]
    assert await _ns(session, among(session, PAIRS.c.d, values=[DAY + timedelta(days=3)])) \
        == [3]


async def test_sqlite_reads_a_composite_key_through_its_index(session: AsyncSession) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan asked of SQLite")
    statement = select(PAIRS.c.n).where(among(session, PAIRS.c.a, PAIRS.c.b, values=[(1, "y")]))
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
    details = " ".join(row[-1] for row in plan)
    assert "SEARCH among_pairs USING INDEX" in details
    assert "SCAN among_pairs" not in details

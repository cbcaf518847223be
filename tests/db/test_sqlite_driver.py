"""The SQLite driver: statements of a write transaction run on the event loop's thread; taking
the lock, committing and every statement outside a write transaction run in aiosqlite's."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from qunyun.db.engine import create_engine, session_factory


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")

    def thread_id_function(dbapi_connection: Any, _record: Any) -> None:
        # A function SQL can call: the thread that runs the statement.
        dbapi_connection._connection._conn.create_function(
            "thread_id", 0, threading.get_ident)

    event.listen(engine.sync_engine, "connect", thread_id_function)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    yield engine
    await engine.dispose()


async def test_a_write_transaction_runs_its_statements_on_the_calling_thread(
        engine: AsyncEngine) -> None:
    loop_thread = threading.get_ident()
    async with session_factory(engine, writer=True)() as session:
        assert await session.scalar(text("SELECT thread_id()")) == loop_thread
        await session.execute(text("INSERT INTO t VALUES (1)"))
        await session.commit()
    async with session_factory(engine)() as session:  # a reader: back in the driver's thread
        assert await session.scalar(text("SELECT thread_id()")) != loop_thread
        assert await session.scalar(text("SELECT count(*) FROM t")) == 1


async def test_a_failed_statement_rolls_back_and_the_next_reader_hops_again(
        engine: AsyncEngine) -> None:
    writers = session_factory(engine, writer=True)
    async with writers() as session:
        await session.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(IntegrityError):
            await session.execute(text("INSERT INTO t VALUES (1)"))
        await session.rollback()
    async with session_factory(engine)() as session:
        assert await session.scalar(text("SELECT thread_id()")) != threading.get_ident()
        assert await session.scalar(text("SELECT count(*) FROM t")) == 0


async def test_savepoints_inside_a_write_transaction(engine: AsyncEngine) -> None:
    async with session_factory(engine, writer=True)() as session:
        await session.execute(text("INSERT INTO t VALUES (1)"))
        nested = await session.begin_nested()
        await session.execute(text("INSERT INTO t VALUES (2)"))
        await nested.rollback()
        async with session.begin_nested():
            await session.execute(text("INSERT INTO t VALUES (3)"))
        await session.commit()
    async with session_factory(engine)() as session:
        rows = await session.scalars(text("SELECT n FROM t ORDER BY n"))
        assert list(rows) == [1, 3]

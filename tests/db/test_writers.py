"""Writers that read before they write never fail because another writer committed in between."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from qunyun.db.engine import create_engine, session_factory


async def _read_then_write(path: Path, *, writer: bool) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER)"))
    first, other = session_factory(engine, writer=writer), session_factory(engine, writer=writer)
    try:
        async with first() as session:
            await session.execute(text("SELECT count(*) FROM t"))

            async def commit_between() -> None:
                async with other() as session2:
                    await session2.execute(text("INSERT INTO t VALUES (1)"))
                    await session2.commit()

            racer = asyncio.create_task(commit_between())
            await asyncio.sleep(0.2)  # a deferred reader lets the other writer commit now
            await session.execute(text("INSERT INTO t VALUES (2)"))
            await session.commit()
            await racer
        async with first() as session:
            assert (await session.scalar(text("SELECT count(*) FROM t"))) == 2
    finally:
        await engine.dispose()


async def test_a_deferred_reader_that_writes_late_fails(tmp_path: Path) -> None:
    # The failure the writer sessions exist for, shown once so the test below means something.
    with pytest.raises(OperationalError, match="locked"):
        await _read_then_write(tmp_path / "deferred.db", writer=False)


async def test_writer_sessions_queue_instead(tmp_path: Path) -> None:
    await _read_then_write(tmp_path / "writer.db", writer=True)

"""Times are stored in UTC and come back aware, on every backend; SQLite keeps them as text in
one fixed format, so comparing the text orders them as times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from qunyun.community.models import Organization
from qunyun.db.engine import create_engine, session_factory

BEIJING = timezone(timedelta(hours=8))


def _organization(slug: str, at: datetime) -> Organization:
    return Organization(name=slug, slug=slug, created_at=at)


async def test_times_round_trip_in_utc(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = session_factory(engine, writer=True)
    try:
        async with sessions() as session:
            session.add_all([
                _organization("a", datetime(2026, 11, 22, 8, 30, 0, 5, tzinfo=BEIJING)),
                _organization("b", datetime(2026, 11, 22, 0, 30, tzinfo=UTC))])
            await session.commit()
        async with sessions() as session:
            times = dict((await session.execute(
                select(Organization.slug, Organization.created_at))).all())
            assert times == {"a": datetime(2026, 11, 22, 0, 30, 0, 5, tzinfo=UTC),
                             "b": datetime(2026, 11, 22, 0, 30, tzinfo=UTC)}
            assert all(t.tzinfo is UTC for t in times.values())
            later = await session.scalars(select(Organization.slug).where(
                Organization.created_at > datetime(2026, 11, 22, 8, 30, tzinfo=BEIJING)))
            assert list(later) == ["a"]
            if engine.dialect.name == "sqlite":
                stored = await session.scalars(
                    text("SELECT created_at FROM organizations ORDER BY slug"))
                assert list(stored) == ["2026-11-22 00:30:00.000005",
                                        "2026-11-22 00:30:00.000000"]
    finally:
        await engine.dispose()


async def test_a_naive_time_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine, writer=True)() as session:
            with pytest.raises(Exception, match="naive datetime"):
                await session.scalar(select(Organization.id).where(
                    Organization.created_at == datetime(2026, 11, 22)))
    finally:
        await engine.dispose()

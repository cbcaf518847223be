"""Member numbers (编号): per community, sequential, never reused.

The counter row of a community is bumped with one UPDATE … RETURNING, which takes the row's lock
on PostgreSQL (and the database's write lock on SQLite): concurrent joins queue on it and get
consecutive numbers; a rolled-back join rolls its bump back with it, so no number is skipped or
given twice. A person who already has a number keeps it when they join again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Membership
from qunyun.features.gate.models import MemberNumber, NumberCounter


async def number_of(session: AsyncSession, *, community_id: int, person_id: int) -> int | None:
    found = await session.scalar(select(MemberNumber.number).where(
        MemberNumber.community_id == community_id, MemberNumber.person_id == person_id))
    return int(found) if found is not None else None


async def _next_number(session: AsyncSession, community_id: int) -> int:
    bump = (update(NumberCounter).where(NumberCounter.community_id == community_id)
            .values(last_number=NumberCounter.last_number + 1)
            .returning(NumberCounter.last_number))
    found = await session.scalar(bump)
    if found is not None:
        return int(found)
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(insert(NumberCounter).values(community_id=community_id, last_number=0)
                          .on_conflict_do_nothing(index_elements=["community_id"]))
    found = await session.scalar(bump)
    assert found is not None
    return int(found)


async def do_assign_number(session: AsyncSession, *, community_id: int, person_id: int,
                           at: datetime) -> int:
    """The person's number in the community, given now if they have none yet."""
    known = await number_of(session, community_id=community_id, person_id=person_id)
    if known is not None:
        return known
    number = await _next_number(session, community_id)
    session.add(MemberNumber(community_id=community_id, person_id=person_id, number=number,
                             assigned_at=at))
    await session.flush()
    return number


async def do_stamp_membership(session: AsyncSession, *, membership_id: int,
                              number: int) -> None:
    """Write the number on the open membership period (the welcome and pages read it there)."""
    await session.execute(update(Membership).where(Membership.id == membership_id)
                          .values(member_no=number))

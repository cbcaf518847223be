"""Fixtures of the points tests: one community and one person to pay."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Community, Person
from tests.conftest import START


@dataclass(frozen=True)
class Ledger:
    sessions: async_sessionmaker[AsyncSession]
    org_id: int
    community_id: int
    person_id: int

    @property
    def who(self) -> dict[str, int]:
        return {"org_id": self.org_id, "community_id": self.community_id,
                "person_id": self.person_id}

    @property
    def where(self) -> dict[str, int]:
        return {"community_id": self.community_id, "person_id": self.person_id}


@pytest.fixture
async def ledger(runtime: Runtime, org_id: int) -> Ledger:
    async with runtime.sessions() as session:
        community_id = await session.scalar(
            select(Community.id).where(Community.org_id == org_id))
        assert community_id is not None
        person = Person(org_id=org_id, display_name="小明", first_seen_at=START)
        session.add(person)
        await session.commit()
        return Ledger(runtime.sessions, org_id, community_id, person.id)

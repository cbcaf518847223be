"""Sign-ins in concurrent transactions (PostgreSQL): ranks without gaps or repeats, one award
per person and day."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Person
from qunyun.community.service import do_create_group
from qunyun.features.signin.models import SigninRecord
from qunyun.features.signin.service import Signer, Signin, do_signin
from qunyun.features.signin.settings import SigninSettings
from qunyun.points.models import PointsEntry
from tests.conftest import START
from tests.features.signin.conftest import community_of

DAY = date(2026, 11, 22)


async def _sign(rt: Runtime, signer: Signer) -> Signin:
    async with rt.sessions() as session:
        signed = await do_signin(session, signer=signer, day=DAY, at=START,
                                 settings=SigninSettings())
        await session.commit()
        return signed


async def test_twenty_in_one_group_at_once(rt: Runtime, org: int, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; real concurrency needs PostgreSQL")
    community = await community_of(rt, org)
    async with rt.sessions() as session:
        group = await do_create_group(session, org_id=org, platform="bridge",
                                      platform_id="g", name="g", at=START,
                                      community_id=community)
        persons = [Person(org_id=org, first_seen_at=START) for _ in range(20)]
        session.add_all(persons)
        await session.commit()
    crowd = await asyncio.gather(*(_sign(rt, Signer(org, community, p.id, group.id))
                                   for p in persons))
    assert sorted(s.rank or 0 for s in crowd) == list(range(1, 21))
    async with rt.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SigninRecord)) == 20
        assert await session.scalar(select(func.count()).select_from(PointsEntry)) == 20


async def test_one_person_in_many_groups_at_once(rt: Runtime, org: int,
                                                 database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serializes writers; real concurrency needs PostgreSQL")
    community = await community_of(rt, org)
    async with rt.sessions() as session:
        groups = [(await do_create_group(session, org_id=org, platform="bridge",
                                         platform_id=f"g{n}", name=f"g{n}", at=START,
                                         community_id=community)).id for n in range(6)]
        person = Person(org_id=org, first_seen_at=START)
        session.add(person)
        await session.commit()
    results = await asyncio.gather(*(_sign(rt, Signer(org, community, person.id, g))
                                     for g in groups), return_exceptions=True)
    assert [r for r in results if isinstance(r, BaseException)] == []
    signed = [r for r in results if isinstance(r, Signin)]
    assert [s.new for s in signed].count(True) == 1
    assert {s.balance for s in signed} == {10}

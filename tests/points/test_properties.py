"""Whatever awards and spends come, the balance stays the sum of the entries, never negative."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Person
from qunyun.points import service
from qunyun.points.models import PointsEntry
from tests.conftest import START
from tests.points.conftest import Ledger

# (True, n): award n; (False, n): try to spend n.
operations = st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=50)),
                      max_size=25)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
async def test_balance_is_the_sum_of_entries(ledger: Ledger, ops: list[tuple[bool, int]]) -> None:
    async with ledger.sessions() as session:
        person = Person(org_id=ledger.org_id, first_seen_at=START)  # a fresh person per example
        session.add(person)
        await session.flush()
        who = {"org_id": ledger.org_id, "community_id": ledger.community_id,
               "person_id": person.id}
        for index, (is_award, amount) in enumerate(ops):
            key = f"p{person.id}:{index}"
            if is_award:
                await service.do_award(session, **who, amount=amount, reason="message",
                                       key=key, at=START)
            else:
                with contextlib.suppress(service.InsufficientPoints):
                    await service.do_spend(session, **who, amount=amount, reason="spend",
                                           key=key, at=START)
        await session.commit()
        await _check_invariants(session, ledger.community_id, person.id)


async def _check_invariants(session: AsyncSession, community_id: int, person_id: int) -> None:
    mine = (PointsEntry.community_id == community_id, PointsEntry.person_id == person_id)
    total = await session.scalar(select(func.coalesce(func.sum(PointsEntry.amount), 0))
                                 .where(*mine))
    earned = await session.scalar(select(func.coalesce(func.sum(PointsEntry.amount), 0))
                                  .where(*mine, PointsEntry.amount > 0))
    current = await service.balance(session, community_id=community_id, person_id=person_id)
    assert current.balance >= 0
    assert current.balance == total
    assert current.lifetime_earned == earned

"""Whatever order sign-ins and fills come in, each record's streak is the run of recorded days
ending on it, and every signed day is paid exactly once."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime
from qunyun.community.models import Person
from qunyun.community.service import do_create_group
from qunyun.core.errors import QunyunError
from qunyun.features.signin.models import SIGNED, SigninRecord
from qunyun.features.signin.service import Signer, do_buy_card, do_signin, do_use_card
from qunyun.features.signin.settings import SigninSettings
from qunyun.points.models import PointsEntry
from qunyun.points.service import do_award
from tests.conftest import START
from tests.features.signin.conftest import community_of

FIRST = date(2026, 11, 1)
DAYS = 12
TODAY = FIRST + timedelta(days=DAYS)
# (day offset, True: a sign-in arriving for that day, False: fill it with a card)
operations = st.lists(st.tuples(st.integers(min_value=0, max_value=DAYS - 1), st.booleans()),
                      max_size=15)


@pytest.fixture
async def group_id(rt: Runtime, org: int) -> int:
    async with rt.sessions() as session:
        group = await do_create_group(session, org_id=org, platform="bridge", platform_id="g",
                                      name="g", at=START, community_id=await community_of(rt, org))
        await session.commit()
        return group.id


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
async def test_streaks_follow_the_records(rt: Runtime, org: int, group_id: int,
                                          ops: list[tuple[int, bool]]) -> None:
    config = SigninSettings(makeup_card_price=1)
    async with rt.sessions() as session:
        person = Person(org_id=org, first_seen_at=START)  # a fresh person per example
        session.add(person)
        await session.flush()
        signer = Signer(org, await community_of(rt, org), person.id, group_id)
        await do_award(session, **signer.person, amount=100, reason="test",
                       key=f"seed:{person.id}", at=START)
        for n, (offset, sign) in enumerate(ops):
            day = FIRST + timedelta(days=offset)
            if sign:
                await do_signin(session, signer=signer, day=day, at=START, settings=config)
                continue
            await do_buy_card(session, signer=signer, price=1, key=f"card:{person.id}:{n}",
                              at=START)
            with contextlib.suppress(QunyunError):  # that day is already recorded
                await do_use_card(session, signer=signer, today=TODAY, day=day, window=DAYS,
                                  at=START)
        await session.commit()
        records = {r.day: r for r in await session.scalars(
            select(SigninRecord).where(SigninRecord.person_id == person.id))}
        paid = list(await session.scalars(select(PointsEntry.idempotency_key).where(
            PointsEntry.person_id == person.id, PointsEntry.reason == "signin")))
    for day, record in records.items():
        run = 0
        while day - timedelta(days=run) in records:
            run += 1
        assert record.streak == run, (day, ops)
    signed = {d for d, r in records.items() if r.kind == SIGNED}
    first: dict[int, bool] = {}
    for offset, sign in ops:
        first.setdefault(offset, sign)  # a day filled first is not signed in later
    assert signed == {FIRST + timedelta(days=o) for o, sign in first.items() if sign}
    assert len(paid) == len(set(paid)) == len(signed)

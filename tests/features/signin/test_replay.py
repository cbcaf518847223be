"""Replaying the history into a fresh database gives the same sign-ins, streaks and balances."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qunyun.app.bootstrap import Runtime, build_runtime, ensure_default_org
from qunyun.community.models import PlatformAccount
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.features.signin.models import SigninCards, SigninRecord
from qunyun.points.models import PointsBalance, PointsEntry
from tests import factories as f
from tests.conftest import START
from tests.features.signin.conftest import DAY, configure, signin_registry


def history() -> list[dict[str, Any]]:
    events = []
    for day in range(5):
        for n, member in enumerate(("u1", "u2", "u3", "u4")):
            if (day + n) % 4 == 3:
                continue  # everyone misses a day now and then
            group = "a" if n % 2 else "b"
            events.append(f.message(member, "签到" if day % 2 else "signin", group=group,
                                    minutes=day * DAY + n))
    events += [f.message("u1", "买补签卡", minutes=4 * DAY + 10),
               f.message("u1", "补签", minutes=4 * DAY + 11),
               f.message("u2", "买补签卡", minutes=4 * DAY + 12),  # not enough points
               f.message("u3", "签到", group="a", minutes=4 * DAY + 13)]
    return events


async def snapshot(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with sessions() as session:
        who = {p: u for p, u in await session.execute(
            select(PlatformAccount.person_id, PlatformAccount.platform_user_id))}
        records = sorted((who[r.person_id], r.day, r.kind, r.rank, r.streak, r.points)
                         for r in await session.scalars(select(SigninRecord)))
        balances = {who[b.person_id]: b.balance for b in await session.scalars(
            select(PointsBalance))}
        entries = sorted((who[e.person_id], e.reason, e.amount, e.idempotency_key)
                         for e in await session.scalars(select(PointsEntry)))
        cards = {who[c.person_id]: (c.held, c.bought, c.used)
                 for c in await session.scalars(select(SigninCards))}
    return {"records": records, "balances": balances, "entries": entries, "cards": cards}


async def test_a_replay_gives_identical_balances(rt: Runtime, org: int, twin_url: str,
                                                 tmp_path: Path) -> None:
    await configure(rt, org, makeup_card_price=45)
    events = history()
    for event in events:  # live: one event per unit of work
        await rt.pipeline.process(org, [parse_event(event)])
    live = await snapshot(rt.sessions)
    assert live["cards"] == {"u1": (0, 1, 1)} and live["balances"]["u1"] == 0

    replay = await build_runtime(Config(data_dir=tmp_path / "twin", database_url=twin_url),
                                 replay=True, migrate=False, registry=signin_registry())
    try:
        twin_org = await ensure_default_org(replay.sessions, START)
        await configure(replay, twin_org, makeup_card_price=45)
        await replay.pipeline.process(twin_org, [parse_event(e) for e in events])  # one batch
        assert await snapshot(replay.sessions) == live
        await replay.pipeline.process(twin_org, [parse_event(e) for e in events])  # duplicates
        assert await snapshot(replay.sessions) == live
    finally:
        await replay.close()

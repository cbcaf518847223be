"""Fixtures of the points rules tests: a runtime with the feature switched on."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.models import Community, Person, PlatformAccount
from qunyun.community.settings import ORGANIZATION, do_set_layer
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.core.features import FeatureRegistry
from qunyun.features.points.plugin import FEATURE as POINTS
from qunyun.features.stats.plugin import FEATURE as STATS
from qunyun.points import service as ledger
from tests import factories as f
from tests.conftest import START

Configure = Callable[..., Awaitable[None]]


def points_registry() -> FeatureRegistry:
    return FeatureRegistry([POINTS, STATS])


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    """The points feature and the statistics, nothing else: the rules are tested alone."""
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False, registry=points_registry())
    yield rt
    await rt.close()


async def switch_on(runtime: Runtime, org_id: int, **values: Any) -> None:
    """The points feature on for the organization, with `values` over its defaults."""
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=org_id, scope=ORGANIZATION, scope_id=org_id,
                           feature="points", values={"enabled": True, **values}, at=START)
        await session.commit()


async def feed(runtime: Runtime, org_id: int, *raw: dict[str, Any]) -> None:
    await runtime.pipeline.process(org_id, [parse_event(e) for e in raw])


async def community_of(runtime: Runtime, org_id: int) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(Community.id).where(Community.org_id == org_id)
                                     .order_by(Community.id).limit(1))
        assert found is not None
        return found


async def person_of(runtime: Runtime, org_id: int, user: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.org_id == org_id, PlatformAccount.platform_user_id == user))
        assert found is not None, user
        return found


async def balances(runtime: Runtime, org_id: int) -> dict[str, int]:
    """{platform user id: balance} of everyone in the default community."""
    community_id = await community_of(runtime, org_id)
    async with runtime.sessions() as session:
        rows = await session.execute(select(PlatformAccount.platform_user_id, Person.id)
                                     .join(Person, Person.id == PlatformAccount.person_id)
                                     .where(PlatformAccount.org_id == org_id))
        found = {}
        for user, person_id in rows.all():
            got = await ledger.balance(session, community_id=community_id, person_id=person_id)
            if got.lifetime_earned:
                found[user] = got.balance
        return found


@pytest.fixture
async def points_on(runtime: Runtime, org_id: int) -> Configure:
    async def configure(**values: Any) -> None:
        await switch_on(runtime, org_id, **values)
    return configure


def post(member: str, text: str, mid: str, minutes: float, group: str = "g1",
         **kw: Any) -> dict[str, Any]:
    """A text message with a known message id."""
    return f.event("message.posted", member=member, group=group, minutes=minutes,
                   message_id=mid, kind="text", text=text, **kw)


def react(member: str, mid: str, minutes: float, group: str = "g1",
          emoji: str = "👍") -> dict[str, Any]:
    return f.event("reaction.added", member=member, group=group, minutes=minutes,
                   message_id=mid, emoji=emoji)


TEXTS = ("今天天气真不错", "今天天气真不错啊", "好", "新品什么时候到店", "周末一起去爬山吗",
         "哈哈哈哈哈哈", "收到谢谢", "会员日有什么活动", "这个价格可以接受", "我也想报名参加")


def mixed_history(seed: int, count: int) -> list[dict[str, Any]]:
    """A reproducible history over two groups and about two days: messages (short ones,
    near-duplicates), reactions (also to one's own messages, twice), invited joins, leaves."""
    rng = random.Random(seed)
    members = [f"u{i}" for i in range(8)]
    posted: list[tuple[str, str]] = []
    raw: list[dict[str, Any]] = []
    minutes = 0.0
    for n in range(count):
        minutes += rng.choice((0.2, 0.5, 1, 2, 5, 30))
        who, group = rng.choice(members), rng.choice(("g1", "g2"))
        roll = rng.random()
        ident = f"h{seed}-{n}"
        if roll < 0.6:
            mid = f"m{seed}-{n}"
            posted.append((group, mid))
            raw.append(post(who, rng.choice(TEXTS) + rng.choice(("", "", str(n))), mid,
                            minutes, group, id=ident))
        elif roll < 0.8 and posted:
            target_group, mid = rng.choice(posted[-20:])
            raw.append(f.event("reaction.added", member=who, group=target_group,
                               minutes=minutes, message_id=mid, emoji="👍", id=ident))
        elif roll < 0.92:
            raw.append(f.event("member.joined", member=who, group=group, minutes=minutes,
                               name=who, inviter=rng.choice(members), id=ident))
        else:
            raw.append(f.event("member.left", member=who, group=group, minutes=minutes,
                               reason="quit", id=ident))
    return raw

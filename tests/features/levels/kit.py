"""What the levels and leaderboard tests share: a runtime with both features and a small
test-only feature that writes the points ledger the way real features do (through
`qunyun.points.service`, at once, with keys derived from the event)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.models import Community, Membership, PlatformAccount
from qunyun.community.settings import ORGANIZATION, do_set_layer
from qunyun.core import events as E
from qunyun.core.clock import ManualClock, local_day
from qunyun.core.config import Config
from qunyun.core.events import parse_event
from qunyun.core.features import Feature, FeatureContext, FeatureRegistry, FeatureSettings
from qunyun.features.leaderboard.plugin import FEATURE as LEADERBOARD
from qunyun.features.levels.plugin import FEATURE as LEVELS
from qunyun.pipeline.models import ActionRecord
from qunyun.points import service as ledger
from tests.conftest import START


class LedgerSettings(FeatureSettings):
    enabled: bool = True


async def _ledger(ctx: FeatureContext) -> None:
    """`+N` earns N points, `-N` spends N, `签到` is a daily sign-in worth 10 — at once, in the
    event; `*N` earns N before commit, as the points of messages are."""
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or group is None or member is None or group.community_id is None:
        return
    if event.type == E.MEMBER_JOINED:
        await _invited(ctx)
        return
    text = str(event.data.get("text", ""))
    who: dict[str, Any] = {"org_id": group.org_id, "community_id": group.community_id,
           "person_id": member.person_id, "at": event.at, "group_id": group.id}
    if text[:1] == "*" and text[1:].isdigit():
        later = ctx.uow.scratch("testledger", list)
        later.append(ledger.NewAward(amount=int(text[1:]), reason="message",
                                     key=f"test:{event.id}", **who))
        ctx.uow.before_commit("testledger", lambda session: _award_later(session, later))
    elif text[:1] in "+-" and text[1:].isdigit():
        change = ledger.do_award if text[0] == "+" else ledger.do_spend
        await change(ctx.session, amount=int(text[1:]), key=f"test:{event.id}",
                     reason="message" if text[0] == "+" else "spend", **who)
    elif text == "签到":
        day = local_day(event.at, group.timezone)
        await ledger.do_award(ctx.session, amount=10, reason="signin",
                              key=f"signin:{group.community_id}:{member.person_id}:{day}", **who)


async def _invited(ctx: FeatureContext) -> None:
    """A join with an inviter earns the inviter 100 before commit (as the points feature's
    invites do)."""
    event, group, member = ctx.event, ctx.group, ctx.member
    assert event is not None and group is not None and member is not None
    if not event.data.get("inviter") or group.community_id is None:
        return
    inviter = await ctx.session.scalar(select(Membership.inviter_person_id)
                                       .where(Membership.id == member.membership_id))
    assert inviter is not None
    later = ctx.uow.scratch("testledger", list)
    later.append(ledger.NewAward(org_id=group.org_id, community_id=group.community_id,
                                 person_id=inviter, amount=100, reason="invite",
                                 key=f"invite:{event.id}", at=event.at, group_id=group.id))
    ctx.uow.before_commit("testledger", lambda session: _award_later(session, later))


async def _award_later(session: AsyncSession, awards: list[ledger.NewAward]) -> None:
    await ledger.do_award_many(session, awards)
    awards.clear()


LEDGER = Feature(name="testledger", title="Ledger", description="Test points.", order=300,
                 events=frozenset({E.MESSAGE_POSTED, E.MEMBER_JOINED}),
                 settings_model=LedgerSettings,
                 handle=_ledger, on_by_default=True)


async def open_runtime(database_url: str, data_dir: Path, clock: ManualClock) -> Runtime:
    config = Config(data_dir=data_dir, database_url=database_url)
    return await build_runtime(config, clock=clock, migrate=False,
                               registry=FeatureRegistry([LEDGER, LEVELS, LEADERBOARD]))


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    rt = await open_runtime(database_url, tmp_path / "data", clock)
    yield rt
    await rt.close()


async def configure(runtime: Runtime, org_id: int, feature: str, **values: Any) -> None:
    """Switch `feature` on for the organization with `values` over its defaults."""
    async with runtime.sessions() as session:
        await do_set_layer(session, org_id=org_id, scope=ORGANIZATION, scope_id=org_id,
                           feature=feature, values={"enabled": True, **values}, at=START)
        await session.commit()


async def feed(runtime: Runtime, org_id: int, *raw: dict[str, Any]) -> None:
    await runtime.pipeline.process(org_id, [parse_event(e) for e in raw])


async def texts(runtime: Runtime, feature: str) -> list[str]:
    """What `feature` said so far, oldest first."""
    async with runtime.sessions() as session:
        rows = await session.scalars(select(ActionRecord.data).where(
            ActionRecord.feature == feature).order_by(ActionRecord.seq))
        return [str(data["text"]) for data in rows]


async def community_of(runtime: Runtime, org_id: int) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(Community.id).where(Community.org_id == org_id)
                                     .order_by(Community.id).limit(1))
    assert found is not None
    return int(found)


async def person_of(runtime: Runtime, org_id: int, user: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.org_id == org_id, PlatformAccount.platform_user_id == user))
    assert found is not None, user
    return int(found)

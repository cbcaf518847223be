"""The kick chain: whom the offender invited in the last N days, still active in a group of the
same community, is kicked (and told why) or flagged; each link becomes a case, once per offence.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.models import Membership, PlatformAccount
from qunyun.community.service import do_create_community, do_create_group
from qunyun.community.settings import do_set_layer
from qunyun.core.actions import KICK_MEMBER, SEND_PRIVATE_MESSAGE
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.errors import InvalidInput
from qunyun.core.events import parse_event
from qunyun.core.features import FeatureContext, FeatureRegistry, GroupInfo
from qunyun.db.uow import UnitOfWork
from qunyun.features.moderation import kick_chain
from qunyun.features.moderation.models import ModerationCase
from qunyun.features.moderation.plugin import FEATURE
from qunyun.pipeline.models import ActionRecord
from tests.factories import joined, left, message

DAY = 24 * 60  # minutes


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([FEATURE]))
    yield rt
    await rt.close()


@dataclass(frozen=True, slots=True)
class Groups:
    community_id: int
    main: int  # 会员群, community 米粉同城会
    sister: int  # 快闪群, same community
    other: int  # 训练营, no community


@pytest.fixture
async def groups(runtime: Runtime, org_id: int) -> Groups:
    """`ad` invited i1 (2 days ago, main), i2 (1 day ago, sister), i3 (10 days ago), i4 (the
    group of no community), i5 (left since); i6 was invited by someone else."""
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        community = await do_create_community(session, org_id=org_id, name="米粉同城会", at=now)
        made = [await do_create_group(session, org_id=org_id, platform="bridge", platform_id=pid,
                                      name=name, at=now, community_id=cid)
                for pid, name, cid in (("main", "会员群", community.id),
                                       ("sister", "快闪群", community.id),
                                       ("other", "训练营", None))]
        await session.commit()
    await runtime.pipeline.process(org_id, [parse_event(e) for e in (
        joined("ad", group="main", minutes=-30 * DAY),
        joined("ad", group="other", minutes=-30 * DAY),
        joined("i3", group="main", inviter="ad", minutes=-10 * DAY),
        joined("i1", group="main", inviter="ad", minutes=-2 * DAY),
        joined("i4", group="other", inviter="ad", minutes=-2 * DAY),
        joined("i5", group="main", inviter="ad", minutes=-2 * DAY),
        joined("i6", group="main", inviter="friend", minutes=-2 * DAY),
        joined("i2", group="sister", inviter="ad", minutes=-1 * DAY),
        left("i5", group="main", minutes=-DAY),
    )])
    return Groups(community.id, *(g.id for g in made))


async def person(runtime: Runtime, member: str) -> int:
    async with runtime.sessions() as session:
        found = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == member))
    assert found is not None
    return found


def context(runtime: Runtime, session: AsyncSession, org_id: int,
            group: tuple[int, str, int | None], event_id: str) -> FeatureContext:
    group_id, platform_id, community_id = group
    info = GroupInfo(id=group_id, org_id=org_id, community_id=community_id, platform="bridge",
                     platform_id=platform_id, name=platform_id, purpose="member",
                     timezone="Asia/Shanghai", language="zh_CN")
    event = parse_event(message("ad", "加我微信", group=platform_id, id=event_id))
    return FeatureContext(uow=UnitOfWork(session), clock=runtime.clock,
                          now=runtime.clock.now(), group=info, member=None, settings=None,
                          event=event)


async def test_kick_mode_kicks_the_chain_once(runtime: Runtime, org_id: int,
                                              groups: Groups) -> None:
    offender = await person(runtime, "ad")
    async with runtime.write_sessions() as session:
        ctx = context(runtime, session, org_id, (groups.main, "main", groups.community_id), "x1")
        actions = await kick_chain.chain_actions(ctx, offender_person_id=offender, days=7,
                                                 mode="kick")
        await session.commit()
    kicks = [(a.member, a.group) for a in actions if a.type == KICK_MEMBER]
    told = [a for a in actions if a.type == SEND_PRIVATE_MESSAGE]
    assert kicks == [("i1", "main"), ("i2", "sister")]
    assert [a.member for a in told] == ["i1", "i2"] and "快闪群" in told[1].data["text"]
    async with runtime.write_sessions() as session:  # the same offence again: nothing more
        ctx = context(runtime, session, org_id, (groups.main, "main", groups.community_id), "x1")
        again = await kick_chain.chain_actions(ctx, offender_person_id=offender, days=7,
                                               mode="kick")
        await session.commit()
        cases = list(await session.scalars(select(ModerationCase).order_by(ModerationCase.id)))
    assert again == []
    assert [(c.rule, c.action, c.group_id) for c in cases] == [
        ("kick_chain", "kick", groups.main), ("kick_chain", "kick", groups.sister)]
    assert cases[0].person_id == await person(runtime, "i1")
    assert cases[0].detail["offender_person_id"] == offender


async def test_review_mode_flags_and_the_window_and_roles_count(runtime: Runtime, org_id: int,
                                                                 groups: Groups) -> None:
    offender = await person(runtime, "ad")
    i2 = await person(runtime, "i2")
    async with runtime.write_sessions() as session:  # i2 became an admin of the sister group
        await session.execute(update(Membership).where(Membership.person_id == i2)
                              .values(role="admin"))
        await session.commit()
    async with runtime.write_sessions() as session:
        ctx = context(runtime, session, org_id, (groups.main, "main", groups.community_id), "x2")
        actions = await kick_chain.chain_actions(ctx, offender_person_id=offender, days=30,
                                                 mode="review")
        await session.commit()
        flagged = await kick_chain.list_flagged(session, org_id=org_id)
    assert actions == []  # review: nobody is kicked
    assert sorted(c.person_id or 0 for c in flagged) == sorted(
        [await person(runtime, "i3"), await person(runtime, "i1")])  # 30 days reach i3
    assert {c.action for c in flagged} == {"flag"}


async def test_a_group_of_no_community_chains_only_itself(runtime: Runtime, org_id: int,
                                                          groups: Groups) -> None:
    offender = await person(runtime, "ad")
    async with runtime.sessions() as session:
        links = await kick_chain.list_chain(session, org_id=org_id, offender_person_id=offender,
                                            community_id=None, group_id=groups.other, days=7,
                                            at=runtime.clock.now())
    assert [(link.member, link.group_name) for link in links] == [("i4", "训练营")]


async def test_bad_mode_or_window_is_refused(runtime: Runtime, org_id: int,
                                             groups: Groups) -> None:
    offender = await person(runtime, "ad")
    async with runtime.write_sessions() as session:
        ctx = context(runtime, session, org_id, (groups.main, "main", groups.community_id), "x3")
        with pytest.raises(InvalidInput):
            await kick_chain.chain_actions(ctx, offender_person_id=offender, days=7, mode="ban")
        with pytest.raises(InvalidInput):
            await kick_chain.chain_actions(ctx, offender_person_id=offender, days=0,
                                           mode="kick")
        assert list(await session.scalars(select(ModerationCase))) == []


async def test_through_the_pipeline_a_kicked_advertiser_takes_his_chain(
        runtime: Runtime, org_id: int, groups: Groups) -> None:
    async with runtime.write_sessions() as session:
        await do_set_layer(session, org_id=org_id, scope="organization", scope_id=org_id,
                           feature="moderation", at=runtime.clock.now(), values={
                               "enabled": True, "banned_words": ["代理加盟"], "ladder": ["kick"],
                               "kick_chain": {"enabled": True, "days": 7, "mode": "kick"}})
        await session.commit()
    await runtime.pipeline.process(org_id, [parse_event(
        message("ad", "诚招代理加盟，私聊", group="main", minutes=1))])
    async with runtime.sessions() as session:
        kicked = list(await session.execute(
            select(ActionRecord.member_pid, ActionRecord.group_pid)
            .where(ActionRecord.type == KICK_MEMBER).order_by(ActionRecord.seq)))
    assert [tuple(k) for k in kicked] == [("ad", "main"), ("i1", "main"), ("i2", "sister")]

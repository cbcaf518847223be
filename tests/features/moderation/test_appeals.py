"""Appeals: a member appeals in private against their latest standing case; one open appeal per
case; staff uphold (the case is overturned, the mute lifted) or reject (the case stands); the
member is told; decisions are audited and final."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from qunyun.app.bootstrap import Runtime, build_runtime
from qunyun.community.access import Principal, Scope
from qunyun.community.audit import AuditEntry
from qunyun.community.models import Group, Organization, PlatformAccount
from qunyun.community.service import do_create_community, do_create_group
from qunyun.community.settings import do_set_layer
from qunyun.core.actions import MUTE_MEMBER, SEND_PRIVATE_MESSAGE
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.errors import Conflict, InvalidInput, NotFound
from qunyun.core.events import parse_event
from qunyun.core.features import FeatureContext, FeatureRegistry, MemberInfo
from qunyun.db.uow import UnitOfWork
from qunyun.features.moderation import appeals
from qunyun.features.moderation.appeal_models import ModerationAppeal
from qunyun.features.moderation.models import ModerationCase
from qunyun.features.moderation.plugin import FEATURE
from tests.factories import event, joined, message


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Runtime]:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([FEATURE]))
    yield rt
    await rt.close()


@pytest.fixture
async def muted(runtime: Runtime, org_id: int) -> int:
    """u1 posted a banned word in 会员群 and was muted for 10 minutes: the case id."""
    now = runtime.clock.now()
    async with runtime.write_sessions() as session:
        community = await do_create_community(session, org_id=org_id, name="米粉同城会", at=now)
        await do_create_group(session, org_id=org_id, platform="bridge", platform_id="g1",
                              name="会员群", at=now, community_id=community.id, store="上海店")
        await do_set_layer(session, org_id=org_id, scope="organization", scope_id=org_id,
                           feature="moderation", at=now, values={
                               "enabled": True, "banned_words": ["代理加盟"],
                               "ladder": ["mute:600"]})
        await session.commit()
    await runtime.pipeline.process(org_id, [parse_event(e) for e in (
        joined("u1", minutes=-60), joined("u2", minutes=-60),
        message("u1", "欢迎代理加盟", minutes=-30))])
    async with runtime.sessions() as session:
        case_id = await session.scalar(select(ModerationCase.id))
    assert case_id is not None
    return int(case_id)


def staff(org_id: int, scope: Scope | None = None, role: str = "owner") -> Principal:
    return Principal(org_id=org_id, role=role, actor="staff:hq", scope=scope or Scope())


async def write_privately(runtime: Runtime, member: str, text: str) -> list[dict[str, Any]]:
    """A private message of `member` to the bot, handled by `handle_private`; what it emits."""
    raw = event("message.private", group=None, member=member, message_id=f"p-{text}",
                kind="text", text=text)
    async with runtime.write_sessions() as session:
        person_id = await session.scalar(select(PlatformAccount.person_id).where(
            PlatformAccount.platform_user_id == member))
        assert person_id is not None
        ctx = FeatureContext(
            uow=UnitOfWork(session), clock=runtime.clock, now=runtime.clock.now(), group=None,
            member=MemberInfo(person_id, None, "member", "none", None, None, False, 0, False),
            settings=None, event=parse_event(raw))
        await appeals.handle_private(ctx)
        await session.commit()
    return [{"type": a.type, "member": a.member, **a.data} for a in ctx.actions]


async def appeal_rows(runtime: Runtime) -> list[ModerationAppeal]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(ModerationAppeal).order_by(ModerationAppeal.id)))


def test_actions_are_told_in_words() -> None:
    assert appeals.action_label("delete+mute:600", "en") == "message deleted, muted for 10 minutes"
    assert appeals.action_label("kick", "en") == "removed from the group"
    assert appeals.action_label("odd", "en") == "odd"


def test_the_command_is_recognized() -> None:
    assert appeals.parse_appeal("申诉 我只是转发") == "我只是转发"
    assert appeals.parse_appeal(" 申诉：误判了 ") == "误判了"
    assert appeals.parse_appeal("Appeal: it was a joke") == "it was a joke"
    assert appeals.parse_appeal("申诉") == ""
    assert appeals.parse_appeal("appealing offer") is None
    assert appeals.parse_appeal("我想申诉") is None
    assert appeals.parse_appeal("你好") is None


async def test_a_member_opens_one_appeal_per_case(runtime: Runtime, org_id: int,
                                                  muted: int) -> None:
    [reply] = await write_privately(runtime, "u1", "申诉 我只是在介绍朋友的店")
    [appeal] = await appeal_rows(runtime)
    assert (appeal.case_id, appeal.status, appeal.text, appeal.member) == (
        muted, "open", "我只是在介绍朋友的店", "u1")
    assert reply["type"] == SEND_PRIVATE_MESSAGE and reply["member"] == "u1"
    assert f"#{appeal.id}" in reply["text"] and "10" in reply["text"]  # muted 10 minutes
    [again] = await write_privately(runtime, "u1", "申诉 再说一次")
    assert f"#{appeal.id}" in again["text"] and len(await appeal_rows(runtime)) == 1
    assert await write_privately(runtime, "u1", "谢谢") == []  # not an appeal: no answer


async def test_nothing_to_appeal_gets_a_clear_reply(runtime: Runtime, org_id: int,
                                                    muted: int) -> None:
    [reply] = await write_privately(runtime, "u2", "申诉 为什么")
    assert reply["member"] == "u2" and "申诉" in reply["text"]
    assert await appeal_rows(runtime) == []


async def test_upholding_overturns_the_case_and_lifts_the_mute(runtime: Runtime, org_id: int,
                                                               muted: int) -> None:
    await write_privately(runtime, "u1", "申诉 误判")
    [appeal] = await appeal_rows(runtime)
    async with runtime.write_sessions() as session:
        actions = await appeals.do_decide(session, principal=staff(org_id), appeal_id=appeal.id,
                                          decision="upheld", note=" 抱歉，已解除 ",
                                          at=runtime.clock.now())
        await session.commit()
    assert [(a.type, a.member, dict(a.data).get("seconds")) for a in actions] == [
        (MUTE_MEMBER, "u1", 0), (SEND_PRIVATE_MESSAGE, "u1", None)]
    assert "抱歉，已解除" in actions[1].data["text"]
    async with runtime.sessions() as session:
        case = await session.get(ModerationCase, muted)
        decided = await session.get(ModerationAppeal, appeal.id)
        audit = await session.scalar(select(AuditEntry).where(
            AuditEntry.target_type == "moderation_appeal"))
    assert case is not None and (case.status, case.resolved_by) == (
        "overturned", f"appeal:{appeal.id}")
    assert decided is not None and (decided.status, decided.decided_by, decided.note) == (
        "upheld", "staff:hq", "抱歉，已解除")
    assert audit is not None and audit.action == "appeal.upheld"
    async with runtime.write_sessions() as session:
        with pytest.raises(Conflict):
            await appeals.do_decide(session, principal=staff(org_id), appeal_id=appeal.id,
                                    decision="rejected", note="", at=runtime.clock.now())
    [reply] = await write_privately(runtime, "u1", "申诉 再来")  # the case no longer stands
    assert "申诉" in reply["text"] and len(await appeal_rows(runtime)) == 1


async def test_rejecting_lets_the_case_stand_and_is_final(runtime: Runtime, org_id: int,
                                                          muted: int) -> None:
    await write_privately(runtime, "u1", "appeal please")
    [appeal] = await appeal_rows(runtime)
    async with runtime.write_sessions() as session:
        actions = await appeals.do_decide(session, principal=staff(org_id), appeal_id=appeal.id,
                                          decision="rejected", note="", at=runtime.clock.now())
        await session.commit()
    assert [a.type for a in actions] == [SEND_PRIVATE_MESSAGE]
    async with runtime.sessions() as session:
        case = await session.get(ModerationCase, muted)
    assert case is not None and case.status == "applied"
    [reply] = await write_privately(runtime, "u1", "申诉 再考虑一下")
    assert f"#{appeal.id}" in reply["text"] and len(await appeal_rows(runtime)) == 1


async def test_bad_decisions_and_foreign_scopes_change_nothing(runtime: Runtime, org_id: int,
                                                               muted: int) -> None:
    await write_privately(runtime, "u1", "申诉")
    [appeal] = await appeal_rows(runtime)
    elsewhere = Scope(whole_org=False, stores=frozenset({"北京店"}))
    async with runtime.write_sessions() as session:
        with pytest.raises(InvalidInput) as bad:
            await appeals.do_decide(session, principal=staff(org_id), appeal_id=appeal.id,
                                    decision="maybe", note="x" * 1001, at=runtime.clock.now())
        assert sorted(e.path for e in bad.value.errors) == ["decision", "note"]
        with pytest.raises(NotFound):  # outside the scope: not even shown
            await appeals.do_decide(session, principal=staff(org_id, elsewhere, "guide"),
                                    appeal_id=appeal.id, decision="upheld", note="",
                                    at=runtime.clock.now())
        rows, total = await appeals.list_appeals(session, principal=staff(org_id, elsewhere),
                                                 status="open")
        assert (rows, total) == ([], 0)
        rows, total = await appeals.list_appeals(session, principal=staff(org_id),
                                                 status="open")
        assert total == 1 and rows[0].group_name == "会员群" and rows[0].case.id == muted
        await session.commit()
    async with runtime.sessions() as session:
        case = await session.get(ModerationCase, muted)
        audited = await session.scalar(select(func.count()).select_from(AuditEntry))
        group = await session.scalar(select(Group))
    assert case is not None and case.status == "applied" and audited == 0
    assert group is not None and (await appeal_rows(runtime))[0].status == "open"


async def test_an_overturned_kick_invites_the_member_back_in_their_language(
        runtime: Runtime, org_id: int, muted: int) -> None:
    async with runtime.write_sessions() as session:
        await session.execute(update(Organization).values(language="en"))
        await do_set_layer(session, org_id=org_id, scope="organization", scope_id=org_id,
                           feature="moderation", at=runtime.clock.now(), values={
                               "enabled": True, "banned_words": ["代理加盟"], "ladder": ["kick"]})
        await session.commit()
    await runtime.pipeline.process(org_id, [parse_event(message("u2", "代理加盟", minutes=1))])
    [reply] = await write_privately(runtime, "u2", "appeal I was quoting a scam warning")
    assert "removed from the group" in reply["text"]
    [appeal] = await appeal_rows(runtime)
    async with runtime.write_sessions() as session:
        actions = await appeals.do_decide(session, principal=staff(org_id), appeal_id=appeal.id,
                                          decision="upheld", note="", at=runtime.clock.now())
        await session.commit()
    [notice] = actions  # a kick cannot be undone by the bot: the member is asked back
    assert notice.member == "u2" and "join the group again" in notice.data["text"]

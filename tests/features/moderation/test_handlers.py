"""The moderation handler through the real pipeline: a broken rule deletes the message, tells
the member which rule, climbs the ladder (warn → warn → mute → … with decay), stops propagation,
is punished once per event; exempt roles pass; the blacklist and the kick chain act; undoing
unmutes; a platform that cannot mute or kick gets staff tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from qunyun.app.bootstrap import build_runtime, ensure_default_org
from qunyun.community.blacklist import do_blacklist, find_blacklisted
from qunyun.community.models import Membership
from qunyun.community.settings import do_set_layer
from qunyun.core import events as E
from qunyun.core.actions import (
    DELETE_MESSAGE,
    KICK_MEMBER,
    MUTE_MEMBER,
    SEND_MESSAGE,
)
from qunyun.core.clock import ManualClock
from qunyun.core.config import Config
from qunyun.core.features import Feature, FeatureContext, FeatureRegistry, FeatureSettings
from qunyun.core.platform import DeliveryResult, RateLimit, RateLimits
from qunyun.features.moderation import service
from qunyun.features.moderation.models import (
    APPLIED,
    UNDONE,
    ModerationCase,
    ModerationClassifier,
)
from qunyun.features.moderation.plugin import FEATURE
from qunyun.pipeline.models import ActionRecord, StaffTask
from tests import factories as f
from tests.conftest import START
from tests.features.redpacket.conftest import Chat, make_chat

SPAM = "代开发票，价格优惠"
SEEN: list[str] = []


class ProbeSettings(FeatureSettings):
    enabled: bool = True


async def _probe(ctx: FeatureContext) -> None:
    assert ctx.event is not None
    SEEN.append(str(ctx.event.data.get("text")))


# A feature after moderation (as points is): it sees only what moderation let through.
PROBE = Feature(name="probe", title="probe", description="", order=900,
                events=frozenset({E.MESSAGE_POSTED}), settings_model=ProbeSettings,
                handle=_probe, on_by_default=True)


async def moderation_chat(database_url: str, tmp_path: Path, clock: ManualClock,
                          **values: Any) -> Chat:
    chat = await make_chat(database_url, tmp_path / "data", clock, FEATURE, PROBE)
    chat.feature = "moderation"
    await chat.enable(**values)
    await chat.speak_english()
    return chat


@pytest.fixture
async def chat(database_url: str, tmp_path: Path, clock: ManualClock) -> AsyncIterator[Chat]:
    SEEN.clear()
    made = await moderation_chat(database_url, tmp_path, clock, banned_words=["代开发票"])
    await made.join("anchor", "u1", minutes=-3 * 24 * 60)
    yield made
    await made.rt.close()


async def cases(chat: Chat) -> list[ModerationCase]:
    async with chat.rt.sessions() as session:
        return list(await session.scalars(select(ModerationCase).order_by(ModerationCase.id)))


async def kinds(chat: Chat, caused_by: str) -> list[tuple[str, dict[str, Any]]]:
    async with chat.rt.sessions() as session:
        rows = await session.scalars(select(ActionRecord).where(
            ActionRecord.caused_by == caused_by).order_by(ActionRecord.seq))
        return [(r.type, dict(r.data)) for r in rows]


async def spam(chat: Chat, member: str = "u1", minutes: float = 0,
               text: str = SPAM) -> str:
    event = f.message(member, text, minutes=minutes, name=f"名{member}")
    await chat.rt.pipeline.ingest(chat.org, [event])
    return str(event["id"])


async def test_spam_is_deleted_the_member_warned_and_propagation_stops(chat: Chat) -> None:
    event_id = await spam(chat)
    ok = f.message("u1", "大家早上好", minutes=1)
    await chat.rt.pipeline.ingest(chat.org, [ok])
    actions = await kinds(chat, event_id)
    assert [kind for kind, _ in actions] == [DELETE_MESSAGE, SEND_MESSAGE]
    notice = actions[1][1]
    assert notice["mentions"] == ["u1"]
    assert notice["text"].startswith("@名u1 ")
    assert "banned words" in notice["text"] and "warning 1" in notice["text"]
    assert SEEN == ["大家早上好"]  # the deleted spam reached no later feature
    [case] = await cases(chat)
    assert (case.rule, case.action, case.warnings, case.status) == \
        ("banned_words", "delete+warn", 1, APPLIED)
    assert case.detail["spans"] == [{"start": 0, "end": 4, "text": "代开发票"}]
    assert await kinds(chat, str(ok["id"])) == []


async def test_the_ladder_climbs_and_offences_decay(chat: Chat) -> None:
    steps = []
    for minute in range(5):
        event_id = await spam(chat, minutes=minute)
        steps.append([(k, d) for k, d in await kinds(chat, event_id)
                      if k in (MUTE_MEMBER, KICK_MEMBER)])
    assert steps == [[], [], [(MUTE_MEMBER, {"seconds": 600})],
                     [(MUTE_MEMBER, {"seconds": 86400})], [(KICK_MEMBER, {"block": False})]]
    assert [c.action for c in await cases(chat)] == [
        "delete+warn", "delete+warn", "delete+mute:600", "delete+mute:86400", "delete+kick"]
    # 30 days later (the default decay) the old offences no longer count: a warning again.
    await chat.join("u1", minutes=31 * 24 * 60 - 1)
    await spam(chat, minutes=31 * 24 * 60)
    assert (await cases(chat))[-1].action == "delete+warn"


async def test_the_same_event_is_punished_once(chat: Chat) -> None:
    event = f.message("u1", SPAM)
    await chat.rt.pipeline.ingest(chat.org, [event])
    [case] = await cases(chat)
    spec = service.CaseSpec(org_id=case.org_id, community_id=case.community_id,
                            group_id=case.group_id, person_id=case.person_id,
                            event_id=case.event_id, message_id=case.message_id, text=case.text,
                            rule=case.rule, category=case.category, detail={}, action="delete",
                            at=case.at)
    async with chat.rt.write_sessions() as session:
        assert await service.do_open_case(session, spec=spec, warnings=9) is None
        await session.commit()
    await chat.rt.pipeline.ingest(chat.org, [event])  # the platform sends it again
    assert len(await cases(chat)) == 1
    assert len(await kinds(chat, str(event["id"]))) == 2


async def test_exempt_roles_pass(chat: Chat) -> None:
    person = await chat.person("u1")
    async with chat.rt.write_sessions() as session:
        await session.execute(update(Membership).where(Membership.person_id == person)
                              .values(role="admin"))
        await session.commit()
    await spam(chat)
    assert await cases(chat) == []
    assert SEEN == [SPAM]


async def test_undo_unmutes_and_teaches_the_classifier(chat: Chat) -> None:
    for minute in range(3):
        await spam(chat, minutes=minute)
    muted = (await cases(chat))[-1]
    assert muted.action == "delete+mute:600"
    async with chat.rt.write_sessions() as session:
        actions = await service.do_undo_case(session, case_id=muted.id, actor="staff:t",
                                             at=START + timedelta(hours=1), overturned=False)
        await session.commit()
    assert [(a.type, dict(a.data), a.member, a.group) for a in actions] == \
        [(MUTE_MEMBER, {"seconds": 0}, "u1", "g1")]
    undone = (await cases(chat))[-1]
    assert (undone.status, undone.resolved_by) == (UNDONE, "staff:t")
    async with chat.rt.sessions() as session:
        model = await session.get(ModerationClassifier, chat.org)
        assert model is not None and (model.spam_examples, model.ham_examples) == (2, 1)
    # Undone cases no longer count: the next offence is the third live one's step again.
    event_id = await spam(chat, minutes=5)
    assert (MUTE_MEMBER, {"seconds": 600}) in await kinds(chat, event_id)


async def test_blacklisted_members_are_removed_when_they_post(chat: Chat) -> None:
    async with chat.rt.write_sessions() as session:
        await do_blacklist(session, org_id=chat.org, person_id=await chat.person("u1"),
                           reason="广告", added_by="staff:t", at=START - timedelta(days=1))
        await session.commit()
    event = f.message("u1", "你好", name="名u1")
    await chat.rt.pipeline.ingest(chat.org, [event])
    assert [k for k, _ in await kinds(chat, str(event["id"]))] == \
        [DELETE_MESSAGE, SEND_MESSAGE, KICK_MEMBER]
    assert [(c.rule, c.action) for c in await cases(chat)] == [("blacklist", "delete+kick")]


async def test_a_block_puts_the_offender_on_the_organization_blacklist(
        database_url: str, tmp_path: Path, clock: ManualClock) -> None:
    chat = await moderation_chat(database_url, tmp_path, clock, banned_words=["代开发票"],
                                 ladder=["block"])
    await chat.join("ad", minutes=-60)
    event_id = await spam(chat, "ad")
    assert (KICK_MEMBER, {"block": True}) in await kinds(chat, event_id)
    async with chat.rt.sessions() as session:
        entry = await find_blacklisted(session, org_id=chat.org,
                                       person_id=await chat.person("ad"), at=START)
    assert entry is not None and entry.added_by == "moderation:block"
    assert entry.reason == f"banned_words: {SPAM}"
    await chat.join("ad", group="g2", minutes=5)  # another group of the organization
    event = f.message("ad", "大家好", group="g2", minutes=6)
    await chat.rt.pipeline.ingest(chat.org, [event])
    assert (KICK_MEMBER, {"block": False}) in await kinds(chat, str(event["id"]))
    await chat.rt.close()


async def test_a_kick_pulls_the_kick_chain(database_url: str, tmp_path: Path,
                                           clock: ManualClock) -> None:
    chat = await moderation_chat(database_url, tmp_path, clock, banned_words=["代开发票"],
                                 ladder=["kick"], kick_chain={"enabled": True, "days": 7,
                                                              "mode": "kick"})
    await chat.join("ad", minutes=-3 * 24 * 60)
    await chat.rt.pipeline.ingest(chat.org, [f.joined("friend", inviter="ad", minutes=-60)])
    event_id = await spam(chat, "ad")
    kicked = [(k, d) for k, d in await kinds(chat, event_id) if k == KICK_MEMBER]
    assert len(kicked) == 2
    assert sorted(c.rule for c in await cases(chat)) == ["banned_words", "kick_chain"]
    await chat.rt.close()


async def test_flooding_and_the_same_text_in_several_groups(chat: Chat) -> None:
    for second in range(8):
        await spam(chat, minutes=10 + second / 60, text=f"第{second}条")
    assert await cases(chat) == []
    await spam(chat, minutes=10 + 8 / 60, text="第9条")
    assert [c.rule for c in await cases(chat)] == ["flood"]
    text = "周末一起去爬山吗？报名找我"
    for group in ("g1", "g2", "g3"):
        await chat.join("u1", group=group, minutes=-3 * 24 * 60)
        await chat.rt.pipeline.ingest(chat.org, [f.message("u1", text, group=group,
                                                           minutes=20)])
    assert [c.rule for c in await cases(chat)][-1] == "cross_group"


async def test_newcomers_may_not_post_links(chat: Chat) -> None:
    await chat.join("new", minutes=-5)
    await spam(chat, "new", text="看看这个 https://example.com/deal")
    assert [(c.rule, c.category) for c in await cases(chat)] == [("newcomer", "link")]
    for minute in range(5):  # five messages and three days in: probation is over
        await spam(chat, "u1", minutes=minute, text=f"早上好 {minute}")
    await spam(chat, "u1", minutes=6, text="看看这个 https://example.com/deal")
    assert len(await cases(chat)) == 1
    # Probation lasts while either holds: fewer than 5 messages, or joined under 24 hours.
    for minute in range(5):
        await spam(chat, "new", minutes=minute + 10, text=f"你们好 {minute}")
    await spam(chat, "new", minutes=20, text="看看这个 https://example.com/deal")
    assert len(await cases(chat)) == 2


class _NoMute:
    """A platform that can post and delete but not mute or kick (as some bridges)."""

    name = "nomute"
    capabilities = frozenset({SEND_MESSAGE, DELETE_MESSAGE})
    rate_limits = RateLimits(RateLimit(100, 100), RateLimit(100, 100))

    async def deliver(self, action: Any) -> DeliveryResult:
        return DeliveryResult("done")


async def test_a_platform_that_cannot_mute_gets_staff_tasks(
        database_url: str, tmp_path: Path, clock: ManualClock) -> None:
    config = Config(data_dir=tmp_path / "data", database_url=database_url)
    rt = await build_runtime(config, clock=clock, migrate=False,
                             registry=FeatureRegistry([FEATURE]),
                             platforms={"nomute": _NoMute()})  # type: ignore[dict-item]
    org = await ensure_default_org(rt.sessions, START)
    async with rt.write_sessions() as session:
        await do_set_layer(session, org_id=org, scope="organization", scope_id=org,
                           feature="moderation",
                           values={"enabled": True, "banned_words": ["代开发票"],
                                   "ladder": ["mute:600", "block"]}, at=START)
        await session.commit()
    for minute in range(2):
        await rt.pipeline.ingest(org, [f.message("u9", SPAM, platform="nomute",
                                                 minutes=minute)])
    async with rt.sessions() as session:
        tasks = list(await session.scalars(select(StaffTask).order_by(StaffTask.id)))
        statuses = [(r.type, r.status) for r in await session.scalars(
            select(ActionRecord).order_by(ActionRecord.seq))]
    assert [t.kind for t in tasks] == [MUTE_MEMBER, KICK_MEMBER]
    assert tasks[1].content == "将成员 u9 移出群聊并禁止再次加入。"  # kick and block, in Chinese
    assert (DELETE_MESSAGE, "pending") in statuses and (MUTE_MEMBER, "task") in statuses
    await rt.close()


async def test_a_private_message_reaches_appeals(chat: Chat) -> None:
    await spam(chat)
    event = f.event("message.private", group=None, member="u1", message_id="p1", kind="text",
                    text="申诉 我发的是正规发票信息", minutes=5)
    await chat.rt.pipeline.ingest(chat.org, [event])
    replies = await chat.replies(str(event["id"]))
    assert len(replies) == 1 and replies[0]

"""Marking and unmarking highlights in the chat by replying to a message."""

from __future__ import annotations

from typing import Any

from qunyun.app.bootstrap import Runtime
from qunyun.core.i18n import gettext
from tests import factories as f
from tests.features.highlights.conftest import configure, highlights, replies, set_role


def reply(member: str, text: str, target: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return f.message(member, text, reply_to=target["data"]["message_id"], **kw)


def mid(event: dict[str, Any]) -> str:
    return str(event["data"]["message_id"])


async def admin(rt: Runtime, org: int, member: str = "boss", role: str = "admin") -> None:
    await rt.pipeline.ingest(org, [f.message(member, "大家好", minutes=-10)])
    await set_role(rt, member, role)


async def test_an_admin_marks_a_message_of_the_same_batch(rt: Runtime, org: int) -> None:
    await admin(rt, org)
    good = f.message("u1", "新品到店，周六试吃活动", minutes=1, name="小王")
    command = reply("boss", "精华", good, minutes=2)
    await rt.pipeline.ingest(org, [good, command])

    [row] = await highlights(rt)
    assert (row.message_id, row.author_name, row.text, row.kind) == (
        mid(good), "小王", "新品到店，周六试吃活动", "text")
    assert row.marked_by == "member" and row.unmarked_at is None
    assert row.author_person_id is not None and row.marked_by_person_id is not None
    assert await replies(rt) == [(gettext("Kept as a highlight: the message of {author}.",
                                          author="小王"), mid(command))]


async def test_an_owner_marks_a_message_of_an_earlier_batch(rt: Runtime, org: int) -> None:
    await admin(rt, org, "owner1", "owner")
    good = f.message("u1", "分享一个好用的技巧", minutes=1)
    await rt.pipeline.ingest(org, [good])
    await rt.pipeline.ingest(org, [reply("owner1", "/设精华", good, minutes=30)])
    [row] = await highlights(rt)
    assert row.message_id == mid(good) and row.text == "分享一个好用的技巧"
    assert row.posted_at < row.marked_at


async def test_a_member_is_refused_politely(rt: Runtime, org: int) -> None:
    good = f.message("u1", "好文", minutes=1)
    await rt.pipeline.ingest(org, [good, reply("u2", "精华", good, minutes=2),
                                   f.message("u2", "精华 这个词只是聊天", minutes=3)])
    assert await highlights(rt) == []
    [(text, _)] = await replies(rt)
    assert text == gettext("Sorry, only {roles} can mark highlights.", roles="群主 / 管理员")


async def test_a_reply_to_an_unknown_message(rt: Runtime, org: int) -> None:
    await admin(rt, org)
    await rt.pipeline.ingest(org, [f.message("boss", "精华", reply_to="never-seen", minutes=1)])
    assert await highlights(rt) == []
    [(text, _)] = await replies(rt)
    assert text == gettext("I can't find that message: it may have been posted before I "
                           "joined the group.")


async def test_marking_twice_is_idempotent(rt: Runtime, org: int) -> None:
    await admin(rt, org)
    good = f.message("u1", "值得收藏", minutes=1)
    await rt.pipeline.ingest(org, [good, reply("boss", "精华", good, minutes=2)])
    await rt.pipeline.ingest(org, [reply("boss", "highlight", good, minutes=3)])
    assert len(await highlights(rt)) == 1
    assert [t for t, _ in await replies(rt)][1] == gettext("This message is a highlight already.")


async def test_unmarking_keeps_the_history(rt: Runtime, org: int) -> None:
    await admin(rt, org)
    good = f.message("u1", "值得收藏", minutes=1)
    await rt.pipeline.ingest(org, [good, reply("boss", "精华", good, minutes=2),
                                   reply("boss", "取消精华", good, minutes=3),
                                   reply("boss", "取消精华", good, minutes=4),
                                   reply("boss", "精华", good, minutes=5)])
    first, second = await highlights(rt)
    assert first.unmarked_at == f.BASE.replace(minute=3) and first.unmarked_by == "member"
    assert second.unmarked_at is None and second.message_id == first.message_id
    assert [t for t, _ in await replies(rt)][1:4] == [
        gettext("Removed from the highlights."), gettext("That message is not a highlight."),
        gettext("Kept as a highlight: the message of {author}.", author="u1")]


async def test_a_bare_command_gets_a_hint_only_for_admins(rt: Runtime, org: int) -> None:
    await admin(rt, org)
    bare = f.message("boss", "精华", minutes=1)
    long = f.message("boss", "精华" + "，这是一段很长的聊天内容" * 5, minutes=2)
    await rt.pipeline.ingest(org, [bare, long, f.message("u1", "精华", minutes=3)])
    assert await replies(rt) == [(gettext("Reply to the message with “{word}” to do this.",
                                          word="设精华"), mid(bare))]


async def test_settings_choose_the_words_and_the_roles(rt: Runtime, org: int) -> None:
    await configure(rt, org, keywords=["加精"], allowed_roles=["assistant"])
    await admin(rt, org, "helper", "assistant")
    good = f.message("u1", "好内容", minutes=1)
    await rt.pipeline.ingest(org, [good, reply("helper", "精华", good, minutes=2),
                                   reply("helper", "加精", good, minutes=3)])
    assert len(await highlights(rt)) == 1
    assert len(await replies(rt)) == 1


async def test_nothing_happens_when_the_feature_is_off(rt: Runtime, org: int) -> None:
    await configure(rt, org, enabled=False)
    await admin(rt, org)
    good = f.message("u1", "好内容", minutes=1)
    await rt.pipeline.ingest(org, [good, reply("boss", "精华", good, minutes=2)])
    assert await highlights(rt) == [] and await replies(rt) == []


async def test_a_recalled_highlight_leaves_the_highlights(rt: Runtime, org: int) -> None:
    await admin(rt, org)
    good = f.message("u1", "发错了", minutes=1)
    await rt.pipeline.ingest(org, [good, reply("boss", "精华", good, minutes=2),
                                   f.event("message.recalled", member="u1", minutes=3,
                                           message_id=mid(good))])
    [row] = await highlights(rt)
    assert row.unmarked_by == "recalled" and row.unmarked_at is not None
    assert len(await replies(rt)) == 1  # the recall itself is not answered

"""Actions → Bot API calls, against the limit-enforcing fake."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from qunyun.core import actions as A
from qunyun.core.actions import Action
from qunyun.platforms.telegram import BotApi, TelegramPlatform
from qunyun.platforms.telegram.entities import utf16_slice
from qunyun.platforms.telegram.fake_server import FakeBotApi
from qunyun.platforms.telegram.guard import SendGuard, SendLimits, Window
from tests.platforms.telegram.samples import GROUP, group_message, user

CHAT = str(GROUP)
NOW = 1_800_000_000.0


def action(kind: str, data: dict[str, Any], *, member: str | None = None,
           group: str | None = CHAT, id: str = "a1") -> Action:
    return Action(id=id, type=kind, platform="telegram", group=group, member=member,
                  caused_by="e1", data=data)


@pytest.fixture
def adapter(api: BotApi) -> TelegramPlatform:
    return TelegramPlatform(api, clock_s=lambda: NOW)


async def test_send_with_reply_and_mentions_in_utf16(adapter: TelegramPlatform,
                                                     fake: FakeBotApi) -> None:
    adapter.translate(group_message(1, 5, user(42, "小王😋")))
    result = await adapter.deliver(action(A.SEND_MESSAGE, {
        "text": "欢迎 😋", "reply_to": "5", "mentions": ["42", "77"]}))
    assert result.status == "done"
    [sent] = fake.state.sent
    params = sent.params
    assert params["reply_parameters"]["message_id"] == 5
    first, second = params["entities"]
    assert utf16_slice(params["text"], first["offset"], first["length"]) == "小王😋"
    assert first["user"] == {"id": 42} and second["user"] == {"id": 77}
    assert utf16_slice(params["text"], second["offset"], second["length"]) == "77"


async def test_every_action_maps_to_its_call(adapter: TelegramPlatform, fake: FakeBotApi) -> None:
    cases = [
        (action(A.DELETE_MESSAGE, {"message_id": "9"}, id="d"), ["deleteMessage"]),
        (action(A.MUTE_MEMBER, {"seconds": 600}, member="42", id="m"), ["restrictChatMember"]),
        (action(A.MUTE_MEMBER, {"seconds": 0}, member="42", id="u"), ["restrictChatMember"]),
        (action(A.KICK_MEMBER, {}, member="42", id="k"), ["banChatMember", "unbanChatMember"]),
        (action(A.KICK_MEMBER, {"block": True}, member="42", id="b"), ["banChatMember"]),
        (action(A.MUTE_ALL, {"on": True}, id="ma"), ["setChatPermissions"]),
        (action(A.APPROVE_JOIN, {"request_id": f"{CHAT}:42"}, member="42", id="ap"),
         ["approveChatJoinRequest"]),
        (action(A.REJECT_JOIN, {"request_id": f"{CHAT}:42"}, member="42", id="rj"),
         ["declineChatJoinRequest"]),
        (action(A.SET_ANNOUNCEMENT, {"text": "公告"}, id="an"), ["sendMessage", "pinChatMessage"]),
        (action(A.SEND_PRIVATE_MESSAGE, {"text": "hi"}, member="42", group=None, id="p"),
         ["sendMessage"]),
    ]
    for item, methods in cases:
        before = len(fake.state.calls)
        assert (await adapter.deliver(item)).status == "done", item.type
        assert [m for m, _ in fake.state.calls[before:]] == methods, item.type
    mute, unmute = fake.calls_of("restrictChatMember")
    assert mute["until_date"] == int(NOW) + 600
    assert mute["permissions"]["can_send_messages"] is False
    assert unmute["permissions"]["can_send_messages"] is True and "until_date" not in unmute
    assert fake.calls_of("unbanChatMember")[0]["only_if_banned"] is True
    assert fake.calls_of("approveChatJoinRequest")[0] == {"chat_id": CHAT, "user_id": 42}
    assert fake.calls_of("sendMessage")[-1]["chat_id"] == "42"


async def test_a_delivered_action_retried_has_one_effect(adapter: TelegramPlatform,
                                                         fake: FakeBotApi) -> None:
    item = action(A.SEND_MESSAGE, {"text": "once"})
    assert (await adapter.deliver(item)).status == "done"
    assert (await adapter.deliver(item)).status == "done"
    assert len(fake.state.sent) == 1


async def test_429_becomes_retry_with_retry_after(api: BotApi, fake: FakeBotApi) -> None:
    loose = SendLimits(per_chat=Window(100, 1), per_group=Window(100, 60),
                       overall=Window(100, 1))
    adapter = TelegramPlatform(api, guard=SendGuard(loose))
    results = [await adapter.deliver(action(A.SEND_MESSAGE, {"text": "x"}, id=f"a{i}"))
               for i in range(3)]
    assert [r.status for r in results] == ["done", "retry", "retry"]
    assert results[1].retry_after == 1 and fake.state.refused_429 == 2


async def test_the_guard_keeps_to_the_limits_on_its_own() -> None:
    """Guard and fake on one manual clock: the 21st message within a minute never leaves."""
    ticks = [0.0]
    fake = FakeBotApi(monotonic=lambda: ticks[0])
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))
    adapter = TelegramPlatform(BotApi(fake.token, base_url="http://fake", client=client),
                               guard=SendGuard(monotonic=lambda: ticks[0]))
    try:
        for index in range(20):
            assert (await adapter.deliver(action(A.SEND_MESSAGE, {"text": "x"},
                                                 id=f"n{index}"))).status == "done"
            ticks[0] += 2.0
        over = await adapter.deliver(action(A.SEND_MESSAGE, {"text": "x"}, id="over"))
        assert over.status == "retry" and over.retry_after is not None
        assert over.retry_after >= 20  # until the first of the twenty is a minute old
        assert len(fake.state.sent) == 20 and fake.state.refused_429 == 0
        ticks[0] += over.retry_after
        assert (await adapter.deliver(action(A.SEND_MESSAGE, {"text": "x"},
                                             id="over"))).status == "done"
        assert fake.state.refused_429 == 0
    finally:
        await client.aclose()


async def test_a_migrated_group_is_followed(adapter: TelegramPlatform, fake: FakeBotApi) -> None:
    fake.migrate(CHAT, -1009999)
    assert (await adapter.deliver(action(A.SEND_MESSAGE, {"text": "x"}))).status == "done"
    assert fake.state.sent[0].chat_id == "-1009999"
    assert adapter.chat_for(CHAT) == "-1009999"
    assert (await adapter.deliver(action(A.DELETE_MESSAGE, {"message_id": "1"},
                                         id="d"))).status == "done"
    assert fake.calls_of("deleteMessage")[0]["chat_id"] == "-1009999"


async def test_failures_and_unsupported(adapter: TelegramPlatform, fake: FakeBotApi) -> None:
    fake.state.fail_next.append((403, "Forbidden: bot was kicked from the supergroup chat"))
    failed = await adapter.deliver(action(A.SEND_MESSAGE, {"text": "x"}))
    assert failed.status == "failed" and "kicked" in (failed.reason or "")
    fake.state.fail_next.append((502, "Bad Gateway"))
    assert (await adapter.deliver(action(A.SEND_MESSAGE, {"text": "x"}, id="b"))).status \
        == "retry"
    assert (await adapter.deliver(action("member.tickle", {}, id="c"))).status == "unsupported"
    broken = await adapter.deliver(action(A.DELETE_MESSAGE, {"message_id": "not a number"},
                                          id="e"))
    assert broken.status == "failed" and "malformed" in (broken.reason or "")


async def test_a_personal_invite_link_names_its_member(adapter: TelegramPlatform,
                                                       fake: FakeBotApi) -> None:
    link = await adapter.invite_link_for(CHAT, "42")
    assert link.startswith("https://t.me/+")
    assert fake.state.invite_links[link]["name"] == "qy:42"


async def test_invite_link_action_sends_the_link_privately(adapter: TelegramPlatform,
                                                           fake: FakeBotApi) -> None:
    result = await adapter.deliver(action(A.SEND_INVITE_LINK, {"text": "你的专属链接：{link}"},
                                          member="42", id="inv"))
    assert result.status == "done"
    [link] = fake.state.invite_links
    assert fake.state.invite_links[link]["name"] == "qy:42"
    private = fake.state.sent[-1]
    assert private.chat_id == "42" and private.params["text"] == f"你的专属链接：{link}"

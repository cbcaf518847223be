"""The adapter's delivery logic: routing between bots, resuming a split text, answers mapped
to delivery results; and the roster's translation."""

from __future__ import annotations

from typing import Any

from qunyun.core.actions import Action
from qunyun.platforms.onebot import Bot, OneBotPlatform
from qunyun.platforms.onebot.link import LinkDown
from qunyun.platforms.onebot.options import OneBotOptions
from qunyun.platforms.onebot.outbound import MAX_TEXT
from qunyun.platforms.onebot.roster import member_events


class ScriptedLink:
    """An API link answering from a script: an answer dict, or an exception to raise."""

    def __init__(self, *script: dict[str, Any] | Exception) -> None:
        self.script = list(script)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def call(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((action, params))
        step = self.script.pop(0) if self.script else {"status": "ok", "retcode": 0,
                                                        "data": {"message_id": 1}}
        if isinstance(step, Exception):
            raise step
        return step


async def _nothing(events: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return []


def bot(platform: OneBotPlatform, name: str, link: ScriptedLink | None) -> Bot:
    made = platform.add_bot(Bot(name, OneBotOptions(mode="reverse"), _nothing))
    if link is not None:
        made.attach(link)
    return made


def send(text: str, group: str = "123", action_id: str = "a1") -> Action:
    return Action(id=action_id, type="message.send", platform="onebot", group=group,
                  member=None, caused_by="e", data={"text": text})


async def test_a_split_text_resumes_after_the_last_part_sent() -> None:
    platform = OneBotPlatform()
    link = ScriptedLink({"status": "ok", "retcode": 0, "data": {"message_id": 7}},
                        LinkDown("socket closed"))
    bot(platform, "qq", link)
    action = send("a" * MAX_TEXT + "b" * 10)
    first = await platform.deliver(action)
    assert first.status == "retry" and first.reason == "socket closed"
    assert (await platform.deliver(action)).status == "done"
    texts = [c[1]["message"][0]["data"]["text"] for c in link.calls]
    assert texts == ["a" * MAX_TEXT, "b" * 10, "b" * 10]  # the first part went once


async def test_answers_become_delivery_results() -> None:
    platform = OneBotPlatform()
    link = ScriptedLink({"status": "failed", "retcode": 1404, "data": None},
                        {"status": "async", "retcode": 1, "data": None},
                        {"status": "ok", "retcode": 0, "data": {"message_id": 0}})
    bot(platform, "qq", link)
    unsupported = await platform.deliver(send("x", action_id="u"))
    assert unsupported.status == "unsupported"
    assert (await platform.deliver(send("y", action_id="v"))).status == "done"
    assert (await platform.deliver(send("z", action_id="w"))).status == "done"
    health = platform.report()["groups"]["123"]
    assert (health["calls"], health["failures"], health["risk_signs"]) == (3, 1, 1)


async def test_actions_go_through_the_bot_that_serves_the_group() -> None:
    platform = OneBotPlatform()
    first, second = ScriptedLink(), ScriptedLink()
    bot(platform, "one", first)
    serving = bot(platform, "two", second)
    assert (await platform.deliver(send("x"))).status == "retry"  # two bots, group unknown
    platform.serve_group("123", serving)
    assert (await platform.deliver(send("x"))).status == "done"
    assert (first.calls, len(second.calls)) == ([], 1)


def test_roster_members_become_imported_joins_and_roles() -> None:
    events = member_events("123", [
        {"user_id": 5, "nickname": "甲", "card": "", "role": "owner", "join_time": 1_700_000_000},
        {"user_id": 6, "nickname": "乙", "card": "乙卡", "role": "member", "join_time": 0},
        {"nickname": "no id"}, "junk"])
    assert [(e["type"], e["member"], e["imported"]) for e in events] == [
        ("member.joined", "5", True), ("member.role_changed", "5", True),
        ("member.joined", "6", True)]
    assert events[2]["data"]["name"] == "乙卡"
    assert member_events("123", [{"user_id": 5, "join_time": 1_700_000_000}])[0]["id"] == \
        events[0]["id"]  # the same member, the same id: a second sync is a duplicate

"""Canonical actions → OneBot 11 API calls."""

from __future__ import annotations

from typing import Any

import pytest

from qunyun.core import actions as A
from qunyun.core.actions import Action
from qunyun.platforms.onebot.outbound import (
    CAPABILITIES,
    MAX_TEXT,
    ApiCall,
    CannotTranslate,
    api_calls,
    split_text,
)


def action(kind: str, data: dict[str, Any], *, group: str | None = "123",
           member: str | None = None) -> Action:
    return Action(id="a1", type=kind, platform="onebot", group=group, member=member,
                  caused_by="e1", data=data)


def test_send_with_reply_and_mentions() -> None:
    calls = api_calls(action(A.SEND_MESSAGE, {"text": "欢迎", "reply_to": "41",
                                              "mentions": ["5", "6"]}))
    assert calls == [ApiCall("send_group_msg", {"group_id": 123, "message": [
        {"type": "reply", "data": {"id": "41"}},
        {"type": "at", "data": {"qq": "5"}}, {"type": "text", "data": {"text": " "}},
        {"type": "at", "data": {"qq": "6"}}, {"type": "text", "data": {"text": " "}},
        {"type": "text", "data": {"text": "欢迎"}}]})]


def test_long_text_is_split_and_only_the_first_part_replies() -> None:
    text = ("一行字\n" * 1000) + "x" * 5000
    calls = api_calls(action(A.SEND_MESSAGE, {"text": text, "reply_to": "41"}))
    parts = ["".join(s["data"]["text"] for s in c.params["message"] if s["type"] == "text")
             for c in calls]
    assert "".join(parts) == text
    assert all(len(p) <= MAX_TEXT for p in parts)
    assert calls[0].params["message"][0]["type"] == "reply"
    assert all(s["type"] == "text" for c in calls[1:] for s in c.params["message"])
    assert parts[0].endswith("\n")  # cut at a line end


def test_split_text_edge_cases() -> None:
    assert split_text("") == [""]
    assert split_text("a" * 7, limit=3) == ["aaa", "aaa", "a"]


@pytest.mark.parametrize(("act", "call"), [
    (action(A.SEND_PRIVATE_MESSAGE, {"text": "hi"}, group=None, member="5"),
     ApiCall("send_private_msg", {"user_id": 5, "message": [
         {"type": "text", "data": {"text": "hi"}}]})),
    (action(A.DELETE_MESSAGE, {"message_id": "42"}),
     ApiCall("delete_msg", {"message_id": 42})),
    (action(A.MUTE_MEMBER, {"seconds": 600}, member="5"),
     ApiCall("set_group_ban", {"group_id": 123, "user_id": 5, "duration": 600})),
    (action(A.KICK_MEMBER, {"block": True}, member="5"),
     ApiCall("set_group_kick", {"group_id": 123, "user_id": 5, "reject_add_request": True})),
    (action(A.KICK_MEMBER, {}, member="5"),
     ApiCall("set_group_kick", {"group_id": 123, "user_id": 5, "reject_add_request": False})),
    (action(A.MUTE_ALL, {"on": True}),
     ApiCall("set_group_whole_ban", {"group_id": 123, "enable": True})),
    (action(A.APPROVE_JOIN, {"request_id": "f-1"}),
     ApiCall("set_group_add_request", {"flag": "f-1", "sub_type": "add", "approve": True})),
    (action(A.REJECT_JOIN, {"request_id": "invite:f-2", "reason": "不符合"}),
     ApiCall("set_group_add_request", {"flag": "f-2", "sub_type": "invite", "approve": False,
                                       "reason": "不符合"})),
])
def test_actions(act: Action, call: ApiCall) -> None:
    assert api_calls(act) == [call]


def test_what_cannot_be_done() -> None:
    assert A.SET_ANNOUNCEMENT not in CAPABILITIES  # not in OneBot 11: a staff task
    with pytest.raises(CannotTranslate, match="QQ number"):
        api_calls(action(A.SEND_MESSAGE, {"text": "x"}, group="name:abc"))
    with pytest.raises(CannotTranslate, match="seconds"):
        api_calls(action(A.MUTE_MEMBER, {"seconds": -1}, member="5"))
    with pytest.raises(CannotTranslate, match="request_id"):
        api_calls(action(A.APPROVE_JOIN, {}))

"""OneBot 11 events → canonical events: every event type the adapter follows, both message
forms, implementation extras, and malformed payloads with their reasons."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qunyun.core.events import parse_event
from qunyun.platforms.onebot.cq import parse_cq
from qunyun.platforms.onebot.diagnose import parse_payload
from qunyun.platforms.onebot.translate import Ignored, Malformed, translate
from tests.conftest import shared_data
from tests.platforms.onebot.fake_onebot import SELF_ID, group_message, notice

T = 1_732_240_800  # 2024-11-22T10:00:00+08:00
CQ = "[CQ:reply,id=41][CQ:at,qq=888]&#91;招募&#93; A&amp;B 见 https://example.com/x?a=1" \
     "[CQ:image,file=abc.jpg,url=https://img.example/abc.jpg]"


def one(payload: dict[str, Any]) -> dict[str, Any]:
    events = translate(payload)
    assert len(events) == 1
    parse_event(events[0])  # every translation is a valid canonical event
    return events[0]


def test_group_message_in_both_forms_gives_the_same_event() -> None:
    as_string = one(group_message(42, 123, 777, CQ, time=T))
    as_array = one(group_message(42, 123, 777, parse_cq(CQ), time=T))
    assert as_string == as_array
    assert as_string["id"] == "msg:123:42"
    assert as_string["at"] == "2024-11-22T10:00:00+08:00"
    assert as_string["group"] == "123" and as_string["member"] == "777"
    assert as_string["data"] == {
        "message_id": "42", "kind": "text", "text": "[招募] A&B 见 https://example.com/x?a=1",
        "reply_to": "41", "mentions": ["888"], "urls": ["https://example.com/x?a=1"],
        "media": {"url": "https://img.example/abc.jpg"}, "name": "小王"}


def test_shared_nonebot_events() -> None:
    payloads = json.loads(shared_data("onebot11", "nonebot_adapter_onebot",
                                      "v11_events.json").read_text(encoding="utf-8"))
    private, group = (one(p) for p in payloads)  # `_model` and other extras are tolerated
    assert private["type"] == "message.private" and private["member"] == "1"
    assert private["data"]["text"] == " Test text"
    assert group["type"] == "message.posted"
    assert group["data"]["mention_all"] is True
    assert "mentions" not in group["data"]


@pytest.mark.parametrize(("segments", "kind"), [
    ([{"type": "image", "data": {"file": "a.jpg"}}], "image"),
    ([{"type": "record", "data": {"file": "a.amr"}}], "voice"),
    ([{"type": "file", "data": {"file": "a.pdf", "file_size": "1024"}}], "file"),
    ([{"type": "json", "data": {"data": "{\"app\":\"x\"}"}}], "card"),
    ([{"type": "face", "data": {"id": "1"}}], "sticker"),
    ([{"type": "reply", "data": {"id": "9"}}, {"type": "mystery", "data": {}}], "other"),
])
def test_kinds_of_messages_without_text(segments: list[dict[str, Any]], kind: str) -> None:
    event = one(group_message(1, 123, 777, segments, time=T))
    assert event["data"]["kind"] == kind
    if kind == "file":
        assert event["data"]["media"] == {"size": 1024}


def test_anonymous_message() -> None:
    payload = group_message(5, 123, 80000000, "hi", time=T, sub_type="anonymous",
                            anonymous={"id": 991, "name": "匿名者", "flag": "x"})
    event = one(payload)
    assert event["member"] == "anonymous:991" and event["data"]["name"] == "匿名者"


def test_member_increase_invite_and_approve() -> None:
    invited = one(notice("group_increase", 123, 5, time=T, sub_type="invite", operator_id=7))
    assert invited["type"] == "member.joined"
    assert invited["data"] == {"name": "", "via": "invite", "inviter": "7"}
    approved = one(notice("group_increase", 123, 5, time=T, sub_type="approve",
                          operator_id=9))
    assert approved["data"] == {"name": "", "via": "approval"}
    assert invited["id"] != approved["id"]


@pytest.mark.parametrize(("sub_type", "operator", "member", "data"), [
    ("leave", 5, "5", {"reason": "quit"}),
    ("kick", 7, "5", {"reason": "kicked", "by": "7"}),
    ("kick_me", 7, str(SELF_ID), {"reason": "kicked", "by": "7"}),
])
def test_member_decrease(sub_type: str, operator: int, member: str,
                         data: dict[str, Any]) -> None:
    event = one(notice("group_decrease", 123, 5, time=T, sub_type=sub_type,
                       operator_id=operator))
    assert event["type"] == "member.left"
    assert event["member"] == member and event["data"] == data


def test_admin_recall_card() -> None:
    made = one(notice("group_admin", 123, 5, time=T, sub_type="set"))
    assert made["type"] == "member.role_changed" and made["data"] == {"role": "admin"}
    unmade = one(notice("group_admin", 123, 5, time=T, sub_type="unset"))
    assert unmade["data"] == {"role": "member"}
    recall = one(notice("group_recall", 123, 5, time=T, operator_id=7, message_id=42))
    assert recall["type"] == "message.recalled"
    assert recall["data"] == {"message_id": "42", "by": "7"}
    renamed = one(notice("group_card", 123, 5, time=T, card_new="新名片", card_old="旧"))
    assert renamed["type"] == "member.renamed" and renamed["data"] == {"name": "新名片"}


def test_group_ban_becomes_member_muted() -> None:
    muted = one(notice("group_ban", 123, 5, time=T, sub_type="ban", operator_id=7,
                       duration=600))
    assert muted["type"] == "member.muted" and muted["member"] == "5"
    assert muted["data"] == {"seconds": 600, "by": "7"}
    lifted = one(notice("group_ban", 123, 5, time=T, sub_type="lift_ban", operator_id=7,
                        duration=0))
    assert lifted["data"] == {"seconds": 0, "by": "7"} and lifted["id"] != muted["id"]
    with pytest.raises(Ignored, match="whole group"):
        translate(notice("group_ban", 123, 0, time=T, sub_type="ban", operator_id=7,
                         duration=600))
    with pytest.raises(Malformed, match="group_ban sub_type"):
        translate(notice("group_ban", 123, 5, time=T, sub_type="nonsense"))
    with pytest.raises(Malformed, match="duration"):
        translate(notice("group_ban", 123, 5, time=T, sub_type="ban", duration=-1))


def test_join_requests_add_and_invite() -> None:
    base = {"time": T, "self_id": SELF_ID, "post_type": "request", "request_type": "group",
            "group_id": 123, "user_id": 5, "comment": "答案：42", "flag": "f-1"}
    add = one({**base, "sub_type": "add"})
    assert add["type"] == "member.join_requested" and add["member"] == "5"
    assert add["data"] == {"name": "", "comment": "答案：42", "request_id": "f-1",
                           "via": "approval"}
    invited_add = one({**base, "sub_type": "add", "invitor_id": 6})
    assert invited_add["data"]["via"] == "invite" and invited_add["data"]["inviter"] == "6"
    invite = one({**base, "sub_type": "invite"})
    assert invite["member"] == str(SELF_ID)
    assert invite["data"]["request_id"] == "invite:f-1" and invite["data"]["inviter"] == "5"


def test_private_message() -> None:  # the spec's HTTP POST example
    payload = {"time": 1515204254, "self_id": SELF_ID, "post_type": "message",
               "message_type": "private", "sub_type": "friend", "message_id": 12,
               "user_id": 12345678, "message": "你好～", "raw_message": "你好～", "font": 456,
               "sender": {"nickname": "小不点", "sex": "male", "age": 18}}
    event = one(payload)
    assert event == {"v": 1, "id": "pm:12345678:12", "type": "message.private",
                     "platform": "onebot", "member": "12345678",
                     "at": "2018-01-06T10:04:14+08:00",
                     "data": {"message_id": "12", "kind": "text", "text": "你好～",
                              "name": "小不点"}}


@pytest.mark.parametrize(("payload", "reason"), [
    ([], "JSON object"),
    ({"post_type": "weird"}, "unknown post_type"),
    ({"post_type": "message", "message_type": "group", "time": T, "message_id": 1,
      "user_id": 5, "message": "x"}, "group_id"),
    ({"post_type": "message", "message_type": "group", "group_id": 1, "message_id": 1,
      "user_id": 5, "message": "x"}, "time"),
    ({"post_type": "message", "message_type": "group", "group_id": 1, "message_id": 1,
      "user_id": 5, "time": T, "message": [{"data": {}}]}, "message"),
    ({"post_type": "notice", "notice_type": "group_decrease", "group_id": 1, "user_id": 2,
      "time": T, "sub_type": "???"}, "sub_type"),
    ({"post_type": "request", "request_type": "group", "sub_type": "add", "group_id": 1,
      "user_id": 2, "time": T}, "flag"),
])
def test_malformed_payloads_say_why(payload: Any, reason: str) -> None:
    with pytest.raises(Malformed, match=reason):
        translate(payload)


def test_heartbeats_and_friend_requests_are_ignored() -> None:
    with pytest.raises(Ignored):
        translate({"time": T, "self_id": 1, "post_type": "meta_event",
                   "meta_event_type": "heartbeat", "interval": 5000})
    with pytest.raises(Ignored):
        translate({"time": T, "self_id": 1, "post_type": "request", "request_type": "friend",
                   "user_id": 3, "flag": "x"})


def test_parse_payload_reads_lines_and_reports_each() -> None:
    raw = "\n".join([json.dumps(group_message(1, 123, 5, "a", time=T)), "{oops",
                     json.dumps({"time": T, "self_id": 1, "post_type": "meta_event",
                                 "meta_event_type": "heartbeat"})])
    out = parse_payload(raw)
    assert out[0]["id"] == "msg:123:1"
    assert out[1]["rejected"].startswith("line 2 is not JSON")
    assert out[2] == {"ignored": "meta event heartbeat"}

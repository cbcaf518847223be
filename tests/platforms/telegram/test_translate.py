"""Updates → canonical events, on the shared real samples and on Bot API shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from qunyun.core.events import parse_event
from qunyun.platforms.telegram.diagnose import parse_payload
from qunyun.platforms.telegram.entities import extract, utf16_slice
from qunyun.platforms.telegram.translate import Malformed, translate_update
from tests.platforms.telegram.samples import (
    GROUP,
    chat_member,
    group_message,
    my_chat_member_samples,
    peer_samples,
    user,
)

ANN = user(11, "Ann", last_name="Lee")
BOB = user(22, "Bob")


def events(update: Any, **kwargs: Any) -> list[dict[str, Any]]:
    out = translate_update(update, **kwargs).events
    for event in out:
        parse_event(event)  # every translation is valid bridge protocol
    return out


def test_entity_offsets_are_utf16_code_units() -> None:
    for sample in peer_samples("test_message_entity"):
        expected = sample.get("entities_resolved_by_utf16_offsets")
        if not expected:
            continue
        message = sample["raw"]["message"]
        by_id = {message["message_id"]: message}
        if "reply_to_message" in message:
            by_id[message["reply_to_message"]["message_id"]] = message["reply_to_message"]
        for group in expected:
            text = by_id[group["message_id"]]["text"]
            for entity in group["entities"]:
                assert utf16_slice(text, entity["offset"], entity["length"]) \
                    == entity["text_utf16_slice"]


def test_custom_emoji_after_a_long_text_is_sliced_right() -> None:
    sample = next(s for s in peer_samples("test_message_entity")
                  if s["raw"]["update_id"] == 934522437)
    message = sample["raw"]["message"]
    assert utf16_slice(message["text"], 76, 2) == "😋"
    assert message["text"][76:78] != "😋"  # what slicing by code points would get wrong


def test_mentions_hashtags_and_links_come_from_entities() -> None:
    sample = next(s for s in peer_samples("test_message_entity")
                  if s["raw"]["update_id"] == 934522167)
    quoted = sample["raw"]["message"]["reply_to_message"]
    found = extract(quoted["text"], quoted["entities"])
    assert found.mentions == ["@UserName"]
    assert found.hashtags == ["#hashtag"]
    assert found.urls == ["https://example.com"]


def test_a_group_message_becomes_message_posted() -> None:
    text = "😋 hi @bob see https://x.io/a"
    update = group_message(5, 77, ANN, text=text, reply_to_message={
        "message_id": 70, "from": BOB, "date": 1, "chat": {"id": GROUP, "type": "supergroup"}},
        entities=[{"type": "mention", "offset": 6, "length": 4},
                  {"type": "url", "offset": 15, "length": 14},
                  {"type": "text_mention", "offset": 0, "length": 2, "user": BOB}])
    [event] = events(update)
    assert event["id"] == f"m:{GROUP}:77" and event["group"] == str(GROUP)
    assert event["member"] == "11" and event["type"] == "message.posted"
    assert event["data"] == {"message_id": "77", "kind": "text", "text": text,
                             "name": "Ann Lee", "reply_to": "70",
                             "mentions": ["@bob", "22"], "urls": ["https://x.io/a"]}


@pytest.mark.parametrize(("field", "kind"), [
    ("photo", "image"), ("sticker", "sticker"), ("voice", "voice"), ("video", "video"),
    ("document", "file"), ("location", "card"), ("poll", "other")])
def test_media_kinds(field: str, kind: str) -> None:
    media: Any = [{"file_id": "x"}] if field == "photo" else {"file_id": "x", "duration": 3}
    [event] = events(group_message(1, 1, ANN, caption="look", **{field: media}))
    assert event["data"]["kind"] == kind and event["data"]["text"] == "look"


def test_peer_media_messages_translate_in_private() -> None:
    for test in ("test_json_Message_Audio", "test_json_Message_Sticker", "test_json_Message_Photo",
                 "test_json_Message_Video", "test_json_Message_Document",
                 "test_json_Message_Location", "test_json_message_with_dice"):
        for sample in peer_samples(test):
            out = events({"update_id": 1, "message": sample["raw"]})
            assert all(e["type"] in ("message.private", "message.posted") for e in out), test


def test_peer_update_in_a_private_chat_is_message_private() -> None:
    [sample] = peer_samples("test_json_update")
    [event] = events(sample["raw"])
    assert event["type"] == "message.private" and "group" not in event
    assert event["member"] == str(sample["expected"]["message.from.id"])
    assert event["data"]["message_id"] == str(sample["expected"]["message.message_id"])


def test_peer_chat_member_promotion_is_a_role_change() -> None:
    [sample] = peer_samples("test_chat_member_updated")
    [event] = events({"update_id": 9, "chat_member": sample["raw"]})
    assert event["type"] == "member.role_changed"
    assert (event["group"], event["member"]) == ("-1234567890123", "77777777")
    assert event["data"] == {"role": "admin", "by": "133869498"}


def test_real_my_chat_member_transitions() -> None:
    outcomes = []
    for index, item in enumerate(my_chat_member_samples()):
        result = translate_update({"update_id": index + 1, **item["update"]})
        outcomes.append([(e["type"], e.get("group")) for e in result.events])
    assert outcomes == [
        [("group.created", "-1002162095988")],
        [("group.updated", "-1002162095988")],
        [("group.updated", "-1002162095988")],
        [],  # a user blocking the bot in private: no group event
        [("group.created", "-4726613835")],
        [("group.created", "-1002352533321")],
    ]


def test_chat_member_join_through_a_personal_link_names_the_inviter() -> None:
    link = {"invite_link": "https://t.me/+AbC", "name": "qy:22", "creator": BOB,
            "creates_join_request": False, "is_primary": False, "is_revoked": False}
    [event] = events(chat_member(3, ANN, "left", "member", invite_link=link))
    assert event["type"] == "member.joined" and event["member"] == "11"
    assert event["data"] == {"name": "Ann Lee", "via": "invite", "inviter": "22",
                             "code": "https://t.me/+AbC"}


def test_chat_member_leave_and_kick() -> None:
    [quit_] = events(chat_member(4, ANN, "member", "left"))
    [kicked] = events(chat_member(5, ANN, "member", "kicked", actor=BOB))
    assert quit_["data"] == {"reason": "quit"}
    assert kicked["data"] == {"reason": "kicked", "by": "22"}
    restricted_out = chat_member(6, ANN, "member", "restricted")
    restricted_out["chat_member"]["new_chat_member"]["is_member"] = False
    assert events(restricted_out)[0]["type"] == "member.left"


def test_service_joins_only_when_they_are_the_member_source() -> None:
    update = group_message(8, 90, BOB, new_chat_members=[ANN])
    assert events(update) == []  # chat_member updates carry the joins
    [event] = events(update, member_source="service")
    assert event["data"] == {"name": "Ann Lee", "via": "invite", "inviter": "22"}
    left = group_message(9, 91, ANN, left_chat_member=ANN)
    assert events(left, member_source="service")[0]["data"] == {"reason": "quit"}
    assert translate_update(chat_member(10, ANN, "left", "member"),
                            member_source="service").events == []


def test_join_request() -> None:
    update = {"update_id": 12, "chat_join_request": {
        "chat": {"id": GROUP, "type": "supergroup", "title": "Fans"}, "from": ANN,
        "user_chat_id": 11, "date": 1_700_000_000, "bio": "I love it"}}
    [event] = events(update)
    assert event["type"] == "member.join_requested"
    assert event["data"] == {"request_id": f"{GROUP}:11", "name": "Ann Lee", "via": "link",
                             "comment": "I love it"}


def test_migration_seen_from_either_side_is_one_event() -> None:
    old = group_message(20, 5, ANN, chat=-4726613835, chat_type="group",
                        migrate_to_chat_id=-1002352533321)
    new = group_message(21, 1, ANN, chat=-1002352533321, migrate_from_chat_id=-4726613835)
    [a], [b] = events(old), events(new)
    assert a == {**b, "at": a["at"]}
    assert a["type"] == "group.migrated" and a["group"] == "-4726613835"
    assert a["data"] == {"to": "-1002352533321"}


@pytest.mark.parametrize("update", [
    None, [], {"message": {}}, {"update_id": "x"},
    {"update_id": 1, "message": {"message_id": 1, "chat": {"id": "no"}, "date": 1}},
    {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1, "type": "supergroup"},
                                 "date": 10**20, "from": {"id": 1}}},
    {"update_id": 1, "chat_member": {"chat": {"id": 1}, "date": 1}},
])
def test_malformed_updates_are_refused_with_a_reason(update: Any) -> None:
    with pytest.raises(Malformed) as caught:
        translate_update(update)
    assert str(caught.value)


def test_diagnose_accepts_a_getupdates_answer_and_json_lines() -> None:
    one = group_message(1, 1, ANN, text="a")
    two = group_message(2, 2, BOB, text="b")
    answer = json.dumps({"ok": True, "result": [one, two]})
    lines = json.dumps(one) + "\n" + json.dumps(two) + "\n"
    assert parse_payload(answer) == parse_payload(lines)
    assert [e["member"] for e in parse_payload(answer)] == ["11", "22"]


def test_diagnose_reports_rejected_and_ignored_updates() -> None:
    raw = json.dumps([{"update_id": 1, "message": {}}, {"update_id": 2, "poll": {}},
                      group_message(3, 1, ANN, text="a")])
    rejected, ignored, event = parse_payload(raw)
    assert rejected == {"rejected": "update 0: message.message_id must be an integer"}
    assert ignored == {"ignored": "update 1: update kind not translated: poll"}
    assert event["type"] == "message.posted"
    with pytest.raises(ValueError, match="not JSON"):
        parse_payload("{nope")

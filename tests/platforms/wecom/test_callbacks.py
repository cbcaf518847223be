"""Decrypted callbacks → canonical events: the shared samples and every MemChangeList shape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from qunyun.core.errors import InvalidInput
from qunyun.core.events import parse_event
from qunyun.platforms.wecom.callbacks import Callback, parse_callback
from qunyun.platforms.wecom.callbacks import translate as translate_at
from qunyun.platforms.wecom.crypto import MALFORMED, CryptoError
from qunyun.platforms.wecom.diagnose import parse_payload
from tests.conftest import shared_data

CHAT = "wrx7HUARsKwGRaQBVKPBTcEyzdHA4HrQ"
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def translate(cb: Callback, codes: dict[str, str] | None = None) -> list[dict]:
    return translate_at(cb, NOW, codes)


def samples() -> list[Path]:
    return sorted(shared_data("wecom", "change_external_chat").glob("*.xml"))


def callback(detail: str = "add_member", members: str = "", *, change: str = "update",
             extra: str = "") -> str:
    return (f"<xml><ToUserName><![CDATA[ww1]]></ToUserName><FromUserName><![CDATA[sys]]>"
            f"</FromUserName><CreateTime>1700642907</CreateTime><MsgType><![CDATA[event]]>"
            f"</MsgType><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[{CHAT}]]>"
            f"</ChatId><ChangeType><![CDATA[{change}]]></ChangeType><UpdateDetail><![CDATA["
            f"{detail}]]></UpdateDetail>{extra}{members}<CurMemVer>v2</CurMemVer></xml>")


def valid(events: list[dict]) -> list[dict]:
    for event in events:
        parse_event(event)  # raises on anything the bridge protocol refuses
    return events


def test_every_shared_sample_parses_into_valid_events() -> None:
    found = samples()
    assert len(found) >= 2
    for path in found:
        items = parse_payload(path.read_text(encoding="utf-8"), NOW)
        valid([item for item in items if "ignored" not in item])


def test_missing_create_time_falls_back_to_the_receipt_time() -> None:
    (path,) = [p for p in samples() if "add_member" in p.name]
    events = parse_payload(path.read_text(encoding="utf-8"), NOW)
    assert {e["at"] for e in events} == {"2026-11-22T16:00:00+08:00"}


def test_official_add_member_sample() -> None:
    (path,) = [p for p in samples() if "add_member" in p.name]
    events = valid(parse_payload(path.read_text(encoding="utf-8"), NOW))
    assert [(e["type"], e["member"]) for e in events] == [
        ("member.joined", "Jack"), ("member.joined", "Rose")]
    # JoinScene 1 is not in the callback's table (0 invited, 3 QR): no crash, "other"
    assert {e["data"]["via"] for e in events} == {"other"}
    assert events[0]["group"] == CHAT
    # MemChangeCnt says 10, only two are listed: the re-fetch finds the rest
    assert parse_callback(path.read_text(encoding="utf-8")).get("MemChangeCnt") == "10"


def test_change_name_sample_gives_no_member_events() -> None:
    (path,) = [p for p in samples() if "change_name" in p.name]
    (item,) = parse_payload(path.read_text(encoding="utf-8"))
    assert "re-fetch" in item["ignored"] and "change_name" in item["ignored"]


@pytest.mark.parametrize("shape", [
    "<MemChangeList><Item>u1</Item><Item>u2</Item></MemChangeList>",
    "<MemChangeList><Item><![CDATA[u1]]></Item><Item><![CDATA[u2]]></Item></MemChangeList>",
    "<MemChangeList><![CDATA[u1,u2]]></MemChangeList>",
    "<MemChangeList>u1, u2</MemChangeList>",
    "<MemChangeList><Item>u1</Item><Item>u2</Item><Item>u1</Item></MemChangeList>",
])
def test_mem_change_list_shapes(shape: str) -> None:
    events = valid(translate(parse_callback(callback("add_member", shape,
                                                     extra="<JoinScene>3</JoinScene>"))))
    assert [e["member"] for e in events] == ["u1", "u2"]
    assert {e["data"]["via"] for e in events} == {"qr"}


def test_missing_mem_change_list_gives_nothing_but_still_parses() -> None:
    assert translate(parse_callback(callback("add_member", "",
                                             extra="<MemChangeCnt>3</MemChangeCnt>"))) == []


@pytest.mark.parametrize(("scene", "reason"), [("0", "quit"), ("1", "kicked"), ("7", "quit"),
                                               ("", "quit")])
def test_del_member_quit_scene(scene: str, reason: str) -> None:
    extra = f"<QuitScene>{scene}</QuitScene>" if scene else ""
    (event,) = valid(translate(parse_callback(callback(
        "del_member", "<MemChangeList><Item>u9</Item></MemChangeList>", extra=extra))))
    assert event["type"] == "member.left"
    assert event["data"] == {"reason": reason}


@pytest.mark.parametrize(("scene", "via"), [("0", "invite"), ("3", "qr"), ("2", "other"),
                                            ("x", "other")])
def test_join_scene_table(scene: str, via: str) -> None:
    (event,) = translate(parse_callback(callback(
        "add_member", "<MemChangeList><Item>u1</Item></MemChangeList>",
        extra=f"<JoinScene>{scene}</JoinScene>")))
    assert event["data"]["via"] == via


def test_same_callback_twice_gives_the_same_ids() -> None:
    raw = callback("add_member", "<MemChangeList><Item>u1</Item></MemChangeList>")
    assert translate(parse_callback(raw)) == translate(parse_callback(raw))


def test_create_and_dismiss() -> None:
    (created,) = valid(translate(parse_callback(callback("", change="create"))))
    assert created["type"] == "group.created"
    assert created["id"] == f"created:{CHAT}"
    (dismissed,) = valid(translate(parse_callback(callback("", change="dismiss"))))
    assert dismissed["type"] == "group.dismissed"


@pytest.mark.parametrize("detail", ["change_owner", "change_name", "change_notice", "unknown"])
def test_updates_without_members_wait_for_the_refetch(detail: str) -> None:
    assert translate(parse_callback(callback(detail))) == []


def test_event_time_is_create_time_in_china() -> None:
    (event,) = translate(parse_callback(callback(
        "add_member", "<MemChangeList><Item>u1</Item></MemChangeList>")))
    assert event["at"] == "2023-11-22T16:48:27+08:00"


def test_contact_add_with_state_is_the_code_of_the_next_join() -> None:
    raw = ("<xml><ToUserName>ww1</ToUserName><FromUserName>sys</FromUserName>"
           "<CreateTime>1700642907</CreateTime><MsgType>event</MsgType>"
           "<Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType>"
           "<UserID>zhangsan</UserID><ExternalUserID>wmABC</ExternalUserID>"
           "<State>store-beijing-poster</State><WelcomeCode>WC</WelcomeCode></xml>")
    (item,) = parse_payload(raw)
    assert "store-beijing-poster" in item["ignored"] and "wmABC" in item["ignored"]
    events = translate(parse_callback(callback(
        "add_member", "<MemChangeList><Item>wmABC</Item></MemChangeList>")),
        {"wmABC": "store-beijing-poster"})
    assert events[0]["data"]["code"] == "store-beijing-poster"


@pytest.mark.parametrize("raw", [
    "not xml",
    "<xml><a>",
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml>&a;</xml>',
])
def test_malformed_or_dangerous_xml_is_refused(raw: str) -> None:
    with pytest.raises(CryptoError) as info:
        parse_callback(raw)
    assert info.value.code == MALFORMED


def test_other_callbacks_are_ignored_with_a_reason() -> None:
    (item,) = parse_payload("<xml><MsgType>text</MsgType><Content>hi</Content></xml>")
    assert "not a customer-group callback" in item["ignored"]


def test_unreadable_xml_is_a_value_error_for_the_cli() -> None:
    with pytest.raises(ValueError, match="XML"):
        parse_payload("{json: no}")


def test_parse_event_accepts_what_translate_gives_for_long_codes() -> None:
    events = translate(parse_callback(callback(
        "add_member", "<MemChangeList><Item>u1</Item></MemChangeList>")), {"u1": "c" * 500})
    try:
        valid(events)
    except InvalidInput as exc:  # pragma: no cover - the assertion below explains
        pytest.fail(f"code not cut to the protocol's limit: {exc.errors}")

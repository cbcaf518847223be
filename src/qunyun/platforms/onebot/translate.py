"""OneBot 11 events → canonical events (bridge protocol v1). Translation only, no decisions.

`translate(payload)` returns the canonical events for one OneBot event: usually one, none for
what qunyun does not follow (heartbeats, friend requests), and raises `Malformed` with a reason
for a payload that cannot be read. Fields an implementation adds beyond the standard are ignored.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from qunyun.core import events as E
from qunyun.platforms.onebot.cq import Segment, segments_of

PLATFORM = "onebot"
# QQ lives in China Standard Time; any offset names the same instant.
CHINA = timezone(timedelta(hours=8))
INVITE_PREFIX = "invite:"  # request ids of invitations of the bot itself (sub_type invite)
_URL = re.compile(r"https?://[^\s\"'<>\[\]]+")
_KIND_OF_SEGMENT = {
    "image": "image", "record": "voice", "video": "video", "file": "file", "face": "sticker",
    "mface": "sticker", "bface": "sticker", "sface": "sticker", "dice": "sticker",
    "rps": "sticker", "share": "link", "json": "card", "xml": "card", "contact": "card",
    "location": "card", "music": "card", "forward": "other", "poke": "other",
}


class Malformed(ValueError):
    """A payload that is not a readable OneBot event; the message says why."""


class Ignored(Exception):
    """A readable event with nothing for qunyun (a heartbeat); the message says what it is."""


def _int_id(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise Malformed(f"{key} is missing or not an id")
    text = str(value).strip()
    if len(text) > 64:
        raise Malformed(f"{key} is too long")
    return text


def _at(payload: dict[str, Any]) -> str:
    value = payload.get("time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Malformed("time is missing or not a number")
    if value > 10**11:  # some implementations send milliseconds
        value = value / 1000
    return _iso_time(value)


@lru_cache(maxsize=256)  # a busy second brings many events with the same time
def _iso_time(value: int | float) -> str:
    try:
        return datetime.fromtimestamp(value, CHINA).isoformat()
    except (OverflowError, OSError, ValueError) as exc:
        raise Malformed(f"time is out of range: {value}") from exc


def _event(event_id: str, kind: str, payload: dict[str, Any], *, group: str | None,
           member: str | None, data: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"v": 1, "id": event_id, "type": kind, "platform": PLATFORM,
                            "at": _at(payload), "data": data}
    if group is not None:
        body["group"] = group
    if member is not None:
        body["member"] = member
    return body


def translate(payload: Any) -> list[dict[str, Any]]:
    if not isinstance(payload, dict):
        raise Malformed("an event must be a JSON object")
    post_type = payload.get("post_type")
    if post_type in ("message", "message_sent"):
        return _message(payload)
    if post_type == "notice":
        return _notice(payload)
    if post_type == "request":
        return _request(payload)
    if post_type == "meta_event":
        raise Ignored(f"meta event {payload.get('meta_event_type')}")
    raise Malformed(f"unknown post_type: {str(post_type)[:40]}")


# --- messages --------------------------------------------------------------------------

def message_content(segments: list[Segment]) -> dict[str, Any]:
    """The canonical message fields of a segment array: kind, text, reply, mentions, media."""
    texts: list[str] = []
    mentions: list[str] = []
    urls: list[str] = []
    data: dict[str, Any] = {}
    kinds: list[str] = []
    for segment in segments:
        kind, values = segment["type"], segment["data"]
        if kind == "text":
            texts.append(str(values.get("text", "")))
        elif kind == "at":
            target = str(values.get("qq", "")).strip()
            if target == "all":
                data["mention_all"] = True
            elif target and target not in mentions:
                mentions.append(target)
        elif kind == "reply" and str(values.get("id", "")).strip():
            data["reply_to"] = str(values["id"]).strip()
        else:
            kinds.append(_KIND_OF_SEGMENT.get(kind, "other"))
            _media(kind, values, data, urls)
    text = "".join(texts)
    urls[:0] = [u for u in _URL.findall(text) if u not in urls]
    data["kind"] = "text" if text.strip() or not kinds else kinds[0]
    data["text"] = text
    if mentions:
        data["mentions"] = mentions
    if urls:
        data["urls"] = urls
    return data


def _media(kind: str, values: dict[str, Any], data: dict[str, Any], urls: list[str]) -> None:
    url = values.get("url") or values.get("file")
    if kind == "share" and isinstance(values.get("url"), str):
        urls.append(values["url"])
        return
    if kind not in ("image", "record", "video", "file") or "media" in data:
        return
    media: dict[str, Any] = {}
    if isinstance(url, str) and url.startswith(("http://", "https://")):
        media["url"] = url
    size = values.get("file_size") or values.get("size")
    if isinstance(size, int | str) and str(size).isdigit():
        media["size"] = int(size)
    if media:
        data["media"] = media


def _sender_name(payload: dict[str, Any]) -> str:
    sender = payload.get("sender")
    if not isinstance(sender, dict):
        return ""
    name = sender.get("card") or sender.get("nickname") or ""
    return str(name)[:200]


def _message(payload: dict[str, Any]) -> list[dict[str, Any]]:
    message_type = payload.get("message_type")
    message_id = _int_id(payload, "message_id")
    try:
        segments = segments_of(payload.get("message", payload.get("raw_message")))
    except ValueError as exc:
        raise Malformed(str(exc)) from exc
    content = message_content(segments)
    name = _sender_name(payload)
    if message_type == "private":
        user = _int_id(payload, "user_id")
        data = {"message_id": message_id, "kind": content["kind"], "text": content["text"]}
        if name:
            data["name"] = name
        return [_event(f"pm:{user}:{message_id}", E.MESSAGE_PRIVATE, payload, group=None,
                       member=user, data=data)]
    if message_type != "group":
        raise Malformed(f"unknown message_type: {str(message_type)[:40]}")
    group = _int_id(payload, "group_id")
    if payload.get("sub_type") == "notice":
        raise Ignored("group system notice")
    user = _int_id(payload, "user_id")
    anonymous = payload.get("anonymous")
    if isinstance(anonymous, dict) and anonymous.get("id") is not None:
        user = f"anonymous:{anonymous['id']}"
        name = str(anonymous.get("name") or "")[:200]
    data = {"message_id": message_id, **content}
    if name:
        data["name"] = name
    return [_event(f"msg:{group}:{message_id}", E.MESSAGE_POSTED, payload, group=group,
                   member=user, data=data)]


# --- notices ---------------------------------------------------------------------------

def _operator(payload: dict[str, Any]) -> str | None:
    value = payload.get("operator_id")
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value) in ("", "0"):
        return None
    return str(value)


def _notice_id(payload: dict[str, Any], group: str, user: str) -> str:
    return ":".join((str(payload.get("notice_type")), str(payload.get("sub_type", "")), group,
                     user, str(payload.get("operator_id", "")), str(payload.get("time"))))


def _notice(payload: dict[str, Any]) -> list[dict[str, Any]]:
    notice_type = payload.get("notice_type")
    handler = _NOTICES.get(str(notice_type))
    if handler is None:
        raise Ignored(f"notice {str(notice_type)[:40]}")
    group = _int_id(payload, "group_id")
    user = _int_id(payload, "user_id")
    return handler(payload, group, user)


def _increase(payload: dict[str, Any], group: str, user: str) -> list[dict[str, Any]]:
    data: dict[str, Any] = {"name": ""}
    operator = _operator(payload)
    if payload.get("sub_type") == "invite":
        data["via"] = "invite"
        if operator and operator != user:
            data["inviter"] = operator
    elif payload.get("sub_type") == "approve":
        data["via"] = "approval"
    return [_event(_notice_id(payload, group, user), E.MEMBER_JOINED, payload, group=group,
                   member=user, data=data)]


def _decrease(payload: dict[str, Any], group: str, user: str) -> list[dict[str, Any]]:
    sub_type = payload.get("sub_type")
    operator = _operator(payload)
    if sub_type == "leave" or (operator == user and sub_type != "kick_me"):
        data: dict[str, Any] = {"reason": "quit"}
    elif sub_type in ("kick", "kick_me"):
        data = {"reason": "kicked"}
        if operator:
            data["by"] = operator
        if sub_type == "kick_me":
            user = _int_id(payload, "self_id")
    elif sub_type == "disband":
        data = {"reason": "dismissed"}
    else:
        raise Malformed(f"unknown group_decrease sub_type: {str(sub_type)[:40]}")
    return [_event(_notice_id(payload, group, user), E.MEMBER_LEFT, payload, group=group,
                   member=user, data=data)]


def _admin(payload: dict[str, Any], group: str, user: str) -> list[dict[str, Any]]:
    sub_type = payload.get("sub_type")
    if sub_type not in ("set", "unset"):
        raise Malformed(f"unknown group_admin sub_type: {str(sub_type)[:40]}")
    role = "admin" if sub_type == "set" else "member"
    return [_event(_notice_id(payload, group, user), E.MEMBER_ROLE_CHANGED, payload,
                   group=group, member=user, data={"role": role})]


def _recall(payload: dict[str, Any], group: str, user: str) -> list[dict[str, Any]]:
    message_id = _int_id(payload, "message_id")
    data: dict[str, Any] = {"message_id": message_id}
    operator = _operator(payload)
    if operator and operator != user:
        data["by"] = operator
    return [_event(f"recall:{group}:{message_id}", E.MESSAGE_RECALLED, payload, group=group,
                   member=user, data=data)]


def _ban(payload: dict[str, Any], group: str, user: str) -> list[dict[str, Any]]:
    sub_type = payload.get("sub_type")
    if sub_type not in ("ban", "lift_ban"):
        raise Malformed(f"unknown group_ban sub_type: {str(sub_type)[:40]}")
    if user in ("", "0"):  # user 0: the whole group (全体禁言), no member event
        raise Ignored("group_ban of the whole group")
    seconds = payload.get("duration", 0) if sub_type == "ban" else 0
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise Malformed("group_ban duration must be a non-negative integer")
    data: dict[str, Any] = {"seconds": seconds}
    operator = _operator(payload)
    if operator:
        data["by"] = operator
    return [_event(_notice_id(payload, group, user), E.MEMBER_MUTED, payload, group=group,
                   member=user, data=data)]


def _card(payload: dict[str, Any], group: str, user: str) -> list[dict[str, Any]]:
    name = str(payload.get("card_new") or "")[:200]
    return [_event(_notice_id(payload, group, user) + ":" + name, E.MEMBER_RENAMED, payload,
                   group=group, member=user, data={"name": name})]


def _upload(payload: dict[str, Any], group: str, user: str) -> list[dict[str, Any]]:
    file = payload.get("file")
    if not isinstance(file, dict) or not file.get("id"):
        raise Malformed("group_upload without a file id")
    data: dict[str, Any] = {"message_id": f"file:{file['id']}", "kind": "file", "text": "",
                            "file_name": str(file.get("name") or "")}
    if isinstance(file.get("size"), int) and file["size"] >= 0:
        data["media"] = {"size": file["size"]}
    return [_event(f"upload:{group}:{file['id']}", E.MESSAGE_POSTED, payload, group=group,
                   member=user, data=data)]


_NOTICES = {
    "group_increase": _increase, "group_decrease": _decrease, "group_admin": _admin,
    "group_recall": _recall, "group_ban": _ban, "group_card": _card, "group_upload": _upload,
}


# --- requests --------------------------------------------------------------------------

def _request(payload: dict[str, Any]) -> list[dict[str, Any]]:
    if payload.get("request_type") != "group":
        raise Ignored(f"request {str(payload.get('request_type'))[:40]}")
    group = _int_id(payload, "group_id")
    user = _int_id(payload, "user_id")
    flag = payload.get("flag")
    if not isinstance(flag, str | int) or not str(flag).strip():
        raise Malformed("flag is missing")
    data: dict[str, Any] = {"name": "", "comment": str(payload.get("comment") or "")}
    sub_type = payload.get("sub_type")
    if sub_type == "add":
        member, data["request_id"] = user, str(flag)
        invitor = payload.get("invitor_id")
        if isinstance(invitor, int | str) and str(invitor) not in ("", "0"):
            data["via"], data["inviter"] = "invite", str(invitor)
        else:
            data["via"] = "approval"
    elif sub_type == "invite":  # someone invites the bot's own account into the group
        member, data["request_id"] = _int_id(payload, "self_id"), INVITE_PREFIX + str(flag)
        data["via"], data["inviter"] = "invite", user
    else:
        raise Malformed(f"unknown request.group sub_type: {str(sub_type)[:40]}")
    return [_event(f"request:{group}:{flag}", E.MEMBER_JOIN_REQUESTED, payload, group=group,
                   member=member, data=data)]

"""Canonical actions → OneBot 11 API calls (`send_group_msg`, `set_group_ban`, …).

Messages are sent in the segment-array form, so no text needs CQ escaping. A text longer than
MAX_TEXT characters is split at line ends where it can be; the first part carries the reply and
the @ mentions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qunyun.core import actions as A
from qunyun.core.actions import Action
from qunyun.platforms.onebot.translate import INVITE_PREFIX

MAX_TEXT = 3000  # characters per QQ message; QQ cuts or refuses much longer ones
# What this adapter can perform itself. `group.announce` is not part of OneBot 11: a staff task.
CAPABILITIES = frozenset({
    A.SEND_MESSAGE, A.SEND_PRIVATE_MESSAGE, A.DELETE_MESSAGE, A.MUTE_MEMBER, A.KICK_MEMBER,
    A.MUTE_ALL, A.APPROVE_JOIN, A.REJECT_JOIN,
})


class CannotTranslate(ValueError):
    """The action's data cannot become an API call (a non-numeric QQ id, say)."""


@dataclass(frozen=True, slots=True)
class ApiCall:
    action: str
    params: dict[str, Any]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in parts of at most `limit` characters, cut after a line end where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut + 1 if cut > limit // 2 else limit
        parts.append(text[:cut])
        text = text[cut:]
    if text or not parts:
        parts.append(text)
    return parts


def _number(value: Any, what: str) -> int:
    text = str(value or "").strip()
    if not text.isdigit():
        raise CannotTranslate(f"{what} must be a QQ number, got {text[:40]!r}")
    return int(text)


def message_segments(data: dict[str, Any], text: str, first: bool) -> list[dict[str, Any]]:
    segments: list[dict[str, Any]] = []
    if first and data.get("reply_to"):
        segments.append({"type": "reply", "data": {"id": str(data["reply_to"])}})
    if first:
        for mention in data.get("mentions") or ():
            segments.append({"type": "at", "data": {"qq": str(mention)}})
            segments.append({"type": "text", "data": {"text": " "}})
    if text:
        segments.append({"type": "text", "data": {"text": text}})
    media = data.get("media")
    if first and isinstance(media, dict) and isinstance(media.get("url"), str):
        segments.append({"type": "image", "data": {"file": media["url"]}})
    return segments


def _send(action: Action, target: str, key: str, api: str) -> list[ApiCall]:
    data = dict(action.data)
    target_id = _number(target, key)
    parts = split_text(str(data.get("text") or ""))
    return [ApiCall(api, {key: target_id, "message": message_segments(data, part, i == 0)})
            for i, part in enumerate(parts)]


def _join_answer(action: Action, approve: bool) -> list[ApiCall]:
    request_id = str(action.data.get("request_id") or "")
    if not request_id:
        raise CannotTranslate("request_id is missing")
    sub_type = "add"
    if request_id.startswith(INVITE_PREFIX):
        sub_type, request_id = "invite", request_id[len(INVITE_PREFIX):]
    params: dict[str, Any] = {"flag": request_id, "sub_type": sub_type, "approve": approve}
    if not approve and action.data.get("reason"):
        params["reason"] = str(action.data["reason"])
    return [ApiCall("set_group_add_request", params)]


def api_calls(action: Action) -> list[ApiCall]:
    """The API calls that perform `action`, in order. CannotTranslate if its data cannot."""
    data = action.data
    kind = action.type
    if kind == A.SEND_MESSAGE:
        return _send(action, str(action.group), "group_id", "send_group_msg")
    if kind == A.SEND_PRIVATE_MESSAGE:
        return _send(action, str(action.member), "user_id", "send_private_msg")
    if kind == A.DELETE_MESSAGE:
        return [ApiCall("delete_msg", {"message_id": _number(data.get("message_id"),
                                                             "message_id")})]
    if kind == A.MUTE_MEMBER:
        seconds = data.get("seconds", 0)
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise CannotTranslate("seconds must be a non-negative integer")
        return [ApiCall("set_group_ban", {"group_id": _number(action.group, "group_id"),
                                          "user_id": _number(action.member, "user_id"),
                                          "duration": seconds})]
    if kind == A.KICK_MEMBER:
        return [ApiCall("set_group_kick", {"group_id": _number(action.group, "group_id"),
                                           "user_id": _number(action.member, "user_id"),
                                           "reject_add_request": bool(data.get("block"))})]
    if kind == A.MUTE_ALL:
        return [ApiCall("set_group_whole_ban", {"group_id": _number(action.group, "group_id"),
                                                "enable": bool(data.get("on"))})]
    if kind in (A.APPROVE_JOIN, A.REJECT_JOIN):
        return _join_answer(action, kind == A.APPROVE_JOIN)
    raise CannotTranslate(f"OneBot 11 has no call for {kind}")

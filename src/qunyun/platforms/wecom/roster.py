"""Reconciling a customer group: what `groupchat/get` says against what qunyun knows.

Callbacks can be late, lost or out of order; the group as the API returns it is the truth. The
difference becomes canonical events with stable ids (a join is named by its join time, a leave by
the membership it ends), so a reconcile repeated before its events are stored has no effect.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qunyun.core import events as E
from qunyun.platforms.wecom.callbacks import CHINA, PLATFORM, joined_event_id

# groupchat/get's join_scene (1 direct invite, 2 invite link, 3 group QR code).
API_JOIN_VIA = {1: "invite", 2: "link", 3: "qr"}


@dataclass(frozen=True, slots=True)
class KnownMember:
    membership_id: int
    name: str


@dataclass(frozen=True, slots=True)
class KnownGroup:
    """What qunyun knows of a group: None fields for a group it has never seen."""

    exists: bool
    name: str = ""
    notice: str = ""
    dismissed: bool = False
    members: dict[str, KnownMember] = field(default_factory=dict)


def member_name(entry: dict[str, Any]) -> str:
    for key in ("name", "group_nickname"):
        value = entry.get(key)
        if isinstance(value, str) and value:
            return value[:200]
    return ""


def _event(kind: str, event_id: str, chat: str, at: datetime, data: dict[str, Any],
           member: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"v": 1, "id": event_id, "type": kind, "platform": PLATFORM,
                            "group": chat, "at": at.astimezone(CHINA).isoformat(), "data": data}
    if member is not None:
        body["member"] = member
    return body


def _stamp(now: datetime) -> str:
    return str(int(now.timestamp() * 1000))


def group_changes(chat: dict[str, Any], known: KnownGroup, now: datetime) -> list[dict[str, Any]]:
    chat_id = str(chat["chat_id"])
    state = {"name": str(chat.get("name") or "")[:200], "notice": str(chat.get("notice") or "")}
    if chat.get("owner"):
        state["owner"] = str(chat["owner"])
    if not known.exists:
        created = datetime.fromtimestamp(int(chat.get("create_time") or now.timestamp()), CHINA)
        return [_event(E.GROUP_CREATED, f"created:{chat_id}", chat_id, created, state)]
    if (state["name"], state["notice"]) == (known.name, known.notice):
        return []
    digest = hashlib.sha1(repr(sorted(state.items())).encode()).hexdigest()[:12]
    return [_event(E.GROUP_UPDATED, f"updated:{chat_id}:{digest}:{_stamp(now)}", chat_id, now,
                   state)]


def _joined(chat_id: str, entry: dict[str, Any], now: datetime,
            codes: dict[str, str]) -> dict[str, Any]:
    user = str(entry["userid"])
    join_time = entry.get("join_time")
    at = datetime.fromtimestamp(join_time, CHINA) if isinstance(join_time, int) else now
    scene = entry.get("join_scene")
    data: dict[str, Any] = {"name": member_name(entry), "via": API_JOIN_VIA.get(
        scene if isinstance(scene, int) else -1, "other")}
    invitor = entry.get("invitor")
    if isinstance(invitor, dict) and invitor.get("userid"):
        data["inviter"] = str(invitor["userid"])
    code = entry.get("state") or codes.get(user)
    if isinstance(code, str) and code:
        data["code"] = code[:200]
    suffix = f"j{join_time}" if isinstance(join_time, int) else f"n{_stamp(now)}"
    return _event(E.MEMBER_JOINED, joined_event_id(chat_id, user, suffix), chat_id, at, data,
                  member=user)


def diff(chat: dict[str, Any], known: KnownGroup, now: datetime,
         codes: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Events that bring qunyun's view of the group to the API's `group_chat`. The members of a
    group seen for the first time are marked `imported`: recorded, never welcomed."""
    chat_id = str(chat["chat_id"])
    events = group_changes(chat, known, now)
    entries = [m for m in chat.get("member_list") or [] if isinstance(m, dict) and m.get("userid")]
    present = {str(m["userid"]): m for m in entries}
    joins = [_joined(chat_id, m, now, codes or {}) for user, m in present.items()
             if user not in known.members]
    if not known.exists:  # first sight: members who were there before qunyun, not newcomers
        for join in joins:
            join["imported"] = True
    events += sorted(joins, key=lambda e: e["at"])
    for user, entry in present.items():
        seen = known.members.get(user)
        name = member_name(entry)
        if seen is not None and name and name != seen.name:
            events.append(_event(E.MEMBER_RENAMED, f"renamed:{chat_id}:{user}:{_stamp(now)}",
                                 chat_id, now, {"name": name}, member=user))
    for user, seen in sorted(known.members.items()):
        if user not in present:
            events.append(_event(E.MEMBER_LEFT, f"left:{chat_id}:{user}:m{seen.membership_id}",
                                 chat_id, now, {"reason": "quit"}, member=user))
    return events

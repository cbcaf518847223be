"""Canonical actions (bridge protocol v1): imperative, each recording the event that caused it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from qunyun.core.events import PROTOCOL_VERSION

SEND_MESSAGE = "message.send"
SEND_PRIVATE_MESSAGE = "message.send_private"
DELETE_MESSAGE = "message.delete"
MUTE_MEMBER = "member.mute"
KICK_MEMBER = "member.kick"
MUTE_ALL = "group.mute_all"
SET_ANNOUNCEMENT = "group.announce"
# Answers to `member.join_requested` (data: `request_id`, optional `reason` for a rejection).
APPROVE_JOIN = "join.approve"
REJECT_JOIN = "join.reject"
# Send `member` privately a personal invite link to the group (data: `text` with `{link}`);
# joins through the link name `member` as their inviter.
SEND_INVITE_LINK = "member.invite_link"

ACTION_TYPES = (
    SEND_MESSAGE, SEND_PRIVATE_MESSAGE, DELETE_MESSAGE, MUTE_MEMBER, KICK_MEMBER, MUTE_ALL,
    SET_ANNOUNCEMENT, APPROVE_JOIN, REJECT_JOIN, SEND_INVITE_LINK,
)


@dataclass(frozen=True, slots=True)
class Action:
    """Something qunyun wants done in a group. `id` is the idempotency key."""

    id: str
    type: str
    platform: str
    group: str | None
    member: str | None
    caused_by: str
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"v": PROTOCOL_VERSION, "id": self.id, "type": self.type,
                                "platform": self.platform}
        if self.group is not None:
            body["group"] = self.group
        if self.member is not None:
            body["member"] = self.member
        body["caused_by"] = self.caused_by
        body["data"] = dict(self.data)
        return body


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """What a feature asks for; the pipeline fills in where, the cause and a stable id."""

    type: str
    data: Mapping[str, Any]
    member: str | None = None
    group: str | None = None  # defaults to the event's group


def action_id(caused_by: str, feature: str, seq: int) -> str:
    """A stable id: the same cause, feature and position give the same id on every replay."""
    digest = hashlib.sha1(f"{caused_by}\x1f{feature}\x1f{seq}".encode()).hexdigest()
    return f"a{digest[:24]}"


def send_message(text: str, *, reply_to: str | None = None,
                 mentions: list[str] | None = None) -> ActionRequest:
    data: dict[str, Any] = {"text": text}
    if reply_to:
        data["reply_to"] = reply_to
    if mentions:
        data["mentions"] = list(mentions)
    return ActionRequest(SEND_MESSAGE, data)


def send_private(member: str, text: str) -> ActionRequest:
    return ActionRequest(SEND_PRIVATE_MESSAGE, {"text": text}, member=member)

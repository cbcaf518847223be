"""Canonical events (bridge protocol v1): validated, frozen, past tense.

Validation is table-driven and reports every problem with its field path, so a bridge author
sees exactly what to fix. A rejected event never reaches the pipeline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from qunyun.core.errors import ErrorCollector, InvalidInput

PROTOCOL_VERSION = 1

MEMBER_JOINED = "member.joined"
MEMBER_LEFT = "member.left"
MEMBER_RENAMED = "member.renamed"
MESSAGE_POSTED = "message.posted"
MESSAGE_RECALLED = "message.recalled"
REACTION_ADDED = "reaction.added"
GROUP_CREATED = "group.created"
GROUP_UPDATED = "group.updated"
GROUP_DISMISSED = "group.dismissed"
PAYMENT_COMPLETED = "payment.completed"
# Someone asks to enter a group (an application, a join request); the gate answers with the
# `join.approve` / `join.reject` actions quoting `request_id`.
MEMBER_JOIN_REQUESTED = "member.join_requested"
# A member's role in the group changed (made admin, admin removed, ownership moved).
MEMBER_ROLE_CHANGED = "member.role_changed"
# A member was muted on the platform (by an admin or the bot); `seconds` 0 = the mute was lifted.
MEMBER_MUTED = "member.muted"
# A private message to the bot, outside any group (appeals, questionnaire answers).
MESSAGE_PRIVATE = "message.private"
# The platform gave the group a new id (Telegram group -> supergroup); same group, history kept.
GROUP_MIGRATED = "group.migrated"

JOIN_VIA = ("invite", "link", "qr", "approval", "search", "other")
LEAVE_REASONS = ("quit", "kicked", "dismissed")
MEMBER_ROLES = ("owner", "admin", "member")
MESSAGE_KINDS = ("text", "image", "voice", "video", "link", "file", "sticker", "card", "other")

Check = Callable[[Any, str, ErrorCollector], None]
MAX_CAPACITY = 1_000_000  # members in one chat group; stored as a 32-bit integer
PLATFORM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def _is_str(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, str):
        errors.add(path, "must be a string")


def _short_str(limit: int) -> Check:
    """A string stored in a column of `limit` characters."""

    def check(value: Any, path: str, errors: ErrorCollector) -> None:
        if not isinstance(value, str):
            errors.add(path, "must be a string")
        elif len(value) > limit:
            errors.add(path, "must be at most {limit} characters", limit=limit)

    return check


def _is_platform(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, str) or not PLATFORM_NAME.match(value):
        errors.add(path, "must be a platform name: lowercase letters, digits, - or _, "
                         "at most 32 characters")


def _is_id(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, str) or not value.strip():
        errors.add(path, "must be a non-empty string")
    elif len(value) > 200:
        errors.add(path, "must be at most {limit} characters", limit=200)


def _is_int(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        errors.add(path, "must be an integer")


def _is_nonneg_int(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        errors.add(path, "must be a non-negative integer")


def _is_capacity(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        errors.add(path, "must be a non-negative integer")
    elif value > MAX_CAPACITY:
        errors.add(path, "must be at most {limit}", limit=MAX_CAPACITY)


def _is_bool(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, bool):
        errors.add(path, "must be true or false")


def _one_of(*choices: str) -> Check:
    def check(value: Any, path: str, errors: ErrorCollector) -> None:
        if value not in choices:
            errors.add(path, "must be one of: {choices}", choices=", ".join(choices))

    return check


def _list_of_ids(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, list):
        errors.add(path, "must be a list of strings")
        return
    for index, item in enumerate(value):
        _is_id(item, f"{path}[{index}]", errors)


def _media(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, dict):
        errors.add(path, "must be an object")
        return
    _check_fields(value, _MEDIA_FIELDS, path, errors)


def _answers(value: Any, path: str, errors: ErrorCollector) -> None:
    """Questionnaire answers: question -> answer, both strings."""
    if not isinstance(value, dict):
        errors.add(path, "must be an object")
        return
    for question, answer in value.items():
        if not isinstance(answer, str):
            errors.add(f"{path}.{question}", "must be a string")


def _is_number(value: Any, path: str, errors: ErrorCollector) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        errors.add(path, "must be a non-negative number")


_MEDIA_FIELDS: dict[str, tuple[bool, Check]] = {
    "url": (False, _is_str),
    "duration_s": (False, _is_number),
    "size": (False, _is_nonneg_int),
}

# type -> {field: (required, check)}
DATA_FIELDS: dict[str, dict[str, tuple[bool, Check]]] = {
    MEMBER_JOINED: {
        "name": (True, _short_str(200)),
        "inviter": (False, _is_id),
        "via": (False, _one_of(*JOIN_VIA)),
        "code": (False, _short_str(200)),
    },
    MEMBER_LEFT: {"reason": (True, _one_of(*LEAVE_REASONS)), "by": (False, _is_id)},
    MEMBER_RENAMED: {"name": (True, _short_str(200))},
    MESSAGE_POSTED: {
        "message_id": (True, _is_id),
        "kind": (True, _one_of(*MESSAGE_KINDS)),
        "text": (True, _is_str),
        "reply_to": (False, _is_id),
        "mentions": (False, _list_of_ids),
        "urls": (False, _list_of_ids),
        "media": (False, _media),
        "name": (False, _short_str(200)),
    },
    MESSAGE_RECALLED: {"message_id": (True, _is_id)},
    REACTION_ADDED: {"message_id": (True, _is_id), "emoji": (True, _is_id)},
    GROUP_CREATED: {
        "name": (True, _short_str(200)),
        "owner": (False, _is_id),
        "capacity": (False, _is_capacity),
        "notice": (False, _is_str),
    },
    GROUP_DISMISSED: {},
    MEMBER_JOIN_REQUESTED: {
        "request_id": (True, _is_id),
        "name": (True, _short_str(200)),
        "comment": (False, _is_str),
        "answers": (False, _answers),
        "inviter": (False, _is_id),
        "via": (False, _one_of(*JOIN_VIA)),
        "code": (False, _short_str(200)),
    },
    MEMBER_ROLE_CHANGED: {"role": (True, _one_of(*MEMBER_ROLES)), "by": (False, _is_id)},
    MEMBER_MUTED: {"seconds": (True, _is_nonneg_int), "by": (False, _is_id)},
    MESSAGE_PRIVATE: {
        "message_id": (True, _is_id),
        "kind": (True, _one_of(*MESSAGE_KINDS)),
        "text": (True, _is_str),
        "name": (False, _short_str(200)),
    },
    GROUP_MIGRATED: {"to": (True, _is_id)},
    PAYMENT_COMPLETED: {
        "order_id": (True, _is_id),
        "amount_cents": (True, _is_nonneg_int),
        "currency": (True, _is_id),
        "item": (False, _is_str),
    },
}
DATA_FIELDS[GROUP_UPDATED] = {
    **DATA_FIELDS[GROUP_CREATED],
    "name": (False, _short_str(200)),
}
EVENT_TYPES = tuple(DATA_FIELDS)
# Types that happen to one member and so need `member`.
MEMBER_REQUIRED = frozenset(
    {MEMBER_JOINED, MEMBER_LEFT, MEMBER_RENAMED, MESSAGE_POSTED, REACTION_ADDED, PAYMENT_COMPLETED,
     MEMBER_JOIN_REQUESTED, MEMBER_ROLE_CHANGED, MEMBER_MUTED, MESSAGE_PRIVATE}
)
GROUP_REQUIRED = frozenset(EVENT_TYPES) - {PAYMENT_COMPLETED, MESSAGE_PRIVATE}


def _check_fields(
    obj: Mapping[str, Any], spec: Mapping[str, tuple[bool, Check]], path: str,
    errors: ErrorCollector,
) -> None:
    for name, (required, check) in spec.items():
        if name in obj and obj[name] is not None:
            check(obj[name], f"{path}.{name}", errors)
        elif required:
            errors.add(f"{path}.{name}", "is required")


@dataclass(frozen=True, slots=True)
class Event:
    """A validated canonical event. `at` keeps its offset; `data` is read-only."""

    id: str
    type: str
    platform: str
    group: str | None
    member: str | None
    at: datetime
    data: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    imported: bool = False

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"v": PROTOCOL_VERSION, "id": self.id, "type": self.type,
                                "platform": self.platform}
        if self.group is not None:
            body["group"] = self.group
        if self.member is not None:
            body["member"] = self.member
        body["at"] = self.at.isoformat()
        body["data"] = dict(self.data)
        if self.imported:
            body["imported"] = True
        return body


def _parse_at(value: Any, errors: ErrorCollector) -> datetime | None:
    if not isinstance(value, str):
        errors.add("at", "must be an RFC 3339 time string with an offset")
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        errors.add("at", "is not a valid RFC 3339 time: {value}", value=value[:40])
        return None
    if at.tzinfo is None:
        errors.add("at", "must include a UTC offset, e.g. +08:00")
        return None
    return at


def parse_event(raw: Any) -> Event:
    """Validate one event in its JSON form; raise InvalidInput listing every problem."""
    errors = ErrorCollector()
    if not isinstance(raw, dict):
        raise InvalidInput("an event must be a JSON object")
    if raw.get("v") != PROTOCOL_VERSION:
        errors.add("v", "must be {expected}", expected=PROTOCOL_VERSION)
    _is_id(raw.get("id"), "id", errors)
    _is_platform(raw.get("platform"), "platform", errors)
    kind = raw.get("type")
    if kind not in DATA_FIELDS:
        errors.add("type", "must be one of: {choices}", choices=", ".join(EVENT_TYPES))
    for name, required_for in (("group", GROUP_REQUIRED), ("member", MEMBER_REQUIRED)):
        value = raw.get(name)
        if value is not None:
            _is_id(value, name, errors)
        elif kind in required_for:
            errors.add(name, "is required for {type} events", type=kind)
    at = _parse_at(raw.get("at"), errors)
    data = raw.get("data", {})
    if not isinstance(data, dict):
        errors.add("data", "must be an object")
    elif kind in DATA_FIELDS:
        _check_fields(data, DATA_FIELDS[kind], "data", errors)
    imported = raw.get("imported", False)
    if not isinstance(imported, bool):
        errors.add("imported", "must be true or false")
    if errors or at is None:
        raise InvalidInput("invalid event", errors=errors.errors)
    return Event(
        id=raw["id"], type=str(kind), platform=raw["platform"], group=raw.get("group"),
        member=raw.get("member"), at=at, data=MappingProxyType(data), imported=imported,
    )

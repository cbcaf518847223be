"""Bot API updates → canonical events (bridge protocol v1). Translation only, no decisions.

Event ids are chosen so the same happening has the same id however it arrives: a message is
`m:<chat>:<message_id>` (live, through the webhook, through polling, or from a history export);
a migration is `migrate:<old chat>` whether it is seen in the old group (`migrate_to_chat_id`)
or in the new supergroup (`migrate_from_chat_id`). A second copy is a duplicate, one effect.

Joins and leaves come either from `chat_member` updates (the bot is an administrator and asked
for them; they carry the invite link used) or from the service messages `new_chat_members` /
`left_chat_member`. Both describe the same join, so one source is chosen per connection
(`member_source`) and the other is ignored, or every join would count twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from qunyun.platforms.telegram.entities import extract

PLATFORM = "telegram"
MemberSource = Literal["chat_member", "service"]
INVITE_LINK_PREFIX = "qy:"  # the name of a personal invite link: qy:<inviter user id>
GROUP_TYPES = ("group", "supergroup")
# Message fields that make a message of that kind (checked in this order).
MEDIA_KINDS = (
    ("photo", "image"), ("sticker", "sticker"), ("voice", "voice"), ("video", "video"),
    ("video_note", "video"), ("animation", "video"), ("audio", "file"), ("document", "file"),
    ("contact", "card"), ("location", "card"), ("venue", "card"), ("poll", "other"),
    ("dice", "other"), ("game", "other"), ("invoice", "other"), ("story", "other"),
)
ADMIN_STATUSES = {"creator": "owner", "administrator": "admin"}
PRESENT = ("member", "restricted", "administrator", "creator")


class Malformed(ValueError):
    """The update is not what the Bot API sends; the reason says what is wrong."""


@dataclass(slots=True)
class Translation:
    events: list[dict[str, Any]] = field(default_factory=list)
    # Users seen, id -> display name (the adapter labels mentions with them).
    names: dict[str, str] = field(default_factory=dict)
    ignored: str | None = None  # why nothing came of a well-formed update


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Malformed(f"{path} must be an object")
    return value


def _int(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Malformed(f"{path} must be an integer")
    return value


def _at(value: Any, path: str) -> str:
    seconds = _int(value, path)
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    except (OverflowError, OSError, ValueError) as exc:
        raise Malformed(f"{path} is not a valid Unix time") from exc


def display_name(user: Mapping[str, Any]) -> str:
    name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k)).strip()
    return (name or str(user.get("username") or user.get("id", "")))[:200]


def _user(value: Any, path: str) -> tuple[str, str]:
    user = _obj(value, path)
    return str(_int(user.get("id"), f"{path}.id")), display_name(user)


def _event(kind: str, event_id: str, at: str, data: dict[str, Any], *,
           group: str | None = None, member: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"v": 1, "id": event_id, "type": kind, "platform": PLATFORM}
    if group is not None:
        body["group"] = group
    if member is not None:
        body["member"] = member
    body["at"] = at
    body["data"] = data
    return body


def translate_update(update: Any, member_source: MemberSource = "chat_member") -> Translation:
    """One update → its canonical events; raises Malformed with the reason."""
    body = _obj(update, "update")
    update_id = _int(body.get("update_id"), "update.update_id")
    out = Translation()
    if "message" in body:
        _message(out, _obj(body["message"], "update.message"), member_source)
    elif "chat_member" in body:
        if member_source == "chat_member":
            _chat_member(out, update_id, _obj(body["chat_member"], "update.chat_member"))
        else:
            out.ignored = "chat_member updates are not this connection's member source"
    elif "my_chat_member" in body:
        _my_chat_member(out, update_id, _obj(body["my_chat_member"], "update.my_chat_member"))
    elif "chat_join_request" in body:
        _join_request(out, update_id, _obj(body["chat_join_request"], "update.chat_join_request"))
    else:
        kinds = sorted(k for k in body if k != "update_id")
        out.ignored = f"update kind not translated: {', '.join(kinds) or 'none'}"
    return out


def _message(out: Translation, message: dict[str, Any], member_source: MemberSource) -> None:
    message_id = _int(message.get("message_id"), "message.message_id")
    chat = _obj(message.get("chat"), "message.chat")
    chat_id = str(_int(chat.get("id"), "message.chat.id"))
    at = _at(message.get("date"), "message.date")
    sender: tuple[str, str] | None = None
    if "from" in message:
        sender = _user(message["from"], "message.from")
        out.names[sender[0]] = sender[1]
    chat_type = chat.get("type")
    if chat_type == "private":
        _private(out, message, chat_id, message_id, at, sender)
        return
    if chat_type not in GROUP_TYPES:
        out.ignored = f"messages in a {chat_type} chat are not translated"
        return
    if _migration(out, message, chat_id, at):
        return
    if _service(out, message, chat_id, message_id, at, sender, member_source):
        return
    if sender is None:
        raise Malformed("message.from is required for a group message")
    _posted(out, message, chat_id, message_id, at, sender)


def message_kind(message: Mapping[str, Any]) -> str:
    for key, kind in MEDIA_KINDS:
        if key in message:
            return kind
    return "text"


def _text(message: Mapping[str, Any]) -> tuple[str, list[Any]]:
    if isinstance(message.get("text"), str):
        return message["text"], list(message.get("entities") or [])
    if isinstance(message.get("caption"), str):
        return message["caption"], list(message.get("caption_entities") or [])
    return "", []


def _posted(out: Translation, message: dict[str, Any], chat_id: str, message_id: int, at: str,
            sender: tuple[str, str]) -> None:
    text, entities = _text(message)
    if not all(isinstance(e, dict) for e in entities):
        raise Malformed("message.entities must be a list of objects")
    found = extract(text, entities)
    data: dict[str, Any] = {"message_id": str(message_id), "kind": message_kind(message),
                            "text": text, "name": sender[1]}
    reply = message.get("reply_to_message")
    if isinstance(reply, dict) and isinstance(reply.get("message_id"), int) \
            and not _is_topic_root(message, reply):
        data["reply_to"] = str(reply["message_id"])
    if found.mentions:
        data["mentions"] = found.mentions
    if found.urls:
        data["urls"] = found.urls
    media = _media(message)
    if media:
        data["media"] = media
    out.events.append(_event("message.posted", f"m:{chat_id}:{message_id}", at, data,
                             group=chat_id, member=sender[0]))


def _is_topic_root(message: Mapping[str, Any], reply: Mapping[str, Any]) -> bool:
    """In a forum, a message in a topic 'replies' to the topic's first message; not a reply."""
    return bool(message.get("is_topic_message")) and "forum_topic_created" in reply


def _media(message: Mapping[str, Any]) -> dict[str, Any]:
    for key in ("voice", "video", "video_note", "audio", "animation", "document"):
        item = message.get(key)
        if isinstance(item, dict):
            media: dict[str, Any] = {}
            if isinstance(item.get("duration"), int) and item["duration"] >= 0:
                media["duration_s"] = item["duration"]
            if isinstance(item.get("file_size"), int) and item["file_size"] >= 0:
                media["size"] = item["file_size"]
            return media
    return {}


def _private(out: Translation, message: dict[str, Any], chat_id: str, message_id: int, at: str,
             sender: tuple[str, str] | None) -> None:
    if sender is None:
        raise Malformed("message.from is required for a private message")
    text, _ = _text(message)
    data = {"message_id": str(message_id), "kind": message_kind(message), "text": text,
            "name": sender[1]}
    out.events.append(_event("message.private", f"m:{chat_id}:{message_id}", at, data,
                             member=sender[0]))


def _migration(out: Translation, message: dict[str, Any], chat_id: str, at: str) -> bool:
    if "migrate_to_chat_id" in message:
        new = str(_int(message["migrate_to_chat_id"], "message.migrate_to_chat_id"))
        old = chat_id
    elif "migrate_from_chat_id" in message:
        old = str(_int(message["migrate_from_chat_id"], "message.migrate_from_chat_id"))
        new = chat_id
    else:
        return False
    out.events.append(_event("group.migrated", f"migrate:{old}", at, {"to": new}, group=old))
    return True


def _service(out: Translation, message: dict[str, Any], chat_id: str, message_id: int,
             at: str, sender: tuple[str, str] | None, member_source: MemberSource) -> bool:
    """Service messages: joins, leaves, title changes, group creation. True if one."""
    if "new_chat_members" in message:
        members = message["new_chat_members"]
        if not isinstance(members, list):
            raise Malformed("message.new_chat_members must be a list")
        if member_source == "service":
            for index, user in enumerate(members):
                _service_join(out, chat_id, message_id, at, sender,
                              _user(user, f"message.new_chat_members[{index}]"))
        else:
            out.ignored = "joins are taken from chat_member updates"
        return True
    if "left_chat_member" in message:
        user_id, name = _user(message["left_chat_member"], "message.left_chat_member")
        out.names[user_id] = name
        if member_source == "service":
            data: dict[str, Any] = {"reason": "quit"}
            if sender and sender[0] != user_id:
                data = {"reason": "kicked", "by": sender[0]}
            out.events.append(_event("member.left", f"m:{chat_id}:{message_id}", at, data,
                                     group=chat_id, member=user_id))
        else:
            out.ignored = "leaves are taken from chat_member updates"
        return True
    if isinstance(message.get("new_chat_title"), str):
        out.events.append(_event("group.updated", f"m:{chat_id}:{message_id}", at,
                                 {"name": message["new_chat_title"][:200]}, group=chat_id))
        return True
    if message.get("group_chat_created") or message.get("supergroup_chat_created"):
        title = _obj(message.get("chat"), "message.chat").get("title") or chat_id
        data = {"name": str(title)[:200]}
        if sender:
            data["owner"] = sender[0]
        out.events.append(_event("group.created", f"m:{chat_id}:{message_id}", at, data,
                                 group=chat_id))
        return True
    return _other_service(out, message)


SERVICE_KEYS = ("new_chat_photo", "delete_chat_photo", "pinned_message",
                "message_auto_delete_timer_changed",
                "forum_topic_created", "forum_topic_edited", "forum_topic_closed",
                "forum_topic_reopened", "video_chat_started", "video_chat_ended",
                "video_chat_scheduled", "video_chat_participants_invited", "boost_added",
                "chat_background_set", "write_access_allowed", "proximity_alert_triggered")


def _other_service(out: Translation, message: Mapping[str, Any]) -> bool:
    for key in SERVICE_KEYS:
        if key in message:
            out.ignored = f"service message not translated: {key}"
            return True
    return False


def _service_join(out: Translation, chat_id: str, message_id: int, at: str,
                  sender: tuple[str, str] | None, user: tuple[str, str]) -> None:
    out.names[user[0]] = user[1]
    data: dict[str, Any] = {"name": user[1] or user[0], "via": "other"}
    if sender and sender[0] != user[0]:
        data.update(via="invite", inviter=sender[0])
    out.events.append(_event("member.joined", f"m:{chat_id}:{message_id}:{user[0]}", at, data,
                             group=chat_id, member=user[0]))


def link_attribution(link: Any) -> dict[str, Any]:
    """`via`, `code` and, for a personal link made by qunyun, the `inviter`."""
    if not isinstance(link, dict) or not isinstance(link.get("invite_link"), str):
        return {}
    data: dict[str, Any] = {"via": "link", "code": link["invite_link"][:200]}
    name = link.get("name")
    if isinstance(name, str) and name.startswith(INVITE_LINK_PREFIX):
        inviter = name[len(INVITE_LINK_PREFIX):]
        if inviter.lstrip("-").isdigit():
            data.update(via="invite", inviter=inviter)
    return data


def _chat_member(out: Translation, update_id: int, change: dict[str, Any]) -> None:
    chat = _obj(change.get("chat"), "chat_member.chat")
    chat_id = str(_int(chat.get("id"), "chat_member.chat.id"))
    at = _at(change.get("date"), "chat_member.date")
    actor = _user(change.get("from"), "chat_member.from")
    old = _obj(change.get("old_chat_member"), "chat_member.old_chat_member")
    new = _obj(change.get("new_chat_member"), "chat_member.new_chat_member")
    user_id, name = _user(new.get("user"), "chat_member.new_chat_member.user")
    out.names[user_id] = name
    was, now = _present(old), _present(new)
    event_id = f"u:{update_id}"
    if not was and now:
        data: dict[str, Any] = {"name": name or user_id, "via": "other"}
        if actor[0] != user_id:
            data.update(via="invite", inviter=actor[0])
        if change.get("via_join_request"):
            data["via"] = "approval"
        data.update(link_attribution(change.get("invite_link")))
        out.events.append(_event("member.joined", event_id, at, data, group=chat_id,
                                 member=user_id))
    elif was and not now:
        left: dict[str, Any] = {"reason": "quit"}
        if actor[0] != user_id:
            left = {"reason": "kicked", "by": actor[0]}
        out.events.append(_event("member.left", event_id, at, left, group=chat_id,
                                 member=user_id))
    elif was and now and _role(old) != _role(new):
        out.events.append(_event("member.role_changed", event_id, at,
                                 {"role": _role(new), "by": actor[0]}, group=chat_id,
                                 member=user_id))
    else:
        out.ignored = "chat_member change without a join, leave or role change"


def _present(member: Mapping[str, Any]) -> bool:
    status = member.get("status")
    if status == "restricted":  # a restricted user may or may not be in the chat
        return bool(member.get("is_member", True))
    return status in PRESENT


def _role(member: Mapping[str, Any]) -> str:
    return ADMIN_STATUSES.get(str(member.get("status")), "member")


def _my_chat_member(out: Translation, update_id: int, change: dict[str, Any]) -> None:
    """The bot's own membership: added to a group, removed, promoted, blocked in private."""
    chat = _obj(change.get("chat"), "my_chat_member.chat")
    chat_id = str(_int(chat.get("id"), "my_chat_member.chat.id"))
    at = _at(change.get("date"), "my_chat_member.date")
    old = _obj(change.get("old_chat_member"), "my_chat_member.old_chat_member")
    new = _obj(change.get("new_chat_member"), "my_chat_member.new_chat_member")
    actor = _user(change.get("from"), "my_chat_member.from")
    out.names[actor[0]] = actor[1]
    if chat.get("type") not in GROUP_TYPES:
        out.ignored = "the bot's membership in a private chat or channel"
        return
    title = str(chat.get("title") or chat_id)[:200]
    event_id = f"u:{update_id}"
    if not _present(old) and _present(new):
        out.events.append(_event("group.created", event_id, at,
                                 {"name": title}, group=chat_id))
    elif _present(old) and not _present(new):
        # The group goes on without the bot; qunyun no longer sees it, nothing is dismissed.
        out.ignored = "the bot left or was removed from the group"
    else:
        out.events.append(_event("group.updated", event_id, at, {"name": title},
                                 group=chat_id))


def _join_request(out: Translation, update_id: int, request: dict[str, Any]) -> None:
    chat = _obj(request.get("chat"), "chat_join_request.chat")
    chat_id = str(_int(chat.get("id"), "chat_join_request.chat.id"))
    user_id, name = _user(request.get("from"), "chat_join_request.from")
    out.names[user_id] = name
    at = _at(request.get("date"), "chat_join_request.date")
    data: dict[str, Any] = {"request_id": f"{chat_id}:{user_id}", "name": name or user_id,
                            "via": "link"}
    if isinstance(request.get("bio"), str) and request["bio"]:
        data["comment"] = request["bio"]
    data.update(link_attribution(request.get("invite_link")))
    out.events.append(_event("member.join_requested", f"u:{update_id}", at, data,
                             group=chat_id, member=user_id))

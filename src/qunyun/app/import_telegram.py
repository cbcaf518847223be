"""Import a Telegram Desktop chat export (`result.json`) into the event log as history.

Both export generations are read: newer ones carry `date_unixtime` (exact), older ones only
`date` in the exporting computer's local time (read in the zone given). `text` is a string or a
list mixing strings and `{type, text}` pieces; `from` may be null while `from_id` still names
the sender. Service messages that change membership become joins and leaves. Every event is
marked `imported`: statistics and rule dry-runs see it, nothing is ever delivered because of it.

Event ids match the live adapter's (`m:<chat>:<message_id>`), so a message seen both live and in
an export counts once. The chat id is the Bot API's: `-100<id>` for a supergroup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from qunyun.app.bootstrap import Runtime
from qunyun.core.errors import InvalidInput
from qunyun.core.i18n import N_
from qunyun.pipeline.runner import ACCEPTED, DUPLICATE, REJECTED

PLATFORM = "telegram"
CHUNK = 1_000
SUPERGROUPS = ("public_supergroup", "private_supergroup")
MEDIA_TYPES = {"sticker": "sticker", "voice_message": "voice", "video_message": "video",
               "video_file": "video", "animation": "video", "audio_file": "file"}
Progress = Callable[[int, int], None]  # done, total


@dataclass
class ExportSummary:
    """What a file holds and what became of it."""

    group: str
    name: str
    messages: int = 0
    senders: set[str] = field(default_factory=set)
    replies: int = 0
    joins: int = 0
    leaves: int = 0
    skipped: int = 0  # service messages without a membership change, unreadable entries
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "name": self.name, "messages": self.messages,
                "senders": len(self.senders), "replies": self.replies, "joins": self.joins,
                "leaves": self.leaves, "skipped": self.skipped, "accepted": self.accepted,
                "duplicate": self.duplicate, "rejected": self.rejected,
                "reasons": self.reasons[:10]}


def group_id_of(export: Mapping[str, Any]) -> str:
    """The Bot API chat id of an exported chat."""
    chat_id = export.get("id")
    if not isinstance(chat_id, int):
        raise InvalidInput(N_("the export has no chat id; give the group with --group"))
    if export.get("type") in SUPERGROUPS:
        return f"-100{chat_id}"
    if export.get("type") == "private_group":
        return f"-{chat_id}"
    return str(chat_id)


def read_export(path: Path) -> dict[str, Any]:
    try:
        export = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(N_("cannot read the export {path}: {reason}"), path=str(path),
                           reason=str(exc)) from exc
    if not isinstance(export, dict) or not isinstance(export.get("messages"), list):
        raise InvalidInput(N_("{path} is not a Telegram Desktop chat export (result.json with "
                              "a messages list)"), path=str(path))
    return export


def user_id(from_id: Any) -> str | None:
    """`user123` → `123`; `channel123` → `-100123` (the Bot API's id of that chat)."""
    if not isinstance(from_id, str | int) or isinstance(from_id, bool):
        return None
    value = str(from_id)
    if value.startswith("user") and value[4:].isdigit():
        return value[4:]
    if value.startswith("channel") and value[7:].isdigit():
        return f"-100{value[7:]}"
    return value if value.lstrip("-").isdigit() else None


def message_time(message: Mapping[str, Any], zone: ZoneInfo) -> str:
    unix = message.get("date_unixtime")
    if isinstance(unix, str | int) and str(unix).isdigit():
        return datetime.fromtimestamp(int(unix), UTC).isoformat()
    date = message.get("date")
    if not isinstance(date, str):
        raise ValueError("no date")
    at = datetime.fromisoformat(date)
    return (at if at.tzinfo else at.replace(tzinfo=zone)).isoformat()


@dataclass(slots=True)
class _Text:
    text: str = ""
    mentions: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)


def read_text(value: Any) -> _Text:
    """`text` as a string or a list of strings and `{type, text}` pieces."""
    out = _Text()
    pieces: Iterable[Any] = [value] if isinstance(value, str) else value or []
    for piece in pieces:
        if isinstance(piece, str):
            out.text += piece
            continue
        if not isinstance(piece, dict):
            continue
        text = str(piece.get("text") or "")
        out.text += text
        kind = piece.get("type")
        if kind == "mention_name" and user_id(piece.get("user_id")):
            out.mentions.append(str(user_id(piece.get("user_id"))))
        elif kind == "mention" and text:
            out.mentions.append(text)
        elif kind == "link" and text:
            out.urls.append(text)
        elif kind == "text_link" and isinstance(piece.get("href"), str):
            out.urls.append(piece["href"])
    return out


def message_kind(message: Mapping[str, Any]) -> str:
    media = message.get("media_type")
    if isinstance(media, str):
        return MEDIA_TYPES.get(media, "other")
    if "photo" in message:
        return "image"
    if "file" in message:
        return "file"
    if "contact_information" in message or "location_information" in message:
        return "card"
    if "poll" in message:
        return "other"
    return "text"


def _event(kind: str, event_id: str, group: str, member: str, at: str,
           data: dict[str, Any]) -> dict[str, Any]:
    return {"v": 1, "id": event_id, "type": kind, "platform": PLATFORM, "group": group,
            "member": member, "at": at, "data": data, "imported": True}


def _posted(message: Mapping[str, Any], group: str, sender: str, at: str,
            summary: ExportSummary) -> dict[str, Any]:
    text = read_text(message.get("text"))
    data: dict[str, Any] = {"message_id": str(message["id"]), "kind": message_kind(message),
                            "text": text.text}
    if isinstance(message.get("from"), str) and message["from"]:
        data["name"] = message["from"][:200]
    reply = message.get("reply_to_message_id")
    if isinstance(reply, int):
        data["reply_to"] = str(reply)
        summary.replies += 1
    if text.mentions:
        data["mentions"] = list(dict.fromkeys(text.mentions))
    if text.urls:
        data["urls"] = list(dict.fromkeys(text.urls))
    if isinstance(message.get("duration_seconds"), int):
        data["media"] = {"duration_s": message["duration_seconds"]}
    summary.messages += 1
    summary.senders.add(sender)
    return _event("message.posted", f"m:{group}:{message['id']}", group, sender, at, data)


def _member_ids(message: Mapping[str, Any], actor: str | None) -> list[tuple[str, str]]:
    """(id, name) of the members a service message names. Exports give names only: a member
    who is the actor gets the actor's id; others are known by name (`name:<display name>`)."""
    names = message.get("members")
    out: list[tuple[str, str]] = []
    for name in names if isinstance(names, list) else []:
        if not isinstance(name, str) or not name:
            continue
        if actor and name == message.get("actor"):
            out.append((actor, name))
        else:
            out.append((f"name:{name}"[:200], name))
    return out


def _service(message: Mapping[str, Any], group: str, at: str,
             summary: ExportSummary) -> list[dict[str, Any]]:
    action, actor = message.get("action"), user_id(message.get("actor_id"))
    base = f"m:{group}:{message['id']}"
    actor_name = str(message.get("actor") or actor or "")[:200]
    if action in ("join_group_by_link", "join_group_by_request") and actor:
        via = "link" if action == "join_group_by_link" else "approval"
        summary.joins += 1
        return [_event("member.joined", base, group, actor, at,
                       {"name": actor_name or actor, "via": via})]
    events: list[dict[str, Any]] = []
    if action == "invite_members":
        for member, name in _member_ids(message, actor):
            data: dict[str, Any] = {"name": name, "via": "other"}
            if actor and member != actor:
                data.update(via="invite", inviter=actor)
            events.append(_event("member.joined", f"{base}:{member}", group, member, at, data))
        summary.joins += len(events)
    elif action == "remove_members":
        for member, _ in _member_ids(message, actor):
            left: dict[str, Any] = {"reason": "quit"}
            if actor and member != actor:
                left = {"reason": "kicked", "by": actor}
            events.append(_event("member.left", f"{base}:{member}", group, member, at, left))
        summary.leaves += len(events)
    if not events:
        summary.skipped += 1
    return events


def export_events(export: Mapping[str, Any], group: str, zone: ZoneInfo,
                  summary: ExportSummary) -> list[dict[str, Any]]:
    """The canonical events of an export, in its order."""
    events: list[dict[str, Any]] = []
    for message in export["messages"]:
        if not isinstance(message, dict) or not isinstance(message.get("id"), int):
            summary.skipped += 1
            continue
        try:
            at = message_time(message, zone)
        except ValueError:
            summary.skipped += 1
            summary.reasons.append(f"message {message['id']}: unreadable date")
            continue
        if message.get("type") == "service":
            events += _service(message, group, at, summary)
            continue
        sender = user_id(message.get("from_id"))
        if message.get("type") != "message" or sender is None:
            summary.skipped += 1
            continue
        events.append(_posted(message, group, sender, at, summary))
    return events


async def import_telegram_export(runtime: Runtime, org_id: int, path: Path, *,
                                 group: str | None = None, timezone: str = "UTC",
                                 progress: Progress | None = None) -> ExportSummary:
    """Read the export at `path` and ingest it as imported history of `group`."""
    export = read_export(path)
    group_id = group or group_id_of(export)
    summary = ExportSummary(group=group_id, name=str(export.get("name") or group_id))
    events = export_events(export, group_id, ZoneInfo(timezone), summary)
    if events:  # the group carries the export's name from its first moment
        events.insert(0, _created(summary, events[0]["at"]))
    done = 0
    for start in range(0, len(events), CHUNK):
        chunk = events[start:start + CHUNK]
        for result in await runtime.pipeline.ingest(org_id, chunk):
            if result.status == ACCEPTED:
                summary.accepted += 1
            elif result.status == DUPLICATE:
                summary.duplicate += 1
            elif result.status == REJECTED:
                summary.rejected += 1
                summary.reasons.append(f"{result.id}: "
                                       + "; ".join(e.render("en") for e in result.errors))
        done += len(chunk)
        if progress:
            progress(done, len(events))
    return summary


def _created(summary: ExportSummary, at: str) -> dict[str, Any]:
    return {"v": 1, "id": f"import:{summary.group}:created", "type": "group.updated",
            "platform": PLATFORM, "group": summary.group, "at": at,
            "data": {"name": summary.name[:200]}, "imported": True}

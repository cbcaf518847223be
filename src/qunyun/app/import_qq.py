"""`import_qq_file`: a QQ group's text history (消息管理器 export or copied text) into the event
log, as platform `onebot` events of the given group, marked imported (they never cause a
delivered action), so statistics and dry runs see the group's past.

Members with a QQ number (or e-mail) in the text keep it as their id, so the history joins the
live group's members; members known only by name get `name:<display name>`. Event ids are
derived from the content, so importing the same file twice stores it once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from qunyun.app.qq_text import Line, Transcript, read_transcript
from qunyun.core import events as E
from qunyun.core.errors import InvalidInput

if TYPE_CHECKING:
    from qunyun.app.bootstrap import Runtime

PLATFORM = "onebot"
CHUNK = 1000


@dataclass(frozen=True, slots=True)
class QqImportSummary:
    group: str
    messages: int
    senders: int
    replies: int  # QQ text exports carry no reply links: counted where a message quotes one
    joins: int
    accepted: int
    duplicate: int
    rejected: int
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "messages": self.messages, "senders": self.senders,
                "replies": self.replies,
                "joins": self.joins, "accepted": self.accepted, "duplicate": self.duplicate,
                "rejected": self.rejected, "reasons": list(self.reasons)}


def read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "utf-16", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-16" or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return text
    raise InvalidInput("{path} is neither UTF-8 nor GB18030 text", path=str(path))


def _member_id(line: Line, ids_by_name: dict[str, str]) -> str:
    if line.sender_id:
        return line.sender_id
    return ids_by_name.get(line.name) or f"name:{line.name}"[:200]


def transcript_events(transcript: Transcript, *, group: str, start: date | None,
                      zone: ZoneInfo) -> list[dict[str, Any]]:
    """Canonical events (imported) for a transcript, in its order."""
    ids_by_name = {i.name: i.sender_id for i in transcript.items if i.sender_id}
    seen: Counter[str] = Counter()
    events: list[dict[str, Any]] = []
    for item in transcript.items:
        at = _aware(item.at, start, zone)
        member = _member_id(item, ids_by_name)
        key = f"{item.kind}\x1f{member}\x1f{at.isoformat()}\x1f{item.text}"
        seen[key] += 1
        digest = hashlib.sha1(f"{key}\x1f{seen[key]}".encode()).hexdigest()[:24]
        event: dict[str, Any] = {"v": 1, "id": f"qqtext:{group}:{digest}", "platform": PLATFORM,
                                 "group": group, "member": member, "at": at.isoformat(),
                                 "imported": True}
        if item.kind == "join":
            data: dict[str, Any] = {"name": item.name[:200], "via": "other"}
            if item.inviter:
                data["via"] = "invite"
                data["inviter"] = ids_by_name.get(item.inviter) or f"name:{item.inviter}"[:200]
            event.update(type=E.MEMBER_JOINED, data=data)
        else:
            event.update(type=E.MESSAGE_POSTED, data={
                "message_id": f"qqtext-{digest}", "kind": "text", "text": item.text,
                "name": item.name[:200]})
        events.append(event)
    return events


def _aware(at: datetime | None, start: date | None, zone: ZoneInfo) -> datetime:
    if at is None:
        if start is None:
            raise InvalidInput("the text has no times; give the date it starts on")
        at = datetime.combine(start, datetime.min.time())
    return at.replace(tzinfo=zone)


async def import_qq_file(runtime: Runtime, path: Path, *, org: int | str = "default",
                         group: str, start: date | None = None,
                         timezone: str = "Asia/Shanghai",
                         progress: Callable[[int, int], None] | None = None) -> QqImportSummary:
    """Import one QQ text file into `group` (the QQ group number) of organization `org` (its
    id, or its slug). `start`: the date of the first message when the text has no dates.
    `progress(done, total)` is called after each unit of work."""
    from qunyun.api.bridge_events import ingest_isolating
    from qunyun.app.onebot import org_id_for

    if not group.strip():
        raise InvalidInput("the QQ group number is required")
    try:
        transcript = read_transcript(read_text(path), start)
    except ValueError as exc:
        raise InvalidInput("{path}: {reason}; give the date it starts on", path=str(path),
                           reason=str(exc)) from exc
    events = transcript_events(transcript, group=group.strip(), start=start,
                               zone=ZoneInfo(timezone))
    org_id = org if isinstance(org, int) else await org_id_for(runtime, org)
    statuses: Counter[str] = Counter()
    reasons: list[str] = []
    for begin in range(0, len(events), CHUNK):
        for result in await ingest_isolating(runtime, org_id, events[begin:begin + CHUNK]):
            statuses[result.status] += 1
            reasons.extend(e.render("en") for e in result.errors)
        if progress is not None:
            progress(min(begin + CHUNK, len(events)), len(events))
    messages = [e for e in events if e["type"] == E.MESSAGE_POSTED]
    return QqImportSummary(
        group=group.strip(), messages=len(messages), senders=len({e["member"] for e in messages}),
        replies=sum(1 for e in messages if e["data"].get("reply_to")),
        joins=len(events) - len(messages), accepted=statuses["accepted"],
        duplicate=statuses["duplicate"], rejected=statuses["rejected"],
        reasons=tuple(reasons[:20]))

"""What the chat shows: a playground group's events and the bot's actions, as items.

History comes from the database (the event log and the outbox), so it survives a restart; live
items come from the playground platform's feed and are turned into the same items.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Group, Person, PlatformAccount
from qunyun.core import actions as A
from qunyun.core import events as E
from qunyun.core.i18n import N_
from qunyun.pipeline.models import ActionRecord, EventRecord
from qunyun.pipeline.outbox import DISPATCHED, DONE, PENDING

HISTORY_LENGTH = 80
SHOWN_EVENTS = (E.MESSAGE_POSTED, E.MEMBER_JOINED, E.MEMBER_LEFT)
# Actions the chat shows: on their way or done (not skipped history, not failed, not tasks).
SHOWN_STATUSES = (PENDING, DISPATCHED, DONE)
KICK_EVENT_PREFIX = "kick-"  # the leave the playground reports for a kick: the kick says it


@dataclass(frozen=True, slots=True)
class ChatItem:
    """One line of the chat: a member's message, the bot's message, or a notice."""

    dom_id: str
    kind: str  # "message", "bot" or "notice"
    at: datetime
    author: str = ""
    member: str | None = None  # the author's platform id, or the member an action is about
    text: str = ""
    message_id: str | None = None  # a member's message: what a delete names
    media: str | None = None  # a message's kind when it is not text
    notice: str = ""  # a message id, translated when rendered
    params: Mapping[str, Any] = field(default_factory=dict)
    deleted_id: str | None = None  # a delete: the message it deleted
    effect: str = ""  # what it changes for the member picker: join, leave, mute, unmute, …
    seconds: int = 0  # a mute's length


@dataclass(frozen=True, slots=True)
class Cursor:
    """The newest event and action a page has: the stream catches up from here."""

    events: int = 0
    actions: int = 0

    def after(self, other: Cursor) -> Cursor:
        return Cursor(max(self.events, other.events), max(self.actions, other.actions))

    def encode(self) -> str:
        """As a stream's event id: a reconnecting browser sends it back (Last-Event-ID)."""
        return f"{self.events}.{self.actions}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        events, _, actions = (text or "").partition(".")
        if not (events.isdigit() and actions.isdigit()):
            return None
        return cls(int(events), int(actions))


@dataclass(frozen=True, slots=True)
class _Names:
    by_person: dict[int, str]
    by_member: dict[str, str]

    def person(self, person_id: int | None) -> str:
        return self.by_person.get(person_id or 0, "")

    def member(self, pid: str | None) -> str:
        return self.by_member.get(pid or "", pid or "")


async def history(session: AsyncSession, group: Group,
                  limit: int = HISTORY_LENGTH) -> tuple[list[ChatItem], Cursor]:
    """The latest items of `group`, oldest first, and the cursor to follow on from."""
    events = list((await session.scalars(
        select(EventRecord).where(EventRecord.group_id == group.id,
                                  EventRecord.type.in_(SHOWN_EVENTS))
        .order_by(EventRecord.seq.desc()).limit(limit))).all())
    query = _actions(group).order_by(ActionRecord.seq.desc()).limit(limit)
    if events and len(events) == limit:
        query = query.where(ActionRecord.created_at >= events[-1].at)
    actions = list((await session.scalars(query)).all())
    cursor = Cursor(max((e.seq for e in events), default=0),
                    max((a.seq for a in actions), default=0))
    return await _items(session, group, events, actions), cursor


async def since(session: AsyncSession, group: Group, cursor: Cursor,
                limit: int = HISTORY_LENGTH) -> tuple[list[ChatItem], Cursor]:
    """Items after `cursor` (what a page missed between its load and its stream)."""
    events = list((await session.scalars(
        select(EventRecord).where(EventRecord.group_id == group.id,
                                  EventRecord.type.in_(SHOWN_EVENTS),
                                  EventRecord.seq > cursor.events)
        .order_by(EventRecord.seq).limit(limit))).all())
    actions = list((await session.scalars(
        _actions(group).where(ActionRecord.seq > cursor.actions)
        .order_by(ActionRecord.seq).limit(limit))).all())
    newer = Cursor(max((e.seq for e in events), default=0),
                   max((a.seq for a in actions), default=0))
    return await _items(session, group, events, actions), cursor.after(newer)


def _actions(group: Group) -> Any:
    return select(ActionRecord).where(ActionRecord.group_id == group.id,
                                      ActionRecord.org_id == group.org_id,
                                      ActionRecord.status.in_(SHOWN_STATUSES))


async def _items(session: AsyncSession, group: Group, events: list[EventRecord],
                 actions: list[ActionRecord]) -> list[ChatItem]:
    names = await _names(session, group, {e.person_id for e in events if e.person_id},
                         {a.member_pid for a in actions if a.member_pid})
    items: list[tuple[tuple[datetime, int, int], ChatItem]] = []
    for record in events:
        body = orjson.loads(record.body)
        item = event_item(record.type, record.external_id, body.get("member"),
                          body.get("data", {}), record.at, names.person(record.person_id))
        if item is not None:
            items.append(((record.at, 0, record.seq), item))
    for row in actions:
        item = action_item(row.type, row.id, row.member_pid, row.data, row.created_at,
                           names.member(row.member_pid))
        items.append(((row.created_at, 1, row.seq), item))
    items.sort(key=lambda pair: pair[0])
    return [item for _, item in items]


async def _names(session: AsyncSession, group: Group, person_ids: set[int],
                 member_pids: set[str]) -> _Names:
    by_person: dict[int, str] = {}
    if person_ids:
        rows = await session.execute(select(Person.id, Person.display_name)
                                     .where(Person.id.in_(sorted(person_ids))))
        by_person = {pid: name for pid, name in rows}
    return _Names(by_person, await member_names(session, group, member_pids))


async def member_names(session: AsyncSession, group: Group,
                       member_pids: Iterable[str]) -> dict[str, str]:
    """Display names of members by their platform ids."""
    wanted = sorted(set(member_pids))
    if not wanted:
        return {}
    rows = await session.execute(
        select(PlatformAccount.platform_user_id, Person.display_name)
        .join(Person, Person.id == PlatformAccount.person_id)
        .where(PlatformAccount.org_id == group.org_id,
               PlatformAccount.platform == group.platform,
               PlatformAccount.platform_user_id.in_(wanted)))
    return {pid: name for pid, name in rows}


def event_item(kind: str, event_id: str, member: str | None, data: Mapping[str, Any],
               at: datetime, name: str) -> ChatItem | None:
    """The item for a member's event; None for one the chat does not show."""
    name = name or str(data.get("name") or member or "")
    dom_id = f"e-{event_id}"
    if kind == E.MESSAGE_POSTED:
        media = str(data.get("kind", "text"))
        return ChatItem(dom_id, "message", at, author=name, member=member,
                        text=str(data.get("text", "")), message_id=str(data["message_id"]),
                        media=None if media == "text" else media)
    if kind == E.MEMBER_JOINED:
        return ChatItem(dom_id, "notice", at, member=member, effect="join",
                        notice=N_("{name} joined the group"), params={"name": name})
    if kind == E.MEMBER_LEFT and not event_id.startswith(KICK_EVENT_PREFIX):
        notice = N_("{name} was removed from the group") if data.get("reason") == "kicked" \
            else N_("{name} left the group")
        return ChatItem(dom_id, "notice", at, member=member, notice=notice,
                        params={"name": name}, effect="leave")
    return None


def action_item(kind: str, action_id: str, member: str | None, data: Mapping[str, Any],
                at: datetime, name: str) -> ChatItem:
    """The item for one of the bot's actions."""
    dom_id = f"a-{action_id}"
    text = str(data.get("text", ""))
    if kind == A.SEND_MESSAGE:
        return ChatItem(dom_id, "bot", at, text=text)
    if kind == A.DELETE_MESSAGE:
        return ChatItem(dom_id, "notice", at, notice=N_("The bot deleted a message"),
                        deleted_id=str(data.get("message_id", "")))
    if kind == A.MUTE_MEMBER:
        seconds = int(data.get("seconds", 0))
        if seconds <= 0:
            return ChatItem(dom_id, "notice", at, member=member,
                            notice=N_("The bot lifted the mute on {name}"),
                            params={"name": name}, effect="unmute")
        return ChatItem(dom_id, "notice", at, member=member,
                        notice=N_("The bot muted {name} for {minutes} min"),
                        params={"name": name, "minutes": max(1, round(seconds / 60))},
                        effect="mute", seconds=seconds)
    if kind == A.KICK_MEMBER:
        return ChatItem(dom_id, "notice", at, member=member,
                        notice=N_("The bot removed {name} from the group"),
                        params={"name": name}, effect="leave")
    if kind == A.MUTE_ALL:
        if data.get("on"):
            return ChatItem(dom_id, "notice", at, notice=N_("The bot muted the whole group"),
                            effect="mute_all")
        return ChatItem(dom_id, "notice", at, notice=N_("The bot lifted the group mute"),
                        effect="unmute_all")
    if kind == A.SET_ANNOUNCEMENT:
        return ChatItem(dom_id, "notice", at, notice=N_("Announcement: {text}"),
                        params={"text": text})
    if kind == A.SEND_PRIVATE_MESSAGE:
        return ChatItem(dom_id, "notice", at, member=member,
                        notice=N_("The bot wrote to {name} in private: {text}"),
                        params={"name": name, "text": text})
    return ChatItem(dom_id, "notice", at, notice=N_("The bot did: {action}"),
                    params={"action": kind})


def deleted_ids(items: Iterable[ChatItem]) -> set[str]:
    """The message ids the items' deletes name."""
    return {item.deleted_id for item in items if item.deleted_id}

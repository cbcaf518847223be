"""The only code that writes highlights. Marking is idempotent; unmarking keeps the row."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.models import Person
from qunyun.core.features import MessageInfo
from qunyun.features.highlights.models import Highlight

BY_MEMBER = "member"  # marked in the chat by a group admin (see marked_by_person_id)
BY_RECALL = "recalled"  # unmarked because its author recalled the message


@dataclass(frozen=True, slots=True)
class Marked:
    highlight: Highlight
    created: bool  # False: the message was a highlight already


async def find_active(session: AsyncSession, *, group_id: int,
                      message_id: str) -> Highlight | None:
    return await session.scalar(select(Highlight).where(
        Highlight.group_id == group_id, Highlight.message_id == message_id,
        Highlight.unmarked_at.is_(None)))


async def do_mark(session: AsyncSession, *, org_id: int, group_id: int, message: MessageInfo,
                  by: str, at: datetime, by_person_id: int | None = None) -> Marked:
    """Keep `message` as a highlight of the group; marking it again changes nothing."""
    existing = await find_active(session, group_id=group_id, message_id=message.message_id)
    if existing is not None:
        return Marked(existing, False)
    row = Highlight(org_id=org_id, group_id=group_id, message_id=message.message_id,
                    event_id=message.event_id, author_person_id=message.person_id,
                    author_name=(await _author_name(session, message))[:200],
                    kind=message.kind, text=message.text, posted_at=message.at, marked_at=at,
                    marked_by=by, marked_by_person_id=by_person_id)
    try:
        async with session.begin_nested():  # another writer may mark it at the same moment
            session.add(row)
    except IntegrityError:
        existing = await find_active(session, group_id=group_id, message_id=message.message_id)
        if existing is None:
            raise
        return Marked(existing, False)
    return Marked(row, True)


async def _author_name(session: AsyncSession, message: MessageInfo) -> str:
    """The name the message carried, else the author's display name (platforms often send
    only the member's id with a message)."""
    if message.person_id is None or (message.name and message.name != message.member):
        return message.name
    name = await session.scalar(select(Person.display_name)
                                .where(Person.id == message.person_id))
    return name or message.name


async def do_unmark(session: AsyncSession, *, group_id: int, message_id: str, by: str,
                    at: datetime) -> Highlight | None:
    """Close the message's highlight (kept as history); None if it is not a highlight."""
    row = await find_active(session, group_id=group_id, message_id=message_id)
    if row is None:
        return None
    row.unmarked_at, row.unmarked_by = at, by
    await session.flush()
    return row


async def list_highlights(session: AsyncSession, *, group_id: int, limit: int = 100,
                          with_history: bool = True) -> list[Highlight]:
    """The group's highlights, newest first; with the unmarked ones unless told otherwise."""
    query = select(Highlight).where(Highlight.group_id == group_id)
    if not with_history:
        query = query.where(Highlight.unmarked_at.is_(None))
    return list(await session.scalars(
        query.order_by(Highlight.marked_at.desc(), Highlight.id.desc()).limit(limit)))


async def marked_messages(session: AsyncSession, *, group_id: int,
                          message_ids: Iterable[str]) -> set[str]:
    """Which of the messages are highlights now."""
    ids = sorted(set(message_ids))
    if not ids:
        return set()
    rows = await session.scalars(select(Highlight.message_id).where(
        Highlight.group_id == group_id, Highlight.message_id.in_(ids),
        Highlight.unmarked_at.is_(None)))
    return set(rows)


async def highlights_between(session: AsyncSession, *, group_id: int, start: datetime,
                             end: datetime) -> list[Highlight]:
    """Highlights marked in [start, end) that are still highlights, oldest first."""
    return list(await session.scalars(
        select(Highlight).where(
            Highlight.group_id == group_id, Highlight.marked_at >= start,
            Highlight.marked_at < end, Highlight.unmarked_at.is_(None))
        .order_by(Highlight.marked_at, Highlight.id)))

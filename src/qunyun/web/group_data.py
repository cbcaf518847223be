"""What the group page shows: its header, 30-day charts from the rollups, members, and the
latest events and actions (through their `(group_id, seq)` indexes)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.groups import tags_of_groups
from qunyun.community.models import Community, Group, Membership, Person, Playbook
from qunyun.community.queries import MemberRow, list_members
from qunyun.community.roles import MEMBERSHIP_ACTIVE
from qunyun.core.i18n import N_
from qunyun.features.stats.service import get_daily
from qunyun.pipeline.models import ActionRecord, EventRecord
from qunyun.web.overview_query import active_membership

CHART_DAYS = 30
RECENT_LIMIT = 50
MEMBERS_PAGE_SIZE = 50
SUMMARY_LENGTH = 140


@dataclass(frozen=True, slots=True)
class GroupHeader:
    group: Group
    community: str | None
    playbook: str | None
    tags: list[str]
    members: int


@dataclass(frozen=True, slots=True)
class EventRow:
    seq: int
    type: str
    at: datetime
    group_id: int | None
    person_id: int | None
    person: str | None
    summary: str


async def active_members(session: AsyncSession, group_id: int) -> int:
    count = await session.scalar(select(func.count()).select_from(Membership).where(
        Membership.group_id == group_id, active_membership()))
    return int(count or 0)


async def group_header(session: AsyncSession, group: Group) -> GroupHeader:
    community = await session.scalar(select(Community.name).where(
        Community.id == group.community_id)) if group.community_id else None
    playbook = await session.scalar(select(Playbook.name).where(
        Playbook.id == group.playbook_id)) if group.playbook_id else None
    tags = await tags_of_groups(session, [group.id])
    return GroupHeader(group, community, playbook, tags.get(group.id, []),
                       await active_members(session, group.id))


async def group_charts(session: AsyncSession, group_id: int, today: date, members_now: int,
                       label: Callable[[str], str]) -> dict[str, dict[str, Any]]:
    """Chart specs of the last 30 local days: members, messages and speakers, joins and leaves.

    Members at the end of each day are counted back from today's: minus each later day's
    joins, plus its leaves."""
    start = today - timedelta(days=CHART_DAYS - 1)
    rows = {r.day: r for r in await get_daily(session, group_id=group_id, start=start, end=today)}
    days = [start + timedelta(days=i) for i in range(CHART_DAYS)]
    joins = [rows[d].joins if d in rows else 0 for d in days]
    leaves = [rows[d].leaves if d in rows else 0 for d in days]
    members = [members_now] * CHART_DAYS
    for i in range(CHART_DAYS - 2, -1, -1):
        members[i] = max(0, members[i + 1] - joins[i + 1] + leaves[i + 1])
    labels = [d.isoformat()[5:] for d in days]
    return {
        "members": {"x": labels, "series": [{"name": label(N_("Members")), "type": "line",
                                             "data": members, "area": True}]},
        "activity": {"x": labels, "series": [
            {"name": label(N_("Messages")), "type": "bar",
             "data": [rows[d].messages if d in rows else 0 for d in days]},
            {"name": label(N_("Speakers")), "type": "line",
             "data": [rows[d].speakers if d in rows else 0 for d in days]}]},
        "movement": {"x": labels, "series": [
            {"name": label(N_("Joins")), "type": "bar", "data": joins},
            {"name": label(N_("Leaves")), "type": "bar", "data": leaves, "color": "#dc2626"}]},
    }


async def member_page(session: AsyncSession, group_id: int,
                      page: int) -> tuple[list[MemberRow], int]:
    """One page of the group's current members, newest first, and how many there are."""
    rows = await list_members(session, group_id=group_id, status=MEMBERSHIP_ACTIVE,
                              limit=MEMBERS_PAGE_SIZE, offset=(page - 1) * MEMBERS_PAGE_SIZE)
    return rows, await active_members(session, group_id)


def event_summary(event_type: str, data: dict[str, Any]) -> str:
    """A short line about what happened (the text of a message, why someone left, …)."""
    if event_type in ("message.posted", "message.recalled"):
        text = str(data.get("text") or f"[{data.get('kind') or '…'}]")
    elif event_type == "member.left":
        text = str(data.get("reason") or "")
    elif event_type == "member.joined":
        text = str(data.get("via") or "")
    else:
        text = str(data.get("name") or data.get("text") or "")
    return text if len(text) <= SUMMARY_LENGTH else text[:SUMMARY_LENGTH - 1] + "…"


async def recent_events(session: AsyncSession, *, group_id: int | None = None,
                        person_id: int | None = None, group_ids: list[int] | None = None,
                        limit: int = RECENT_LIMIT) -> list[EventRow]:
    """The latest events of a group or of a person (newest first), by the seq indexes."""
    query = (select(EventRecord.seq, EventRecord.type, EventRecord.at, EventRecord.group_id,
                    EventRecord.person_id, Person.display_name, EventRecord.body)
             .outerjoin(Person, Person.id == EventRecord.person_id)
             .order_by(EventRecord.seq.desc()).limit(limit))
    if group_id is not None:
        query = query.where(EventRecord.group_id == group_id)
    if person_id is not None:
        query = query.where(EventRecord.person_id == person_id)
    if group_ids is not None:
        query = query.where(EventRecord.group_id.in_(group_ids))
    rows = []
    for seq, kind, at, gid, pid, name, body in await session.execute(query):
        data = orjson.loads(body).get("data") or {}
        rows.append(EventRow(seq, kind, at, gid, pid, name, event_summary(kind, data)))
    return rows


async def recent_actions(session: AsyncSession, group_id: int) -> list[ActionRecord]:
    return list(await session.scalars(
        select(ActionRecord).where(ActionRecord.group_id == group_id)
        .order_by(ActionRecord.seq.desc()).limit(RECENT_LIMIT)))

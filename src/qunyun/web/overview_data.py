"""One page of overview rows and the summary above them, with grouped queries only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.api.groups import tags_of_groups
from qunyun.community.access import Principal
from qunyun.community.models import Community, Group, GroupTag, Membership, Tag
from qunyun.community.roles import GROUP_ACTIVE
from qunyun.features.stats.models import DailySpeaker, DailyStats
from qunyun.web.overview_query import (
    OverviewFilters,
    Window,
    active_membership,
    visible_groups,
)


@dataclass(frozen=True, slots=True)
class GroupRow:
    id: int
    name: str
    community: str | None
    platform: str
    purpose: str
    store: str | None
    tags: list[str]
    members: int
    messages: int
    speakers: int
    joins: int
    leaves: int
    last_message_day: date | None
    spark: list[int]
    quiet_for: int | None  # days without a message, when that makes the group quiet
    shrinking: bool


@dataclass(frozen=True, slots=True)
class Summary:
    groups: int
    members: int
    messages: int
    speakers: int
    joins: int
    leaves: int
    chart: dict[str, Any] = field(default_factory=dict)


async def _counts(session: AsyncSession, query: Any) -> dict[int, int]:
    return {gid: int(value or 0) for gid, value in await session.execute(query)}


async def page_rows(session: AsyncSession, ids: Sequence[int], window: Window,
                    quiet_days: int) -> list[GroupRow]:
    """The rows of the groups `ids`, in that order."""
    if not ids:
        return []
    groups = {g.id: (g, name) for g, name in await session.execute(
        select(Group, Community.name).outerjoin(Community, Community.id == Group.community_id)
        .where(Group.id.in_(ids)))}
    members = await _counts(session, select(Membership.group_id, func.count())
                            .where(Membership.group_id.in_(ids),
                                   active_membership())
                            .group_by(Membership.group_id))
    speakers = await _counts(session, select(DailySpeaker.group_id,
                                             func.count(DailySpeaker.person_id.distinct()))
                             .where(DailySpeaker.group_id.in_(ids),
                                    DailySpeaker.day >= window.week_start,
                                    DailySpeaker.day <= window.today)
                             .group_by(DailySpeaker.group_id))
    last_days = {gid: day for gid, day in await session.execute(
        select(DailyStats.group_id, func.max(DailyStats.day))
        .where(DailyStats.group_id.in_(ids), DailyStats.messages > 0,
               DailyStats.day <= window.today).group_by(DailyStats.group_id))}
    daily = await _month_of_groups(session, ids, window)
    tags = await tags_of_groups(session, list(ids))
    month = window.month()
    rows = []
    for gid in ids:
        group, community = groups[gid]
        days = daily.get(gid, {})
        week = [days[d] for d in month[-7:] if d in days]
        joins, leaves = sum(r[1] for r in week), sum(r[2] for r in week)
        last = last_days.get(gid)
        idle = (window.today - last).days if last else None
        quiet = idle is None or idle >= quiet_days
        rows.append(GroupRow(
            gid, group.name, community, group.platform, group.purpose, group.store,
            tags.get(gid, []), members.get(gid, 0), sum(r[0] for r in week),
            speakers.get(gid, 0), joins, leaves, last,
            [days[d][0] if d in days else 0 for d in month],
            (idle if idle is not None else -1) if quiet else None, leaves > joins))
    return rows


async def _month_of_groups(session: AsyncSession, ids: Sequence[int],
                           window: Window) -> dict[int, dict[date, tuple[int, int, int]]]:
    """Per group and day of the month: (messages, joins, leaves)."""
    rows = await session.execute(
        select(DailyStats.group_id, DailyStats.day, DailyStats.messages, DailyStats.joins,
               DailyStats.leaves)
        .where(DailyStats.group_id.in_(ids), DailyStats.day >= window.month_start,
               DailyStats.day <= window.today))
    daily: dict[int, dict[date, tuple[int, int, int]]] = {}
    for gid, day, messages, joins, leaves in rows:
        daily.setdefault(gid, {})[day] = (messages, joins, leaves)
    return daily


async def summary(session: AsyncSession, principal: Principal, filters: OverviewFilters,
                  window: Window, groups: int) -> Summary:
    """Totals over every group the filters match, and their daily month chart."""
    ids = visible_groups(principal, filters)
    members = await session.scalar(select(func.count()).select_from(Membership).where(
        Membership.group_id.in_(ids), active_membership()))
    speakers = await session.scalar(
        select(func.count(DailySpeaker.person_id.distinct()))
        .where(DailySpeaker.group_id.in_(ids), DailySpeaker.day >= window.week_start,
               DailySpeaker.day <= window.today))
    by_day = {day: (int(m or 0), int(j or 0), int(lv or 0)) for day, m, j, lv in
              await session.execute(
                  select(DailyStats.day, func.sum(DailyStats.messages),
                         func.sum(DailyStats.joins), func.sum(DailyStats.leaves))
                  .where(DailyStats.group_id.in_(ids), DailyStats.day >= window.month_start,
                         DailyStats.day <= window.today)
                  .group_by(DailyStats.day))}
    month = window.month()
    series = [by_day.get(d, (0, 0, 0)) for d in month]
    week = series[-7:]
    chart = {"days": [d.isoformat()[5:] for d in month],
             "messages": [s[0] for s in series], "joins": [s[1] for s in series],
             "leaves": [s[2] for s in series]}
    return Summary(groups, int(members or 0), sum(s[0] for s in week), int(speakers or 0),
                   sum(s[1] for s in week), sum(s[2] for s in week), chart)


@dataclass(frozen=True, slots=True)
class Facets:
    """The choices of the filter menus: only what occurs in the groups the principal sees."""

    communities: list[tuple[int, str]]
    platforms: list[str]
    stores: list[str]
    tags: list[str]


async def facets(session: AsyncSession, principal: Principal) -> Facets:
    visible = (Group.status == GROUP_ACTIVE, principal.group_clause())
    combos = (await session.execute(
        select(Group.community_id, Group.platform, Group.store).where(*visible).distinct())).all()
    community_ids = sorted({c for c, _, _ in combos if c is not None})
    communities = (await session.execute(
        select(Community.id, Community.name).where(Community.id.in_(community_ids))
        .order_by(Community.name))).all() if community_ids else []
    tags = await session.scalars(
        select(Tag.name).join(GroupTag, GroupTag.tag_id == Tag.id)
        .join(Group, Group.id == GroupTag.group_id).where(*visible).distinct()
        .order_by(Tag.name))
    return Facets([(int(i), str(n)) for i, n in communities],
                  sorted({p for _, p, _ in combos}), sorted({s for _, _, s in combos if s}),
                  list(tags))

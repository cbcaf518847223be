"""The overview's numbers, from rollups and indexed columns only (never the event log).

The groups a principal may see are filtered and sorted in SQL; one page of them (50) is then
described with a handful of grouped queries keyed by group id, whatever the page size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.models import Community, Group, GroupTag, Membership, Tag
from qunyun.community.roles import GROUP_ACTIVE, MEMBERSHIP_ACTIVE, PURPOSES
from qunyun.features.stats.models import DailySpeaker, DailyStats

PAGE_SIZE = 50
WEEK_DAYS = 7
SPARK_DAYS = 30
DEFAULT_QUIET_DAYS = 3
GROUP_SORTS = {"name": Group.name, "platform": Group.platform, "purpose": Group.purpose,
               "store": Group.store, "community": Community.name}
STAT_SORTS = ("members", "messages", "speakers", "joins", "leaves", "health")
SORTS = (*GROUP_SORTS, *STAT_SORTS)
# Bigger first for counts; health sorts by the last day with messages, the quietest first.
DESCENDING_FIRST = ("members", "messages", "speakers", "joins", "leaves")
DEFAULT_SORT = "messages"
NEVER = date(1970, 1, 1)


def _text(params: Mapping[str, str], key: str, limit: int = 200) -> str | None:
    value = params.get(key, "").strip()[:limit]
    return value or None


def _integer(params: Mapping[str, str], key: str, default: int | None,
             low: int = 1, high: int = 1_000_000) -> int | None:
    raw = params.get(key, "").strip()
    if not raw.isdigit():
        return default
    return min(max(int(raw), low), high)


@dataclass(frozen=True, slots=True)
class OverviewFilters:
    """What the overview shows, read leniently from the query string (bad values are ignored)."""

    community_id: int | None = None
    platform: str | None = None
    purpose: str | None = None
    tag: str | None = None
    store: str | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT
    descending: bool = True
    page: int = 1
    quiet_days: int = DEFAULT_QUIET_DAYS

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> OverviewFilters:
        sort = params.get("sort", DEFAULT_SORT)
        sort = sort if sort in SORTS else DEFAULT_SORT
        purpose = _text(params, "purpose")
        return cls(
            community_id=_integer(params, "community", None),
            platform=_text(params, "platform", 32),
            purpose=purpose if purpose in PURPOSES else None,
            tag=_text(params, "tag", 100), store=_text(params, "store"), q=_text(params, "q"),
            sort=sort,
            descending=params.get("dir", "desc" if sort in DESCENDING_FIRST else "asc") == "desc",
            page=_integer(params, "page", 1) or 1,
            quiet_days=_integer(params, "quiet", DEFAULT_QUIET_DAYS, 1, 365) or DEFAULT_QUIET_DAYS)

    def query(self, **changes: Any) -> str:
        """The query string of these filters with `changes` (page resets unless given)."""
        values = replace(self, **{"page": 1, **changes})
        pairs = {"community": values.community_id, "platform": values.platform,
                 "purpose": values.purpose, "tag": values.tag, "store": values.store,
                 "q": values.q, "sort": values.sort, "dir": "desc" if values.descending else "asc",
                 "page": values.page if values.page > 1 else None,
                 "quiet": values.quiet_days if values.quiet_days != DEFAULT_QUIET_DAYS else None}
        return urlencode({k: v for k, v in pairs.items() if v is not None})

    def sort_query(self, column: str) -> str:
        """Sorting by `column`; clicking the current sort column flips the direction."""
        if column == self.sort:
            return self.query(descending=not self.descending)
        return self.query(sort=column, descending=column in DESCENDING_FIRST)

    @property
    def any_menu(self) -> bool:
        """A filter other than the search is set."""
        return any(v is not None for v in (self.community_id, self.platform, self.purpose,
                                           self.tag, self.store))

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.community_id, self.platform, self.purpose,
                                           self.tag, self.store, self.q))


@dataclass(frozen=True, slots=True)
class Window:
    """The days the overview counts: the last week and the sparkline's month, today included."""

    today: date

    @property
    def week_start(self) -> date:
        return self.today - timedelta(days=WEEK_DAYS - 1)

    @property
    def month_start(self) -> date:
        return self.today - timedelta(days=SPARK_DAYS - 1)

    def month(self) -> list[date]:
        return [self.month_start + timedelta(days=i) for i in range(SPARK_DAYS)]


def active_membership() -> ColumnElement[bool]:
    """Memberships open now. The value is written into the SQL, not bound: SQLite uses the
    partial index of open periods (a covering index for counting members per group) only when
    it sees `status = 'active'` as a literal."""
    return Membership.status == literal(MEMBERSHIP_ACTIVE, literal_execute=True)


def visible_groups(principal: Principal, filters: OverviewFilters) -> Select[int]:
    """The ids of the active groups the principal may see that match the filters."""
    query = select(Group.id).where(principal.group_clause(), Group.status == GROUP_ACTIVE)
    if filters.community_id is not None:
        query = query.where(Group.community_id == filters.community_id)
    if filters.platform:
        query = query.where(Group.platform == filters.platform)
    if filters.purpose:
        query = query.where(Group.purpose == filters.purpose)
    if filters.store:
        query = query.where(Group.store == filters.store)
    if filters.q:
        query = query.where(Group.name.icontains(filters.q, autoescape=True))
    if filters.tag:
        tagged = (select(GroupTag.group_id).join(Tag, Tag.id == GroupTag.tag_id)
                  .where(Tag.org_id == principal.org_id, Tag.name == filters.tag))
        query = query.where(Group.id.in_(tagged))
    return query


def stat_subquery(sort: str, ids: Any, window: Window) -> Any:
    """Per group id (`gid`), the value (`v`) a statistic column sorts by."""
    if sort == "members":
        return (select(Membership.group_id.label("gid"), func.count().label("v"))
                .where(active_membership(), Membership.group_id.in_(ids))
                .group_by(Membership.group_id).subquery())
    if sort == "speakers":
        return (select(DailySpeaker.group_id.label("gid"),
                       func.count(DailySpeaker.person_id.distinct()).label("v"))
                .where(DailySpeaker.group_id.in_(ids), DailySpeaker.day >= window.week_start,
                       DailySpeaker.day <= window.today)
                .group_by(DailySpeaker.group_id).subquery())
    if sort == "health":
        return (select(DailyStats.group_id.label("gid"), func.max(DailyStats.day).label("v"))
                .where(DailyStats.group_id.in_(ids), DailyStats.messages > 0,
                       DailyStats.day <= window.today)
                .group_by(DailyStats.group_id).subquery())
    column = getattr(DailyStats, sort)
    return (select(DailyStats.group_id.label("gid"), func.sum(column).label("v"))
            .where(DailyStats.group_id.in_(ids), DailyStats.day >= window.week_start,
                   DailyStats.day <= window.today)
            .group_by(DailyStats.group_id).subquery())


def _direction(column: ColumnElement[Any], descending: bool) -> ColumnElement[Any]:
    return column.desc() if descending else column.asc()


def page_query(principal: Principal, filters: OverviewFilters,
               window: Window) -> Select[int]:
    """The ids of the groups on the requested page, in the requested order."""
    ids = visible_groups(principal, filters)
    query = select(Group.id).where(Group.id.in_(ids))
    if filters.sort in GROUP_SORTS:
        if filters.sort == "community":
            query = query.outerjoin(Community, Community.id == Group.community_id)
        key = func.coalesce(GROUP_SORTS[filters.sort], literal(""))
    else:
        stat = stat_subquery(filters.sort, ids, window)
        query = query.outerjoin(stat, stat.c.gid == Group.id)
        key = func.coalesce(stat.c.v, literal(NEVER if filters.sort == "health" else 0))
    tiebreak = Group.id.desc() if filters.descending else Group.id.asc()
    return (query.order_by(_direction(key, filters.descending), tiebreak)
            .limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE))


async def count_groups(session: AsyncSession, principal: Principal,
                       filters: OverviewFilters) -> int:
    total = await session.scalar(select(func.count()).select_from(
        visible_groups(principal, filters).subquery()))
    return int(total or 0)

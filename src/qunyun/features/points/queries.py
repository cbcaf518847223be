"""What the points pages read, always limited to the persons a principal may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.models import Community, Group, Membership, Person, PlatformAccount
from qunyun.features.points.csvio import visible_person
from qunyun.points.models import PointsBalance, PointsEntry

PAGE_SIZE = 50
SORTS = {"balance": PointsBalance.balance, "lifetime": PointsBalance.lifetime_earned}


async def visible_communities(session: AsyncSession,
                              principal: Principal) -> list[tuple[int, str]]:
    """(id, name) of the communities with groups the principal may see (for the whole
    organization without any group yet: all its communities)."""
    query = select(Community.id, Community.name).where(Community.org_id == principal.org_id)
    with_groups = query.where(or_(
        Community.id.in_(sorted(principal.scope.communities)),
        exists().where(Group.community_id == Community.id, principal.group_clause())))
    found = [(i, n) for i, n in await session.execute(with_groups.order_by(Community.id))]
    if found or not principal.scope.whole_org:
        return found
    return [(i, n) for i, n in await session.execute(query.order_by(Community.id))]


@dataclass(frozen=True, slots=True)
class BalanceRow:
    person_id: int
    name: str
    balance: int
    lifetime_earned: int
    accounts: list[str] = field(default_factory=list)


def _balances(principal: Principal, community_id: int, search: str) -> Select[int]:
    query = (select(PointsBalance.person_id)
             .join(Person, Person.id == PointsBalance.person_id)
             .where(PointsBalance.community_id == community_id,
                    Person.org_id == principal.org_id, visible_person(principal)))
    text = search.strip()
    if text:
        account = exists().where(PlatformAccount.person_id == Person.id,
                                 PlatformAccount.platform_user_id.contains(text,
                                                                           autoescape=True))
        matches: list[ColumnElement[bool]] = [
            Person.display_name.contains(text, autoescape=True), account]
        if text.isdigit():
            matches.append(Person.id == int(text))
        query = query.where(or_(*matches))
    return query


async def balance_page(session: AsyncSession, principal: Principal, *, community_id: int,
                       search: str = "", sort: str = "balance",
                       page: int = 1) -> tuple[list[BalanceRow], int]:
    """One page of balances, highest first, and how many match."""
    base = _balances(principal, community_id, search)
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    order = SORTS.get(sort, PointsBalance.balance)
    rows = (await session.execute(
        select(Person.id, Person.display_name, PointsBalance.balance,
               PointsBalance.lifetime_earned)
        .join(PointsBalance, and_(PointsBalance.person_id == Person.id,
                                  PointsBalance.community_id == community_id))
        .where(Person.id.in_(base.scalar_subquery()))
        .order_by(order.desc(), Person.id)
        .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))).all()
    accounts = await accounts_of(session, [r.id for r in rows])
    return [BalanceRow(r.id, r.display_name, r.balance, r.lifetime_earned,
                       accounts.get(r.id, [])) for r in rows], int(total or 0)


async def accounts_of(session: AsyncSession, person_ids: list[int]) -> dict[int, list[str]]:
    if not person_ids:
        return {}
    found: dict[int, list[str]] = {}
    rows = await session.execute(
        select(PlatformAccount.person_id, PlatformAccount.platform,
               PlatformAccount.platform_user_id)
        .where(PlatformAccount.person_id.in_(person_ids))
        .order_by(PlatformAccount.person_id, PlatformAccount.id))
    for person_id, platform, user_id in rows:
        found.setdefault(person_id, []).append(f"{platform}:{user_id}")
    return found


@dataclass(frozen=True, slots=True)
class EntryRow:
    entry: PointsEntry
    name: str
    group_name: str | None


async def recent_entries(session: AsyncSession, principal: Principal, *, community_id: int,
                         person_id: int | None = None, limit: int = 20) -> list[EntryRow]:
    query = (select(PointsEntry, Person.display_name, Group.name)
             .join(Person, Person.id == PointsEntry.person_id)
             .outerjoin(Group, Group.id == PointsEntry.group_id)
             .where(PointsEntry.community_id == community_id,
                    Person.org_id == principal.org_id, visible_person(principal)))
    if person_id is not None:
        query = query.where(PointsEntry.person_id == person_id)
    rows = await session.execute(query.order_by(PointsEntry.id.desc()).limit(limit))
    return [EntryRow(entry, name, group) for entry, name, group in rows]


@dataclass(frozen=True, slots=True)
class ReasonTotal:
    reason: str
    entries: int
    points: int


@dataclass(frozen=True, slots=True)
class Summary:
    members: int  # with points ever earned
    held: int  # the sum of balances
    earned: int  # in the period
    spent: int  # taken in the period (spends, expiry, negative adjustments), as a positive
    by_reason: list[ReasonTotal]


async def summary(session: AsyncSession, principal: Principal, *, community_id: int,
                  since: datetime) -> Summary:
    visible = visible_person(principal)
    members, held = (await session.execute(
        select(func.count(), func.coalesce(func.sum(PointsBalance.balance), 0))
        .join(Person, Person.id == PointsBalance.person_id)
        .where(PointsBalance.community_id == community_id, Person.org_id == principal.org_id,
               PointsBalance.lifetime_earned > 0, visible))).one()
    rows = (await session.execute(
        select(PointsEntry.reason, func.count(), func.sum(PointsEntry.amount),
               func.sum(case((PointsEntry.amount > 0, PointsEntry.amount), else_=0)))
        .join(Person, Person.id == PointsEntry.person_id)
        .where(PointsEntry.community_id == community_id, PointsEntry.created_at >= since,
               Person.org_id == principal.org_id, visible)
        .group_by(PointsEntry.reason))).all()
    totals = sorted((ReasonTotal(r, int(n), int(s or 0)) for r, n, s, _ in rows),
                    key=lambda t: (-abs(t.points), t.reason))
    earned = sum(int(p or 0) for *_, p in rows)
    net = sum(t.points for t in totals)
    return Summary(int(members), int(held), earned, earned - net, totals)


async def member_communities(session: AsyncSession, principal: Principal,
                             person_id: int) -> list[tuple[int, str]]:
    """The communities a person has points in or visible groups of."""
    in_groups = (select(Group.community_id)
                 .join(Membership, Membership.group_id == Group.id)
                 .where(Membership.person_id == person_id, principal.group_clause()))
    with_points = select(PointsBalance.community_id).where(
        PointsBalance.person_id == person_id)
    rows = await session.execute(
        select(Community.id, Community.name)
        .where(Community.org_id == principal.org_id,
               or_(Community.id.in_(in_groups), Community.id.in_(with_points)))
        .order_by(Community.id))
    return [(i, n) for i, n in rows]

"""Reading moderation's record for the dashboard: the log of cases with filters, and each rule's
hits with the share staff undid or appeals overturned (its measured precision)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.access import Principal
from qunyun.community.models import Group, Person
from qunyun.features.moderation.models import OVERTURNED, UNDONE, ModerationCase


@dataclass(frozen=True, slots=True)
class CaseFilter:
    group_id: int | None = None
    rule: str | None = None
    status: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class CaseRow:
    case: ModerationCase
    group_name: str
    person_name: str

    @property
    def spans(self) -> list[tuple[int, int]]:
        """Where the match is in the text, valid spans only, in order."""
        found = []
        for span in (self.case.detail or {}).get("spans", []):
            start, end = span.get("start"), span.get("end")
            if isinstance(start, int) and isinstance(end, int) \
                    and 0 <= start < end <= len(self.case.text):
                found.append((start, end))
        return sorted(found)

    def pieces(self) -> list[tuple[str, bool]]:
        """The text cut into (piece, matched) for highlighting."""
        text, at, out = self.case.text, 0, []
        for start, end in self.spans:
            if start < at:
                continue
            if start > at:
                out.append((text[at:start], False))
            out.append((text[start:end], True))
            at = end
        if at < len(text) or not out:
            out.append((text[at:], False))
        return out


@dataclass(frozen=True, slots=True)
class RuleStats:
    rule: str
    hits: int
    undone: int
    overturned: int

    @property
    def standing(self) -> int:
        return self.hits - self.undone - self.overturned

    @property
    def precision(self) -> float | None:
        """The share of hits that stood; None before any hit."""
        return self.standing / self.hits if self.hits else None


def _where(principal: Principal, filters: CaseFilter) -> list[ColumnElement[bool]]:
    where = [ModerationCase.org_id == principal.org_id]
    if not principal.scope.whole_org:
        where.append(ModerationCase.group_id.in_(select(Group.id).where(
            Group.org_id == principal.org_id, principal.group_clause())))
    if filters.group_id is not None:
        where.append(ModerationCase.group_id == filters.group_id)
    if filters.rule:
        where.append(ModerationCase.rule == filters.rule)
    if filters.status:
        where.append(ModerationCase.status == filters.status)
    if filters.since is not None:
        where.append(ModerationCase.at >= filters.since)
    return where


async def list_cases(session: AsyncSession, *, principal: Principal, filters: CaseFilter,
                     page: int, page_size: int) -> tuple[list[CaseRow], int]:
    """The cases the principal may see, newest first, one page; and how many there are."""
    where = _where(principal, filters)
    total = int(await session.scalar(select(func.count()).select_from(ModerationCase)
                                     .where(*where)) or 0)
    rows = (await session.execute(
        select(ModerationCase, Group.name, Person.display_name)
        .outerjoin(Group, Group.id == ModerationCase.group_id)
        .outerjoin(Person, Person.id == ModerationCase.person_id)
        .where(*where).order_by(ModerationCase.at.desc(), ModerationCase.id.desc())
        .limit(page_size).offset((page - 1) * page_size))).all()
    return [CaseRow(case, group or "", person or "") for case, group, person in rows], total


async def rule_stats(session: AsyncSession, *, principal: Principal,
                     filters: CaseFilter) -> list[RuleStats]:
    """Per rule: hits, undone by staff, overturned on appeal; most hits first."""
    rows = await session.execute(
        select(ModerationCase.rule, ModerationCase.status, func.count())
        .where(*_where(principal, filters))
        .group_by(ModerationCase.rule, ModerationCase.status))
    counts: dict[str, dict[str, int]] = {}
    for rule, status, count in rows:
        counts.setdefault(rule, {})[status] = int(count)
    stats = [RuleStats(rule, sum(by.values()), by.get(UNDONE, 0), by.get(OVERTURNED, 0))
             for rule, by in counts.items()]
    return sorted(stats, key=lambda s: (-s.hits, s.rule))


async def get_case(session: AsyncSession, *, org_id: int, case_id: int) -> ModerationCase | None:
    case: ModerationCase | None = await session.scalar(select(ModerationCase).where(
        ModerationCase.org_id == org_id, ModerationCase.id == case_id))
    return case


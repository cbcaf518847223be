"""Who is in good standing: an inviter for invite-only groups, anyone at the gate.

Good standing means: not on the organization's blacklist, an active member (of the group or of
any group of its community, per settings), and nothing against them lately — no removal from a
group of the community and, where the moderation feature keeps cases, no moderation case that
still stands, within `inviter_clean_days`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.community.blacklist import find_blacklisted
from qunyun.community.models import Group, Membership, PlatformAccount
from qunyun.community.roles import MEMBERSHIP_ACTIVE, MEMBERSHIP_KICKED
from qunyun.core.features import GroupInfo
from qunyun.core.i18n import N_
from qunyun.db.base import Base
from qunyun.features.gate.settings import GateSettings

# The moderation feature's cases, when it is installed (read by table, never imported).
CASES_TABLE = "moderation_cases"
CASE_STANDS = "applied"

NO_INVITER = N_("this group admits members by invitation only")
INVITER_UNKNOWN = N_("the inviter is not a member of this group")
INVITER_BARRED = N_("the inviter is not in good standing")


async def is_blacklisted(session: AsyncSession, *, org_id: int, person_id: int,
                         at: datetime) -> bool:
    return await find_blacklisted(session, org_id=org_id, person_id=person_id, at=at) is not None


async def person_of(session: AsyncSession, *, org_id: int, platform: str,
                    user_id: str) -> int | None:
    found = await session.scalar(select(PlatformAccount.person_id).where(
        PlatformAccount.org_id == org_id, PlatformAccount.platform == platform,
        PlatformAccount.platform_user_id == user_id))
    return int(found) if found is not None else None


def _scope(group: GroupInfo, settings: GateSettings) -> ColumnElement[bool]:
    if settings.inviter_scope == "community" and group.community_id is not None:
        return Membership.group_id.in_(select(Group.id).where(
            Group.community_id == group.community_id))
    return Membership.group_id == group.id


async def _recent_case(session: AsyncSession, person_id: int, since: datetime) -> bool:
    cases = Base.metadata.tables.get(CASES_TABLE)
    if not isinstance(cases, Table):
        return False
    found = await session.scalar(select(func.count()).select_from(cases).where(
        cases.c.person_id == person_id, cases.c.at >= since, cases.c.status == CASE_STANDS))
    return bool(found)


async def inviter_refusal(session: AsyncSession, *, group: GroupInfo, settings: GateSettings,
                          inviter: str | None, applicant_id: int, at: datetime) -> str | None:
    """Why the inviter cannot vouch for the applicant (a message id), or None if they can."""
    if not inviter:
        return NO_INVITER
    person_id = await person_of(session, org_id=group.org_id, platform=group.platform,
                                user_id=inviter)
    if person_id is None or person_id == applicant_id:
        return INVITER_UNKNOWN
    active = await session.scalar(select(func.count()).select_from(Membership).where(
        _scope(group, settings), Membership.person_id == person_id,
        Membership.status == MEMBERSHIP_ACTIVE))
    if not active:
        return INVITER_UNKNOWN
    if await is_blacklisted(session, org_id=group.org_id, person_id=person_id, at=at):
        return INVITER_BARRED
    if settings.inviter_clean_days:
        since = at - timedelta(days=settings.inviter_clean_days)
        kicked = await session.scalar(select(func.count()).select_from(Membership).where(
            _scope(group, settings), Membership.person_id == person_id,
            Membership.status == MEMBERSHIP_KICKED, Membership.left_at >= since))
        if kicked or await _recent_case(session, person_id, since):
            return INVITER_BARRED
    return None

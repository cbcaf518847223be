"""The kick chain (踢人连带): when an offender is removed, so are the members he brought in.

The chain is the memberships the offender invited in the last N days that are still active in a
group of the same community (the offender's group alone when it belongs to no community).
Owners and admins of a group are never in the chain. In `kick` mode each of them is kicked and
told why in private; in `review` mode nobody is kicked and each is flagged for staff to look at.
Either way every link gets a moderation case (rule `kick_chain`, action `kick` or `flag`), so the
moderation log shows it, staff can undo it, and the same offence never chains twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from qunyun.community.models import Group, Membership, Person, PlatformAccount
from qunyun.community.roles import GROUP_ACTIVE, MEMBERSHIP_ACTIVE
from qunyun.core.actions import KICK_MEMBER, ActionRequest, send_private
from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import N_, gettext
from qunyun.features.moderation.models import APPLIED, ModerationCase

RULE = "kick_chain"
KICK = "kick"
REVIEW = "review"
MODES = (KICK, REVIEW)
FLAG = "flag"  # the case action of a link flagged for review
PROTECTED_ROLES = ("owner", "admin")
MAX_DAYS = 365


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One membership the offender brought in."""

    membership_id: int
    person_id: int
    name: str
    group_id: int
    group_name: str
    group_platform: str
    group_platform_id: str
    member: str | None  # the invitee's user id on the group's platform
    joined_at: datetime | None


def _window(days: int, at: datetime) -> datetime:
    if isinstance(days, bool) or not isinstance(days, int) or not 0 < days <= MAX_DAYS:
        raise InvalidInput(N_("the kick chain looks back 1 to {limit} days"), limit=MAX_DAYS)
    return at - timedelta(days=days)


def _community_clause(community_id: int | None, group_id: int) -> ColumnElement[bool]:
    return Group.community_id == community_id if community_id is not None \
        else Group.id == group_id


async def list_chain(session: AsyncSession, *, org_id: int, offender_person_id: int,
                     community_id: int | None, group_id: int, days: int,
                     at: datetime) -> list[ChainLink]:
    """The members the offender invited in the `days` before `at` who are still active in a
    group of the community (or of `group_id` alone when there is no community)."""
    since = _window(days, at)
    account = aliased(PlatformAccount)
    rows = (await session.execute(
        select(Membership, Person.display_name, Group, account.platform_user_id)
        .join(Group, Group.id == Membership.group_id)
        .join(Person, Person.id == Membership.person_id)
        .outerjoin(account, (account.person_id == Membership.person_id)
                   & (account.platform == Group.platform) & (account.org_id == org_id))
        .where(Membership.org_id == org_id, Membership.inviter_person_id == offender_person_id,
               Membership.person_id != offender_person_id,
               Membership.status == MEMBERSHIP_ACTIVE, Membership.joined_at >= since,
               Membership.joined_at <= at, Membership.role.not_in(PROTECTED_ROLES),
               Group.status == GROUP_ACTIVE, _community_clause(community_id, group_id))
        .order_by(Membership.joined_at, Membership.id))).all()
    links: dict[int, ChainLink] = {}
    for membership, name, group, user in rows:  # one row per membership, first account wins
        links.setdefault(membership.id, ChainLink(
            membership.id, membership.person_id, name, group.id, group.name, group.platform,
            group.platform_id, user, membership.joined_at))
    return list(links.values())


def _case_event_id(cause: str, link: ChainLink) -> str:
    """The case key of one link of one offence: the same offence never chains twice."""
    digest = hashlib.sha1(cause.encode()).hexdigest()[:20]
    return f"chain:{digest}:{link.membership_id}"


async def _already_chained(session: AsyncSession, org_id: int, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    rows = await session.scalars(select(ModerationCase.event_id).where(
        ModerationCase.org_id == org_id, ModerationCase.event_id.in_(keys)))
    return set(rows)


def _record(ctx: FeatureContext, link: ChainLink, key: str, *, offender_person_id: int,
            action: str, days: int, community_id: int | None) -> ModerationCase:
    assert ctx.group is not None
    return ModerationCase(
        org_id=ctx.group.org_id, community_id=community_id, group_id=link.group_id,
        person_id=link.person_id, event_id=key, rule=RULE, category=action,
        detail={"offender_person_id": offender_person_id, "days": days,
                "membership_id": link.membership_id,
                "cause": ctx.event.id if ctx.event else (ctx.job.id if ctx.job else ""),
                "joined_at": link.joined_at.isoformat() if link.joined_at else None},
        action=action, at=ctx.now)


def _kick(ctx: FeatureContext, link: ChainLink) -> list[ActionRequest]:
    assert link.member is not None
    notice = gettext("You were removed from {group}: the member who invited you was removed "
                     "for breaking its rules. If this is a mistake, reply 申诉 and your reason.",
                     ctx.locale, group=link.group_name)
    return [ActionRequest(KICK_MEMBER, {}, member=link.member, group=link.group_platform_id),
            send_private(link.member, notice)]


async def chain_actions(ctx: FeatureContext, *, offender_person_id: int, days: int,
                        mode: str) -> list[ActionRequest]:
    """The actions of the kick chain of an offence in `ctx.group` (see the module doc); the
    cases are added to the session. `kick` mode skips links on another platform than the
    offence (the actions of one cause leave through one platform): they are flagged instead."""
    if mode not in MODES:
        raise InvalidInput(N_("the kick chain mode must be one of: {choices}"),
                           choices=", ".join(MODES))
    if ctx.group is None:
        return []
    group = ctx.group
    links = await list_chain(ctx.session, org_id=group.org_id,
                             offender_person_id=offender_person_id,
                             community_id=group.community_id, group_id=group.id, days=days,
                             at=ctx.now)
    cause = f"{group.platform}:{ctx.event.id}" if ctx.event else \
        (ctx.job.id if ctx.job else ctx.now.isoformat())
    keys = [_case_event_id(cause, link) for link in links]
    done = await _already_chained(ctx.session, group.org_id, keys)
    actions: list[ActionRequest] = []
    for link, key in zip(links, keys, strict=True):
        if key in done:
            continue
        kick = mode == KICK and link.member is not None and link.group_platform == group.platform
        ctx.session.add(_record(ctx, link, key, offender_person_id=offender_person_id,
                                action=KICK if kick else FLAG, days=days,
                                community_id=group.community_id))
        if kick:
            actions.extend(_kick(ctx, link))
    await ctx.session.flush()
    return actions


async def list_flagged(session: AsyncSession, *, org_id: int, limit: int = 100
                       ) -> list[ModerationCase]:
    """The links flagged for review that still stand, newest first (for the dashboard)."""
    rows = await session.scalars(select(ModerationCase).where(
        ModerationCase.org_id == org_id, ModerationCase.rule == RULE,
        ModerationCase.action == FLAG, ModerationCase.status == APPLIED)
        .order_by(ModerationCase.id.desc()).limit(limit))
    return list(rows)

"""Event → facts for the rules. No writes here: facts are queued in the unit of work and the
rules run once before commit (`service.do_award_batch`). Held invites wait in a table for the
release job of their community (every 6 hours); expiry is a job at local midnight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from qunyun.core import events as E
from qunyun.core.clock import day_start, local_day
from qunyun.core.features import FeatureContext, GroupInfo
from qunyun.features.points.rules import (
    ReactionFact,
    Where,
    invite_due,
    message_fact,
    release_time,
)
from qunyun.features.points.service import (
    HeldInvite,
    JoinFact,
    PendingAwards,
    do_award_batch,
    do_hold_invites,
    do_release_invites,
)
from qunyun.features.points.settings import PointsSettings
from qunyun.points.expiry import do_expire

SCRATCH = "points"
SCHEDULED = "points.scheduled"
RELEASE_JOB = "release-invites"
EXPIRE_JOB = "expire"


def _pending(ctx: FeatureContext) -> PendingAwards:
    pending = ctx.uow.scratch(SCRATCH, PendingAwards)
    ctx.uow.before_commit(SCRATCH, lambda session: do_award_batch(session, pending))
    return pending


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or group is None or member is None or group.community_id is None \
            or event.imported:
        return
    settings: PointsSettings = ctx.settings
    where = Where(group.org_id, group.community_id, group.id, event.at, group.timezone,
                  f"{event.platform}:{event.id}")
    if settings.expire_after_days:
        _schedule_expiry(ctx, group, event.at)
    if event.type == E.MESSAGE_POSTED:
        fact = message_fact(where, member.person_id, str(event.data.get("text") or ""), settings)
        if fact is not None:
            _pending(ctx).add(fact, settings)
    elif event.type == E.REACTION_ADDED:
        if settings.reaction_points <= 0:
            return
        message_id = str(event.data["message_id"])
        found = await ctx.find_message(message_id)
        if found is not None and found.person_id is not None \
                and found.person_id != member.person_id:
            _pending(ctx).add(ReactionFact(where, found.person_id, member.person_id,
                                           message_id), settings)
    elif event.type == E.MEMBER_JOINED:
        _joined(ctx, where, settings)


def _joined(ctx: FeatureContext, where: Where, settings: PointsSettings) -> None:
    member, event = ctx.member, ctx.event
    assert member is not None and event is not None
    if settings.invite_points <= 0 or not event.data.get("inviter") \
            or not member.new_membership or member.membership_id is None:
        return
    if not settings.invite_hold_hours:
        _pending(ctx).add(JoinFact(where, member.membership_id, member.person_id), settings)
        return
    due = invite_due(where.at, settings)
    _pending(ctx).held.append(HeldInvite(where, member.membership_id, member.person_id,
                                         settings.invite_points, due))
    _schedule_once(ctx, RELEASE_JOB, release_time(due), where.org_id, where.community_id,
                   where.timezone)


def _schedule_once(ctx: FeatureContext, kind: str, due: datetime, org_id: int,
                   community_id: int, timezone: str) -> None:
    """Schedule the community's job `kind` at `due` unless this batch did already: the
    scheduler only sees the jobs of earlier transactions."""
    scheduled = ctx.uow.scratch(SCHEDULED, set)
    if (kind, community_id, due) in scheduled:
        return
    scheduled.add((kind, community_id, due))
    ctx.schedule(kind, due, {"org_id": org_id, "community_id": community_id,
                             "timezone": timezone},
                 key=f"{kind}:{community_id}:{due.astimezone(UTC).isoformat()}")


def _schedule_expiry(ctx: FeatureContext, group: GroupInfo, at: datetime) -> None:
    """The expiry job of the community at the local midnight after a day with activity (a
    day without any has nothing new to expire that the next run would not take)."""
    assert group.community_id is not None
    day = local_day(at, group.timezone) + timedelta(days=1)
    _schedule_once(ctx, EXPIRE_JOB, day_start(day, group.timezone), group.org_id,
                   group.community_id, group.timezone)


async def on_job(ctx: FeatureContext) -> None:
    job, settings = ctx.job, ctx.settings
    if job is None:
        return
    async with ctx.session.begin_nested():  # the handler runs without one: all or nothing
        await _run_job(ctx, job.kind, job.payload, settings)


async def _run_job(ctx: FeatureContext, kind: str, data: dict[str, Any],
                   settings: PointsSettings) -> None:
    if kind == RELEASE_JOB:
        # Invites held earlier in this unit of work are not written yet: write them first.
        await do_hold_invites(ctx.session, ctx.uow.scratch(SCRATCH, PendingAwards))
        await do_release_invites(ctx.session, community_id=data["community_id"], until=ctx.now)
    elif kind == EXPIRE_JOB and settings.enabled and settings.expire_after_days:
        await do_expire(ctx.session, org_id=data["org_id"], community_id=data["community_id"],
                        after_days=settings.expire_after_days, at=ctx.now)

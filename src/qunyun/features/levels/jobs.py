"""Scheduled work of levels: the daily demotion check of the activity basis and the monthly
top inviter. Each job is per community and asked for by the community's events, once per
unit of work (the same key twice is a no-op): a day or a month with no event at all in the
community has no job, and none is needed — nobody moved."""

from __future__ import annotations

from datetime import date, timedelta

from qunyun.core.clock import day_start, local_day
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import gettext
from qunyun.features.levels.awards import Subject, award, move, name_of
from qunyun.features.levels.badges import top_inviters
from qunyun.features.levels.service import (
    LevelsBatch,
    PersonState,
    do_flush,
    load_state,
    ranked_members,
    window_counts,
)
from qunyun.features.levels.settle import batch_of

DAILY = "daily"
MONTHLY = "monthly"


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def schedule_jobs(ctx: FeatureContext, batch: LevelsBatch, community_id: int, day: date) -> None:
    """Make sure this community's jobs for `day` exist (asked once per unit of work)."""
    if (community_id, day) in batch.scheduled:
        return
    batch.scheduled.add((community_id, day))
    settings = ctx.settings
    timezone = ctx.group.timezone if ctx.group else "Asia/Shanghai"
    wanted = []
    if settings.basis == "activity" and settings.demotion:
        wanted.append((DAILY, f"{DAILY}:{community_id}:{day.isoformat()}",
                       day_start(day + timedelta(days=1), timezone)))
    if "top_inviter_month" in settings.badges:
        month = _month_start(day)
        wanted.append((MONTHLY, f"{MONTHLY}:{community_id}:{month:%Y-%m}",
                       day_start(_next_month(month), timezone)))
    for kind, key, due_at in wanted:
        ctx.schedule(kind, due_at, {"community_id": community_id}, key=key)


async def on_job(ctx: FeatureContext) -> None:
    job, group = ctx.job, ctx.group
    if job is None or group is None or group.community_id is None or not ctx.settings.enabled:
        return
    batch = batch_of(ctx.uow)
    await do_flush(ctx.session, batch)  # this unit of work's messages count too
    today = local_day(ctx.now, group.timezone)
    if job.kind == DAILY:
        await _demote_inactive(ctx, batch, group.community_id, today)
    elif job.kind == MONTHLY:
        await _top_inviter(ctx, batch, group.community_id, today)


async def _demote_inactive(ctx: FeatureContext, batch: LevelsBatch, community_id: int,
                           today: date) -> None:
    """Move down whoever's activity fell below their level's hysteresis mark."""
    settings = ctx.settings
    if settings.basis != "activity" or not settings.demotion:
        return
    counts = await window_counts(ctx.session, community_id, today, settings.activity_days)
    for person_id, (level, best) in sorted((await ranked_members(ctx.session,
                                                                 community_id)).items()):
        # The unit of work's copy when it has one, so it stays right; else a light one.
        state = batch.states.get((community_id, person_id)) or PersonState(level, best, set())
        await move(ctx, Subject(person_id, None), state, counts.get(person_id, 0),
                   announced=False)


async def _top_inviter(ctx: FeatureContext, batch: LevelsBatch, community_id: int,
                       today: date) -> None:
    """Award the top inviter of the month that just ended."""
    if "top_inviter_month" not in ctx.settings.badges:
        return
    assert ctx.group is not None
    timezone = ctx.group.timezone
    end = _month_start(today)
    start = _month_start(end - timedelta(days=1))
    winners = await top_inviters(ctx.session, community_id=community_id,
                                 start=day_start(start, timezone), end=day_start(end, timezone))
    for winner in winners:
        subject = Subject(winner.person_id, None)
        state = await load_state(ctx.session, batch, (community_id, winner.person_id))
        if "top_inviter_month" in state.badges:
            continue
        text = gettext("{name} is the top inviter of {month}: {count} people invited!",
                       ctx.locale, name=await name_of(ctx, subject), month=f"{start:%Y-%m}",
                       count=winner.invited)
        await award(ctx, state, subject, "top_inviter_month", detail=f"{start:%Y-%m}", text=text)

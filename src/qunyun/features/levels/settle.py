"""Before commit, once per unit of work: the level moves and badges that its points and
messages gave, in bulk — a few queries per unit of work, whatever its size.

Other features write points before commit too (those of messages, reactions and invites), so
this runs after them: a hook that the first-pass hook registers. Actions cannot be sent from
here: announcements wait for the next event of the person's group (`handlers`).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from qunyun.core.clock import day_start, local_day
from qunyun.core.features import UnitOfWork
from qunyun.features.levels.badges import first_signers, signins_since, streak_complete
from qunyun.features.levels.ladder import (
    MESSAGES_BADGE_AT,
    SIGNIN_BADGES,
    STREAK_DAYS,
    target_level,
)
from qunyun.features.levels.service import (
    Earned,
    Key,
    LevelsBatch,
    Move,
    do_award_badges,
    do_flush,
    do_mark_sent,
    do_move,
    do_queue_announcement,
    do_write_announcements,
    inviters_of,
    load_states,
    refresh_lifetimes,
    window_counts,
)
from qunyun.points.service import take_changed

SCRATCH = "levels"
SETTLE = "levels.settle"


def batch_of(uow: UnitOfWork) -> LevelsBatch:
    """This unit of work's batch, with its hooks: the settling runs after every other
    feature's first-pass hook (the points of messages among them)."""
    batch = uow.scratch(SCRATCH, LevelsBatch)

    async def first_pass(_session: AsyncSession) -> None:
        uow.before_commit(SETTLE, lambda session: do_settle(session, batch))

    uow.before_commit(SCRATCH, first_pass)
    return batch


async def do_settle(session: AsyncSession, batch: LevelsBatch) -> None:
    if batch.sent:
        await do_mark_sent(session, batch.sent)
        batch.sent.clear()
    await do_flush(session, batch)
    await _see_inviters(session, batch)
    changed = {key for key in batch.seen if take_changed(session, *key)}
    over = {c.key for c in batch.crossed if c.before < MESSAGES_BADGE_AT <= c.after}
    active = {key for key, seen in batch.seen.items() if seen.settings.basis == "activity"}
    batch.crossed.clear()
    keys = changed | over | active
    if not keys:
        return
    states = await load_states(session, batch, keys)
    await refresh_lifetimes(session, {key: states[key] for key in changed})
    windows = await _windows(session, batch, active)
    for key in sorted(keys):
        value = windows.get(key) if key in active else \
            states[key].lifetime if key in changed else None
        if value is not None:
            await _move(session, batch, key, value)
    earned = [(key, "messages_100") for key in sorted(over)]
    earned += await _signin_badges(session, batch, sorted(changed))
    await _award(session, batch, earned)
    await do_write_announcements(session, batch)


async def _see_inviters(session: AsyncSession, batch: LevelsBatch) -> None:
    """The inviters of this unit of work's joins, who may have earned points for them."""
    if not batch.invites:
        return
    inviters = await inviters_of(session, [i.membership_id for i in batch.invites])
    for invite in batch.invites:
        seen, inviter = invite.seen, inviters.get(invite.membership_id)
        community = seen.group.community_id
        if inviter is not None and community is not None:
            batch.see((community, inviter), seen.group, seen.settings, seen.at, seen.member,
                      None)
    batch.invites.clear()


async def _windows(session: AsyncSession, batch: LevelsBatch, keys: set[Key]) -> dict[Key, int]:
    """Messages in the activity window of each key: one query per community and window."""
    asked: dict[tuple[int, date, int], list[int]] = {}
    for community, person in keys:
        seen = batch.seen[(community, person)]
        today = local_day(seen.at, seen.group.timezone)
        asked.setdefault((community, today, seen.settings.activity_days), []).append(person)
    found: dict[Key, int] = {}
    for (community, today, days), persons in sorted(asked.items()):
        counts = await window_counts(session, community, today, days, sorted(persons))
        for person in persons:
            found[(community, person)] = counts.get(person, 0)
            state = batch.states[(community, person)]
            state.window, state.window_day = found[(community, person)], today
    return found


async def _move(session: AsyncSession, batch: LevelsBatch, key: Key, value: int) -> None:
    seen, state = batch.seen[key], batch.states[key]
    settings = seen.settings
    levels = settings.levels
    target = target_level(state.level, value, [level.threshold for level in levels],
                          demotion=settings.demotion and settings.basis == "activity",
                          hysteresis=settings.hysteresis)
    if target == state.level:
        return
    await do_move(session, Move(seen.group.org_id, key[0], key[1], seen.group.id, state.level,
                                target, state.best_level, levels[target].name, seen.at))
    if target > state.best_level:
        do_queue_announcement(batch, seen, key[1], kind="level", subject=levels[target].name)
    state.level, state.best_level = target, max(state.best_level, target)


async def _signin_badges(session: AsyncSession, batch: LevelsBatch,
                         keys: list[Key]) -> list[tuple[Key, str]]:
    """The sign-in badges the ledger now proves for people whose points changed: first
    sign-in, a 7-day streak, first of their group on the day (early bird)."""
    wanted = {key: [b for b in batch.seen[key].settings.badges
                    if b in SIGNIN_BADGES and b not in batch.states[key].badges]
              for key in keys}
    asked = [key for key in keys if wanted[key]]
    if not asked:
        return []
    today = {key: local_day(batch.seen[key].at, batch.seen[key].group.timezone) for key in asked}
    since = min(day_start(today[k] - timedelta(days=STREAK_DAYS - 1),
                          batch.seen[k].group.timezone) for k in asked)
    signins = await signins_since(session, asked, since)
    earned: list[tuple[Key, str]] = []
    early: list[tuple[Key, int]] = []  # (key, group of today's sign-in)
    for key in asked:
        timezone = batch.seen[key].group.timezone
        days = {local_day(s.at, timezone): s.group_id for s in signins.get(key, [])}
        if not days:
            continue
        if "first_signin" in wanted[key]:
            earned.append((key, "first_signin"))
        if "streak_7" in wanted[key] and streak_complete(set(days), today[key]):
            earned.append((key, "streak_7"))
        group = days.get(today[key])
        if "early_bird" in wanted[key] and group is not None:
            early.append((key, group))
    return earned + await _early_birds(session, batch, early, today)


async def _early_birds(session: AsyncSession, batch: LevelsBatch, early: list[tuple[Key, int]],
                       today: dict[Key, date]) -> list[tuple[Key, str]]:
    by_day: dict[tuple[date, str], set[int]] = {}
    for key, group in early:
        by_day.setdefault((today[key], batch.seen[key].group.timezone), set()).add(group)
    firsts: dict[tuple[date, int], int] = {}
    for (day, timezone), groups in sorted(by_day.items()):
        found = await first_signers(session, sorted(groups), day_start(day, timezone),
                                    day_start(day + timedelta(days=1), timezone))
        firsts.update({(day, group): person for group, person in found.items()})
    return [(key, "early_bird") for key, group in early
            if firsts.get((today[key], group)) == key[1]]


async def _award(session: AsyncSession, batch: LevelsBatch,
                 earned: list[tuple[Key, str]]) -> None:
    awards = [Earned(key, badge, batch.seen[key]) for key, badge in earned
              if badge in batch.seen[key].settings.badges
              and badge not in batch.states[key].badges]
    for award in await do_award_badges(session, awards):
        if award.seen.settings.announce_badges:
            do_queue_announcement(batch, award.seen, award.key[1], kind="badge",
                                  subject=award.badge)
    for award in awards:
        batch.states[award.key].badges.add(award.badge)

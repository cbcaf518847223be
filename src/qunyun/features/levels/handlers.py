"""Events → who was seen where (no I/O for an ordinary message), the announcements waiting
for this group, and the `我的等级` reply.

Levels and badges are settled in bulk before commit (`settle`), after the features that write
points then; what they find is announced at the next event of the person's group.
"""

from __future__ import annotations

from functools import lru_cache

from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.clock import local_day
from qunyun.core.commands import normalize, parse_command
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import gettext
from qunyun.features.levels.awards import Subject, announcement, move, name_of
from qunyun.features.levels.jobs import on_job, schedule_jobs
from qunyun.features.levels.ladder import BADGES
from qunyun.features.levels.service import (
    Invite,
    LevelsBatch,
    Seen,
    load_state,
    load_window,
    waiting_announcements,
)
from qunyun.features.levels.settle import batch_of
from qunyun.points.service import balance

__all__ = ["handle", "on_job"]


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or group is None or member is None or group.community_id is None:
        return
    community, person = group.community_id, member.person_id
    batch = batch_of(ctx.uow)
    if batch.waiting is None or group.id in batch.waiting:
        await _announce_waiting(ctx, batch)
    day = local_day(event.at, group.timezone)
    schedule_jobs(ctx, batch, community, day)
    batch.see((community, person), group, ctx.settings, event.at, event.member,
              event.data.get("name"))
    if event.type == E.MESSAGE_POSTED:
        batch.count_message((community, person), day)
        text = event.data.get("text")
        if text and _is_command(str(text), ctx.settings.keywords):
            async with ctx.session.begin_nested():  # the handler runs without one
                await _reply_level(ctx, batch,
                                   Subject(person, event.member, event.data.get("name")))
    elif event.type == E.REACTION_ADDED:
        author = await ctx.find_message(str(event.data["message_id"]))
        if author is not None and author.person_id is not None:  # reactions may earn points
            batch.see((community, author.person_id), group, ctx.settings, event.at,
                      author.member, author.name)
    elif event.type == E.MEMBER_JOINED and event.data.get("inviter") and member.membership_id:
        batch.invites.append(Invite(member.membership_id, Seen(
            group, ctx.settings, event.at, str(event.data["inviter"]), "")))


@lru_cache(maxsize=256)
def _words(keywords: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize(k) for k in keywords)


def _is_command(text: str, keywords: list[str]) -> bool:
    command = parse_command(text)
    return command is not None and command.word in _words(tuple(keywords))


async def _announce_waiting(ctx: FeatureContext, batch: LevelsBatch) -> None:
    """Send what earlier units of work left for this group (read once per unit of work)."""
    assert ctx.group is not None
    if batch.waiting is None:
        batch.waiting = await waiting_announcements(ctx.session, ctx.group.org_id, ctx.now)
    rows = batch.waiting.pop(ctx.group.id, [])
    if not rows:
        return
    lines, mentions = [], []
    for row in rows:  # one message for all of them: groups are not flooded
        lines.append(await announcement(ctx, Subject(row.person_id, row.member, row.name or None),
                                        kind=row.kind, what=row.subject))
        if row.member and row.member not in mentions:
            mentions.append(row.member)
        batch.sent.append((row.id, ctx.now))
    ctx.emit(send_message("\n".join(lines), mentions=mentions or None))


async def _reply_level(ctx: FeatureContext, batch: LevelsBatch, speaker: Subject) -> None:
    assert ctx.event is not None and ctx.group is not None and ctx.group.community_id
    settings, locale = ctx.settings, ctx.locale
    key = (ctx.group.community_id, speaker.person_id)
    cached = key in batch.states
    state = await load_state(ctx.session, batch, key)
    if cached:  # points may have changed since it was read
        state.lifetime = (await balance(ctx.session, community_id=key[0],
                                        person_id=key[1])).lifetime_earned
    if settings.basis == "activity":
        value = await load_window(ctx.session, batch, key, state,
                                  local_day(ctx.now, ctx.group.timezone), settings.activity_days)
    else:
        value = state.lifetime
    await move(ctx, speaker, state, value)  # catch up before saying where they stand
    levels = settings.levels
    current = min(state.level, len(levels) - 1)
    name = await name_of(ctx, speaker)
    if settings.basis == "activity":
        head = gettext("{name}: {level} · {value} messages in {days} days", locale, name=name,
                       level=levels[current].name, value=value, days=settings.activity_days)
    else:
        head = gettext("{name}: {level} · {value} points earned", locale, name=name,
                       level=levels[current].name, value=value)
    if current + 1 < len(levels):
        following = levels[current + 1]
        progress = gettext("{missing} more to {next}", locale, next=following.name,
                           missing=max(following.threshold - value, 0))
    else:
        progress = gettext("Top level reached", locale)
    owned = [gettext(title, locale) for badge, title in BADGES.items() if badge in state.badges]
    badges = gettext("Badges: {badges}", locale, badges="、".join(owned)) if owned else \
        gettext("No badges yet", locale)
    ctx.emit(send_message("\n".join((head, progress, badges)),
                          reply_to=str(ctx.event.data["message_id"])))

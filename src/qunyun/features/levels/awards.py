"""Moving people on the ladder and awarding badges inside an event or a job, and saying so in
the group."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from qunyun.community.models import Person
from qunyun.core.actions import send_message
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import gettext
from qunyun.features.levels.ladder import BADGES, target_level
from qunyun.features.levels.service import Move, PersonState, do_award_badge, do_move

LEVEL, BADGE = "level", "badge"


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose level is looked at: the person, their platform id (to mention) and name."""

    person_id: int
    member: str | None
    name: str | None = None


async def name_of(ctx: FeatureContext, subject: Subject) -> str:
    if subject.name:
        return subject.name
    found = await ctx.session.scalar(select(Person.display_name)
                                     .where(Person.id == subject.person_id))
    return found or subject.member or "?"


async def announcement(ctx: FeatureContext, subject: Subject, *, kind: str, what: str) -> str:
    """The line for a promotion to the level named `what`, or for the badge `what`."""
    name = await name_of(ctx, subject)
    if kind == LEVEL:
        template = ctx.settings.congratulation or gettext(
            "Congratulations {name}, you are now {level}!", ctx.locale)
        return str(template.format(name=name, level=what))
    return gettext("{name} earned the badge: {badge}", ctx.locale, name=name,
                   badge=gettext(BADGES.get(what, what), ctx.locale))


async def announce(ctx: FeatureContext, subject: Subject, *, kind: str, what: str,
                   text: str | None = None) -> None:
    """Say it in the group (`text`, or the usual line)."""
    line = text or await announcement(ctx, subject, kind=kind, what=what)
    ctx.emit(send_message(line, mentions=[subject.member] if subject.member else None))


async def move(ctx: FeatureContext, subject: Subject, state: PersonState, value: int, *,
               announced: bool = True) -> None:
    """Put the subject where `value` belongs on the ladder; congratulate on a promotion to a
    level never reached before."""
    assert ctx.group is not None and ctx.group.community_id is not None
    settings = ctx.settings
    levels = settings.levels
    target = target_level(state.level, value, [level.threshold for level in levels],
                          demotion=settings.demotion and settings.basis == "activity",
                          hysteresis=settings.hysteresis)
    if target == state.level:
        return
    change = Move(ctx.group.org_id, ctx.group.community_id, subject.person_id,
                  ctx.group.id if ctx.event else None, state.level, target, state.best_level,
                  levels[target].name, ctx.now)
    async with ctx.session.begin_nested():
        await do_move(ctx.session, change)
    first_time = target > state.best_level
    state.level, state.best_level = target, max(state.best_level, target)
    if first_time and announced:
        await announce(ctx, subject, kind=LEVEL, what=levels[target].name)


async def award(ctx: FeatureContext, state: PersonState, subject: Subject, badge: str, *,
                detail: str = "", text: str | None = None) -> bool:
    """Award a badge once and announce it (`text`, or the usual line); False when it was had
    already."""
    assert ctx.group is not None and ctx.group.community_id is not None
    async with ctx.session.begin_nested():
        new = await do_award_badge(ctx.session, org_id=ctx.group.org_id,
                                   community_id=ctx.group.community_id,
                                   person_id=subject.person_id, badge=badge, at=ctx.now,
                                   group_id=ctx.group.id, detail=detail)
    state.badges.add(badge)
    if new and ctx.settings.announce_badges:
        await announce(ctx, subject, kind=BADGE, what=badge, text=text)
    return new

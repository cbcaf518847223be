"""A join schedules its window's welcome; the window's job greets who is still there."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce

from qunyun.core.actions import send_message, send_private
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import gettext
from qunyun.features.welcome.service import (
    Newcomer,
    community_rules,
    member_numbers,
    newcomers,
)
from qunyun.features.welcome.template import placeholders_of, render

JOB = "welcome"
SCRATCH = "welcome.scheduled"


def window_of(at: datetime, seconds: int) -> tuple[datetime, datetime]:
    """The fixed window `at` falls in: every join of a window maps to the same start."""
    epoch = int(at.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % seconds, UTC)
    return start, start + timedelta(seconds=seconds)


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or group is None or member is None or event.imported:
        return
    if not member.new_membership or member.seen_before_join:
        return  # a resent join, or someone who was inside before qunyun saw the group
    start, end = window_of(ctx.now, ctx.settings.batch_seconds)
    key = f"welcome:{group.id}:{start.isoformat()}"
    # Once per unit of work: the scheduler only sees jobs of earlier batches (and a burst
    # would otherwise ask it once per join).
    scheduled: set[str] = ctx.uow.scratch(SCRATCH, set)
    if key not in scheduled:
        scheduled.add(key)
        ctx.schedule(JOB, end, {"start": start.isoformat(), "end": end.isoformat()}, key=key)


async def on_job(ctx: FeatureContext) -> None:
    job, group, settings = ctx.job, ctx.group, ctx.settings
    if job is None or group is None or not settings.enabled:
        return
    people = await newcomers(ctx.session, group_id=group.id, platform=group.platform,
                             start=datetime.fromisoformat(job.payload["start"]),
                             end=datetime.fromisoformat(job.payload["end"]))
    if not people:
        return
    used = placeholders_of(settings.text) | placeholders_of(settings.private_text)
    numbers = await member_numbers(ctx.session, group_id=group.id, people=people) \
        if "member_no" in used else {}
    rules = settings.rules
    if not rules and "rules" in used:
        rules = await community_rules(ctx.session, group.community_id)
    if settings.text:
        ctx.emit(send_message(render(
            settings.text, name=_names(people, settings.max_names, ctx.locale), group=group.name,
            member_no=_range(sorted(numbers.values())), rules=rules)))
    if settings.private_text:
        for person in people:
            number = numbers.get(person.person_id)
            ctx.emit(send_private(person.member, render(
                settings.private_text, name=person.name, group=group.name,
                member_no="" if number is None else str(number), rules=rules)))


def _names(people: list[Newcomer], limit: int, locale: str) -> str:
    named = reduce(lambda first, second: gettext("{first}, {second}", locale, first=first,
                                                 second=second),
                   [p.name for p in people[:limit]])
    if len(people) <= limit:
        return named
    return gettext("{names} and others, {count} in all", locale, names=named, count=len(people))


def _range(numbers: list[int]) -> str:
    if not numbers:
        return ""
    return str(numbers[0]) if numbers[0] == numbers[-1] else f"{numbers[0]}–{numbers[-1]}"

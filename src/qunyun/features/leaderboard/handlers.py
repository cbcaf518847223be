"""Messages → counts (no I/O); the leaderboard command → a reply with the top places and the
asker's own."""

from __future__ import annotations

from functools import lru_cache

from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.clock import local_day
from qunyun.core.commands import normalize, parse_command
from qunyun.core.errors import InvalidInput
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import N_, gettext
from qunyun.features.leaderboard.periods import (
    ALL,
    COMMUNITY,
    DAY,
    GROUP,
    MESSAGES,
    MONTH,
    POINTS,
    SIGNINS,
    WEEK,
    BoardRequest,
    parse_request,
    period_days,
)
from qunyun.features.leaderboard.service import (
    BoardQuery,
    MessageCounts,
    Place,
    do_write,
    place_of,
    top,
)

SCRATCH = "leaderboard"
PERIOD_TITLES = {DAY: N_("Today"), WEEK: N_("This week"), MONTH: N_("This month"),
                 ALL: N_("All time")}
METRIC_TITLES = {POINTS: N_("Points"), SIGNINS: N_("Sign-ins"), MESSAGES: N_("Messages posted")}
SCOPE_TITLES = {GROUP: N_("this group"), COMMUNITY: N_("whole community")}


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or group is None or member is None or event.type != E.MESSAGE_POSTED:
        return
    counts = ctx.uow.scratch(SCRATCH, MessageCounts)
    ctx.uow.before_commit(SCRATCH, lambda session: do_write(session, counts))
    counts.count(group.id, group.community_id, local_day(event.at, group.timezone),
                 member.person_id)
    text = event.data.get("text")
    command = parse_command(str(text)) if text else None
    if command is None or command.word not in _words(tuple(ctx.settings.keywords)):
        return
    settings = ctx.settings
    reply_to = str(event.data["message_id"])
    try:
        request = parse_request(command.argument, period=settings.default_period,
                                metric=settings.default_metric)
    except InvalidInput as exc:
        example = f"{settings.keywords[0]} " + gettext("week signins", ctx.locale)
        ctx.emit(send_message(exc.render(ctx.locale) + "\n" + gettext(
            "Try: {example}", ctx.locale, example=example), reply_to=reply_to))
        return
    async with ctx.session.begin_nested():  # the handler runs without one
        await do_write(ctx.session, counts)  # this unit of work's messages count too
        text = await board_text(ctx, request, member.person_id)
    ctx.emit(send_message(text, reply_to=reply_to))


@lru_cache(maxsize=256)
def _words(keywords: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalize(k) for k in keywords)


async def board_text(ctx: FeatureContext, request: BoardRequest, person_id: int) -> str:
    assert ctx.group is not None
    group, locale = ctx.group, ctx.locale
    scope = request.scope if group.community_id is not None else GROUP
    query = BoardQuery(request.metric, group.timezone,
                       group_id=group.id if scope == GROUP else None,
                       community_id=group.community_id,
                       days=period_days(request.period, local_day(ctx.now, group.timezone)))
    places = await top(ctx.session, query, ctx.settings.size)
    title = gettext("{period} · {metric} leaderboard · {scope}", locale,
                    period=gettext(PERIOD_TITLES[request.period], locale),
                    metric=gettext(METRIC_TITLES[request.metric], locale),
                    scope=gettext(SCOPE_TITLES[scope], locale))
    if not places:
        return title + "\n" + gettext("Nobody is on this board yet.", locale)
    lines = [title, *(_line(p) for p in places)]
    mine = next((p for p in places if p.person_id == person_id), None) or \
        await place_of(ctx.session, query, person_id)
    lines.append(gettext("Your place: {rank} · {value}", locale, rank=mine.rank,
                         value=mine.value) if mine else
                 gettext("You are not on this board yet.", locale))
    return "\n".join(lines)


def _line(place: Place) -> str:
    return f"{place.rank}. {place.name or '?'} · {place.value}"

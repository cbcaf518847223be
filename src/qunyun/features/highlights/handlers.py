"""Chat commands (reply to a message with 设精华 / 取消精华) and the weekly digest job.

Every message passes through here, so the common case returns before any I/O: only a short
message that starts with one of the keywords goes further.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.commands import COMMAND_SIGNS, normalize, parse_command
from qunyun.core.features import FeatureContext, GroupInfo, JobRequest, MemberInfo
from qunyun.core.i18n import gettext
from qunyun.features.highlights.digest import DIGEST_JOB, build_digest, digest_job, render_post
from qunyun.features.highlights.service import BY_MEMBER, BY_RECALL, do_mark, do_unmark
from qunyun.features.highlights.settings import HighlightsSettings, digest_time, roles_text
from qunyun.features.highlights.weeks import Week

MARK = "mark"
UNMARK = "unmark"
LONGEST_COMMAND = 40  # characters; longer messages are conversation, not a command


@dataclass(frozen=True, slots=True)
class Commands:
    words: dict[str, str]  # normalised keyword -> MARK or UNMARK
    heads: frozenset[str]  # the characters a command may start with


@lru_cache(maxsize=256)
def _commands(keywords: tuple[str, ...], unmark: tuple[str, ...]) -> Commands:
    words = {**{normalize(k): MARK for k in keywords}, **{normalize(k): UNMARK for k in unmark}}
    return Commands(words, frozenset({w[0] for w in words} | set(COMMAND_SIGNS)))


def command_of(text: str, settings: HighlightsSettings) -> str | None:
    """MARK, UNMARK or None for a message's text."""
    if len(text) > LONGEST_COMMAND:
        return None
    commands = _commands(tuple(settings.keywords), tuple(settings.unmark_keywords))
    if normalize(text.lstrip()[:1]) not in commands.heads:  # most messages stop here
        return None
    command = parse_command(text)
    return None if command is None else commands.words.get(command.word)


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or group is None:
        return
    if event.type == E.MESSAGE_RECALLED:  # a retracted message leaves the highlights quietly
        async with ctx.session.begin_nested():
            await do_unmark(ctx.session, group_id=group.id,
                            message_id=str(event.data["message_id"]), by=BY_RECALL, at=ctx.now)
        return
    if member is None:
        return
    command = command_of(str(event.data.get("text", "")), ctx.settings)
    if command is None:
        return
    settings: HighlightsSettings = ctx.settings
    target = event.data.get("reply_to")
    if member.role not in settings.allowed_roles:
        if target:  # a bare keyword from a member is conversation: no answer
            _reply(ctx, gettext("Sorry, only {roles} can mark highlights.", ctx.locale,
                                roles=roles_text(settings, ctx.locale)))
        return
    if not target:
        word = settings.keywords[0] if command == MARK else settings.unmark_keywords[0]
        _reply(ctx, gettext("Reply to the message with “{word}” to do this.", ctx.locale,
                            word=word))
        return
    async with ctx.session.begin_nested():  # the feature runs without a savepoint per message
        if command == MARK:
            await _mark(ctx, group, member, str(target))
        else:
            await _unmark(ctx, group, str(target))


async def _mark(ctx: FeatureContext, group: GroupInfo, member: MemberInfo, target: str) -> None:
    message = await ctx.find_message(target)
    if message is None:
        _reply(ctx, gettext("I can't find that message: it may have been posted before I "
                            "joined the group.", ctx.locale))
        return
    marked = await do_mark(ctx.session, org_id=group.org_id, group_id=group.id, message=message,
                           by=BY_MEMBER, by_person_id=member.person_id, at=ctx.now)
    if not marked.created:
        _reply(ctx, gettext("This message is a highlight already.", ctx.locale))
        return
    _reply(ctx, gettext("Kept as a highlight: the message of {author}.", ctx.locale,
                        author=message.name))
    _schedule(ctx, digest_job(ctx.settings, group.timezone, group.id, ctx.now))


async def _unmark(ctx: FeatureContext, group: GroupInfo, target: str) -> None:
    removed = await do_unmark(ctx.session, group_id=group.id, message_id=target,
                              by=BY_MEMBER, at=ctx.now)
    if removed is None:
        _reply(ctx, gettext("That message is not a highlight.", ctx.locale))
    else:
        _reply(ctx, gettext("Removed from the highlights.", ctx.locale))


def _reply(ctx: FeatureContext, text: str) -> None:
    assert ctx.event is not None
    ctx.emit(send_message(text, reply_to=str(ctx.event.data["message_id"])))


def _schedule(ctx: FeatureContext, job: JobRequest | None) -> None:
    if job is not None:
        ctx.schedule(job.kind, job.due_at, job.payload, key=job.key)


async def on_job(ctx: FeatureContext) -> None:
    """Post a week's digest; a week with highlights schedules the next one (a quiet week ends
    the chain until the next highlight starts it again)."""
    job, group = ctx.job, ctx.group
    settings: HighlightsSettings = ctx.settings
    if job is None or group is None or job.kind != DIGEST_JOB or not settings.enabled:
        return
    week = Week.parse(str(job.payload["week"]))
    digest = await build_digest(ctx.session, group_id=group.id, group_name=group.name,
                                week=week, time=digest_time(settings, group.timezone))
    if not digest.items or not settings.digest_in_group:
        return
    ctx.emit(send_message(render_post(digest, ctx.locale, max_items=settings.digest_max_items,
                                      text_limit=settings.text_limit)))
    _schedule(ctx, digest_job(settings, group.timezone, group.id, ctx.now,
                              at_least=week.shift(1)))

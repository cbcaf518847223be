"""Chat → challenge check-ins and the board; scheduled reminders. The running challenges of the
organization are read at most once per unit of work, so ordinary messages cost no query."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.clock import local_day
from qunyun.core.commands import COMMAND_SIGNS, normalize, parse_command
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import gettext
from qunyun.features.challenge import service
from qunyun.features.challenge.models import ACTIVE, PROOF_IMAGE, PROOF_TEXT
from qunyun.features.challenge.reminders import REMIND, next_reminder, reminder_job
from qunyun.features.challenge.service import ChallengeInfo, CheckinOutcome
from qunyun.features.challenge.settings import ChallengeSettings

SCRATCH = "challenge.live"


@dataclass(frozen=True, slots=True)
class Words:
    board: frozenset[str]
    aliases: frozenset[str]


@lru_cache(maxsize=256)
def _words(board: tuple[str, ...], aliases: tuple[str, ...]) -> Words:
    return Words(frozenset(map(normalize, board)), frozenset(map(normalize, aliases)))


@dataclass
class Live:
    """The organization's active challenges that have not long ended, for this unit of work."""

    loaded: bool = False
    challenges: list[ChallengeInfo] = field(default_factory=list)
    by_keyword: dict[str, list[ChallengeInfo]] = field(default_factory=dict)


async def _live(ctx: FeatureContext, org_id: int) -> Live:
    live = ctx.uow.scratch(SCRATCH, Live)
    if not live.loaded:
        since = (ctx.now - timedelta(days=2)).date()  # covers every time zone's "yesterday"
        live.challenges = await service.live_challenges(ctx.session, org_id, since)
        for challenge in live.challenges:
            live.by_keyword.setdefault(normalize(challenge.keyword), []).append(challenge)
        live.loaded = True
    return live


async def handle(ctx: FeatureContext) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    if event is None or event.type != E.MESSAGE_POSTED or group is None or member is None \
            or group.community_id is None or event.imported:
        return
    command = parse_command(str(event.data.get("text") or ""))
    if command is None:
        return
    settings: ChallengeSettings = ctx.settings
    words = _words(tuple(settings.board_keywords), tuple(settings.checkin_aliases))
    word = command.word
    live = await _live(ctx, group.org_id)
    keyed = live.by_keyword.get(word)
    if not (keyed or word in words.board or word in words.aliases):
        return
    here = [c for c in live.challenges if c.runs_in(group.id, group.community_id)]
    if word in words.board:
        await _board(ctx, here)
        return
    matched = here if word in words.aliases else [c for c in keyed or [] if c in here]
    if matched:
        await _checkin(ctx, matched, _note(str(event.data.get("text") or "")))


def _note(text: str) -> str:
    """The words after the keyword as typed (a command's argument is width-normalised, which
    would turn a Chinese "，" into ",")."""
    parts = text.strip().split(maxsplit=1)
    if len(parts) > 1 and normalize(parts[0]) in COMMAND_SIGNS:  # "/ 挑战打卡 …"
        parts = parts[1].split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def _reply(ctx: FeatureContext, lines: list[str]) -> None:
    assert ctx.event is not None
    if lines:
        ctx.emit(send_message("\n".join(lines), reply_to=str(ctx.event.data["message_id"])))


async def _checkin(ctx: FeatureContext, matched: list[ChallengeInfo], argument: str) -> None:
    event, group, member = ctx.event, ctx.group, ctx.member
    assert event is not None and group is not None and member is not None
    day = local_day(ctx.now, group.timezone)
    lines = []
    for challenge in matched:
        if day < challenge.start_day:
            lines.append(gettext("“{challenge}” starts on {day}.", ctx.locale,
                                 challenge=challenge.name, day=challenge.start_day.isoformat()))
            continue
        if day > challenge.end_day:
            lines.append(gettext("“{challenge}” has ended.", ctx.locale,
                                 challenge=challenge.name))
            continue
        proof = await _proof(ctx, challenge, argument)
        if isinstance(proof, str):
            lines.append(proof)
            continue
        text, image_url = proof
        async with ctx.session.begin_nested():  # the feature runs without a savepoint
            outcome = await service.do_checkin(
                ctx.session, challenge=challenge, person_id=member.person_id,
                group_id=group.id, day=day, at=ctx.now, text=text, image_url=image_url,
                source_event=f"{event.platform}:{event.id}")
        lines.append(_checked_in(ctx, challenge, day, outcome))
        _schedule_next_reminder(ctx, challenge)
    _reply(ctx, lines)


async def _proof(ctx: FeatureContext, challenge: ChallengeInfo,
                 argument: str) -> tuple[str, str | None] | str:
    """(text, image url) of a valid check-in, or the reason it is not one."""
    event, member = ctx.event, ctx.member
    assert event is not None and member is not None
    text = argument.strip()
    if challenge.proof == PROOF_TEXT and not text:
        return gettext("To check in to “{challenge}”, write a few words after the keyword: "
                       "{keyword} <today's note>", ctx.locale, challenge=challenge.name,
                       keyword=challenge.keyword)
    if challenge.proof != PROOF_IMAGE:
        return text, None
    if event.data.get("kind") == "image":
        media = event.data.get("media") or {}
        return text, str(media.get("url") or "") or None
    reply_to = event.data.get("reply_to")
    quoted = await ctx.find_message(str(reply_to)) if reply_to else None
    if quoted is not None and quoted.kind == "image" and quoted.person_id == member.person_id:
        return text, None
    return gettext("To check in to “{challenge}”, send a picture with the keyword {keyword} (or "
                   "reply to your picture with it).", ctx.locale, challenge=challenge.name,
                   keyword=challenge.keyword)


def _checked_in(ctx: FeatureContext, challenge: ChallengeInfo, day: date,
                outcome: CheckinOutcome) -> str:
    params = {"challenge": challenge.name, "count": outcome.days, "days": challenge.days,
              "day": challenge.day_number(day)}
    if not outcome.new:
        return gettext("You have already checked in today for “{challenge}” ({count} of "
                       "{days} days).", ctx.locale, **params)
    line = gettext("✅ “{challenge}” day {day}/{days}: checked in, {count} days so far.",
                   ctx.locale, **params)
    if outcome.points:
        line += " " + gettext("+{points} points", ctx.locale, points=outcome.points)
    if outcome.completed:
        line += " " + gettext("🎉 Challenge complete!", ctx.locale)
        if outcome.bonus:
            line += " " + gettext("+{points} points", ctx.locale, points=outcome.bonus)
    return line


async def _board(ctx: FeatureContext, here: list[ChallengeInfo]) -> None:
    group = ctx.group
    assert group is not None
    settings: ChallengeSettings = ctx.settings
    day = local_day(ctx.now, group.timezone)
    started = [c for c in here if c.start_day <= day]
    if not started:
        _reply(ctx, [gettext("No challenge is running in this group.", ctx.locale)])
        return
    lines = []
    for challenge in started:
        rows = await service.board(ctx.session, challenge.id, limit=settings.board_size)
        people = await service.participant_count(ctx.session, challenge.id)
        lines.append(gettext("🏆 “{challenge}” (day {day}/{days}, {people} taking part)",
                             ctx.locale, challenge=challenge.name,
                             day=min(challenge.day_number(day), challenge.days),
                             days=challenge.days, people=people))
        for rank, row in enumerate(rows, start=1):
            done = " ✅" if row.days >= challenge.days_to_complete else ""
            lines.append(gettext("{rank}. {name}: {count} days", ctx.locale, rank=rank,
                                 name=row.name, count=row.days) + done)
    _reply(ctx, lines)


def _schedule_next_reminder(ctx: FeatureContext, challenge: ChallengeInfo) -> None:
    group = ctx.group
    assert group is not None
    found = next_reminder(start_day=challenge.start_day, end_day=challenge.end_day,
                          hour=challenge.reminder_hour, timezone=group.timezone, after=ctx.now)
    if found is None or challenge.reminder_hour is None:
        return
    day, due = found
    job = reminder_job(challenge_id=challenge.id, group_id=group.id, day=day,
                       hour=challenge.reminder_hour, due=due)
    ctx.schedule(job.kind, job.due_at, job.payload, key=job.key)


async def on_job(ctx: FeatureContext) -> None:
    job, group = ctx.job, ctx.group
    if job is None or job.kind != REMIND or group is None or not ctx.settings.enabled:
        return
    row = await service.get_challenge(ctx.session, group.org_id, int(job.payload["challenge_id"]))
    if row is None or row.status != ACTIVE or row.reminder_hour != job.payload.get("hour"):
        return  # archived, or the hour changed: the jobs of the new hour remind instead
    challenge = service.info(row)
    if not challenge.runs_in(group.id, group.community_id):
        return
    day = date.fromisoformat(str(job.payload["day"]))
    if challenge.start_day <= day <= challenge.end_day:
        await _remind(ctx, challenge, day)
    _schedule_next_reminder(ctx, challenge)


async def _remind(ctx: FeatureContext, challenge: ChallengeInfo, day: date) -> None:
    group = ctx.group
    assert group is not None
    settings: ChallengeSettings = ctx.settings
    found = await service.reminder(ctx.session, challenge_id=challenge.id, group_id=group.id,
                                   platform=group.platform, day=day)
    if found.participants and not found.missing:
        return  # everyone taking part has checked in today
    text = gettext("⏰ “{challenge}” day {day}/{days}: time to check in! Send {keyword}.",
                   ctx.locale, challenge=challenge.name, day=challenge.day_number(day),
                   days=challenge.days, keyword=challenge.keyword)
    shown = found.missing[:settings.reminder_mentions]
    if shown:
        text += "\n" + " ".join(f"@{name}" for _, name in shown)
        if len(found.missing) > len(shown):
            text += " " + gettext("and {count} more", ctx.locale,
                                  count=len(found.missing) - len(shown))
    ctx.emit(send_message(text, mentions=[platform_id for platform_id, _ in shown]))

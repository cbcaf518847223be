"""Chat commands of `signin`: sign in, buy a make-up card, use one. Every other message
returns at once, without touching the database."""

from __future__ import annotations

import re
from datetime import date, timedelta

from qunyun.core import events as E
from qunyun.core.actions import send_message
from qunyun.core.clock import local_day
from qunyun.core.commands import Command, parse_command
from qunyun.core.errors import InvalidInput, QunyunError
from qunyun.core.features import FeatureContext
from qunyun.core.i18n import N_, gettext
from qunyun.features.signin.service import (
    NoCard,
    Pending,
    Signer,
    Signin,
    do_buy_card,
    do_signin,
    do_use_card,
    do_write_pending,
)
from qunyun.features.signin.settings import (
    BUY_CARD,
    BUY_CARD_WORDS,
    SIGNIN,
    SigninSettings,
)
from qunyun.points.service import InsufficientPoints

SCRATCH = "signin"
# Longer messages are conversation, not commands (a date argument is short).
MAX_COMMAND_LENGTH = 40
DATE = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})[日号]?$")
RELATIVE_DAYS = {"昨天": 1, "yesterday": 1, "前天": 2}

SIGNED = N_("Signed in: No. {rank} today · {streak}-day streak · +{points} points · "
            "balance {balance}")
BONUS = N_("Streak bonus for {days} days: +{bonus}")
ALREADY = N_("Already signed in today · {streak}-day streak · balance {balance}")
BOUGHT = N_("Bought a make-up card for {price} points · cards held: {cards} · balance {balance}")
CANNOT_BUY = N_("Cannot buy a make-up card: {reason}")
NOT_SOLD = N_("Make-up cards are not sold in this group.")
FILLED = N_("Filled {day} with a make-up card · {streak}-day streak · cards left: {cards}")
NO_CARD = N_("You have no make-up card. Send {keyword} to buy one for {price} points.")


async def handle(ctx: FeatureContext) -> None:
    event = ctx.event
    if event is None or event.type != E.MESSAGE_POSTED:
        return
    text = event.data.get("text")
    if not isinstance(text, str) or len(text) > MAX_COMMAND_LENGTH:
        return
    settings: SigninSettings = ctx.settings
    command = parse_command(text)
    kind = settings.commands().get(command.word) if command is not None else None
    group, member = ctx.group, ctx.member
    if kind is None or command is None or group is None or member is None \
            or group.community_id is None:
        return
    signer = Signer(group.org_id, group.community_id, member.person_id, group.id)
    pending = ctx.uow.scratch(SCRATCH, Pending)
    ctx.uow.before_commit(SCRATCH, lambda session: do_write_pending(session, pending))
    try:
        if kind == SIGNIN:
            # One claim, one counter: nothing partial to undo, so no SAVEPOINT (speed).
            reply = await _sign_in(ctx, signer, settings, pending)
        else:
            await do_write_pending(ctx.session, pending)  # spends see every point earned
            async with ctx.session.begin_nested():  # a refused command leaves nothing behind
                reply = await _card_command(ctx, kind, command, signer, settings)
    except QunyunError as exc:
        reply = _refusal(exc, kind, settings, ctx.locale)
    ctx.emit(send_message(reply, reply_to=str(event.data["message_id"])))


async def _sign_in(ctx: FeatureContext, signer: Signer, settings: SigninSettings,
                   pending: Pending) -> str:
    assert ctx.event is not None and ctx.group is not None
    signed = await do_signin(ctx.session, signer=signer,
                             day=local_day(ctx.now, ctx.group.timezone), at=ctx.now,
                             settings=settings, source_event=_source(ctx), pending=pending)
    return _signed_reply(signed, ctx.locale)


async def _card_command(ctx: FeatureContext, kind: str, command: Command, signer: Signer,
                        settings: SigninSettings) -> str:
    assert ctx.group is not None
    source = _source(ctx)
    if kind == BUY_CARD:
        if settings.makeup_card_price == 0:
            return gettext(NOT_SOLD, ctx.locale)
        cards = await do_buy_card(ctx.session, signer=signer, price=settings.makeup_card_price,
                                  key=f"makeup_card:{source}", at=ctx.now, source_event=source)
        return gettext(BOUGHT, ctx.locale, price=settings.makeup_card_price,
                       cards=cards.held, balance=cards.balance)
    today = local_day(ctx.now, ctx.group.timezone)
    day = parse_day(command.argument, today) if command.argument else None
    fill = await do_use_card(ctx.session, signer=signer, today=today, day=day,
                             window=settings.makeup_days, at=ctx.now, source_event=source)
    return gettext(FILLED, ctx.locale, day=fill.day.isoformat(), streak=fill.streak,
                   cards=fill.held)


def _source(ctx: FeatureContext) -> str:
    assert ctx.event is not None
    return f"{ctx.event.platform}:{ctx.event.id}"


def _signed_reply(signed: Signin, locale: str) -> str:
    if not signed.new:
        return gettext(ALREADY, locale, streak=signed.streak, balance=signed.balance)
    reply = gettext(SIGNED, locale, rank=signed.rank, streak=signed.streak,
                    points=signed.points + signed.bonus, balance=signed.balance)
    if signed.bonus:
        reply += "\n" + gettext(BONUS, locale, days=signed.streak, bonus=signed.bonus)
    return reply


def _refusal(exc: QunyunError, kind: str, settings: SigninSettings, locale: str) -> str:
    if isinstance(exc, NoCard) and settings.makeup_card_price > 0:
        return gettext(NO_CARD, locale, keyword=BUY_CARD_WORDS[0],
                       price=settings.makeup_card_price)
    if isinstance(exc, InsufficientPoints) and kind == BUY_CARD:
        return gettext(CANNOT_BUY, locale, reason=exc.render(locale))
    return exc.render(locale)


def parse_day(text: str, today: date) -> date:
    """A day as members write it: 2026-11-20, 11-20, 11/20, 11月20日, 昨天. Without a year,
    the latest such day up to today."""
    cleaned = text.strip().lower()
    if cleaned in RELATIVE_DAYS:
        return today - timedelta(days=RELATIVE_DAYS[cleaned])
    match = DATE.match(cleaned)
    try:
        if match is None:
            raise ValueError(cleaned)
        year, month, day = match.groups()
        found = date(int(year) if year else today.year, int(month), int(day))
        if not year and found > today:
            found = date(today.year - 1, found.month, found.day)
    except ValueError as exc:
        raise InvalidInput("cannot read the date {text}; write it like {example}",
                           text=text, example=(today - timedelta(days=1)).strftime("%m-%d")
                           ) from exc
    return found

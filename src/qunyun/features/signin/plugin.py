"""`signin` (签到): members sign in once a day (the community's local day) with a keyword, for
points and a streak bonus; the reply gives the day's rank in the group, the streak and the
balance. Make-up cards (补签卡) bought with points fill a missed day and join the streak."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_, gettext
from qunyun.features.signin.handlers import handle
from qunyun.features.signin.settings import BUY_CARD_WORDS, USE_CARD_WORDS, SigninSettings


def usage(settings: SigninSettings, locale: str) -> list[str]:
    words = " / ".join([*settings.keywords, *settings.aliases])
    lines = [gettext("{keywords}: sign in once a day for {points} points", locale,
                     keywords=words, points=settings.points)]
    steps = settings.bonus_steps()
    if steps:
        bonuses = " / ".join(gettext("{days} days +{bonus}", locale, days=d, bonus=b)
                             for d, b in steps)
        lines.append(gettext("Streak bonus: {bonuses}", locale, bonuses=bonuses))
    if settings.makeup_card_price > 0:
        lines.append(gettext("{keyword}: buy a make-up card for {price} points", locale,
                             keyword=" / ".join(BUY_CARD_WORDS),
                             price=settings.makeup_card_price))
    lines.append(gettext("{keyword} [date]: fill a missed day of the last {days} days with a "
                         "make-up card", locale, keyword=" / ".join(USE_CARD_WORDS),
                         days=settings.makeup_days))
    return lines


FEATURE = Feature(
    name="signin",
    title=N_("Sign-in"),
    description=N_("Daily sign-in with points, streak bonuses, the day's rank and make-up "
                   "cards."),
    order=300,
    events=frozenset({E.MESSAGE_POSTED}),
    settings_model=SigninSettings,
    handle=handle,
    on_by_default=True,
    usage=usage,
    # Ordinary messages return before any I/O; card commands open their own SAVEPOINT; a
    # sign-in writes one claim and one counter, nothing partial to undo.
    savepoint=False,
)

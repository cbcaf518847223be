"""`points`: points for messages (with anti-farming), reactions received and invites, on top
of the ledger (`qunyun.points`); optional expiry. Off by default."""

from __future__ import annotations

from qunyun.core import events as E
from qunyun.core.features import Feature
from qunyun.core.i18n import N_, gettext
from qunyun.features.points.handlers import handle, on_job
from qunyun.features.points.settings import PointsSettings


def usage(settings: PointsSettings, locale: str) -> list[str]:
    lines = []
    if settings.message_points:
        lines.append(gettext("Chat: {points} points a message of {length} characters or more, "
                             "at most {cap} a day", locale, points=settings.message_points,
                             length=settings.message_min_length,
                             cap=settings.message_daily_cap or "∞"))
    if settings.reaction_points:
        lines.append(gettext("Reactions to your messages: {points} points each, at most {cap} "
                             "a day", locale, points=settings.reaction_points,
                             cap=settings.reaction_daily_cap or "∞"))
    if settings.invite_points:
        lines.append(gettext("Invite a friend who stays: {points} points", locale,
                             points=settings.invite_points))
    if settings.expire_after_days:
        lines.append(gettext("Points expire {days} days after they were earned", locale,
                             days=settings.expire_after_days))
    return lines


FEATURE = Feature(
    name="points",
    title=N_("Points rules"),
    description=N_("Points for messages (with anti-farming), reactions received and invites; "
                   "optional expiry."),
    order=400,  # after moderation (a deleted spam earns nothing), before levels and stats
    events=frozenset({E.MESSAGE_POSTED, E.REACTION_ADDED, E.MEMBER_JOINED}),
    settings_model=PointsSettings,
    handle=handle,
    on_job=on_job,
    usage=usage,
    # Handlers only read and queue facts; the writes happen once before commit.
    savepoint=False,
)

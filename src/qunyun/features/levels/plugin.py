"""`levels`: a ladder of titles per community (实习生 → 助理 → … → 总监) reached by lifetime
points or by messages in a rolling window, with a congratulation in the group; rule-based
badges (first sign-in, a 7-day streak, 100 messages, top inviter of the month, early bird).

Ordinary messages cost no query: moves and badges are settled in bulk before commit, after the
features that write points then, and announced at the next event of the person's group (once:
a level reached again after a demotion is not congratulated twice). A daily job demotes on the
activity basis; a monthly job names the top inviter. `我的等级` answers at once.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Literal

from pydantic import Field, field_validator

from qunyun.core import events as E
from qunyun.core.errors import settings_error
from qunyun.core.features import Feature, FeatureSettings
from qunyun.core.i18n import N_, gettext
from qunyun.features.levels.handlers import handle, on_job
from qunyun.features.levels.ladder import BADGES, DEFAULT_LEVELS, Level


class LevelsSettings(FeatureSettings):
    levels: list[Level] = Field(
        default_factory=lambda: list(DEFAULT_LEVELS),
        description="The ladder, lowest first: {name, threshold}; the first threshold is 0.")
    basis: Literal["points", "activity"] = Field(
        default="points",
        description="points: lifetime points earned; activity: messages in the last "
                    "activity_days days.")
    activity_days: int = Field(default=30, ge=1, le=365,
                               description="The window of the activity basis, in days.")
    congratulation: str = Field(
        default="", max_length=500,
        description="Posted in the group on a promotion, with {name} and {level}; empty: the "
                    "built-in text in the group's language.")
    demotion: bool = Field(default=False,
                           description="On the activity basis, move people down again.")
    hysteresis: float = Field(
        default=0.9, gt=0, le=1,
        description="A level is kept until activity falls below this share of its threshold.")
    badges: list[str] = Field(default_factory=lambda: list(BADGES),
                              description="The badges awarded: " + ", ".join(BADGES) + ".")
    announce_badges: bool = Field(default=True, description="Announce a new badge in the group.")
    keywords: list[str] = Field(default_factory=lambda: ["我的等级", "等级", "level"],
                                min_length=1, description="The command that shows one's level.")

    @field_validator("levels")
    @classmethod
    def _ascending(cls, levels: list[Level]) -> list[Level]:
        if not levels:
            raise settings_error(N_("needs at least one level"))
        if levels[0].threshold != 0:
            raise settings_error(N_("the first level's threshold must be 0"))
        for before, after in pairwise(levels):
            if after.threshold <= before.threshold:
                raise settings_error(N_("thresholds must go up: {name} after {before}"),
                                     name=after.name, before=before.name)
        names = [level.name for level in levels]
        if len(set(names)) != len(names):
            raise settings_error(N_("level names must differ"))
        return levels

    @field_validator("congratulation")
    @classmethod
    def _placeholders(cls, text: str) -> str:
        try:
            text.format(name="", level="")
        except (KeyError, IndexError, ValueError) as exc:
            raise settings_error(N_("only {placeholders} may be used"),
                                 placeholders="{name} {level}") from exc
        return text

    @field_validator("badges")
    @classmethod
    def _known_badges(cls, badges: list[str]) -> list[str]:
        unknown = [b for b in badges if b not in BADGES]
        if unknown:
            raise settings_error(N_("unknown badge: {badge}; known: {known}"),
                                 badge=unknown[0], known=", ".join(BADGES))
        return list(dict.fromkeys(badges))

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, keywords: list[str]) -> list[str]:
        if any(not k.strip() or " " in k.strip() for k in keywords):
            raise settings_error(N_("keywords must be single words"))
        return keywords


def usage(settings: LevelsSettings, locale: str) -> list[str]:
    return [gettext("{keyword}: your level, how far to the next one, and your badges", locale,
                    keyword=settings.keywords[0])]


FEATURE = Feature(
    name="levels",
    title=N_("Levels and badges"),
    description=N_("Titles by lifetime points or activity, a congratulation on promotion, "
                   "and badges."),
    order=800,  # after every feature that awards points
    events=frozenset({E.MESSAGE_POSTED, E.REACTION_ADDED, E.MEMBER_JOINED}),
    settings_model=LevelsSettings,
    handle=handle,
    on_job=on_job,
    usage=usage,
    savepoint=False,  # most messages only feed counters; writes open their own savepoint
)

"""`leaderboard`: `排行榜 [日|周|月|总] [积分|签到|发言] [全群]` — the top places of a group or a
whole community for today, this week (from Monday), this month or all time, in the
community's local time, with the asker's own place."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from qunyun.core import events as E
from qunyun.core.errors import settings_error
from qunyun.core.features import Feature, FeatureSettings
from qunyun.core.i18n import N_, gettext
from qunyun.features.leaderboard.handlers import handle


class LeaderboardSettings(FeatureSettings):
    keywords: list[str] = Field(default_factory=lambda: ["排行榜", "排行", "rank", "leaderboard"],
                                min_length=1, description="The command that shows a board.")
    default_period: Literal["day", "week", "month", "all"] = Field(
        default="week", description="The period when the command names none.")
    default_metric: Literal["points", "signins", "messages"] = Field(
        default="points", description="The measure when the command names none.")
    size: int = Field(default=10, ge=1, le=50, description="Places shown in the chat.")

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, keywords: list[str]) -> list[str]:
        if any(not k.strip() or " " in k.strip() for k in keywords):
            raise settings_error(N_("keywords must be single words"))
        return keywords


def usage(settings: LeaderboardSettings, locale: str) -> list[str]:
    return [gettext("{keyword} [day|week|month|all] [points|sign-ins|messages] [community]: "
                    "the leaderboard", locale, keyword=settings.keywords[0])]


FEATURE = Feature(
    name="leaderboard",
    title=N_("Leaderboards"),
    description=N_("Top members by points, sign-ins or messages, per group or community."),
    order=850,
    events=frozenset({E.MESSAGE_POSTED}),
    settings_model=LeaderboardSettings,
    handle=handle,
    usage=usage,
    savepoint=False,  # ordinary messages only feed the counter
)

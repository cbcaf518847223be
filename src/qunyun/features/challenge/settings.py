"""Settings of `challenge` (playbook section `[features.challenge]`). The challenges themselves
(name, days, keyword, proof, reminder hour, points) are defined by staff on the dashboard.

Each challenge has its own check-in keyword, `挑战打卡` by default — not `打卡`, which the
`signin` feature answers by default. `checkin_aliases` check in to every challenge running in
the group whatever its keyword."""

from __future__ import annotations

from pydantic import Field, field_validator

from qunyun.core.errors import settings_error
from qunyun.core.features import FeatureSettings
from qunyun.core.i18n import N_

MAX_WORD = 16


def _check_words(words: list[str], *, at_least_one: bool) -> list[str]:
    cleaned = [w.strip() for w in words]
    if at_least_one and not cleaned:
        raise settings_error(N_("needs at least one keyword"))
    for word in cleaned:
        if not word or any(c.isspace() for c in word) or len(word) > MAX_WORD:
            raise settings_error(N_("each keyword must be one word of 1 to {limit} characters "
                                    "without spaces: {keyword}"), limit=MAX_WORD, keyword=word)
    return cleaned


class ChallengeSettings(FeatureSettings):
    enabled: bool = False
    board_keywords: list[str] = Field(
        default_factory=lambda: ["挑战榜", "challengeboard"],
        description=N_("Commands that show the board of the group's challenges."))
    checkin_aliases: list[str] = Field(
        default_factory=lambda: ["checkin"],
        description=N_("More words that check in to every running challenge, besides each "
                       "challenge's own keyword."))
    board_size: int = Field(10, ge=1, le=50,
                            description=N_("How many members the board shows in the chat."))
    reminder_mentions: int = Field(20, ge=0, le=100, description=N_(
        "The most members one reminder mentions by name."))

    @field_validator("board_keywords")
    @classmethod
    def _board(cls, value: list[str]) -> list[str]:
        return _check_words(value, at_least_one=True)

    @field_validator("checkin_aliases")
    @classmethod
    def _aliases(cls, value: list[str]) -> list[str]:
        return _check_words(value, at_least_one=False)

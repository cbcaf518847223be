"""Settings of `signin` (`[features.signin]` in a playbook).

- `keywords` (contract): the chat words that sign in; `aliases`: more of them, English by
  default, kept apart so a playbook that sets its own `keywords` keeps the English alias.
- `points` (contract): points per sign-in, a positive integer.
- `streak_bonus`: `{streak length in days = extra points}`. On the day a sign-in brings the
  streak to exactly N days, the bonus for N is awarded once more (a separate ledger entry,
  reason `signin_bonus`). Lengths are whole numbers ≥ 2 (TOML keys are strings: `3 = 5`).
  A streak joined up by a make-up card awards no bonus for the lengths it skipped.
- `makeup_card_price`: points a make-up card costs; 0 stops selling them (cards already held
  can still be used).
- `makeup_days`: how many days before today a card may fill (1 = yesterday only).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator

from qunyun.core.commands import normalize
from qunyun.core.errors import settings_error
from qunyun.core.features import FeatureSettings
from qunyun.core.i18n import N_

PositiveInt = Annotated[int, Field(gt=0)]
MAX_KEYWORD_LENGTH = 20
MAX_MAKEUP_DAYS = 365
# Chat words of the card commands (one word each: a command is the message's first word).
BUY_CARD_WORDS = ("买补签卡", "buycard")
USE_CARD_WORDS = ("补签", "makeup")


def _check_words(words: list[str]) -> list[str]:
    for word in words:
        cleaned = normalize(word)
        if not cleaned or " " in cleaned:
            raise settings_error(N_("each keyword must be one word without spaces: {word}"),
                                 word=word)
        if len(cleaned) > MAX_KEYWORD_LENGTH:
            raise settings_error(N_("a keyword may have at most {limit} characters: {word}"),
                                 limit=MAX_KEYWORD_LENGTH, word=word)
    return words


class SigninSettings(FeatureSettings):
    enabled: bool = True
    keywords: list[str] = Field(default_factory=lambda: ["签到", "打卡"], min_length=1,
                                description="Chat words that sign in.")
    aliases: list[str] = Field(default_factory=lambda: ["signin"],
                               description="More words that sign in (English by default).")
    points: int = Field(default=10, gt=0, description="Points per sign-in.")
    streak_bonus: dict[str, PositiveInt] = Field(
        default_factory=lambda: {"3": 5, "7": 20, "30": 100},
        description="Extra points on the day the streak reaches exactly N days: {N: points}.")
    makeup_card_price: int = Field(default=50, ge=0,
                                   description="Points a make-up card costs; 0: not sold.")
    makeup_days: int = Field(default=7, ge=1, le=MAX_MAKEUP_DAYS,
                             description="How many days back a make-up card may fill.")

    @field_validator("keywords", "aliases")
    @classmethod
    def _one_word_each(cls, value: list[str]) -> list[str]:
        return _check_words(value)

    @field_validator("streak_bonus")
    @classmethod
    def _bonus_table(cls, value: dict[str, int]) -> dict[str, int]:
        for days in value:
            if not days.isascii() or not days.isdigit() or int(days) < 2:
                raise settings_error(N_("a streak length is a whole number of days, at least "
                                        "2: {days}"), days=days)
        return value

    def commands(self) -> dict[str, str]:
        """Normalised chat word → command (`signin`, `buy_card`, `use_card`)."""
        return _command_table(tuple(self.keywords), tuple(self.aliases))

    def bonus_for(self, streak: int) -> int:
        return _bonus_table(tuple(sorted(self.streak_bonus.items()))).get(streak, 0)

    def bonus_steps(self) -> list[tuple[int, int]]:
        """(streak length, bonus), shortest first."""
        return sorted(_bonus_table(tuple(sorted(self.streak_bonus.items()))).items())


SIGNIN, BUY_CARD, USE_CARD = "signin", "buy_card", "use_card"


@lru_cache(maxsize=256)
def _command_table(keywords: tuple[str, ...], aliases: tuple[str, ...]) -> dict[str, str]:
    table = {normalize(w): USE_CARD for w in USE_CARD_WORDS}
    table.update({normalize(w): BUY_CARD for w in BUY_CARD_WORDS})
    table.update({normalize(w): SIGNIN for w in (*keywords, *aliases)})
    return table


@lru_cache(maxsize=256)
def _bonus_table(items: tuple[tuple[str, int], ...]) -> dict[int, int]:
    return {int(days): bonus for days, bonus in items}
